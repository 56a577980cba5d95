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
    if let Some(public) = ec_embedded_public_key(pkcs8) {
        return Some(public == want);
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

/// The public point an RFC 5915 `ECPrivateKey` carries in its optional `[1] publicKey` field
/// (OpenSSL always writes it). Comparing it is what `X509_check_private_key` does, and it
/// avoids recomputing the point from the scalar, the one costly step of matching an EC key.
fn ec_embedded_public_key(pkcs8: &[u8]) -> Option<&[u8]> {
    let (_, outer) = parse_der(pkcs8).ok()?;
    let seq = outer.as_sequence().ok()?;
    let alg = seq.get(1)?.as_sequence().ok()?;
    if alg.first()?.as_oid().ok()?.to_id_string() != EC_OID {
        return None;
    }
    let BerObjectContent::OctetString(inner) = &seq.get(2)?.content else {
        return None;
    };
    let (_, ec) = parse_der(inner).ok()?;
    ec.as_sequence().ok()?.iter().find_map(|field| {
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
    })
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
            assert_eq!(
                ec_embedded_public_key(&pkcs8),
                Some(x.public_key().subject_public_key.data.as_ref())
            );
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
}
