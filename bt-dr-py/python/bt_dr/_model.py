"""Typed result classes.

Every class here is a frozen dataclass built from the JSON that bt-dr-core serializes (the
native module hands results over as plain dicts). They only give the data Python types:
``datetime`` for timestamps, ``date`` for days, ``Path`` for paths. ``to_dict()`` returns the
JSON-compatible form again (timestamps as RFC 3339 strings, dates as ``YYYY-MM-DD``).
"""

import dataclasses
import datetime as _dt
import os
import re
import typing
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union, cast

__all__ = [
    "Model",
    "to_jsonable",
]

M = TypeVar("M", bound="Model")

_HINTS: Dict[type, Dict[str, Any]] = {}
_FRACTION = re.compile(r"\.(\d+)")


def _parse_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # datetime.fromisoformat before 3.11 takes at most 6 fractional digits.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return _dt.datetime.fromisoformat(text)


def _parse_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        # serde's compact form of a date: (year, ordinal day).
        return _dt.date(int(value[0]), 1, 1) + _dt.timedelta(days=int(value[1]) - 1)
    return _dt.date.fromisoformat(str(value).strip())


def _parse_time(value: Any) -> _dt.time:
    if isinstance(value, _dt.time):
        return value
    if isinstance(value, (list, tuple)) and len(value) >= 3:
        micro = int(value[3]) // 1000 if len(value) > 3 else 0
        return _dt.time(int(value[0]), int(value[1]), int(value[2]), micro)
    return _dt.time.fromisoformat(str(value).strip())


def _hints(cls: type) -> Dict[str, Any]:
    h = _HINTS.get(cls)
    if h is None:
        h = typing.get_type_hints(cls)
        _HINTS[cls] = h
    return h


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin in (list, List):
        return [_convert(args[0], v) for v in value]
    if origin in (tuple, Tuple):
        return tuple(_convert(args[0], v) for v in value)
    if origin in (dict, Dict):
        return {k: _convert(args[1], v) for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, Model):
            if isinstance(value, tp):
                return value
            return tp.from_dict(value)
        if tp is _dt.datetime:
            return _parse_datetime(value)
        if tp is _dt.date:
            return _parse_date(value)
        if tp is _dt.time:
            return _parse_time(value)
        if tp is Path:
            return Path(value)
        if tp is float and isinstance(value, int):
            return float(value)
    return value


def _rfc3339(t: _dt.datetime) -> str:
    s = t.isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def to_jsonable(value: Any) -> Any:
    """A JSON-compatible copy of ``value`` (models, dates, paths, lists and dicts)."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, _dt.datetime):
        return _rfc3339(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


class Model:
    """Base of every bt-dr result: ``to_dict()`` and ``from_dict()``."""

    def to_dict(self) -> Dict[str, Any]:
        """The JSON-compatible form (what ``json.dumps`` accepts)."""
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(cast(Any, self)):
            out[f.metadata.get("json", f.name)] = to_jsonable(getattr(self, f.name))
        return out

    def _native(self) -> Dict[str, Any]:
        """``to_dict()`` without ``None`` values (absent is what the core's defaults expect)."""
        stripped: Dict[str, Any] = _strip_none(self.to_dict())
        return stripped

    @classmethod
    def from_dict(cls: Type[M], data: Mapping[str, Any]) -> M:
        """Builds the object from its dict form (unknown keys are ignored)."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict needs a mapping, got {type(data).__name__}")
        hints = _hints(cls)
        kwargs: Dict[str, Any] = {}
        fields = dataclasses.fields(cast(Any, cls))
        if os.environ.get("BT_DR_STRICT_MODELS"):
            known = {f.metadata.get("json", f.name) for f in fields}
            unknown = sorted(set(data) - known)
            if unknown:
                raise TypeError(f"{cls.__name__} has no field for {unknown} (the core added fields?)")
        for f in fields:
            key = f.metadata.get("json", f.name)
            if key in data:
                kwargs[f.name] = _convert(hints[f.name], data[key])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                kwargs[f.name] = None
        return cls(**kwargs)



Severity = str
"""``info``, ``warning``, ``error`` or ``critical``."""


# ---------------------------------------------------------------- common


@dataclasses.dataclass(frozen=True)
class Finding(Model):
    """One problem (or fact) a check found."""

    id: str
    severity: str
    subject: str
    message: str
    remediation: Optional[str] = None

    def __str__(self) -> str:
        return f"[{self.severity}] {self.id} ({self.subject}): {self.message}"


@dataclasses.dataclass(frozen=True)
class ErrorReport(Model):
    """A typed error as data (the core's ``ErrorReport``): ``kind`` (``network``, ``tls``,
    ``auth``...), stable ``code``, redacted ``message`` and ``details`` (the error's fields, as
    ``BtDrError.details``). Also reads like the dict it was: ``report["kind"]``."""

    kind: str
    code: str
    message: str
    details: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> "ErrorReport":
        """Builds the report; a bare message string (older plans) becomes an ``api`` error."""
        if isinstance(data, str):
            return cls(kind="api", code="BT_DR_API", message=data, details={"kind": "api", "message": data})
        return super().from_dict(data)

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``report.get("kind")`` as on the dict form."""
        return self.to_dict().get(key, default)

    def exception(self) -> Any:
        """The ``BtDrError`` subclass this kind of error raises."""
        from . import exception_class

        return exception_class(self.kind)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Operation(Model):
    """One public operation of bt-dr."""

    name: str
    area: str
    summary: str


@dataclasses.dataclass(frozen=True)
class ProductVersion(Model):
    """A product release version, optionally with its build (``24.1.2 (37380-abc…)``)."""

    text: str
    release: str
    major: int
    minor: int
    patch: int
    build_number: Optional[int] = None
    build_commit: Optional[str] = None

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------- API results


@dataclasses.dataclass(frozen=True)
class Health(Model):
    """Authenticated ``check_health`` of one appliance."""

    appliance_id: str
    hostname: str
    version: str
    success: bool
    error_message: Optional[str]
    failover_role: str
    enabled_shared_ips: List[str]
    last_data_sync_time: Optional[_dt.datetime]
    last_data_sync_status: Optional[str]


@dataclasses.dataclass(frozen=True)
class Probe(Model):
    """The unauthenticated ``/check_health`` probe."""

    healthy: bool
    status: int
    message: str
    peer_certificate_sha256: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Permissions(Model):
    """The API account's permissions."""

    command: str
    backup: bool
    reporting_support: bool
    reporting_archive: bool
    vault_backup: bool
    configuration: bool
    configuration_vault_account: bool
    raw: Dict[str, str]


@dataclasses.dataclass(frozen=True)
class ApiInfo(Model):
    """``get_api_info``: API version and permissions."""

    api_version: str
    company_name: Optional[str]
    timestamp: Optional[int]
    permissions: Permissions

    def missing_permission(self, operation: str) -> Optional[str]:
        """The permission ``operation`` needs that this account lacks, if any."""
        from . import _native

        return _native.missing_permission(self._native(), operation)


@dataclasses.dataclass(frozen=True)
class ApplianceInfo(Model):
    """One appliance of the pair or cluster as the appliance sees it."""

    id: str
    name: str
    public_hostname: str
    cluster_role: str
    failover_role: str
    accepting_connections: bool
    timezone_offset: Optional[int]


@dataclasses.dataclass(frozen=True)
class ConnectedClient(Model):
    """A client connected to the appliance."""

    id: str
    client_type: str


@dataclasses.dataclass(frozen=True)
class RoleChange(Model):
    """The appliance's answer to ``set_failover_role``."""

    message: str
    sync_started: bool


@dataclasses.dataclass(frozen=True)
class DownloadedFile(Model):
    """A file that landed under its final name."""

    path: Path
    file_name: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class BackupSidecar(Model):
    """Metadata written next to a downloaded backup."""

    file_name: str
    site: str
    source_host: str
    product: str
    version: str
    size: int
    sha256: str
    downloaded_at: _dt.datetime
    password_protected: bool
    appliance_file_name: Optional[str]


@dataclasses.dataclass(frozen=True)
class BackupDownload(Model):
    """A backup on disk with its sidecar."""

    file: DownloadedFile
    sidecar_path: Path
    sidecar: BackupSidecar

    @property
    def path(self) -> Path:
        """Path of the backup file."""
        return self.file.path


@dataclasses.dataclass(frozen=True)
class Session(Model):
    """A session from a session listing or report."""

    lsid: str
    start_time: Optional[_dt.datetime]
    end_time: Optional[_dt.datetime]
    duration: Optional[str]
    session_type: Optional[str]
    public_site: Optional[str]
    primary_customer: Optional[str]
    primary_rep: Optional[str]
    recording_url: Optional[str]


@dataclasses.dataclass(frozen=True)
class ArchiveEntry(Model):
    """One archive of an ``ArchiveListing``."""

    kind: str
    index: int
    start: Optional[_dt.datetime]
    end: Optional[_dt.datetime]


@dataclasses.dataclass(frozen=True)
class TimeWindow(Model):
    """The one time window (or session selection) of a session report.

    Build it with the class methods: ``TimeWindow.last_seconds(3600)``,
    ``TimeWindow.start_date(date(2026, 1, 1), days=7)``, ``TimeWindow.lsid("...")``...
    """

    type: str
    date: Optional[_dt.date] = None
    days: Optional[int] = None
    unix: Optional[int] = None
    seconds: Optional[int] = None
    lsid: Optional[str] = None
    lsids: Optional[List[str]] = None

    @classmethod
    def last_seconds(cls, seconds: int, now: Optional[_dt.datetime] = None) -> "TimeWindow":
        """Sessions started in the ``seconds`` before ``now`` (default: now)."""
        from . import _native

        unix = None if now is None else int(now.timestamp())
        return cls.from_dict(_native.time_window_last_seconds(seconds, unix))

    @classmethod
    def since(cls, start: Union[int, _dt.datetime]) -> "TimeWindow":
        """Sessions started since ``start`` up to now."""
        return cls.start_time(start, 0)

    @classmethod
    def start_time(cls, start: Union[int, _dt.datetime], seconds: int = 0) -> "TimeWindow":
        """Sessions that began at or after ``start``, for ``seconds`` (0 = until now)."""
        unix = int(start.timestamp()) if isinstance(start, _dt.datetime) else int(start)
        return cls(type="start_time", unix=unix, seconds=seconds)

    @classmethod
    def end_time(cls, end: Union[int, _dt.datetime], seconds: int = 0) -> "TimeWindow":
        """Closed sessions that ended at or after ``end``, for ``seconds``."""
        unix = int(end.timestamp()) if isinstance(end, _dt.datetime) else int(end)
        return cls(type="end_time", unix=unix, seconds=seconds)

    @classmethod
    def start_date(cls, day: Union[str, _dt.date], days: int = 0) -> "TimeWindow":
        """Sessions that began on or after ``day``, for ``days`` days (0 = until now)."""
        return cls(type="start_date", date=_parse_date(day), days=days)

    @classmethod
    def end_date(cls, day: Union[str, _dt.date], days: int = 0) -> "TimeWindow":
        """Closed sessions that ended on or after ``day``, for ``days`` days."""
        return cls(type="end_date", date=_parse_date(day), days=days)

    @classmethod
    def for_lsid(cls, lsid: str) -> "TimeWindow":
        """One session."""
        return cls(type="lsid", lsid=lsid)

    @classmethod
    def for_lsids(cls, lsids: List[str]) -> "TimeWindow":
        """Several sessions."""
        return cls(type="lsids", lsids=list(lsids))

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in super().to_dict().items() if v is not None}


# ---------------------------------------------------------------- certificates


@dataclasses.dataclass(frozen=True)
class CertInfo(Model):
    """What bt-dr reads from one certificate."""

    subject: str
    issuer: str
    issued_to: str
    issued_by: str
    dns_names: List[str]
    ip_addresses: List[str]
    not_before: _dt.datetime
    not_after: _dt.datetime
    serial: str
    sha256: str
    is_ca: bool
    key_algorithm: str
    key_bits: int
    # `class` is a keyword in Python.
    cert_class: str = dataclasses.field(default="", metadata={"json": "class"})
    friendly_name: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class BundleReport(Model):
    """The result of checking one certificate bundle."""

    certificates: List[CertInfo]
    leaf: Optional[int]
    chain: List[int]
    has_private_key: bool
    key_matches_leaf: Optional[bool]
    findings: List[Finding]
    worst: Optional[str] = None
    usable: bool = False

    @property
    def leaf_cert(self) -> Optional[CertInfo]:
        """The leaf certificate, if one was found."""
        return None if self.leaf is None else self.certificates[self.leaf]

    def finding_ids(self) -> List[str]:
        """The ids of the findings, most severe first."""
        return [f.id for f in self.findings]

    def __repr__(self) -> str:
        leaf = self.leaf_cert
        return (
            f"BundleReport(leaf={leaf.issued_to if leaf else None!r}, "
            f"certificates={len(self.certificates)}, usable={self.usable}, "
            f"worst={self.worst!r}, findings={self.finding_ids()!r})"
        )


@dataclasses.dataclass(frozen=True)
class PairReport(Model):
    """The comparison of two appliances' bundles."""

    identical: bool
    findings: List[Finding]


# ---------------------------------------------------------------- backups


@dataclasses.dataclass(frozen=True)
class BackupName(Model):
    """A default NSB backup file name, parsed."""

    file_name: str
    version: ProductVersion
    site: str
    date: _dt.date
    time: Optional[_dt.time]
    id: str

    def __str__(self) -> str:
        return self.file_name


@dataclasses.dataclass(frozen=True)
class RestoreCheck(Model):
    """The verdict on a restore, with the reason."""

    compatibility: str
    backup_version: str
    site_version: str
    reason: str
    warning: Optional[str]
    steps: List[str] = dataclasses.field(default_factory=list)
    """What to do around the restore, in order (``check_restore_onto`` fills it for a site
    with a failover pair: break failover, restore, reset the pre-shared key, re-establish)."""

    @property
    def supported(self) -> bool:
        """The verdict is ``supported``."""
        return self.compatibility == "supported"


@dataclasses.dataclass(frozen=True)
class UpgradeEntry(Model):
    """A release and the versions it supports upgrading (restoring) from."""

    version: str
    product: Optional[str]
    supported_upgrades_from: List[str]


@dataclasses.dataclass(frozen=True)
class UpgradeTable(Model):
    """The supported-upgrade table."""

    releases: List[UpgradeEntry]


@dataclasses.dataclass(frozen=True)
class CoverageItem(Model):
    """Something an NSB backup holds."""

    id: str
    label: str
    note: Optional[str]


@dataclasses.dataclass(frozen=True)
class ExcludedItem(Model):
    """Something an NSB backup leaves out, and where to save it instead."""

    id: str
    label: str
    save_instead: str
    bt_dr_operation: Optional[str]
    report_kinds: List[str] = dataclasses.field(default_factory=list)
    """The Reporting API kinds that hold it (``session_recording``...); a backup set archives them."""


@dataclasses.dataclass(frozen=True)
class NsbCoverage(Model):
    """What an NSB holds and what it leaves out."""

    product: str
    include_logged_history: bool
    included: List[CoverageItem]
    excluded: List[ExcludedItem]

    def __repr__(self) -> str:
        return (
            f"NsbCoverage(product={self.product!r}, included={[i.id for i in self.included]!r}, "
            f"excluded={[e.id for e in self.excluded]!r})"
        )


# ---------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class ApplianceIdentity(Model):
    """What identifies an appliance record."""

    hostname: str
    appliance_version: str
    serial: str
    base_version: str
    system_time: _dt.datetime


@dataclasses.dataclass(frozen=True)
class Interface(Model):
    """A network interface."""

    name: str
    addresses: List[str] = dataclasses.field(default_factory=list)
    gateway: Optional[str] = None
    dns_servers: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class StaticRoute(Model):
    """A static route."""

    destination: str
    gateway: str
    interface: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Snmp(Model):
    """SNMP settings."""

    enabled: bool
    version: Optional[str] = None
    allowed_hosts: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class TlsSettings(Model):
    """TLS protocols and ciphers."""

    protocols: List[str] = dataclasses.field(default_factory=list)
    ciphers: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class AdminRestrictions(Model):
    """Who may reach /appliance."""

    allowed_networks: List[str] = dataclasses.field(default_factory=list)
    notes: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Syslog(Model):
    """Remote syslog."""

    enabled: bool
    host: Optional[str] = None
    port: Optional[int] = None
    format: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class LoginAgreement(Model):
    """The /appliance login agreement."""

    enabled: bool
    title: Optional[str] = None
    text: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Smtp(Model):
    """SMTP relay and certificate reminders."""

    server: Optional[str] = None
    port: Optional[int] = None
    # `from` is a keyword in Python.
    sender: Optional[str] = dataclasses.field(default=None, metadata={"json": "from"})
    certificate_reminders: bool = False
    recipients: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ApplianceRecord(Model):
    """An /appliance settings record (what an NSB does not hold)."""

    identity: ApplianceIdentity
    ip_configuration: List[Interface] = dataclasses.field(default_factory=list)
    static_routes: List[StaticRoute] = dataclasses.field(default_factory=list)
    snmp: Optional[Snmp] = None
    tls: Optional[TlsSettings] = None
    administration: Optional[AdminRestrictions] = None
    syslog: Optional[Syslog] = None
    login_agreement: Optional[LoginAgreement] = None
    smtp: Optional[Smtp] = None
    file_name: str = ""

    def validate(self) -> None:
        """Raises ``InvalidInput`` when something a recovery depends on is missing."""
        from . import _native

        _native.appliance_record_load(data=self._native())

    def save(self, directory: Union[str, "os.PathLike[str]"]) -> Path:
        """Validates and writes the record as JSON into ``directory``; returns the path."""
        from . import _native

        return Path(_native.appliance_record_save(self._native(), os.fspath(directory)))


@dataclasses.dataclass(frozen=True)
class VaultKeyRecord(Model):
    """What bt-dr keeps about a downloaded Vault encryption key (never the key itself)."""

    site: str
    date: _dt.date
    file_name: str
    sha256: str
    size: int
    password_protected: bool
    recorded_at: _dt.datetime
    findings: List[Finding] = dataclasses.field(default_factory=list)

    def pairs_with(self, site: str, backup_date: Union[str, _dt.date]) -> bool:
        """Whether this key pairs with a backup of ``site`` taken on ``backup_date``."""
        from . import _native

        return _native.vault_key_pairs_with(
            self.site, self.date.isoformat(), site, _parse_date(backup_date).isoformat()
        )


# ---------------------------------------------------------------- sites


@dataclasses.dataclass(frozen=True)
class Appliance(Model):
    """An appliance of a site."""

    hostname: str
    kind: str
    serial: Optional[str] = None
    base_version: Optional[str] = None
    failover_role: str = "none"
    cluster_role: str = "single"
    ip: Optional[str] = None
    api_url: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class AutoFailover(Model):
    """Automatic failover and data-sync settings of the backup appliance."""

    enabled: bool = False
    connectivity_test_ips: List[str] = dataclasses.field(default_factory=list)
    primary_timeout_secs: int = 300
    data_sync_interval_secs: int = 3600
    bandwidth_limit_kbps: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class FailoverPair(Model):
    """A primary/backup failover pair."""

    primary: str
    backup: str
    routing: str
    shared_ips: List[str] = dataclasses.field(default_factory=list)
    auto_failover: AutoFailover = dataclasses.field(default_factory=AutoFailover)


@dataclasses.dataclass(frozen=True)
class TrafficNode(Model):
    """An Atlas traffic node."""

    hostname: str
    region: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class AtlasCluster(Model):
    """An Atlas cluster."""

    traffic_nodes: List[TrafficNode]


@dataclasses.dataclass(frozen=True)
class ColdSpare(Model):
    """A powered-off spare."""

    hostname: str
    kind: str
    same_switch: bool = False
    same_network: bool = False


@dataclasses.dataclass(frozen=True)
class ApiAccess(Model):
    """API access for a site (the secret itself is read from an environment variable)."""

    client_id: str
    client_secret_env: str
    ca_file: Optional[str] = None
    pin_sha256: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Site(Model):
    """One RS or PRA site."""

    name: str
    fqdn: str
    product: str
    version: str
    appliances: List[Appliance] = dataclasses.field(default_factory=list)
    failover: Optional[FailoverPair] = None
    atlas: Optional[AtlasCluster] = None
    cold_spare: Optional[ColdSpare] = None
    api: Optional[ApiAccess] = None
    custom_certificate: bool = False
    """A certificate of the site's own replaced the vendor's default (only meaningful on Cloud)."""
    custom_tls: bool = False
    """The SSL/TLS configuration was changed from the default (recorded by the backup)."""

    def appliance(self, hostname: str) -> Optional[Appliance]:
        """The appliance with this hostname (case-insensitive)."""
        return next((a for a in self.appliances if a.hostname.lower() == hostname.lower()), None)

    def intended_primary(self) -> Optional[Appliance]:
        """The appliance meant to be primary (the pair's primary, else the first not marked backup)."""
        from . import _native

        host = _native.site_pair(self._native())[0]
        return None if host is None else self.appliance(host)

    def intended_backup(self) -> Optional[Appliance]:
        """The pair's backup appliance, if the site has a pair."""
        from . import _native

        host = _native.site_pair(self._native())[1]
        return None if host is None else self.appliance(host)


@dataclasses.dataclass(frozen=True)
class Thresholds(Model):
    """bt-dr's own limits (an inventory's optional ``[thresholds]`` table). ``None``: the
    core's documented default."""

    max_backup_age_hours: Optional[int] = None
    certificate_horizon_days: Optional[int] = None
    sync_stale_factor: Optional[int] = None
    sync_stale_min_hours: Optional[int] = None
    min_connectivity_test_ips: Optional[int] = None
    min_rsa_bits: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in super().to_dict().items() if v is not None}


@dataclasses.dataclass(frozen=True)
class Inventory(Model):
    """A fleet of sites, and the limits bt-dr judges them by."""

    sites: List[Site]
    thresholds: Thresholds = dataclasses.field(default_factory=Thresholds)

    def site(self, name: str) -> Optional[Site]:
        """The site with this name."""
        for s in self.sites:
            if s.name == name:
                return s
        return None

    def __repr__(self) -> str:
        return f"Inventory(sites={[s.name for s in self.sites]!r})"


# ---------------------------------------------------------------- backup sets


@dataclasses.dataclass(frozen=True)
class ManifestFile(Model):
    """One file of a backup set."""

    path: str
    kind: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class NsbEntry(Model):
    """The NSB of a set."""

    file: str
    version: str
    password_protected: bool


@dataclasses.dataclass(frozen=True)
class CertificateEntry(Model):
    """The certificate bundle of a set and what its check found then."""

    file: str
    leaf_sha256: Optional[str]
    leaf_not_after: Optional[_dt.datetime]
    findings: List[Finding]


@dataclasses.dataclass(frozen=True)
class ReportingKindOutcome(Model):
    """How one kind of reporting data went in a set: ``status`` is ``ok``, ``not_permitted``
    (a finding, not a failure) or ``failed`` (``error`` says why)."""

    kind: str
    status: str
    count: int
    since: int
    until: int
    error: Optional[ErrorReport] = None


@dataclasses.dataclass(frozen=True)
class RecordingsEntry(Model):
    """The reporting data (recordings of every kind, session reports, exit surveys) a set took."""

    since: int
    until: int
    count: int
    kinds: List[ReportingKindOutcome] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ReportingRef(Model):
    """A file of the site's reporting archive a set refers to (``path`` is relative to the
    site's folder: ``reporting/<kind>/<file>``)."""

    kind: str
    path: str
    size: int
    sha256: str
    lsid: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class ApplianceNsb(Model):
    """The NSB of one appliance, in a set that took one from each appliance of a pair."""

    host: str
    base_url: str
    role: Optional[str]
    file: str
    version: str
    password_protected: bool
    main: bool


@dataclasses.dataclass(frozen=True)
class NotCovered(Model):
    """Something the NSB leaves out, and whether this set holds it."""

    id: str
    label: str
    in_this_set: bool
    save_instead: str


@dataclasses.dataclass(frozen=True)
class Manifest(Model):
    """``manifest.json`` of a backup set."""

    format: int
    site: str
    fqdn: str
    product: str
    site_version: str
    source_host: str
    created_at: _dt.datetime
    completed_at: _dt.datetime
    nsb: NsbEntry
    files: List[ManifestFile]
    recordings: Optional[RecordingsEntry]
    certificate: Optional[CertificateEntry]
    appliance_records: List[ApplianceIdentity]
    vault_key: Optional[VaultKeyRecord]
    not_covered: List[NotCovered]
    findings: List[Finding]
    reporting: List[ReportingRef] = dataclasses.field(default_factory=list)
    """The reporting archive files this set took, by kind, session, path and hash. They live in
    the site's archive (``<store>/<site>/reporting/<kind>/``), not in the set, so removing the
    set keeps them."""
    appliance_nsbs: List[ApplianceNsb] = dataclasses.field(default_factory=list)
    """Every appliance's NSB, main one first, when the other appliances of a pair were given."""
    parts: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    """Every part of the set (``part``, ``status``, ``error``) and how it went."""
    partial: bool = False
    """A part failed; the set holds the NSB and every part that succeeded."""

    @property
    def failed_parts(self) -> List[Dict[str, Any]]:
        """Parts that failed (``part``, ``status``, ``error``)."""
        return [p for p in self.parts if p.get("status") == "failed"]

    def files_of(self, kind: str) -> List[ManifestFile]:
        """Files of one kind (``nsb``, ``sidecar``, ``certificate_bundle``...)."""
        return [f for f in self.files if f.kind == kind]

    def reporting_of(self, kind: str) -> List[ReportingRef]:
        """The reporting archive files of one kind (``session_recording``, ``session_report``...)."""
        return [r for r in self.reporting if r.kind == kind]


@dataclasses.dataclass(frozen=True)
class BackupSetReport(Model):
    """The outcome of one backup set run."""

    site: str
    set_id: str
    path: Path
    manifest: Manifest
    partial: bool = False
    """A part failed: the set was kept with the NSB and every part that succeeded."""
    cleaned: Optional[Dict[str, Any]] = None
    """Crash leftovers of earlier runs the store removed before this run."""

    @property
    def failed_parts(self) -> List[Dict[str, Any]]:
        """Parts that failed (``part``, ``status``, ``error``), as in the manifest."""
        return [p for p in self.manifest.parts if p.get("status") == "failed"]

    def __repr__(self) -> str:
        return (
            f"BackupSetReport(site={self.site!r}, set_id={self.set_id!r}, path={str(self.path)!r}, "
            f"files={len(self.manifest.files)}, findings={[f.id for f in self.manifest.findings]!r})"
        )


@dataclasses.dataclass(frozen=True)
class SetSummary(Model):
    """One backup set as found in the store."""

    id: str
    site: str
    path: Path
    created_at: _dt.datetime
    manifest: Manifest

    def __repr__(self) -> str:
        return f"SetSummary(site={self.site!r}, id={self.id!r}, created_at={self.created_at.isoformat()!r})"


@dataclasses.dataclass(frozen=True)
class VerifyProblem(Model):
    """A problem ``verify_backup_set`` found."""

    path: str
    problem: str
    detail: str


@dataclasses.dataclass(frozen=True)
class VerifyReport(Model):
    """The result of re-hashing a set against its manifest."""

    path: Path
    files_checked: int
    bytes_checked: int
    problems: List[VerifyProblem]
    ok: bool = False
    partial: bool = False


@dataclasses.dataclass(frozen=True)
class SiteOutcome(Model):
    """One site's outcome in a backup job."""

    site: str
    report: Optional[BackupSetReport]
    error: Optional[Dict[str, Any]]
    elapsed_ms: int
    partial: bool = False

    @property
    def ok(self) -> bool:
        """The set was taken."""
        return self.report is not None


@dataclasses.dataclass(frozen=True)
class JobReport(Model):
    """The outcome of a backup job, per site in input order."""

    sites: List[SiteOutcome]

    @property
    def failed(self) -> List[SiteOutcome]:
        """Sites that failed (no set taken)."""
        return [s for s in self.sites if s.error is not None]

    @property
    def partial(self) -> List[SiteOutcome]:
        """Sites whose set was taken but is partial (a part failed; the NSB was kept)."""
        return [s for s in self.sites if s.partial]

    @property
    def all_complete(self) -> bool:
        """Every site has a complete set."""
        return all(s.error is None and not s.partial for s in self.sites)


# ---------------------------------------------------------------- retention


@dataclasses.dataclass(frozen=True)
class RetentionPolicy(Model):
    """Which sets to keep; every rule keeps sets and a set any rule keeps is kept."""

    keep_last: Optional[int] = None
    keep_hourly: Optional[int] = None
    keep_daily: Optional[int] = None
    keep_weekly: Optional[int] = None
    keep_monthly: Optional[int] = None
    keep_yearly: Optional[int] = None
    keep_within_hours: Optional[int] = None
    min_nsb_bytes: Optional[int] = None
    keep_versions: Optional[int] = None
    """On top of the rules: the newest verified set of each of the last N product versions
    (None: the core's default, 2; 0 switches it off)."""

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in super().to_dict().items() if v is not None}


@dataclasses.dataclass(frozen=True)
class RetentionCandidate(Model):
    """A set as retention sees it."""

    id: str
    created_at: _dt.datetime
    verified: Optional[bool] = None
    not_verifiable: Optional[str] = None
    version: Optional[str] = None
    """The product version its NSB was taken at (for the version rule)."""


@dataclasses.dataclass(frozen=True)
class KeptSet(Model):
    """A kept set and every reason it is kept."""

    id: str
    reasons: List[str]


@dataclasses.dataclass(frozen=True)
class RetentionPlan(Model):
    """What a policy keeps and removes (newest first)."""

    site: str
    keep: List[KeptSet]
    remove: List[str]
    min_nsb_bytes: Optional[int] = None
    """The retention floor the plan was made with (bytes); applying re-checks with it. None
    (a plan built in Python or loaded from an older dict): left out of what is sent to the
    core, whose default (16 KiB) then applies. 0 turns the floor off."""


# ---------------------------------------------------------------- audit


@dataclasses.dataclass(frozen=True)
class ApplianceLive(Model):
    """One appliance's live state (an unreachable one carries its error)."""

    hostname: str
    health: Optional[Health]
    error: Optional[Dict[str, Any]]
    served_cert_sha256: Optional[str]
    appliances: Optional[List[ApplianceInfo]]


@dataclasses.dataclass(frozen=True)
class SiteLive(Model):
    """Live state of a site's appliances."""

    site: str
    appliances: List[ApplianceLive]


@dataclasses.dataclass(frozen=True)
class AuditFinding(Model):
    """A finding of the audit with its site."""

    site: str
    id: str
    severity: str
    subject: str
    message: str
    remediation: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class AuditSummary(Model):
    """Counts by severity."""

    critical: int
    error: int
    warning: int
    info: int


@dataclasses.dataclass(frozen=True)
class AuditReport(Model):
    """The readiness audit (JSON schema ``bt-dr.audit/1``)."""

    schema: str
    generated_at: _dt.datetime
    sites: List[str]
    summary: AuditSummary
    findings: List[AuditFinding]
    worst: Optional[str] = None

    def with_id(self, rule: str) -> List[AuditFinding]:
        """Findings of one rule."""
        return [f for f in self.findings if f.id == rule]

    def finding_ids(self) -> List[str]:
        """Rule ids of the findings, most severe first."""
        return [f.id for f in self.findings]

    def to_markdown(self) -> str:
        """The Markdown report, grouped by site."""
        from . import _native

        return _native.audit_markdown(self._native())

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"AuditReport(sites={self.sites!r}, critical={s.critical}, error={s.error}, "
            f"warning={s.warning}, info={s.info}, findings={self.finding_ids()!r})"
        )


# ---------------------------------------------------------------- failover


Reachability = str
"""``reachable``, ``unreachable`` (network-level failure of the API and of the
``/check_health`` probe: nothing answers) or ``unknown`` (something answered, but with a TLS,
pin, authentication, permission, rate-limit, parse or API error: it may be up and serving)."""


@dataclasses.dataclass(frozen=True)
class ApplianceState(Model):
    """What one appliance looked like when planning.

    ``reachability`` is ``reachable``, ``unreachable`` or ``unknown`` (see ``Reachability``);
    ``reachable`` is ``reachability == "reachable"`` (kept for readers of the older shape).
    ``error`` is why ``check_health`` failed, ``probe_status`` the HTTP status of the
    unauthenticated ``/check_health`` probe when it answered, ``probe_error`` why it failed.
    """

    hostname: str
    reachable: bool
    healthy: bool
    role: Optional[str]
    error: Optional[ErrorReport] = None
    reachability: str = "unknown"
    probe_status: Optional[int] = None
    probe_error: Optional[ErrorReport] = None
    served_leaf_sha256: Optional[str] = None
    """SHA-256 of the leaf certificate it served when planning (None: no handshake)."""

    @property
    def state_unknown(self) -> bool:
        """It answered, but not usably: an unplanned failover needs ``force_unknown``."""
        return self.reachability == "unknown"


@dataclasses.dataclass(frozen=True)
class PlanStep(Model):
    """One step of a failover plan."""

    action: str
    automated: bool
    step: Optional[str] = None
    """The stage: ``redirect``, ``verify_redirect``, ``role_change``, ``settle``, ``demote`` or ``confirm``."""


@dataclasses.dataclass(frozen=True)
class FailoverPlan(Model):
    """A failover plan (made without side effects)."""

    site: str
    mode: str
    # `from` is a keyword in Python.
    from_: ApplianceState = dataclasses.field(metadata={"json": "from"})
    to: ApplianceState
    connected_clients: Optional[int]
    steps: List[PlanStep]
    warnings: List[str]
    certificates: str = "unknown"
    """How the two appliances' served leaf certificates compare: ``identical``, ``different`` or ``unknown``."""
    site_url: Optional[str] = None
    """How clients reach the site (for the redirect check and the confirmation)."""


@dataclasses.dataclass(frozen=True)
class TimelineEvent(Model):
    """One observation while executing a failover."""

    elapsed_ms: int
    event: str
    from_role: Optional[str]
    to_role: Optional[str]
    step: Optional[str] = None
    """The stage it belongs to (see ``PlanStep.step``)."""
    error: Optional[ErrorReport] = None


@dataclasses.dataclass(frozen=True)
class RedirectReport(Model):
    """What happened to the traffic redirect: ``method`` is ``automatic`` (shared IP),
    ``command``, ``callback`` or ``manual``."""

    routing: str
    method: str
    site_url: str
    ran: bool = False
    verified: bool = False
    answered_by: Optional[str] = None
    error: Optional[ErrorReport] = None


@dataclasses.dataclass(frozen=True)
class ClientConfirmation(Model):
    """Whether clients work on the new primary after the role change."""

    site_url: str
    connected_clients: Optional[int] = None
    site_status: Optional[int] = None
    site_healthy: bool = False
    site_answered_by: Optional[str] = None
    site_reaches_target: bool = False
    confirmed: bool = False
    clients_error: Optional[ErrorReport] = None
    site_error: Optional[ErrorReport] = None
    waited_ms: int = 0


@dataclasses.dataclass(frozen=True)
class FailoverTimeline(Model):
    """What executing a failover did. ``outcome``: ``settled``, ``timed_out``, ``split_brain``,
    ``redirect_failed`` or ``redirect_mismatch`` (the last two: no role was changed)."""

    site: str
    mode: str
    events: List[TimelineEvent]
    outcome: str
    follow_up: List[str]
    redirect: Optional[RedirectReport] = None
    confirmation: Optional[ClientConfirmation] = None
    error: Optional[ErrorReport] = None
    """The error that stopped execution early, when one did."""


# ---------------------------------------------------------------- atlas


@dataclasses.dataclass(frozen=True)
class ClientSample(Model):
    """One sample of a node's connected clients."""

    at: _dt.datetime
    total: int
    representatives: int


@dataclasses.dataclass(frozen=True)
class AtlasNode(Model):
    """What the Atlas check found of one node (``role``: ``traffic`` or ``primary``;
    ``trend``: ``increasing``, ``steady`` or ``decreasing``)."""

    hostname: str
    role: str
    listed: Optional[bool]
    listed_role: Optional[str]
    accepting_connections: Optional[bool]
    reachable: bool
    healthy: Optional[bool]
    version: Optional[str]
    last_sync_time: Optional[_dt.datetime]
    last_sync_status: Optional[str]
    samples: List[ClientSample]
    trend: Optional[str]
    error: Optional[ErrorReport] = None


@dataclasses.dataclass(frozen=True)
class AtlasReport(Model):
    """The result of ``check_atlas_cluster``: primary nodes first, then traffic nodes."""

    site: str
    checked_at: _dt.datetime
    sample_interval_ms: int
    nodes: List[AtlasNode]
    findings: List[Finding]

    def node(self, hostname: str) -> Optional[AtlasNode]:
        """The node with this hostname (case-insensitive)."""
        return next((n for n in self.nodes if n.hostname.lower() == hostname.lower()), None)

    def finding_ids(self) -> List[str]:
        """The ids of the findings, most severe first."""
        return [f.id for f in self.findings]
