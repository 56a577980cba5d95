//! Opening a PKCS#12 bundle as exported from `/appliance > Security > Certificates`.
//!
//! `p12-keystore`'s raw archive is used (not its key store) because the key store links a
//! chain and silently drops every certificate off that chain, which would hide exactly the
//! problems a DR check must see: missing intermediates, extra roots, key-less bundles.

use std::fmt;
use std::net::IpAddr;

use ::time::OffsetDateTime;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::rules::certificate::names::is_fqdn;
use crate::rules::certificate::pfx::{self, EmptyEncoding, MacOutcome};
use crate::support::error::{Error, Result};

/// The vendor's classes of certificate, decided from issued-to, issued-by and alternative names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertClass {
    /// Issued to = issued by, with an FQDN among its alternative names.
    SelfSigned,
    /// Issued to an FQDN (in issued-to or alternative names) by someone else.
    CaSigned,
    /// Issued to ≠ issued by, neither an FQDN.
    Intermediate,
    /// Issued to = issued by, neither an FQDN.
    Root,
    /// Fits none of the classes (e.g. self-issued, FQDN subject, no alternative names).
    Unclassified,
}

/// What bt-dr reads from one certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CertInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// "Issued to": the subject common name, else the whole subject.
    pub issued_to: String,
    /// "Issued by": the issuer common name, else the whole issuer.
    pub issued_by: String,
    /// DNS alternative names.
    pub dns_names: Vec<String>,
    /// IP alternative names.
    pub ip_addresses: Vec<IpAddr>,
    /// Start of validity.
    #[serde(with = "::time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "::time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub not_after: OffsetDateTime,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 of the DER, lowercase hex (what pinning and pair checks compare).
    pub sha256: String,
    /// Basic constraints CA flag.
    pub is_ca: bool,
    /// Public key algorithm: `rsa`, `ec`, `ed25519` or other.
    pub key_algorithm: String,
    /// Key size in bits.
    pub key_bits: usize,
    /// The vendor class.
    pub class: CertClass,
    /// Friendly name from the bundle, if any.
    pub friendly_name: Option<String>,
    #[serde(skip)]
    pub(crate) der: Vec<u8>,
}

impl CertInfo {
    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// Whether issued-to and issued-by are the same (self-issued).
    pub fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// An opened bundle: every certificate bag and the private key, if one is present.
///
/// `Debug` never shows the key: only whether there is one and its length.
#[derive(Clone)]
pub struct OpenedBundle {
    /// Certificates in the order stored.
    pub certs: Vec<CertInfo>,
    /// PKCS#8 DER of the first private key bag (zeroed on drop, never printed).
    pub(crate) key_pkcs8: Option<SecretSlice<u8>>,
    /// Number of private key bags.
    pub key_count: usize,
    /// The bundle was opened with an empty passphrase.
    pub empty_passphrase: bool,
    /// Private keys stored as a plain `keyBag` in an unencrypted safe: readable by anyone who
    /// holds the file, whatever its passphrase (`openssl pkcs12 -keypbe NONE` writes these).
    pub unencrypted_key_bags: usize,
}

impl OpenedBundle {
    /// The PKCS#8 DER of the first private key, for the key/certificate comparison.
    pub(crate) fn key_der(&self) -> Option<&[u8]> {
        self.key_pkcs8.as_ref().map(|k| k.expose_secret())
    }
}

impl fmt::Debug for OpenedBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedBundle")
            .field("certs", &self.certs)
            .field(
                "key_pkcs8",
                &self
                    .key_pkcs8
                    .as_ref()
                    .map(|k| Redacted(k.expose_secret().len())),
            )
            .field("key_count", &self.key_count)
            .field("empty_passphrase", &self.empty_passphrase)
            .field("unencrypted_key_bags", &self.unencrypted_key_bags)
            .finish()
    }
}

/// Stands in for key material in `Debug` output.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED private key, {} bytes]", self.0)
    }
}

fn cn_or(name: &X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| name.to_string())
}

fn time_of(t: ASN1Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn classify(
    issued_to: &str,
    issued_by: &str,
    self_issued: bool,
    dns_names: &[String],
) -> CertClass {
    let san_fqdn = dns_names.iter().any(|n| is_fqdn(n));
    let to_fqdn = is_fqdn(issued_to);
    let by_fqdn = is_fqdn(issued_by);
    if self_issued {
        if san_fqdn {
            CertClass::SelfSigned
        } else if !to_fqdn {
            CertClass::Root
        } else {
            CertClass::Unclassified
        }
    } else if to_fqdn || san_fqdn {
        CertClass::CaSigned
    } else if !by_fqdn {
        CertClass::Intermediate
    } else {
        CertClass::Unclassified
    }
}

/// Parses one DER certificate.
pub fn parse_certificate(der: &[u8], friendly_name: Option<String>) -> Result<CertInfo> {
    let (_, x) = X509Certificate::from_der(der).map_err(|e| Error::Certificate {
        reason: format!("a certificate in the bundle does not parse: {e}"),
    })?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ip_addresses.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or([0; 4]))),
                    16 => {
                        ip_addresses.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or([0; 16])))
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let is_ca = x
        .basic_constraints()
        .ok()
        .flatten()
        .map(|b| b.value.ca)
        .unwrap_or(false);
    let (key_algorithm, key_bits) = match x.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(r)) => {
            let m = r.modulus.iter().skip_while(|b| **b == 0).count();
            ("rsa".to_string(), m * 8)
        }
        Ok(x509_parser::public_key::PublicKey::EC(p)) => ("ec".to_string(), p.key_size()),
        Ok(other) => {
            let oid = x.public_key().algorithm.algorithm.to_id_string();
            let name = if oid == "1.3.101.112" {
                "ed25519"
            } else {
                "other"
            };
            (name.to_string(), other.key_size())
        }
        Err(_) => ("unknown".to_string(), 0),
    };
    let issued_to = cn_or(x.subject());
    let issued_by = cn_or(x.issuer());
    let subject = x.subject().to_string();
    let issuer = x.issuer().to_string();
    let class = classify(&issued_to, &issued_by, subject == issuer, &dns_names);
    Ok(CertInfo {
        issued_to,
        issued_by,
        class,
        dns_names,
        ip_addresses,
        not_before: time_of(x.validity().not_before),
        not_after: time_of(x.validity().not_after),
        serial: x.raw_serial_as_string().replace(':', ""),
        sha256: crate::support::hash::sha256_hex(der),
        is_ca,
        key_algorithm,
        key_bits,
        subject,
        issuer,
        friendly_name,
        der: der.to_vec(),
    })
}

/// Opens a PKCS#12 bundle.
///
/// The outcomes are kept apart:
/// - [`Error::WrongPassphrase`]: the integrity MAC verifies with no encoding of the passphrase
///   (or, in a file without a MAC, an encrypted bag does not decrypt with it). When the MAC
///   verifies with the empty password instead, the error says the file has no passphrase.
/// - [`Error::Certificate`]: the file is not PKCS#12, is truncated, or uses an algorithm or
///   structure bt-dr cannot read; the reason names it.
/// - success with [`OpenedBundle::empty_passphrase`]: opened with the empty passphrase, in
///   either of its two encodings (a BMPString NUL, or zero bytes).
pub fn open_bundle(bytes: &[u8], passphrase: &SecretString) -> Result<OpenedBundle> {
    use p12_keystore::error::Error as P;
    let pw = passphrase.expose_secret();
    let inspected = pfx::inspect(bytes)?;
    let mac = inspected.check_mac(pw)?;
    let mac_verified = match mac {
        MacOutcome::Verified => true,
        MacOutcome::VerifiedEmpty(_) if pw.is_empty() => true,
        MacOutcome::VerifiedEmpty(_) => {
            return Err(Error::WrongPassphrase {
                what: "certificate bundle (it has no passphrase: open it with an empty one)".into(),
            });
        }
        MacOutcome::Mismatch => {
            return Err(Error::WrongPassphrase {
                what: "certificate bundle".into(),
            });
        }
        MacOutcome::Absent => false,
    };
    if !inspected.unsupported.is_empty() {
        return Err(Error::Certificate {
            reason: format!(
                "this PKCS#12 variant is not supported: {}",
                inspected.unsupported.join("; ")
            ),
        });
    }
    // The MAC is verified above (with whichever empty-password encoding fits); p12-keystore
    // then only decrypts.
    let zero_length_empty = mac == MacOutcome::VerifiedEmpty(EmptyEncoding::ZeroLength);
    let input = if zero_length_empty {
        inspected.opened_for_zero_length_empty()?
    } else if inspected.has_mac() {
        inspected.without_mac()?
    } else {
        bytes.to_vec()
    };
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&input, pw).map_err(|e| {
        let text = e.to_string();
        match e {
            P::Pkcs5Error(_) | P::UnsupportedEncryptionScheme
                if text.contains("unsupported") || text.contains("Unsupported") =>
            {
                Error::Certificate {
                    reason: format!("this PKCS#12 variant is not supported: {text}"),
                }
            }
            P::Pkcs5Error(_) | P::UnpadError | P::DerError(_) | P::InvalidPrivateKey
                if mac_verified =>
            {
                Error::Certificate {
                    reason: if zero_length_empty {
                        "the MAC verifies with the empty password written as zero bytes, but a \
                         bag decrypts with neither encoding of the empty password"
                            .into()
                    } else {
                        format!(
                            "the integrity MAC verifies with this passphrase but a bag does not \
                             decrypt or parse with it (a separate encryption password, or a \
                             damaged file): {text}"
                        )
                    },
                }
            }
            P::Pkcs5Error(_) | P::UnpadError | P::DerError(_) | P::InvalidPrivateKey
                if inspected.anything_encrypted =>
            {
                // No MAC: a bag that does not decrypt is the only sign of a wrong passphrase.
                Error::WrongPassphrase {
                    what: "certificate bundle".into(),
                }
            }
            P::MacError(_) => Error::WrongPassphrase {
                what: "certificate bundle".into(),
            },
            P::DerError(d) => Error::Certificate {
                reason: format!("a PKCS#12 bag does not parse: {d}"),
            },
            other => Error::Certificate {
                reason: format!("unsupported PKCS#12 content: {other}"),
            },
        }
    })?;
    let mut certs = Vec::with_capacity(archive.certs.len());
    for bag in &archive.certs {
        let c = parse_certificate(bag.cert.as_der(), bag.friendly_name.clone())?;
        // The same certificate stored twice is one certificate.
        if !certs.iter().any(|x: &CertInfo| x.sha256 == c.sha256) {
            certs.push(c);
        }
    }
    Ok(OpenedBundle {
        certs,
        key_count: archive.keys.len(),
        key_pkcs8: archive
            .keys
            .first()
            .map(|k| SecretSlice::from(k.key.as_der().to_vec())),
        empty_passphrase: pw.is_empty(),
        unencrypted_key_bags: inspected.clear_key_bags,
    })
}
