//! Verify a backup set: every file the manifest lists is there, is a regular file inside
//! the set (no symlinks), and hashes to what the manifest recorded; nothing unlisted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dr::manifest::{MANIFEST, Manifest, ReportingRef, rel};
use crate::support::error::{Error, Result};

/// A problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// Set folder.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
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

    /// The one JSON view every binding returns: the report with `ok` alongside.
    pub fn view(&self) -> VerifyReportView<'_> {
        VerifyReportView {
            report: self,
            ok: self.ok(),
        }
    }
}

/// A verify report and its verdict (see [`VerifyReport::view`]).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyReportView<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: &'a VerifyReport,
    /// Every file is present and matches.
    pub ok: bool,
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
        match crate::support::hash::sha256_file(&p) {
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
        match crate::support::hash::sha256_file(&p) {
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
