//! The backup store: one folder per site, one folder per backup set.
//!
//! ```text
//! <root>/<site>/checkpoint.json        reporting data taken up to here, per kind (incremental runs)
//! <root>/<site>/sets/<YYYYMMDDTHHMMSSZ>/manifest.json, the NSB, certificates/, …
//! <root>/<site>/reporting/<kind>/…     recordings, session reports, exit surveys (sets refer to them)
//! ```
//! A set is assembled under `.incomplete-<id>` and renamed to `<id>` only once its manifest is
//! on disk, so a set under its final name is always complete. A set is removed by renaming it
//! to `.deleting-<id>` first. What a crash leaves behind (`.incomplete-*`, `.deleting-*`, and
//! the `.bt-dr-*.partial` temporary files of atomic writes) is removed by
//! [`BackupStore::clean_leftovers`], which store operations call.
//!
//! Site names that differ only in case are one site: a new site folder is named in lower case,
//! and an existing folder of any case is found for every spelling of its name.
//!
//! Listing, verifying and retention never follow symbolic links inside the store.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::dr::manifest::{MANIFEST, Manifest};
use crate::support::error::{Error, ErrorReport, Result};

/// Where a site's reporting data was taken up to, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Checkpoint {
    /// Sessions that started before this UNIX time have had their screen recordings
    /// downloaded (the only position kept before every reporting kind had its own).
    pub recordings_until: Option<i64>,
    /// Per kind: sessions (or, for exit surveys, time) before this UNIX time are archived. A
    /// kind not listed starts from the first-run window; screen recordings fall back to
    /// `recordings_until`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reporting_until: std::collections::BTreeMap<crate::api::ReportKind, i64>,
    /// The set that last advanced the checkpoint.
    pub last_set: Option<String>,
}

impl Checkpoint {
    /// Where `kind` was taken up to, if it ever was.
    pub fn until(&self, kind: crate::api::ReportKind) -> Option<i64> {
        self.reporting_until.get(&kind).copied().or(
            if kind == crate::api::ReportKind::SessionRecording {
                self.recordings_until
            } else {
                None
            },
        )
    }
}

/// One backup set as found in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SetSummary {
    /// Folder name (UTC creation time).
    pub id: String,
    /// Site name.
    pub site: String,
    /// Full path.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub path: PathBuf,
    /// Creation time from the manifest.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub created_at: OffsetDateTime,
    /// The manifest.
    pub manifest: Manifest,
}

/// A folder under a set's final name that could not be read as a set (no manifest, a corrupt
/// or unreadable manifest, a symbolic link). Such folders are reported, kept, and never removed
/// by retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnreadableSet {
    /// Folder name.
    pub id: String,
    /// Full path.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub path: PathBuf,
    /// Why it could not be read.
    pub error: ErrorReport,
}

/// Everything under a site's `sets/` folder: the readable sets (newest first) and the folders
/// that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SetListing {
    /// Readable sets, newest first.
    pub sets: Vec<SetSummary>,
    /// Folders that could not be read as a set, by name.
    pub unreadable: Vec<UnreadableSet>,
}

/// A leftover [`BackupStore::clean_leftovers`] could not remove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CleanFailure {
    /// The leftover.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub path: PathBuf,
    /// Why it could not be removed.
    pub error: ErrorReport,
}

/// What [`BackupStore::clean_leftovers`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CleanReport {
    /// Leftovers removed.
    pub removed: Vec<PathBuf>,
    /// Leftovers younger than the safe age, left for a run that may still be using them.
    #[serde(default)]
    pub kept_recent: Vec<PathBuf>,
    /// Leftovers that could not be removed.
    #[serde(default)]
    pub failed: Vec<CleanFailure>,
    /// Complete sets found in staging (their manifest on disk, every file verified) and moved
    /// to their final name instead of being removed.
    #[serde(default)]
    pub recovered: Vec<PathBuf>,
}

/// What [`BackupStore::apply_retention_report`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionOutcome {
    /// Ids of the sets removed, in plan order.
    pub removed: Vec<String>,
    /// Crash leftovers removed before applying.
    pub cleaned: CleanReport,
}

/// A folder holding backup sets of many sites.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = bt_dr_core::BackupStore::open(dir.path()).unwrap();
/// assert!(store.list_sets("support").unwrap().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct BackupStore {
    root: PathBuf,
    cleaned_on_open: Vec<SiteCleanReport>,
}

/// Leftovers removed from one site's folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SiteCleanReport {
    /// Site folder name.
    pub site: String,
    /// What was removed (and kept).
    pub report: CleanReport,
}

const INCOMPLETE: &str = ".incomplete-";
const DELETING: &str = ".deleting-";
/// Prefix and suffix of [`crate::support::fsutil::AtomicFile`]'s temporary files.
const TEMP_PREFIX: &str = ".bt-dr-";
const TEMP_SUFFIX: &str = ".partial";

/// Leftovers younger than this are left alone by store operations: a job still running
/// elsewhere may be writing them. Six hours is longer than any backup set run takes (the
/// transfers have their own time budgets), and a crash's leftovers go by the next night.
pub const DEFAULT_LEFTOVER_AGE: Duration = Duration::from_secs(6 * 3600);

/// Formats a set id from a time: `20261121T020000Z`.
pub fn set_id_for(t: OffsetDateTime) -> String {
    crate::support::fsutil::utc_stamp(t)
}

/// What kind of crash leftover a name in a site or sets folder is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leftover {
    /// An atomic write's temporary file.
    Temp,
    /// A set that was being built.
    Incomplete,
    /// A set that was being removed.
    Deleting,
}

fn leftover_kind(name: &str, ft: std::fs::FileType) -> Option<Leftover> {
    if ft.is_symlink() {
        return None;
    }
    if ft.is_file()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
        && name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
    {
        return Some(Leftover::Temp);
    }
    if ft.is_dir() && name.len() > INCOMPLETE.len() && name.starts_with(INCOMPLETE) {
        return Some(Leftover::Incomplete);
    }
    if ft.is_dir() && name.len() > DELETING.len() && name.starts_with(DELETING) {
        return Some(Leftover::Deleting);
    }
    None
}

/// The newest modification time of `p` and, for a folder, of anything in it (links not
/// followed): a staging folder whose NSB is still growing is young.
fn newest_mtime(p: &Path) -> Option<SystemTime> {
    let m = std::fs::symlink_metadata(p).ok()?;
    let mut newest = m.modified().ok()?;
    if m.is_dir() {
        let mut stack = vec![p.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(em) = e.metadata() else { continue };
                if let Ok(t) = em.modified() {
                    newest = newest.max(t);
                }
                if em.is_dir() {
                    stack.push(e.path());
                }
            }
        }
    }
    Some(newest)
}

fn remove_leftover(p: &Path, kind: Leftover) -> std::io::Result<()> {
    let r = match kind {
        Leftover::Temp => std::fs::remove_file(p),
        Leftover::Incomplete | Leftover::Deleting => std::fs::remove_dir_all(p),
    };
    match r {
        // Someone else (a concurrent clean or removal) got there first.
        Err(_) if std::fs::symlink_metadata(p).is_err() => Ok(()),
        r => r,
    }
}

impl BackupStore {
    /// Opens (creating if needed) a store at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| Error::io("creating backup store", &root, e))?;
        // Absolute, so paths in manifests, reports and runbooks mean the same from anywhere.
        let root = std::fs::canonicalize(&root).map_err(|e| Error::io("resolving", &root, e))?;
        let mut store = Self {
            root,
            cleaned_on_open: Vec::new(),
        };
        store.cleaned_on_open = store.clean_all_leftovers(DEFAULT_LEFTOVER_AGE);
        Ok(store)
    }

    /// Crash leftovers older than [`DEFAULT_LEFTOVER_AGE`] that opening the store removed,
    /// per site (sites with nothing removed, kept or failed are left out).
    pub fn cleaned_on_open(&self) -> &[SiteCleanReport] {
        &self.cleaned_on_open
    }

    /// Best effort over every site folder: [`BackupStore::clean_leftovers`] for each; a site
    /// that cannot be cleaned is logged and skipped.
    fn clean_all_leftovers(&self, older_than: Duration) -> Vec<SiteCleanReport> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return out;
        };
        for e in rd.flatten() {
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !e.file_type().is_ok_and(|t| t.is_dir())
                || crate::model::site::validate_site_name(&name, "site").is_err()
            {
                continue;
            }
            match self.clean_leftovers(&name, older_than) {
                Ok(r) if r.removed.is_empty() && r.failed.is_empty() => {}
                Ok(report) => out.push(SiteCleanReport { site: name, report }),
                Err(err) => tracing::warn!(site = %name, "cleaning leftovers: {err}"),
            }
        }
        out.sort_by(|a, b| a.site.cmp(&b.site));
        out
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder of a site. Names that differ only in case are one site: an existing folder of
    /// any case is used, a new one is named in lower case, and a store holding two folders for
    /// one name (made before this rule) is refused naming both.
    pub fn site_dir(&self, site: &str) -> Result<PathBuf> {
        crate::model::site::validate_site_name(site, "site")?;
        let mut found: Vec<String> = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.root) {
            for e in rd.flatten() {
                if let Some(n) = e.file_name().to_str()
                    && n.eq_ignore_ascii_case(site)
                {
                    found.push(n.to_string());
                }
            }
        }
        found.sort();
        match found.as_slice() {
            [] => Ok(self.root.join(site.to_ascii_lowercase())),
            [one] => Ok(self.root.join(one)),
            many => Err(Error::invalid_input(
                "site",
                format!(
                    "the store holds {} for site `{site}`: site names that differ only in case \
                     are one site; merge these folders",
                    many.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            )),
        }
    }

    /// The site's reporting archive (see [`crate::dr::reporting_archive`]).
    pub(crate) fn reporting_archive(
        &self,
        site: &str,
    ) -> Result<crate::dr::reporting_archive::ReportingArchive> {
        Ok(crate::dr::reporting_archive::ReportingArchive::new(
            self.site_dir(site)?,
        ))
    }

    fn sets_dir(&self, site: &str) -> Result<PathBuf> {
        Ok(self.site_dir(site)?.join("sets"))
    }

    /// Reads the recordings checkpoint of a site.
    pub fn checkpoint(&self, site: &str) -> Result<Checkpoint> {
        let p = self.site_dir(site)?.join("checkpoint.json");
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| Error::parse(p.display().to_string(), e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
            Err(e) => Err(Error::io("reading", p, e)),
        }
    }

    pub(crate) fn save_checkpoint(&self, site: &str, c: &Checkpoint) -> Result<()> {
        crate::support::fsutil::write_json_atomic(self.site_dir(site)?.join("checkpoint.json"), c)
            .map(|_| ())
    }

    /// Creates the staging folder of a new set; returns (final id, staging path).
    pub(crate) fn begin_set(&self, site: &str, at: OffsetDateTime) -> Result<(String, PathBuf)> {
        let dir = self.sets_dir(site)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let base = set_id_for(at);
        let mut id = base.clone();
        let mut n = 1;
        loop {
            let taken = |p: PathBuf| std::fs::symlink_metadata(p).is_ok();
            if !taken(dir.join(&id))
                && !taken(dir.join(format!("{INCOMPLETE}{id}")))
                && !taken(dir.join(format!("{DELETING}{id}")))
            {
                let staging = dir.join(format!("{INCOMPLETE}{id}"));
                match std::fs::create_dir(&staging) {
                    Ok(()) => return Ok((id, staging)),
                    // A concurrent run took this id between the check and the create.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::io("creating", &staging, e)),
                }
            }
            n += 1;
            id = format!("{base}-{n}");
        }
    }

    /// Renames a finished staging folder to its final name.
    pub(crate) fn finish_set(
        &self,
        site: &str,
        id: &str,
        staging: &Path,
    ) -> Result<(String, PathBuf)> {
        let dir = self.sets_dir(site)?;
        if let Ok(d) = std::fs::File::open(staging) {
            let _ = d.sync_all();
        }
        // Never onto an existing folder (a plain rename would silently replace an empty one):
        // a taken id gets a numbered one, as `begin_set` does.
        for n in 1..=crate::support::fsutil::MAX_UNIQUE_TRIES {
            let candidate = if n == 1 {
                id.to_string()
            } else {
                format!("{id}-{n}")
            };
            let dest = dir.join(&candidate);
            match crate::support::fsutil::rename_no_replace(staging, &dest) {
                Ok(()) => {
                    if let Ok(d) = std::fs::File::open(&dir) {
                        let _ = d.sync_all();
                    }
                    return Ok((candidate, dest));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::io(
                        "finishing backup set (it stays complete in its staging folder)",
                        staging,
                        e,
                    ));
                }
            }
        }
        Err(Error::io(
            "finishing backup set (it stays complete in its staging folder)",
            staging,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "every set id of this form is taken",
            ),
        ))
    }

    /// Everything under a site's sets folder: readable sets newest first, and the folders
    /// under a final name that could not be read (reported, not an error). Staging and
    /// half-deleted folders are skipped; a symbolic link is reported, never followed.
    pub fn scan(&self, site: &str) -> Result<SetListing> {
        let dir = self.sets_dir(site)?;
        let mut listing = SetListing {
            sets: Vec::new(),
            unreadable: Vec::new(),
        };
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(Error::io("listing", dir, e)),
        };
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("listing", &dir, e))?;
            let id = entry.file_name().to_string_lossy().into_owned();
            if id.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("listing", &path, e))?;
            let mut unreadable = |error: Error| {
                listing.unreadable.push(UnreadableSet {
                    id: id.clone(),
                    path: path.clone(),
                    error: error.report(),
                })
            };
            if ft.is_symlink() {
                unreadable(Error::Refused {
                    reason: format!(
                        "{} is a symbolic link; sets are never read or removed through a link",
                        path.display()
                    ),
                });
                continue;
            }
            if !ft.is_dir() {
                continue;
            }
            let mp = path.join(MANIFEST);
            match std::fs::symlink_metadata(&mp) {
                Ok(m) if m.file_type().is_symlink() => {
                    unreadable(Error::Refused {
                        reason: format!("{} is a symbolic link", mp.display()),
                    });
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    unreadable(Error::NotFound {
                        what: format!("manifest {}", mp.display()),
                    });
                    continue;
                }
                _ => {}
            }
            let bytes = match std::fs::read(&mp) {
                Ok(b) => b,
                Err(e) => {
                    unreadable(Error::io("reading", &mp, e));
                    continue;
                }
            };
            let manifest: Manifest = match serde_json::from_slice(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    unreadable(Error::parse(mp.display().to_string(), e.to_string()));
                    continue;
                }
            };
            listing.sets.push(SetSummary {
                id,
                site: site.to_string(),
                path,
                created_at: manifest.created_at,
                manifest,
            });
        }
        listing
            .sets
            .sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        listing.unreadable.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(listing)
    }

    /// Readable sets of a site, newest first. Staging and half-deleted folders are skipped;
    /// so are folders that cannot be read as a set ([`BackupStore::scan`] reports them).
    pub fn list_sets(&self, site: &str) -> Result<Vec<SetSummary>> {
        let listing = self.scan(site)?;
        for u in &listing.unreadable {
            tracing::warn!(site, set = %u.id, "backup set not readable: {}", u.error.message);
        }
        Ok(listing.sets)
    }

    /// The newest complete set.
    pub fn latest_set(&self, site: &str) -> Result<Option<SetSummary>> {
        Ok(self.list_sets(site)?.into_iter().next())
    }

    /// Removes what crashed runs left in a site's folders: `.incomplete-*` staging folders and
    /// `.bt-dr-*.partial` temporary files whose newest content is older than `older_than` (so
    /// a run still going elsewhere is not disturbed), and every `.deleting-*` folder (a removal
    /// that was already decided). Nothing else is touched; symbolic links are never followed
    /// or removed.
    pub fn clean_leftovers(&self, site: &str, older_than: Duration) -> Result<CleanReport> {
        let site_dir = self.site_dir(site)?;
        let mut report = CleanReport::default();
        let now = SystemTime::now();
        for dir in [site_dir.clone(), site_dir.join("sets")] {
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("listing", dir, e)),
            };
            for e in rd.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(kind) = leftover_kind(&name, ft) else {
                    continue;
                };
                let p = e.path();
                if kind != Leftover::Deleting {
                    let age = newest_mtime(&p)
                        .and_then(|t| now.duration_since(t).ok())
                        .unwrap_or(Duration::ZERO);
                    if age < older_than {
                        report.kept_recent.push(p);
                        continue;
                    }
                }
                // A staging folder whose manifest is written and whose files all verify is a
                // whole set that crashed (or failed) just before its rename: finish it.
                if kind == Leftover::Incomplete
                    && let Some(id) = name.strip_prefix(INCOMPLETE)
                    && std::fs::symlink_metadata(p.join(MANIFEST)).is_ok_and(|m| m.is_file())
                    && crate::dr::verify::verify_backup_set(&p).is_ok_and(|v| v.ok())
                {
                    match self.finish_set(site, id, &p) {
                        Ok((_, dest)) => {
                            tracing::info!(site, path = %dest.display(), "finished a complete set a crash left in staging");
                            report.recovered.push(dest);
                        }
                        Err(err) => report.failed.push(CleanFailure {
                            error: err.report(),
                            path: p,
                        }),
                    }
                    continue;
                }
                match remove_leftover(&p, kind) {
                    Ok(()) => {
                        tracing::info!(site, path = %p.display(), "removed crash leftover");
                        report.removed.push(p);
                    }
                    Err(err) => report.failed.push(CleanFailure {
                        error: Error::io("removing leftover", &p, err).report(),
                        path: p,
                    }),
                }
            }
        }
        report.removed.sort();
        report.kept_recent.sort();
        Ok(report)
    }

    /// Removes a set: renamed aside first, so an interrupted removal never leaves a partial set
    /// under a final name. A symbolic link is refused (never removed through).
    pub(crate) fn remove_set(&self, site: &str, id: &str) -> Result<()> {
        if id.starts_with('.') || id.contains(['/', '\\']) || id.is_empty() {
            return Err(Error::invalid_input(
                "set id",
                format!("`{id}` is not a set id"),
            ));
        }
        let dir = self.sets_dir(site)?;
        let src = dir.join(id);
        match std::fs::symlink_metadata(&src) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Refused {
                    reason: format!("{} is a symbolic link and is not removed", src.display()),
                });
            }
            Ok(m) if m.is_dir() && src.join(MANIFEST).exists() => {}
            _ => {
                return Err(Error::NotFound {
                    what: format!("backup set {site}/{id}"),
                });
            }
        }
        // A set of the earlier layout holds its recordings itself: they move to the archive
        // first, so the removal never takes the only copy.
        if let Ok(bytes) = std::fs::read(src.join(MANIFEST))
            && let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes)
        {
            self.reporting_archive(site)?
                .adopt_legacy_recordings(&src, &manifest)?;
        }
        let aside = dir.join(format!("{DELETING}{id}"));
        std::fs::rename(&src, &aside).map_err(|e| Error::io("removing", &src, e))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        match std::fs::remove_dir_all(&aside) {
            // A concurrent leftover clean finished the removal.
            Err(_) if std::fs::symlink_metadata(&aside).is_err() => Ok(()),
            r => r.map_err(|e| Error::io("removing", &aside, e)),
        }
    }
}

impl BackupStore {
    /// Newest-first candidates, verifying from the newest until one set counts as verified
    /// (the protected one); sets ruled out (partial, NSB below `min_nsb_bytes`) are not
    /// verified, and older sets are left unchecked.
    fn retention_candidates(
        &self,
        sets: &[SetSummary],
        min_nsb_bytes: u64,
    ) -> Result<Vec<crate::dr::retention::RetentionCandidate>> {
        let mut found_good = false;
        sets.iter()
            .map(|s| {
                let not_verifiable = s.manifest.not_verifiable(min_nsb_bytes);
                let verified = if found_good || not_verifiable.is_some() {
                    None
                } else {
                    // A set that cannot be read to the end (EIO, EACCES) is not verified;
                    // it does not stop retention for the rest of the site.
                    let ok = match crate::dr::verify::verify_backup_set(&s.path) {
                        Ok(v) => v.ok(),
                        Err(e) => {
                            tracing::warn!(set = %s.path.display(), "verify failed: {e}");
                            false
                        }
                    };
                    found_good = ok;
                    Some(ok)
                };
                Ok(crate::dr::retention::RetentionCandidate {
                    id: s.id.clone(),
                    created_at: s.created_at,
                    verified,
                    not_verifiable,
                    version: Some(s.manifest.nsb.version.clone()),
                })
            })
            .collect()
    }

    /// Plans retention for a site (dry run: nothing is removed). Folders that cannot be read
    /// as a set are kept, with the reason.
    pub fn plan_retention(
        &self,
        site: &str,
        policy: &crate::dr::retention::RetentionPolicy,
    ) -> Result<crate::dr::retention::RetentionPlan> {
        let listing = self.scan(site)?;
        let mut candidates = self.retention_candidates(&listing.sets, policy.min_nsb_bytes())?;
        // The version rule keeps a verified set of each recent release, but only the site's
        // newest verified set has been looked for: a release none of whose sets is known to
        // verify has its sets verified newest first until one passes.
        let releases = {
            let refs: Vec<&crate::dr::retention::RetentionCandidate> = candidates.iter().collect();
            crate::dr::retention::newest_releases(&refs, policy.keep_versions())
        };
        for release in releases {
            let group: Vec<usize> = (0..candidates.len())
                .filter(|&i| candidates[i].version.as_ref() == Some(&release))
                .collect();
            if group.iter().any(|&i| candidates[i].counts_as_verified()) {
                continue;
            }
            for i in group {
                if candidates[i].verified.is_some() || candidates[i].not_verifiable.is_some() {
                    continue;
                }
                let ok = match crate::dr::verify::verify_backup_set(&listing.sets[i].path) {
                    Ok(v) => v.ok(),
                    Err(e) => {
                        tracing::warn!(set = %listing.sets[i].path.display(), "verify failed: {e}");
                        false
                    }
                };
                candidates[i].verified = Some(ok);
                if ok {
                    break;
                }
            }
        }
        let mut plan = crate::dr::retention::plan_retention(site, &candidates, policy)?;
        for u in listing.unreadable {
            plan.keep.push(crate::dr::retention::KeptSet {
                id: u.id,
                reasons: vec![format!("unreadable, never removed: {}", u.error.message)],
            });
        }
        Ok(plan)
    }

    /// Removes what `plan` marks, after checking again that the newest verified set is not
    /// among them; returns the removed ids. See [`BackupStore::apply_retention_report`].
    pub fn apply_retention(
        &self,
        plan: &crate::dr::retention::RetentionPlan,
    ) -> Result<Vec<String>> {
        self.apply_retention_report(plan).map(|o| o.removed)
    }

    /// Removes what `plan` marks and reports it with the crash leftovers cleaned first. Refused
    /// before anything is removed when the plan names the newest verified set, or a folder that
    /// cannot be read as a set; a set no longer there is `NotFound`.
    pub fn apply_retention_report(
        &self,
        plan: &crate::dr::retention::RetentionPlan,
    ) -> Result<RetentionOutcome> {
        let cleaned = self.clean_leftovers(&plan.site, DEFAULT_LEFTOVER_AGE)?;
        let listing = self.scan(&plan.site)?;
        let now = self.retention_candidates(&listing.sets, plan.min_nsb_bytes)?;
        let refs: Vec<&crate::dr::retention::RetentionCandidate> = now.iter().collect();
        if let Some(p) = crate::dr::retention::protected_index(&refs).map(|i| refs[i])
            && plan.remove.contains(&p.id)
        {
            return Err(Error::Refused {
                reason: format!(
                    "set {} is the newest verified set of {} and is kept",
                    p.id, plan.site
                ),
            });
        }
        for id in &plan.remove {
            if let Some(u) = listing.unreadable.iter().find(|u| &u.id == id) {
                return Err(Error::Refused {
                    reason: format!(
                        "{} cannot be read as a set and is never removed by retention: {}",
                        u.path.display(),
                        u.error.message
                    ),
                });
            }
            if !listing.sets.iter().any(|s| &s.id == id) {
                return Err(Error::NotFound {
                    what: format!("backup set {}/{id}", plan.site),
                });
            }
        }
        let mut removed = Vec::new();
        for id in &plan.remove {
            self.remove_set(&plan.site, id)?;
            removed.push(id.clone());
        }
        Ok(RetentionOutcome { removed, cleaned })
    }
}
