//! `bt-dr-sim`: a local stand-in for a BeyondTrust Remote Support (RS) or Privileged Remote Access (PRA)
//! B Series Appliance, alone, as a failover pair, or as an Atlas cluster (a pair of primary nodes
//! and traffic nodes, each its own appliance URL).
//!
//! It serves the parts of the appliance web APIs that disaster-recovery automation touches (OAuth2 token,
//! `/api/command`, `/api/backup`, `/api/reporting`, the unauthenticated `/check_health` probe) over real TLS
//! with a freshly generated private CA, and lets tests inject faults at the wire level (resets, truncated
//! bodies, HTML login pages, rate limiting, ...). See `README.md` next to `Cargo.toml` for the XML shapes.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = bt_dr_sim::Sim::start_pair(bt_dr_sim::SimConfig::default()).await?;
//! println!("primary at {}, trust {}", sim.primary().url(), sim.ca_pem_path().display());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod backup;
mod command;
pub mod control;
mod reporting;
mod server;
mod site_address;
mod state;
mod tls;
mod xml;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use backup::{expected_backup_sha256_hex, expected_recording_sha256_hex};

use state::{ApplianceState, FaultSlot, SiteState, lock};

/// Which product the simulated site runs; it changes report names and a few XML details.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Product {
    /// Remote Support (report names `SupportSession*`, has `company_name` and archive reports).
    Rs,
    /// Privileged Remote Access (report names `AccessSession*`).
    Pra,
}

impl Product {
    /// Short lowercase name, `rs` or `pra`.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Rs => "rs",
            Product::Pra => "pra",
        }
    }
}

/// The XML namespace family the appliance declares; older releases used the bomgar.com URIs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum XmlNamespace {
    /// `http://www.bomgar.com/namespaces/API/command` (and `.../reporting`).
    Bomgar,
    /// `https://www.beyondtrust.com/namespaces/API/command` (and `.../reporting`).
    BeyondTrust,
}

impl XmlNamespace {
    /// Default namespace of command API responses.
    pub fn command_uri(self) -> &'static str {
        match self {
            XmlNamespace::Bomgar => "http://www.bomgar.com/namespaces/API/command",
            XmlNamespace::BeyondTrust => "https://www.beyondtrust.com/namespaces/API/command",
        }
    }

    /// Default namespace of reporting API responses.
    pub fn reporting_uri(self) -> &'static str {
        match self {
            XmlNamespace::Bomgar => "http://www.bomgar.com/namespaces/API/reporting",
            XmlNamespace::BeyondTrust => "https://www.beyondtrust.com/namespaces/API/reporting",
        }
    }
}

/// Command API access level of an API account.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PermCommand {
    /// No command API access at all.
    Deny,
    /// Read commands only (`check_health`, `get_api_info`, ...).
    ReadOnly,
    /// Everything, including `set_failover_role`.
    FullAccess,
}

impl PermCommand {
    /// The wire spelling used in `get_api_info`.
    pub fn as_str(self) -> &'static str {
        match self {
            PermCommand::Deny => "deny",
            PermCommand::ReadOnly => "read_only",
            PermCommand::FullAccess => "full_access",
        }
    }
}

/// One API account (OAuth client) known to the simulated site, with the permissions that matter for DR.
#[derive(Clone, Debug)]
pub struct Account {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Command API level.
    pub perm_command: PermCommand,
    /// Backup API (`/api/backup`).
    pub perm_backup: bool,
    /// Session reports and recordings.
    pub perm_reporting_support: bool,
    /// Presentation listings and recordings (RS).
    pub perm_reporting_presentation: bool,
    /// `ArchiveListing` / `Archive` reports (RS).
    pub perm_reporting_archive: bool,
    /// Vault encryption key access (reported only; no endpoint is simulated).
    pub perm_vault_backup: bool,
    /// Configuration API (reported only).
    pub perm_configuration: bool,
}

impl Account {
    /// An account allowed to do everything the simulator serves.
    pub fn full_access(client_id: &str, client_secret: &str) -> Self {
        Account {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            perm_command: PermCommand::FullAccess,
            perm_backup: true,
            perm_reporting_support: true,
            perm_reporting_presentation: true,
            perm_reporting_archive: true,
            perm_vault_backup: true,
            perm_configuration: true,
        }
    }

    /// A monitoring-style account: read-only command access, no backup and no reporting.
    pub fn read_only(client_id: &str, client_secret: &str) -> Self {
        Account {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            perm_command: PermCommand::ReadOnly,
            perm_backup: false,
            perm_reporting_support: false,
            perm_reporting_presentation: false,
            perm_reporting_archive: false,
            perm_vault_backup: false,
            perm_configuration: false,
        }
    }
}

/// Everything that shapes a simulated site. `Default` gives a healthy RS 24.1.2 site.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Product flavour.
    pub product: Product,
    /// Product version, e.g. `24.1.2`.
    pub version: String,
    /// Build string; `check_health` reports `"{version} ({build})"`.
    pub build: String,
    /// `get_api_info` API version.
    pub api_version: String,
    /// Public site hostname (in the certificate, backup name and `company_name`).
    pub site_hostname: String,
    /// Hostnames of appliance 0 (started as primary) and appliance 1 (started as backup).
    pub appliance_hostnames: [String; 2],
    /// Namespace family of XML responses.
    pub namespace: XmlNamespace,
    /// API accounts.
    pub accounts: Vec<Account>,
    /// Size of the `/api/backup` body in bytes; it is generated on the fly, never held in memory.
    pub backup_size: u64,
    /// When set, `/api/backup` needs the JSON body `{"password": "..."}` with this value.
    pub backup_password: Option<String>,
    /// Send `Content-Disposition: attachment; filename="..."` on backups.
    pub content_disposition: bool,
    /// Backup file name template: `{version}`, `{site}` (first label of the site hostname), `{date}`
    /// (UTC `YYYYMMDD`), `{id}` (8 hex chars unique per download), `{product}` (`rs`/`pra`).
    pub backup_name_template: String,
    /// Token bucket rate per account (burst equals the rate); 0 disables the check.
    pub rate_limit_per_second: u32,
    /// Rolling one-hour cap per account; 0 disables the check.
    pub rate_limit_per_hour: u32,
    /// HTTP status for rate-limited requests.
    pub rate_limit_status: u16,
    /// Send `Retry-After: 1` with rate-limited responses.
    pub send_retry_after: bool,
    /// `expires_in` of issued tokens, enforced.
    pub token_lifetime_secs: u64,
    /// HTTP status of the `access_denied` answer to a missing, invalid, expired or evicted token.
    pub invalid_token_status: u16,
    /// Number of synthetic sessions (with recordings) spread over the last 24 hours.
    pub sessions: u32,
    /// Size of every session recording in bytes.
    pub recording_size: u64,
    /// How long the pre-swap data sync of `set_failover_role&data_sync_first=1` takes.
    pub data_sync_duration: Duration,
    /// Shared IPs reported by `check_health` in `<enabled_shared_ips>`.
    pub shared_ips: Vec<String>,
    /// Added before every request is handled (for benchmarks over many appliances).
    pub latency: Duration,
    /// Give the backup (appliance 1) its own leaf certificate (same CA and names, another key)
    /// instead of the primary's, as when a renewed certificate was imported on one appliance
    /// only. Off by default: failover appliances carry identical certificates.
    pub distinct_certificates: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            product: Product::Rs,
            version: "24.1.2".to_string(),
            build: "37380-5f3c2a9e0b7d41c6a8e2f09d13b4c5a6e7f80912".to_string(),
            api_version: "1.24.0".to_string(),
            site_hostname: "support.example.com".to_string(),
            appliance_hostnames: [
                "bt-a.example.com".to_string(),
                "bt-b.example.com".to_string(),
            ],
            namespace: XmlNamespace::BeyondTrust,
            accounts: vec![Account::full_access(
                "bt-dr-sim-client",
                "sim-secret-0123456789",
            )],
            backup_size: 1024 * 1024,
            backup_password: None,
            content_disposition: true,
            backup_name_template: "bomgar-{version}-{site}-{date}-{id}.nsb".to_string(),
            rate_limit_per_second: 20,
            rate_limit_per_hour: 15000,
            rate_limit_status: 429,
            send_retry_after: true,
            token_lifetime_secs: 3600,
            invalid_token_status: 401,
            sessions: 3,
            recording_size: 64 * 1024,
            data_sync_duration: Duration::from_millis(300),
            shared_ips: Vec::new(),
            latency: Duration::ZERO,
            distinct_certificates: false,
        }
    }
}

/// Failover role as `check_health` reports it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FailoverRole {
    /// No failover relationship (single appliance).
    None,
    /// Serves the site.
    Primary,
    /// Pulls data from the primary.
    Backup,
}

impl FailoverRole {
    /// Wire spelling: `none`, `primary`, `backup`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverRole::None => "none",
            FailoverRole::Primary => "primary",
            FailoverRole::Backup => "backup",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<FailoverRole> {
        match s {
            "none" => Some(FailoverRole::None),
            "primary" => Some(FailoverRole::Primary),
            "backup" => Some(FailoverRole::Backup),
            _ => None,
        }
    }
}

/// Atlas role as `get_appliances` reports it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClusterRole {
    /// Not clustered.
    Single,
    /// A primary node of an Atlas cluster (one of the failover pair).
    Primary,
    /// A traffic node of an Atlas cluster.
    Traffic,
}

impl ClusterRole {
    /// Wire spelling: `single`, `primary`, `traffic`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterRole::Single => "single",
            ClusterRole::Primary => "primary",
            ClusterRole::Traffic => "traffic",
        }
    }
}

/// Which kind of request a fault applies to or a counter counts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /oauth2/token`.
    Token,
    /// `/api/backup`.
    Backup,
    /// `/api/command`.
    Command,
    /// `/api/reporting`.
    Reporting,
    /// Unauthenticated `/check_health`.
    Probe,
    /// Every request, whatever its path.
    Any,
}

impl Endpoint {
    pub(crate) const ALL: [Endpoint; 6] = [
        Endpoint::Token,
        Endpoint::Backup,
        Endpoint::Command,
        Endpoint::Reporting,
        Endpoint::Probe,
        Endpoint::Any,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            Endpoint::Token => 0,
            Endpoint::Backup => 1,
            Endpoint::Command => 2,
            Endpoint::Reporting => 3,
            Endpoint::Probe => 4,
            Endpoint::Any => 5,
        }
    }

    /// snake_case name used by the control server.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Backup => "backup",
            Endpoint::Command => "command",
            Endpoint::Reporting => "reporting",
            Endpoint::Probe => "probe",
            Endpoint::Any => "any",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A wire-level misbehaviour to inject on the next matching request(s).
///
/// Several faults may be armed at once; timing faults (`Delay`, `SlowBody`, `TruncateAt`),
/// `ExpireTokens`, `WrongContentType`, `TraversalFilename`, `Header` and `Filename` combine with the
/// others, while the response-replacing faults (`ServerError`, `RateLimited`, `HtmlPage`,
/// `XmlError`, `MalformedXml`, `Answer`, `RejectTokens`, `EchoHeaders`) use the first armed one.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Wait this long before sending the response headers.
    Delay(Duration),
    /// Send the body at about this many bytes per second.
    SlowBody {
        /// Throughput cap.
        bytes_per_sec: u64,
    },
    /// Send headers with the full `Content-Length`, then close after this many body bytes.
    TruncateAt(u64),
    /// Close the TCP connection (with RST) without any response.
    ResetConnection,
    /// Answer with this HTTP status and a small HTML body, like a failing reverse proxy.
    ServerError(u16),
    /// Answer with the configured rate-limit status and `X-RateLimit-Remaining: 0`.
    RateLimited {
        /// Value of `Retry-After`, omitted when `None`.
        retry_after_secs: Option<u64>,
    },
    /// Invalidate every token issued so far, then handle the request normally.
    ExpireTokens,
    /// HTTP 200 with an HTML login page, as a captive portal or misrouted proxy would send.
    HtmlPage,
    /// HTTP 200, `text/xml`, `<error>` with this message.
    XmlError(String),
    /// HTTP 200, `text/xml`, a truncated document.
    MalformedXml,
    /// Correct body, but `application/json` for XML answers and `text/plain` for the others.
    WrongContentType,
    /// `Content-Disposition` naming `../../etc/evil.nsb`.
    TraversalFilename,
    /// Replaces the answer entirely: this HTTP status, this `Content-Type` (none when empty) and
    /// exactly these body bytes — a JSON error with 200, an HTML page after a byte-order mark,
    /// `text/plain`, an empty body, UTF-16, anything.
    Answer {
        /// HTTP status (an invalid one becomes 500).
        status: u16,
        /// `Content-Type` value; empty sends none.
        content_type: String,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Sets this response header on the answer, replacing one of the same name (combines with
    /// every other fault): `Retry-After: 1e20`, `X-RateLimit-Remaining: -5`,
    /// `Content-Disposition: attachment; filename="manifest.json"`, … `Content-Length`,
    /// `Transfer-Encoding` and `Connection` are framing and are left alone.
    Header {
        /// Header name.
        name: String,
        /// Value (bytes outside visible ASCII are sent as they are; control characters make the
        /// header be skipped).
        value: String,
    },
    /// Invalidates every token issued so far and answers this request with this status and
    /// `{"error":"access_denied", ...}` (`application/json`), as some proxies and versions do with
    /// 403 for an expired token. With `times: Some(1)` a client that renews its token once
    /// succeeds; armed until cleared, it never does.
    RejectTokens {
        /// HTTP status, e.g. 403 or 401.
        status: u16,
    },
    /// An error answer with this status whose `text/plain` body echoes the request line, every
    /// request header (`Authorization` included) and the request body (the backup password of
    /// `POST /api/backup`, the client secret of a token request) — a debugging proxy that leaks
    /// credentials.
    EchoHeaders {
        /// HTTP status, e.g. 502.
        status: u16,
    },
    /// `Content-Disposition: attachment; filename="<name>"` on the answer (combines; the name
    /// is sent as given, quotes included).
    Filename(String),
}

impl Fault {
    /// snake_case name used by the control server.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Delay(_) => "delay",
            Fault::SlowBody { .. } => "slow_body",
            Fault::TruncateAt(_) => "truncate_at",
            Fault::ResetConnection => "reset_connection",
            Fault::ServerError(_) => "server_error",
            Fault::RateLimited { .. } => "rate_limited",
            Fault::ExpireTokens => "expire_tokens",
            Fault::HtmlPage => "html_page",
            Fault::XmlError(_) => "xml_error",
            Fault::MalformedXml => "malformed_xml",
            Fault::WrongContentType => "wrong_content_type",
            Fault::TraversalFilename => "traversal_filename",
            Fault::Answer { .. } => "answer",
            Fault::Header { .. } => "header",
            Fault::RejectTokens { .. } => "reject_tokens",
            Fault::EchoHeaders { .. } => "echo_headers",
            Fault::Filename(_) => "filename",
        }
    }
}

/// A running simulated site: one appliance, or a failover pair sharing tokens, rate limits,
/// failover state and one certificate.
#[derive(Debug)]
pub struct Sim {
    site: Arc<SiteState>,
    appliances: Vec<SimAppliance>,
    ca_pem: String,
    ca_pem_path: PathBuf,
    leaf_sha256: String,
    site_address: Arc<site_address::SiteAddress>,
    _dir: tempfile::TempDir,
    shutdown_tx: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sim {
    /// Starts one appliance with failover role `none`.
    pub async fn start_single(cfg: SimConfig) -> std::io::Result<Sim> {
        Sim::start(cfg, false).await
    }

    /// Starts a failover pair: appliance 0 primary, appliance 1 backup, last data sync 60 s ago.
    pub async fn start_pair(cfg: SimConfig) -> std::io::Result<Sim> {
        Sim::start(cfg, true).await
    }

    /// Starts an Atlas cluster: a failover pair of primary nodes (appliance 0 primary, 1
    /// backup) and one traffic node per hostname in `traffic_nodes` (appliances 2, 3, …), each
    /// on its own port. `get_appliances` lists the primaries with cluster role `primary` and
    /// the nodes with `traffic`; each node answers `check_health` (with its last sync) and the
    /// connected-client listings for itself.
    pub async fn start_atlas(cfg: SimConfig, traffic_nodes: &[&str]) -> std::io::Result<Sim> {
        let nodes: Vec<String> = traffic_nodes.iter().map(|h| h.to_string()).collect();
        Sim::start_with(cfg, true, &nodes).await
    }

    async fn start(cfg: SimConfig, pair: bool) -> std::io::Result<Sim> {
        Sim::start_with(cfg, pair, &[]).await
    }

    async fn start_with(cfg: SimConfig, pair: bool, traffic: &[String]) -> std::io::Result<Sim> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let certs = tls::generate(&cfg).map_err(std::io::Error::other)?;
        let dir = tempfile::Builder::new().prefix("bt-dr-sim-").tempdir()?;
        let ca_pem_path = dir.path().join("ca.pem");
        std::fs::write(&ca_pem_path, certs.ca_pem.as_bytes())?;

        let members = if pair { 2 } else { 1 };
        let count = members + traffic.len();
        let mut listeners = Vec::with_capacity(count);
        let mut states = Vec::with_capacity(count);
        for index in 0..count {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            let (hostname, role) = match index.checked_sub(members) {
                None if traffic.is_empty() => {
                    (cfg.appliance_hostnames[index].clone(), ClusterRole::Single)
                }
                None => (cfg.appliance_hostnames[index].clone(), ClusterRole::Primary),
                Some(t) => (traffic[t].clone(), ClusterRole::Traffic),
            };
            states.push(Arc::new(
                ApplianceState::new(hostname, port).with_cluster_role(role),
            ));
            listeners.push(listener);
        }
        let site = Arc::new(SiteState::new(cfg, pair, states));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::with_capacity(count);
        let mut leaves = Vec::with_capacity(count);
        for (index, listener) in listeners.into_iter().enumerate() {
            let acceptor = tls::acceptor(&certs, index).map_err(std::io::Error::other)?;
            leaves.push(certs.leaf(index).sha256_hex.clone());
            tasks.push(tokio::spawn(server::accept_loop(
                listener,
                site.clone(),
                index,
                acceptor,
                shutdown_rx.clone(),
            )));
        }
        let site_listener = TcpListener::bind("127.0.0.1:0").await?;
        let site_address = Arc::new(site_address::SiteAddress::new(
            site_listener.local_addr()?.port(),
            site.appliances.iter().map(|a| a.port).collect(),
        ));
        tasks.push(tokio::spawn(site_address::forward_loop(
            site_listener,
            site_address.clone(),
            shutdown_rx.clone(),
        )));
        let appliances = leaves
            .into_iter()
            .enumerate()
            .map(|(index, leaf_sha256)| SimAppliance {
                site: site.clone(),
                index,
                leaf_sha256: leaf_sha256.into(),
                site_address: site_address.clone(),
            })
            .collect();
        Ok(Sim {
            site,
            appliances,
            leaf_sha256: certs.leaf(0).sha256_hex.clone(),
            ca_pem: certs.ca_pem,
            ca_pem_path,
            site_address,
            _dir: dir,
            shutdown_tx,
            tasks,
        })
    }

    /// The appliance started as primary (index 0), whatever its role is now.
    pub fn primary(&self) -> &SimAppliance {
        &self.appliances[0]
    }

    /// The appliance started as backup, in pair mode.
    pub fn backup(&self) -> Option<&SimAppliance> {
        self.appliances.get(1)
    }

    /// All appliances, in start order.
    pub fn appliances(&self) -> &[SimAppliance] {
        &self.appliances
    }

    /// The traffic nodes of an Atlas cluster (empty otherwise).
    pub fn traffic_nodes(&self) -> &[SimAppliance] {
        let first = self
            .appliances
            .iter()
            .position(|a| a.cluster_role() == ClusterRole::Traffic)
            .unwrap_or(self.appliances.len());
        &self.appliances[first..]
    }

    /// PEM of the generated root CA that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA PEM as a file (for subprocess clients); removed when the `Sim` is dropped.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_pem_path
    }

    /// SHA-256 of the server leaf certificate DER, lowercase hex, for pinning tests (the
    /// primary's; see [`SimAppliance::leaf_cert_sha256_hex`] with distinct certificates).
    pub fn leaf_cert_sha256_hex(&self) -> String {
        self.leaf_sha256.clone()
    }

    /// The site's own address, `https://127.0.0.1:<port>`: it stands for the FQDN clients use
    /// and reaches whichever appliance it points at (appliance 0 at start), like a DNS record
    /// or NAT rule. Only new connections follow a swing.
    pub fn site_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.site_address.port)
    }

    /// Swings the site address to appliance `index` (a DNS or NAT swing). Returns false, and
    /// changes nothing, for an index that does not exist.
    pub fn point_site_at(&self, index: usize) -> bool {
        self.site_address.point_at(index)
    }

    /// The appliance the site address points at.
    pub fn site_target(&self) -> usize {
        self.site_address.target()
    }

    /// The configuration the site was started with (later secret changes are not reflected).
    pub fn config(&self) -> &SimConfig {
        &self.site.cfg
    }

    /// How many tokens were issued to this account so far.
    pub fn tokens_issued(&self, client_id: &str) -> u64 {
        lock(&self.site.auth).issued(client_id)
    }

    /// The tokens the account currently holds (for tests proving tokens never leak).
    pub fn live_tokens(&self, client_id: &str) -> Vec<String> {
        lock(&self.site.auth).tokens(client_id)
    }

    /// Replaces the account secret and revokes every token of the account, as the appliance does.
    pub fn regenerate_secret(&self, client_id: &str, new_secret: &str) {
        lock(&self.site.auth).regenerate(client_id, new_secret);
    }

    /// Stops accepting connections and waits for the listeners to close.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A cheap handle on one simulated appliance, for inspection and fault injection.
#[derive(Clone)]
pub struct SimAppliance {
    site: Arc<SiteState>,
    index: usize,
    leaf_sha256: Arc<str>,
    site_address: Arc<site_address::SiteAddress>,
}

impl std::fmt::Debug for SimAppliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let app = self.state();
        f.debug_struct("SimAppliance")
            .field("index", &self.index)
            .field("hostname", &app.hostname)
            .field("port", &app.port)
            .field("id", &app.id)
            .finish()
    }
}

impl SimAppliance {
    fn state(&self) -> &ApplianceState {
        &self.site.appliances[self.index]
    }

    /// Position in [`Sim::appliances`] (0 = started as primary).
    pub fn index(&self) -> usize {
        self.index
    }

    /// SHA-256 (lowercase hex) of the DER of the leaf certificate this appliance serves.
    pub fn leaf_cert_sha256_hex(&self) -> String {
        self.leaf_sha256.to_string()
    }

    /// Points the site address ([`Sim::site_url`]) at this appliance, as a DNS or NAT swing
    /// to it would.
    pub fn take_site_address(&self) {
        self.site_address.point_at(self.index);
    }

    /// Whether the site address points at this appliance now.
    pub fn has_site_address(&self) -> bool {
        self.site_address.target() == self.index
    }

    /// Base URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.state().port)
    }

    /// Loopback port.
    pub fn port(&self) -> u16 {
        self.state().port
    }

    /// Appliance hostname as `check_health` reports it.
    pub fn hostname(&self) -> &str {
        &self.state().hostname
    }

    /// Appliance GUID, 32 lowercase hex chars, stable for the run.
    pub fn id(&self) -> &str {
        &self.state().id
    }

    /// Adds `n` sessions held just now to the site (both appliances of a pair serve the same
    /// sessions), so incremental reporting runs have something new to take.
    pub fn add_sessions(&self, n: u32) {
        self.site.add_sessions(n);
    }

    /// Atlas role (fixed at start).
    pub fn cluster_role(&self) -> ClusterRole {
        self.state().cluster_role
    }

    /// The connected-client counts the next listings serve, one per `get_connected_client_list`
    /// or `get_connected_clients` call, the last one for every call after (so a test can make
    /// a node's clients rise, hold or fall between two samples). Every other client is a
    /// representative console. Empty restores the default handful.
    pub fn set_connected_clients(&self, counts: &[u32]) {
        *lock(&self.state().client_counts) = counts.iter().copied().collect();
    }

    /// Whether `get_appliances` lists this appliance (false: it left the cluster).
    pub fn set_cluster_member(&self, member: bool) {
        self.state().cluster_member.store(member, Ordering::SeqCst);
    }

    /// Whether `get_appliances` reports `accepting_connections` 1 for it.
    pub fn set_accepting_connections(&self, accepting: bool) {
        self.state().accepting.store(accepting, Ordering::SeqCst);
    }

    /// The release this appliance reports in `check_health` instead of the site's (None:
    /// the site's), as a traffic node that has not synced the site's software would.
    pub fn set_version(&self, version: Option<&str>) {
        *lock(&self.state().version) = version.map(str::to_string);
    }

    /// Whether it is listed and accepting connections, as `get_appliances` reports it.
    pub fn cluster_membership(&self) -> (bool, bool) {
        let s = self.state();
        (
            s.cluster_member.load(Ordering::SeqCst),
            s.accepting.load(Ordering::SeqCst),
        )
    }

    /// Takes the appliance off the network: new connections are dropped at once and its peer
    /// treats it as unreachable.
    pub fn set_down(&self, down: bool) {
        self.state().down.store(down, Ordering::SeqCst);
    }

    /// Whether [`SimAppliance::set_down`] is in effect.
    pub fn is_down(&self) -> bool {
        self.state().down.load(Ordering::SeqCst)
    }

    /// The role this appliance reports now.
    pub fn failover_role(&self) -> FailoverRole {
        self.site.role_of(self.index)
    }

    /// Forces a role without touching the peer (test setup, e.g. to create split brain); cancels
    /// a data sync in progress.
    pub fn set_failover_role(&self, role: FailoverRole) {
        let mut fo = lock(&self.site.failover);
        if let Some(r) = fo.roles.get_mut(self.index) {
            *r = role;
        }
        fo.syncing = false;
        fo.sync_gen += 1;
    }

    /// What `check_health` and `/check_health` report.
    pub fn set_health(&self, success: bool, error_message: Option<&str>) {
        *lock(&self.state().health) = (success, error_message.map(str::to_string));
    }

    /// Last data sync time and status reported by `check_health` on this appliance.
    pub fn set_last_sync(&self, unix_secs: i64, status: &str) {
        if let Some(entry) = lock(&self.site.failover).last_sync.get_mut(self.index) {
            *entry = (unix_secs.saturating_mul(1000), status.to_string());
        }
    }

    /// Arms a fault; `times: None` keeps it until [`SimAppliance::clear_faults`], `Some(n)` for
    /// the next `n` matching requests.
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        lock(&self.state().faults).push(FaultSlot {
            endpoint,
            fault,
            remaining: times,
        });
    }

    /// Disarms every fault of this appliance.
    pub fn clear_faults(&self) {
        lock(&self.state().faults).clear();
    }

    /// Requests that reached this appliance (connections dropped while down are not counted).
    pub fn request_count(&self, endpoint: Endpoint) -> u64 {
        self.state().counts[endpoint.index()].load(Ordering::SeqCst)
    }

    /// Faults still armed, in arming order (for diagnostics).
    pub fn armed_faults(&self) -> Vec<(Endpoint, Fault, Option<u32>)> {
        lock(&self.state().faults)
            .iter()
            .map(|s| (s.endpoint, s.fault.clone(), s.remaining))
            .collect()
    }

    /// Current health as set by [`SimAppliance::set_health`].
    pub fn health(&self) -> (bool, Option<String>) {
        lock(&self.state().health).clone()
    }

    /// Last data sync (unix seconds, status) as `check_health` reports it.
    pub fn last_sync(&self) -> (i64, String) {
        let fo = lock(&self.site.failover);
        match fo.last_sync.get(self.index) {
            Some((ms, status)) => (ms.div_euclid(1000), status.clone()),
            None => (0, String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_and_sync() {
        assert_send_sync::<Sim>();
        assert_send_sync::<SimAppliance>();
        assert_send_sync::<SimConfig>();
    }

    #[test]
    fn names_round_trip() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::parse(e.as_str()), Some(e));
        }
        for r in [
            FailoverRole::None,
            FailoverRole::Primary,
            FailoverRole::Backup,
        ] {
            assert_eq!(FailoverRole::parse(r.as_str()), Some(r));
        }
    }
}
