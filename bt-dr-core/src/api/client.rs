//! The appliance API client (async). [`super::BlockingClient`] wraps it for bindings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tokio::sync::Mutex;

use super::cancel::CancelToken;
use super::download::{self, DownloadKind, DownloadedFile, Progress};
use super::reporting::{ReportKind, TimeWindow};
use super::tls::{ServedLeaf, TlsOptions, client_config, parse_pin};
use super::transport::{
    CachedToken, Call, Flow, MAX_SERVER_WAIT, RetryPolicy, SendFailure, account_limiter, bearer,
    describe_body, json_error_message, map_reqwest, read_capped, redact, with_retries,
};
use super::xml::{
    self, ApiInfo, ApplianceInfo, ArchiveEntry, ArchiveKind, ConnectedClient, Health, RoleChange,
    Session,
};
use crate::model::appliance::FailoverRole;
use crate::model::product::Product;
use crate::support::error::{Error, ErrorKind, Result};

/// Builds a [`Client`].
///
/// ```no_run
/// # async fn run() -> bt_dr_core::Result<()> {
/// use bt_dr_core::api::Client;
/// let client = Client::builder("https://support.example.com")
///     .credentials("client-id", "client-secret".into())
///     .extra_ca_pem(std::fs::read("ca.pem").unwrap())
///     .build()?;
/// let health = client.check_health().await?;
/// println!("{} is {}", health.hostname, if health.success { "healthy" } else { "unhealthy" });
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    tls: TlsOptions,
    pin_hex: Option<String>,
    danger_allow_http: bool,
    connect_timeout: Duration,
    read_timeout: Duration,
    request_timeout: Duration,
    rate_limit_per_second: u32,
    retry: RetryPolicy,
    site_name: Option<String>,
    product: Option<Product>,
    /// Set by [`ClientBuilder::for_appliance`]: where credentials left unset come from.
    inventory: Option<InventoryAccess>,
}

/// Every setting of a [`ClientBuilder`] besides its URL and credentials, as one value; a `None`
/// keeps the builder's value (the default, or the inventory's CA and pin). The bindings fill one
/// from their own argument shapes (keyword arguments, an options object, C setters) and hand it
/// to [`ClientBuilder::options`], so how settings map onto the builder is written once.
///
/// ```
/// use std::time::Duration;
/// use bt_dr_core::api::{Client, ClientOptions};
/// let opts = ClientOptions {
///     connect_timeout: Some(Duration::from_secs(3)),
///     rate_limit_per_second: Some(5),
///     ..ClientOptions::default()
/// };
/// let c = Client::builder("https://bt-a.example.com")
///     .credentials("dr-bot", "s3cret".into())
///     .options(&opts)
///     .build()?;
/// assert_eq!(c.host(), "bt-a.example.com");
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Extra trusted CA certificates (PEM).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Trust only the extra CA, not the system roots.
    pub only_extra_ca: Option<bool>,
    /// SHA-256 pin of the server certificate (hex).
    pub pin_sha256: Option<String>,
    /// DANGEROUS: accept any server certificate.
    pub danger_accept_invalid_certs: Option<bool>,
    /// DANGEROUS: allow plain `http://`.
    pub danger_allow_http: Option<bool>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Timeout between reads of a response.
    pub read_timeout: Option<Duration>,
    /// Timeout of a whole request (never of a streamed download's body).
    pub request_timeout: Option<Duration>,
    /// Client-side request rate per API account.
    pub rate_limit_per_second: Option<u32>,
    /// Retries of idempotent requests.
    pub retry: Option<RetryPolicy>,
    /// The site name backups are named after.
    pub site_name: Option<String>,
    /// The site's product.
    pub product: Option<Product>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A CA bundle is long and says nothing in a log line: its size is enough.
        f.debug_struct("ClientOptions")
            .field("extra_ca_pem", &self.extra_ca_pem.as_ref().map(Vec::len))
            .field("only_extra_ca", &self.only_extra_ca)
            .field("pin_sha256", &self.pin_sha256)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("danger_allow_http", &self.danger_allow_http)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("retry", &self.retry)
            .field("site_name", &self.site_name)
            .field("product", &self.product)
            .finish()
    }
}

/// The inventory site a builder was preset from, for credentials the caller did not set.
#[derive(Debug)]
struct InventoryAccess {
    site: String,
    api: Option<crate::model::site::ApiAccess>,
}

impl InventoryAccess {
    fn client_id(&self) -> Result<String> {
        match &self.api {
            Some(api) => Ok(api.client_id.clone()),
            None => Err(self.no_api()),
        }
    }

    fn client_secret(&self) -> Result<SecretString> {
        let api = self.api.as_ref().ok_or_else(|| self.no_api())?;
        std::env::var(&api.client_secret_env)
            .map(SecretString::from)
            .map_err(|_| {
                Error::invalid_input(
                    format!("sites[{}].api.client_secret_env", self.site),
                    format!(
                        "environment variable `{}` is not set",
                        api.client_secret_env
                    ),
                )
            })
    }

    fn no_api(&self) -> Error {
        Error::invalid_input(
            format!("sites[{}].api", self.site),
            "no API access (client_id, client_secret_env) is configured, and no credentials were given",
        )
    }
}

impl ClientBuilder {
    /// A builder for `appliance` of an inventory `site`: the appliance's URL, the site's name and
    /// product, and the CA file and pin of the site's `api` section. Credentials not set on the
    /// builder are taken from that section when the client is built, the secret from the
    /// environment variable it names; [`ClientBuilder::credentials`] or
    /// [`ClientBuilder::client_id`] override them.
    ///
    /// ```
    /// let inv = bt_dr_core::Inventory::from_toml_str(r#"
    /// [[sites]]
    /// name = "eu"
    /// fqdn = "support.example.com"
    /// product = "rs"
    /// version = "24.1.2"
    /// api = { client_id = "dr-bot", client_secret_env = "BT_DR_DOC_SECRET" }
    /// appliances = [{ hostname = "bt-a.example.com", kind = "vmware" }]
    /// "#)?;
    /// let site = &inv.sites[0];
    /// let a = site.appliance("bt-a.example.com").unwrap();
    /// // The secret's variable is not set here, and the error says which one it is.
    /// let err = bt_dr_core::api::ClientBuilder::for_appliance(site, a)?.build().unwrap_err();
    /// assert!(err.to_string().contains("BT_DR_DOC_SECRET"));
    /// // Given credentials win over the inventory's.
    /// let c = bt_dr_core::api::ClientBuilder::for_appliance(site, a)?
    ///     .credentials("other", "s3cret".into())
    ///     .build()?;
    /// assert_eq!(c.base_url(), "https://bt-a.example.com");
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn for_appliance(
        site: &crate::model::site::Site,
        appliance: &crate::model::appliance::Appliance,
    ) -> Result<ClientBuilder> {
        let mut b = Client::builder(&appliance.base_url())
            .site_name(&site.name)
            .product(site.product);
        if let Some(api) = &site.api {
            if let Some(ca) = &api.ca_file {
                b = b.extra_ca_pem(
                    std::fs::read(ca).map_err(|e| Error::io("reading CA file", ca, e))?,
                );
            }
            if let Some(pin) = &api.pin_sha256 {
                b = b.pin_sha256(pin);
            }
        }
        b.inventory = Some(InventoryAccess {
            site: site.name.clone(),
            api: site.api.clone(),
        });
        Ok(b)
    }

    /// Applies every setting `opts` gives (see [`ClientOptions`]); the others keep their value.
    pub fn options(mut self, opts: &ClientOptions) -> Self {
        let o = opts.clone();
        if let Some(pem) = o.extra_ca_pem {
            self = self.extra_ca_pem(pem);
        }
        if let Some(x) = o.only_extra_ca {
            self = self.only_extra_ca(x);
        }
        if let Some(p) = &o.pin_sha256 {
            self = self.pin_sha256(p);
        }
        if let Some(x) = o.danger_accept_invalid_certs {
            self = self.danger_accept_invalid_certs(x);
        }
        if let Some(x) = o.danger_allow_http {
            self = self.danger_allow_http(x);
        }
        if let Some(d) = o.connect_timeout {
            self = self.connect_timeout(d);
        }
        if let Some(d) = o.read_timeout {
            self = self.read_timeout(d);
        }
        if let Some(d) = o.request_timeout {
            self = self.request_timeout(d);
        }
        if let Some(n) = o.rate_limit_per_second {
            self = self.rate_limit_per_second(n);
        }
        if let Some(r) = o.retry {
            self = self.retry_policy(r);
        }
        if let Some(s) = &o.site_name {
            self = self.site_name(s);
        }
        if let Some(p) = o.product {
            self = self.product(p);
        }
        self
    }

    /// OAuth client credentials of the API account.
    pub fn credentials(mut self, client_id: &str, client_secret: SecretString) -> Self {
        self.client_id = Some(client_id.to_string());
        self.client_secret = Some(client_secret);
        self
    }
    /// The OAuth client id alone (the secret then comes from elsewhere, e.g. the inventory).
    pub fn client_id(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_string());
        self
    }
    /// The OAuth client secret alone.
    pub fn client_secret(mut self, client_secret: SecretString) -> Self {
        self.client_secret = Some(client_secret);
        self
    }
    /// Trust this CA (PEM) in addition to the system roots.
    pub fn extra_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.extra_ca_pem = Some(pem.into());
        self
    }
    /// Trust only the extra CA, not the system roots.
    pub fn only_extra_ca(mut self, only: bool) -> Self {
        self.tls.only_extra_ca = only;
        self
    }
    /// Pin the server certificate by the SHA-256 of its DER (hex, colons allowed).
    pub fn pin_sha256(mut self, hex_pin: &str) -> Self {
        self.pin_hex = Some(hex_pin.to_string());
        self
    }
    /// DANGEROUS: accept any server certificate. A pin, if set, still applies.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.tls.danger_accept_invalid_certs = yes;
        self
    }
    /// DANGEROUS: allow `http://` URLs (credentials then travel in clear).
    pub fn danger_allow_http(mut self, yes: bool) -> Self {
        self.danger_allow_http = yes;
        self
    }
    /// TCP+TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Longest silence while reading a response (default 60 s).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }
    /// Whole-request timeout for non-download calls (default 120 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    /// Client-side request rate per API account (default 20/s, the appliance's own limit).
    pub fn rate_limit_per_second(mut self, n: u32) -> Self {
        self.rate_limit_per_second = n;
        self
    }
    /// Retry bounds.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = p;
        self
    }
    /// Site name used in backup file names when the appliance sends none (default: first label of the host).
    pub fn site_name(mut self, name: &str) -> Self {
        self.site_name = Some(name.to_string());
        self
    }
    /// Product of the site (picks RS or PRA report names; default RS).
    pub fn product(mut self, p: Product) -> Self {
        self.product = Some(p);
        self
    }

    /// Validates everything and builds the client.
    pub fn build(self) -> Result<Client> {
        let host = check_base_url(&self.base_url, self.danger_allow_http)?;
        let from_inventory = self.inventory.as_ref();
        let client_id = match (self.client_id, from_inventory) {
            (Some(id), _) => id,
            (None, Some(inv)) => inv.client_id()?,
            (None, None) => return Err(Error::invalid_input("client_id", "is required")),
        };
        if client_id.is_empty() {
            return Err(Error::invalid_input("client_id", "is empty"));
        }
        let client_secret = match (self.client_secret, from_inventory) {
            (Some(secret), _) => secret,
            (None, Some(inv)) => inv.client_secret()?,
            (None, None) => return Err(Error::invalid_input("client_secret", "is required")),
        };
        let mut tls = self.tls;
        if let Some(p) = &self.pin_hex {
            tls.pin_sha256 = Some(parse_pin(p)?);
        }
        let (http, served_leaf) = http_client(&tls, self.connect_timeout, self.read_timeout)?;
        let base = self.base_url.trim_end_matches('/').to_string();
        let site_name = self
            .site_name
            .unwrap_or_else(|| host.split('.').next().unwrap_or(&host).to_string());
        crate::model::site::validate_site_name(&site_name, "site_name")?;
        Ok(Client {
            inner: Arc::new(Inner {
                limiter: account_limiter(&client_id, self.rate_limit_per_second),
                http,
                base,
                host,
                client_id,
                client_secret,
                token: Mutex::new(None),
                generation: AtomicU64::new(0),
                retry: self.retry,
                request_timeout: self.request_timeout,
                site_name,
                product: self.product.unwrap_or(Product::Rs),
                tls,
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                danger_allow_http: self.danger_allow_http,
                served_leaf,
            }),
        })
    }
}

/// Checks a base URL (https, or http only when allowed; a host; no credentials in it) and
/// returns its host.
fn check_base_url(base_url: &str, allow_http: bool) -> Result<String> {
    let url = url::Url::parse(base_url)
        .map_err(|e| Error::invalid_input("base_url", format!("`{base_url}` is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(Error::Tls {
                reason: format!(
                    "refusing plain http for {} (credentials would travel in clear); use https",
                    url.host_str().unwrap_or("")
                ),
            });
        }
        s => {
            return Err(Error::invalid_input(
                "base_url",
                format!("scheme `{s}` is not https"),
            ));
        }
    }
    let host = url
        .host_str()
        .ok_or_else(|| Error::invalid_input("base_url", "has no host"))?
        .to_string();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            "base_url",
            "must not carry credentials; use .credentials()",
        ));
    }
    Ok(host)
}

/// One HTTP client per [`Client`]: its TLS verifier records the served leaf certificate, and a
/// shared one would mix up the certificates of different addresses.
fn http_client(
    tls: &TlsOptions,
    connect_timeout: Duration,
    read_timeout: Duration,
) -> Result<(reqwest::Client, ServedLeaf)> {
    let (cfg, served_leaf) = client_config(tls)?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .http1_only()
        .pool_max_idle_per_host(0)
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .user_agent(crate::USER_AGENT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tls_info(true)
        .build()
        .map_err(|e| Error::Tls {
            reason: format!("cannot build HTTP client: {e}"),
        })?;
    Ok((http, served_leaf))
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    host: String,
    client_id: String,
    client_secret: SecretString,
    token: Mutex<Option<CachedToken>>,
    generation: AtomicU64,
    limiter: Arc<governor::DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    request_timeout: Duration,
    site_name: String,
    product: Product,
    /// Kept so [`Client::at_address`] can build the same trust for another address.
    tls: TlsOptions,
    connect_timeout: Duration,
    read_timeout: Duration,
    danger_allow_http: bool,
    served_leaf: ServedLeaf,
}

/// A client for one appliance's web APIs. Cheap to clone; clones share the token cache.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The unauthenticated `/check_health` probe result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Probe {
    /// HTTP 200.
    pub healthy: bool,
    /// HTTP status.
    pub status: u16,
    /// The short text the appliance sent.
    pub message: String,
    /// SHA-256 of the certificate the appliance served (for the pair-certificate check).
    pub peer_certificate_sha256: Option<String>,
}

/// Options of a backup download.
#[derive(Clone, Default)]
pub struct BackupOptions {
    /// The site backup password, when backups are password protected.
    pub password: Option<SecretString>,
    /// Called as bytes arrive.
    pub progress: Option<Progress>,
    /// Set to stop the download (the partial file is removed).
    pub cancel: Option<CancelToken>,
}

/// What a download needs besides the request.
#[derive(Clone, Default)]
pub struct TransferOptions {
    /// Called as bytes arrive.
    pub progress: Option<Progress>,
    /// Set to stop the transfer.
    pub cancel: Option<CancelToken>,
}

impl std::fmt::Debug for BackupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupOptions")
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl std::fmt::Debug for TransferOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferOptions")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Metadata written next to a downloaded backup so later checks work offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupSidecar {
    /// Backup file name.
    pub file_name: String,
    /// Site name.
    pub site: String,
    /// Appliance host it came from.
    pub source_host: String,
    /// Product.
    pub product: Product,
    /// Site version when it was taken.
    pub version: crate::model::version::ProductVersion,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "String", extend("format" = "date-time"))
    )]
    pub downloaded_at: OffsetDateTime,
    /// The backup is password protected.
    pub password_protected: bool,
    /// The name the appliance proposed in `Content-Disposition`, as sent (escaped like a Rust
    /// string literal's content, at most 255 characters), if any. bt-dr chooses the file name
    /// itself: the proposal is used only when it is a safe NSB backup name, and no download
    /// ever replaces an existing file.
    pub appliance_file_name: Option<String>,
}

impl BackupSidecar {
    /// The template filled in with what is known once the file is complete.
    pub(crate) fn completed(
        mut self,
        file_name: String,
        size: u64,
        sha256: &str,
        appliance_file_name: Option<String>,
    ) -> Self {
        self.file_name = file_name;
        self.size = size;
        self.sha256 = sha256.to_string();
        self.appliance_file_name = appliance_file_name;
        self
    }
}

/// A backup on disk with its sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupDownload {
    /// The file.
    pub file: DownloadedFile,
    /// Path of the sidecar JSON.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub sidecar_path: PathBuf,
    /// Its content.
    pub sidecar: BackupSidecar,
    /// SHA-256 (hex) of the sidecar file as written.
    #[serde(default)]
    pub sidecar_sha256: String,
    /// Size in bytes of the sidecar file as written.
    #[serde(default)]
    pub sidecar_size: u64,
}

/// Largest Command or Reporting API answer read (a session listing of a busy site is a few MiB).
const MAX_XML_BYTES: usize = 64 << 20;

/// Suffix of backup sidecar files (the naming rule lives in [`crate::rules::backup`]).
pub use crate::rules::backup::SIDECAR_SUFFIX;

impl Client {
    /// Starts building a client for `base_url` (`https://host[:port]`).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_string(),
            client_id: None,
            client_secret: None,
            tls: TlsOptions::default(),
            pin_hex: None,
            danger_allow_http: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            rate_limit_per_second: 20,
            retry: RetryPolicy::default(),
            site_name: None,
            product: None,
            inventory: None,
        }
    }

    /// A client for `appliance` of an inventory `site`, configured from the site's `api` section:
    /// client id, secret from the named environment variable, optional CA file and pin.
    ///
    /// ```no_run
    /// let inv = bt_dr_core::Inventory::load("fleet.toml")?;
    /// let site = &inv.sites[0];
    /// let client = bt_dr_core::api::Client::for_appliance(site, site.intended_primary().unwrap())?;
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn for_appliance(
        site: &crate::model::site::Site,
        appliance: &crate::model::appliance::Appliance,
    ) -> Result<Client> {
        ClientBuilder::for_appliance(site, appliance)?.build()
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }
    /// The OAuth client id (not a secret: it names the API account).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }
    /// The appliance host.
    pub fn host(&self) -> &str {
        &self.inner.host
    }
    /// Product the client assumes for report names.
    pub fn product(&self) -> Product {
        self.inner.product
    }

    /// SHA-256 (lowercase hex) of the DER of the leaf certificate the appliance presented in
    /// the most recent TLS handshake of this client (or a clone), whether or not it was then
    /// trusted. `None` before the first connection and over plain http.
    ///
    /// ```
    /// let c = bt_dr_core::api::Client::builder("https://bt-a.example.com")
    ///     .credentials("dr-bot", "s3cret".into())
    ///     .build()?;
    /// assert_eq!(c.served_leaf_sha256(), None); // nothing connected yet
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn served_leaf_sha256(&self) -> Option<String> {
        self.inner.served_leaf.get().map(|c| c.sha256)
    }

    /// The `notAfter` of the leaf certificate the most recent TLS handshake of this client
    /// presented (trusted or not). `None` before the first connection, over plain http, or when
    /// the appliance sent something that does not parse as X.509. The monitoring series for an
    /// appliance's certificate expiry come from here: it is the certificate clients see.
    ///
    /// ```
    /// let c = bt_dr_core::api::Client::builder("https://bt-a.example.com")
    ///     .credentials("dr-bot", "s3cret".into())
    ///     .build()?;
    /// assert_eq!(c.served_leaf_not_after(), None); // nothing connected yet
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn served_leaf_not_after(&self) -> Option<time::OffsetDateTime> {
        self.inner.served_leaf.get().and_then(|c| c.not_after)
    }

    /// A mark for [`Client::served_leaf_since`].
    pub(crate) fn served_leaf_mark(&self) -> u64 {
        self.inner.served_leaf.mark()
    }

    /// The served leaf, only if a handshake happened after `mark`: an appliance that no longer
    /// answers must not be credited with the certificate it served earlier.
    pub(crate) fn served_leaf_since(&self, mark: u64) -> Option<String> {
        self.inner.served_leaf.since(mark).map(|c| c.sha256)
    }

    /// Like [`Client::served_leaf_since`], with the certificate's expiry.
    pub(crate) fn served_cert_since(&self, mark: u64) -> Option<crate::api::tls::ServedCert> {
        self.inner.served_leaf.since(mark)
    }

    /// The same API account, trust settings, timeouts and rate limit, addressing `base_url`
    /// instead — for instance the site's FQDN, which reaches whichever appliance the DNS record
    /// or NAT rule currently points at. It has its own token cache and its own record of the
    /// served certificate.
    pub(crate) fn at_address(&self, base_url: &str) -> Result<Client> {
        let i = &self.inner;
        let host = check_base_url(base_url, i.danger_allow_http)?;
        let (http, served_leaf) = http_client(&i.tls, i.connect_timeout, i.read_timeout)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: base_url.trim_end_matches('/').to_string(),
                host,
                client_id: i.client_id.clone(),
                client_secret: i.client_secret.clone(),
                token: Mutex::new(None),
                generation: AtomicU64::new(0),
                limiter: i.limiter.clone(),
                retry: i.retry.clone(),
                request_timeout: i.request_timeout,
                site_name: i.site_name.clone(),
                product: i.product,
                tls: i.tls.clone(),
                connect_timeout: i.connect_timeout,
                read_timeout: i.read_timeout,
                danger_allow_http: i.danger_allow_http,
                served_leaf,
            }),
        })
    }

    async fn token(&self) -> Result<(SecretString, u64)> {
        let mut slot = self.inner.token.lock().await;
        if let Some(t) = slot.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok((t.value.clone(), t.generation));
        }
        let fresh = self.fetch_token().await?;
        let out = (fresh.value.clone(), fresh.generation);
        *slot = Some(fresh);
        Ok(out)
    }

    async fn invalidate(&self, generation: u64) {
        let mut slot = self.inner.token.lock().await;
        if slot.as_ref().is_some_and(|t| t.generation == generation) {
            *slot = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken> {
        #[derive(Deserialize)]
        struct Tok {
            access_token: String,
            /// Any JSON: a number of any size or sign, a string, or something else entirely.
            #[serde(default)]
            expires_in: Option<serde_json::Value>,
        }
        let url = format!("{}/oauth2/token", self.inner.base);
        let send = || async {
            let resp = self
                .inner
                .http
                .post(&url)
                .basic_auth(
                    &self.inner.client_id,
                    Some(self.inner.client_secret.expose_secret()),
                )
                .header(reqwest::header::CONNECTION, "close")
                .form(&[("grant_type", "client_credentials")])
                .timeout(self.inner.request_timeout)
                .send()
                .await
                .map_err(|e| {
                    let err = map_reqwest(e, "token request");
                    // Asking for a token changes nothing on the appliance: always safe to repeat.
                    let retryable = matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout);
                    SendFailure { err, retryable }
                })?;
            Ok((resp, ()))
        };
        let handle = |resp: reqwest::Response, ()| async move {
            let status = resp.status();
            let (body, cut) = read_capped(resp, 1 << 20)
                .await
                .map_err(|e| map_reqwest(e, "token request"))?;
            if !status.is_success() {
                let msg = json_error_message(&body).unwrap_or_else(|| format!("HTTP {status}"));
                if status.is_server_error() {
                    return Ok(Flow::RetryOr(Error::Api {
                        status: Some(status.as_u16()),
                        message: msg,
                    }));
                }
                return Err(Error::Auth {
                    reason: format!(
                        "the appliance rejected client id `{}`: {msg}",
                        self.inner.client_id
                    ),
                });
            }
            if cut {
                return Err(Error::parse(
                    "token response",
                    "larger than 1 MiB, not a token answer",
                ));
            }
            Ok(Flow::Done(body))
        };
        let body = with_retries(
            &self.inner.retry,
            &self.inner.limiter,
            "token request",
            send,
            handle,
        )
        .await?;
        // serde_json's message names a position and an expected type, never the input.
        let tok: Tok = serde_json::from_slice(super::transport::strip_utf8_bom(&body))
            .map_err(|e| Error::parse("token response", format!("not the expected JSON: {e}")))?;
        if tok.access_token.is_empty() {
            return Err(Error::Auth {
                reason: "the appliance returned an empty token".into(),
            });
        }
        // It goes into a header: visible ASCII only, and not absurdly long.
        if tok.access_token.len() > 8192 || !tok.access_token.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::Auth {
                reason: "the appliance returned a token that cannot be sent back (not visible ASCII, or over 8 KiB)".into(),
            });
        }
        let life = token_lifetime(tok.expires_in.as_ref());
        // Renew ahead of expiry (a tenth of the lifetime, at most five minutes) so a call
        // never leaves with a token about to die on the way.
        let margin = (life / 10).min(Duration::from_secs(300));
        Ok(CachedToken {
            value: SecretString::from(tok.access_token),
            refresh_at: Instant::now() + life - margin,
            generation: self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1,
        })
    }

    /// Sends an authenticated call under the shared rules, returning a successful response.
    ///
    /// A token the appliance rejects — 401, or a JSON `access_denied` answer with any status,
    /// 403 included (some proxies and versions) — is renewed once and the call repeated; a
    /// second rejection is [`Error::Auth`] (401) or [`Error::PermissionDenied`] (403), as is a
    /// 403 that is not `access_denied`. Error messages carry the appliance's message from a
    /// parsed error document only, redacted and bounded, never a raw body.
    pub(crate) async fn send(
        &self,
        call: &Call,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.inner.base, call.path);
        // One fresh token per call at most: a second rejection is final.
        let reauthed = AtomicBool::new(false);
        let send = || async {
            let (token, generation) = self.token().await.map_err(|err| SendFailure {
                err,
                retryable: false,
            })?;
            let mut req = self
                .inner
                .http
                .request(call.method.clone(), &url)
                .query(&call.query)
                .header(reqwest::header::AUTHORIZATION, bearer(&token))
                .header(reqwest::header::CONNECTION, "close");
            if let Some(t) = timeout {
                req = req.timeout(t);
            }
            if let Some(b) = &call.json_body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) => Ok((resp, generation)),
                Err(e) => {
                    // A write is repeated only when it never reached the appliance.
                    let connect_phase = e.is_connect();
                    let err = map_reqwest(e, call.op);
                    let retryable = matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout)
                        && (call.idempotent || connect_phase);
                    Err(SendFailure { err, retryable })
                }
            }
        };
        let handle = |resp, generation| self.answer(call, resp, generation, &reauthed);
        with_retries(
            &self.inner.retry,
            &self.inner.limiter,
            call.op,
            send,
            handle,
        )
        .await
    }

    /// What [`Self::send`] makes of an answer that is not rate limited: the response, a
    /// re-token ([`Flow::Again`], once per call), a server error worth a retry, or the error.
    async fn answer(
        &self,
        call: &Call,
        resp: reqwest::Response,
        generation: u64,
        reauthed: &AtomicBool,
    ) -> Result<Flow<reqwest::Response>> {
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
            .unwrap_or_default();
        let is_json = content_type.contains("json");
        // An expired token shows as 401 or as a JSON `access_denied` body (with any status,
        // 403 included), so small JSON answers are read; a successful download is handed on
        // untouched (its body is the file, or is refused by the download's own checks).
        let small = resp.content_length().is_none_or(|l| l <= 1 << 20);
        let download_ok = call.op.starts_with("download_") && status.is_success();
        if status == StatusCode::UNAUTHORIZED || (is_json && small && !download_ok) {
            let headers = resp.headers().clone();
            let (body, cut) = read_capped(resp, 1 << 20)
                .await
                .map_err(|e| map_reqwest(e, call.op))?;
            let access_denied = serde_json::from_slice::<serde_json::Value>(
                super::transport::strip_utf8_bom(&body),
            )
            .ok()
            .and_then(|v| {
                v.get("error")
                    .and_then(|e| e.as_str())
                    .map(|e| e.eq_ignore_ascii_case("access_denied"))
            })
            .unwrap_or(false);
            if status == StatusCode::UNAUTHORIZED || access_denied {
                // Evicted (31st token elsewhere), revoked or expired: one fresh token, one retry.
                if !reauthed.swap(true, Ordering::SeqCst) {
                    self.invalidate(generation).await;
                    return Ok(Flow::Again);
                }
                if status == StatusCode::FORBIDDEN {
                    return Err(self.forbidden(call, &content_type, &body));
                }
                return Err(Error::Auth {
                    reason: format!("{}: the appliance rejected a freshly issued token", call.op),
                });
            }
            if status == StatusCode::FORBIDDEN {
                return Err(self.forbidden(call, &content_type, &body));
            }
            if status.is_success() {
                if cut {
                    return Err(Error::Api {
                        status: Some(status.as_u16()),
                        message: format!(
                            "{}: a JSON answer larger than 1 MiB where none was expected",
                            call.op
                        ),
                    });
                }
                let mut rebuilt = http::Response::new(body);
                *rebuilt.status_mut() = status;
                *rebuilt.headers_mut() = headers;
                return Ok(Flow::Done(reqwest::Response::from(rebuilt)));
            }
            return Err(self.failed(call, status, &content_type, &body));
        }
        if status == StatusCode::FORBIDDEN {
            let (body, _) = read_capped(resp, 64 << 10).await.unwrap_or_default();
            return Err(self.forbidden(call, &content_type, &body));
        }
        if !status.is_success() {
            let (body, _) = read_capped(resp, 64 << 10).await.unwrap_or_default();
            let err = self.failed(call, status, &content_type, &body);
            // Only a read is repeated after a 5xx: a write may have taken effect.
            if status.is_server_error() && call.idempotent {
                return Ok(Flow::RetryOr(err));
            }
            return Err(err);
        }
        Ok(Flow::Done(resp))
    }

    /// A 403: the account lacks the operation's permission.
    fn forbidden(&self, call: &Call, content_type: &str, body: &[u8]) -> Error {
        let permission = super::required_permission(call.op)
            .unwrap_or("unknown")
            .to_string();
        tracing::debug!(
            op = call.op,
            appliance_message = %describe_body(Some(403), content_type, body),
            "forbidden"
        );
        Error::PermissionDenied {
            operation: call.op.to_string(),
            permission,
        }
    }

    /// Any other failed answer: 404 is [`Error::NotFound`], the rest [`Error::Api`]; the
    /// message is the appliance's own from an error document, or a description — never the body.
    fn failed(&self, call: &Call, status: StatusCode, content_type: &str, body: &[u8]) -> Error {
        let message = describe_body(Some(status.as_u16()), content_type, body);
        if status == StatusCode::NOT_FOUND {
            Error::NotFound {
                what: format!("{} ({message})", call.path),
            }
        } else {
            Error::Api {
                status: Some(status.as_u16()),
                message,
            }
        }
    }

    async fn xml(&self, call: Call) -> Result<String> {
        let resp = self.send(&call, Some(self.inner.request_timeout)).await?;
        let ct = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        // Bounded: an answer that never ends must not take the host's memory with it.
        let (raw, cut) = read_capped(resp, MAX_XML_BYTES)
            .await
            .map_err(|e| map_reqwest(e, call.op))?;
        if cut {
            return Err(Error::parse(
                format!("{} response", call.op),
                format!("larger than {} MiB", MAX_XML_BYTES >> 20),
            ));
        }
        let text = String::from_utf8_lossy(&raw);
        let body = text.strip_prefix('\u{FEFF}').unwrap_or(&text).to_string();
        // By characters: a byte offset could fall inside a multi-byte character.
        let head: String = body
            .trim_start()
            .chars()
            .take(64)
            .collect::<String>()
            .to_ascii_lowercase();
        if ct.contains("text/html")
            || head.starts_with("<!doctype html")
            || head.starts_with("<html")
        {
            return Err(Error::Api {
                status: None,
                message: format!(
                    "{}: the appliance answered with an HTML page, not API XML (is the XML API enabled?)",
                    call.op
                ),
            });
        }
        // Content type is tolerated: the body decides (some proxies rewrite the header).
        Ok(body)
    }

    fn command(op: &'static str, action: &str, extra: Vec<(String, String)>) -> Call {
        let mut q = vec![("action".to_string(), action.to_string())];
        q.extend(extra);
        Call::get(op, "/api/command", q)
    }

    /// `check_health`: version, failover role, last data sync.
    pub async fn check_health(&self) -> Result<Health> {
        xml::parse_health(
            &self
                .xml(Self::command("check_health", "check_health", vec![]))
                .await?,
        )
    }

    /// The unauthenticated `/check_health` probe (200 healthy, 500 not).
    pub async fn probe_health(&self) -> Result<Probe> {
        let url = format!("{}/check_health", self.inner.base);
        let mut delays = self.inner.retry.delays();
        loop {
            let res = self
                .inner
                .http
                .get(&url)
                .header(reqwest::header::CONNECTION, "close")
                .timeout(self.inner.request_timeout)
                .send()
                .await;
            match res {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let peer_certificate_sha256 = r
                        .extensions()
                        .get::<reqwest::tls::TlsInfo>()
                        .and_then(|t| t.peer_certificate())
                        .map(crate::support::hash::sha256_hex);
                    // Unauthenticated, but a proxy may still echo what it saw: redacted,
                    // bounded, and never more than 4 KiB read.
                    let (body, _) = read_capped(r, 4096).await.unwrap_or_default();
                    let message = redact(String::from_utf8_lossy(&body).trim());
                    return Ok(Probe {
                        healthy: status == 200,
                        status,
                        message,
                        peer_certificate_sha256,
                    });
                }
                Err(e) => {
                    let err = map_reqwest(e, "probe_health");
                    if err.kind() == crate::support::error::ErrorKind::Network
                        && let Some(d) = delays.next()
                    {
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// `get_api_info`: API version and the account's permissions.
    pub async fn get_api_info(&self) -> Result<ApiInfo> {
        xml::parse_api_info(
            &self
                .xml(Self::command("get_api_info", "get_api_info", vec![]))
                .await?,
        )
    }

    /// `get_appliances`: the pair or cluster as the appliance sees it.
    pub async fn get_appliances(&self) -> Result<Vec<ApplianceInfo>> {
        xml::parse_appliances(
            &self
                .xml(Self::command("get_appliances", "get_appliances", vec![]))
                .await?,
        )
    }

    /// `get_connected_client_list`: who would be disconnected by a planned failover.
    pub async fn get_connected_clients(&self) -> Result<Vec<ConnectedClient>> {
        xml::parse_connected_clients(
            &self
                .xml(Self::command(
                    "get_connected_clients",
                    "get_connected_client_list",
                    vec![("type".into(), "all".into())],
                ))
                .await?,
        )
    }

    /// `set_failover_role`. Never retried after the request may have reached the appliance.
    pub async fn set_failover_role(
        &self,
        role: FailoverRole,
        data_sync_first: bool,
        force: bool,
    ) -> Result<RoleChange> {
        if role == FailoverRole::None {
            return Err(Error::invalid_input("role", "must be primary or backup"));
        }
        let mut call = Self::command(
            "set_failover_role",
            "set_failover_role",
            vec![
                ("role".into(), role.as_str().into()),
                (
                    "data_sync_first".into(),
                    u8::from(data_sync_first).to_string(),
                ),
                ("force".into(), u8::from(force).to_string()),
            ],
        );
        call.method = Method::POST;
        call.idempotent = false;
        xml::parse_role_change(&self.xml(call).await?)
    }

    /// Streams the site backup into `dir` (temp file, SHA-256, fsync, rename) and writes a
    /// sidecar. The name is decided by [`crate::rules::backup::backup_file_name`]: the
    /// appliance's `Content-Disposition` name when it is a safe NSB name, else bt-dr's own.
    pub async fn download_backup(
        &self,
        dir: impl AsRef<Path>,
        opts: BackupOptions,
    ) -> Result<BackupDownload> {
        let dir = dir.as_ref();
        let health = self.check_health().await?;
        let now = OffsetDateTime::now_utc();
        let fallback = crate::rules::backup::fallback_backup_name(
            &health.version,
            &self.inner.site_name,
            now,
        )?;
        let mut call = Call::get("download_backup", "/api/backup", vec![]);
        if let Some(pw) = &opts.password {
            call.method = Method::POST;
            call.json_body = Some(serde_json::json!({ "password": pw.expose_secret() }));
        }
        let transfer = TransferOptions {
            progress: opts.progress.clone(),
            cancel: opts.cancel.clone(),
        };
        // Completed with the file's final name, size and hash, and written before the backup
        // takes that name: a crash leaves at most a sidecar without its backup, never a backup
        // without its sidecar. A failed sidecar write keeps the backup from landing at all.
        let template = BackupSidecar {
            file_name: String::new(),
            site: self.inner.site_name.clone(),
            source_host: self.inner.host.clone(),
            product: self.inner.product,
            version: health.version,
            size: 0,
            sha256: String::new(),
            downloaded_at: now,
            password_protected: opts.password.is_some(),
            appliance_file_name: None,
        };
        let fetched = self
            .download(
                &call,
                dir,
                &fallback,
                DownloadKind::Backup,
                Some(&template),
                &transfer,
            )
            .await?;
        let sidecar = template.completed(
            fetched.file.file_name.clone(),
            fetched.file.size,
            &fetched.file.sha256,
            fetched.proposal,
        );
        let (Some(sidecar_path), Some(digest)) = (fetched.sidecar_path, fetched.sidecar_digest)
        else {
            return Err(Error::Internal {
                reason: "a backup landed without its sidecar".into(),
            });
        };
        Ok(BackupDownload {
            file: fetched.file,
            sidecar_path,
            sidecar,
            sidecar_sha256: digest.sha256,
            sidecar_size: digest.size,
        })
    }

    /// Downloads with bounded retries of the whole transfer (a partial body is never kept).
    async fn download(
        &self,
        call: &Call,
        dir: &Path,
        fallback: &str,
        kind: DownloadKind,
        sidecar: Option<&BackupSidecar>,
        opts: &TransferOptions,
    ) -> Result<download::Fetched> {
        let mut delays = self.inner.retry.delays();
        loop {
            if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
                return Err(Error::Cancelled {
                    operation: call.op.into(),
                });
            }
            let resp = self.send(call, None).await?;
            match download::stream_to_dir(resp, dir, fallback, kind, sidecar, opts, call.op).await {
                Ok(x) => return Ok(x),
                Err(download::StreamError::Retryable(e)) => match delays.next() {
                    Some(d) => {
                        tracing::debug!(op = call.op, "transfer broke off, starting over: {e}");
                        tokio::time::sleep(d).await;
                    }
                    None => return Err(e),
                },
                Err(download::StreamError::Fatal(e)) => return Err(e),
            }
        }
    }

    /// Sessions in a window (`SupportSessionListing` / `AccessSessionListing`).
    pub async fn list_sessions(&self, window: &TimeWindow) -> Result<Vec<Session>> {
        if matches!(window, TimeWindow::Lsids { .. }) {
            return Err(Error::invalid_input(
                "window",
                "a session listing takes a time window, not lsids",
            ));
        }
        let mut q = vec![(
            "generate_report".to_string(),
            self.inner.product.session_listing_report().to_string(),
        )];
        q.extend(window.params());
        xml::parse_sessions(
            &self
                .xml(Call::get("list_sessions", "/api/reporting", q))
                .await?,
        )
    }

    /// The session report of one session.
    pub async fn get_session(&self, lsid: &str) -> Result<Session> {
        check_lsid(lsid)?;
        let q = vec![
            (
                "generate_report".to_string(),
                self.inner.product.session_report().to_string(),
            ),
            ("lsid".to_string(), lsid.to_string()),
        ];
        xml::parse_sessions(
            &self
                .xml(Call::get("get_session", "/api/reporting", q))
                .await?,
        )?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound {
            what: format!("session {lsid}"),
        })
    }

    /// Streams a session recording into `dir` as `<lsid>.<ext>`.
    pub async fn download_recording(
        &self,
        lsid: &str,
        dir: impl AsRef<Path>,
        opts: TransferOptions,
    ) -> Result<DownloadedFile> {
        check_lsid(lsid)?;
        let q = vec![
            (
                "generate_report".to_string(),
                self.inner.product.session_recording_report().to_string(),
            ),
            ("lsid".to_string(), lsid.to_string()),
        ];
        let call = Call::get("download_recording", "/api/reporting", q);
        Ok(self
            .download(
                &call,
                dir.as_ref(),
                &format!("{lsid}.rec"),
                DownloadKind::Recording,
                None,
                &opts,
            )
            .await?
            .file)
    }

    /// Presentations in a window (RS `PresentationSessionListing`; same shape as a session
    /// listing).
    pub(crate) async fn list_presentations(&self, window: &TimeWindow) -> Result<Vec<Session>> {
        let mut q = vec![(
            "generate_report".to_string(),
            "PresentationSessionListing".to_string(),
        )];
        q.extend(window.params());
        xml::parse_sessions(
            &self
                .xml(Call::get("list_sessions", "/api/reporting", q))
                .await?,
        )
    }

    /// Saves one piece of Reporting API data into `dir` under a name bt-dr chooses:
    /// a recording of any kind or a session report for `TimeWindow::Lsid`, exit surveys for a
    /// time window. A kind the product does not have is [`Error::InvalidInput`]; a session
    /// without that recording is [`Error::NotFound`]; an error answer is never saved.
    ///
    /// ```no_run
    /// # async fn f(c: &bt_dr_core::api::Client) -> bt_dr_core::Result<()> {
    /// use bt_dr_core::api::{ReportKind, TimeWindow, TransferOptions};
    /// let lsid = TimeWindow::Lsid { lsid: "c0ffee".into() };
    /// let f = c.download_report(ReportKind::CommandShellRecording, &lsid, "/backups/rec", TransferOptions::default()).await?;
    /// println!("{} {}", f.file_name, f.sha256);
    /// # Ok(()) }
    /// ```
    pub async fn download_report(
        &self,
        kind: ReportKind,
        window: &TimeWindow,
        dir: impl AsRef<Path>,
        opts: TransferOptions,
    ) -> Result<DownloadedFile> {
        let product = self.inner.product;
        let report = kind.report_type(product).ok_or_else(|| {
            Error::invalid_input(
                "kind",
                format!("{} has no {kind} data", product.display_name()),
            )
        })?;
        let lsid = match window {
            TimeWindow::Lsid { lsid } => Some(lsid.as_str()),
            _ => None,
        };
        if kind.per_session() != lsid.is_some() {
            return Err(Error::invalid_input(
                "window",
                if kind.per_session() {
                    format!("{kind} is taken per session: give one lsid")
                } else {
                    format!("{kind} is taken for a time window, not by session id")
                },
            ));
        }
        if let Some(lsid) = lsid {
            check_lsid(lsid)?;
        }
        let mut q = vec![("generate_report".to_string(), report.to_string())];
        q.extend(window.params());
        let call = Call::get("download_report", "/api/reporting", q);
        let dir = dir.as_ref();
        if kind.is_recording() {
            let name = format!("{}.rec", lsid.unwrap_or_default());
            return Ok(self
                .download(&call, dir, &name, DownloadKind::Recording, None, &opts)
                .await?
                .file);
        }
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled {
                operation: call.op.into(),
            });
        }
        let text = self.xml(call).await?;
        // An `<error>` answer, or a document that is not the report, is refused before a file
        // exists; a session report must describe the session asked for.
        let name = match lsid {
            Some(lsid) => {
                let sessions = xml::parse_sessions(&text)?;
                if !sessions.iter().any(|s| s.lsid == lsid) {
                    return Err(Error::NotFound {
                        what: format!("session {lsid}"),
                    });
                }
                format!("{lsid}.xml")
            }
            None => {
                if let Some(m) = xml::error_message(&text) {
                    return Err(Error::Api {
                        status: None,
                        message: m,
                    });
                }
                xml::root_name(&text)?;
                let params: Vec<String> = window.params().into_iter().map(|(_, v)| v).collect();
                format!("{kind}-{}.xml", params.join("-"))
            }
        };
        save_new(dir, &name, text.as_bytes())
    }

    /// `ArchiveListing` for a day (an empty day is an empty list).
    pub async fn list_archives(&self, date: Date) -> Result<Vec<ArchiveEntry>> {
        let q = vec![
            ("generate_report".to_string(), "ArchiveListing".to_string()),
            ("date".to_string(), date.to_string()),
        ];
        xml::parse_archives(
            &self
                .xml(Call::get("list_archives", "/api/reporting", q))
                .await?,
        )
    }

    /// Streams one `Archive` (gzip, kept compressed) into `dir`.
    pub async fn download_archive(
        &self,
        kind: ArchiveKind,
        date: Date,
        index: u32,
        dir: impl AsRef<Path>,
        opts: TransferOptions,
    ) -> Result<DownloadedFile> {
        let q = vec![
            ("generate_report".to_string(), "Archive".to_string()),
            ("type".to_string(), kind.as_str().to_string()),
            ("date".to_string(), date.to_string()),
            ("index".to_string(), index.to_string()),
        ];
        let call = Call::get("download_archive", "/api/reporting", q);
        let name = format!("archive-{}-{date}-{index}.json.gz", kind.as_str());
        Ok(self
            .download(
                &call,
                dir.as_ref(),
                &name,
                DownloadKind::Archive,
                None,
                &opts,
            )
            .await?
            .file)
    }
}

/// A token's lifetime from the `expires_in` the appliance sent: any number (negative, huge,
/// fractional) or numeric string, clamped to 1 s … [`MAX_SERVER_WAIT`]; absent or unreadable
/// means the appliance default of an hour.
fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let secs = match expires_in {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| !s.is_nan())
    .unwrap_or(3600.0);
    Duration::try_from_secs_f64(secs.clamp(1.0, MAX_SERVER_WAIT.as_secs_f64()))
        .unwrap_or(Duration::from_secs(3600))
}

/// Writes `bytes` into `dir` as `name` (or a numbered name when taken), atomically and without
/// replacing anything, and describes the file as a download.
fn save_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<DownloadedFile> {
    use std::io::Write;
    let name = crate::rules::backup::sanitize_file_name(name).ok_or_else(|| {
        Error::invalid_input("file name", format!("`{name}` is not a safe file name"))
    })?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let dest = dir.join(&name);
    let mut f = crate::support::fsutil::AtomicFile::create(&dest)?;
    f.write_all(bytes)
        .map_err(|e| Error::io("writing", &dest, e))?;
    let (path, _) = f.commit_unique(None)?;
    Ok(DownloadedFile {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(name),
        path,
        size: bytes.len() as u64,
        sha256: crate::support::hash::sha256_hex(bytes),
    })
}

fn check_lsid(lsid: &str) -> Result<()> {
    if lsid.is_empty()
        || lsid.len() > 128
        || !lsid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid_input(
            "lsid",
            format!("`{lsid}` is not a session id"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_are_clamped() {
        use serde_json::json;
        let l = |v: serde_json::Value| token_lifetime(Some(&v));
        assert_eq!(token_lifetime(None), Duration::from_secs(3600));
        assert_eq!(l(json!(120)), Duration::from_secs(120));
        assert_eq!(l(json!(1e20)), MAX_SERVER_WAIT);
        assert_eq!(l(json!(u64::MAX)), MAX_SERVER_WAIT);
        assert_eq!(l(json!(-5)), Duration::from_secs(1));
        assert_eq!(l(json!(0)), Duration::from_secs(1));
        assert_eq!(l(json!("90")), Duration::from_secs(90));
        assert_eq!(l(json!("soon")), Duration::from_secs(3600));
        assert_eq!(l(json!(null)), Duration::from_secs(3600));
        assert_eq!(l(json!({"a": 1})), Duration::from_secs(3600));
        // And the refresh instant computed from it never overflows.
        let life = l(json!(1e300));
        let margin = (life / 10).min(Duration::from_secs(300));
        let _ = Instant::now() + life - margin;
    }
}
