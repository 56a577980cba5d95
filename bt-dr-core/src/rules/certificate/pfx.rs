//! A look at a PKCS#12 file's structure before anything is decrypted.
//!
//! `p12-keystore` decrypts and hands back bags, but it cannot say *why* a file does not open: a
//! MAC mismatch, an algorithm it does not implement and a bag that fails to decrypt all look
//! alike to a caller. This pre-pass reads the PFX with the `der` and `pkcs12` crates (the same
//! ones `p12-keystore` builds on), names every protection algorithm in the file, verifies the
//! integrity MAC itself (trying both encodings of the empty password) and notes private keys
//! stored in the clear. Only then are the bags decrypted, by `p12-keystore` - except the
//! legacy-PBE pieces of a file that writes the empty password as zero bytes, which
//! `p12-keystore` cannot derive a key for and which are decrypted here with the `des`/`rc2`/`cbc`
//! crates it uses itself.

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use hmac::digest::OutputSizeUser;
use hmac::{KeyInit, Mac};
use pkcs5::pbes2;
use pkcs12::cms::content_info::ContentInfo;
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
// `spki` through `pkcs12`'s `cms` re-export: the same version, no further dependency.
use pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use pkcs12::{AuthenticatedSafe, MacData, Pfx, SafeBag};

/// The most MAC iterations accepted (the same cap `p12-keystore` applies): a hostile file must
/// not make the check spin for minutes.
const MAX_MAC_ITERATIONS: i32 = 1_000_000;

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const OID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const OID_PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const OID_PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
const OID_PBMAC1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");

/// How the empty password was turned into bytes for the MAC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmptyEncoding {
    /// A BMPString with its terminating NUL: two zero bytes (OpenSSL with `pass:`, p12-keystore).
    TwoZeroBytes,
    /// Zero bytes (OpenSSL with no password at all, some other exporters).
    ZeroLength,
}

/// What the pre-pass learned.
pub(crate) struct Inspected {
    pfx: Pfx,
    /// Descriptions of protection algorithms or structures `p12-keystore` cannot handle.
    pub unsupported: Vec<String>,
    /// Plain `keyBag`s (PKCS#8 in the clear) in unencrypted safes.
    pub clear_key_bags: usize,
    /// Something in the file is encrypted (an encryptedData safe or a shrouded key bag).
    pub anything_encrypted: bool,
}

/// Outcome of the MAC check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacOutcome {
    /// The file carries no integrity MAC.
    Absent,
    /// The MAC verifies with the passphrase as given (the standard encoding).
    Verified,
    /// The MAC verifies with the empty password in this encoding.
    VerifiedEmpty(EmptyEncoding),
    /// The MAC does not verify with any encoding tried.
    Mismatch,
}

fn cert_err(reason: impl Into<String>) -> crate::support::error::Error {
    crate::support::error::Error::Certificate {
        reason: reason.into(),
    }
}

/// A readable name for an algorithm OID met in PKCS#12 files.
pub(crate) fn oid_name(oid: &ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4",
        "1.2.840.113549.1.12.1.3" => "pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.4" => "pbeWithSHAAnd2-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.5" => "pbeWithSHAAnd128BitRC2-CBC",
        "1.2.840.113549.1.12.1.6" => "pbeWithSHAAnd40BitRC2-CBC",
        "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC (PKCS#5 PBES1)",
        "1.2.840.113549.1.5.6" => "pbeWithMD5AndRC2-CBC (PKCS#5 PBES1)",
        "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC (PKCS#5 PBES1)",
        "1.2.840.113549.1.5.11" => "pbeWithSHA1AndRC2-CBC (PKCS#5 PBES1)",
        "1.2.840.113549.1.5.13" => "PBES2",
        "1.2.840.113549.1.5.12" => "PBKDF2",
        "1.2.840.113549.1.5.14" => "PBMAC1",
        "1.3.6.1.4.1.11591.4.11" => "scrypt",
        "1.2.840.113549.2.7" => "hmacWithSHA1",
        "1.2.840.113549.2.8" => "hmacWithSHA224",
        "1.2.840.113549.2.9" => "hmacWithSHA256",
        "1.2.840.113549.2.10" => "hmacWithSHA384",
        "1.2.840.113549.2.11" => "hmacWithSHA512",
        "1.2.840.113549.2.12" => "hmacWithSHA512-224",
        "1.2.840.113549.2.13" => "hmacWithSHA512-256",
        "1.2.840.113549.2.5" => "MD5",
        "1.2.840.113549.2.2" => "MD2",
        "1.3.14.3.2.26" => "SHA-1",
        "1.3.14.3.2.7" => "des-cbc",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        "1.2.840.113549.3.9" => "rc5-cbc",
        "2.16.840.1.101.3.4.1.2" => "aes-128-cbc",
        "2.16.840.1.101.3.4.1.22" => "aes-192-cbc",
        "2.16.840.1.101.3.4.1.42" => "aes-256-cbc",
        "2.16.840.1.101.3.4.2.1" => "SHA-256",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "2.16.840.1.101.3.4.2.5" => "SHA-512/224",
        "2.16.840.1.101.3.4.2.6" => "SHA-512/256",
        "2.16.840.1.101.3.4.2.8" => "SHA3-256",
        "2.16.840.1.101.3.4.2.9" => "SHA3-384",
        "2.16.840.1.101.3.4.2.10" => "SHA3-512",
        "1.2.643.7.1.1.2.2" => "GOST R 34.11-2012 (256 bit)",
        "1.2.643.7.1.1.2.3" => "GOST R 34.11-2012 (512 bit)",
        _ => return format!("OID {oid}"),
    };
    format!("{name} ({oid})")
}

/// `None` when `p12-keystore` (with `pkcs5`'s `sha1-insecure`) can decrypt with `alg`; otherwise
/// what it is.
fn unsupported_encryption(alg: &AlgorithmIdentifierOwned) -> Option<String> {
    match alg.oid.to_string().as_str() {
        // PKCS#12 PBE that p12-keystore implements (its `pbes1` feature, on by default).
        "1.2.840.113549.1.12.1.3" | "1.2.840.113549.1.12.1.6" => return None,
        "1.2.840.113549.1.5.13" => {}
        _ => return Some(format!("encryption {}", oid_name(&alg.oid))),
    }
    debug_assert_eq!(alg.oid, OID_PBES2);
    let Some(params) = alg.parameters.as_ref() else {
        return Some("PBES2 without parameters".into());
    };
    let Ok(params) = params.to_der() else {
        return Some("PBES2 parameters that do not encode".into());
    };
    match pbes2::Parameters::from_der(&params) {
        Ok(p) => match p.kdf {
            pbes2::Kdf::Pbkdf2(_) | pbes2::Kdf::Scrypt(_) => None,
            other => Some(format!("PBES2 with {}", oid_name(&other.oid()))),
        },
        Err(e) => Some(match e.kind() {
            der::ErrorKind::OidUnknown { oid } => {
                format!("PBES2 with {}", oid_name(&oid))
            }
            other => format!("PBES2 parameters that do not parse ({other})"),
        }),
    }
}

/// Reads the structure of `bytes`. Errors are [`crate::support::error::Error::Certificate`]: the file is not a
/// PFX, or is one in a shape no passphrase can open (public-key modes).
pub(crate) fn inspect(bytes: &[u8]) -> crate::support::error::Result<Inspected> {
    let pfx = Pfx::from_der(bytes).map_err(|e| {
        cert_err(format!(
            "not a readable PKCS#12 file (truncated, corrupt or another format): {e}"
        ))
    })?;
    let mut unsupported = Vec::new();
    let mut clear_key_bags = 0;
    let mut anything_encrypted = false;

    if pfx.auth_safe.content_type != OID_DATA {
        let what = if pfx.auth_safe.content_type == OID_SIGNED_DATA {
            "public-key integrity mode (the content is signedData, not protected by a passphrase)"
                .to_string()
        } else {
            format!("content type {}", pfx.auth_safe.content_type)
        };
        return Err(cert_err(format!("unsupported PKCS#12 structure: {what}")));
    }
    let safes: AuthenticatedSafe<'_> = pfx
        .auth_safe
        .content
        .to_der()
        .and_then(|d| OctetString::from_der(&d))
        .and_then(|o| AuthenticatedSafe::from_der(o.as_bytes()))
        .map_err(|e| cert_err(format!("the PKCS#12 safe list does not parse: {e}")))?;

    for safe in &safes {
        match safe.content_type {
            OID_DATA => {
                let bags = data_bags(safe).map_err(|e| {
                    cert_err(format!("an unencrypted PKCS#12 safe does not parse: {e}"))
                })?;
                for bag in bags {
                    match bag.bag_id {
                        pkcs12::PKCS_12_KEY_BAG_OID => clear_key_bags += 1,
                        pkcs12::PKCS_12_PKCS8_KEY_BAG_OID => {
                            anything_encrypted = true;
                            match shrouded_alg(&bag.bag_value) {
                                Ok(alg) => {
                                    if let Some(u) = unsupported_encryption(&alg) {
                                        unsupported.push(format!("private key {u}"));
                                    }
                                }
                                Err(e) => unsupported
                                    .push(format!("a shrouded key bag that does not parse ({e})")),
                            }
                        }
                        pkcs12::PKCS_12_SAFE_CONTENTS_BAG_OID => {
                            unsupported.push("nested safeContents bags".into());
                        }
                        _ => {}
                    }
                }
            }
            OID_ENCRYPTED_DATA => {
                anything_encrypted = true;
                let enc = safe
                    .content
                    .to_der()
                    .and_then(|d| EncryptedData::from_der(&d))
                    .map_err(|e| {
                        cert_err(format!("an encrypted PKCS#12 safe does not parse: {e}"))
                    })?;
                if let Some(u) = unsupported_encryption(&enc.enc_content_info.content_enc_alg) {
                    unsupported.push(format!("certificate safe {u}"));
                }
            }
            OID_ENVELOPED_DATA => unsupported.push(
                "public-key privacy mode (an envelopedData safe, sealed to a certificate)".into(),
            ),
            other => unsupported.push(format!("a safe of content type {other}")),
        }
    }
    if let Some(mac) = &pfx.mac_data
        && !mac_supported(&mac.mac.algorithm.oid)
    {
        unsupported.push(format!(
            "integrity MAC with {}",
            oid_name(&mac.mac.algorithm.oid)
        ));
    }
    unsupported.dedup();
    Ok(Inspected {
        pfx,
        unsupported,
        clear_key_bags,
        anything_encrypted,
    })
}

/// The content of a `[0] EXPLICIT` TLV.
fn unwrap_explicit0(tlv: &[u8]) -> der::Result<Vec<u8>> {
    der::asn1::ContextSpecific::<der::Any>::from_der(tlv)?
        .value
        .to_der()
}

/// A `data` ContentInfo around `octets`.
fn data_content_info(octets: Vec<u8>) -> der::Result<ContentInfo> {
    Ok(ContentInfo {
        content_type: OID_DATA,
        content: der::Any::encode_from(&OctetString::new(octets)?)?,
    })
}

/// Legacy PKCS#12 PBE (RFC 7292 appendix C) decryption under the zero-length password: `None`
/// for any other algorithm, bad parameters or a padding error.
fn legacy_decrypt_zero_length(alg: &AlgorithmIdentifierOwned, data: &[u8]) -> Option<Vec<u8>> {
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
    let key_len = match alg.oid.to_string().as_str() {
        "1.2.840.113549.1.12.1.3" => 24,
        "1.2.840.113549.1.12.1.6" => 5,
        _ => return None,
    };
    let params =
        pkcs12::pbe_params::Pkcs12PbeParams::from_der(&alg.parameters.as_ref()?.to_der().ok()?)
            .ok()?;
    if !(1..=MAX_MAC_ITERATIONS).contains(&params.iterations) {
        return None;
    }
    let derive = |id, len| {
        secrecy::zeroize::Zeroizing::new(derive_key::<sha1::Sha1>(
            &[],
            params.salt.as_bytes(),
            id,
            params.iterations,
            len,
        ))
    };
    let key = derive(Pkcs12KeyType::EncryptionKey, key_len);
    let iv = derive(Pkcs12KeyType::Iv, 8);
    if key_len == 24 {
        cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .ok()?
            .decrypt_padded_vec::<Pkcs7>(data)
            .ok()
    } else {
        cbc::Decryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
            .ok()?
            .decrypt_padded_vec::<Pkcs7>(data)
            .ok()
    }
}

fn data_bags(safe: &ContentInfo) -> der::Result<Vec<SafeBag>> {
    let octets = OctetString::from_der(&safe.content.to_der()?)?;
    Vec::<SafeBag>::from_der(octets.as_bytes())
}

fn shrouded_alg(bag_value: &[u8]) -> der::Result<AlgorithmIdentifierOwned> {
    // `[0] EXPLICIT EncryptedPrivateKeyInfo`
    let cs = der::asn1::ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(bag_value)?;
    Ok(cs.value.encryption_algorithm)
}

/// The MAC algorithms bt-dr verifies: the PKCS#12 HMAC over each SHA-1/SHA-2 digest, and
/// PBMAC1 (RFC 9579, OpenSSL 3.4+ `-pbmac1_pbkdf2`, FIPS-mode exporters).
fn mac_supported(oid: &ObjectIdentifier) -> bool {
    *oid == OID_PBMAC1 || mac_digest_size(oid).is_some()
}

/// PBMAC1 (RFC 9579): HMAC keyed by PBKDF2 of the UTF-8 password. `Err` names what is not
/// supported in its parameters; `Ok(false)` is a mismatch.
fn pbmac1_matches(mac: &MacData, password: &[u8], data: &[u8]) -> Result<bool, String> {
    use pkcs5::pbes2::{Pbkdf2Params, Pbkdf2Prf};
    let params = mac
        .mac
        .algorithm
        .parameters
        .as_ref()
        .ok_or("PBMAC1 without parameters")?
        .to_der()
        .map_err(|e| e.to_string())?;
    // PBMAC1-params ::= SEQUENCE { keyDerivationFunc, messageAuthScheme }: two algorithm
    // identifiers, encoded exactly as a SEQUENCE OF them.
    let algs = Vec::<AlgorithmIdentifierOwned>::from_der(&params)
        .map_err(|e| format!("PBMAC1 parameters that do not parse ({e})"))?;
    let [kdf, scheme] = algs.as_slice() else {
        return Err("PBMAC1 parameters that do not parse".into());
    };
    if kdf.oid != OID_PBKDF2 {
        return Err(format!("PBMAC1 with {}", oid_name(&kdf.oid)));
    }
    let kdf_params = kdf
        .parameters
        .as_ref()
        .ok_or("PBMAC1 PBKDF2 without parameters")?
        .to_der()
        .map_err(|e| e.to_string())?;
    let p = Pbkdf2Params::from_der(&kdf_params).map_err(|e| match e.kind() {
        der::ErrorKind::OidUnknown { oid } => format!("PBMAC1 with {}", oid_name(&oid)),
        other => format!("PBMAC1 PBKDF2 parameters that do not parse ({other})"),
    })?;
    let key_len = usize::from(p.key_length.ok_or("PBMAC1 without a PBKDF2 key length")?);
    if !(1..=MAX_MAC_ITERATIONS as u32).contains(&p.iteration_count)
        || !(1..=128).contains(&key_len)
    {
        return Err(format!(
            "PBMAC1 with {} iterations and a {key_len}-byte key (bt-dr accepts 1 to \
             {MAX_MAC_ITERATIONS} iterations and up to 128 bytes)",
            p.iteration_count
        ));
    }
    let mut key = secrecy::zeroize::Zeroizing::new(vec![0u8; key_len]);
    let salt = p.salt.as_bytes();
    match p.prf {
        Pbkdf2Prf::HmacWithSha1 => {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, p.iteration_count, &mut key)
        }
        Pbkdf2Prf::HmacWithSha224 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, p.iteration_count, &mut key)
        }
        Pbkdf2Prf::HmacWithSha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, p.iteration_count, &mut key)
        }
        Pbkdf2Prf::HmacWithSha384 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, p.iteration_count, &mut key)
        }
        Pbkdf2Prf::HmacWithSha512 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, p.iteration_count, &mut key)
        }
        other => return Err(format!("PBMAC1 with PBKDF2 PRF {other:?}")),
    }
    macro_rules! verify {
        ($d:ty) => {{
            let mut m =
                <hmac::Hmac<$d> as KeyInit>::new_from_slice(&key).map_err(|e| e.to_string())?;
            m.update(data);
            Ok(m.verify_slice(mac.mac.digest.as_bytes()).is_ok())
        }};
    }
    match scheme.oid.to_string().as_str() {
        "1.2.840.113549.2.7" => verify!(sha1::Sha1),
        "1.2.840.113549.2.8" => verify!(sha2::Sha224),
        "1.2.840.113549.2.9" => verify!(sha2::Sha256),
        "1.2.840.113549.2.10" => verify!(sha2::Sha384),
        "1.2.840.113549.2.11" => verify!(sha2::Sha512),
        _ => Err(format!("PBMAC1 with {}", oid_name(&scheme.oid))),
    }
}

fn mac_digest_size(oid: &ObjectIdentifier) -> Option<usize> {
    Some(match oid.to_string().as_str() {
        "1.3.14.3.2.26" => 20,
        "2.16.840.1.101.3.4.2.4" | "2.16.840.1.101.3.4.2.5" => 28,
        "2.16.840.1.101.3.4.2.1" | "2.16.840.1.101.3.4.2.6" => 32,
        "2.16.840.1.101.3.4.2.2" => 48,
        "2.16.840.1.101.3.4.2.3" => 64,
        _ => return None,
    })
}

/// Whether the HMAC over `data`, keyed with the PKCS#12 KDF of `password`, is the stored one.
macro_rules! mac_with {
    ($digest:ty, $mac:expr, $password:expr, $data:expr) => {{
        let mac: &MacData = $mac;
        let key = secrecy::zeroize::Zeroizing::new(derive_key::<$digest>(
            $password,
            mac.mac_salt.as_bytes(),
            Pkcs12KeyType::Mac,
            mac.iterations,
            <$digest as OutputSizeUser>::output_size(),
        ));
        match <hmac::Hmac<$digest> as KeyInit>::new_from_slice(&key) {
            Ok(mut m) => {
                m.update($data);
                m.verify_slice(mac.mac.digest.as_bytes()).is_ok()
            }
            Err(_) => false,
        }
    }};
}

fn mac_matches(mac: &MacData, password: &[u8], data: &[u8]) -> bool {
    match mac.mac.algorithm.oid.to_string().as_str() {
        "1.3.14.3.2.26" => mac_with!(sha1::Sha1, mac, password, data),
        "2.16.840.1.101.3.4.2.4" => mac_with!(sha2::Sha224, mac, password, data),
        "2.16.840.1.101.3.4.2.1" => mac_with!(sha2::Sha256, mac, password, data),
        "2.16.840.1.101.3.4.2.2" => mac_with!(sha2::Sha384, mac, password, data),
        "2.16.840.1.101.3.4.2.3" => mac_with!(sha2::Sha512, mac, password, data),
        "2.16.840.1.101.3.4.2.5" => mac_with!(sha2::Sha512_224, mac, password, data),
        "2.16.840.1.101.3.4.2.6" => mac_with!(sha2::Sha512_256, mac, password, data),
        _ => false,
    }
}

/// The PKCS#12 password bytes: big-endian UTF-16 with a terminating NUL (RFC 7292 B.1).
/// Characters outside the BMP are written as surrogate pairs, as OpenSSL does.
fn bmp_password(password: &str) -> secrecy::zeroize::Zeroizing<Vec<u8>> {
    let mut out = secrecy::zeroize::Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

impl Inspected {
    /// Whether the file carries an integrity MAC.
    pub fn has_mac(&self) -> bool {
        self.pfx.mac_data.is_some()
    }

    /// Verifies the MAC with `password`; for an empty password both encodings are tried.
    /// When a non-empty password fails, the empty ones are tried too, so the caller can say
    /// that the file has no passphrase at all.
    pub fn check_mac(&self, password: &str) -> crate::support::error::Result<MacOutcome> {
        let Some(mac) = &self.pfx.mac_data else {
            return Ok(MacOutcome::Absent);
        };
        if mac.mac.algorithm.oid == OID_PBMAC1 {
            // The password goes into PBKDF2 as UTF-8: the empty one has one encoding only.
            let data = self.pfx.auth_safe.content.value();
            let unsupported =
                |e: String| cert_err(format!("unsupported PKCS#12 integrity MAC: {e}"));
            if !password.is_empty()
                && pbmac1_matches(mac, password.as_bytes(), data).map_err(unsupported)?
            {
                return Ok(MacOutcome::Verified);
            }
            return Ok(if pbmac1_matches(mac, &[], data).map_err(unsupported)? {
                // Reported as the usual encoding: the bags then open with "" the usual way.
                MacOutcome::VerifiedEmpty(EmptyEncoding::TwoZeroBytes)
            } else {
                MacOutcome::Mismatch
            });
        }
        if mac_digest_size(&mac.mac.algorithm.oid).is_none() {
            return Err(cert_err(format!(
                "unsupported PKCS#12 integrity MAC: {}",
                oid_name(&mac.mac.algorithm.oid)
            )));
        }
        if !(1..=MAX_MAC_ITERATIONS).contains(&mac.iterations) {
            return Err(cert_err(format!(
                "the integrity MAC asks for {} iterations (bt-dr accepts 1 to {MAX_MAC_ITERATIONS})",
                mac.iterations
            )));
        }
        let data = self.pfx.auth_safe.content.value();
        if !password.is_empty() && mac_matches(mac, &bmp_password(password), data) {
            return Ok(MacOutcome::Verified);
        }
        if mac_matches(mac, &[0, 0], data) {
            return Ok(MacOutcome::VerifiedEmpty(EmptyEncoding::TwoZeroBytes));
        }
        if mac_matches(mac, &[], data) {
            return Ok(MacOutcome::VerifiedEmpty(EmptyEncoding::ZeroLength));
        }
        Ok(MacOutcome::Mismatch)
    }

    /// The file re-encoded without its MAC, with every legacy PKCS#12 PBE piece (3DES, RC2-40)
    /// that decrypts under the zero-length empty password decrypted here.
    ///
    /// A file whose MAC verifies with the zero-length password was written by an exporter that
    /// treats "no password" as zero bytes (OpenSSL's library with a NULL password does), and
    /// such an exporter encrypts with zero bytes too. `p12-keystore`'s legacy PBE only knows the
    /// two-zero-byte form, so those pieces are opened here: an encrypted safe becomes a plain
    /// one, a shrouded key a plain key bag. A piece that does not decrypt this way (an exporter
    /// that mixed the encodings) is left for `p12-keystore`. PBES2 pieces are left alone: PBKDF2
    /// takes the password as bytes, and the empty password is zero bytes there either way.
    pub fn opened_for_zero_length_empty(&self) -> crate::support::error::Result<Vec<u8>> {
        let err = |e: der::Error| cert_err(format!("the PKCS#12 file cannot be re-encoded: {e}"));
        let safes: AuthenticatedSafe<'_> = self
            .pfx
            .auth_safe
            .content
            .to_der()
            .and_then(|d| OctetString::from_der(&d))
            .and_then(|o| AuthenticatedSafe::from_der(o.as_bytes()))
            .map_err(err)?;
        let mut out = Vec::with_capacity(safes.len());
        for safe in safes {
            out.push(match safe.content_type {
                OID_ENCRYPTED_DATA => {
                    let enc = EncryptedData::from_der(&safe.content.to_der().map_err(err)?)
                        .map_err(err)?;
                    let eci = &enc.enc_content_info;
                    match eci.encrypted_content.as_ref().and_then(|ct| {
                        legacy_decrypt_zero_length(&eci.content_enc_alg, ct.as_bytes())
                            .filter(|plain| Vec::<SafeBag>::from_der(plain).is_ok())
                    }) {
                        Some(plain) => data_content_info(plain).map_err(err)?,
                        None => safe,
                    }
                }
                OID_DATA => {
                    let mut changed = false;
                    let mut bags = Vec::new();
                    for mut bag in data_bags(&safe).map_err(err)? {
                        // `pkcs12::SafeBag` decodes `bag_value` with its `[0]` tag but encodes
                        // it by adding one: every bag of a rewritten safe is held bare.
                        let mut bare = unwrap_explicit0(&bag.bag_value).map_err(err)?;
                        if bag.bag_id == pkcs12::PKCS_12_PKCS8_KEY_BAG_OID
                            && let Some(plain) = EncryptedPrivateKeyInfo::from_der(&bare)
                                .ok()
                                .and_then(|epki| {
                                    legacy_decrypt_zero_length(
                                        &epki.encryption_algorithm,
                                        epki.encrypted_data.as_bytes(),
                                    )
                                })
                                .filter(|p| pkcs12::safe_bag::PrivateKeyInfo::from_der(p).is_ok())
                        {
                            bag.bag_id = pkcs12::PKCS_12_KEY_BAG_OID;
                            bare = plain;
                            changed = true;
                        }
                        bag.bag_value = bare;
                        bags.push(bag);
                    }
                    if changed {
                        data_content_info(bags.to_der().map_err(err)?).map_err(err)?
                    } else {
                        safe
                    }
                }
                _ => safe,
            });
        }
        let auth_safe = data_content_info(out.to_der().map_err(err)?).map_err(err)?;
        Pfx {
            version: self.pfx.version,
            auth_safe,
            mac_data: None,
        }
        .to_der()
        .map_err(err)
    }

    /// The file re-encoded without its MAC (already verified here), for `p12-keystore`, which
    /// only knows one encoding of the empty password. Everything else is byte-identical: the
    /// authenticated safe is carried over as it was read.
    pub fn without_mac(&self) -> crate::support::error::Result<Vec<u8>> {
        let stripped = Pfx {
            version: self.pfx.version,
            auth_safe: self.pfx.auth_safe.clone(),
            mac_data: None,
        };
        stripped
            .to_der()
            .map_err(|e| cert_err(format!("the PKCS#12 file cannot be re-encoded: {e}")))
    }
}
