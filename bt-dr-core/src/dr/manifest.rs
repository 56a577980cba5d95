//! The manifest of a backup set: what a set holds (files, NSBs, certificate, records,
//! recordings, reporting), what each part of the run did, and what the NSB does not cover.
//!
//! It sits below both [`crate::dr::store`] (which lists and cleans sets by reading their
//! manifests) and [`crate::dr::backup_set`] (which writes them), so neither depends on the
//! other for the shape of a set.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::ReportKind;
use crate::model::product::Product;
use crate::model::version::ProductVersion;
use crate::rules::finding::Finding;
use crate::rules::records::VaultKeyRecord;
use crate::support::error::{Error, ErrorReport};

/// File name of the manifest inside a set folder.
pub(crate) const MANIFEST: &str = "manifest.json";

/// `p` relative to `base`, with `/` separators, as a manifest writes paths (the same on
/// every platform, so a set copied between systems still verifies).
pub(crate) fn rel(p: &Path, base: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Folder of the archive inside a site's folder.
pub const REPORTING_DIR: &str = "reporting";

/// A file of the reporting archive that a backup set took (or found already archived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportingRef {
    /// What it is.
    pub kind: ReportKind,
    /// The session it belongs to (None for exit surveys, which cover a time window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsid: Option<String>,
    /// Path relative to the site's folder, `/`-separated (`reporting/<kind>/<file>`).
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

impl ReportingRef {
    /// Where the file is for a set at `set_path` (`<site>/sets/<id>`): the archive sits two
    /// levels up. None when the recorded path would leave the archive.
    pub fn resolve(&self, set_path: &Path) -> Option<PathBuf> {
        let safe = self.path.starts_with(&format!("{REPORTING_DIR}/"))
            && !self.path.contains('\\')
            && self
                .path
                .split('/')
                .all(|c| !c.is_empty() && c != ".." && c != ".");
        let site_dir = set_path.parent()?.parent()?;
        safe.then(|| site_dir.join(&self.path))
    }
}

/// What a file in a set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApplianceNsb {
    /// The appliance's host, as the client reached it.
    pub host: String,
    /// Base URL of the appliance's API (tells two appliances on one host apart).
    pub base_url: String,
    /// Its failover role when the set was taken (None: it did not say).
    pub role: Option<crate::model::appliance::FailoverRole>,
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CertificateEntry {
    /// File name under `certificates/`.
    pub file: String,
    /// SHA-256 of the leaf certificate.
    pub leaf_sha256: Option<String>,
    /// Leaf expiry.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub leaf_not_after: Option<OffsetDateTime>,
    /// Findings of the bundle check.
    pub findings: Vec<Finding>,
}

/// The reporting data (recordings of every kind, session reports, exit surveys) a set took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NotCovered {
    /// Stable id (from [`crate::rules::backup::nsb_coverage`]).
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PartOutcome {
    /// The part.
    pub part: SetPart,
    /// How it went.
    pub status: PartStatus,
    /// The typed error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

// Constructors for the run that takes the set (`backup_set`), the only writer of outcomes.
impl PartOutcome {
    pub(crate) fn ok(part: SetPart) -> Self {
        Self {
            part,
            status: PartStatus::Ok,
            error: None,
        }
    }
    pub(crate) fn skipped(part: SetPart) -> Self {
        Self {
            part,
            status: PartStatus::Skipped,
            error: None,
        }
    }
    pub(crate) fn failed(part: SetPart, e: &Error) -> Self {
        Self {
            part,
            status: PartStatus::Failed,
            error: Some(e.report()),
        }
    }
}

/// `manifest.json` of a backup set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub created_at: OffsetDateTime,
    /// Run end.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
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
    /// in the site's archive ([`crate::dr::reporting_archive`]), not in the set, so removing the
    /// set keeps them.
    #[serde(default)]
    pub reporting: Vec<ReportingRef>,
    /// Certificate bundle.
    pub certificate: Option<CertificateEntry>,
    /// `/appliance` records (identity of each).
    pub appliance_records: Vec<crate::rules::records::ApplianceIdentity>,
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

    /// Size in bytes of the set's main NSB (the file `nsb.file` names), 0 when the manifest
    /// lists none. The appliances' other NSBs of a pair set are not counted: this is the
    /// backup a restore would use, the figure progress and monitoring report.
    pub fn nsb_size(&self) -> u64 {
        self.files_of(FileKind::Nsb)
            .find(|f| f.path == self.nsb.file)
            .or_else(|| self.files_of(FileKind::Nsb).next())
            .map_or(0, |f| f.size)
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
