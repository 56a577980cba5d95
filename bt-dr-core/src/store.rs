//! The backup store: one folder per site, one folder per backup set.
//!
//! ```text
//! <root>/<site>/checkpoint.json        recordings downloaded up to here (incremental runs)
//! <root>/<site>/sets/<YYYYMMDDTHHMMSSZ>/manifest.json, the NSB, recordings/, certificates/, …
//! ```
//! A set is assembled under `.incomplete-<id>` and renamed to `<id>` only once its manifest is
//! on disk, so a set under its final name is always complete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::backup_set::Manifest;
use crate::{Error, Result};

/// Where a site's recordings were downloaded up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Checkpoint {
    /// Sessions that started before this UNIX time have had their recordings downloaded.
    pub recordings_until: Option<i64>,
    /// The set that last advanced the checkpoint.
    pub last_set: Option<String>,
}

/// One backup set as found in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetSummary {
    /// Folder name (UTC creation time).
    pub id: String,
    /// Site name.
    pub site: String,
    /// Full path.
    pub path: PathBuf,
    /// Creation time from the manifest.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The manifest.
    pub manifest: Manifest,
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
}

pub(crate) const MANIFEST: &str = "manifest.json";
const INCOMPLETE: &str = ".incomplete-";
const DELETING: &str = ".deleting-";

/// Formats a set id from a time: `20261121T020000Z`.
pub fn set_id_for(t: OffsetDateTime) -> String {
    crate::fsutil::utc_stamp(t)
}

impl BackupStore {
    /// Opens (creating if needed) a store at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| Error::io("creating backup store", &root, e))?;
        // Absolute, so paths in manifests, reports and runbooks mean the same from anywhere.
        let root = std::fs::canonicalize(&root).map_err(|e| Error::io("resolving", &root, e))?;
        Ok(Self { root })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder of a site.
    pub fn site_dir(&self, site: &str) -> Result<PathBuf> {
        crate::site::validate_site_name(site, "site")?;
        Ok(self.root.join(site))
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
        crate::fsutil::write_json_atomic(self.site_dir(site)?.join("checkpoint.json"), c)
            .map(|_| ())
    }

    /// Creates the staging folder of a new set; returns (final id, staging path).
    pub(crate) fn begin_set(&self, site: &str, at: OffsetDateTime) -> Result<(String, PathBuf)> {
        let dir = self.sets_dir(site)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let base = set_id_for(at);
        let mut id = base.clone();
        let mut n = 1;
        while dir.join(&id).exists() || dir.join(format!("{INCOMPLETE}{id}")).exists() {
            n += 1;
            id = format!("{base}-{n}");
        }
        let staging = dir.join(format!("{INCOMPLETE}{id}"));
        std::fs::create_dir(&staging).map_err(|e| Error::io("creating", &staging, e))?;
        Ok((id, staging))
    }

    /// Renames a finished staging folder to its final name.
    pub(crate) fn finish_set(&self, site: &str, id: &str, staging: &Path) -> Result<PathBuf> {
        let dest = self.sets_dir(site)?.join(id);
        if let Ok(d) = std::fs::File::open(staging) {
            let _ = d.sync_all();
        }
        std::fs::rename(staging, &dest).map_err(|e| Error::io("finishing backup set", &dest, e))?;
        if let Ok(d) = std::fs::File::open(self.sets_dir(site)?) {
            let _ = d.sync_all();
        }
        Ok(dest)
    }

    /// Complete sets of a site, newest first. Staging and half-deleted folders are skipped.
    pub fn list_sets(&self, site: &str) -> Result<Vec<SetSummary>> {
        let dir = self.sets_dir(site)?;
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", dir, e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io("listing", &dir, e))?;
            let id = entry.file_name().to_string_lossy().into_owned();
            if id.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let mp = entry.path().join(MANIFEST);
            let Ok(bytes) = std::fs::read(&mp) else {
                continue;
            };
            let manifest: Manifest = serde_json::from_slice(&bytes)
                .map_err(|e| Error::parse(mp.display().to_string(), e.to_string()))?;
            out.push(SetSummary {
                id,
                site: site.to_string(),
                path: entry.path(),
                created_at: manifest.created_at,
                manifest,
            });
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// The newest complete set.
    pub fn latest_set(&self, site: &str) -> Result<Option<SetSummary>> {
        Ok(self.list_sets(site)?.into_iter().next())
    }

    /// Removes a set: renamed aside first, so an interrupted removal never leaves a partial set
    /// under a final name.
    pub(crate) fn remove_set(&self, site: &str, id: &str) -> Result<()> {
        if id.starts_with('.') || id.contains(['/', '\\']) || id.is_empty() {
            return Err(Error::invalid_input(
                "set id",
                format!("`{id}` is not a set id"),
            ));
        }
        let dir = self.sets_dir(site)?;
        let src = dir.join(id);
        if !src.join(MANIFEST).exists() {
            return Err(Error::NotFound {
                what: format!("backup set {site}/{id}"),
            });
        }
        let aside = dir.join(format!("{DELETING}{id}"));
        std::fs::rename(&src, &aside).map_err(|e| Error::io("removing", &src, e))?;
        std::fs::remove_dir_all(&aside).map_err(|e| Error::io("removing", &aside, e))
    }
}

impl BackupStore {
    /// Newest-first candidates, verifying from the newest until one set verifies (the
    /// protected one); older sets are left unchecked.
    fn retention_candidates(
        &self,
        site: &str,
    ) -> Result<Vec<crate::retention::RetentionCandidate>> {
        let mut found_good = false;
        self.list_sets(site)?
            .into_iter()
            .map(|s| {
                let verified = if found_good {
                    None
                } else {
                    let ok = crate::backup_set::verify_backup_set(&s.path)?.ok();
                    found_good = ok;
                    Some(ok)
                };
                Ok(crate::retention::RetentionCandidate {
                    id: s.id,
                    created_at: s.created_at,
                    verified,
                })
            })
            .collect()
    }

    /// Plans retention for a site (dry run: nothing is removed).
    pub fn plan_retention(
        &self,
        site: &str,
        policy: &crate::RetentionPolicy,
    ) -> Result<crate::RetentionPlan> {
        crate::retention::plan_retention(site, &self.retention_candidates(site)?, policy)
    }

    /// Removes what `plan` marks, after checking again that the newest verified set is not among them.
    pub fn apply_retention(&self, plan: &crate::RetentionPlan) -> Result<Vec<String>> {
        let now = self.retention_candidates(&plan.site)?;
        if let Some(p) = now
            .iter()
            .find(|c| c.verified == Some(true))
            .or(now.first())
            && plan.remove.contains(&p.id)
        {
            return Err(Error::Refused {
                reason: format!(
                    "set {} is the newest verified set of {} and is kept",
                    p.id, plan.site
                ),
            });
        }
        let mut removed = Vec::new();
        for id in &plan.remove {
            self.remove_set(&plan.site, id)?;
            removed.push(id.clone());
        }
        Ok(removed)
    }
}
