//! The key-derivation floor of opening one OpenSSL 3 default PKCS#12 bundle.
//!
//! `openssl pkcs12 -export` (OpenSSL 3) protects a bundle three times, each with its own salt:
//! the MAC key comes from the PKCS#12 KDF (RFC 7292 appendix B, SHA-256), and the certificate
//! safe and the shrouded key bag each use PBES2 with PBKDF2-HMAC-SHA256 (AES-256-CBC). Opening
//! a bundle therefore costs at least one PKCS#12 KDF plus two PBKDF2 runs at the bundle's
//! iteration count. These functions compute exactly that, with the crates `p12-keystore` uses
//! (`pkcs12` kdf, `pbkdf2`, `hmac`, `sha2` 0.11) and, for comparison, with `ring`.

use std::num::NonZeroU32;

use sha2::Sha256;

/// The PKCS#12 KDF for a SHA-256 MAC key (`p12-keystore`'s MAC check).
pub fn pkcs12_mac_key(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    pkcs12::kdf::derive_key_utf8::<Sha256>(
        password,
        salt,
        pkcs12::kdf::Pkcs12KeyType::Mac,
        i32::try_from(iterations).unwrap_or(i32::MAX),
        32,
    )
    .unwrap_or_default()
}

/// PBKDF2-HMAC-SHA256 of a 32-byte key with the RustCrypto crates (what `pkcs5` runs).
pub fn pbkdf2_rustcrypto(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
    out
}

/// PBKDF2-HMAC-SHA256 of a 32-byte key with `ring`.
pub fn pbkdf2_ring(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        n,
        salt,
        password,
        &mut out,
    );
    out
}

/// Which PBKDF2 implementation a floor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// `pbkdf2` + `hmac` + `sha2` (the crates `p12-keystore` uses).
    RustCrypto,
    /// `ring::pbkdf2`.
    Ring,
}

/// All key derivations one default OpenSSL 3 bundle needs: the MAC key and two PBKDF2 keys.
/// Returns a byte of the output so the work cannot be optimized away.
pub fn bundle_kdf_floor(password: &str, iterations: u32, which: Impl) -> u8 {
    let salt_mac = [0x11u8; 8];
    let salt_certs = [0x22u8; 16];
    let salt_key = [0x33u8; 16];
    let mac = pkcs12_mac_key(password, &salt_mac, iterations);
    let (a, b) = match which {
        Impl::RustCrypto => (
            pbkdf2_rustcrypto(password.as_bytes(), &salt_certs, iterations),
            pbkdf2_rustcrypto(password.as_bytes(), &salt_key, iterations),
        ),
        Impl::Ring => (
            pbkdf2_ring(password.as_bytes(), &salt_certs, iterations),
            pbkdf2_ring(password.as_bytes(), &salt_key, iterations),
        ),
    };
    mac.first().copied().unwrap_or(0) ^ a[0] ^ b[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementations_agree() {
        // RFC 7914 §11 test vector: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64) starts 55ac046e.
        let k = pbkdf2_rustcrypto(b"passwd", b"salt", 1);
        assert_eq!(&k[..4], &[0x55, 0xac, 0x04, 0x6e]);
        assert_eq!(
            pbkdf2_rustcrypto(b"pw", b"salt", 2048),
            pbkdf2_ring(b"pw", b"salt", 2048)
        );
        assert_eq!(pkcs12_mac_key("pw", b"saltsalt", 2048).len(), 32);
        let _ = bundle_kdf_floor("pw", 10, Impl::Ring);
    }
}
