//! Crash-safe file writing: content goes to a temporary file in the destination folder,
//! is fsynced, then renamed, and the folder is fsynced, so a final name never shows a
//! partial file — not after an error, a cancel, or a power cut.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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

    /// Everything written so far, out of our buffers and on the disk.
    fn flush_and_sync(&mut self) -> Result<()> {
        self.tmp
            .as_file_mut()
            .flush()
            .map_err(|e| Error::io("flushing", &self.dest, e))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("syncing", &self.dest, e))
    }

    /// Fsyncs and renames into place (replacing an older file of that name), then fsyncs the folder.
    pub fn commit(mut self) -> Result<PathBuf> {
        self.flush_and_sync()?;
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
        self.flush_and_sync()?;
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

/// Keeps a large file's dirty pages flowing to disk while it is still being written, without
/// making the writer wait for the disk unless the disk is really behind.
///
/// Left alone, Linux holds gigabytes of a fresh backup in the page cache and writes them only at
/// the final fsync, so the download finishes and then waits for the disk. Here a flusher thread
/// of its own starts writeback of each finished window right away (the disk works while the
/// network does), waits for the oldest windows, and drops what is on disk from the cache once
/// the file outgrows the memory that was free ([`Pacer::to_drop`]), so a nightly
/// multi-gigabyte backup does not evict everything else on the host. The writer only
/// counts bytes: it waits when the backlog (written but not yet known to be on disk) passes a
/// budget that [`Pacer`] adapts to the disk's observed rate and the kernel's dirty limits, so a
/// momentary disk stall is absorbed by the page cache instead of stopping the socket, and the
/// backlog stays below the point where the kernel itself would throttle every writer.
///
/// A write error found while waiting is returned by the next [`Writeback::wrote`] or by
/// [`Writeback::finish`]: the kernel reports it once per open file, so the final fsync would not
/// see it again. Filesystems that cannot do this, and systems other than Linux, are left to the
/// page cache and the final fsync.
#[derive(Debug)]
pub(crate) struct Writeback {
    /// `None`: no pacing (not Linux, or the flusher could not be started).
    shared: Option<Arc<Shared>>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<FlushState>,
    /// The flusher waits here for work.
    work: Condvar,
    /// The writer waits here for the backlog to shrink.
    room: Condvar,
}

#[derive(Debug)]
struct FlushState {
    pacer: Pacer,
    /// The first write error the flusher met, for the writer to report.
    error: Option<std::io::Error>,
    /// The filesystem cannot do it: the flusher stopped and the writer never waits.
    unsupported: bool,
    /// Everything is written: flush the tail, wait for all of it, then stop.
    finishing: bool,
    /// Stop at once (the download was abandoned).
    stop: bool,
    stats: WritebackStats,
}

/// What the pacing did during one file, for the debug log (`bt_dr_core::writeback`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct WritebackStats {
    /// Times the writer waited because the backlog was over budget, and for how long.
    pub writer_waits: u64,
    pub writer_blocked: Duration,
    /// The largest backlog seen (bytes written but not yet on disk).
    pub max_backlog: u64,
    /// Time the flusher spent starting writeback and waiting for it.
    pub start_time: Duration,
    pub settle_time: Duration,
    /// Bytes known to be on disk when the pacing finished (all of them, unless it stopped).
    pub on_disk: u64,
    /// Windows waited for, and how many of those waits blocked.
    pub settles: u64,
    pub settles_blocked: u64,
}

fn lock(m: &Mutex<FlushState>) -> std::sync::MutexGuard<'_, FlushState> {
    // A panic on the other side cannot leave the counters half-updated in a way that matters:
    // keep going with what is there.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Writeback {
    /// Starts pacing for `file` (a flusher thread on a duplicate of its descriptor). Never fails:
    /// without pacing the file is still written, and the final fsync does the work.
    pub(crate) fn new(file: &std::fs::File) -> Self {
        let off = Self {
            shared: None,
            flusher: None,
        };
        if !cfg!(target_os = "linux") {
            return off;
        }
        let Ok(fd) = file.try_clone() else {
            return off;
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(FlushState {
                pacer: Pacer::new(DirtyState::read()),
                error: None,
                unsupported: false,
                finishing: false,
                stop: false,
                stats: WritebackStats::default(),
            }),
            work: Condvar::new(),
            room: Condvar::new(),
        });
        let theirs = shared.clone();
        match std::thread::Builder::new()
            .name("bt-dr-writeback".into())
            .stack_size(256 << 10)
            .spawn(move || flush(&theirs, &fd))
        {
            Ok(h) => Self {
                shared: Some(shared),
                flusher: Some(h),
            },
            Err(_) => off,
        }
    }

    /// Records `n` more bytes written; waits while the backlog is over budget. Returns the
    /// flusher's write error, if it met one.
    pub(crate) fn wrote(&mut self, n: usize) -> std::io::Result<()> {
        let Some(sh) = &self.shared else {
            return Ok(());
        };
        let mut st = lock(&sh.state);
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        if st.unsupported {
            return Ok(());
        }
        let had_work = st.pacer.to_start(false).is_some();
        st.pacer.wrote(n as u64);
        let backlog = st.pacer.backlog();
        st.stats.max_backlog = st.stats.max_backlog.max(backlog);
        if !had_work && st.pacer.to_start(false).is_some() {
            sh.work.notify_one();
        }
        if st.pacer.writer_must_wait() {
            let t0 = Instant::now();
            while st.pacer.writer_must_wait() && st.error.is_none() && !st.unsupported {
                st = sh.room.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            st.stats.writer_waits += 1;
            st.stats.writer_blocked += t0.elapsed();
            if let Some(e) = st.error.take() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Everything is written: writes out the tail, waits until all of it is on disk and drops
    /// it from the cache (the fsync that follows then has only metadata left), and returns any
    /// write error met on the way.
    pub(crate) fn finish(mut self) -> std::io::Result<WritebackStats> {
        let Some(sh) = self.shared.take() else {
            return Ok(WritebackStats::default());
        };
        lock(&sh.state).finishing = true;
        sh.work.notify_one();
        if let Some(h) = self.flusher.take() {
            // The flusher never panics on its own; if it did, the fsync still checks the data.
            let _ = h.join();
        }
        let mut st = lock(&sh.state);
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        st.stats.on_disk = st.pacer.settled;
        let stats = st.stats;
        tracing::debug!(
            target: "bt_dr_core::writeback",
            bytes = st.pacer.written,
            window_mib = st.pacer.window >> 20,
            budget_mib = st.pacer.budget >> 20,
            disk_mib_s = (st.pacer.rate / f64::from(1 << 20)) as u64,
            disk_samples = st.pacer.samples,
            max_backlog_mib = stats.max_backlog >> 20,
            writer_waits = stats.writer_waits,
            writer_blocked_ms = stats.writer_blocked.as_millis() as u64,
            start_ms = stats.start_time.as_millis() as u64,
            settle_ms = stats.settle_time.as_millis() as u64,
            settles = stats.settles,
            settles_blocked = stats.settles_blocked,
            unsupported = st.unsupported,
            "writeback pacing"
        );
        Ok(stats)
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        if let Some(sh) = &self.shared {
            lock(&sh.state).stop = true;
            sh.work.notify_one();
        }
        if let Some(h) = self.flusher.take() {
            // At most the one sync_file_range in progress is waited for.
            let _ = h.join();
        }
    }
}

/// One step of the flusher, decided under the lock and carried out without it.
enum FlushJob {
    Start(u64, u64),
    Settle(u64, u64),
    Exit,
}

/// The flusher thread: start writeback of finished windows, wait for the oldest ones, report
/// progress to [`Pacer`]; on `finishing`, flush everything and stop.
fn flush(sh: &Shared, file: &std::fs::File) {
    // However the flusher ends, the writer must not wait for it any longer.
    struct Gone<'a>(&'a Shared);
    impl Drop for Gone<'_> {
        fn drop(&mut self) {
            let mut st = lock(&self.0.state);
            if st.error.is_none() && !st.finishing && !st.stop {
                st.unsupported = true;
            }
            self.0.room.notify_all();
        }
    }
    let _gone = Gone(sh);
    let epoch = Instant::now();
    let mut dirty_checked = Instant::now();
    loop {
        let job = {
            let mut st = lock(&sh.state);
            loop {
                if st.stop {
                    break FlushJob::Exit;
                }
                let finishing = st.finishing;
                if let Some((off, len)) = st.pacer.to_start(finishing) {
                    break FlushJob::Start(off, len);
                }
                if let Some((off, len)) = st.pacer.to_settle(finishing) {
                    break FlushJob::Settle(off, len);
                }
                if finishing {
                    break FlushJob::Exit;
                }
                st = sh.work.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        let t0 = Instant::now();
        let r = match job {
            FlushJob::Exit => return,
            FlushJob::Start(off, len) => start_writeback(file, off, len),
            FlushJob::Settle(off, len) => settle(file, off, len),
        };
        // Only the wait itself: dropping the pages afterwards is CPU work, not disk time.
        let took = t0.elapsed();
        if let (FlushJob::Settle(off, len), Ok(())) = (&job, &r)
            && let Some((off, len)) = lock(&sh.state).pacer.to_drop(*off, *len)
        {
            drop_cached(file, off, len);
        }
        // Other writers' dirty pages count against the same kernel limits: look again now and
        // then (a few reads of /proc, off the writer's path).
        let fresh = if dirty_checked.elapsed() >= DIRTY_RECHECK {
            dirty_checked = Instant::now();
            DirtyState::read()
        } else {
            None
        };
        let mut st = lock(&sh.state);
        if let Some(d) = fresh {
            st.pacer.dirty_changed(d);
        }
        match (job, r) {
            (FlushJob::Start(off, len), Ok(())) => {
                st.pacer.started(off + len);
                st.stats.start_time += took;
            }
            (FlushJob::Settle(_, len), Ok(())) => {
                st.pacer.settled(len, took, epoch.elapsed());
                st.stats.settle_time += took;
                st.stats.settles += 1;
                if took >= BLOCKED {
                    st.stats.settles_blocked += 1;
                }
                sh.room.notify_all();
            }
            (_, Err(e)) => {
                if is_unsupported(&e) {
                    st.unsupported = true;
                } else {
                    st.error = Some(e);
                }
                sh.room.notify_all();
                return;
            }
            (FlushJob::Exit, Ok(())) => return,
        }
    }
}

/// How often the flusher re-reads the kernel's dirty counters.
const DIRTY_RECHECK: Duration = Duration::from_millis(500);
/// A wait at least this long counts as blocked in the statistics.
const BLOCKED: Duration = Duration::from_micros(500);

/// The kernel's dirty-page limits and the memory they apply to, in bytes (see
/// `Documentation/admin-guide/sysctl/vm.rst` and `balance_dirty_pages` in `mm/page-writeback.c`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DirtyState {
    /// `vm.dirty_ratio` (percent) and `vm.dirty_bytes` (0: the ratio applies).
    pub ratio: u64,
    pub bytes: u64,
    /// `vm.dirty_background_ratio` and `vm.dirty_background_bytes`.
    pub background_ratio: u64,
    pub background_bytes: u64,
    /// Memory the ratios apply to: free pages plus file pages (MemFree + Active(file) +
    /// Inactive(file)).
    pub dirtyable: u64,
    /// The memory cgroup's limit (`memory.max`), when there is one: its dirty limits are
    /// computed from it.
    pub cgroup_limit: Option<u64>,
    /// Dirty and under-writeback pages of the whole system now (Dirty + Writeback).
    pub dirty_now: u64,
    /// Free memory now (MemFree).
    pub free: u64,
}

impl DirtyState {
    /// The current values, `None` where they cannot be read (not Linux, no /proc).
    fn read() -> Option<Self> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let vm = |name: &str| -> Option<u64> {
            std::fs::read_to_string(format!("/proc/sys/vm/{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let mut d = Self::from_meminfo(&meminfo)?;
        d.ratio = vm("dirty_ratio")?;
        d.bytes = vm("dirty_bytes").unwrap_or(0);
        d.background_ratio = vm("dirty_background_ratio")?;
        d.background_bytes = vm("dirty_background_bytes").unwrap_or(0);
        d.cgroup_limit = std::fs::read_to_string("/proc/self/cgroup")
            .ok()
            .and_then(|c| cgroup_v2_path(&c))
            .and_then(|p| std::fs::read_to_string(format!("/sys/fs/cgroup{p}/memory.max")).ok())
            .and_then(|m| m.trim().parse().ok());
        Some(d)
    }

    /// The memory fields of `/proc/meminfo` text (the limits are left at zero).
    fn from_meminfo(text: &str) -> Option<Self> {
        let field = |name: &str| -> Option<u64> {
            text.lines().find_map(|l| {
                let v = l.strip_prefix(name)?.strip_prefix(':')?;
                v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
            })
        };
        Some(Self {
            dirtyable: (field("MemFree")? + field("Active(file)")? + field("Inactive(file)")?)
                << 10,
            dirty_now: (field("Dirty")? + field("Writeback")?) << 10,
            free: field("MemFree")? << 10,
            ..Self::default()
        })
    }

    /// The backlog above which the kernel starts to slow every writer down
    /// (`balance_dirty_pages`' "freerun" point, halfway between the background and the hard
    /// limit).
    fn freerun(&self) -> u64 {
        let avail = self
            .cgroup_limit
            .map_or(self.dirtyable, |l| l.min(self.dirtyable));
        let thresh = if self.bytes > 0 {
            self.bytes
        } else {
            avail / 100 * self.ratio
        };
        let mut bg = if self.background_bytes > 0 {
            self.background_bytes
        } else {
            avail / 100 * self.background_ratio
        };
        if bg >= thresh {
            bg = thresh / 2;
        }
        (thresh + bg) / 2
    }

    /// How much of our own backlog fits under the throttling point: half of what other
    /// writers' dirty pages (`others`) leave free.
    fn room(&self, others: u64) -> u64 {
        self.freerun().saturating_sub(others) / 2
    }
}

/// The cgroup v2 path of `/proc/self/cgroup` text (`0::/path`).
fn cgroup_v2_path(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().trim_end_matches('/').to_string())
}

/// The pacing decisions, from observations only: no clock, no file, no thread, so every rule is
/// unit-tested.
///
/// - Writeback of a window starts once it is full; windows are about [`WINDOW_TIME`] of disk
///   work (between [`MIN_WINDOW`] and [`MAX_WINDOW`]), so each start is a few large writes and
///   the syscalls cost nothing at any disk speed.
/// - The flusher waits for the oldest window once [`DEPTH`] windows are in flight, which keeps
///   the disk's queue fed.
/// - The writer waits only when the backlog passes the budget: about [`HORIZON`] of disk work
///   (a stall that long is absorbed by the page cache), at least [`MIN_BUDGET`], and never more
///   than the room under the kernel's dirty throttling ([`DirtyState::room`], at most
///   [`MAX_BUDGET`]).
/// - The disk's rate is learned from waits that blocked (a window that was already on disk says
///   nothing about the disk). It rises quickly and falls slowly, so one long stall does not
///   shrink the budget when it is needed most.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pacer {
    /// Bytes written.
    written: u64,
    /// Writeback started up to here.
    started: u64,
    /// On disk and dropped from the cache up to here.
    settled: u64,
    window: u64,
    budget: u64,
    /// The most the backlog may hold under the kernel's dirty limits.
    cap: u64,
    /// The disk's rate as observed so far, bytes per second (from [`PRIOR_RATE`]).
    rate: f64,
    /// Periods the rate was learned from.
    samples: u64,
    /// The measuring period in progress: since when, bytes settled and time spent waiting.
    period: Option<Duration>,
    period_bytes: u64,
    period_waited: Duration,
    /// The last dirty limits seen, and the dirty pages of other writers then.
    dirty: Option<DirtyState>,
    others: u64,
    /// How much of the file may stay in the page cache: half the memory that was free when it
    /// was started (none when that is unknown).
    keep_cached: u64,
}

/// Window bounds and the disk time one window should take.
const MIN_WINDOW: u64 = 4 << 20;
const MAX_WINDOW: u64 = 32 << 20;
const WINDOW_TIME: f64 = 0.02;
/// The rate assumed before anything is observed: a modest SSD. The estimate starts here and
/// moves by the rules of [`Pacer::settled`], so a stall in the very first window cannot
/// collapse the budget either.
const PRIOR_RATE: f64 = (400 << 20) as f64;
/// The window and budget that follow from [`PRIOR_RATE`].
const FIRST_WINDOW: u64 = 8 << 20;
const FIRST_BUDGET: u64 = 400 << 20;
/// Windows in flight before the flusher waits for the oldest.
const DEPTH: u64 = 4;
/// The shortest period the disk's rate is measured over.
const RATE_PERIOD: Duration = Duration::from_millis(100);
/// The disk time the backlog may hold.
const HORIZON: f64 = 1.0;
/// Budget bounds.
const MIN_BUDGET: u64 = 32 << 20;
const MAX_BUDGET: u64 = 1 << 30;

impl Pacer {
    /// A pacer for a new file, under `dirty` limits (`None`: unknown, then only the fixed
    /// bounds apply).
    pub(crate) fn new(dirty: Option<DirtyState>) -> Self {
        let mut p = Self {
            written: 0,
            started: 0,
            settled: 0,
            window: FIRST_WINDOW,
            budget: FIRST_BUDGET,
            cap: MAX_BUDGET,
            rate: PRIOR_RATE,
            samples: 0,
            period: None,
            period_bytes: 0,
            period_waited: Duration::ZERO,
            dirty,
            others: dirty.map_or(0, |d| d.dirty_now),
            keep_cached: dirty.map_or(0, |d| d.free / 2),
        };
        p.adapt();
        p
    }

    /// The writer wrote `n` more bytes.
    pub(crate) fn wrote(&mut self, n: u64) {
        self.written += n;
    }

    /// Bytes written but not yet known to be on disk.
    pub(crate) fn backlog(&self) -> u64 {
        self.written - self.settled
    }

    /// Whether the writer must wait for the disk before writing more.
    pub(crate) fn writer_must_wait(&self) -> bool {
        self.backlog() > self.budget
    }

    /// The range whose writeback should start now: every full window not yet started (with
    /// `finishing`, the partial tail too).
    pub(crate) fn to_start(&self, finishing: bool) -> Option<(u64, u64)> {
        let pending = self.written - self.started;
        let len = if finishing {
            pending
        } else {
            pending - pending % self.window
        };
        (len > 0).then_some((self.started, len))
    }

    /// Writeback was started up to `end`.
    pub(crate) fn started(&mut self, end: u64) {
        self.started = self.started.max(end.min(self.written));
    }

    /// The range to wait for now: the oldest window, once [`DEPTH`] windows are in flight
    /// (with `finishing`, everything started).
    pub(crate) fn to_settle(&self, finishing: bool) -> Option<(u64, u64)> {
        let in_flight = self.started - self.settled;
        if finishing {
            return (in_flight > 0).then_some((self.settled, in_flight));
        }
        (in_flight >= DEPTH * self.window).then_some((self.settled, self.window))
    }

    /// A wait for `len` bytes returned at `now` (time since the file was started) after
    /// `waited`.
    ///
    /// The disk's rate is measured over periods of at least [`RATE_PERIOD`]: bytes settled over
    /// the period's length, counted only when the flusher spent most of the period waiting (the
    /// disk was behind, so it worked all along). When the disk keeps up, its rate is not
    /// observable and the estimate stays where it was; a single wait that catches the end of a
    /// window says nothing either way.
    pub(crate) fn settled(&mut self, len: u64, waited: Duration, now: Duration) {
        self.settled = (self.settled + len).min(self.started);
        let begin = *self.period.get_or_insert(now.saturating_sub(waited));
        self.period_bytes += len;
        self.period_waited += waited;
        let span = now.saturating_sub(begin);
        if span >= RATE_PERIOD {
            if self.period_waited * 2 >= span {
                let sample = self.period_bytes as f64 / span.as_secs_f64();
                let r = self.rate;
                self.rate = if sample > r {
                    r + (sample - r) / 2.0
                } else {
                    r - (r - sample) / 16.0
                };
                self.samples += 1;
                self.adapt();
            }
            self.period = Some(now);
            self.period_bytes = 0;
            self.period_waited = Duration::ZERO;
        }
    }

    /// The part of a range on disk to drop from the page cache: what lies beyond
    /// `keep_cached`. Up to there the file only fills memory that was free, which evicts
    /// nothing and costs nothing to keep (dropping 1 GiB of pages costs about 0.15 CPU-s on
    /// the 2-core VM of BENCHMARKS.md); past it, keeping the file would push out what other
    /// programs have cached, so a nightly backup larger than the free memory never does.
    pub(crate) fn to_drop(&self, off: u64, len: u64) -> Option<(u64, u64)> {
        let from = off.max(self.keep_cached);
        let end = off + len;
        (end > from).then(|| (from, end - from))
    }

    /// The kernel's dirty limits or counters changed.
    pub(crate) fn dirty_changed(&mut self, dirty: DirtyState) {
        // Our own backlog is part of the system's dirty pages; the rest is other writers'.
        self.others = dirty.dirty_now.saturating_sub(self.backlog());
        self.dirty = Some(dirty);
        self.adapt();
    }

    /// Window and budget from the rate and the limits.
    fn adapt(&mut self) {
        self.cap = self
            .dirty
            .map_or(MAX_BUDGET, |d| d.room(self.others).min(MAX_BUDGET));
        let mib = |b: f64| ((b as u64) >> 20) << 20;
        let window = mib(self.rate * WINDOW_TIME).clamp(MIN_WINDOW, MAX_WINDOW);
        // With little room, smaller windows keep the flusher's depth inside it.
        self.window = window
            .min((self.cap / (DEPTH + 2)) >> 20 << 20)
            .max(1 << 20);
        let want = mib(self.rate * HORIZON);
        let floor = MIN_BUDGET.max((DEPTH + 1) * self.window);
        self.budget = want.min(self.cap).max(floor);
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

/// Waits until the range is on disk (starting writeback of any part not yet started).
#[cfg(target_os = "linux")]
fn settle(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
    sync_range(
        file,
        offset,
        len,
        libc::SYNC_FILE_RANGE_WAIT_BEFORE
            | libc::SYNC_FILE_RANGE_WRITE
            | libc::SYNC_FILE_RANGE_WAIT_AFTER,
    )
}

/// Drops a range that is on disk from the page cache. Advice only, so its result is not ours
/// to act on.
#[cfg(target_os = "linux")]
fn drop_cached(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    if let (Ok(off), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) {
        // SAFETY: the descriptor stays open for the duration of the borrow; no memory is passed.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), off, len, libc::POSIX_FADV_DONTNEED) };
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
#[cfg(not(target_os = "linux"))]
fn settle(_: &std::fs::File, _: u64, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
#[cfg(not(target_os = "linux"))]
fn drop_cached(_: &std::fs::File, _: u64, _: u64) {}

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
        let windows = DEPTH + 3;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.nsb");
        let mut f = AtomicFile::create(&dest).unwrap();
        let mut wb = Writeback::new(f.file());
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let blocks = windows * (FIRST_WINDOW >> 20);
        for i in 0..blocks {
            let mut b = block.clone();
            b[..8].copy_from_slice(&i.to_le_bytes());
            f.write_all(&b).unwrap();
            wb.wrote(b.len()).unwrap();
        }
        f.write_all(b"tail").unwrap();
        wb.wrote(4).unwrap();
        let stats = wb.finish().unwrap();
        if cfg!(target_os = "linux") {
            // Every byte, the tail too, was waited for before the fsync.
            assert_eq!(stats.on_disk, blocks * (1 << 20) + 4, "{stats:?}");
            assert!(stats.settles >= 1, "{stats:?}");
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

    #[cfg(target_os = "linux")]
    #[test]
    fn writeback_stops_quietly_where_it_cannot_work() {
        // A pipe is no file: sync_file_range says ESPIPE, pacing stops and the writer goes on.
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just created and are owned here alone.
        let (r, w) = unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        let mut wb = Writeback::new(&w);
        let reader = std::thread::spawn(move || std::io::copy(&mut &r, &mut std::io::sink()));
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..3 * (FIRST_WINDOW >> 20) {
            (&w).write_all(&chunk).unwrap();
            wb.wrote(chunk.len()).unwrap();
        }
        let stats = wb.finish().unwrap();
        // Nothing was waited for: the flusher gave up at its first call, without an error.
        assert_eq!((stats.settles, stats.on_disk), (0, 0), "{stats:?}");
        drop(w);
        assert_eq!(reader.join().unwrap().unwrap(), 3 * FIRST_WINDOW);
    }

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    const MS: Duration = Duration::from_millis(1);

    fn dirty(dirtyable: u64) -> DirtyState {
        DirtyState {
            ratio: 20,
            background_ratio: 10,
            dirtyable,
            ..DirtyState::default()
        }
    }

    /// Byte ranges, `(offset, length)`.
    type Ranges = Vec<(u64, u64)>;

    /// Drives a pacer like the flusher does until nothing is left to do; returns the ranges
    /// started and settled.
    fn drain(p: &mut Pacer, finishing: bool) -> (Ranges, Ranges) {
        let (mut started, mut settled) = (Vec::new(), Vec::new());
        loop {
            if let Some((off, len)) = p.to_start(finishing) {
                p.started(off + len);
                started.push((off, len));
            } else if let Some((off, len)) = p.to_settle(finishing) {
                p.settled(len, Duration::ZERO, Duration::ZERO);
                settled.push((off, len));
            } else {
                return (started, settled);
            }
        }
    }

    #[test]
    fn pacer_starts_full_windows_and_waits_for_the_oldest_behind_a_depth() {
        let mut p = Pacer::new(Some(dirty(20 * GIB)));
        assert_eq!(p.window, FIRST_WINDOW);
        assert_eq!(p.budget, FIRST_BUDGET);
        // Less than a window: nothing to start, nothing to wait for.
        p.wrote(FIRST_WINDOW - 1);
        assert_eq!(p.to_start(false), None);
        assert_eq!(p.to_settle(false), None);
        // Crossing window boundaries starts every full window in one range.
        p.wrote(2 * FIRST_WINDOW + 1);
        assert_eq!(p.to_start(false), Some((0, 3 * FIRST_WINDOW)));
        p.started(3 * FIRST_WINDOW);
        // Three windows in flight: below the depth, the flusher does not wait yet.
        assert_eq!(p.to_settle(false), None);
        p.wrote(FIRST_WINDOW);
        let (started, settled) = drain(&mut p, false);
        assert_eq!(started, [(3 * FIRST_WINDOW, FIRST_WINDOW)]);
        assert_eq!(settled, [(0, FIRST_WINDOW)]);
        assert_eq!(p.started - p.settled, (DEPTH - 1) * FIRST_WINDOW);
        // At the finish the tail is started and everything is waited for at once.
        p.wrote(5);
        let (started, settled) = drain(&mut p, true);
        assert_eq!(started, [(4 * FIRST_WINDOW, 5)]);
        assert_eq!(settled, [(FIRST_WINDOW, 3 * FIRST_WINDOW + 5)]);
        assert_eq!(p.backlog(), 0);
    }

    /// `n` waits of `len` bytes, each blocked for `each` and back to back (a disk that is
    /// behind), on the clock `t`.
    fn disk_bound(p: &mut Pacer, t: &mut Duration, n: u32, len: u64, each: Duration) {
        for _ in 0..n {
            *t += each;
            p.settled(len, each, *t);
        }
    }

    #[test]
    fn pacer_lets_the_writer_run_until_the_backlog_passes_the_budget() {
        let mut p = Pacer::new(Some(dirty(20 * GIB)));
        // A disk that is stalled: nothing settles. The writer goes on up to the budget, far
        // beyond the flusher's depth, so a stall that short never reaches the socket.
        let chunk = 256 << 10;
        let mut written = 0;
        while !p.writer_must_wait() {
            p.wrote(chunk);
            written += chunk;
            if let Some((off, len)) = p.to_start(false) {
                p.started(off + len);
            }
        }
        assert_eq!(written, FIRST_BUDGET + chunk);
        assert!(written > 10 * DEPTH * p.window);
        // The first window reaches the disk after 400 ms: one slow period, so the budget
        // barely moves, and a few windows later the writer goes on.
        let (off, len) = p.to_settle(false).unwrap();
        assert_eq!((off, len), (0, FIRST_WINDOW));
        p.settled(len, 400 * MS, 400 * MS);
        assert!(p.budget >= FIRST_BUDGET * 9 / 10, "{p:?}");
        let mut t = 400 * MS;
        for _ in 0..DEPTH {
            let (_, len) = p.to_settle(false).unwrap();
            disk_bound(&mut p, &mut t, 1, len, 16 * MS);
        }
        assert!(!p.writer_must_wait(), "{p:?}");
    }

    #[test]
    fn pacer_adapts_window_and_budget_to_the_disk_rate() {
        let d = Some(dirty(20 * GIB));
        // A fast disk: 32 MiB every 16 ms (2000 MiB/s).
        let mut fast = Pacer::new(d);
        (fast.written, fast.started) = (8 * GIB, 8 * GIB);
        disk_bound(&mut fast, &mut Duration::default(), 100, 32 * MIB, 16 * MS);
        assert!((fast.rate / MIB as f64 - 2000.0).abs() < 1.0, "{fast:?}");
        assert_eq!(fast.window, MAX_WINDOW);
        assert_eq!(fast.budget, MAX_BUDGET);

        // A slow disk: 8 MiB every 80 ms (100 MiB/s).
        let mut slow = Pacer::new(d);
        (slow.written, slow.started) = (8 * GIB, 8 * GIB);
        disk_bound(&mut slow, &mut Duration::default(), 400, 8 * MIB, 80 * MS);
        assert_eq!(slow.window, MIN_WINDOW);
        assert_eq!(slow.budget, 100 * MIB);

        // A disk that keeps up: every wait finds its window on disk already, the flusher
        // mostly idles, and nothing is learned about the disk.
        let mut idle = Pacer::new(d);
        (idle.written, idle.started) = (GIB, GIB);
        for i in 1..=20 {
            idle.settled(8 * MIB, Duration::from_micros(50), i * 80 * MS);
        }
        assert_eq!((idle.rate, idle.samples), (PRIOR_RATE, 0));
        assert_eq!((idle.window, idle.budget), (FIRST_WINDOW, FIRST_BUDGET));
        assert_eq!(idle.settled, 20 * 8 * MIB);
    }

    #[test]
    fn pacer_keeps_its_budget_through_a_stall() {
        let mut p = Pacer::new(Some(dirty(20 * GIB)));
        (p.written, p.started) = (64 * GIB, 64 * GIB);
        let mut t = Duration::ZERO;
        disk_bound(&mut p, &mut t, 100, 8 * MIB, 16 * MS); // 500 MiB/s
        let before = p.budget;
        assert!(before.abs_diff(500 * MIB) <= MIB, "{before}");
        // One window takes two seconds: the estimate barely moves...
        disk_bound(&mut p, &mut t, 1, 8 * MIB, 2000 * MS);
        assert!(p.budget >= before * 9 / 10, "{} < {before}", p.budget);
        // ...while a disk that stays slow is believed after a while...
        disk_bound(&mut p, &mut t, 100, 8 * MIB, 160 * MS); // 50 MiB/s
        assert!(p.budget <= 64 * MIB, "{}", p.budget);
        assert!(p.budget >= MIN_BUDGET);
        // ...and a disk that is fast again within a few periods.
        disk_bound(&mut p, &mut t, 40, 8 * MIB, 16 * MS);
        assert!(p.budget >= 400 * MIB, "{}", p.budget);
    }

    #[test]
    fn pacer_stays_under_the_kernels_dirty_throttling() {
        // 24 GiB machine, default ratios: freerun is 15% (3.6 GiB); the budget stops at the
        // fixed maximum.
        let big = Pacer::new(Some(dirty(24 * GIB)));
        assert_eq!(big.cap, MAX_BUDGET);
        // 1 GiB of dirtyable memory: freerun 150 MiB, half of it ours; windows shrink so the
        // flusher's depth fits.
        let mut small = Pacer::new(Some(dirty(GIB)));
        let freerun = (GIB / 100 * 20 + GIB / 100 * 10) / 2;
        assert_eq!(small.cap, freerun / 2);
        assert!(small.budget <= small.cap, "{small:?}");
        assert!((DEPTH + 1) * small.window <= small.budget, "{small:?}");
        disk_bound(&mut small, &mut Duration::default(), 50, 8 * MIB, 16 * MS);
        assert!(small.budget <= small.cap, "{small:?}");
        // Other writers' dirty pages leave less room; ours (the backlog) are not counted twice.
        let mut busy = dirty(GIB);
        busy.dirty_now = 100 * MIB;
        let mut p = Pacer::new(Some(busy));
        assert_eq!(p.cap, (freerun - 100 * MIB) / 2);
        p.wrote(40 * MIB);
        busy.dirty_now = 140 * MIB;
        p.dirty_changed(busy);
        assert_eq!(p.cap, (freerun - 100 * MIB) / 2);
        // vm.dirty_bytes and vm.dirty_background_bytes win over the ratios; a background
        // limit at or above the hard one counts as half of it, as in the kernel.
        let set = DirtyState {
            bytes: 400 * MIB,
            background_bytes: 400 * MIB,
            ..dirty(24 * GIB)
        };
        assert_eq!(set.freerun(), 300 * MIB);
        // A memory cgroup's limit is the memory its dirty limits apply to.
        let boxed = DirtyState {
            cgroup_limit: Some(2 * GIB),
            ..dirty(24 * GIB)
        };
        assert_eq!(
            boxed.freerun(),
            (2 * GIB / 100 * 20 + 2 * GIB / 100 * 10) / 2
        );
        // Nothing known: only the fixed bounds.
        let unknown = Pacer::new(None);
        assert_eq!((unknown.cap, unknown.budget), (MAX_BUDGET, FIRST_BUDGET));
    }

    #[test]
    fn pacer_drops_from_the_cache_only_what_free_memory_would_not_hold() {
        let mut d = dirty(24 * GIB);
        d.free = 8 * GIB;
        let p = Pacer::new(Some(d));
        // Half the free memory stays cached: nothing is dropped below 4 GiB...
        assert_eq!(p.to_drop(0, 8 * MIB), None);
        assert_eq!(p.to_drop(4 * GIB - 8 * MIB, 8 * MIB), None);
        // ...a range across the line loses its part above it, and everything after it goes.
        assert_eq!(
            p.to_drop(4 * GIB - 4 * MIB, 8 * MIB),
            Some((4 * GIB, 4 * MIB))
        );
        assert_eq!(p.to_drop(5 * GIB, 8 * MIB), Some((5 * GIB, 8 * MIB)));
        // On a host whose memory is in use, or when nothing is known, every window is dropped.
        d.free = 0;
        assert_eq!(Pacer::new(Some(d)).to_drop(0, 8 * MIB), Some((0, 8 * MIB)));
        assert_eq!(Pacer::new(None).to_drop(0, 8 * MIB), Some((0, 8 * MIB)));
    }

    #[test]
    fn dirty_state_parses_proc() {
        let meminfo = "MemTotal:       24576000 kB\nMemFree:        20000000 kB\n\
            Active(file):     500000 kB\nInactive(file):   1500000 kB\nDirty:  672 kB\n\
            Writeback:          28 kB\n";
        let d = DirtyState::from_meminfo(meminfo).unwrap();
        assert_eq!(d.dirtyable, 22_000_000 << 10);
        assert_eq!(d.dirty_now, 700 << 10);
        assert_eq!(d.free, 20_000_000 << 10);
        assert_eq!(DirtyState::from_meminfo("MemFree: 1 kB\n"), None);
        assert_eq!(
            cgroup_v2_path("0::/system.slice/x.service\n").as_deref(),
            Some("/system.slice/x.service")
        );
        assert_eq!(cgroup_v2_path("0::/\n").as_deref(), Some(""));
        assert_eq!(cgroup_v2_path("12:memory:/x\n"), None);
    }
}
