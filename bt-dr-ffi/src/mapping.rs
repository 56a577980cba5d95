//! The thin mapping the C ABI ([`crate::capi`]) and the uniffi exports ([`crate::uniffi_api`])
//! share: plain Rust arguments (strings, bytes, options) in, core results out.
//!
//! Nothing here decides anything about disaster recovery: every rule lives in `bt-dr-core`.
//! This module only parses the textual forms foreign callers pass (`"rs"`, `"2026-11-20"`,
//! `"primary"`, a JSON time window) with the core's own parsers, and turns core values into the
//! JSON documents described in `include/bt_dr.h`.

use std::future::Future;
use std::path::Path;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bt_dr_core::api::{
    ArchiveKind, BlockingClient, CancelToken, Client, ClientOptions, DownloadedFile, Progress,
    ReportKind, RetryPolicy, TimeWindow,
};
use bt_dr_core::backup_set::JobSite;
use bt_dr_core::document::{Format, parse_document};
use bt_dr_core::retention::RetentionCandidate;
use bt_dr_core::{
    ApplianceRecord, AtlasCheckOptions, AtlasReport, AuditInput, AuditOptions, AuditReport,
    BackupName, BackupSetOptions, BackupStore, BundleCheckOptions, BundleReport, Error,
    FailoverMode, FailoverOptions, FailoverPlan, FailoverRole, FailoverTimeline, Inventory,
    JobReport, Product, ProductVersion, Result, RetentionPlan, RetentionPolicy, SecretString, Site,
    SiteLive, UpgradeTable, VaultKeyRecord,
};
use serde::Serialize;
use serde_json::{Value, json};

pub use bt_dr_core::dates::{format_date, format_time, parse_date, parse_time};

/// Serializes a core value to a JSON value.
pub fn to_value<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::invalid_input("result", format!("cannot be written as JSON: {e}")))
}

/// Serializes a core value to compact JSON text.
pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    Ok(to_value(v)?.to_string())
}

/// Parses `rs`/`pra` with the core's parser.
pub fn parse_product(s: &str) -> Result<Product> {
    s.parse()
}

/// Parses an optional product.
pub fn parse_opt_product(s: Option<&str>) -> Result<Option<Product>> {
    s.map(parse_product).transpose()
}

/// Parses a document format name (`toml`, `json`, `yaml`) with the core's parser; `None` is
/// the core's default format ([`Format::default`]).
pub fn parse_format(s: Option<&str>) -> Result<Format> {
    s.map_or_else(|| Ok(Format::default()), str::parse)
}

/// Parses one of the core's enum names (its serde spelling, e.g. `state`, `unplanned`) into
/// `T`, so the accepted names are the core's and never a list kept here. An unknown name is
/// [`Error::InvalidInput`] on `what`, with serde's message (which names the accepted values;
/// the input is a caller's keyword, never a secret).
fn core_name<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_value(Value::String(s.trim().to_string()))
        .map_err(|e| Error::invalid_input(what, e.to_string()))
}

/// Parses a failover role (`primary`, `backup`, `none`) with the core's parser.
pub fn parse_role(s: &str) -> Result<FailoverRole> {
    s.parse()
}

/// Parses an archive kind (`state` or `event`, the core's names).
pub fn parse_archive_kind(s: &str) -> Result<ArchiveKind> {
    core_name(s, "kind")
}

// ---------------------------------------------------------------------------------------------
// versions, sites, backups, certificates, records

/// `parse_version`: the core's view of the version ([`ProductVersion::view`]).
pub fn parse_version(text: &str) -> Result<Value> {
    let v: ProductVersion = text.parse()?;
    to_value(&v.view())
}

/// `load_inventory`: loads and validates an inventory file (format by extension).
pub fn load_inventory(path: &str) -> Result<Inventory> {
    Inventory::load(path)
}

/// Parses and validates inventory text.
pub fn parse_inventory(text: &str, format: Option<&str>) -> Result<Inventory> {
    Inventory::parse(text, parse_format(format)?)
}

/// `parse_backup_name`: the core's view of the name ([`BackupName::view`]: the file name and
/// every part as text).
pub fn parse_backup_name(name: &str) -> Result<Value> {
    let n: BackupName = name.parse()?;
    to_value(&n.view())
}

/// `format_backup_name`: the file name built from its parts.
pub fn format_backup_name(
    version: &str,
    site: &str,
    date: &str,
    time_of_day: Option<&str>,
    id: &str,
) -> Result<String> {
    let n = BackupName::new(
        version.parse()?,
        site,
        parse_date(date, "date")?,
        time_of_day.map(|t| parse_time(t, "time")).transpose()?,
        id,
    )?;
    Ok(n.to_string())
}

/// `load_upgrade_table` from a file (format by extension).
pub fn load_upgrade_table(path: &str) -> Result<UpgradeTable> {
    UpgradeTable::load(path)
}

/// Parses upgrade-table text.
pub fn parse_upgrade_table(text: &str, format: Option<&str>) -> Result<UpgradeTable> {
    parse_document(text, parse_format(format)?, "upgrade table", None)
}

/// `check_restore`. A missing table is the empty table (only same-version restores are supported).
pub fn check_restore(
    backup_version: &str,
    site_version: &str,
    table: Option<&UpgradeTable>,
    backup_product: Option<&str>,
    site_product: Option<&str>,
) -> Result<bt_dr_core::RestoreCheck> {
    let empty = UpgradeTable::default();
    Ok(bt_dr_core::check_restore(
        &backup_version.parse()?,
        &site_version.parse()?,
        table.unwrap_or(&empty),
        parse_opt_product(backup_product)?,
        parse_opt_product(site_product)?,
    ))
}

/// `check_restore_onto`: [`check_restore`] onto `site` (its version and product); for a site
/// with a failover pair, the core's warning and steps. A missing table is the empty table.
pub fn check_restore_onto(
    site: &Site,
    backup_version: &str,
    backup_product: Option<&str>,
    table: Option<&UpgradeTable>,
) -> Result<bt_dr_core::RestoreCheck> {
    let empty = UpgradeTable::default();
    Ok(bt_dr_core::check_restore_onto(
        site,
        &backup_version.parse()?,
        parse_opt_product(backup_product)?,
        table.unwrap_or(&empty),
    ))
}

/// `nsb_coverage`.
pub fn nsb_coverage(product: &str, include_logged_history: bool) -> Result<Value> {
    to_value(&bt_dr_core::nsb_coverage(
        parse_product(product)?,
        include_logged_history,
    ))
}

/// An optional JSON document as a value: `None`, `""` and `null` are JSON `null` (the core's
/// "defaults"); malformed JSON is [`Error::Parse`] naming `what`.
pub fn json_or_null(text: Option<&str>, what: &str) -> Result<Value> {
    match text.map(str::trim) {
        None | Some("") | Some("null") => Ok(Value::Null),
        Some(text) => parse_document(text, Format::Json, what, None),
    }
}

/// Bundle-check options from JSON (`null`/absent = defaults).
pub fn bundle_options(options_json: Option<&str>) -> Result<BundleCheckOptions> {
    match options_json.map(str::trim) {
        None | Some("") | Some("null") => Ok(BundleCheckOptions::default()),
        Some(text) => parse_document(text, Format::Json, "certificate check options", None),
    }
}

/// `check_certificate_bundle` on bytes.
pub fn check_certificate_bundle(
    p12: &[u8],
    passphrase: &str,
    options_json: Option<&str>,
) -> Result<BundleReport> {
    let opts = bundle_options(options_json)?;
    bt_dr_core::check_certificate_bundle(p12, &SecretString::from(passphrase), &opts)
}

/// `check_certificate_bundle` on a file.
pub fn check_certificate_bundle_file(
    path: &str,
    passphrase: &str,
    options_json: Option<&str>,
) -> Result<BundleReport> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    check_certificate_bundle(&bytes, passphrase, options_json)
}

/// A bundle report as JSON: the core's view, the report with its verdict
/// ([`BundleReport::view`]).
pub fn bundle_report_value(r: &BundleReport) -> Result<Value> {
    to_value(&r.view())
}

/// An appliance record as JSON: the core's view (the record's fields and `file_name`, as every
/// binding returns it), with `saved_path` added only when it was saved (C folds loading and
/// saving into one call; without a save the JSON is exactly the other bindings').
pub fn appliance_record_value(r: &ApplianceRecord, saved: Option<&Path>) -> Result<Value> {
    let mut v = to_value(&r.view())?;
    if let (Some(o), Some(p)) = (v.as_object_mut(), saved) {
        o.insert("saved_path".into(), p.display().to_string().into());
    }
    Ok(v)
}

/// `appliance_record`: loads and validates a record file, optionally saving it as JSON into `save_dir`.
pub fn appliance_record(path: &str, save_dir: Option<&str>) -> Result<Value> {
    let r = ApplianceRecord::load(path)?;
    let saved = save_dir.map(|d| r.save(d)).transpose()?;
    appliance_record_value(&r, saved.as_deref())
}

/// Like [`appliance_record`] from text in `format`.
pub fn appliance_record_text(
    text: &str,
    format: Option<&str>,
    save_dir: Option<&str>,
) -> Result<Value> {
    let r: ApplianceRecord = parse_document(text, parse_format(format)?, "appliance record", None)?;
    r.validate()?;
    let saved = save_dir.map(|d| r.save(d)).transpose()?;
    appliance_record_value(&r, saved.as_deref())
}

/// `vault_key_record`: the core's view, the record's fields with `findings` alongside
/// ([`VaultKeyRecord::view`]).
pub fn vault_key_record(
    key_path: &str,
    site: &str,
    date: &str,
    password_protected: bool,
) -> Result<Value> {
    let r = VaultKeyRecord::from_file(
        key_path,
        site,
        parse_date(date, "date")?,
        password_protected,
    )?;
    to_value(&r.view())
}

// ---------------------------------------------------------------------------------------------
// API client

/// Everything a client can be configured with: its URL and credentials, and the core's
/// [`ClientOptions`] (which the core applies). Secrets stay in [`SecretString`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://host[:port]`.
    pub base_url: String,
    /// OAuth client id.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<SecretString>,
    /// Every other setting; unset ones are the core's defaults.
    pub options: ClientOptions,
}

impl ClientConfig {
    /// A configuration for `base_url` with every option at the core's default.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_string(),
            client_id: None,
            client_secret: None,
            options: ClientOptions::default(),
        }
    }

    /// Builds the blocking client (the core validates everything).
    pub fn build(&self) -> Result<BlockingClient> {
        let mut b = Client::builder(&self.base_url);
        if let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) {
            b = b.credentials(id, secret.clone());
        } else if self.client_id.is_some() || self.client_secret.is_some() {
            return Err(Error::invalid_input(
                "credentials",
                "client id and client secret go together",
            ));
        }
        BlockingClient::new(b.options(&self.options).build()?)
    }
}

/// A retry policy from its parts in milliseconds.
pub fn retry_policy(
    max_attempts: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
    max_total_ms: u64,
    max_rate_limit_waits: u32,
    max_retry_after_ms: u64,
) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(initial_backoff_ms),
        max_backoff: Duration::from_millis(max_backoff_ms),
        max_total: Duration::from_millis(max_total_ms),
        max_rate_limit_waits,
        max_retry_after: Duration::from_millis(max_retry_after_ms),
    }
}

/// Parses a time window (the core's JSON form): `{"type": "start_time", "unix": 1767225600,
/// "seconds": 86400}`, `{"type": "start_date", "date": "2026-01-01", "days": 1}`, `end_time`,
/// `end_date`, `{"type": "lsid", "lsid": "..."}`.
pub fn time_window(window_json: &str) -> Result<TimeWindow> {
    parse_document(window_json, Format::Json, "time window", None)
}

/// Progress and cancellation of a transfer.
#[derive(Clone, Default)]
pub struct Transfer {
    /// Called as bytes arrive.
    pub progress: Option<Progress>,
    /// Stops the transfer when cancelled.
    pub cancel: Option<CancelToken>,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl Transfer {
    fn options(&self) -> bt_dr_core::api::TransferOptions {
        bt_dr_core::api::TransferOptions {
            progress: self.progress.clone(),
            cancel: self.cancel.clone(),
        }
    }
}

/// `download_backup`.
pub fn download_backup(
    c: &BlockingClient,
    dir: &str,
    password: Option<&str>,
    t: &Transfer,
) -> Result<Value> {
    let opts = bt_dr_core::api::BackupOptions {
        password: password.map(SecretString::from),
        progress: t.progress.clone(),
        cancel: t.cancel.clone(),
    };
    to_value(&c.download_backup(dir, opts)?)
}

/// `download_recording`.
pub fn download_recording(
    c: &BlockingClient,
    lsid: &str,
    dir: &str,
    t: &Transfer,
) -> Result<Value> {
    to_value(&c.download_recording(lsid, dir, t.options())?)
}

/// `download_report`: one piece of Reporting API data of `kind` (the core's snake-case names)
/// for `window_json` (a time window, see [`time_window`]) saved into `dir`.
pub fn download_report(
    c: &BlockingClient,
    kind: &str,
    window_json: &str,
    dir: &str,
    t: &Transfer,
) -> Result<DownloadedFile> {
    let kind: ReportKind = kind.parse()?;
    let window = time_window(window_json)?;
    c.block_on(c.client().download_report(kind, &window, dir, t.options()))
}

/// `list_archives`.
pub fn list_archives(c: &BlockingClient, date: &str) -> Result<Value> {
    to_value(&c.list_archives(parse_date(date, "date")?)?)
}

/// `download_archive`.
pub fn download_archive(
    c: &BlockingClient,
    kind: &str,
    date: &str,
    index: u32,
    dir: &str,
    t: &Transfer,
) -> Result<Value> {
    to_value(&c.download_archive(
        parse_archive_kind(kind)?,
        parse_date(date, "date")?,
        index,
        dir,
        t.options(),
    )?)
}

/// `set_failover_role`.
pub fn set_failover_role(
    c: &BlockingClient,
    role: &str,
    data_sync_first: bool,
    force: bool,
) -> Result<Value> {
    to_value(&c.set_failover_role(parse_role(role)?, data_sync_first, force)?)
}

/// `list_sessions`.
pub fn list_sessions(c: &BlockingClient, window_json: &str) -> Result<Value> {
    to_value(&c.list_sessions(&time_window(window_json)?)?)
}

/// The names of the core's public operations, as JSON (`[{"name", "area", "summary"}]`).
pub fn operations_json() -> Result<String> {
    to_json(&bt_dr_core::OPERATIONS)
}

// ---------------------------------------------------------------------------------------------
// DR operations

/// The site of the inventory named `name` (`NotFound` otherwise).
pub fn site_of(inventory: &Inventory, name: &str) -> Result<Site> {
    inventory
        .site(name)
        .cloned()
        .ok_or_else(|| Error::NotFound {
            what: format!("site `{name}` in the inventory"),
        })
}

/// Opens (creating if needed) the backup store at `dir`.
pub fn store(dir: &str) -> Result<BackupStore> {
    BackupStore::open(dir)
}

/// The secrets of a backup set, which the C and uniffi APIs take as separate arguments.
const SET_SECRETS: [&str; 2] = ["backup_password", "certificate_passphrase"];

/// Backup-set options: `options_json` parsed by the core ([`BackupSetOptions::from_json`]:
/// every field optional, `None`/`null` = defaults, an unknown field is
/// [`Error::InvalidInput`]) plus what is not JSON: the secrets (separate arguments here, so a
/// secret in `options_json` is refused), the clients of the site's other appliances, and the
/// transfer's progress and cancellation.
///
/// C API contract: without `"thresholds"` (absent or `null`) in `options_json`, the bundle
/// check uses `inventory`'s `[thresholds]` ([`BackupSetOptions::from_json_with`]). The C and
/// uniffi APIs name a site only through an inventory, so a backup set judges the certificate by
/// the same limits the audit does.
pub fn backup_set_options(
    options_json: Option<&str>,
    backup_password: Option<&str>,
    certificate_passphrase: Option<&str>,
    inventory: &Inventory,
    other_appliances: Vec<Client>,
    t: &Transfer,
) -> Result<BackupSetOptions> {
    let value = json_or_null(options_json, "backup set options")?;
    if let Some(key) = SET_SECRETS.into_iter().find(|k| value.get(k).is_some()) {
        return Err(Error::invalid_input(
            "backup set options",
            format!("`{key}` is a separate argument, never part of the options JSON"),
        ));
    }
    let mut o = BackupSetOptions::from_json_with(value, &inventory.thresholds)?;
    o.backup_password = backup_password.map(SecretString::from);
    o.certificate_passphrase = certificate_passphrase.map(SecretString::from);
    o.other_appliances = other_appliances;
    o.progress = t.progress.clone();
    o.cancel = t.cancel.clone();
    Ok(o)
}

/// `run_backup_set` on the client's runtime.
pub fn run_backup_set(
    store_dir: &str,
    site: &Site,
    client: &BlockingClient,
    opts: &BackupSetOptions,
) -> Result<Value> {
    let store = store(store_dir)?;
    to_value(&client.block_on(bt_dr_core::run_backup_set(
        &store,
        site,
        client.client(),
        opts,
    ))?)
}

/// One site of a backup job.
#[derive(Debug, Clone)]
pub struct JobEntry {
    /// The site.
    pub site: Site,
    /// Client of the appliance to back up from.
    pub client: BlockingClient,
    /// Options (secrets included).
    pub options: BackupSetOptions,
}

/// `run_backup_job`: every entry, at most `concurrency` at a time (`None`: the core's
/// [`bt_dr_core::DEFAULT_JOB_CONCURRENCY`]), on the first entry's runtime. `cancel` stops every
/// site of the job.
pub fn run_backup_job(
    store_dir: &str,
    jobs: &[JobEntry],
    concurrency: Option<usize>,
    cancel: Option<&CancelToken>,
) -> Result<JobReport> {
    let store = store(store_dir)?;
    let Some(rt) = jobs.first().map(|j| j.client.clone()) else {
        return Ok(JobReport { sites: Vec::new() });
    };
    let sites = jobs
        .iter()
        .map(|j| JobSite {
            site: j.site.clone(),
            client: j.client.client().clone(),
            options: BackupSetOptions {
                cancel: cancel.cloned().or_else(|| j.options.cancel.clone()),
                ..j.options.clone()
            },
        })
        .collect();
    let concurrency = concurrency.unwrap_or(bt_dr_core::DEFAULT_JOB_CONCURRENCY);
    Ok(rt.block_on(bt_dr_core::run_backup_job(&store, sites, concurrency)))
}

/// `verify_backup_set`: the verdict and the core's view of the report
/// ([`bt_dr_core::VerifyReport::view`]: the report with `ok`).
pub fn verify_backup_set(path: &str) -> Result<(bool, Value)> {
    let r = bt_dr_core::verify_backup_set(path)?;
    Ok((r.ok(), to_value(&r.view())?))
}

/// `list_backup_sets`: the complete sets of a site, newest first.
pub fn list_backup_sets(store_dir: &str, site: &str) -> Result<Value> {
    to_value(&store(store_dir)?.list_sets(site)?)
}

/// A retention policy from JSON (`{"keep_last", "keep_hourly", "keep_daily", "keep_weekly",
/// "keep_monthly", "keep_yearly", "keep_within_hours"}`).
pub fn retention_policy(policy_json: &str) -> Result<RetentionPolicy> {
    parse_document(policy_json, Format::Json, "retention policy", None)
}

/// `plan_retention` over the sets of a site in the store (the newest sets are verified).
pub fn plan_retention(store_dir: &str, site: &str, policy_json: &str) -> Result<RetentionPlan> {
    let policy = retention_policy(policy_json)?;
    store(store_dir)?.plan_retention(site, &policy)
}

/// `plan_retention` over given sets (`[{"id", "created_at": RFC 3339, "verified": bool|null}]`).
pub fn plan_retention_for_sets(
    site: &str,
    sets_json: &str,
    policy_json: &str,
) -> Result<RetentionPlan> {
    let policy = retention_policy(policy_json)?;
    let sets: Vec<RetentionCandidate> =
        parse_document(sets_json, Format::Json, "retention sets", None)?;
    bt_dr_core::plan_retention(site, &sets, &policy)
}

/// A retention plan from its JSON.
pub fn retention_plan(plan_json: &str) -> Result<RetentionPlan> {
    parse_document(plan_json, Format::Json, "retention plan", None)
}

/// `apply_retention`: removes what the plan marks; the removed set ids.
pub fn apply_retention(store_dir: &str, plan: &RetentionPlan) -> Result<Vec<String>> {
    store(store_dir)?.apply_retention(plan)
}

/// Audit options parsed by the core ([`AuditOptions::from_json`]: `{"max_backup_age_hours",
/// "max_sync_age_hours", "certificate_horizon_days", "now": RFC 3339}`, every field optional;
/// an absent limit is the inventory's `[thresholds]`, applied by the core; an unknown field is
/// [`Error::InvalidInput`]).
pub fn audit_options(options_json: Option<&str>) -> Result<AuditOptions> {
    AuditOptions::from_json(json_or_null(options_json, "audit options")?)
}

/// `audit`.
pub fn audit(
    inventory: &Inventory,
    store_dir: Option<&str>,
    live: &[SiteLive],
    table: Option<&UpgradeTable>,
    options_json: Option<&str>,
) -> Result<AuditReport> {
    let store = store_dir.map(store).transpose()?;
    let options = audit_options(options_json)?;
    let empty = UpgradeTable::default();
    bt_dr_core::audit(AuditInput {
        inventory,
        store: store.as_ref(),
        live,
        upgrade_table: table.unwrap_or(&empty),
        options: &options,
    })
}

/// An audit report as JSON: the core's view ([`AuditReport::view`]: the report with `worst`).
pub fn audit_report_value(r: &AuditReport) -> Result<Value> {
    to_value(&r.view())
}

/// The live state of a site's appliances (`clients`: hostname and client of each), asked
/// concurrently on the first client's runtime.
pub fn collect_live(site: &str, clients: &[(String, BlockingClient)]) -> SiteLive {
    let Some(rt) = clients.first().map(|(_, c)| c.clone()) else {
        return SiteLive {
            site: site.to_string(),
            appliances: Vec::new(),
        };
    };
    let pairs: Vec<(String, Client)> = clients
        .iter()
        .map(|(h, c)| (h.clone(), c.client().clone()))
        .collect();
    rt.block_on(bt_dr_core::collect_live(site, &pairs))
}

/// `check_atlas_cluster`: samples every node of `site`'s Atlas cluster (`clients`: hostname
/// and client of each) on the first client's runtime. `options_json`: the core's
/// [`AtlasCheckOptions`] (`{"sample_interval_ms": N}`; `None`/`null` = defaults).
pub fn check_atlas_cluster(
    site: &Site,
    clients: &[(String, BlockingClient)],
    options_json: Option<&str>,
) -> Result<AtlasReport> {
    let opts = AtlasCheckOptions::from_json(json_or_null(options_json, "atlas check options")?)?;
    let pairs: Vec<(String, Client)> = clients
        .iter()
        .map(|(h, c)| (h.clone(), c.client().clone()))
        .collect();
    let check = bt_dr_core::check_atlas_cluster(site, &pairs, &opts);
    match clients.first() {
        Some((_, rt)) => rt.block_on(check),
        // No client, so no runtime: the core refuses such a call before its first await, so
        // one poll gives its answer.
        None => match std::pin::pin!(check).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(Error::invalid_input("clients", "no client was given")),
        },
    }
}

/// `render_runbook` (Markdown).
pub fn render_runbook(
    site: &Site,
    store_dir: Option<&str>,
    table: Option<&UpgradeTable>,
) -> Result<String> {
    let store = store_dir.map(store).transpose()?;
    let empty = UpgradeTable::default();
    bt_dr_core::render_runbook(site, store.as_ref(), table.unwrap_or(&empty))
}

/// A failover mode (`planned` or `unplanned`, the core's names).
pub fn failover_mode(s: &str) -> Result<FailoverMode> {
    core_name(s, "mode")
}

/// Failover options parsed by the core ([`FailoverOptions::from_json`]): `{"settle_timeout_ms",
/// "poll_interval_ms", "redirect_verify_timeout_ms", "confirm_timeout_ms", "force_unknown",
/// "demote_old_primary", "force_certificate_mismatch", "site_url", "redirect": {"command":
/// [argv...], "timeout_ms"}}`, every field optional; `None`, `""` or `null` = defaults; an
/// unknown field is [`Error::InvalidInput`].
pub fn failover_options(options_json: Option<&str>) -> Result<FailoverOptions> {
    FailoverOptions::from_json(json_or_null(options_json, "failover options")?)
}

/// Failover options from the timing arguments of the older entry points (0 ms = the core's
/// default), through the same parser.
pub fn failover_timing(settle_timeout_ms: u64, poll_interval_ms: u64) -> Result<FailoverOptions> {
    FailoverOptions::from_json(json!({
        "settle_timeout_ms": settle_timeout_ms,
        "poll_interval_ms": poll_interval_ms,
    }))
}

/// `plan_failover_with` (no side effects); of `opts` only `force_unknown` matters here.
pub fn plan_failover(
    site: &Site,
    first: (&str, &BlockingClient),
    second: (&str, &BlockingClient),
    mode: &str,
    opts: &FailoverOptions,
) -> Result<FailoverPlan> {
    let mode = failover_mode(mode)?;
    first.1.block_on(bt_dr_core::failover::plan_failover_with(
        site,
        (first.0, first.1.client()),
        (second.0, second.1.client()),
        mode,
        opts,
    ))
}

/// A failover plan from its JSON.
pub fn failover_plan(plan_json: &str) -> Result<FailoverPlan> {
    parse_document(plan_json, Format::Json, "failover plan", None)
}

/// `execute_failover` with `opts` (see [`failover_options`], [`failover_timing`]).
pub fn execute_failover(
    site: &Site,
    first: (&str, &BlockingClient),
    second: (&str, &BlockingClient),
    plan: &FailoverPlan,
    opts: &FailoverOptions,
) -> Result<FailoverTimeline> {
    first.1.block_on(bt_dr_core::execute_failover(
        site,
        (first.0, first.1.client()),
        (second.0, second.1.client()),
        plan,
        opts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_options_from_json() {
        let d = failover_options(None).unwrap();
        assert_eq!(d, FailoverOptions::default());
        assert!(!d.force_unknown && !d.demote_old_primary);
        assert_eq!(failover_options(Some(" null ")).unwrap(), d);
        let o = failover_options(Some(
            r#"{"settle_timeout_ms": 0, "poll_interval_ms": 50, "force_unknown": true, "demote_old_primary": true}"#,
        ))
        .unwrap();
        assert_eq!(o.settle_timeout, d.settle_timeout);
        assert_eq!(o.poll_interval, Duration::from_millis(50));
        assert!(o.force_unknown && o.demote_old_primary);
        assert_eq!(
            failover_options(Some(r#"{"force": true}"#))
                .unwrap_err()
                .kind(),
            bt_dr_core::ErrorKind::InvalidInput
        );
        assert_eq!(
            failover_options(Some("{")).unwrap_err().kind(),
            bt_dr_core::ErrorKind::Parse
        );
        assert_eq!(failover_timing(0, 0).unwrap(), d);
        let r = failover_options(Some(
            r#"{"redirect": {"command": ["swing", "--key", "k3y"], "timeout_ms": 2000}, "site_url": "https://support.example.com", "confirm_timeout_ms": 900}"#,
        ))
        .unwrap();
        assert_eq!(r.redirect.unwrap().command, ["swing", "--key", "k3y"]);
        assert_eq!(r.confirm_timeout, Duration::from_millis(900));
    }

    #[test]
    fn backup_set_options_keep_secrets_out_of_json() {
        let inv = Inventory::default();
        let t = Transfer::default();
        let o = backup_set_options(
            Some(r#"{"reporting_kinds": ["session_recording"]}"#),
            Some("s3cret-pw"),
            None,
            &inv,
            Vec::new(),
            &t,
        )
        .unwrap();
        assert!(o.backup_password.is_some() && o.certificate_passphrase.is_none());
        assert!(!format!("{o:?}").contains("s3cret-pw"));
        for bad in [
            r#"{"backup_password": "s3cret-pw"}"#,
            r#"{"recordingz": true}"#,
            r#"{"reporting_kinds": ["exit_survey"]}"#,
        ] {
            let e = backup_set_options(Some(bad), None, None, &inv, Vec::new(), &t).unwrap_err();
            assert_eq!(e.kind(), bt_dr_core::ErrorKind::InvalidInput, "{bad}");
            assert!(!e.to_string().contains("s3cret-pw"));
        }
        let mut inv = Inventory::default();
        inv.thresholds.certificate_horizon_days = 45;
        let o = backup_set_options(None, None, None, &inv, Vec::new(), &t).unwrap();
        assert_eq!(o.thresholds.certificate_horizon_days, 45);
        let o = backup_set_options(
            Some(r#"{"thresholds": {"certificate_horizon_days": 400}}"#),
            None,
            None,
            &inv,
            Vec::new(),
            &t,
        )
        .unwrap();
        assert_eq!(o.thresholds.certificate_horizon_days, 400);
        // `null` is "not given": the inventory's limits, as for an absent key.
        let o = backup_set_options(
            Some(r#"{"thresholds": null}"#),
            None,
            None,
            &inv,
            Vec::new(),
            &t,
        )
        .unwrap();
        assert_eq!(o.thresholds.certificate_horizon_days, 45);
    }

    #[test]
    fn results_are_the_core_views() {
        let v = parse_version("19.1.8 (37380-749b17ca)").unwrap();
        let core: ProductVersion = "19.1.8 (37380-749b17ca)".parse().unwrap();
        assert_eq!(v, to_value(&core.view()).unwrap());
        assert_eq!(v["build_number"], 37380);
        assert!(v.get("version").is_none() && v.get("build").is_none());

        let dir = std::env::temp_dir().join(format!("bt-dr-ffi-vk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("vault.key");
        std::fs::write(&key, b"opaque key bytes").unwrap();
        let v = vault_key_record(key.to_str().unwrap(), "support", "2026-11-20", false).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Flat: the record's own fields beside its findings, never `{record, findings}`.
        assert!(v.get("record").is_none());
        assert_eq!(v["site"], "support");
        assert_eq!(v["date"], "2026-11-20");
        assert_eq!(v["findings"][0]["id"], "vault_key_unprotected");
    }

    #[test]
    fn names_are_read_by_the_core() {
        assert_eq!(parse_format(Some(" YML ")).unwrap(), Format::Yaml);
        // Not given: the core's default, never a name kept here.
        assert_eq!(parse_format(None).unwrap(), Format::default());
        assert_eq!(parse_archive_kind("event").unwrap(), ArchiveKind::Event);
        assert_eq!(failover_mode("unplanned").unwrap(), FailoverMode::Unplanned);
        for e in [
            parse_format(Some("xml")).unwrap_err(),
            parse_archive_kind("States").unwrap_err(),
            failover_mode("forced").unwrap_err(),
        ] {
            assert_eq!(e.kind(), bt_dr_core::ErrorKind::InvalidInput, "{e}");
        }
        assert!(
            failover_mode("forced")
                .unwrap_err()
                .to_string()
                .contains("planned")
        );
    }

    #[test]
    fn audit_and_atlas_options_from_the_core() {
        assert_eq!(audit_options(None).unwrap(), AuditOptions::default());
        assert_eq!(
            audit_options(Some(r#"{"max_backup_age_hours": 48}"#))
                .unwrap()
                .max_backup_age_hours,
            Some(48)
        );
        for bad in [
            r#"{"max_backup_age": 48}"#,
            r#"{"max_backup_age_hours": "x"}"#,
        ] {
            assert_eq!(
                audit_options(Some(bad)).unwrap_err().kind(),
                bt_dr_core::ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        assert_eq!(
            audit_options(Some("{")).unwrap_err().kind(),
            bt_dr_core::ErrorKind::Parse
        );
    }

    #[test]
    fn dates_are_iso() {
        let v = parse_backup_name("bomgar-24.1.2-support-20261120T010203-5f3a9c01.nsb").unwrap();
        assert_eq!(v["date"], "2026-11-20");
        assert_eq!(v["time"], "01:02:03");
        assert_eq!(
            format_backup_name(
                "24.1.2",
                "support",
                "2026-11-20",
                Some("01:02:03"),
                "5f3a9c01"
            )
            .unwrap(),
            "bomgar-24.1.2-support-20261120T010203-5f3a9c01.nsb"
        );
    }

    #[test]
    fn windows_parse() {
        assert_eq!(
            time_window(r#"{"type":"start_date","date":"2026-01-02","days":3}"#).unwrap(),
            TimeWindow::StartDate {
                date: time::macros::date!(2026 - 01 - 02),
                days: 3
            }
        );
        let e = time_window(r#"{"type":"start_date","date":"x","days":3}"#).unwrap_err();
        assert_eq!(e.kind(), bt_dr_core::ErrorKind::Parse);
        let e = time_window(r#"{"type":"nope"}"#).unwrap_err();
        assert_eq!(e.kind(), bt_dr_core::ErrorKind::Parse);
    }

    #[test]
    fn credentials_go_together() {
        let mut c = ClientConfig::new("https://localhost:1");
        c.client_id = Some("id".into());
        assert_eq!(
            c.build().unwrap_err().kind(),
            bt_dr_core::ErrorKind::InvalidInput
        );
    }
}
