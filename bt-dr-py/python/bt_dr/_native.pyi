"""Type stubs of the native module ``bt_dr._native`` (built from bt-dr-py with pyo3).

Results are JSON-compatible values (dicts, lists, str, int, float, bool, None); the package
``bt_dr`` wraps them in typed classes.
"""

from typing import Any, Callable, Dict, List, NoReturn, Optional, Tuple

__version__: str
USER_AGENT: str
DEFAULT_JOB_CONCURRENCY: int

_Json = Any
_Progress = Callable[[int, Optional[int]], Any]

class BtDrError(Exception):
    """Base class of every bt-dr error."""

    kind: Optional[str]
    # The stable ``BT_DR_*`` code of the kind (Node's ``error.code``, the C status name).
    code: Optional[str]
    message: str
    details: Dict[str, Any]
    def __getattr__(self, name: str) -> Any: ...

class InvalidInput(BtDrError):
    kind: str
    code: str

class ParseError(BtDrError):
    kind: str
    code: str

class IoError(BtDrError):
    kind: str
    code: str

class CertificateError(BtDrError):
    kind: str
    code: str

class WrongPassphrase(BtDrError):
    kind: str
    code: str

class VersionIncompatible(BtDrError):
    kind: str
    code: str

class IntegrityError(BtDrError):
    kind: str
    code: str

class AuthError(BtDrError):
    kind: str
    code: str

class PermissionDenied(BtDrError):
    kind: str
    code: str

class RateLimited(BtDrError):
    kind: str
    code: str

class ApiError(BtDrError):
    kind: str
    code: str

class TlsError(BtDrError):
    kind: str
    code: str

class NetworkError(BtDrError):
    kind: str
    code: str

class TimeoutError(BtDrError):
    kind: str
    code: str

class Cancelled(BtDrError):
    kind: str
    code: str

class Refused(BtDrError):
    kind: str
    code: str

class NotFound(BtDrError):
    kind: str
    code: str

class InternalError(BtDrError):
    """A defect inside bt-dr (a caught Rust panic); never caused by input."""

    kind: str
    code: str

def error_kinds() -> List[Tuple[str, str]]: ...
def operations() -> List[Dict[str, str]]: ...
def parse_version(text: str) -> Dict[str, Any]: ...
def compare_versions(a: str, b: str) -> int: ...
def load_inventory(
    path: Optional[str] = None,
    text: Optional[str] = None,
    format: Optional[str] = None,
    data: Optional[_Json] = None,
) -> Dict[str, Any]: ...
def load_upgrade_table(
    path: Optional[str] = None,
    text: Optional[str] = None,
    format: Optional[str] = None,
    data: Optional[_Json] = None,
) -> Dict[str, Any]: ...
def parse_backup_name(name: str) -> Dict[str, Any]: ...
def format_backup_name(
    version: str, site: str, date: str, id: str, time: Optional[str] = None
) -> str: ...
def check_restore(
    backup_version: str,
    site_version: str,
    table: Optional[_Json] = None,
    backup_product: Optional[str] = None,
    site_product: Optional[str] = None,
    strict: bool = False,
) -> Dict[str, Any]: ...
def check_restore_onto(
    site: Dict[str, Any],
    backup_version: str,
    backup_product: Optional[str] = None,
    table: Optional[_Json] = None,
) -> Dict[str, Any]: ...
def nsb_coverage(product: str, include_logged_history: bool = False) -> Dict[str, Any]: ...
def check_certificate_bundle(
    data: bytes, passphrase: str, options: Optional[_Json] = None
) -> Dict[str, Any]: ...
def check_certificate_pair(primary: _Json, backup: _Json) -> Dict[str, Any]: ...
def appliance_record_load(
    path: Optional[str] = None,
    text: Optional[str] = None,
    format: Optional[str] = None,
    data: Optional[_Json] = None,
) -> Dict[str, Any]: ...
def appliance_record_save(data: _Json, dir: str) -> str: ...
def vault_key_record(
    path: str, site: str, date: str, password_protected: bool
) -> Dict[str, Any]: ...
def vault_key_pairs_with(key_site: str, key_date: str, site: str, backup_date: str) -> bool: ...
def required_permission(operation: str) -> Optional[str]: ...
def missing_permission(api_info: _Json, operation: str) -> Optional[str]: ...
def time_window_last_seconds(seconds: int, now_unix: Optional[int] = None) -> Dict[str, Any]: ...
def severity_at_least(s: str, threshold: str) -> bool: ...

class NativeClient:
    def __init__(
        self,
        base_url: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        *,
        site: Optional[Dict[str, Any]] = None,
        hostname: Optional[str] = None,
        ca_pem: Optional[bytes] = None,
        only_extra_ca: bool = False,
        pin_sha256: Optional[str] = None,
        danger_accept_invalid_certs: bool = False,
        danger_allow_http: bool = False,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        request_timeout: Optional[float] = None,
        rate_limit_per_second: Optional[int] = None,
        site_name: Optional[str] = None,
        product: Optional[str] = None,
        retry: Optional[Dict[str, float]] = None,
    ) -> None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def product(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def check_health(self) -> Dict[str, Any]: ...
    def probe_health(self) -> Dict[str, Any]: ...
    def get_api_info(self) -> Dict[str, Any]: ...
    def get_appliances(self) -> List[Dict[str, Any]]: ...
    def get_connected_clients(self) -> List[Dict[str, Any]]: ...
    def set_failover_role(
        self, role: str, data_sync_first: bool = False, force: bool = False
    ) -> Dict[str, Any]: ...
    def list_sessions(self, window: Dict[str, Any]) -> List[Dict[str, Any]]: ...
    def get_session(self, lsid: str) -> Dict[str, Any]: ...
    def list_archives(self, date: str) -> List[Dict[str, Any]]: ...
    def download_backup(
        self, dir: str, password: Optional[str] = None, progress: Optional[_Progress] = None
    ) -> Dict[str, Any]: ...
    def download_recording(
        self, lsid: str, dir: str, progress: Optional[_Progress] = None
    ) -> Dict[str, Any]: ...
    def download_archive(
        self, kind: str, date: str, index: int, dir: str, progress: Optional[_Progress] = None
    ) -> Dict[str, Any]: ...
    def download_report(
        self, kind: str, window: Dict[str, Any], dir: str, progress: Optional[_Progress] = None
    ) -> Dict[str, Any]: ...
    def served_leaf_sha256(self) -> Optional[str]: ...

def raise_invalid_input(field: str, reason: str) -> NoReturn: ...
def run_backup_set(
    store: str,
    site: Dict[str, Any],
    client: NativeClient,
    options: Optional[Dict[str, Any]] = None,
    progress: Optional[_Progress] = None,
    other_appliances: List[NativeClient] = ...,
) -> Dict[str, Any]: ...
def run_backup_job(
    store: str,
    jobs: List[Tuple[Dict[str, Any], NativeClient, Optional[Dict[str, Any]], List[NativeClient]]],
    concurrency: Optional[int] = None,
) -> Dict[str, Any]: ...
def verify_backup_set(path: str) -> Dict[str, Any]: ...
def list_backup_sets(store: str, site: str) -> List[Dict[str, Any]]: ...
def plan_retention(
    site: str,
    policy: Dict[str, Any],
    store: Optional[str] = None,
    sets: Optional[List[Any]] = None,
) -> Dict[str, Any]: ...
def apply_retention(store: str, plan: Dict[str, Any]) -> List[str]: ...
def collect_live(site: str, clients: List[Tuple[str, NativeClient]]) -> Dict[str, Any]: ...
def audit(
    inventory: Dict[str, Any],
    store: Optional[str] = None,
    live: Optional[List[Any]] = None,
    upgrade_table: Optional[Dict[str, Any]] = None,
    options: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]: ...
def audit_markdown(report: Dict[str, Any]) -> str: ...
def render_runbook(
    site: Dict[str, Any], store: Optional[str] = None, upgrade_table: Optional[Dict[str, Any]] = None
) -> str: ...
def plan_failover(
    site: Dict[str, Any],
    first: Tuple[str, NativeClient],
    second: Tuple[str, NativeClient],
    mode: str,
    options: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]: ...
def execute_failover(
    site: Dict[str, Any],
    first: Tuple[str, NativeClient],
    second: Tuple[str, NativeClient],
    plan: Dict[str, Any],
    options: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]: ...
def check_atlas_cluster(
    site: Dict[str, Any],
    clients: List[Tuple[str, NativeClient]],
    options: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]: ...
def site_pair(site: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]: ...
