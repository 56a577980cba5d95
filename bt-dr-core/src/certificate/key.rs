//! Does the bundle's private key belong to the leaf certificate?

use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::parse_der;
use x509_parser::prelude::*;

const RSA_OID: &str = "1.2.840.113549.1.1.1";

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

/// `Some(true)` when the PKCS#8 key is the private half of `cert_der`'s public key,
/// `Some(false)` when it is not, `None` when the key type cannot be compared.
pub fn key_matches_certificate(pkcs8: &[u8], cert_der: &[u8]) -> Option<bool> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    let spki = cert.public_key();
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
