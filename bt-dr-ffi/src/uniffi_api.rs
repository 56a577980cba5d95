//! uniffi exports (namespace `bt_dr`) for Kotlin and Swift, over the same [`crate::mapping`] as
//! the C API. Bindings are generated from the built library in library mode
//! (`uniffi-bindgen generate --library libbt_dr.so`).
//!
//! Shapes: a [`Client`] object built from a [`ClientConfig`] record plus the client secret (kept
//! out of the record so that a data class's `toString` cannot show it), a [`BundleReport`] object,
//! a [`CancelToken`] object, a [`ProgressListener`] foreign trait, a typed [`Health`] record, and
//! JSON strings (the schemas of `include/bt_dr.h`) for the other complex results. Errors are
//! [`BtDrError`], one variant per core error kind, with the message and the details JSON.

use std::sync::Arc;
use std::time::Duration;

use bt_dr_core::api::{BlockingClient, CancelToken as CoreCancelToken, Progress};
use bt_dr_core::{Error, ErrorKind, SecretString};

use crate::mapping::{self, ClientConfig as Config, Transfer};

/// A bt-dr error: one variant per core error kind (`bt_dr_core::ErrorKind`), each with the
/// message (never holding a secret) and the structured details as JSON (`{"kind", "message",
/// ...}` plus the kind's fields, as in the C API).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum BtDrError {
    /// A caller-supplied value is out of range or inconsistent.
    #[error("{error_message}")]
    InvalidInput {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A file or response could not be parsed.
    #[error("{error_message}")]
    Parse {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// Reading or writing a local file failed.
    #[error("{error_message}")]
    Io {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A certificate bundle is unusable.
    #[error("{error_message}")]
    Certificate {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The passphrase or password did not open the file.
    #[error("{error_message}")]
    WrongPassphrase {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A backup cannot be restored onto the site's version.
    #[error("{error_message}")]
    VersionIncompatible {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// Data does not match what was promised.
    #[error("{error_message}")]
    Integrity {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The appliance rejected the OAuth credentials or token.
    #[error("{error_message}")]
    Auth {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The API account lacks a permission.
    #[error("{error_message}")]
    PermissionDenied {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// Too many requests, past the retry budget.
    #[error("{error_message}")]
    RateLimited {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The appliance answered with an API error.
    #[error("{error_message}")]
    Api {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// TLS set-up or verification failed.
    #[error("{error_message}")]
    Tls {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The appliance could not be reached.
    #[error("{error_message}")]
    Network {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// An operation exceeded its time budget.
    #[error("{error_message}")]
    Timeout {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// The operation was cancelled.
    #[error("{error_message}")]
    Cancelled {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A safety rule refused an action.
    #[error("{error_message}")]
    Refused {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A named thing does not exist.
    #[error("{error_message}")]
    NotFound {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// A defect inside bt-dr (a caught panic); never caused by input. Please report it.
    #[error("{error_message}")]
    Internal {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
    /// An error kind this build does not know (never produced by a tested build).
    #[error("{error_message}")]
    Other {
        /// Message.
        error_message: String,
        /// Details JSON.
        details_json: String,
    },
}

impl From<Error> for BtDrError {
    fn from(e: Error) -> Self {
        let error_message = e.to_string();
        let details_json = e.details().to_string();
        match e.kind() {
            ErrorKind::InvalidInput => Self::InvalidInput {
                error_message,
                details_json,
            },
            ErrorKind::Parse => Self::Parse {
                error_message,
                details_json,
            },
            ErrorKind::Io => Self::Io {
                error_message,
                details_json,
            },
            ErrorKind::Certificate => Self::Certificate {
                error_message,
                details_json,
            },
            ErrorKind::WrongPassphrase => Self::WrongPassphrase {
                error_message,
                details_json,
            },
            ErrorKind::VersionIncompatible => Self::VersionIncompatible {
                error_message,
                details_json,
            },
            ErrorKind::Integrity => Self::Integrity {
                error_message,
                details_json,
            },
            ErrorKind::Auth => Self::Auth {
                error_message,
                details_json,
            },
            ErrorKind::PermissionDenied => Self::PermissionDenied {
                error_message,
                details_json,
            },
            ErrorKind::RateLimited => Self::RateLimited {
                error_message,
                details_json,
            },
            ErrorKind::Api => Self::Api {
                error_message,
                details_json,
            },
            ErrorKind::Tls => Self::Tls {
                error_message,
                details_json,
            },
            ErrorKind::Network => Self::Network {
                error_message,
                details_json,
            },
            ErrorKind::Timeout => Self::Timeout {
                error_message,
                details_json,
            },
            ErrorKind::Cancelled => Self::Cancelled {
                error_message,
                details_json,
            },
            ErrorKind::Refused => Self::Refused {
                error_message,
                details_json,
            },
            ErrorKind::NotFound => Self::NotFound {
                error_message,
                details_json,
            },
            ErrorKind::Internal => Self::Internal {
                error_message,
                details_json,
            },
            _ => Self::Other {
                error_message,
                details_json,
            },
        }
    }
}

type R<T> = std::result::Result<T, BtDrError>;

fn json(v: serde_json::Value) -> String {
    v.to_string()
}

// ---------------------------------------------------------------------------------------------
// offline operations

/// The public operations of bt-dr as JSON (`[{"name", "area", "summary"}]`).
#[uniffi::export]
pub fn operations_json() -> R<String> {
    Ok(mapping::operations_json()?)
}

/// Parses a product version (JSON as `bt_dr_parse_version`).
#[uniffi::export]
pub fn parse_version(text: String) -> R<String> {
    Ok(json(mapping::parse_version(&text)?))
}

/// A validated fleet inventory.
#[derive(Debug, uniffi::Object)]
pub struct Inventory {
    inner: bt_dr_core::Inventory,
}

#[uniffi::export]
impl Inventory {
    /// The inventory as JSON (schema of `bt_dr_inventory_to_json`).
    pub fn to_json(&self) -> R<String> {
        Ok(mapping::to_json(&self.inner)?)
    }
    /// Names of the sites.
    pub fn site_names(&self) -> Vec<String> {
        self.inner.sites.iter().map(|s| s.name.clone()).collect()
    }
}

/// Loads and validates an inventory file (format by extension).
#[uniffi::export]
pub fn load_inventory(path: String) -> R<Arc<Inventory>> {
    Ok(Arc::new(Inventory {
        inner: mapping::load_inventory(&path)?,
    }))
}

/// Parses and validates inventory text (`format`: toml, json, yaml; `None`: the core's
/// default format).
#[uniffi::export]
pub fn parse_inventory(text: String, format: Option<String>) -> R<Arc<Inventory>> {
    Ok(Arc::new(Inventory {
        inner: mapping::parse_inventory(&text, format.as_deref())?,
    }))
}

/// Parses a default NSB backup file name (JSON as `bt_dr_parse_backup_name`).
#[uniffi::export]
pub fn parse_backup_name(name: String) -> R<String> {
    Ok(json(mapping::parse_backup_name(&name)?))
}

/// Builds a default NSB backup file name (`date` YYYY-MM-DD, `time` HH:MM:SS).
#[uniffi::export]
pub fn format_backup_name(
    version: String,
    site: String,
    date: String,
    time: Option<String>,
    id: String,
) -> R<String> {
    Ok(mapping::format_backup_name(
        &version,
        &site,
        &date,
        time.as_deref(),
        &id,
    )?)
}

/// Loads a supported-upgrade table file; the table as JSON (pass it to [`check_restore`]).
#[uniffi::export]
pub fn load_upgrade_table(path: String) -> R<String> {
    Ok(mapping::to_json(&mapping::load_upgrade_table(&path)?)?)
}

/// Decides whether a backup restores onto a site (JSON as `bt_dr_check_restore`).
/// `upgrade_table_json` is the JSON of [`load_upgrade_table`], or `None` for no listed sources.
#[uniffi::export]
pub fn check_restore(
    backup_version: String,
    site_version: String,
    upgrade_table_json: Option<String>,
    backup_product: Option<String>,
    site_product: Option<String>,
) -> R<String> {
    let table = upgrade_table_json
        .map(|t| bt_dr_core::UpgradeTable::from_json_str(&t))
        .transpose()?;
    let check = mapping::check_restore(
        &backup_version,
        &site_version,
        table.as_ref(),
        backup_product.as_deref(),
        site_product.as_deref(),
    )?;
    Ok(mapping::to_json(&check)?)
}

/// Checks a restore onto a site of `inventory`, aware of failover (JSON as
/// `bt_dr_check_restore_onto`: for a pair, a warning and the steps in order).
/// `upgrade_table_json` as for [`check_restore`].
#[uniffi::export]
pub fn check_restore_onto(
    inventory: Arc<Inventory>,
    site: String,
    backup_version: String,
    backup_product: Option<String>,
    upgrade_table_json: Option<String>,
) -> R<String> {
    let site = mapping::site_of(&inventory.inner, &site)?;
    let table = table(upgrade_table_json)?;
    let check = mapping::check_restore_onto(
        &site,
        &backup_version,
        backup_product.as_deref(),
        table.as_ref(),
    )?;
    Ok(mapping::to_json(&check)?)
}

/// What an NSB backup holds and leaves out (JSON as `bt_dr_nsb_coverage`).
#[uniffi::export]
pub fn nsb_coverage(product: String, include_logged_history: bool) -> R<String> {
    Ok(json(mapping::nsb_coverage(
        &product,
        include_logged_history,
    )?))
}

/// The result of checking a PKCS#12 bundle.
#[derive(Debug, uniffi::Object)]
pub struct BundleReport {
    inner: bt_dr_core::BundleReport,
}

#[uniffi::export]
impl BundleReport {
    /// The report as JSON (schema of `bt_dr_bundle_report_to_json`).
    pub fn to_json(&self) -> R<String> {
        Ok(json(mapping::bundle_report_value(&self.inner)?))
    }
    /// Number of findings.
    pub fn finding_count(&self) -> u64 {
        self.inner.findings.len() as u64
    }
    /// The most severe finding's severity (`info`, `warning`, `error`, `critical`), if any.
    pub fn worst_severity(&self) -> Option<String> {
        self.inner.worst().map(|s| s.as_str().to_string())
    }
    /// No finding at error level or above.
    pub fn is_usable(&self) -> bool {
        self.inner.is_usable()
    }
}

/// Opens and checks a PKCS#12 bundle; `options_json` as for `bt_dr_check_certificate_bundle`.
#[uniffi::export]
pub fn check_certificate_bundle(
    p12: Vec<u8>,
    passphrase: String,
    options_json: Option<String>,
) -> R<Arc<BundleReport>> {
    let inner = mapping::check_certificate_bundle(&p12, &passphrase, options_json.as_deref())?;
    Ok(Arc::new(BundleReport { inner }))
}

/// Like [`check_certificate_bundle`] from a file.
#[uniffi::export]
pub fn check_certificate_bundle_file(
    path: String,
    passphrase: String,
    options_json: Option<String>,
) -> R<Arc<BundleReport>> {
    let inner =
        mapping::check_certificate_bundle_file(&path, &passphrase, options_json.as_deref())?;
    Ok(Arc::new(BundleReport { inner }))
}

/// Whether a failover pair carries the identical certificate (`{"identical", "findings"}`).
#[uniffi::export]
pub fn check_certificate_pair(primary: Arc<BundleReport>, backup: Arc<BundleReport>) -> R<String> {
    Ok(mapping::to_json(&bt_dr_core::check_certificate_pair(
        &primary.inner,
        &backup.inner,
    ))?)
}

/// Loads, validates and optionally saves an `/appliance` settings record (JSON as
/// `bt_dr_appliance_record`).
#[uniffi::export]
pub fn appliance_record(path: String, save_dir: Option<String>) -> R<String> {
    Ok(json(mapping::appliance_record(&path, save_dir.as_deref())?))
}

/// Like [`appliance_record`] from text in `format` (`None`: the core's default format).
#[uniffi::export]
pub fn appliance_record_parse(
    text: String,
    format: Option<String>,
    save_dir: Option<String>,
) -> R<String> {
    Ok(json(mapping::appliance_record_text(
        &text,
        format.as_deref(),
        save_dir.as_deref(),
    )?))
}

/// Records a downloaded Vault encryption key (JSON as `bt_dr_vault_key_record`).
#[uniffi::export]
pub fn vault_key_record(
    key_path: String,
    site: String,
    date: String,
    password_protected: bool,
) -> R<String> {
    Ok(json(mapping::vault_key_record(
        &key_path,
        &site,
        &date,
        password_protected,
    )?))
}

// ---------------------------------------------------------------------------------------------
// API client

/// Client settings; every optional field keeps the core's default when `None`. The client secret
/// is passed to [`Client::new`] on its own.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClientConfig {
    /// `https://host[:port]`.
    pub base_url: String,
    /// OAuth client id of the API account.
    pub client_id: String,
    /// Extra CA certificate(s), PEM.
    #[uniffi(default = None)]
    pub extra_ca_pem: Option<String>,
    /// Trust only the extra CA.
    #[uniffi(default = false)]
    pub only_extra_ca: bool,
    /// Server certificate pin: SHA-256 of the DER, hex.
    #[uniffi(default = None)]
    pub pin_sha256: Option<String>,
    /// DANGEROUS: accept any server certificate.
    #[uniffi(default = false)]
    pub danger_accept_invalid_certs: bool,
    /// DANGEROUS: allow `http://`.
    #[uniffi(default = false)]
    pub danger_allow_http: bool,
    /// Connect timeout, ms.
    #[uniffi(default = None)]
    pub connect_timeout_ms: Option<u64>,
    /// Longest read silence, ms.
    #[uniffi(default = None)]
    pub read_timeout_ms: Option<u64>,
    /// Whole-request timeout for non-download calls, ms.
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<u64>,
    /// Client-side request rate per API account.
    #[uniffi(default = None)]
    pub rate_limit_per_second: Option<u32>,
    /// Site name for backup file names.
    #[uniffi(default = None)]
    pub site_name: Option<String>,
    /// Product: `rs` (default) or `pra`.
    #[uniffi(default = None)]
    pub product: Option<String>,
}

impl ClientConfig {
    fn to_config(&self, client_secret: &str) -> R<Config> {
        let ms = |v: Option<u64>| v.map(Duration::from_millis);
        let mut c = Config::new(&self.base_url);
        c.client_id = Some(self.client_id.clone());
        c.client_secret = Some(SecretString::from(client_secret));
        c.options = bt_dr_core::api::ClientOptions {
            extra_ca_pem: self.extra_ca_pem.as_ref().map(|p| p.as_bytes().to_vec()),
            only_extra_ca: Some(self.only_extra_ca),
            pin_sha256: self.pin_sha256.clone(),
            danger_accept_invalid_certs: Some(self.danger_accept_invalid_certs),
            danger_allow_http: Some(self.danger_allow_http),
            connect_timeout: ms(self.connect_timeout_ms),
            read_timeout: ms(self.read_timeout_ms),
            request_timeout: ms(self.request_timeout_ms),
            rate_limit_per_second: self.rate_limit_per_second,
            retry: None,
            site_name: self.site_name.clone(),
            product: mapping::parse_opt_product(self.product.as_deref())?,
        };
        Ok(c)
    }
}

/// `check_health` of one appliance.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Health {
    /// Appliance GUID.
    pub appliance_id: String,
    /// Appliance hostname.
    pub hostname: String,
    /// Version with build, e.g. `24.1.2 (37380-…)`.
    pub version: String,
    /// The appliance considers itself healthy.
    pub success: bool,
    /// The problem, when not healthy.
    pub error_message: Option<String>,
    /// `none`, `primary` or `backup`.
    pub failover_role: String,
    /// Shared IPs enabled on this appliance.
    pub enabled_shared_ips: Vec<String>,
    /// Last data sync, RFC 3339.
    pub last_data_sync_time: Option<String>,
    /// Status of the last data sync.
    pub last_data_sync_status: Option<String>,
}

impl Health {
    fn from_core(h: bt_dr_core::api::Health) -> Self {
        let sync = mapping::to_value(&h)
            .ok()
            .and_then(|v| v["last_data_sync_time"].as_str().map(str::to_string));
        Self {
            appliance_id: h.appliance_id,
            hostname: h.hostname,
            version: h.version.to_string(),
            success: h.success,
            error_message: h.error_message,
            failover_role: h.failover_role.as_str().to_string(),
            enabled_shared_ips: h.enabled_shared_ips,
            last_data_sync_time: sync,
            last_data_sync_status: h.last_data_sync_status,
        }
    }
}

/// Receives download progress: `done` bytes of `total` (when announced).
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    /// Called as bytes arrive; must return quickly.
    fn on_progress(&self, done: u64, total: Option<u64>);
}

/// A cancellation flag for downloads; cancel from any thread.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    inner: CoreCancelToken,
}

#[uniffi::export]
impl CancelToken {
    /// A new, not cancelled token.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Cancels: downloads using the token stop with `Cancelled` and leave no partial file.
    pub fn cancel(&self) {
        self.inner.cancel()
    }
    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

fn transfer(
    listener: Option<Arc<dyn ProgressListener>>,
    cancel: Option<Arc<CancelToken>>,
) -> Transfer {
    Transfer {
        progress: listener.map(|l| -> Progress {
            Arc::new(move |done: u64, total: Option<u64>| l.on_progress(done, total))
        }),
        cancel: cancel.map(|c| c.inner.clone()),
    }
}

/// A client for one appliance's web APIs. Calls block; call them off the UI thread.
#[derive(Debug, uniffi::Object)]
pub struct Client {
    inner: BlockingClient,
}

#[uniffi::export]
impl Client {
    /// Validates the settings and builds a client (nothing is sent yet).
    #[uniffi::constructor]
    pub fn new(config: ClientConfig, client_secret: String) -> R<Arc<Self>> {
        let inner = config.to_config(&client_secret)?.build()?;
        Ok(Arc::new(Self { inner }))
    }

    /// Authenticated `check_health`.
    pub fn check_health(&self) -> R<Health> {
        Ok(Health::from_core(self.inner.check_health()?))
    }

    /// Unauthenticated `/check_health` probe (JSON as `bt_dr_probe_health`).
    pub fn probe_health(&self) -> R<String> {
        Ok(mapping::to_json(&self.inner.probe_health()?)?)
    }

    /// `get_api_info` (JSON as `bt_dr_get_api_info`).
    pub fn get_api_info(&self) -> R<String> {
        Ok(mapping::to_json(&self.inner.get_api_info()?)?)
    }

    /// `get_appliances` (JSON as `bt_dr_get_appliances`).
    pub fn get_appliances(&self) -> R<String> {
        Ok(mapping::to_json(&self.inner.get_appliances()?)?)
    }

    /// `get_connected_client_list` (JSON as `bt_dr_get_connected_clients`).
    pub fn get_connected_clients(&self) -> R<String> {
        Ok(mapping::to_json(&self.inner.get_connected_clients()?)?)
    }

    /// `set_failover_role` (`role`: primary or backup); `{"message", "sync_started"}`.
    pub fn set_failover_role(&self, role: String, data_sync_first: bool, force: bool) -> R<String> {
        Ok(json(mapping::set_failover_role(
            &self.inner,
            &role,
            data_sync_first,
            force,
        )?))
    }

    /// Streams the site backup into `dir` (JSON as `bt_dr_download_backup`).
    pub fn download_backup(
        &self,
        dir: String,
        password: Option<String>,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> R<String> {
        let t = transfer(listener, cancel);
        Ok(json(mapping::download_backup(
            &self.inner,
            &dir,
            password.as_deref(),
            &t,
        )?))
    }

    /// Sessions in a time window (`window_json` and result as `bt_dr_list_sessions`).
    pub fn list_sessions(&self, window_json: String) -> R<String> {
        Ok(json(mapping::list_sessions(&self.inner, &window_json)?))
    }

    /// The session report of one session.
    pub fn get_session(&self, lsid: String) -> R<String> {
        Ok(mapping::to_json(&self.inner.get_session(&lsid)?)?)
    }

    /// Streams a session recording into `dir` (`{"path", "file_name", "size", "sha256"}`).
    pub fn download_recording(
        &self,
        lsid: String,
        dir: String,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> R<String> {
        let t = transfer(listener, cancel);
        Ok(json(mapping::download_recording(
            &self.inner,
            &lsid,
            &dir,
            &t,
        )?))
    }

    /// Saves one piece of Reporting API data (`kind` and `window_json` as for
    /// `bt_dr_download_report`) into `dir`; `{"path", "file_name", "size", "sha256"}`.
    pub fn download_report(
        &self,
        kind: String,
        window_json: String,
        dir: String,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> R<String> {
        let t = transfer(listener, cancel);
        Ok(mapping::to_json(&mapping::download_report(
            &self.inner,
            &kind,
            &window_json,
            &dir,
            &t,
        )?)?)
    }

    /// SHA-256 (hex) of the leaf certificate the appliance presented in the most recent TLS
    /// handshake; `None` before the first connection.
    pub fn served_leaf_sha256(&self) -> Option<String> {
        self.inner.client().served_leaf_sha256()
    }

    /// `ArchiveListing` for a day (`date` YYYY-MM-DD).
    pub fn list_archives(&self, date: String) -> R<String> {
        Ok(json(mapping::list_archives(&self.inner, &date)?))
    }

    /// Streams one archive (`kind` state or event) into `dir`.
    pub fn download_archive(
        &self,
        kind: String,
        date: String,
        index: u32,
        dir: String,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> R<String> {
        let t = transfer(listener, cancel);
        Ok(json(mapping::download_archive(
            &self.inner,
            &kind,
            &date,
            index,
            &dir,
            &t,
        )?))
    }
}

// ---------------------------------------------------------------------------------------------
// DR operations

fn table(upgrade_table_json: Option<String>) -> R<Option<bt_dr_core::UpgradeTable>> {
    Ok(upgrade_table_json
        .map(|t| bt_dr_core::UpgradeTable::from_json_str(&t))
        .transpose()?)
}

fn core_clients(clients: &[Arc<Client>]) -> Vec<bt_dr_core::api::Client> {
    clients.iter().map(|c| c.inner.client().clone()).collect()
}

/// Takes one backup set of `site` (options and result as `bt_dr_run_backup_set`);
/// `other_appliances`: clients of the site's other appliances (a pair's backup) to take an NSB
/// from too.
#[uniffi::export]
#[allow(clippy::too_many_arguments)]
pub fn run_backup_set(
    store_dir: String,
    inventory: Arc<Inventory>,
    site: String,
    client: Arc<Client>,
    other_appliances: Vec<Arc<Client>>,
    options_json: Option<String>,
    backup_password: Option<String>,
    certificate_passphrase: Option<String>,
    listener: Option<Arc<dyn ProgressListener>>,
    cancel: Option<Arc<CancelToken>>,
) -> R<String> {
    let site = mapping::site_of(&inventory.inner, &site)?;
    let t = transfer(listener, cancel);
    let opts = mapping::backup_set_options(
        options_json.as_deref(),
        backup_password.as_deref(),
        certificate_passphrase.as_deref(),
        &inventory.inner,
        core_clients(&other_appliances),
        &t,
    )?;
    Ok(json(mapping::run_backup_set(
        &store_dir,
        &site,
        &client.inner,
        &opts,
    )?))
}

/// The sites of a backup job.
#[derive(Debug, Default, uniffi::Object)]
pub struct BackupJob {
    entries: std::sync::Mutex<Vec<mapping::JobEntry>>,
}

#[uniffi::export]
impl BackupJob {
    /// An empty job.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Adds a site with its client, other appliances, options and secrets (as
    /// [`run_backup_set`]).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &self,
        inventory: Arc<Inventory>,
        site: String,
        client: Arc<Client>,
        other_appliances: Vec<Arc<Client>>,
        options_json: Option<String>,
        backup_password: Option<String>,
        certificate_passphrase: Option<String>,
    ) -> R<()> {
        let site = mapping::site_of(&inventory.inner, &site)?;
        let options = mapping::backup_set_options(
            options_json.as_deref(),
            backup_password.as_deref(),
            certificate_passphrase.as_deref(),
            &inventory.inner,
            core_clients(&other_appliances),
            &Transfer::default(),
        )?;
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mapping::JobEntry {
                site,
                client: client.inner.clone(),
                options,
            });
        Ok(())
    }
}

/// Takes backup sets of every site of `job`, at most `concurrency` at a time (`None`: the
/// core's default; result as `bt_dr_run_backup_job`).
#[uniffi::export]
pub fn run_backup_job(
    store_dir: String,
    job: Arc<BackupJob>,
    concurrency: Option<u32>,
    cancel: Option<Arc<CancelToken>>,
) -> R<String> {
    let entries = job
        .entries
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let cancel = cancel.map(|c| c.inner.clone());
    Ok(mapping::to_json(&mapping::run_backup_job(
        &store_dir,
        &entries,
        concurrency.map(|c| c as usize),
        cancel.as_ref(),
    )?)?)
}

/// Re-hashes a backup set against its manifest (JSON as `bt_dr_verify_backup_set`).
#[uniffi::export]
pub fn verify_backup_set(set_path: String) -> R<String> {
    Ok(json(mapping::verify_backup_set(&set_path)?.1))
}

/// The complete backup sets of a site, newest first.
#[uniffi::export]
pub fn list_backup_sets(store_dir: String, site: String) -> R<String> {
    Ok(json(mapping::list_backup_sets(&store_dir, &site)?))
}

/// Plans retention (dry run); the plan as JSON, to pass to [`apply_retention`].
#[uniffi::export]
pub fn plan_retention(store_dir: String, site: String, policy_json: String) -> R<String> {
    Ok(mapping::to_json(&mapping::plan_retention(
        &store_dir,
        &site,
        &policy_json,
    )?)?)
}

/// Removes what a plan marks; the removed set ids as JSON.
#[uniffi::export]
pub fn apply_retention(store_dir: String, plan_json: String) -> R<String> {
    let plan = mapping::retention_plan(&plan_json)?;
    Ok(mapping::to_json(&mapping::apply_retention(
        &store_dir, &plan,
    )?)?)
}

/// Live state of a site's appliances (`hostnames[i]` through `clients[i]`) as JSON, for
/// [`audit`].
#[uniffi::export]
pub fn collect_live(site: String, hostnames: Vec<String>, clients: Vec<Arc<Client>>) -> R<String> {
    if hostnames.len() != clients.len() {
        return Err(Error::invalid_input("clients", "one client per hostname").into());
    }
    let pairs: Vec<_> = hostnames
        .into_iter()
        .zip(clients.iter().map(|c| c.inner.clone()))
        .collect();
    Ok(mapping::to_json(&mapping::collect_live(&site, &pairs))?)
}

/// The readiness audit (JSON as `bt_dr_audit_report_to_json`); `live_json` holds
/// [`collect_live`] results.
#[uniffi::export]
pub fn audit(
    inventory: Arc<Inventory>,
    store_dir: Option<String>,
    live_json: Vec<String>,
    upgrade_table_json: Option<String>,
    options_json: Option<String>,
) -> R<String> {
    let live = live_json
        .iter()
        .map(|l| {
            bt_dr_core::document::parse_document(
                l,
                bt_dr_core::document::Format::Json,
                "live state",
                None,
            )
        })
        .collect::<bt_dr_core::Result<Vec<bt_dr_core::SiteLive>>>()?;
    let table = table(upgrade_table_json)?;
    let report = mapping::audit(
        &inventory.inner,
        store_dir.as_deref(),
        &live,
        table.as_ref(),
        options_json.as_deref(),
    )?;
    Ok(json(mapping::audit_report_value(&report)?))
}

/// Checks a site's Atlas cluster after a change (`hostnames[i]` through `clients[i]`;
/// `options_json` and result as `bt_dr_check_atlas_cluster`).
#[uniffi::export]
pub fn check_atlas_cluster(
    inventory: Arc<Inventory>,
    site: String,
    hostnames: Vec<String>,
    clients: Vec<Arc<Client>>,
    options_json: Option<String>,
) -> R<String> {
    if hostnames.len() != clients.len() {
        return Err(Error::invalid_input("clients", "one client per hostname").into());
    }
    let site = mapping::site_of(&inventory.inner, &site)?;
    let pairs: Vec<_> = hostnames
        .into_iter()
        .zip(clients.iter().map(|c| c.inner.clone()))
        .collect();
    Ok(mapping::to_json(&mapping::check_atlas_cluster(
        &site,
        &pairs,
        options_json.as_deref(),
    )?)?)
}

/// The recovery runbook of a site, in Markdown.
#[uniffi::export]
pub fn render_runbook(
    inventory: Arc<Inventory>,
    site: String,
    store_dir: Option<String>,
    upgrade_table_json: Option<String>,
) -> R<String> {
    let site = mapping::site_of(&inventory.inner, &site)?;
    let table = table(upgrade_table_json)?;
    Ok(mapping::render_runbook(
        &site,
        store_dir.as_deref(),
        table.as_ref(),
    )?)
}

/// Plans a failover (`mode`: planned or unplanned) without side effects; the plan as JSON.
/// `options_json`: None or the options of [`execute_failover`] (planning uses
/// `force_unknown`, `force_certificate_mismatch`, `redirect` and `site_url`).
#[uniffi::export]
#[allow(clippy::too_many_arguments)]
pub fn plan_failover(
    inventory: Arc<Inventory>,
    site: String,
    first_hostname: String,
    first: Arc<Client>,
    second_hostname: String,
    second: Arc<Client>,
    mode: String,
    options_json: Option<String>,
) -> R<String> {
    let site = mapping::site_of(&inventory.inner, &site)?;
    let opts = mapping::failover_options(options_json.as_deref())?;
    Ok(mapping::to_json(&mapping::plan_failover(
        &site,
        (&first_hostname, &first.inner),
        (&second_hostname, &second.inner),
        &mode,
        &opts,
    )?)?)
}

/// Executes a plan (the JSON of [`plan_failover`]); the timeline as JSON. `options_json`: None
/// or the options of `bt_dr_execute_failover_with` (`settle_timeout_ms`, `poll_interval_ms`,
/// `redirect_verify_timeout_ms`, `confirm_timeout_ms`, `force_unknown`, `demote_old_primary`,
/// `force_certificate_mismatch`, `site_url`, `redirect: {"command": [argv], "timeout_ms"}`),
/// parsed by the core. `force_unknown` is needed again here (execution plans afresh);
/// `demote_old_primary` lets the settle loop demote an old primary that still claims primary
/// (off: nothing is demoted, the outcome is then split brain).
#[uniffi::export]
#[allow(clippy::too_many_arguments)]
pub fn execute_failover(
    inventory: Arc<Inventory>,
    site: String,
    first_hostname: String,
    first: Arc<Client>,
    second_hostname: String,
    second: Arc<Client>,
    plan_json: String,
    options_json: Option<String>,
) -> R<String> {
    let site = mapping::site_of(&inventory.inner, &site)?;
    let plan = mapping::failover_plan(&plan_json)?;
    let opts = mapping::failover_options(options_json.as_deref())?;
    Ok(mapping::to_json(&mapping::execute_failover(
        &site,
        (&first_hostname, &first.inner),
        (&second_hostname, &second.inner),
        &plan,
        &opts,
    )?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_variant() {
        for k in ErrorKind::ALL {
            let e: BtDrError = Error::invalid_input("f", "r").into();
            assert!(matches!(e, BtDrError::InvalidInput { .. }));
            let name = format!("{:?}", BtDrError::from(kind_error(k)));
            let camel: String = k
                .as_str()
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            assert!(name.starts_with(&camel), "{k:?} maps to {name}");
        }
    }

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bt-dr-core/tests/fixtures/p12"
    );

    #[test]
    fn offline_exports_map_onto_the_core() {
        let ops = operations_json().unwrap();
        for op in bt_dr_core::OPERATIONS {
            assert!(ops.contains(&format!("\"name\":\"{}\"", op.name)));
        }
        assert!(
            parse_version("24.1.2".into())
                .unwrap()
                .contains("\"release\":\"24.1.2\"")
        );
        let name = format_backup_name(
            "24.1.2".into(),
            "support".into(),
            "2026-11-20".into(),
            None,
            "5f3a9c01".into(),
        )
        .unwrap();
        assert!(
            parse_backup_name(name)
                .unwrap()
                .contains("\"date\":\"2026-11-20\"")
        );
        let table = r#"{"releases":[{"version":"24.1","supported_upgrades_from":["23.2"]}]}"#;
        let verdict = check_restore(
            "23.2.1".into(),
            "24.1.0".into(),
            Some(table.into()),
            None,
            None,
        )
        .unwrap();
        assert!(verdict.contains("\"compatibility\":\"supported\""));
        let inv = parse_inventory(
            "[[sites]]\nname = \"s\"\nfqdn = \"s.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
                .into(),
            Some("toml".into()),
        )
        .unwrap();
        assert_eq!(inv.site_names(), ["s"]);
        assert!(
            render_runbook(inv.clone(), "s".into(), None, None)
                .unwrap()
                .contains("s.example.com")
        );
        assert!(matches!(
            render_runbook(inv, "t".into(), None, None),
            Err(BtDrError::NotFound { .. })
        ));
        let pair = parse_inventory(
            "[[sites]]\nname = \"p\"\nfqdn = \"p.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n\
             appliances = [{ hostname = \"a.example.com\", kind = \"b300\" }, { hostname = \"b.example.com\", kind = \"b300\" }]\n\
             failover = { primary = \"a.example.com\", backup = \"b.example.com\", routing = \"dns-swing\" }\n"
                .into(),
            // Not given: the core's default format (TOML).
            None,
        )
        .unwrap();
        let onto =
            check_restore_onto(pair.clone(), "p".into(), "24.1.2".into(), None, None).unwrap();
        assert!(
            onto.contains("\"steps\":[\"Break failover between a.example.com and b.example.com")
        );
        assert!(matches!(
            check_restore_onto(pair, "p".into(), "24.1.2".into(), Some("xx".into()), None),
            Err(BtDrError::InvalidInput { .. })
        ));
    }

    #[test]
    fn bundles_and_wrong_passphrases() {
        let path = format!("{FIXTURES}/default_chain.p12");
        let r = check_certificate_bundle_file(path.clone(), "fixture-pass".into(), None).unwrap();
        assert!(r.to_json().unwrap().contains("\"has_private_key\":true"));
        let same =
            check_certificate_bundle(std::fs::read(&path).unwrap(), "fixture-pass".into(), None)
                .unwrap();
        assert!(
            check_certificate_pair(r, same)
                .unwrap()
                .contains("\"identical\":true")
        );
        match check_certificate_bundle_file(path, "nope-secret".into(), None) {
            Err(BtDrError::WrongPassphrase {
                error_message,
                details_json,
            }) => {
                assert!(details_json.contains("\"kind\":\"wrong_passphrase\""));
                assert!(
                    !error_message.contains("nope-secret") && !details_json.contains("nope-secret")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clients_validate_their_settings() {
        let cfg = ClientConfig {
            base_url: "http://127.0.0.1:1".into(),
            client_id: "id".into(),
            extra_ca_pem: None,
            only_extra_ca: false,
            pin_sha256: None,
            danger_accept_invalid_certs: false,
            danger_allow_http: false,
            connect_timeout_ms: None,
            read_timeout_ms: None,
            request_timeout_ms: None,
            rate_limit_per_second: None,
            site_name: None,
            product: Some("pra".into()),
        };
        assert!(matches!(
            Client::new(cfg.clone(), "secret".into()),
            Err(BtDrError::Tls { .. })
        ));
        let bad = ClientConfig {
            product: Some("xyz".into()),
            ..cfg
        };
        assert!(matches!(
            Client::new(bad, "secret".into()),
            Err(BtDrError::InvalidInput { .. })
        ));
    }

    fn kind_error(k: ErrorKind) -> Error {
        let s = String::new;
        match k {
            ErrorKind::InvalidInput => Error::invalid_input("f", "r"),
            ErrorKind::Parse => Error::parse("w", "r"),
            ErrorKind::Io => Error::io("reading", "/x", std::io::Error::other("e")),
            ErrorKind::Certificate => Error::Certificate { reason: s() },
            ErrorKind::WrongPassphrase => Error::WrongPassphrase { what: s() },
            ErrorKind::VersionIncompatible => Error::VersionIncompatible {
                backup: s(),
                site: s(),
                reason: s(),
            },
            ErrorKind::Integrity => Error::Integrity {
                subject: s(),
                reason: s(),
            },
            ErrorKind::Auth => Error::Auth { reason: s() },
            ErrorKind::PermissionDenied => Error::PermissionDenied {
                operation: s(),
                permission: s(),
            },
            ErrorKind::RateLimited => Error::RateLimited { retry_after: None },
            ErrorKind::Api => Error::Api {
                status: None,
                message: s(),
            },
            ErrorKind::Tls => Error::Tls { reason: s() },
            ErrorKind::Network => Error::Network { reason: s() },
            ErrorKind::Timeout => Error::Timeout { operation: s() },
            ErrorKind::Cancelled => Error::Cancelled { operation: s() },
            ErrorKind::Refused => Error::Refused { reason: s() },
            ErrorKind::NotFound => Error::NotFound { what: s() },
            _ => Error::Internal { reason: s() },
        }
    }
}
