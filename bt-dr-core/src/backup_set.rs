//! Backup sets: everything a site needs to be rebuilt, taken in one run and described by a
//! manifest — the NSB, recordings since the last run, the certificate bundle, `/appliance`
//! records and the Vault key record — plus what the NSB does not cover.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{BackupOptions, CancelToken, Client, Progress, TimeWindow, TransferOptions};
use crate::store::{BackupStore, Checkpoint, CleanReport, MANIFEST};
use crate::{
    ApplianceRecord, BundleCheckOptions, Error, ErrorKind, Finding, Product, ProductVersion,
    Result, Severity, Site, VaultKeyRecord, check_certificate_bundle,
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

/// Recordings taken in this set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingsEntry {
    /// Window start (UNIX seconds).
    pub since: i64,
    /// Sessions starting before this time are covered.
    pub until: i64,
    /// Recordings downloaded.
    pub count: usize,
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
    /// Every file with size and hash.
    pub files: Vec<ManifestFile>,
    /// Recordings of this run.
    pub recordings: Option<RecordingsEntry>,
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
}

/// Options of a backup set run.
#[derive(Clone)]
pub struct BackupSetOptions {
    /// Site backup password.
    pub backup_password: Option<SecretString>,
    /// Download recordings since the last run.
    pub recordings: bool,
    /// How far back the first run reaches for recordings.
    pub first_run_recordings_days: u32,
    /// The p12 exported from `/appliance`.
    pub certificate_bundle: Option<PathBuf>,
    /// Its passphrase.
    pub certificate_passphrase: Option<SecretString>,
    /// `/appliance` record files (TOML/JSON).
    pub appliance_records: Vec<PathBuf>,
    /// The Vault key.
    pub vault_key: Option<VaultKeyInput>,
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
            first_run_recordings_days: 7,
            certificate_bundle: None,
            certificate_passphrase: None,
            appliance_records: Vec::new(),
            vault_key: None,
            progress: None,
            cancel: None,
        }
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
            .field("certificate_bundle", &self.certificate_bundle)
            .field(
                "certificate_passphrase",
                &self.certificate_passphrase.as_ref().map(|_| "[REDACTED]"),
            )
            .field("appliance_records", &self.appliance_records)
            .field("vault_key", &self.vault_key)
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

/// The recordings part: fills `files`, `entry` and `checkpoint` with what was taken; the error
/// is the first failure (the checkpoint never moves past a session not downloaded).
#[allow(clippy::too_many_arguments)]
async fn take_recordings(
    store: &BackupStore,
    site: &Site,
    client: &Client,
    opts: &BackupSetOptions,
    id: &str,
    dir: &Path,
    files: &mut Vec<ManifestFile>,
    findings: &mut Vec<Finding>,
    entry: &mut Option<RecordingsEntry>,
    checkpoint: &mut Option<Checkpoint>,
) -> Result<()> {
    let prev = store.checkpoint(&site.name)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let since = prev
        .recordings_until
        .unwrap_or(now - i64::from(opts.first_run_recordings_days) * 86400);
    let rec_dir = dir.join("recordings");
    let mut until = now;
    let mut count = 0;
    let mut first_error = None;
    let sessions = match client.list_sessions(&TimeWindow::since(since)).await {
        Ok(s) => s,
        Err(e) => {
            if e.kind() == ErrorKind::PermissionDenied {
                findings.push(
                    Finding::new(
                        "recordings_not_permitted",
                        Severity::Warning,
                        &site.name,
                        format!("recordings skipped: {e}"),
                    )
                    .with_remediation(
                        "Give the API account perm_reporting_support, or keep recordings another way.",
                    ),
                );
            }
            return Err(e);
        }
    };
    for s in sessions {
        let start = s.start_time.map(|t| t.unix_timestamp()).unwrap_or(since);
        if s.end_time.is_none() {
            until = until.min(start);
            continue;
        }
        match client
            .download_recording(
                &s.lsid,
                &rec_dir,
                TransferOptions {
                    progress: None,
                    cancel: opts.cancel.clone(),
                },
            )
            .await
        {
            Ok(f) => {
                count += 1;
                files.push(ManifestFile {
                    path: rel(&f.path, dir),
                    kind: FileKind::Recording,
                    size: f.size,
                    sha256: f.sha256,
                });
            }
            Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
            // The session has no recording.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound) => {}
            Err(e) => {
                until = until.min(start);
                findings.push(Finding::new(
                    "recording_failed",
                    Severity::Warning,
                    format!("{}/{}", site.name, s.lsid),
                    format!("recording not downloaded: {e}"),
                ));
                first_error.get_or_insert(e);
            }
        }
    }
    *entry = Some(RecordingsEntry {
        since,
        until,
        count,
    });
    *checkpoint = Some(Checkpoint {
        recordings_until: Some(until),
        last_set: Some(id.to_string()),
    });
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

    // Recordings since the checkpoint. The checkpoint only moves past sessions whose recording
    // is safely in this set, so a failed download is retried next run.
    let mut recordings = None;
    let mut checkpoint = None;
    if opts.recordings {
        check_cancel()?;
        let r = take_recordings(
            store,
            site,
            client,
            opts,
            id,
            dir,
            &mut files,
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
                .with_appliances(site.appliances.iter().map(|a| a.hostname.clone()));
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
            let exported = std::fs::metadata(&vk.path)
                .and_then(|m| m.modified())
                .ok()
                .map(|t| OffsetDateTime::from(t).date())
                .unwrap_or(started.date());
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

    let in_set = |id: &str| match id {
        "session_recordings" => recordings.is_some(),
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
            in_this_set: in_set(e.id),
            save_instead: e.save_instead.into(),
        })
        .collect();

    let partial = parts.iter().any(|p| p.status == PartStatus::Failed);
    let manifest = Manifest {
        format: 2,
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
        files,
        recordings,
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

/// Re-hashes every file of the set at `path` against its manifest. Symbolic links are never
/// followed: a link (the set folder itself, the manifest, a file or a folder in the set) is
/// reported as a `symlink` problem.
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
