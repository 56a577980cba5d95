//! Does the bundle's private key belong to the leaf certificate?

use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::parse_der;
use x509_parser::prelude::*;

const RSA_OID: &str = "1.2.840.113549.1.1.1";
const EC_OID: &str = "1.2.840.10045.2.1";

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

/// `Some(true)` when the PKCS#8 key is the private half of `cert_der`'s public key,
/// `Some(false)` when it is not, `None` when the key type cannot be compared.
///
/// ```
/// let cert = rcgen::generate_simple_self_signed(vec!["bt.example.com".into()]).unwrap();
/// let other = rcgen::KeyPair::generate().unwrap();
/// let der = cert.cert.der();
/// let key = cert.signing_key.serialize_der();
/// assert_eq!(bt_dr_core::certificate::key_matches_certificate(&key, der), Some(true));
/// assert_eq!(bt_dr_core::certificate::key_matches_certificate(&other.serialize_der(), der), Some(false));
/// ```
pub fn key_matches_certificate(pkcs8: &[u8], cert_der: &[u8]) -> Option<bool> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    key_matches_spki(pkcs8, cert.public_key())
}

/// The same comparison against an already parsed public key.
pub(crate) fn key_matches_spki(pkcs8: &[u8], spki: &SubjectPublicKeyInfo<'_>) -> Option<bool> {
    // RSA: compare modulus and exponent straight from the DER (ring refuses keys under 2048
    // bits, and weak keys are exactly the ones a DR check must still be able to inspect).
    if let Ok((_, outer)) = parse_der(pkcs8)
        && let Ok(seq) = outer.as_sequence()
    {
        let alg_is_rsa = seq
            .get(1)
            .and_then(|a| a.as_sequence().ok())
            .and_then(|a| a.first())
            .and_then(|o| o.as_oid().ok())
            .map(|o| o.to_id_string() == RSA_OID)
            .unwrap_or(false);
        if alg_is_rsa {
            let inner = seq.get(2).and_then(|o| match &o.content {
                BerObjectContent::OctetString(b) => Some(*b),
                _ => None,
            })?;
            let (_, rsa) = parse_der(inner).ok()?;
            let parts = rsa.as_sequence().ok()?;
            let int = |i: usize| match parts.get(i).map(|o| &o.content) {
                Some(BerObjectContent::Integer(b)) => Some(*b),
                _ => None,
            };
            let (n, e) = (int(1)?, int(2)?);
            return match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(p)) => Some(
                    strip_zeros(p.modulus) == strip_zeros(n)
                        && strip_zeros(p.exponent) == strip_zeros(e),
                ),
                _ => Some(false),
            };
        }
    }
    let want = spki.subject_public_key.data.as_ref();
    // Fast path for the common case, a match; anything else (a mismatch, a compressed point, an
    // unknown curve, no stored point) is decided by ring, which derives the point itself.
    if let Some(stored) = ec_embedded_public_key(pkcs8)
        && stored.point == want
        && stored.point.first() == Some(&0x04)
        && spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.data == stored.curve)
    {
        return Some(true);
    }
    let rng = ring::rand::SystemRandom::new();
    for alg in [
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    ] {
        if let Ok(kp) = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng) {
            use ring::signature::KeyPair;
            return Some(kp.public_key().as_ref() == want);
        }
    }
    if let Ok(kp) = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8) {
        use ring::signature::KeyPair;
        return Some(kp.public_key().as_ref() == want);
    }
    None
}

/// What an EC PKCS#8 key says about its public half.
#[derive(Debug, PartialEq, Eq)]
struct StoredPoint<'a> {
    /// Content bytes of the named-curve OID in the key's algorithm identifier.
    curve: Vec<u8>,
    /// The `[1] publicKey` bit string of the RFC 5915 `ECPrivateKey`.
    point: &'a [u8],
}

/// The public point an RFC 5915 `ECPrivateKey` carries in its optional `[1] publicKey` field
/// (OpenSSL always writes it), with the key's curve. Comparing the point with the certificate's
/// is what OpenSSL's `X509_check_private_key` does: the scalar is not re-derived, which is the
/// one costly step of matching an EC key.
fn ec_embedded_public_key(pkcs8: &[u8]) -> Option<StoredPoint<'_>> {
    let (_, outer) = parse_der(pkcs8).ok()?;
    let seq = outer.as_sequence().ok()?;
    let alg = seq.get(1)?.as_sequence().ok()?;
    if alg.first()?.as_oid().ok()?.to_id_string() != EC_OID {
        return None;
    }
    let curve = alg.get(1)?.as_oid().ok()?.as_bytes().to_vec();
    let BerObjectContent::OctetString(inner) = &seq.get(2)?.content else {
        return None;
    };
    let (_, ec) = parse_der(inner).ok()?;
    let point = ec.as_sequence().ok()?.iter().find_map(|field| {
        // `[1] EXPLICIT BIT STRING`: the tagged object wraps the bit string's DER.
        if field.header.class() != x509_parser::der_parser::asn1_rs::Class::ContextSpecific
            || field.header.tag().0 != 1
        {
            return None;
        }
        let (_, bits) = parse_der(field.as_slice().ok()?).ok()?;
        match bits.content {
            BerObjectContent::BitString(0, data) => Some(data.data),
            _ => None,
        }
    })?;
    Some(StoredPoint { curve, point })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_keys_match_by_their_embedded_public_point() {
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
        ] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            let cert = rcgen::CertificateParams::new(vec!["bt.example.com".into()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            let pkcs8 = key.serialize_der();
            let (_, x) = X509Certificate::from_der(cert.der()).unwrap();
            let stored = ec_embedded_public_key(&pkcs8).expect("ring writes the point");
            assert_eq!(
                stored.point,
                x.public_key().subject_public_key.data.as_ref()
            );
            let cert_curve = x.public_key().algorithm.parameters.as_ref().unwrap().data;
            assert_eq!(stored.curve, cert_curve);
            assert_eq!(key_matches_certificate(&pkcs8, cert.der()), Some(true));
            let other = rcgen::KeyPair::generate_for(alg).unwrap().serialize_der();
            assert_eq!(key_matches_certificate(&other, cert.der()), Some(false));
        }
    }

    #[test]
    fn non_ec_keys_have_no_embedded_point() {
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        assert_eq!(ec_embedded_public_key(&ed.serialize_der()), None);
    }

    /// `pkcs8` with the first occurrence of `from` replaced by `to` (same length).
    fn patched(pkcs8: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = pkcs8
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern present");
        let mut out = pkcs8.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    }

    #[test]
    fn a_stored_point_alone_never_decides_against_the_key() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["bt.example.com".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pkcs8 = key.serialize_der();
        let point = ec_embedded_public_key(&pkcs8).unwrap().point.to_vec();

        // A stored point that is not the certificate's and not the scalar's: ring finds the key
        // inconsistent, so the answer is "cannot compare", not a false mismatch.
        let mut other = point.clone();
        other[40] ^= 0xff;
        let tampered = patched(&pkcs8, &point, &other);
        assert_eq!(key_matches_certificate(&tampered, cert.der()), None);

        // A point in compressed form is not compared byte for byte either.
        let mut compressed = point.clone();
        compressed[0] = 0x02;
        let odd = patched(&pkcs8, &point, &compressed);
        assert_ne!(key_matches_certificate(&odd, cert.der()), Some(false));

        // A key whose stored curve differs from the certificate's never takes the fast path:
        // P-256's OID (1.2.840.10045.3.1.7) relabelled as secp256k1's (1.3.132.0.10) is
        // refused by ring, so again no verdict either way.
        let p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let relabelled = patched(&pkcs8, &p256, &[0x2b, 0x81, 0x04, 0x00, 0x0a, 0, 0, 0]);
        assert!(ec_embedded_public_key(&relabelled).is_some_and(|s| s.curve != p256));
        assert_ne!(key_matches_certificate(&relabelled, cert.der()), Some(true));
    }
}
