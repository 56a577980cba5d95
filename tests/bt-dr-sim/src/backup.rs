//! Deterministic binary bodies (site backups and session recordings), produced chunk by chunk so a
//! multi-gigabyte download never sits in memory.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sha2::{Digest, Sha256};

use crate::SimConfig;
use crate::server::BodyError;

/// First 8 bytes of every simulated `.nsb` backup.
pub(crate) const BACKUP_MAGIC: [u8; 8] = *b"BTNSB\0\0\x01";
/// First 8 bytes of every simulated recording (an FLV signature).
pub(crate) const RECORDING_MAGIC: [u8; 8] = *b"FLV\x01\x05\0\0\x00";
const CHUNK: usize = 64 * 1024;

/// Magic word followed by a xorshift64 stream; the same seed and size always give the same bytes.
#[derive(Debug)]
pub(crate) struct DetGen {
    magic: [u8; 8],
    state: u64,
    words: u64,
    pos: u64,
    size: u64,
}

impl DetGen {
    pub fn new(magic: [u8; 8], seed: u64, size: u64) -> Self {
        DetGen {
            magic,
            state: seed | 1,
            words: 0,
            pos: 0,
            size,
        }
    }

    pub fn next_chunk(&mut self) -> Option<Bytes> {
        if self.pos >= self.size {
            return None;
        }
        let n = (self.size - self.pos).min(CHUNK as u64) as usize;
        let mut buf = Vec::with_capacity(n + 8);
        while buf.len() < n {
            if self.words == 0 {
                buf.extend_from_slice(&self.magic);
            } else {
                let mut x = self.state;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.state = x;
                buf.extend_from_slice(&x.to_le_bytes());
            }
            self.words += 1;
        }
        buf.truncate(n);
        self.pos += n as u64;
        Some(Bytes::from(buf))
    }

    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes, BodyError>> {
        futures_util::stream::unfold(self, |mut g| async move {
            g.next_chunk().map(|chunk| (Ok(chunk), g))
        })
        .boxed()
    }

    fn sha256_hex(mut self) -> String {
        let mut hasher = Sha256::new();
        while let Some(chunk) = self.next_chunk() {
            hasher.update(&chunk);
        }
        hex::encode(hasher.finalize())
    }
}

fn fnv1a(data: &str) -> u64 {
    data.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(crate) fn backup_gen(cfg: &SimConfig) -> DetGen {
    let seed = fnv1a(&format!(
        "backup|{}|{}|{}",
        cfg.product.as_str(),
        cfg.version,
        cfg.site_hostname
    ));
    DetGen::new(BACKUP_MAGIC, seed, cfg.backup_size)
}

pub(crate) fn recording_gen(cfg: &SimConfig, lsid: &str) -> DetGen {
    let seed = fnv1a(&format!("recording|{}|{lsid}", cfg.site_hostname));
    DetGen::new(RECORDING_MAGIC, seed, cfg.recording_size)
}

/// SHA-256 (lowercase hex) of the body `/api/backup` serves for `cfg`, computed by streaming the
/// same generator, so tests can check a download of any size without keeping it.
pub fn expected_backup_sha256_hex(cfg: &SimConfig) -> String {
    backup_gen(cfg).sha256_hex()
}

/// SHA-256 (lowercase hex) of the recording served for session `lsid` under `cfg`.
pub fn expected_recording_sha256_hex(cfg: &SimConfig, lsid: &str) -> String {
    recording_gen(cfg, lsid).sha256_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let cfg = SimConfig {
            backup_size: 200_003,
            ..SimConfig::default()
        };
        let mut g = backup_gen(&cfg);
        let mut all = Vec::new();
        while let Some(c) = g.next_chunk() {
            all.extend_from_slice(&c);
        }
        assert_eq!(all.len(), 200_003);
        assert_eq!(&all[..8], &BACKUP_MAGIC);
        assert_eq!(
            hex::encode(Sha256::digest(&all)),
            expected_backup_sha256_hex(&cfg)
        );
        let tiny = SimConfig {
            backup_size: 3,
            ..SimConfig::default()
        };
        assert_eq!(backup_gen(&tiny).next_chunk().as_deref(), Some(&b"BTN"[..]));
    }
}
