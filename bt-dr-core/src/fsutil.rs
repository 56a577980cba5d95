//! Crash-safe file writing: content goes to a temporary file in the destination folder,
//! is fsynced, then renamed, and the folder is fsynced, so a final name never shows a
//! partial file — not after an error, a cancel, or a power cut.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::{Error, Result};

/// A file being written under a temporary name next to its final one.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: NamedTempFile,
    dest: PathBuf,
}

impl AtomicFile {
    /// Starts a file that will become `dest` on [`AtomicFile::commit`].
    pub fn create(dest: impl Into<PathBuf>) -> Result<Self> {
        let dest = dest.into();
        let dir = parent_dir(&dest);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating folder", &dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".bt-dr-")
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(|e| Error::io("creating temporary file in", &dir, e))?;
        Ok(Self { tmp, dest })
    }

    /// The open file.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp.as_file_mut()
    }

    /// Where it will land.
    pub fn destination(&self) -> &Path {
        &self.dest
    }

    /// Fsyncs and renames into place (replacing an older file of that name), then fsyncs the folder.
    pub fn commit(mut self) -> Result<PathBuf> {
        self.tmp
            .as_file_mut()
            .flush()
            .map_err(|e| Error::io("flushing", &self.dest, e))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("syncing", &self.dest, e))?;
        let dest = self.dest.clone();
        self.tmp
            .persist(&dest)
            .map_err(|e| Error::io("renaming into place", &dest, e.error))?;
        sync_dir(&parent_dir(&dest));
        Ok(dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Best effort: some filesystems refuse to fsync a directory, and the rename already happened.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A UTC instant as it goes into file and folder names: `20261121T020000Z` (sorts by time,
/// no characters any filesystem refuses).
///
/// ```
/// let t = time::macros::datetime!(2026-11-21 03:00:00 +01:00);
/// assert_eq!(bt_dr_core::fsutil::utc_stamp(t), "20261121T020000Z");
/// ```
pub fn utc_stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Writes `bytes` to `dest` atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.json");
/// bt_dr_core::write_atomic(&p, b"{}").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"{}");
/// ```
pub fn write_atomic(dest: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf> {
    let mut f = AtomicFile::create(dest.as_ref())?;
    f.write_all(bytes)
        .map_err(|e| Error::io("writing", dest.as_ref(), e))?;
    f.commit()
}

/// Writes a value as pretty JSON atomically.
pub fn write_json_atomic<T: serde::Serialize>(
    dest: impl AsRef<Path>,
    value: &T,
) -> Result<PathBuf> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::invalid_input("json", e.to_string()))?;
    bytes.push(b'\n');
    write_atomic(dest, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_file_leaves_nothing_under_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.nsb");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x");
        write_atomic(&dest, b"one").unwrap();
        write_atomic(&dest, b"two").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
