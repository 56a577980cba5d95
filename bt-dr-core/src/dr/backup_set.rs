//! Backup sets: everything a site needs to be rebuilt, taken in one run and described by a
//! manifest — the NSB, recordings since the last run, the certificate bundle, `/appliance`
//! records and the Vault key record — plus what the NSB does not cover.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use std::collections::HashMap;

use crate::api::{
    BackupDownload, BackupOptions, CancelToken, Client, Progress, ReportKind, Session, TimeWindow,
    TransferOptions,
};
use crate::dr::manifest::ReportingRef;
use crate::dr::manifest::{MANIFEST, rel};
use crate::dr::reporting_archive::ReportingArchive;
use crate::dr::store::{BackupStore, Checkpoint, CleanReport};
// The set's shape lives in `manifest` and its check in `verify` (so `store` needs neither this
// module nor the API client); re-exported here so `bt_dr_core::backup_set::…` paths keep working.
pub use crate::dr::manifest::{
    ApplianceNsb, CertificateEntry, FileKind, Manifest, ManifestFile, NotCovered, NsbEntry,
    PartOutcome, PartStatus, RecordingsEntry, ReportingKindOutcome, ReportingStatus, SetPart,
};
pub use crate::dr::verify::{VerifyProblem, VerifyReport, VerifyReportView, verify_backup_set};
use crate::model::site::Site;
use crate::rules::certificate::{BundleCheckOptions, check_certificate_bundle};
use crate::rules::finding::{Finding, Severity};
use crate::rules::records::{ApplianceIdentity, ApplianceRecord, VaultKeyRecord};
use crate::support::error::{Error, ErrorKind, ErrorReport, Result};

/// A Vault key file to keep with the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VaultKeyInput {
    /// Downloaded key file.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub path: PathBuf,
    /// It was downloaded with a password.
    pub password_protected: bool,
    /// The day it was exported from `/login`, when the caller knows it; otherwise the day of
    /// the file's modification time. The record carries this day (not the set's), so "pairs
    /// with the same day's backup" fails for a key kept from an earlier day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date")))]
    pub exported_on: Option<time::Date>,
}

/// Options of a backup set run.
#[derive(Clone)]
pub struct BackupSetOptions {
    /// Site backup password.
    pub backup_password: Option<SecretString>,
    /// Take reporting data (recordings, session reports, exit surveys) since the last run.
    pub recordings: bool,
    /// Which kinds to take (None: every kind the product has).
    pub reporting_kinds: Option<Vec<ReportKind>>,
    /// How far back the first run reaches for each kind.
    pub first_run_recordings_days: u32,
    /// The p12 exported from `/appliance`.
    pub certificate_bundle: Option<PathBuf>,
    /// Its passphrase.
    pub certificate_passphrase: Option<SecretString>,
    /// Expiry horizon and RSA minimum of the bundle check (normally the inventory's
    /// `[thresholds]`).
    pub thresholds: crate::model::inventory::Thresholds,
    /// `/appliance` record files (TOML/JSON).
    pub appliance_records: Vec<PathBuf>,
    /// The Vault key.
    pub vault_key: Option<VaultKeyInput>,
    /// The other appliances of the site to take an NSB from too, each through its own client
    /// (normally the backup appliance of a failover pair: the guide asks for /login data per
    /// appliance, since failover settings are not carried by the data sync). Their NSBs go to
    /// `appliances/<host>/` in the set; a failure makes the set partial.
    pub other_appliances: Vec<Client>,
    /// NSB download progress.
    pub progress: Option<Progress>,
    /// Stops the run; nothing of it is kept.
    pub cancel: Option<CancelToken>,
}

impl Default for BackupSetOptions {
    fn default() -> Self {
        Self {
            backup_password: None,
            recordings: true,
            reporting_kinds: None,
            first_run_recordings_days: 7,
            certificate_bundle: None,
            certificate_passphrase: None,
            thresholds: Default::default(),
            appliance_records: Vec::new(),
            vault_key: None,
            other_appliances: Vec::new(),
            progress: None,
            cancel: None,
        }
    }
}

/// The JSON form of [`BackupSetOptions`] every binding passes, read by
/// [`BackupSetOptions::from_json`] (secrets are wrapped the moment they are read). Public so
/// the bindings' type declarations are generated from it.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct BackupSetOptionsInput {
    /// The site backup password, when backups are password protected.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub backup_password: Option<SecretString>,
    /// Take reporting data (recordings, session reports, exit surveys) since the last run
    /// (default true).
    pub recordings: Option<bool>,
    /// Which reporting kinds to take (default: every kind the product has; `[]`: none).
    pub reporting_kinds: Option<Vec<ReportKind>>,
    /// How far back the first run reaches for each kind, in days (default 7).
    pub first_run_recordings_days: Option<u32>,
    /// The p12 exported from `/appliance`, kept and checked with the set.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub certificate_bundle: Option<PathBuf>,
    /// Its passphrase.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub certificate_passphrase: Option<SecretString>,
    /// Limits of the bundle check, as in an inventory's `[thresholds]` (absent: the inventory's
    /// or the defaults).
    pub thresholds: Option<crate::model::inventory::Thresholds>,
    /// `/appliance` record files (TOML, JSON or YAML).
    pub appliance_records: Vec<PathBuf>,
    /// The downloaded Vault key file.
    pub vault_key: Option<VaultKeyInput>,
}

impl BackupSetOptions {
    /// Options from their JSON form — the one every binding passes through: `backup_password`,
    /// `recordings`, `reporting_kinds` (snake-case [`ReportKind`] names), `first_run_recordings_days`,
    /// `certificate_bundle`, `certificate_passphrase`, `thresholds` (as in an inventory),
    /// `appliance_records`, `vault_key` (`{"path", "password_protected"}`); every field optional, `null` means the defaults, an
    /// unknown field is refused. Clients, progress and cancellation are not JSON: set them on
    /// the result.
    ///
    /// ```
    /// use bt_dr_core::backup_set::BackupSetOptions;
    /// let o = BackupSetOptions::from_json(serde_json::json!({"reporting_kinds": ["session_recording"]})).unwrap();
    /// assert!(o.recordings && o.reporting_kinds.unwrap().len() == 1);
    /// assert!(BackupSetOptions::from_json(serde_json::json!({"recording": false})).is_err());
    /// ```
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        Self::from_json_with(value, &crate::model::inventory::Thresholds::default())
    }

    /// Like [`BackupSetOptions::from_json`], with `thresholds` taken from `inventory_thresholds`
    /// when the JSON has none (absent or `null`): a caller that names the site through an
    /// inventory (the C API, the `bt-dr` command) judges the set's certificate bundle by the
    /// same limits the audit reads from that inventory.
    ///
    /// ```
    /// use bt_dr_core::{backup_set::BackupSetOptions, Thresholds};
    /// let fleet = Thresholds { certificate_horizon_days: 45, ..Thresholds::default() };
    /// let o = BackupSetOptions::from_json_with(serde_json::Value::Null, &fleet).unwrap();
    /// assert_eq!(o.thresholds.certificate_horizon_days, 45);
    /// let o = BackupSetOptions::from_json_with(
    ///     serde_json::json!({"thresholds": {"certificate_horizon_days": 400}}), &fleet).unwrap();
    /// assert_eq!(o.thresholds.certificate_horizon_days, 400);
    /// ```
    pub fn from_json_with(
        value: serde_json::Value,
        inventory_thresholds: &crate::model::inventory::Thresholds,
    ) -> Result<Self> {
        let o: BackupSetOptionsInput = if value.is_null() {
            BackupSetOptionsInput::default()
        } else {
            // serde's message may quote the offending value: never echo it (it may be a secret).
            serde_json::from_value(value).map_err(|e| {
                let msg = e.to_string();
                let msg = if msg.starts_with("unknown field") || msg.starts_with("unknown variant")
                {
                    msg.split(", expected").next().unwrap_or(&msg).to_string()
                } else {
                    "an option has the wrong type or value".to_string()
                };
                Error::invalid_input("backup set options", msg)
            })?
        };
        let d = Self::default();
        Ok(Self {
            backup_password: o.backup_password,
            recordings: o.recordings.unwrap_or(d.recordings),
            reporting_kinds: o.reporting_kinds,
            first_run_recordings_days: o
                .first_run_recordings_days
                .unwrap_or(d.first_run_recordings_days),
            certificate_bundle: o.certificate_bundle,
            certificate_passphrase: o.certificate_passphrase,
            thresholds: o.thresholds.unwrap_or_else(|| inventory_thresholds.clone()),
            appliance_records: o.appliance_records,
            vault_key: o.vault_key,
            ..d
        })
    }
}

impl std::fmt::Debug for BackupSetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSetOptions")
            .field(
                "backup_password",
                &self.backup_password.as_ref().map(|_| "[REDACTED]"),
            )
            .field("recordings", &self.recordings)
            .field("reporting_kinds", &self.reporting_kinds)
            .field("certificate_bundle", &self.certificate_bundle)
            .field(
                "certificate_passphrase",
                &self.certificate_passphrase.as_ref().map(|_| "[REDACTED]"),
            )
            .field("appliance_records", &self.appliance_records)
            .field("vault_key", &self.vault_key)
            .field(
                "other_appliances",
                &self
                    .other_appliances
                    .iter()
                    .map(Client::base_url)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The outcome of one set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupSetReport {
    /// Site.
    pub site: String,
    /// Set id.
    pub set_id: String,
    /// Set folder.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// A part failed: the set was kept with the NSB and every part that succeeded
    /// (see [`BackupSetReport::failed_parts`]).
    #[serde(default)]
    pub partial: bool,
    /// Crash leftovers of earlier runs the store removed before this run.
    #[serde(default)]
    pub cleaned: CleanReport,
}

impl BackupSetReport {
    /// Parts that failed, with their errors.
    pub fn failed_parts(&self) -> impl Iterator<Item = &PartOutcome> {
        self.manifest.failed_parts()
    }
}

fn copy_into(src: &Path, dest_dir: &Path) -> Result<(PathBuf, String, u64)> {
    let name = src.file_name().ok_or_else(|| {
        Error::invalid_input("path", format!("{} has no file name", src.display()))
    })?;
    let dest = dest_dir.join(name);
    let mut input = std::fs::File::open(src).map_err(|e| Error::io("opening", src, e))?;
    let mut out = crate::support::fsutil::AtomicFile::create(&dest)?;
    std::io::copy(&mut input, out.file()).map_err(|e| Error::io("copying", src, e))?;
    // The caller's file name may equal one the set writes itself (`vault-key.json`): never
    // replace, take a numbered name instead.
    let (dest, _) = out.commit_unique(None)?;
    let (sha, size) = crate::support::hash::sha256_file(&dest)?;
    Ok((dest, sha, size))
}

/// Takes one backup set of `site` through `client` into `store`.
///
/// Without the NSB there is no set: its failure is the run's error and nothing is kept. Once
/// the NSB is in, a failing later part (recordings, certificate, records, Vault key) does not
/// throw the night away: the set is finished with everything that succeeded, the failed part is
/// recorded in the manifest with its typed error, and the set is marked partial. Cancelling
/// aborts the whole set. Crash leftovers of earlier runs older than
/// [`DEFAULT_LEFTOVER_AGE`](crate::dr::store::DEFAULT_LEFTOVER_AGE) are removed first.
pub async fn run_backup_set(
    store: &BackupStore,
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
) -> Result<BackupSetReport> {
    let cleaned = store.clean_leftovers(&site.name, crate::dr::store::DEFAULT_LEFTOVER_AGE)?;
    let started = OffsetDateTime::now_utc();
    let (id, staging) = store.begin_set(&site.name, started)?;
    let result = build_set(store, site, client, opts, started, &id, &staging).await;
    match result {
        Ok((manifest, checkpoint)) => {
            // A failed rename keeps the complete set in staging (the error names it); the next
            // leftover clean finishes it. Nothing that was downloaded is deleted here.
            let (id, path) = store.finish_set(&site.name, &id, &staging)?;
            if let Some(c) = checkpoint {
                store.save_checkpoint(&site.name, &c)?;
            }
            Ok(BackupSetReport {
                site: site.name.clone(),
                set_id: id,
                path,
                partial: manifest.partial,
                manifest,
                cleaned,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// Records how a part went; a cancel aborts the set.
/// Records how a part went: `None` — not asked for — is skipped; `Ok` is ok and hands the
/// part's result back; a failure becomes a `set_part_failed` finding and a failed part (the
/// set goes on, partial), except a cancellation, which ends the run.
fn settle_part<T>(
    part: SetPart,
    r: Option<Result<T>>,
    parts: &mut Vec<PartOutcome>,
    findings: &mut Vec<Finding>,
    site: &str,
) -> Result<Option<T>> {
    let r = match r {
        None => {
            parts.push(PartOutcome::skipped(part));
            return Ok(None);
        }
        Some(r) => r,
    };
    match r {
        Ok(v) => {
            parts.push(PartOutcome::ok(part));
            return Ok(Some(v));
        }
        Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
        Err(e) => {
            tracing::warn!(
                site,
                part = part.as_str(),
                "part of the backup set failed: {e}"
            );
            findings.push(
                Finding::new(
                    "set_part_failed",
                    Severity::Error,
                    site,
                    format!("{part} not (completely) in this set: {e}"),
                )
                .with_remediation(
                    "The set is partial: fix the cause and take another set; the NSB and the \
                     other parts of this one are kept.",
                ),
            );
            parts.push(PartOutcome::failed(part, &e));
        }
    }
    Ok(None)
}

/// A folder name for an appliance from its base URL (`https://10.0.0.2:8443` →
/// `10.0.0.2_8443`): two appliances may share a host name behind different ports.
fn appliance_folder(base_url: &str) -> String {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .trim_end_matches('/');
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

/// The NSB of every other appliance the options name, with each appliance's role. Every NSB
/// that arrives is kept; the first failure is the part's error.
async fn take_appliance_nsbs(
    client: &Client,
    opts: &BackupSetOptions,
    dir: &Path,
    main: &crate::api::BackupDownload,
    files: &mut Vec<ManifestFile>,
    out: &mut Vec<ApplianceNsb>,
) -> Result<()> {
    let role_of = |c: &Client| {
        let c = c.clone();
        async move { c.check_health().await.ok().map(|h| h.failover_role) }
    };
    out.push(ApplianceNsb {
        host: client.host().to_string(),
        base_url: client.base_url().to_string(),
        role: role_of(client).await,
        file: main.file.file_name.clone(),
        version: main.sidecar.version.without_build(),
        password_protected: main.sidecar.password_protected,
        main: true,
    });
    let mut first_error = None;
    for other in &opts.other_appliances {
        let sub = dir
            .join("appliances")
            .join(appliance_folder(other.base_url()));
        let got = async {
            std::fs::create_dir_all(&sub).map_err(|e| Error::io("creating", &sub, e))?;
            other
                .download_backup(
                    &sub,
                    BackupOptions {
                        password: opts.backup_password.clone(),
                        progress: None,
                        cancel: opts.cancel.clone(),
                    },
                )
                .await
        }
        .await;
        match got {
            Ok(b) => {
                files.push(ManifestFile {
                    path: rel(&b.file.path, dir),
                    kind: FileKind::Nsb,
                    size: b.file.size,
                    sha256: b.file.sha256.clone(),
                });
                files.push(ManifestFile {
                    path: rel(&b.sidecar_path, dir),
                    kind: FileKind::Sidecar,
                    size: b.sidecar_size,
                    sha256: b.sidecar_sha256.clone(),
                });
                out.push(ApplianceNsb {
                    host: other.host().to_string(),
                    base_url: other.base_url().to_string(),
                    role: role_of(other).await,
                    file: rel(&b.file.path, dir),
                    version: b.sidecar.version.without_build(),
                    password_protected: b.sidecar.password_protected,
                    main: false,
                });
            }
            Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
            Err(e) => {
                tracing::warn!(appliance = other.base_url(), "NSB not taken: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Lists the sessions a per-session kind is taken from (presentations have their own listing).
async fn list_for(client: &Client, kind: ReportKind, since: i64) -> Result<Vec<Session>> {
    let window = TimeWindow::since(since);
    if kind.is_presentation() {
        client.list_presentations(&window).await
    } else {
        client.list_sessions(&window).await
    }
}

/// What one kind brought into the set.
struct KindTake {
    refs: Vec<ReportingRef>,
    until: i64,
    error: Option<Error>,
}

/// Takes one per-session kind: every session of the window that ended, reusing what the
/// archive already holds; `until` stops at the first session still running or not taken.
#[allow(clippy::too_many_arguments)]
async fn take_session_kind(
    client: &Client,
    archive: &ReportingArchive,
    kind: ReportKind,
    sessions: &[Session],
    since: i64,
    now: i64,
    cancel: Option<&CancelToken>,
    site: &str,
    findings: &mut Vec<Finding>,
) -> Result<KindTake> {
    let dir = archive.kind_dir(kind)?;
    let have = archive.existing(kind)?;
    let mut take = KindTake {
        refs: Vec::new(),
        until: now,
        error: None,
    };
    for s in sessions {
        let start = s.start_time.map(|t| t.unix_timestamp()).unwrap_or(since);
        if start < since {
            continue;
        }
        if s.end_time.is_none() {
            take.until = take.until.min(start);
            continue;
        }
        if let Some(p) = have.get(&s.lsid) {
            take.refs
                .push(archive.reference(kind, Some(&s.lsid), p, None)?);
            continue;
        }
        let window = TimeWindow::Lsid {
            lsid: s.lsid.clone(),
        };
        let transfer = TransferOptions {
            progress: None,
            cancel: cancel.cloned(),
        };
        match client.download_report(kind, &window, &dir, transfer).await {
            Ok(f) => take.refs.push(archive.reference(
                kind,
                Some(&s.lsid),
                &f.path,
                Some((f.sha256, f.size)),
            )?),
            Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
            // The session has nothing of this kind.
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                take.until = take.until.min(start);
                findings.push(Finding::new(
                    "reporting_download_failed",
                    Severity::Warning,
                    format!("{site}/{}", s.lsid),
                    format!("{kind} not downloaded: {e}"),
                ));
                // Without the permission every other session fails the same way.
                let stop = e.kind() == ErrorKind::PermissionDenied;
                take.error.get_or_insert(e);
                if stop {
                    break;
                }
            }
        }
    }
    Ok(take)
}

/// Takes a time-window kind (exit surveys) from `since` to `now` as one file.
async fn take_window_kind(
    client: &Client,
    archive: &ReportingArchive,
    kind: ReportKind,
    since: i64,
    now: i64,
    cancel: Option<&CancelToken>,
) -> Result<KindTake> {
    let dir = archive.kind_dir(kind)?;
    let window = TimeWindow::StartTime {
        unix: since,
        seconds: u64::try_from(now.saturating_sub(since)).unwrap_or(0),
    };
    let transfer = TransferOptions {
        progress: None,
        cancel: cancel.cloned(),
    };
    let mut take = KindTake {
        refs: Vec::new(),
        until: now,
        error: None,
    };
    match client.download_report(kind, &window, &dir, transfer).await {
        Ok(f) => {
            take.refs
                .push(archive.reference(kind, None, &f.path, Some((f.sha256, f.size)))?)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
        Err(e) => {
            take.until = since;
            take.error = Some(e);
        }
    }
    Ok(take)
}

/// The reporting part: every kind the product has (or the options name), each gated on its
/// permission, each from its own checkpoint. Files go to the site's reporting archive and the
/// set refers to them. Returns the error of the first kind that failed; a kind the account may
/// not take is a finding, not a failure, and its checkpoint stays where it was so it catches
/// up once allowed.
#[allow(clippy::too_many_arguments)]
async fn take_reporting(
    store: &BackupStore,
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
    id: &str,
    refs: &mut Vec<ReportingRef>,
    findings: &mut Vec<Finding>,
    entry: &mut Option<RecordingsEntry>,
    checkpoint: &mut Option<Checkpoint>,
) -> Result<()> {
    let product = client.product();
    let kinds: Vec<ReportKind> = match &opts.reporting_kinds {
        // A kind named twice is taken once (it would otherwise be referenced twice).
        Some(k) => {
            let mut seen = std::collections::HashSet::new();
            k.iter()
                .copied()
                .filter(|k| k.report_type(product).is_some() && seen.insert(*k))
                .collect()
        }
        None => ReportKind::for_product(product).collect(),
    };
    let prev = store.checkpoint(&site.name)?;
    let archive = store.reporting_archive(&site.name)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let first_run = now - i64::from(opts.first_run_recordings_days) * 86400;
    // Unknown permissions (the account may not read get_api_info) mean: try, and take a 403
    // as the answer.
    let permissions = client.get_api_info().await.ok().map(|i| i.permissions);
    let cancel = opts.cancel.as_ref();
    let mut next = prev.clone();
    next.last_set = Some(id.to_string());
    let mut outcomes = Vec::new();
    let mut first_error: Option<Error> = None;
    // One listing per kind of listing (sessions, presentations), from the earliest checkpoint
    // of the kinds that use it; a failed listing fails each of them with the same error.
    let mut listings: HashMap<bool, std::result::Result<Vec<Session>, ErrorReport>> =
        HashMap::new();
    let mut listing_from: HashMap<bool, i64> = HashMap::new();
    for k in kinds.iter().filter(|k| k.per_session()) {
        let since = prev.until(*k).unwrap_or(first_run);
        listing_from
            .entry(k.is_presentation())
            .and_modify(|f| *f = (*f).min(since))
            .or_insert(since);
    }
    for kind in kinds {
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled {
                operation: "run_backup_set".into(),
            });
        }
        let since = prev.until(kind).unwrap_or(first_run);
        let mut outcome = ReportingKindOutcome {
            kind,
            status: ReportingStatus::Ok,
            count: 0,
            since,
            until: since,
            error: None,
        };
        let not_permitted = |why: String| {
            Finding::new(
                "reporting_not_permitted",
                Severity::Warning,
                &site.name,
                format!("{kind} not archived: {why}"),
            )
            .with_remediation(format!(
                "Give the API account {}, or keep {kind} another way; bt-dr takes it from where \
                 it stopped once allowed.",
                kind.permission()
            ))
        };
        // A 403 is the account's answer only when get_api_info could not tell; an account that
        // holds the permission and is refused anyway is a failure to look into.
        let granted = permissions.as_ref().is_some_and(|p| kind.allowed_by(p));
        let refused = |e: ErrorKind| e == ErrorKind::PermissionDenied && !granted;
        if permissions.as_ref().is_some_and(|p| !kind.allowed_by(p)) {
            findings.push(not_permitted(format!(
                "the API account lacks {}",
                kind.permission()
            )));
            outcome.status = ReportingStatus::NotPermitted;
            outcomes.push(outcome);
            continue;
        }
        let take = if kind.per_session() {
            let key = kind.is_presentation();
            if let std::collections::hash_map::Entry::Vacant(slot) = listings.entry(key) {
                let from = listing_from.get(&key).copied().unwrap_or(since);
                slot.insert(match list_for(client, kind, from).await {
                    Ok(l) => Ok(l),
                    Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
                    Err(e) => {
                        let report = e.report();
                        if !refused(e.kind()) {
                            first_error.get_or_insert(e);
                        }
                        Err(report)
                    }
                });
            }
            match &listings[&key] {
                Ok(sessions) => {
                    take_session_kind(
                        client, &archive, kind, sessions, since, now, cancel, &site.name, findings,
                    )
                    .await?
                }
                Err(report) => {
                    if refused(report.kind) {
                        findings.push(not_permitted(report.message.clone()));
                        outcome.status = ReportingStatus::NotPermitted;
                    } else {
                        outcome.status = ReportingStatus::Failed;
                    }
                    outcome.error = Some(report.clone());
                    outcomes.push(outcome);
                    continue;
                }
            }
        } else {
            take_window_kind(client, &archive, kind, since, now, cancel).await?
        };
        outcome.count = take.refs.len();
        outcome.until = take.until;
        refs.extend(take.refs);
        match take.error {
            Some(e) if refused(e.kind()) => {
                findings.push(not_permitted(e.to_string()));
                outcome.status = ReportingStatus::NotPermitted;
                outcome.until = since;
                outcome.error = Some(e.report());
            }
            Some(e) => {
                outcome.status = ReportingStatus::Failed;
                outcome.error = Some(e.report());
                first_error.get_or_insert(e);
            }
            None => {}
        }
        // Only forward: a failed session holds the position at its start.
        if outcome.status != ReportingStatus::NotPermitted {
            next.reporting_until.insert(kind, outcome.until.max(since));
        }
        outcomes.push(outcome);
    }
    if let Some(u) = next.reporting_until.get(&ReportKind::SessionRecording) {
        next.recordings_until = Some(*u);
    }
    *entry = Some(RecordingsEntry {
        since: outcomes.iter().map(|o| o.since).min().unwrap_or(now),
        until: outcomes.iter().map(|o| o.until).min().unwrap_or(now),
        count: refs.len(),
        kinds: outcomes,
    });
    *checkpoint = Some(next);
    first_error.map_or(Ok(()), Err)
}
async fn build_set(
    store: &BackupStore,
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
    started: OffsetDateTime,
    id: &str,
    dir: &Path,
) -> Result<(Manifest, Option<Checkpoint>)> {
    let mut files = Vec::new();
    let mut findings = Vec::new();
    let mut parts = Vec::new();
    let check_cancel = || -> Result<()> {
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            Err(Error::Cancelled {
                operation: "run_backup_set".into(),
            })
        } else {
            Ok(())
        }
    };

    // The NSB: without it there is no set.
    let nsb = take_nsb(site, client, opts, dir, &mut files, &mut findings).await?;
    parts.push(PartOutcome::ok(SetPart::Nsb));

    let mut appliance_nsbs = Vec::new();
    let r = if opts.other_appliances.is_empty() {
        None
    } else {
        check_cancel()?;
        Some(take_appliance_nsbs(client, opts, dir, &nsb, &mut files, &mut appliance_nsbs).await)
    };
    settle_part(
        SetPart::ApplianceNsbs,
        r,
        &mut parts,
        &mut findings,
        &site.name,
    )?;

    // Reporting data since the checkpoint. The checkpoint only moves past sessions whose data
    // is safely in the archive, so a failed download is retried next run.
    let mut recordings = None;
    let mut reporting = Vec::new();
    let mut checkpoint = None;
    let r = if opts.recordings {
        check_cancel()?;
        Some(
            take_reporting(
                store,
                site,
                client,
                opts,
                id,
                &mut reporting,
                &mut findings,
                &mut recordings,
                &mut checkpoint,
            )
            .await,
        )
    } else {
        None
    };
    settle_part(
        SetPart::Recordings,
        r,
        &mut parts,
        &mut findings,
        &site.name,
    )?;

    let r = opts.certificate_bundle.as_ref().map(|bundle| {
        check_cancel()?;
        take_certificate(site, opts, bundle, dir, &mut files)
    });
    let certificate = settle_part(
        SetPart::Certificate,
        r,
        &mut parts,
        &mut findings,
        &site.name,
    )?;

    let mut appliance_records = Vec::new();
    let r = (!opts.appliance_records.is_empty()).then(|| {
        check_cancel()?;
        take_appliance_records(opts, dir, &mut files, &mut appliance_records)
    });
    settle_part(
        SetPart::ApplianceRecords,
        r,
        &mut parts,
        &mut findings,
        &site.name,
    )?;

    let r = opts.vault_key.as_ref().map(|vk| {
        check_cancel()?;
        take_vault_key(site, vk, dir, started, &mut files, &mut findings)
    });
    let vault_key = settle_part(SetPart::VaultKey, r, &mut parts, &mut findings, &site.name)?;
    check_cancel()?;

    // Whatever a failed part left on disk but not in the manifest goes, so the set verifies.
    drop_unlisted(dir, &files)?;

    let not_covered = not_covered(
        site,
        recordings.as_ref(),
        &appliance_records,
        vault_key.as_ref(),
        certificate.as_ref(),
    );

    let partial = parts.iter().any(|p| p.status == PartStatus::Failed);
    let manifest = Manifest {
        format: 3,
        site: site.name.clone(),
        fqdn: site.fqdn.clone(),
        product: site.product,
        site_version: nsb.sidecar.version.clone(),
        source_host: client.host().to_string(),
        created_at: started,
        completed_at: OffsetDateTime::now_utc(),
        nsb: NsbEntry {
            file: nsb.file.file_name.clone(),
            version: nsb.sidecar.version.without_build(),
            password_protected: nsb.sidecar.password_protected,
        },
        appliance_nsbs,
        files,
        recordings,
        reporting,
        certificate,
        appliance_records,
        vault_key,
        not_covered,
        findings,
        parts,
        partial,
    };
    crate::support::fsutil::write_json_atomic(dir.join(MANIFEST), &manifest)?;
    Ok((manifest, checkpoint))
}

/// Step 1: the NSB and its sidecar — without them there is no set. Warns when the
/// appliance's version differs from the inventory's.
async fn take_nsb(
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
    dir: &Path,
    files: &mut Vec<ManifestFile>,
    findings: &mut Vec<Finding>,
) -> Result<BackupDownload> {
    let nsb = client
        .download_backup(
            dir,
            BackupOptions {
                password: opts.backup_password.clone(),
                progress: opts.progress.clone(),
                cancel: opts.cancel.clone(),
            },
        )
        .await?;
    files.push(ManifestFile {
        path: nsb.file.file_name.clone(),
        kind: FileKind::Nsb,
        size: nsb.file.size,
        sha256: nsb.file.sha256.clone(),
    });
    files.push(ManifestFile {
        path: rel(&nsb.sidecar_path, dir),
        kind: FileKind::Sidecar,
        size: nsb.sidecar_size,
        sha256: nsb.sidecar_sha256.clone(),
    });
    if nsb.sidecar.version != site.version {
        findings.push(
            Finding::new(
                "inventory_version_differs",
                Severity::Warning,
                &site.name,
                format!(
                    "the appliance runs {} but the inventory says {}",
                    nsb.sidecar.version.release(),
                    site.version.release()
                ),
            )
            .with_remediation("Update the inventory so restore checks use the real version."),
        );
    }
    Ok(nsb)
}

/// Step 4: a copy of the certificate bundle, checked against the site's names and the
/// inventory's thresholds. An unreadable bundle is kept with a finding, not a failed part.
fn take_certificate(
    site: &Site,
    opts: &BackupSetOptions,
    bundle: &Path,
    dir: &Path,
    files: &mut Vec<ManifestFile>,
) -> Result<CertificateEntry> {
    let cdir = dir.join("certificates");
    let (dest, sha, size) = copy_into(bundle, &cdir)?;
    files.push(ManifestFile {
        path: rel(&dest, dir),
        kind: FileKind::CertificateBundle,
        size,
        sha256: sha,
    });
    let pass = opts
        .certificate_passphrase
        .clone()
        .unwrap_or_else(|| SecretString::from(""));
    let bytes = std::fs::read(&dest).map_err(|e| Error::io("reading", &dest, e))?;
    let check_opts = BundleCheckOptions::for_site(&site.fqdn)
        .with_appliances(site.appliances.iter().map(|a| a.hostname.clone()))
        .with_thresholds(&opts.thresholds);
    let (leaf_sha256, leaf_not_after, cert_findings) =
        match check_certificate_bundle(&bytes, &pass, &check_opts) {
            Ok(r) => (
                r.leaf_cert().map(|c| c.sha256.clone()),
                r.leaf_cert().map(|c| c.not_after),
                r.findings,
            ),
            Err(e) => (
                None,
                None,
                vec![Finding::new(
                    "certificate_unreadable",
                    Severity::Error,
                    &site.name,
                    e.to_string(),
                )],
            ),
        };
    Ok(CertificateEntry {
        file: rel(&dest, &cdir),
        leaf_sha256,
        leaf_not_after,
        findings: cert_findings,
    })
}

/// Step 5: the `/appliance` records. Every record that loads is kept; the first failure is
/// the part's error.
fn take_appliance_records(
    opts: &BackupSetOptions,
    dir: &Path,
    files: &mut Vec<ManifestFile>,
    out: &mut Vec<ApplianceIdentity>,
) -> Result<()> {
    let mut first_error = None;
    for rp in &opts.appliance_records {
        match take_appliance_record(rp, dir, files) {
            Ok(identity) => out.push(identity),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Step 5, for one `/appliance` record: loaded, saved into the set, listed.
fn take_appliance_record(
    rp: &Path,
    dir: &Path,
    files: &mut Vec<ManifestFile>,
) -> Result<ApplianceIdentity> {
    let record = ApplianceRecord::load(rp)?;
    let dest = record.save(dir.join("appliance"))?;
    let (sha, size) = crate::support::hash::sha256_file(&dest)?;
    files.push(ManifestFile {
        path: rel(&dest, dir),
        kind: FileKind::ApplianceRecord,
        size,
        sha256: sha,
    });
    Ok(record.identity)
}

/// Step 6: the Vault key record, and a copy of the key when it is password protected.
fn take_vault_key(
    site: &Site,
    vk: &VaultKeyInput,
    dir: &Path,
    started: OffsetDateTime,
    files: &mut Vec<ManifestFile>,
    findings: &mut Vec<Finding>,
) -> Result<VaultKeyRecord> {
    // The day the key was exported (its file's time), not the day the set was taken:
    // a key kept from an earlier day may no longer decrypt this NSB's Vault.
    let exported = vk.exported_on.unwrap_or_else(|| {
        std::fs::metadata(&vk.path)
            .and_then(|m| m.modified())
            .ok()
            .map(|t| OffsetDateTime::from(t).date())
            .unwrap_or(started.date())
    });
    let record = VaultKeyRecord::from_file(&vk.path, &site.name, exported, vk.password_protected)?;
    // An unprotected key is recorded but not copied: spreading it would widen the
    // exposure.
    let mut new_files = Vec::new();
    // The record first, under the name the set reserves for it; the key copy then
    // takes its own name or, if the caller's key file is called the same, a numbered one.
    let rp = crate::support::fsutil::write_json_new_atomic(
        dir.join("vault").join("vault-key.json"),
        &record,
    )?;
    let (sha, size) = crate::support::hash::sha256_file(&rp)?;
    new_files.push(ManifestFile {
        path: rel(&rp, dir),
        kind: FileKind::VaultKeyRecord,
        size,
        sha256: sha,
    });
    if vk.password_protected {
        let (dest, sha, size) = copy_into(&vk.path, &dir.join("vault"))?;
        new_files.push(ManifestFile {
            path: rel(&dest, dir),
            kind: FileKind::VaultKey,
            size,
            sha256: sha,
        });
    }
    // Key and record are one part: both or neither.
    files.extend(new_files);
    findings.extend(record.findings());
    Ok(record)
}

/// What the NSB does not cover, each marked with whether this set holds it instead.
fn not_covered(
    site: &Site,
    recordings: Option<&RecordingsEntry>,
    appliance_records: &[ApplianceIdentity],
    vault_key: Option<&VaultKeyRecord>,
    certificate: Option<&CertificateEntry>,
) -> Vec<NotCovered> {
    let kind_ok = |k: &ReportKind| {
        recordings.is_some_and(|r| {
            r.kinds
                .iter()
                .any(|o| o.kind == *k && o.status == ReportingStatus::Ok)
        })
    };
    let in_set = |id: &str, kinds: &[ReportKind]| match id {
        _ if !kinds.is_empty() => kinds
            .iter()
            .filter(|k| k.report_type(site.product).is_some())
            .all(kind_ok),
        "appliance_settings" => !appliance_records.is_empty(),
        "vault_encryption_key" => vault_key.is_some_and(|v| v.password_protected),
        "certificates" => certificate.is_some(),
        _ => false,
    };
    let coverage = crate::rules::backup::nsb_coverage(site.product, false);
    coverage
        .excluded
        .iter()
        .filter(|e| e.id != "logged_history")
        .map(|e| NotCovered {
            id: e.id.into(),
            label: e.label.into(),
            in_this_set: in_set(e.id, e.report_kinds),
            save_instead: e.save_instead.into(),
        })
        .collect()
}

/// Removes files under the staging folder `dir` that the manifest will not list (left by a
/// failed part); empty folders are left (verify ignores them).
fn drop_unlisted(dir: &Path, files: &[ManifestFile]) -> Result<()> {
    let listed: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .map_err(|e| Error::io("listing", &d, e))?
            .flatten()
        {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if !listed.contains(rel(&p, dir).as_str()) {
                std::fs::remove_file(&p).map_err(|e| Error::io("removing", &p, e))?;
            }
        }
    }
    Ok(())
}

/// One site of a backup job.
#[derive(Debug, Clone)]
pub struct JobSite {
    /// The site.
    pub site: Site,
    /// Client of the appliance to back up from (normally the primary).
    pub client: Client,
    /// Options.
    pub options: BackupSetOptions,
}

/// A site's outcome in a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SiteOutcome {
    /// Site.
    pub site: String,
    /// The set, when one was taken (also when it is partial).
    pub report: Option<BackupSetReport>,
    /// The typed error, when no set was taken.
    pub error: Option<crate::support::error::ErrorReport>,
    /// A set was taken but a part of it failed (see the report's `failed_parts`).
    #[serde(default)]
    pub partial: bool,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// The outcome of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JobReport {
    /// Per site, in input order.
    pub sites: Vec<SiteOutcome>,
}

impl JobReport {
    /// Sites that failed (no set taken).
    pub fn failed(&self) -> impl Iterator<Item = &SiteOutcome> {
        self.sites.iter().filter(|s| s.error.is_some())
    }

    /// Sites whose set was taken but is partial.
    pub fn partial(&self) -> impl Iterator<Item = &SiteOutcome> {
        self.sites.iter().filter(|s| s.partial)
    }

    /// Every site has a complete set.
    pub fn all_complete(&self) -> bool {
        self.sites.iter().all(|s| s.error.is_none() && !s.partial)
    }
}

/// How many sites a backup job takes at once when the caller does not say: each site's
/// transfer is bound by its own appliance and disk, so a few overlap well, and more would only
/// share the same disk.
pub const DEFAULT_JOB_CONCURRENCY: usize = 4;

/// Backs up many sites, at most `concurrency` at a time (see [`DEFAULT_JOB_CONCURRENCY`]); one
/// failing site does not stop the others.
pub async fn run_backup_job(
    store: &BackupStore,
    sites: Vec<JobSite>,
    concurrency: usize,
) -> JobReport {
    let store = Arc::new(store.clone());
    let mut outcomes: Vec<(usize, SiteOutcome)> =
        futures_util::stream::iter(sites.into_iter().enumerate())
            .map(|(i, job)| {
                let store = store.clone();
                async move {
                    let t = std::time::Instant::now();
                    let r = run_backup_set(&store, &job.site, &job.client, &job.options).await;
                    let elapsed_ms = t.elapsed().as_millis() as u64;
                    let outcome = match r {
                        Ok(rep) => {
                            if rep.partial {
                                tracing::warn!(site = %job.site.name, "backup set is partial");
                            }
                            SiteOutcome {
                                site: job.site.name.clone(),
                                partial: rep.partial,
                                report: Some(rep),
                                error: None,
                                elapsed_ms,
                            }
                        }
                        Err(e) => {
                            tracing::warn!(site = %job.site.name, "backup failed: {e}");
                            SiteOutcome {
                                site: job.site.name.clone(),
                                report: None,
                                error: Some(e.report()),
                                partial: false,
                                elapsed_ms,
                            }
                        }
                    };
                    (i, outcome)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    outcomes.sort_by_key(|(i, _)| *i);
    JobReport {
        sites: outcomes.into_iter().map(|(_, o)| o).collect(),
    }
}
