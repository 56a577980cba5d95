"""bt-dr: disaster recovery for BeyondTrust Remote Support and Privileged Remote Access.

The Python face of bt-dr-core: every operation is the core's, typed for Python.

>>> import bt_dr
>>> bt_dr.check_restore("24.2.0", "24.1.1").compatibility
'refused'
"""

import datetime as _dt
import math
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._base import Frozen, field
from ._client import Client, ProgressCallback, StrPath
from ._model import (
    ApiAccess,
    ApiInfo,
    Appliance,
    ApplianceIdentity,
    ApplianceInfo,
    ApplianceNsb,
    ApplianceRecord,
    ArchiveEntry,
    AtlasCluster,
    AtlasNode,
    AtlasReport,
    AutoFailover,
    BackupDownload,
    BackupName,
    BackupSidecar,
    BundleReport,
    CertInfo,
    ClientConfirmation,
    ClientSample,
    ColdSpare,
    ConnectedClient,
    CoverageItem,
    DownloadedFile,
    ExcludedItem,
    FailoverPair,
    Finding,
    Health,
    Inventory,
    Model,
    NsbCoverage,
    Operation,
    PairReport,
    Permissions,
    Probe,
    ProductVersion,
    RedirectReport,
    ReportingKindOutcome,
    ReportingRef,
    RestoreCheck,
    RoleChange,
    Session,
    Site,
    Thresholds,
    TimeWindow,
    TrafficNode,
    UpgradeEntry,
    UpgradeTable,
    VaultKeyRecord,
    ManifestFile,
    NsbEntry,
    CertificateEntry,
    RecordingsEntry,
    NotCovered,
    Manifest,
    BackupSetReport,
    SetSummary,
    VerifyProblem,
    VerifyReport,
    SiteOutcome,
    JobReport,
    RetentionPolicy,
    RetentionCandidate,
    KeptSet,
    RetentionPlan,
    ApplianceLive,
    SiteLive,
    AuditFinding,
    AuditSummary,
    AuditReport,
    ErrorReport,
    ApplianceState,
    PlanStep,
    FailoverPlan,
    TimelineEvent,
    FailoverTimeline,
    to_jsonable,
)
from ._native import (
    ApiError,
    AuthError,
    BtDrError,
    Cancelled,
    CertificateError,
    IntegrityError,
    InternalError,
    InvalidInput,
    IoError,
    NetworkError,
    NotFound,
    ParseError,
    PermissionDenied,
    RateLimited,
    Refused,
    TimeoutError,
    TlsError,
    VersionIncompatible,
    WrongPassphrase,
)

__version__: str = _native.__version__
USER_AGENT: str = _native.USER_AGENT
DEFAULT_JOB_CONCURRENCY: int = _native.DEFAULT_JOB_CONCURRENCY
"""How many sites ``run_backup_job`` takes at once when ``concurrency`` is not given (the
core's default)."""

Document = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any]]
"""A document input: a path (``str`` or ``Path``), document text (``str`` holding a newline,
or ``bytes``), or an already parsed ``dict``."""

VersionLike = Union[str, ProductVersion]


def _doc_args(source: Document, fmt: Optional[str]) -> Dict[str, Any]:
    if isinstance(source, Model):
        return {"data": source._native()}
    if isinstance(source, Mapping):
        return {"data": to_jsonable(dict(source))}
    # A text without a format is read in the core's default format; no default here.
    if isinstance(source, bytes):
        return {"text": source.decode("utf-8"), "format": fmt or None}
    if isinstance(source, str) and "\n" in source:
        return {"text": source, "format": fmt or None}
    return {"path": os.fspath(source), "format": fmt}


def _version(v: VersionLike) -> str:
    return v.text if isinstance(v, ProductVersion) else str(v)


def _day(d: Union[str, _dt.date]) -> str:
    return d.isoformat() if isinstance(d, _dt.date) else str(d)


def _table(table: Union[UpgradeTable, Document, None]) -> Optional[Dict[str, Any]]:
    if table is None:
        return None
    if isinstance(table, UpgradeTable):
        return table._native()
    if isinstance(table, Mapping):
        t: Dict[str, Any] = to_jsonable(dict(table))
        return t
    return load_upgrade_table(table)._native()


def _ms(field: str, seconds: Optional[float], *, allow_zero: bool = False) -> Optional[int]:
    """Seconds (the Python API's unit) as the core's milliseconds."""
    if seconds is None:
        return None
    ms = float(seconds) * 1000.0
    if not math.isfinite(ms) or ms < 0 or (ms == 0 and not allow_zero):
        _native.raise_invalid_input(field, "must be a positive number of seconds")
    return math.ceil(ms)


# ---------------------------------------------------------------- meta


def operations() -> List[Operation]:
    """Every public operation of bt-dr-core (the list the bindings mirror)."""
    return [Operation.from_dict(o) for o in _native.operations()]


def error_kinds() -> List[Tuple[str, str]]:
    """``(kind, exception class name)`` for every core error kind."""
    return [(k, c) for k, c in _native.error_kinds()]


def exception_class(kind: str) -> "type[BtDrError]":
    """The exception class raised for an error ``kind`` (e.g. ``"auth"`` → ``AuthError``)."""
    for k, name in _native.error_kinds():
        if k == kind:
            cls: "type[BtDrError]" = getattr(_native, name)
            return cls
    return BtDrError


def severity_at_least(severity: str, threshold: str) -> bool:
    """Whether ``severity`` is at least ``threshold`` (info < warning < error < critical)."""
    return _native.severity_at_least(severity, threshold)


def required_permission(operation: str) -> Optional[str]:
    """The API permission an operation needs (e.g. ``download_backup`` → ``perm_backup``)."""
    return _native.required_permission(operation)


# ---------------------------------------------------------------- versions and sites


def parse_version(text: str) -> ProductVersion:
    """Parses ``X.Y.Z`` or the check_health form ``X.Y.Z (build-commit)``."""
    return ProductVersion.from_dict(_native.parse_version(text))


def compare_versions(a: VersionLike, b: VersionLike) -> int:
    """-1, 0 or 1 as bt-dr orders the two versions."""
    return _native.compare_versions(_version(a), _version(b))


def load_inventory(source: Document, *, format: Optional[str] = None) -> Inventory:
    """Loads and validates a fleet inventory from a TOML/JSON/YAML file, text or a dict."""
    return Inventory.from_dict(_native.load_inventory(**_doc_args(source, format)))


# ---------------------------------------------------------------- backups


def parse_backup_name(name: Union[str, "os.PathLike[str]"]) -> BackupName:
    """Parses a default NSB backup file name (a path's last component is used)."""
    return BackupName.from_dict(_native.parse_backup_name(Path(name).name))


def format_backup_name(
    version: VersionLike,
    site: str,
    date: Union[str, _dt.date],
    id: str,
    time: Optional[Union[str, _dt.time]] = None,
) -> str:
    """Builds a default NSB backup file name (checked to parse back to the same parts)."""
    t = time.isoformat() if isinstance(time, _dt.time) else time
    return _native.format_backup_name(_version(version), site, _day(date), id, t)


def load_upgrade_table(source: Document, *, format: Optional[str] = None) -> UpgradeTable:
    """Loads the supported-upgrade table from a file, text or a dict."""
    return UpgradeTable.from_dict(_native.load_upgrade_table(**_doc_args(source, format)))


def check_restore(
    backup_version: VersionLike,
    site_version: VersionLike,
    table: Union[UpgradeTable, Document, None] = None,
    *,
    backup_product: Optional[str] = None,
    site_product: Optional[str] = None,
    strict: bool = False,
) -> RestoreCheck:
    """Decides whether a backup version restores onto a site version.

    With ``strict=True`` a refused restore raises ``VersionIncompatible``.
    """
    return RestoreCheck.from_dict(
        _native.check_restore(
            _version(backup_version),
            _version(site_version),
            _table(table),
            backup_product,
            site_product,
            strict,
        )
    )


def check_restore_onto(
    site: Union[Site, Mapping[str, Any]],
    backup_version: VersionLike,
    table: Union[UpgradeTable, Document, None] = None,
    *,
    backup_product: Optional[str] = None,
) -> RestoreCheck:
    """Decides whether a backup restores onto an inventory site (its version and product).

    For a site with a failover pair the verdict also warns that a restore overwrites the
    failover settings and the inter-appliance pre-shared key, and ``steps`` gives the order:
    break failover, restore, reset the pre-shared key, re-establish failover.
    """
    return RestoreCheck.from_dict(
        _native.check_restore_onto(_site(site), _version(backup_version), backup_product, _table(table))
    )


def nsb_coverage(product: str, include_logged_history: bool = False) -> NsbCoverage:
    """What an NSB backup holds and what it leaves out (and where to save that)."""
    return NsbCoverage.from_dict(_native.nsb_coverage(product, include_logged_history))


# ---------------------------------------------------------------- certificates


def check_certificate_bundle(
    source: Union[bytes, str, "os.PathLike[str]"],
    passphrase: Union[str, bytes],
    *,
    site_fqdn: Optional[str] = None,
    appliance_hostnames: Iterable[str] = (),
    expiry_horizon_days: Optional[int] = None,
    min_rsa_bits: Optional[int] = None,
    now: Optional[_dt.datetime] = None,
) -> BundleReport:
    """Opens a p12 bundle (``bytes`` or a path) and checks it.

    Raises ``WrongPassphrase`` or ``CertificateError`` when the bundle cannot be opened; every
    other problem is a finding in the report.
    """
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    pw = passphrase.decode("utf-8") if isinstance(passphrase, bytes) else passphrase
    options: Dict[str, Any] = {
        "site_fqdn": site_fqdn,
        "appliance_hostnames": list(appliance_hostnames),
    }
    if expiry_horizon_days is not None:
        options["expiry_horizon_days"] = expiry_horizon_days
    if min_rsa_bits is not None:
        options["min_rsa_bits"] = min_rsa_bits
    if now is not None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=_dt.timezone.utc)
        options["now"] = to_jsonable(now)
    return BundleReport.from_dict(_native.check_certificate_bundle(data, pw, options))


def check_certificate_pair(
    primary: Union[BundleReport, Mapping[str, Any]],
    backup: Union[BundleReport, Mapping[str, Any]],
) -> PairReport:
    """Checks the two appliances of a failover pair carry the identical certificate."""

    def d(r: Union[BundleReport, Mapping[str, Any]]) -> Dict[str, Any]:
        return r._native() if isinstance(r, BundleReport) else to_jsonable(dict(r))

    return PairReport.from_dict(_native.check_certificate_pair(d(primary), d(backup)))


# ---------------------------------------------------------------- records


def appliance_record(source: Document, *, format: Optional[str] = None) -> ApplianceRecord:
    """Loads and validates an /appliance settings record (file, text or dict).

    ``record.save(directory)`` writes it under its identifying file name.
    """
    return ApplianceRecord.from_dict(_native.appliance_record_load(**_doc_args(source, format)))


def vault_key_record(
    path: Union[str, "os.PathLike[str]"],
    site: str,
    date: Union[str, _dt.date],
    password_protected: bool,
) -> VaultKeyRecord:
    """Hashes a downloaded Vault key file and records it, with findings about it."""
    return VaultKeyRecord.from_dict(
        _native.vault_key_record(os.fspath(path), site, _day(date), password_protected)
    )


# ---------------------------------------------------------------- backup sets


class BackupSetOptions(Frozen):
    """What a backup set holds besides the NSB. ``None`` keeps bt-dr's default.

    ``recordings`` switches the reporting data (recordings of every kind, session reports, exit
    surveys) on or off; ``reporting_kinds`` names the kinds to take (``session_recording``,
    ``session_report``, ``command_shell_recording``...; None: every kind the product has).
    ``thresholds`` (the inventory's ``[thresholds]``) sets the certificate check's horizon and
    RSA minimum. ``vault_key_exported_on`` is the day the Vault key was exported (default: the
    day of the key file's modification time). Secrets (``backup_password``, ``certificate_passphrase``) are not shown in
    ``repr``. A plain dict of options is the core's JSON form (``vault_key`` is then
    ``{"path", "password_protected"}``); unknown keys are refused with ``InvalidInput``.
    """

    backup_password: Optional[str] = field(default=None, repr=False)
    recordings: Optional[bool] = None
    first_run_recordings_days: Optional[int] = None
    certificate_bundle: Optional[StrPath] = None
    certificate_passphrase: Optional[str] = field(default=None, repr=False)
    appliance_records: Tuple[StrPath, ...] = ()
    vault_key: Optional[StrPath] = None
    vault_key_password_protected: bool = False
    vault_key_exported_on: Optional[_dt.date] = None
    reporting_kinds: Optional[Tuple[str, ...]] = None
    thresholds: Optional[Thresholds] = None

    def _native(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.backup_password is not None:
            out["backup_password"] = self.backup_password
        if self.recordings is not None:
            out["recordings"] = self.recordings
        if self.reporting_kinds is not None:
            out["reporting_kinds"] = list(self.reporting_kinds)
        if self.thresholds is not None:
            out["thresholds"] = self.thresholds._native()
        if self.first_run_recordings_days is not None:
            out["first_run_recordings_days"] = self.first_run_recordings_days
        if self.certificate_bundle is not None:
            out["certificate_bundle"] = os.fspath(self.certificate_bundle)
        if self.certificate_passphrase is not None:
            out["certificate_passphrase"] = self.certificate_passphrase
        if self.appliance_records:
            out["appliance_records"] = [os.fspath(p) for p in self.appliance_records]
        if self.vault_key is not None:
            out["vault_key"] = {
                "path": os.fspath(self.vault_key),
                "password_protected": self.vault_key_password_protected,
            }
            if self.vault_key_exported_on is not None:
                out["vault_key"]["exported_on"] = self.vault_key_exported_on.isoformat()
        return out


def _site(site: Union[Site, Mapping[str, Any]]) -> Dict[str, Any]:
    return (site if isinstance(site, Site) else Site.from_dict(site))._native()


def _site_name(site: Union[str, Site, Mapping[str, Any]]) -> str:
    if isinstance(site, str):
        return site
    if isinstance(site, Site):
        return site.name
    return str(site["name"])


def _options(options: Union[BackupSetOptions, Mapping[str, Any], None]) -> Optional[Dict[str, Any]]:
    if options is None:
        return None
    if isinstance(options, BackupSetOptions):
        return options._native()
    # The core's JSON form, parsed (and unknown keys refused) by the core.
    opts: Dict[str, Any] = to_jsonable(dict(options))
    return opts


def run_backup_set(
    store: StrPath,
    site: Union[Site, Mapping[str, Any]],
    client: Client,
    options: Union[BackupSetOptions, Mapping[str, Any], None] = None,
    *,
    progress: Optional[ProgressCallback] = None,
    other_appliances: Iterable[Client] = (),
) -> BackupSetReport:
    """Takes one backup set of ``site`` through ``client`` into the store folder ``store``.

    The set holds the NSB, the certificate bundle, the /appliance records and the Vault key
    record, described by a manifest; it appears under its final name only when complete.
    Reporting data since the last run (recordings of every kind, session reports, exit
    surveys) goes to the site's reporting archive (``<store>/<site>/reporting/<kind>/``), which
    retention never removes; the manifest's ``reporting`` list refers to it.
    ``other_appliances``: clients of the site's other appliances (a failover pair's backup) to
    take an NSB from too (the manifest's ``appliance_nsbs`` says which is which). Ctrl-C or an
    exception from ``progress`` stops it and nothing of it is kept.
    """
    return BackupSetReport.from_dict(
        _native.run_backup_set(
            os.fspath(store),
            _site(site),
            client._native,
            _options(options),
            progress,
            [c._native for c in other_appliances],
        )
    )


BackupJob = Union[
    Tuple[Union[Site, Mapping[str, Any]], Client, Union[BackupSetOptions, Mapping[str, Any], None]],
    Tuple[
        Union[Site, Mapping[str, Any]],
        Client,
        Union[BackupSetOptions, Mapping[str, Any], None],
        Iterable[Client],
    ],
]
"""One site of a backup job: ``(site, client, options)``, or ``(site, client, options,
other_appliances)`` as for ``run_backup_set``."""


def run_backup_job(
    store: StrPath, jobs: Iterable[BackupJob], *, concurrency: Optional[int] = None
) -> JobReport:
    """Backs up many sites, at most ``concurrency`` at a time (None: the core's default,
    ``DEFAULT_JOB_CONCURRENCY``); one failing site does not stop the others (its outcome
    carries the error)."""
    native_jobs = []
    for job in jobs:
        others: Iterable[Client] = job[3] if len(job) == 4 else ()
        native_jobs.append((_site(job[0]), job[1]._native, _options(job[2]), [c._native for c in others]))
    return JobReport.from_dict(_native.run_backup_job(os.fspath(store), native_jobs, concurrency))


def verify_backup_set(path: StrPath) -> VerifyReport:
    """Re-hashes every file of the set at ``path`` against its manifest."""
    return VerifyReport.from_dict(_native.verify_backup_set(os.fspath(path)))


def list_backup_sets(store: StrPath, site: Union[str, Site, Mapping[str, Any]]) -> List[SetSummary]:
    """The complete backup sets of a site, newest first."""
    return [SetSummary.from_dict(s) for s in _native.list_backup_sets(os.fspath(store), _site_name(site))]


def _policy(policy: Union[RetentionPolicy, Mapping[str, Any], None], rules: Mapping[str, int]) -> Dict[str, Any]:
    if policy is None:
        return RetentionPolicy(**rules).to_dict()
    base = policy.to_dict() if isinstance(policy, RetentionPolicy) else dict(policy)
    base.update(rules)
    return base


def plan_retention(
    store: Optional[StrPath],
    site: Union[str, Site, Mapping[str, Any]],
    policy: Union[RetentionPolicy, Mapping[str, Any], None] = None,
    *,
    sets: Optional[Iterable[Union[RetentionCandidate, Mapping[str, Any]]]] = None,
    **rules: int,
) -> RetentionPlan:
    """Plans which sets a retention policy keeps and removes (nothing is removed).

    ``plan_retention(store, "support", keep_daily=7, keep_weekly=4)``. From the store, the
    newest sets are verified until one passes (that one is always kept). With ``sets``
    (``RetentionCandidate`` or dicts) the plan is made from them alone and ``store`` may be None.
    """
    cands = None
    if sets is not None:
        cands = [(c if isinstance(c, RetentionCandidate) else RetentionCandidate.from_dict(c))._native() for c in sets]
    return RetentionPlan.from_dict(
        _native.plan_retention(
            _site_name(site),
            _policy(policy, rules),
            None if store is None else os.fspath(store),
            cands,
        )
    )


def apply_retention(store: StrPath, plan: Union[RetentionPlan, Mapping[str, Any]]) -> List[str]:
    """Removes the sets ``plan`` marks and returns their ids. Refused (``Refused``) when the
    newest verified set would be among them."""
    # A dict goes through the model so that a missing or None `min_nsb_bytes` is left out and
    # the core's floor applies.
    p = (plan if isinstance(plan, RetentionPlan) else RetentionPlan.from_dict(plan))._native()
    return list(_native.apply_retention(os.fspath(store), p))


# ---------------------------------------------------------------- audit, runbook


def _clients(clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]]) -> List[Tuple[str, Any]]:
    items = clients.items() if isinstance(clients, Mapping) else clients
    return [(h, c._native) for h, c in items]


def collect_live(
    site: Union[str, Site, Mapping[str, Any]],
    clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]],
) -> SiteLive:
    """Asks every appliance of a site (hostname → client) for its live state, concurrently."""
    return SiteLive.from_dict(_native.collect_live(_site_name(site), _clients(clients)))


def audit(
    inventory: Union[Inventory, Document],
    *,
    store: Optional[StrPath] = None,
    live: Iterable[Union[SiteLive, Mapping[str, Any]]] = (),
    upgrade_table: Union[UpgradeTable, Document, None] = None,
    max_backup_age_hours: Optional[int] = None,
    max_sync_age_hours: Optional[int] = None,
    certificate_horizon_days: Optional[int] = None,
    now: Optional[_dt.datetime] = None,
) -> AuditReport:
    """The readiness audit: what would go wrong if a site had to be recovered tonight.

    Backup, certificate, record and key rules need the ``store``; live rules need ``live``
    (from ``collect_live``). A limit left ``None`` comes from the inventory's ``[thresholds]``.
    """
    inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
    table: Optional[Dict[str, Any]] = None
    if isinstance(upgrade_table, UpgradeTable):
        table = upgrade_table._native()
    elif upgrade_table is not None:
        table = load_upgrade_table(upgrade_table)._native()
    options: Dict[str, Any] = {}
    if max_backup_age_hours is not None:
        options["max_backup_age_hours"] = max_backup_age_hours
    if max_sync_age_hours is not None:
        options["max_sync_age_hours"] = max_sync_age_hours
    if certificate_horizon_days is not None:
        options["certificate_horizon_days"] = certificate_horizon_days
    if now is not None:
        options["now"] = to_jsonable(now if now.tzinfo else now.replace(tzinfo=_dt.timezone.utc))
    live_list = [(x if isinstance(x, SiteLive) else SiteLive.from_dict(x))._native() for x in live]
    return AuditReport.from_dict(
        _native.audit(
            inv._native(),
            None if store is None else os.fspath(store),
            live_list,
            table,
            options,
        )
    )


def render_runbook(
    site: Union[Site, Mapping[str, Any]],
    *,
    store: Optional[StrPath] = None,
    upgrade_table: Union[UpgradeTable, Document, None] = None,
) -> str:
    """The site's recovery runbook in Markdown (naming files of the newest set in ``store``)."""
    table: Optional[Dict[str, Any]] = None
    if isinstance(upgrade_table, UpgradeTable):
        table = upgrade_table._native()
    elif upgrade_table is not None:
        table = load_upgrade_table(upgrade_table)._native()
    return _native.render_runbook(_site(site), None if store is None else os.fspath(store), table)


# ---------------------------------------------------------------- failover


def _pair(clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]]) -> Tuple[Tuple[str, Any], Tuple[str, Any]]:
    items = _clients(clients)
    if len(items) != 2:
        _native.raise_invalid_input("clients", "give exactly the two appliances of the pair")
    return items[0], items[1]


def _redirect(redirect: Union[Sequence[str], Mapping[str, Any], None], timeout: Optional[float]) -> Optional[Dict[str, Any]]:
    if redirect is None:
        if timeout is not None:
            _native.raise_invalid_input("redirect_timeout", "needs a redirect command")
        return None
    if isinstance(redirect, Mapping):
        out: Dict[str, Any] = to_jsonable(dict(redirect))
    else:
        # A bare string is passed on as is: the core refuses it (argv is a list, no shell).
        out = {"command": redirect if isinstance(redirect, str) else [str(a) for a in redirect]}
    if timeout is not None:
        out["timeout_ms"] = _ms("redirect_timeout", timeout)
    return out


def _failover_options(**options: Any) -> Dict[str, Any]:
    """The core's JSON form of the failover options: ``None`` and ``False`` are left out (the
    core's defaults)."""
    return {k: v for k, v in options.items() if v is not None and v is not False}


def plan_failover(
    site: Union[Site, Mapping[str, Any]],
    clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]],
    mode: str = "planned",
    *,
    force_unknown: bool = False,
    force_certificate_mismatch: bool = False,
    redirect: Union[Sequence[str], Mapping[str, Any], None] = None,
    redirect_timeout: Optional[float] = None,
    site_url: Optional[str] = None,
) -> FailoverPlan:
    """Plans a failover (``planned`` or ``unplanned``) without side effects.

    ``clients`` maps both appliances' hostnames to clients (see ``Client.for_pair``). Unsafe
    moves raise ``Refused`` (e.g. unplanned while the primary is healthy, or while its state is
    unknown: ``from_.reachability == "unknown"``, it answered but with a TLS, pin,
    authentication, permission, rate-limit, parse or API error). ``force_unknown=True`` plans
    an unplanned failover anyway (a warning says so): only when you have confirmed by other
    means that the old primary is down or no longer serving, else the site ends up with two
    primaries.

    A planned failover between appliances that serve different certificates is refused unless
    ``force_certificate_mismatch=True`` (``plan.certificates`` tells). ``redirect`` is the
    command (argv, no shell) that swings DNS or NAT to the new primary — or the core's form
    ``{"command": [...], "timeout_ms": N}`` — and ``site_url`` how clients reach the site
    (default ``https://<fqdn>``); the plan's steps name them, in the guide's order: redirect,
    role change, confirm clients.
    """
    first, second = _pair(clients)
    options = _failover_options(
        force_unknown=force_unknown,
        force_certificate_mismatch=force_certificate_mismatch,
        redirect=_redirect(redirect, redirect_timeout),
        site_url=site_url,
    )
    return FailoverPlan.from_dict(_native.plan_failover(_site(site), first, second, mode, options))


def execute_failover(
    site: Union[Site, Mapping[str, Any]],
    clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]],
    plan: Union[FailoverPlan, Mapping[str, Any]],
    *,
    settle_timeout: Optional[float] = None,
    poll_interval: Optional[float] = None,
    force_unknown: bool = False,
    demote_old_primary: bool = False,
    force_certificate_mismatch: bool = False,
    redirect: Union[Sequence[str], Mapping[str, Any], None] = None,
    redirect_timeout: Optional[float] = None,
    site_url: Optional[str] = None,
    redirect_verify_timeout: Optional[float] = None,
    confirm_timeout: Optional[float] = None,
) -> FailoverTimeline:
    """Executes a plan in the guide's order and returns the timeline: plans afresh (refused if
    the fresh plan differs from ``plan``), redirects traffic, changes the role once, polls until
    both appliances agree, then confirms clients work on the new primary.

    ``force_unknown`` and ``force_certificate_mismatch`` must be given again here when the plan
    needed them. ``demote_old_primary``: after an unplanned promotion, if the old primary still
    claims primary, demote it with force; off (the default) bt-dr demotes nothing by itself and
    the outcome is then ``split_brain`` with the demotion as a follow-up step.

    For a DNS or NAT swing, ``redirect`` (argv, or ``{"command": [...], "timeout_ms": N}``)
    runs first, with ``BT_DR_SITE``, ``BT_DR_FQDN``, ``BT_DR_FROM``, ``BT_DR_TO``,
    ``BT_DR_TO_IP``, ``BT_DR_ROUTING``, ``BT_DR_MODE`` and ``BT_DR_SITE_URL`` in its
    environment; then ``site_url`` must answer as the target within ``redirect_verify_timeout``
    seconds. A failing command or a site that keeps answering as another appliance ends it with
    outcome ``redirect_failed`` / ``redirect_mismatch`` and no role changed. Without a command
    the swing is a follow-up step. After the role change bt-dr waits up to ``confirm_timeout``
    seconds for connected clients and a healthy site URL (``timeline.confirmation``). Times are
    in seconds; ``None`` keeps the core's defaults.
    """
    first, second = _pair(clients)
    p = plan._native() if isinstance(plan, FailoverPlan) else to_jsonable(dict(plan))
    options = _failover_options(
        settle_timeout_ms=_ms("settle_timeout", settle_timeout),
        poll_interval_ms=_ms("poll_interval", poll_interval),
        force_unknown=force_unknown,
        demote_old_primary=demote_old_primary,
        force_certificate_mismatch=force_certificate_mismatch,
        redirect=_redirect(redirect, redirect_timeout),
        site_url=site_url,
        redirect_verify_timeout_ms=_ms("redirect_verify_timeout", redirect_verify_timeout),
        confirm_timeout_ms=_ms("confirm_timeout", confirm_timeout),
    )
    return FailoverTimeline.from_dict(_native.execute_failover(_site(site), first, second, p, options))


# ---------------------------------------------------------------- atlas


def check_atlas_cluster(
    site: Union[Site, Mapping[str, Any]],
    clients: Union[Mapping[str, Client], Iterable[Tuple[str, Client]]],
    *,
    sample_interval: Optional[float] = None,
) -> AtlasReport:
    """Checks an Atlas cluster after a change (a traffic node restored or synced).

    ``clients`` maps hostnames to clients: every traffic node of ``site.atlas`` and at least one
    primary node. Every node's connected clients are sampled twice, ``sample_interval`` seconds
    apart (default 30, at most an hour), and each node is reported with its health, release,
    last sync, client counts and their trend, together with how the cluster's own list compares
    with the inventory (``findings``). ``InvalidInput`` when the site has no Atlas cluster or a
    traffic node has no client.
    """
    options: Dict[str, Any] = {}
    ms = _ms("sample_interval", sample_interval, allow_zero=True)
    if ms is not None:
        options["sample_interval_ms"] = ms
    return AtlasReport.from_dict(_native.check_atlas_cluster(_site(site), _clients(clients), options))


__all__ = [
    # meta
    "__version__",
    "USER_AGENT",
    "DEFAULT_JOB_CONCURRENCY",
    "operations",
    "error_kinds",
    "exception_class",
    "severity_at_least",
    "required_permission",
    # operations
    "parse_version",
    "compare_versions",
    "load_inventory",
    "parse_backup_name",
    "format_backup_name",
    "load_upgrade_table",
    "check_restore",
    "check_restore_onto",
    "nsb_coverage",
    "check_certificate_bundle",
    "check_certificate_pair",
    "appliance_record",
    "vault_key_record",
    "run_backup_set",
    "run_backup_job",
    "verify_backup_set",
    "list_backup_sets",
    "plan_retention",
    "apply_retention",
    "collect_live",
    "audit",
    "render_runbook",
    "plan_failover",
    "execute_failover",
    "check_atlas_cluster",
    "BackupSetOptions",
    "BackupJob",
    "Client",
    "ProgressCallback",
    "StrPath",
    "Document",
    # results
    "Model",
    "to_jsonable",
    "ApiAccess",
    "ApiInfo",
    "Appliance",
    "ApplianceIdentity",
    "ApplianceInfo",
    "ApplianceNsb",
    "ApplianceRecord",
    "ArchiveEntry",
    "AtlasCluster",
    "AtlasNode",
    "AtlasReport",
    "AutoFailover",
    "BackupDownload",
    "BackupName",
    "BackupSidecar",
    "BundleReport",
    "CertInfo",
    "ClientConfirmation",
    "ClientSample",
    "ColdSpare",
    "ConnectedClient",
    "CoverageItem",
    "DownloadedFile",
    "ExcludedItem",
    "FailoverPair",
    "Finding",
    "Health",
    "Inventory",
    "NsbCoverage",
    "Operation",
    "PairReport",
    "Permissions",
    "Probe",
    "ProductVersion",
    "RedirectReport",
    "ReportingKindOutcome",
    "ReportingRef",
    "RestoreCheck",
    "RoleChange",
    "Session",
    "Site",
    "Thresholds",
    "TimeWindow",
    "TrafficNode",
    "UpgradeEntry",
    "UpgradeTable",
    "VaultKeyRecord",
    "ManifestFile",
    "NsbEntry",
    "CertificateEntry",
    "RecordingsEntry",
    "NotCovered",
    "Manifest",
    "BackupSetReport",
    "SetSummary",
    "VerifyProblem",
    "VerifyReport",
    "SiteOutcome",
    "JobReport",
    "RetentionPolicy",
    "RetentionCandidate",
    "KeptSet",
    "RetentionPlan",
    "ApplianceLive",
    "SiteLive",
    "AuditFinding",
    "AuditSummary",
    "AuditReport",
    "ErrorReport",
    "ApplianceState",
    "PlanStep",
    "FailoverPlan",
    "TimelineEvent",
    "FailoverTimeline",
    # errors
    "BtDrError",
    "ApiError",
    "AuthError",
    "Cancelled",
    "CertificateError",
    "IntegrityError",
    "InternalError",
    "InvalidInput",
    "IoError",
    "NetworkError",
    "NotFound",
    "ParseError",
    "PermissionDenied",
    "RateLimited",
    "Refused",
    "TimeoutError",
    "TlsError",
    "VersionIncompatible",
    "WrongPassphrase",
]
