//! Crash-safe file writing: content goes to a temporary file in the destination folder,
//! is fsynced, then renamed, and the folder is fsynced, so a final name never shows a
//! partial file — not after an error, a cancel, or a power cut.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::support::error::{Error, Result};

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

/// A file written next to another one before that one takes its final name (a backup's
/// sidecar): called with each candidate final path, it writes itself without replacing anything
/// and returns its own path, or `None` when its name is taken (the candidate is then skipped).
pub type Companion<'a> = dyn FnMut(&Path) -> Result<Option<PathBuf>> + 'a;

impl AtomicFile {
    /// Fsyncs and moves the file into place under `dest` or, when that name is taken, the first
    /// free one of `stem-2.ext`, `stem-3.ext`, … (at most [`MAX_UNIQUE_TRIES`] names). Never
    /// replaces an existing file: each name is claimed with a no-replace rename
    /// ([`rename_no_replace`]), so a file that appears between the check and the rename is
    /// left alone too.
    ///
    /// With a `companion`, it is written first for each candidate, so a crash between the two
    /// steps leaves at most a companion without its file — never a file without its metadata.
    /// Returns where the file and its companion landed.
    pub fn commit_unique(
        mut self,
        mut companion: Option<&mut Companion<'_>>,
    ) -> Result<(PathBuf, Option<PathBuf>)> {
        self.tmp
            .as_file_mut()
            .flush()
            .map_err(|e| Error::io("flushing", &self.dest, e))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("syncing", &self.dest, e))?;
        let dest = self.dest.clone();
        let dir = parent_dir(&dest);
        let temp = self.tmp.into_temp_path();
        for n in 1..=MAX_UNIQUE_TRIES {
            let candidate = numbered(&dest, n);
            if std::fs::symlink_metadata(&candidate).is_ok() {
                continue;
            }
            let side = match companion.as_mut() {
                Some(write) => match write(&candidate)? {
                    Some(p) => Some(p),
                    None => continue,
                },
                None => None,
            };
            match rename_no_replace(&temp, &candidate) {
                Ok(()) => {
                    // The file is under its final name now: the temporary path must not be
                    // removed when `temp` goes away.
                    let _ = temp.keep();
                    sync_dir(&dir);
                    return Ok((candidate, side));
                }
                Err(e) => {
                    if let Some(p) = &side {
                        let _ = std::fs::remove_file(p);
                    }
                    if e.kind() != std::io::ErrorKind::AlreadyExists {
                        return Err(Error::io("renaming into place", &candidate, e));
                    }
                }
            }
        }
        // `temp` is dropped here, which removes the temporary file.
        Err(Error::io(
            "renaming into place",
            &dest,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{MAX_UNIQUE_TRIES} names of this form are already taken"),
            ),
        ))
    }
}

/// `path` with `suffix` appended to its file name (`a.nsb` + `.bt-dr.json`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Whether an error is "that name is taken" (from a no-replace write).
pub(crate) fn is_name_taken(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists)
}

fn links_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(code) if NO_LINKS.contains(&code))
}

#[cfg(unix)]
const NO_LINKS: [i32; 4] = [libc::EPERM, libc::EOPNOTSUPP, libc::ENOSYS, libc::EMLINK];
#[cfg(not(unix))]
const NO_LINKS: [i32; 0] = [];

/// How many numbered names [`AtomicFile::commit_unique`] tries before giving up.
pub const MAX_UNIQUE_TRIES: u32 = 100;

/// `dest` for `n == 1`, else `stem-n.ext` (the extension is the part after the last dot, or
/// `.json.gz` / `.tar.gz` whole).
pub(crate) fn numbered(dest: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return dest.to_path_buf();
    }
    let name = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = [".json.gz", ".tar.gz"]
        .iter()
        .find_map(|e| name.strip_suffix(e).map(|s| (s, *e)))
        .filter(|(s, _)| !s.is_empty())
        .or_else(|| {
            name.rfind('.')
                .filter(|&i| i > 0)
                .map(|i| (&name[..i], &name[i..]))
        })
        .unwrap_or((name.as_str(), ""));
    dest.with_file_name(format!("{stem}-{n}{ext}"))
}

/// Renames `from` to `to` unless `to` exists (then `ErrorKind::AlreadyExists` and nothing
/// changes). Linux: `renameat2(RENAME_NOREPLACE)`; where that is unavailable (other systems,
/// filesystems without it): `link` + `unlink`, which fails on an existing `to` as well.
pub fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let f = std::ffi::CString::new(from.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        let t = std::ffi::CString::new(to.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            // Not supported by this kernel or filesystem: fall back below.
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {}
            _ => return Err(e),
        }
    }
    link_then_unlink(from, to)
}

fn link_then_unlink(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Err(e) = std::fs::hard_link(from, to) {
        if e.kind() == std::io::ErrorKind::AlreadyExists || !links_unsupported(&e) {
            return Err(e);
        }
        // A filesystem without hard links (FAT, some network and FUSE mounts): check, then
        // rename. The check and the rename are two steps, so this last resort is the one
        // place where a file created in between by someone else could be replaced.
        if std::fs::symlink_metadata(to).is_ok() {
            return Err(std::io::ErrorKind::AlreadyExists.into());
        }
        return std::fs::rename(from, to);
    }
    if let Err(e) = std::fs::remove_file(from) {
        // Both names point at the file; drop the new one so the caller's view stays simple.
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    Ok(())
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
pub(crate) fn sync_dir(dir: &Path) {
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

/// Writes `bytes` to `dest` atomically, failing with `ErrorKind::AlreadyExists` (as an
/// [`Error::Io`]) instead of replacing an existing file.
pub fn write_new_atomic(dest: impl AsRef<Path>, bytes: &[u8]) -> Result<PathBuf> {
    let dest = dest.as_ref();
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)
        .map_err(|e| Error::io("writing", dest, e))?;
    f.file()
        .sync_all()
        .map_err(|e| Error::io("syncing", dest, e))?;
    let temp = f.tmp.into_temp_path();
    match rename_no_replace(&temp, dest) {
        Ok(()) => {
            let _ = temp.keep();
            sync_dir(&parent_dir(dest));
            Ok(dest.to_path_buf())
        }
        Err(e) => Err(Error::io("renaming into place", dest, e)),
    }
}

/// Writes a value as pretty JSON atomically, never replacing an existing file.
pub fn write_json_new_atomic<T: serde::Serialize>(
    dest: impl AsRef<Path>,
    value: &T,
) -> Result<PathBuf> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::invalid_input("json", e.to_string()))?;
    bytes.push(b'\n');
    write_new_atomic(dest, &bytes)
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
    fn no_replace_rename_and_unique_commit_never_touch_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"new").unwrap();
        std::fs::write(&b, b"old").unwrap();
        let e = rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        // The fallback behaves the same.
        let e = link_then_unlink(&a, &b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        link_then_unlink(&a, &dir.path().join("c")).unwrap();
        assert!(!a.exists());

        let dest = dir.path().join("bomgar-1.2.3-x.nsb");
        std::fs::write(&dest, b"first").unwrap();
        std::fs::write(dir.path().join("bomgar-1.2.3-x-2.nsb.side"), b"orphan").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"second").unwrap();
        let mut side = |cand: &Path| {
            let p = with_suffix(cand, ".side");
            match write_new_atomic(&p, b"meta") {
                Ok(p) => Ok(Some(p)),
                Err(e) if is_name_taken(&e) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let (landed, companion) = f.commit_unique(Some(&mut side)).unwrap();
        assert_eq!(landed, dir.path().join("bomgar-1.2.3-x-3.nsb"));
        assert_eq!(
            companion,
            Some(dir.path().join("bomgar-1.2.3-x-3.nsb.side"))
        );
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        assert_eq!(std::fs::read(&landed).unwrap(), b"second");
        assert_eq!(
            std::fs::read(dir.path().join("bomgar-1.2.3-x-2.nsb.side")).unwrap(),
            b"orphan"
        );
        // A companion that cannot be written stops the commit: nothing lands.
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"third").unwrap();
        let mut failing = |_: &Path| -> Result<Option<PathBuf>> {
            Err(Error::io(
                "writing",
                "x",
                std::io::Error::other("disk full"),
            ))
        };
        assert!(f.commit_unique(Some(&mut failing)).is_err());
        assert!(!dir.path().join("bomgar-1.2.3-x-4.nsb").exists());
        assert_eq!(
            numbered(Path::new("d/archive-state-1.json.gz"), 2),
            Path::new("d/archive-state-1-2.json.gz")
        );
        assert_eq!(numbered(Path::new("noext"), 3), Path::new("noext-3"));

        let j = dir.path().join("s.json");
        write_json_new_atomic(&j, &1).unwrap();
        let e = write_json_new_atomic(&j, &2).unwrap_err();
        assert_eq!(e.kind(), crate::support::error::ErrorKind::Io);
        assert_eq!(std::fs::read_to_string(&j).unwrap(), "1\n");
        // No temporary file is left behind by any of it.
        assert!(
            std::fs::read_dir(dir.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.'))
        );
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
