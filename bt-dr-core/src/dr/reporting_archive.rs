//! The per-site reporting archive: session reports, recordings of every kind and exit surveys,
//! kept once per site and referenced by the backup sets that took them.
//!
//! ```text
//! <root>/<site>/reporting/<kind>/<lsid>.<ext>      one file per session and kind
//! <root>/<site>/reporting/<kind>/<kind>-<window>.xml  exit surveys of a time window
//! ```
//! Reporting data is taken incrementally: each night's set holds only what is new since the
//! last one. Kept inside the set, it would go with the set when retention removes it — and with
//! it the only copy. So the data lives here, a set refers to what it took by kind, session id,
//! path and hash, and removing a set never removes archive data. Files arrive here through
//! atomic, no-replace commits like every other file bt-dr writes, so a file under its final
//! name is always complete.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::api::ReportKind;
use crate::support::error::{Error, Result};

// The reference a manifest keeps to an archived file is part of the set's shape, so it lives
// in `manifest` (which this module builds on); re-exported so `reporting_archive::…` paths stay.
pub use crate::dr::manifest::{REPORTING_DIR, ReportingRef};

/// One site's archive.
#[derive(Debug, Clone)]
pub(crate) struct ReportingArchive {
    site_dir: PathBuf,
}

impl ReportingArchive {
    pub(crate) fn new(site_dir: PathBuf) -> Self {
        Self { site_dir }
    }

    /// The folder of a kind (created on demand).
    pub(crate) fn kind_dir(&self, kind: ReportKind) -> Result<PathBuf> {
        let d = self.site_dir.join(REPORTING_DIR).join(kind.as_str());
        std::fs::create_dir_all(&d).map_err(|e| Error::io("creating", &d, e))?;
        Ok(d)
    }

    /// Per-session files already archived for `kind`, by session id (file stem). Hidden names
    /// (temporary files of a write in progress) and links are not archive files.
    pub(crate) fn existing(&self, kind: ReportKind) -> Result<HashMap<String, PathBuf>> {
        let d = self.kind_dir(kind)?;
        let mut found = HashMap::new();
        for e in std::fs::read_dir(&d)
            .map_err(|e| Error::io("listing", &d, e))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let stem = name.split_once('.').map_or(name.as_str(), |(s, _)| s);
            found.entry(stem.to_string()).or_insert_with(|| e.path());
        }
        Ok(found)
    }

    /// A reference to an archived file, hashing it when the caller has no hash.
    pub(crate) fn reference(
        &self,
        kind: ReportKind,
        lsid: Option<&str>,
        path: &Path,
        known: Option<(String, u64)>,
    ) -> Result<ReportingRef> {
        let (sha256, size) = match known {
            Some(k) => k,
            None => crate::support::hash::sha256_file(path)?,
        };
        let rel = path.strip_prefix(&self.site_dir).unwrap_or(path);
        Ok(ReportingRef {
            kind,
            lsid: lsid.map(str::to_string),
            path: rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            size,
            sha256,
        })
    }

    /// Moves the recordings a set of the earlier layout kept inside itself into the archive,
    /// so removing that set keeps them. A file the archive already holds with the same bytes
    /// is left in the set (removal takes that copy); a different file of the same name gets a
    /// numbered name. Returns how many files were moved.
    pub(crate) fn adopt_legacy_recordings(
        &self,
        set_path: &Path,
        manifest: &crate::dr::manifest::Manifest,
    ) -> Result<usize> {
        let dest_dir = self.kind_dir(ReportKind::SessionRecording)?;
        // First decide every move, so a recording that cannot be placed stops the removal
        // before any file has left the set (the set then still verifies).
        let mut moves = Vec::new();
        for f in manifest.files_of(crate::dr::manifest::FileKind::Recording) {
            let src = set_path.join(&f.path);
            if f.path.split(['/', '\\']).any(|c| c == "..") || !src.is_file() {
                continue;
            }
            let Some(name) = src.file_name().map(|n| n.to_os_string()) else {
                continue;
            };
            let dest = dest_dir.join(&name);
            if dest.is_file() && crate::support::hash::sha256_file(&dest)?.0 == f.sha256 {
                continue;
            }
            let free = (1..=crate::support::fsutil::MAX_UNIQUE_TRIES).any(|n| {
                std::fs::symlink_metadata(crate::support::fsutil::numbered(&dest, n)).is_err()
            });
            if !free {
                return Err(Error::io(
                    "archiving recording of (the set is kept)",
                    &src,
                    std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "every archive name for this recording is taken",
                    ),
                ));
            }
            moves.push((src, dest));
        }
        let mut moved = 0;
        for (src, dest) in moves {
            let mut placed = false;
            for n in 1..=crate::support::fsutil::MAX_UNIQUE_TRIES {
                let candidate = crate::support::fsutil::numbered(&dest, n);
                match crate::support::fsutil::rename_no_replace(&src, &candidate) {
                    Ok(()) => {
                        placed = true;
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(Error::io("archiving recording of", &src, e)),
                }
            }
            // Every name taken: the recording stays in the set, and the set must stay too.
            if !placed {
                return Err(Error::io(
                    "archiving recording of (the set is kept)",
                    &src,
                    std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "every archive name for this recording is taken",
                    ),
                ));
            }
            moved += 1;
        }
        if moved > 0 {
            crate::support::fsutil::sync_dir(&self.site_dir.join(REPORTING_DIR));
        }
        Ok(moved)
    }
}
