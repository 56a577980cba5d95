//! The appliance web APIs: OAuth, Command (XML), Backup, Reporting — typed, rate limited,
//! retried within bounds, over verified TLS.

mod blocking;
mod cancel;
mod client;
// Crate-visible for the fuzzing entry points (`crate::support::fuzzing`):
// sniffing, Content-Disposition, Retry-After, redaction and the XML parsers.
pub(crate) mod download;
mod file_sink;
mod progress;
mod reporting;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod xml;

pub use crate::rules::backup::sanitize_file_name;
pub use blocking::BlockingClient;
pub use cancel::CancelToken;
pub use client::{
    BackupDownload, BackupOptions, BackupSidecar, Client, ClientBuilder, ClientOptions, Probe,
    SIDECAR_SUFFIX, TransferOptions,
};
pub use download::{DownloadedFile, Progress};
pub use progress::{DEFAULT_PROGRESS_INTERVAL, ProgressExt, ThrottledProgress};
pub use reporting::{ReportKind, TimeWindow};
pub use tls::{TlsOptions, parse_pin};
pub use transport::RetryPolicy;
pub use xml::{
    ApiInfo, ApplianceInfo, ArchiveEntry, ArchiveKind, CommandAccess, ConnectedClient, Health,
    Permissions, RoleChange, Session,
};

/// The API permission an operation needs (as `get_api_info` names it).
///
/// ```
/// assert_eq!(bt_dr_core::api::required_permission("download_backup"), Some("perm_backup"));
/// ```
pub fn required_permission(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "check_health"
        | "get_api_info"
        | "get_appliances"
        | "get_connected_clients"
        | "set_failover_role" => "perm_command",
        "download_backup" => "perm_backup",
        "list_sessions" | "get_session" | "download_recording" | "download_report" => {
            "perm_reporting_support"
        }
        "list_archives" | "download_archive" => "perm_reporting_archive",
        _ => return None,
    })
}
