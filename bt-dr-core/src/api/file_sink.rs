//! The disk side of a download, on a thread of its own.
//!
//! Receiving a large file is two jobs that each keep a core busy: TLS decryption and socket
//! reads on the async runtime, and SHA-256 plus `write(2)` here. Run in one task they take
//! turns; on two threads they overlap, which on a small appliance-backup host is the difference
//! between trailing `curl` (which does not hash) and keeping up with it. The bounded channel
//! keeps memory at a few network chunks, and a slow disk slows the socket reads rather than
//! filling memory. The fsync and rename run here too, so they never block a runtime worker.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::support::error::{Error, Result};
use crate::support::fsutil::{AtomicFile, Writeback};

/// Chunks in flight between the socket and the disk. hyper hands out chunks of up to about
/// 400 KiB (its read buffer), so this bounds the buffered data to under 2 MiB. More buys
/// nothing: the socket's own buffer (several MiB) absorbs the writer's short pauses, and the
/// disk's longer ones are absorbed by the page cache (see [`Writeback`]). Each chunk in flight
/// is memory the allocator of the thread that received it keeps: going from 8 to 4 took a
/// Python process's peak RSS for a 2 GiB download from 31.1 to 27.3 MiB (BENCHMARKS.md).
const CHUNKS_IN_FLIGHT: usize = 4;

/// Writes the file's companion (a sidecar) for a candidate final path and the file's SHA-256;
/// see [`crate::support::fsutil::Companion`].
pub(crate) type CompanionWriter = Box<dyn FnMut(&Path, &str) -> Result<Option<PathBuf>> + Send>;

enum Msg {
    Chunk(Bytes),
    /// Everything arrived and was checked: fsync, write the companion, rename into place.
    Commit(Option<CompanionWriter>),
}

/// What landed.
pub(crate) struct Landed {
    pub path: PathBuf,
    pub sha256: String,
    /// Where the companion landed, when there was one.
    pub companion: Option<PathBuf>,
}

type Outcome = Result<Option<Landed>>;

/// A file being written and hashed behind the download.
///
/// [`FileSink::abort`] waits until the temporary file is gone. Dropping the sink without
/// [`FileSink::commit`] or `abort` (a cancelled future) removes the temporary file on the spot
/// and tells the writer to stop, so nothing is left once the caller has let go.
pub(crate) struct FileSink {
    tx: mpsc::Sender<Msg>,
    /// The writer's result; `None` once collected.
    done: Option<oneshot::Receiver<Outcome>>,
    stop: Arc<AtomicBool>,
    temp: PathBuf,
    dest: PathBuf,
}

impl FileSink {
    /// Creates the temporary file next to `dest` and starts the writer thread. The commit never
    /// replaces an existing file: it lands under `dest` or the first free numbered variant of it
    /// (see [`AtomicFile::commit_unique`]).
    pub fn start(dest: &Path) -> Result<Self> {
        Self::start_with(AtomicFile::create(dest)?, dest)
    }

    fn start_with(file: AtomicFile, dest: &Path) -> Result<Self> {
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let (done_tx, done) = oneshot::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let temp = file.temp_path().to_path_buf();
        let owned = dest.to_path_buf();
        let writer_stop = stop.clone();
        std::thread::Builder::new()
            .name("bt-dr-file-sink".into())
            .spawn(move || {
                // A send error means the download was dropped; nobody is left to tell.
                let _ = done_tx.send(write_all(file, rx, &owned, &writer_stop));
            })
            .map_err(|e| Error::io("starting the writer thread for", dest, e))?;
        Ok(Self {
            tx,
            done: Some(done),
            stop,
            temp,
            dest: dest.to_path_buf(),
        })
    }

    /// Queues a chunk; waits while the disk is behind.
    pub async fn push(&mut self, chunk: Bytes) -> Result<()> {
        if self.tx.send(Msg::Chunk(chunk)).await.is_err() {
            // The writer stopped early: its result says why.
            return Err(self.failure().await);
        }
        Ok(())
    }

    /// Waits for every queued chunk, fsyncs, writes the companion (when given), renames into
    /// place and returns the hash.
    pub async fn commit(mut self, companion: Option<CompanionWriter>) -> Result<Landed> {
        if self.tx.send(Msg::Commit(companion)).await.is_err() {
            return Err(self.failure().await);
        }
        let vanished = self.vanished();
        self.outcome().await?.ok_or(vanished)
    }

    /// Stops writing and waits until the temporary file is gone.
    pub async fn abort(mut self) {
        if self.done.is_none() {
            // The writer already ended with an error and removed its file.
            return;
        }
        self.stop.store(true, Ordering::Release);
        // Replacing the sender closes the channel, which wakes the writer if it is idle.
        self.tx = mpsc::channel(1).0;
        let _ = self.outcome().await;
    }

    /// The writer's result, collected once. Stays pending in `self` until it has arrived, so a
    /// future dropped while waiting still cleans up in `Drop`.
    async fn outcome(&mut self) -> Outcome {
        let Some(rx) = self.done.as_mut() else {
            return Err(self.vanished());
        };
        let r = rx.await;
        self.done = None;
        r.unwrap_or_else(|_| Err(self.vanished()))
    }

    async fn failure(&mut self) -> Error {
        self.outcome()
            .await
            .err()
            .unwrap_or_else(|| self.vanished())
    }

    fn vanished(&self) -> Error {
        Error::io(
            "writing",
            &self.dest,
            std::io::Error::other("the writer thread stopped without a result"),
        )
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if self.done.is_some() {
            // Dropped mid-transfer: the writer may still be a few chunks behind, and the caller
            // must not find a temporary file after letting go. Writes to the unlinked file are
            // harmless, and a rename that comes too late finds nothing to rename.
            self.stop.store(true, Ordering::Release);
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The writer thread: hash and write each chunk; on `Commit` fsync and rename; on a closed
/// channel or a stop request drop the temporary file (which removes it).
fn write_all(
    mut file: AtomicFile,
    mut rx: mpsc::Receiver<Msg>,
    dest: &Path,
    stop: &AtomicBool,
) -> Outcome {
    let mut hasher = Sha256::new();
    let mut writeback = Writeback::new(file.file());
    // Where the writer's time goes, for the debug log next to the pacing's own account.
    let (mut hashing, mut writing) = (Duration::ZERO, Duration::ZERO);
    let (mut chunks, mut largest) = (0u64, 0usize);
    // Time spent waiting for the socket side: little means the writer is the bottleneck.
    let mut idle = Duration::ZERO;
    loop {
        let t = Instant::now();
        let Some(msg) = rx.blocking_recv() else {
            break;
        };
        idle += t.elapsed();
        if stop.load(Ordering::Acquire) {
            return Ok(None);
        }
        match msg {
            Msg::Chunk(chunk) => {
                let t0 = Instant::now();
                hasher.update(&chunk);
                let t1 = Instant::now();
                file.write_all(&chunk)
                    .map_err(|e| Error::io("writing", dest, e))?;
                writing += t1.elapsed();
                hashing += t1 - t0;
                chunks += 1;
                largest = largest.max(chunk.len());
                writeback
                    .wrote(chunk.len())
                    .map_err(|e| Error::io("writing", dest, e))?;
            }
            Msg::Commit(companion) => {
                let t0 = Instant::now();
                writeback
                    .finish()
                    .map_err(|e| Error::io("writing", dest, e))?;
                let flushed = t0.elapsed();
                let sha256 = hex::encode(hasher.finalize());
                let (path, companion) = match companion {
                    Some(mut write) => {
                        let mut for_candidate = |c: &Path| write(c, &sha256);
                        file.commit_unique(Some(&mut for_candidate))?
                    }
                    None => file.commit_unique(None)?,
                };
                tracing::debug!(
                    target: "bt_dr_core::writeback",
                    chunks,
                    largest_chunk = largest,
                    hash_ms = hashing.as_millis() as u64,
                    write_ms = writing.as_millis() as u64,
                    idle_ms = idle.as_millis() as u64,
                    finish_ms = flushed.as_millis() as u64,
                    commit_ms = (t0.elapsed() - flushed).as_millis() as u64,
                    "file written"
                );
                return Ok(Some(Landed {
                    path,
                    sha256,
                    companion,
                }));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn commit_lands_the_bytes_and_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("site.nsb");
        let mut sink = FileSink::start(&dest).unwrap();
        let mut all = Vec::new();
        for i in 0..100u8 {
            let chunk = vec![i; 1000 + usize::from(i)];
            all.extend_from_slice(&chunk);
            sink.push(Bytes::from(chunk)).await.unwrap();
        }
        let landed = sink.commit(None).await.unwrap();
        assert_eq!(landed.path, dest);
        assert_eq!(std::fs::read(&dest).unwrap(), all);
        assert_eq!(landed.sha256, hex::encode(Sha256::digest(&all)));
        assert_eq!(names(dir.path()), ["site.nsb"]);

        // A second file for the same name lands next to it; the first is untouched.
        // With a companion, it is written first, for the name the file then takes.
        let mut sink = FileSink::start(&dest).unwrap();
        sink.push(Bytes::from_static(b"other")).await.unwrap();
        let side: CompanionWriter = Box::new(|c: &Path, sha: &str| {
            let p = crate::support::fsutil::with_suffix(c, ".side");
            assert!(
                !c.exists(),
                "the companion is written before the file lands"
            );
            crate::support::fsutil::write_new_atomic(&p, sha.as_bytes()).map(Some)
        });
        let second = sink.commit(Some(side)).await.unwrap();
        assert_eq!(second.path, dir.path().join("site-2.nsb"));
        assert_eq!(second.companion, Some(dir.path().join("site-2.nsb.side")));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("site-2.nsb.side")).unwrap(),
            second.sha256
        );
        assert_eq!(std::fs::read(&dest).unwrap(), all);
        assert_eq!(
            names(dir.path()),
            ["site-2.nsb", "site-2.nsb.side", "site.nsb"]
        );
    }

    #[tokio::test]
    async fn abort_and_drop_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = FileSink::start(&dir.path().join("a.nsb")).unwrap();
        sink.push(Bytes::from_static(b"half")).await.unwrap();
        sink.abort().await;
        assert!(names(dir.path()).is_empty());

        let mut sink = FileSink::start(&dir.path().join("b.nsb")).unwrap();
        sink.push(Bytes::from_static(b"half")).await.unwrap();
        drop(sink);
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_write_error_reaches_the_caller_and_abort_still_cleans_up() {
        // /dev/full fails every write with ENOSPC: the temporary file is pointed at it, so the
        // sink's real error path runs end to end.
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.nsb");
        let mut file = AtomicFile::create(&dest).unwrap();
        *file.file() = std::fs::OpenOptions::new().write(true).open(full).unwrap();
        let mut sink = FileSink::start_with(file, &dest).unwrap();
        let mut err = None;
        // The first push may be queued before the writer fails; a later one sees the failure.
        for _ in 0..CHUNKS_IN_FLIGHT + 2 {
            if let Err(e) = sink.push(Bytes::from_static(b"x")).await {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("ENOSPC reaches the caller");
        assert_eq!(err.kind(), crate::support::error::ErrorKind::Io);
        assert!(err.to_string().contains("x.nsb"), "{err}");
        sink.abort().await;
        assert!(names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn a_dropped_sink_removes_its_file_before_drop_returns() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = FileSink::start(&dir.path().join("c.nsb")).unwrap();
        for _ in 0..CHUNKS_IN_FLIGHT {
            sink.push(Bytes::from(vec![7u8; 64 << 10])).await.unwrap();
        }
        drop(sink);
        assert!(names(dir.path()).is_empty());
    }
}
