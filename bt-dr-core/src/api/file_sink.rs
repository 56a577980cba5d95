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

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::fsutil::{AtomicFile, Writeback};
use crate::{Error, Result};

/// Chunks in flight between the socket and the disk. hyper hands out at most a few hundred KiB
/// per chunk, so this bounds the buffered data to a few MiB.
const CHUNKS_IN_FLIGHT: usize = 8;

enum Msg {
    Chunk(Bytes),
    /// Everything arrived and was checked: fsync and rename into place.
    Commit,
}

/// What landed.
pub(crate) struct Landed {
    pub path: PathBuf,
    pub sha256: String,
}

/// A file being written and hashed behind the download.
///
/// Dropping it (or [`FileSink::abort`]) without [`FileSink::commit`] leaves no file under any
/// name: the writer thread sees the channel close without a commit and removes the temporary.
pub(crate) struct FileSink {
    tx: mpsc::Sender<Msg>,
    done: oneshot::Receiver<Result<Option<Landed>>>,
    dest: PathBuf,
}

impl FileSink {
    /// Creates the temporary file next to `dest` and starts the writer thread.
    pub fn start(dest: &Path) -> Result<Self> {
        let file = AtomicFile::create(dest)?;
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let (done_tx, done) = oneshot::channel();
        let owned = dest.to_path_buf();
        std::thread::Builder::new()
            .name("bt-dr-file-sink".into())
            .spawn(move || {
                // A send error means the download was dropped; nobody is left to tell.
                let _ = done_tx.send(write_all(file, rx, &owned));
            })
            .map_err(|e| Error::io("starting the writer thread for", dest, e))?;
        Ok(Self {
            tx,
            done,
            dest: dest.to_path_buf(),
        })
    }

    /// Queues a chunk; waits while the disk is behind.
    pub async fn push(&mut self, chunk: Bytes) -> Result<()> {
        if self.tx.send(Msg::Chunk(chunk)).await.is_err() {
            // The writer stopped early: its result says why.
            return Err(self
                .outcome()
                .await
                .err()
                .unwrap_or_else(|| self.vanished()));
        }
        Ok(())
    }

    /// Waits for every queued chunk, fsyncs, renames into place and returns the hash.
    pub async fn commit(mut self) -> Result<Landed> {
        if self.tx.send(Msg::Commit).await.is_err() {
            return Err(self
                .outcome()
                .await
                .err()
                .unwrap_or_else(|| self.vanished()));
        }
        let vanished = self.vanished();
        self.outcome().await?.ok_or(vanished)
    }

    /// Stops writing and waits until the temporary file is gone.
    pub async fn abort(mut self) {
        let (closed, _) = mpsc::channel(1);
        // Replacing the sender closes the channel; the writer then removes its file.
        self.tx = closed;
        let _ = self.outcome().await;
    }

    async fn outcome(&mut self) -> Result<Option<Landed>> {
        match (&mut self.done).await {
            Ok(r) => r,
            Err(_) => Err(self.vanished()),
        }
    }

    fn vanished(&self) -> Error {
        Error::io(
            "writing",
            &self.dest,
            std::io::Error::other("the writer thread stopped without a result"),
        )
    }
}

/// The writer thread: hash and write each chunk; on `Commit` fsync and rename; on a closed
/// channel drop the temporary file (which removes it).
fn write_all(
    mut file: AtomicFile,
    mut rx: mpsc::Receiver<Msg>,
    dest: &Path,
) -> Result<Option<Landed>> {
    let mut hasher = Sha256::new();
    let mut writeback = Writeback::default();
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Chunk(chunk) => {
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .map_err(|e| Error::io("writing", dest, e))?;
                writeback.wrote(file.file(), chunk.len());
            }
            Msg::Commit => {
                let path = file.commit()?;
                return Ok(Some(Landed {
                    path,
                    sha256: hex::encode(hasher.finalize()),
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
        let landed = sink.commit().await.unwrap();
        assert_eq!(landed.path, dest);
        assert_eq!(std::fs::read(&dest).unwrap(), all);
        assert_eq!(landed.sha256, hex::encode(Sha256::digest(&all)));
        assert_eq!(names(dir.path()), ["site.nsb"]);
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
        // Dropping does not wait; the writer removes its file as soon as it sees the close.
        for _ in 0..200 {
            if names(dir.path()).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_write_error_reaches_the_caller_with_the_path() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.nsb");
        let file = AtomicFile::create(&dest).unwrap();
        let (tx, rx) = mpsc::channel(1);
        let handle = std::thread::spawn(move || {
            let mut f = file;
            // Point the temporary at /dev/full: same code path, a real ENOSPC.
            *f.file() = std::fs::OpenOptions::new().write(true).open(full).unwrap();
            write_all(f, rx, &dest)
        });
        tx.send(Msg::Chunk(Bytes::from_static(b"x"))).await.unwrap();
        let err = handle.join().unwrap().err().expect("ENOSPC");
        assert_eq!(err.kind(), crate::ErrorKind::Io);
        assert!(err.to_string().contains("x.nsb"), "{err}");
    }
}
