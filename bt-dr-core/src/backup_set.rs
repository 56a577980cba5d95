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
    BackupOptions, CancelToken, Client, Progress, ReportKind, Session, TimeWindow, TransferOptions,
};
use crate::reporting_archive::{ReportingArchive, ReportingRef};
use crate::store::{BackupStore, Checkpoint, CleanReport, MANIFEST};
use crate::{
    ApplianceRecord, BundleCheckOptions, Error, ErrorKind, ErrorReport, Finding, Product,
    ProductVersion, Result, Severity, Site, VaultKeyRecord, check_certificate_bundle,
};

/// What a file in a set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The NSB site backup.
    Nsb,
    /// The NSB's sidecar metadata.
    Sidecar,
    /// A session recording.
    Recording,
    /// The p12 certificate bundle.
    CertificateBundle,
    /// An `/appliance` settings record.
    ApplianceRecord,
    /// The (password-protected) Vault key file.
    VaultKey,
    /// The Vault key record.
    VaultKeyRecord,
}

/// One file of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to the set folder, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: FileKind,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The NSB of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NsbEntry {
    /// File name.
    pub file: String,
    /// Version the site ran when the backup was taken.
    pub version: ProductVersion,
    /// Protected by a backup password.
    pub password_protected: bool,
}

/// The NSB of one appliance, in a set that took one from each appliance of a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplianceNsb {
    /// The appliance's host, as the client reached it.
    pub host: String,
    /// Base URL of the appliance's API (tells two appliances on one host apart).
    pub base_url: String,
    /// Its failover role when the set was taken (None: it did not say).
    pub role: Option<crate::FailoverRole>,
    /// Path of the NSB in the set, `/`-separated.
    pub file: String,
    /// The version the appliance ran.
    pub version: ProductVersion,
    /// Protected by a backup password.
    pub password_protected: bool,
    /// This is the set's main NSB ([`Manifest::nsb`]).
    pub main: bool,
}

/// The certificate bundle of a set and what its check found when the set was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateEntry {
    /// File name under `certificates/`.
    pub file: String,
    /// SHA-256 of the leaf certificate.
    pub leaf_sha256: Option<String>,
    /// Leaf expiry.
    #[serde(with = "time::serde::rfc3339::option")]
    pub leaf_not_after: Option<OffsetDateTime>,
    /// Findings of the bundle check.
    pub findings: Vec<Finding>,
}

/// The reporting data (recordings of every kind, session reports, exit surveys) a set took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingsEntry {
    /// Earliest window start of the kinds (UNIX seconds).
    pub since: i64,
    /// Every kind is covered up to at least this time.
    pub until: i64,
    /// Archive files the set refers to.
    pub count: usize,
    /// How each kind went (empty in manifests written before every kind was taken).
    #[serde(default)]
    pub kinds: Vec<ReportingKindOutcome>,
}

/// How one kind of reporting data went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportingStatus {
    /// Everything of the window is archived.
    Ok,
    /// The API account may not take this kind (a finding, not a failure).
    NotPermitted,
    /// Some of it could not be taken; the checkpoint holds before it.
    Failed,
}

/// One kind of reporting data in a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingKindOutcome {
    /// The kind.
    pub kind: ReportKind,
    /// How it went.
    pub status: ReportingStatus,
    /// Files of this kind the set refers to.
    pub count: usize,
    /// Window start (UNIX seconds).
    pub since: i64,
    /// Covered up to here.
    pub until: i64,
    /// The typed error, when it failed or was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// Something the NSB leaves out, and whether this set holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCovered {
    /// Stable id (from [`crate::nsb_coverage`]).
    pub id: String,
    /// Label.
    pub label: String,
    /// The set holds a copy or record of it.
    pub in_this_set: bool,
    /// How to save it otherwise.
    pub save_instead: String,
}

/// A part of a backup set, as the manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetPart {
    /// The NSB site backup and its sidecar. Without it there is no set.
    Nsb,
    /// The NSB of each other appliance of the site the options name (a failover pair's
    /// backup appliance: its failover settings are not part of the data sync).
    ApplianceNsbs,
    /// Session recordings since the checkpoint (listing and downloads).
    Recordings,
    /// The p12 certificate bundle (copy and check).
    Certificate,
    /// The `/appliance` records.
    ApplianceRecords,
    /// The Vault key and its record.
    VaultKey,
}

impl SetPart {
    /// Snake-case name, as in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            SetPart::Nsb => "nsb",
            SetPart::ApplianceNsbs => "appliance_nsbs",
            SetPart::Recordings => "recordings",
            SetPart::Certificate => "certificate",
            SetPart::ApplianceRecords => "appliance_records",
            SetPart::VaultKey => "vault_key",
        }
    }
}

impl std::fmt::Display for SetPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a part of a set went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    /// Taken completely.
    Ok,
    /// Failed (what succeeded of it is still in the set); the error says why.
    Failed,
    /// Not asked for by the options.
    Skipped,
}

/// One part of a set and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartOutcome {
    /// The part.
    pub part: SetPart,
    /// How it went.
    pub status: PartStatus,
    /// The typed error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorReport>,
}

impl PartOutcome {
    fn ok(part: SetPart) -> Self {
        Self {
            part,
            status: PartStatus::Ok,
            error: None,
        }
    }
    fn skipped(part: SetPart) -> Self {
        Self {
            part,
            status: PartStatus::Skipped,
            error: None,
        }
    }
    fn failed(part: SetPart, e: &Error) -> Self {
        Self {
            part,
            status: PartStatus::Failed,
            error: Some(e.report()),
        }
    }
}

/// `manifest.json` of a backup set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// Site name.
    pub site: String,
    /// Site FQDN.
    pub fqdn: String,
    /// Product.
    pub product: Product,
    /// Site version at backup time.
    pub site_version: ProductVersion,
    /// Appliance the backup came from.
    pub source_host: String,
    /// Run start.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Run end.
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
    /// The NSB.
    pub nsb: NsbEntry,
    /// Every appliance's NSB, main one first, with the appliance's role — when the options
    /// asked for the other appliances of a pair too (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appliance_nsbs: Vec<ApplianceNsb>,
    /// Every file with size and hash.
    pub files: Vec<ManifestFile>,
    /// Reporting data of this run, per kind.
    pub recordings: Option<RecordingsEntry>,
    /// The reporting archive files this set took, by kind, session, path and hash. They live
    /// in the site's archive ([`crate::reporting_archive`]), not in the set, so removing the
    /// set keeps them.
    #[serde(default)]
    pub reporting: Vec<ReportingRef>,
    /// Certificate bundle.
    pub certificate: Option<CertificateEntry>,
    /// `/appliance` records (identity of each).
    pub appliance_records: Vec<crate::records::ApplianceIdentity>,
    /// Vault key record.
    pub vault_key: Option<VaultKeyRecord>,
    /// What the NSB does not cover.
    pub not_covered: Vec<NotCovered>,
    /// Problems met while taking the set (a failed part is also listed in `parts`).
    pub findings: Vec<Finding>,
    /// Every part and how it went (empty in manifests written before parts were recorded:
    /// such a set was complete).
    #[serde(default)]
    pub parts: Vec<PartOutcome>,
    /// A part failed: the set holds the NSB and every part that succeeded, but not everything
    /// asked for. A partial set is never the newest verified set retention protects.
    #[serde(default)]
    pub partial: bool,
}

impl Manifest {
    /// Files of a kind.
    pub fn files_of(&self, kind: FileKind) -> impl Iterator<Item = &ManifestFile> {
        self.files.iter().filter(move |f| f.kind == kind)
    }

    /// Parts that failed, with their errors.
    pub fn failed_parts(&self) -> impl Iterator<Item = &PartOutcome> {
        self.parts.iter().filter(|p| p.status == PartStatus::Failed)
    }

    /// The outcome recorded for a part (None in manifests written before parts were recorded).
    pub fn part(&self, part: SetPart) -> Option<&PartOutcome> {
        self.parts.iter().find(|p| p.part == part)
    }

    /// Why this set can never be the newest verified set retention protects, whatever its
    /// files hash to: it is partial, its NSB download did not succeed, it has no NSB, or its
    /// NSB is smaller than `min_nsb_bytes` (a real site backup is never that small; such a
    /// file is an error page or a truncated answer). None when it may be.
    pub fn not_verifiable(&self, min_nsb_bytes: u64) -> Option<String> {
        if self.partial || self.failed_parts().next().is_some() {
            let failed: Vec<&str> = self.failed_parts().map(|p| p.part.as_str()).collect();
            return Some(format!("partial set (failed: {})", failed.join(", ")));
        }
        if let Some(p) = self.part(SetPart::Nsb)
            && p.status != PartStatus::Ok
        {
            return Some("the NSB download did not succeed".into());
        }
        let Some(nsb) = self.files_of(FileKind::Nsb).next() else {
            return Some("the set has no NSB".into());
        };
        if nsb.size < min_nsb_bytes {
            return Some(format!(
                "the NSB is {} bytes, below the minimum of {min_nsb_bytes}",
                nsb.size
            ));
        }
        None
    }
}

/// A Vault key file to keep with the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultKeyInput {
    /// Downloaded key file.
    pub path: PathBuf,
    /// It was downloaded with a password.
    pub password_protected: bool,
    /// The day it was exported from `/login`, when the caller knows it; otherwise the day of
    /// the file's modification time. The record carries this day (not the set's), so "pairs
    /// with the same day's backup" fails for a key kept from an earlier day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub thresholds: crate::inventory::Thresholds,
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

/// The JSON form of [`BackupSetOptions`] (secrets are wrapped the moment they are read).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct BackupSetOptionsJson {
    backup_password: Option<SecretString>,
    recordings: Option<bool>,
    reporting_kinds: Option<Vec<ReportKind>>,
    first_run_recordings_days: Option<u32>,
    certificate_bundle: Option<PathBuf>,
    certificate_passphrase: Option<SecretString>,
    thresholds: Option<crate::inventory::Thresholds>,
    appliance_records: Vec<PathBuf>,
    vault_key: Option<VaultKeyInput>,
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
        let o: BackupSetOptionsJson = if value.is_null() {
            BackupSetOptionsJson::default()
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
            thresholds: o.thresholds.unwrap_or_default(),
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
pub struct BackupSetReport {
    /// Site.
    pub site: String,
    /// Set id.
    pub set_id: String,
    /// Set folder.
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

fn rel(p: &Path, base: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn copy_into(src: &Path, dest_dir: &Path) -> Result<(PathBuf, String, u64)> {
    let name = src.file_name().ok_or_else(|| {
        Error::invalid_input("path", format!("{} has no file name", src.display()))
    })?;
    let dest = dest_dir.join(name);
    let mut input = std::fs::File::open(src).map_err(|e| Error::io("opening", src, e))?;
    let mut out = crate::AtomicFile::create(&dest)?;
    std::io::copy(&mut input, out.file()).map_err(|e| Error::io("copying", src, e))?;
    // The caller's file name may equal one the set writes itself (`vault-key.json`): never
    // replace, take a numbered name instead.
    let (dest, _) = out.commit_unique(None)?;
    let (sha, size) = crate::sha256_file(&dest)?;
    Ok((dest, sha, size))
}

/// Takes one backup set of `site` through `client` into `store`.
///
/// Without the NSB there is no set: its failure is the run's error and nothing is kept. Once
/// the NSB is in, a failing later part (recordings, certificate, records, Vault key) does not
/// throw the night away: the set is finished with everything that succeeded, the failed part is
/// recorded in the manifest with its typed error, and the set is marked partial. Cancelling
/// aborts the whole set. Crash leftovers of earlier runs older than
/// [`DEFAULT_LEFTOVER_AGE`](crate::store::DEFAULT_LEFTOVER_AGE) are removed first.
pub async fn run_backup_set(
    store: &BackupStore,
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
) -> Result<BackupSetReport> {
    let cleaned = store.clean_leftovers(&site.name, crate::store::DEFAULT_LEFTOVER_AGE)?;
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
fn settle_part(
    part: SetPart,
    r: Result<()>,
    parts: &mut Vec<PartOutcome>,
    findings: &mut Vec<Finding>,
    site: &str,
) -> Result<()> {
    match r {
        Ok(()) => parts.push(PartOutcome::ok(part)),
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
    Ok(())
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
                let side = crate::sha256_file(&b.sidecar_path)?;
                files.push(ManifestFile {
                    path: rel(&b.file.path, dir),
                    kind: FileKind::Nsb,
                    size: b.file.size,
                    sha256: b.file.sha256.clone(),
                });
                files.push(ManifestFile {
                    path: rel(&b.sidecar_path, dir),
                    kind: FileKind::Sidecar,
                    size: side.1,
                    sha256: side.0,
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
        Some(k) => k
            .iter()
            .copied()
            .filter(|k| k.report_type(product).is_some())
            .collect(),
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
    let side = crate::sha256_file(&nsb.sidecar_path)?;
    files.push(ManifestFile {
        path: nsb.file.file_name.clone(),
        kind: FileKind::Nsb,
        size: nsb.file.size,
        sha256: nsb.file.sha256.clone(),
    });
    files.push(ManifestFile {
        path: rel(&nsb.sidecar_path, dir),
        kind: FileKind::Sidecar,
        size: side.1,
        sha256: side.0,
    });
    parts.push(PartOutcome::ok(SetPart::Nsb));
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

    let mut appliance_nsbs = Vec::new();
    if opts.other_appliances.is_empty() {
        parts.push(PartOutcome::skipped(SetPart::ApplianceNsbs));
    } else {
        check_cancel()?;
        let r = take_appliance_nsbs(client, opts, dir, &nsb, &mut files, &mut appliance_nsbs).await;
        settle_part(
            SetPart::ApplianceNsbs,
            r,
            &mut parts,
            &mut findings,
            &site.name,
        )?;
    }

    // Reporting data since the checkpoint. The checkpoint only moves past sessions whose data
    // is safely in the archive, so a failed download is retried next run.
    let mut recordings = None;
    let mut reporting = Vec::new();
    let mut checkpoint = None;
    if opts.recordings {
        check_cancel()?;
        let r = take_reporting(
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
        .await;
        settle_part(
            SetPart::Recordings,
            r,
            &mut parts,
            &mut findings,
            &site.name,
        )?;
    } else {
        parts.push(PartOutcome::skipped(SetPart::Recordings));
    }

    let mut certificate = None;
    if let Some(bundle) = &opts.certificate_bundle {
        check_cancel()?;
        let cdir = dir.join("certificates");
        let r = (|| -> Result<()> {
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
            certificate = Some(CertificateEntry {
                file: rel(&dest, &cdir),
                leaf_sha256,
                leaf_not_after,
                findings: cert_findings,
            });
            Ok(())
        })();
        settle_part(
            SetPart::Certificate,
            r,
            &mut parts,
            &mut findings,
            &site.name,
        )?;
    } else {
        parts.push(PartOutcome::skipped(SetPart::Certificate));
    }

    let mut appliance_records = Vec::new();
    if opts.appliance_records.is_empty() {
        parts.push(PartOutcome::skipped(SetPart::ApplianceRecords));
    } else {
        check_cancel()?;
        // Every record that loads is kept; the first failure is the part's error.
        let mut first_error = None;
        for rp in &opts.appliance_records {
            let r = (|| -> Result<()> {
                let record = ApplianceRecord::load(rp)?;
                let dest = record.save(dir.join("appliance"))?;
                let (sha, size) = crate::sha256_file(&dest)?;
                files.push(ManifestFile {
                    path: rel(&dest, dir),
                    kind: FileKind::ApplianceRecord,
                    size,
                    sha256: sha,
                });
                appliance_records.push(record.identity);
                Ok(())
            })();
            if let Err(e) = r {
                first_error.get_or_insert(e);
            }
        }
        settle_part(
            SetPart::ApplianceRecords,
            first_error.map_or(Ok(()), Err),
            &mut parts,
            &mut findings,
            &site.name,
        )?;
    }

    let mut vault_key = None;
    if let Some(vk) = &opts.vault_key {
        check_cancel()?;
        let r = (|| -> Result<()> {
            // The day the key was exported (its file's time), not the day the set was taken:
            // a key kept from an earlier day may no longer decrypt this NSB's Vault.
            let exported = vk.exported_on.unwrap_or_else(|| {
                std::fs::metadata(&vk.path)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(|t| OffsetDateTime::from(t).date())
                    .unwrap_or(started.date())
            });
            let record =
                VaultKeyRecord::from_file(&vk.path, &site.name, exported, vk.password_protected)?;
            // An unprotected key is recorded but not copied: spreading it would widen the
            // exposure.
            let mut new_files = Vec::new();
            // The record first, under the name the set reserves for it; the key copy then
            // takes its own name or, if the caller's key file is called the same, a numbered one.
            let rp = crate::fsutil::write_json_new_atomic(
                dir.join("vault").join("vault-key.json"),
                &record,
            )?;
            let (sha, size) = crate::sha256_file(&rp)?;
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
            vault_key = Some(record);
            Ok(())
        })();
        settle_part(SetPart::VaultKey, r, &mut parts, &mut findings, &site.name)?;
    } else {
        parts.push(PartOutcome::skipped(SetPart::VaultKey));
    }
    check_cancel()?;

    // Whatever a failed part left on disk but not in the manifest goes, so the set verifies.
    drop_unlisted(dir, &files)?;

    let kind_ok = |k: &ReportKind| {
        recordings.as_ref().is_some_and(|r| {
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
        "vault_encryption_key" => vault_key.as_ref().is_some_and(|v| v.password_protected),
        "certificates" => certificate.is_some(),
        _ => false,
    };
    let coverage = crate::nsb_coverage(site.product, false);
    let not_covered = coverage
        .excluded
        .iter()
        .filter(|e| e.id != "logged_history")
        .map(|e| NotCovered {
            id: e.id.into(),
            label: e.label.into(),
            in_this_set: in_set(e.id, e.report_kinds),
            save_instead: e.save_instead.into(),
        })
        .collect();

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
    crate::fsutil::write_json_atomic(dir.join(MANIFEST), &manifest)?;
    Ok((manifest, checkpoint))
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

/// A problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyProblem {
    /// File (relative to the set; `.` for the set folder itself).
    pub path: String,
    /// `missing`, `size_mismatch`, `hash_mismatch`, `unlisted`, `no_manifest`, `unsafe_path`,
    /// `symlink` (a symbolic link in the set: never followed, never part of a set),
    /// `not_a_file` (the manifest lists a folder) or `unreadable` (the file cannot be read).
    pub problem: String,
    /// Details.
    pub detail: String,
}

/// Result of re-hashing a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Set folder.
    pub path: PathBuf,
    /// Files checked.
    pub files_checked: usize,
    /// Bytes hashed.
    pub bytes_checked: u64,
    /// Problems (empty when the set is intact).
    pub problems: Vec<VerifyProblem>,
    /// The manifest says a part of the set failed when it was taken (its files may still be
    /// intact: `ok()` is about the files).
    #[serde(default)]
    pub partial: bool,
}

impl VerifyReport {
    /// Every file is present and matches.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn is_symlink(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// The first symbolic link on the way from `base` to `base/rel`, relative to `base`.
fn symlink_on_path(base: &Path, rel: &str) -> Option<String> {
    let mut p = base.to_path_buf();
    let mut r = Vec::new();
    for c in rel.split('/').filter(|c| !c.is_empty()) {
        p.push(c);
        r.push(c);
        if is_symlink(&p) {
            return Some(r.join("/"));
        }
    }
    None
}

fn symlink_problem(path: String) -> VerifyProblem {
    VerifyProblem {
        path,
        problem: "symlink".into(),
        detail: "a symbolic link in a backup set is not followed".into(),
    }
}

/// Re-hashes the reporting archive files a set refers to. They are reported under their path
/// in the site folder (`reporting/<kind>/<file>`); a link is never followed.
fn verify_reporting(set_path: &Path, refs: &[ReportingRef], report: &mut VerifyReport) {
    for r in refs {
        let problem = |problem: &str, detail: String| VerifyProblem {
            path: r.path.clone(),
            problem: problem.into(),
            detail,
        };
        let Some(p) = r.resolve(set_path) else {
            report.problems.push(problem(
                "unsafe_path",
                "the reporting reference leaves the site's archive".into(),
            ));
            continue;
        };
        let site_dir = set_path.parent().and_then(Path::parent).unwrap_or(set_path);
        if symlink_on_path(site_dir, &r.path).is_some() {
            report.problems.push(symlink_problem(r.path.clone()));
            continue;
        }
        match crate::sha256_file(&p) {
            Ok((sha, size)) => {
                report.files_checked += 1;
                report.bytes_checked += size;
                if size != r.size {
                    report.problems.push(problem(
                        "size_mismatch",
                        format!("{size} bytes, manifest says {}", r.size),
                    ));
                } else if sha != r.sha256 {
                    report.problems.push(problem(
                        "hash_mismatch",
                        format!("sha256 {sha}, manifest says {}", r.sha256),
                    ));
                }
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                report.problems.push(problem(
                    "missing",
                    "referenced in the manifest but not in the site's reporting archive".into(),
                ))
            }
            Err(e) => report.problems.push(problem("unreadable", e.to_string())),
        }
    }
}

/// Re-hashes every file of the set at `path` against its manifest, and the reporting archive
/// files it refers to. Symbolic links are never followed: a link (the set folder itself, the
/// manifest, a file or a folder in the set) is reported as a `symlink` problem.
pub fn verify_backup_set(path: impl AsRef<Path>) -> Result<VerifyReport> {
    let path = path.as_ref();
    let mp = path.join(MANIFEST);
    let mut report = VerifyReport {
        path: path.to_path_buf(),
        files_checked: 0,
        bytes_checked: 0,
        problems: Vec::new(),
        partial: false,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound {
                what: format!("backup set {}", path.display()),
            });
        }
        Err(e) => return Err(Error::io("reading", path, e)),
        Ok(m) if m.file_type().is_symlink() => {
            report.problems.push(symlink_problem(".".into()));
            return Ok(report);
        }
        Ok(m) if !m.is_dir() => {
            return Err(Error::NotFound {
                what: format!("backup set {}", path.display()),
            });
        }
        Ok(_) => {}
    }
    if is_symlink(&mp) {
        report.problems.push(symlink_problem(MANIFEST.into()));
        return Ok(report);
    }
    let bytes = match std::fs::read(&mp) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.problems.push(VerifyProblem {
                path: MANIFEST.into(),
                problem: "no_manifest".into(),
                detail: "the set has no manifest: it is incomplete".into(),
            });
            return Ok(report);
        }
        Err(e) => return Err(Error::io("reading", mp, e)),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Error::parse(mp.display().to_string(), e.to_string()))?;
    report.partial = manifest.partial || manifest.failed_parts().next().is_some();
    let mut listed = std::collections::HashSet::new();
    let mut links = std::collections::HashSet::new();
    for f in &manifest.files {
        listed.insert(f.path.clone());
        if f.path.split(['/', '\\']).any(|c| c == "..")
            || f.path.starts_with('/')
            || f.path.starts_with('\\')
            || Path::new(&f.path).is_absolute()
        {
            report.problems.push(VerifyProblem {
                path: f.path.clone(),
                problem: "unsafe_path".into(),
                detail: "manifest path leaves the set".into(),
            });
            continue;
        }
        if let Some(link) = symlink_on_path(path, &f.path) {
            if links.insert(link.clone()) {
                report.problems.push(symlink_problem(link));
            }
            continue;
        }
        let p = path.join(&f.path);
        // A manifest entry that names the set folder itself or a folder in it is not a file.
        if f.path.trim_matches(['/', '\\', '.']).is_empty()
            || std::fs::symlink_metadata(&p).is_ok_and(|m| !m.is_file())
        {
            report.problems.push(VerifyProblem {
                path: f.path.clone(),
                problem: "not_a_file".into(),
                detail: "the manifest lists something that is not a file".into(),
            });
            continue;
        }
        match crate::sha256_file(&p) {
            Ok((sha, size)) => {
                report.files_checked += 1;
                report.bytes_checked += size;
                if size != f.size {
                    report.problems.push(VerifyProblem {
                        path: f.path.clone(),
                        problem: "size_mismatch".into(),
                        detail: format!("{size} bytes, manifest says {}", f.size),
                    });
                } else if sha != f.sha256 {
                    report.problems.push(VerifyProblem {
                        path: f.path.clone(),
                        problem: "hash_mismatch".into(),
                        detail: format!("sha256 {sha}, manifest says {}", f.sha256),
                    });
                }
            }
            Err(e) if matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound) => {
                report.problems.push(VerifyProblem {
                    path: f.path.clone(),
                    problem: "missing".into(),
                    detail: "listed in the manifest but not on disk".into(),
                })
            }
            // Unreadable (EACCES, EIO): a problem of this file, not a failure of the check.
            Err(e) => report.problems.push(VerifyProblem {
                path: f.path.clone(),
                problem: "unreadable".into(),
                detail: e.to_string(),
            }),
        }
    }
    verify_reporting(path, &manifest.reporting, &mut report);
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .map_err(|e| Error::io("listing", &d, e))?
            .flatten()
        {
            let p = e.path();
            let r = rel(&p, path);
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                if links.insert(r.clone()) {
                    report.problems.push(symlink_problem(r));
                }
            } else if ft.is_dir() {
                stack.push(p);
            } else if r != MANIFEST && !listed.contains(&r) {
                report.problems.push(VerifyProblem {
                    path: r,
                    problem: "unlisted".into(),
                    detail: "on disk but not in the manifest".into(),
                });
            }
        }
    }
    Ok(report)
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
pub struct SiteOutcome {
    /// Site.
    pub site: String,
    /// The set, when one was taken (also when it is partial).
    pub report: Option<BackupSetReport>,
    /// The typed error, when no set was taken.
    pub error: Option<crate::ErrorReport>,
    /// A set was taken but a part of it failed (see the report's `failed_parts`).
    #[serde(default)]
    pub partial: bool,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// The outcome of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Backs up many sites, at most `concurrency` at a time; one failing site does not stop the others.
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
