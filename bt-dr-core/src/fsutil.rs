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

    /// Where it is being written.
    pub(crate) fn temp_path(&self) -> &Path {
        self.tmp.path()
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

/// Keeps a large file's dirty pages flowing to disk while it is still being written.
///
/// Left alone, Linux holds gigabytes of a fresh backup in the page cache and writes them only at
/// the final fsync, so the download finishes and then waits for the disk. Starting writeback of
/// each finished window right away overlaps the disk with the network; waiting for the window a
/// few steps back bounds the dirty data, and dropping it from the cache afterwards keeps a
/// nightly multi-gigabyte backup from evicting everything else on the host.
///
/// A write error found while waiting is returned: the kernel reports it once per open file,
/// so the final fsync would not see it again. Filesystems that cannot do this are left to the
/// page cache and the final fsync.
#[derive(Debug, Default)]
pub(crate) struct Writeback {
    /// Bytes handed to `write`.
    written: u64,
    /// Start of the first window whose writeback has not been started.
    started: u64,
    /// Start of the first window not yet waited for.
    settled: u64,
    /// The filesystem does not support it; stop trying.
    unsupported: bool,
}

impl Writeback {
    /// Window size: large enough for long sequential disk writes.
    const WINDOW: u64 = 8 << 20;
    /// Windows in flight before the writer waits for the oldest.
    const LAG: u64 = 4;

    /// Records `n` more bytes written to `file` and moves writeback along.
    pub(crate) fn wrote(&mut self, file: &std::fs::File, n: usize) -> std::io::Result<()> {
        self.written += n as u64;
        while !self.unsupported && self.written - self.started >= Self::WINDOW {
            let r = start_writeback(file, self.started, Self::WINDOW).and_then(|()| {
                self.started += Self::WINDOW;
                if self.started - self.settled > Self::LAG * Self::WINDOW {
                    settle(file, self.settled, Self::WINDOW)?;
                    self.settled += Self::WINDOW;
                }
                Ok(())
            });
            if let Err(e) = r {
                if !is_unsupported(&e) {
                    return Err(e);
                }
                self.unsupported = true;
            }
        }
        Ok(())
    }
}

fn is_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(code) if UNSUPPORTED.contains(&code))
}

#[cfg(target_os = "linux")]
const UNSUPPORTED: [i32; 4] = [libc::ENOSYS, libc::EINVAL, libc::ESPIPE, libc::EOPNOTSUPP];
#[cfg(not(target_os = "linux"))]
const UNSUPPORTED: [i32; 0] = [];

#[cfg(target_os = "linux")]
fn sync_range(file: &std::fs::File, offset: u64, len: u64, flags: u32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let off = i64::try_from(offset).map_err(std::io::Error::other)?;
    let len = i64::try_from(len).map_err(std::io::Error::other)?;
    // SAFETY: the descriptor stays open for the duration of the borrow; no memory is passed.
    let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), off, len, flags) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
    sync_range(file, offset, len, libc::SYNC_FILE_RANGE_WRITE)
}

#[cfg(target_os = "linux")]
fn settle(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    sync_range(
        file,
        offset,
        len,
        libc::SYNC_FILE_RANGE_WAIT_BEFORE
            | libc::SYNC_FILE_RANGE_WRITE
            | libc::SYNC_FILE_RANGE_WAIT_AFTER,
    )?;
    // The window is on disk; dropping it from the cache is advice, so its result is not ours
    // to act on.
    if let (Ok(off), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) {
        // SAFETY: as above.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), off, len, libc::POSIX_FADV_DONTNEED) };
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
#[cfg(not(target_os = "linux"))]
fn settle(_: &std::fs::File, _: u64, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
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

    #[test]
    fn writeback_pacing_keeps_every_byte() {
        // Enough windows that the oldest ones are waited for and dropped from the cache.
        let windows = Writeback::LAG + 2;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.nsb");
        let mut f = AtomicFile::create(&dest).unwrap();
        let mut wb = Writeback::default();
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let blocks = windows * (Writeback::WINDOW >> 20);
        for i in 0..blocks {
            let mut b = block.clone();
            b[..8].copy_from_slice(&i.to_le_bytes());
            f.write_all(&b).unwrap();
            wb.wrote(f.file(), b.len()).unwrap();
        }
        f.write_all(b"tail").unwrap();
        wb.wrote(f.file(), 4).unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(wb.started, windows * Writeback::WINDOW);
            assert_eq!(wb.settled, (windows - Writeback::LAG) * Writeback::WINDOW);
        }
        f.commit().unwrap();
        let back = std::fs::read(&dest).unwrap();
        assert_eq!(back.len() as u64, blocks * (1 << 20) + 4);
        for i in 0..blocks {
            let at = (i << 20) as usize;
            assert_eq!(back[at..at + 8], i.to_le_bytes());
            assert_eq!(back[at + 8..at + (1 << 20)], block[8..]);
        }
        assert_eq!(&back[back.len() - 4..], b"tail");
    }
}
