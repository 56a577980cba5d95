//! SHA-256 helpers: files are hashed while they stream, never loaded whole.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::support::error::{Error, Result};

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 and size of a file, read in 256 KiB blocks.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("f");
/// std::fs::write(&p, b"abc").unwrap();
/// let (hash, size) = bt_dr_core::sha256_file(&p).unwrap();
/// assert_eq!(size, 3);
/// assert_eq!(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}
