//! TLS for the appliance API: rustls with ring, system roots by default, an optional extra CA,
//! an optional SHA-256 pin of the server certificate, and insecure modes only by explicit opt-in.
//!
//! The verifier also notes the leaf certificate each handshake presents, whatever the trust
//! mode: the failover plan and the audit compare what the two appliances of a pair serve, and
//! that comparison is only worth something if it is taken from the connection itself.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::support::error::{Error, Result};

/// TLS settings of a [`super::Client`].
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM (added to the system roots).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Trust only `extra_ca_pem`, not the system roots.
    pub only_extra_ca: bool,
    /// SHA-256 of the server's leaf certificate DER; the handshake fails on any other certificate.
    pub pin_sha256: Option<[u8; 32]>,
    /// DANGEROUS: accept any certificate chain (a pin, if set, is still enforced).
    pub danger_accept_invalid_certs: bool,
}

/// Installs ring as the process's rustls provider (idempotent; another provider already
/// installed by the host program is fine too).
pub(crate) fn ensure_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Parses a hex SHA-256 pin (colons allowed, as openssl prints them).
pub fn parse_pin(hex_pin: &str) -> Result<[u8; 32]> {
    let clean: String = hex_pin.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(clean.trim())
        .map_err(|_| Error::invalid_input("pin_sha256", "is not hexadecimal"))?;
    bytes
        .try_into()
        .map_err(|_| Error::invalid_input("pin_sha256", "must be 32 bytes (64 hex digits)"))
}

fn roots(opts: &TlsOptions) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    if !opts.only_extra_ca {
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            let _ = store.add(c);
        }
    }
    if let Some(pem) = &opts.extra_ca_pem {
        let mut n = 0;
        for item in rustls_pki_types::pem::PemObject::pem_slice_iter(pem) {
            let der: CertificateDer<'static> = item.map_err(|e| Error::Tls {
                reason: format!("extra CA is not valid PEM: {e}"),
            })?;
            store.add(der).map_err(|e| Error::Tls {
                reason: format!("extra CA certificate rejected: {e}"),
            })?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::Tls {
                reason: "extra CA PEM holds no certificate".into(),
            });
        }
    }
    if store.is_empty() {
        return Err(Error::Tls {
            reason: "no trusted root certificates (no system roots and no extra CA)".into(),
        });
    }
    Ok(store)
}

/// The leaf certificate the last handshake presented, as bt-dr reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServedCert {
    /// SHA-256 (lowercase hex) of its DER.
    pub(crate) sha256: String,
    /// Its `notAfter`, when the DER parses as X.509 (a server may send anything).
    pub(crate) not_after: Option<time::OffsetDateTime>,
}

impl ServedCert {
    fn from_der(der: &[u8]) -> Self {
        let not_after = x509_parser::parse_x509_certificate(der)
            .ok()
            .map(|(_, cert)| cert.validity().not_after.to_datetime());
        ServedCert {
            sha256: crate::support::hash::sha256_hex(der),
            not_after,
        }
    }
}

/// The leaf certificate the last handshake presented, shared between the rustls verifier that
/// writes it and the client that reads it, with a count of handshakes so a reader can tell a
/// fresh record from one left by an earlier connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServedLeaf(Arc<Mutex<(u64, Option<ServedCert>)>>);

impl ServedLeaf {
    fn slot(&self) -> std::sync::MutexGuard<'_, (u64, Option<ServedCert>)> {
        // A poisoned lock only means a panic elsewhere while it was held; the pair inside is
        // still whole, so carry on with it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, der: &[u8]) {
        let cert = ServedCert::from_der(der);
        let mut slot = self.slot();
        slot.0 = slot.0.wrapping_add(1);
        slot.1 = Some(cert);
    }

    /// The last recorded certificate, if any handshake has happened.
    pub(crate) fn get(&self) -> Option<ServedCert> {
        self.slot().1.clone()
    }

    /// A mark to pass to [`ServedLeaf::since`].
    pub(crate) fn mark(&self) -> u64 {
        self.slot().0
    }

    /// The last recorded certificate, if a handshake happened after `mark` was taken.
    pub(crate) fn since(&self, mark: u64) -> Option<ServedCert> {
        let slot = self.slot();
        (slot.0 != mark).then(|| slot.1.clone()).flatten()
    }
}

#[derive(Debug)]
struct Verifier {
    seen: ServedLeaf,
    inner: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<[u8; 32]>,
    schemes: Vec<SignatureScheme>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // Recorded before any verdict: a pin mismatch or an untrusted chain still says which
        // certificate the appliance serves.
        self.seen.record(end_entity.as_ref());
        if let Some(inner) = &self.inner {
            inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        }
        if let Some(pin) = &self.pin {
            let got = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
            if got.as_ref() != pin {
                return Err(rustls::Error::General(format!(
                    "certificate pin mismatch: server presented sha256 {}",
                    hex::encode(got.as_ref())
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// Builds the rustls client configuration for `opts`, and the slot its verifier records each
/// presented leaf certificate in.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<(rustls::ClientConfig, ServedLeaf)> {
    ensure_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = if opts.danger_accept_invalid_certs {
        None
    } else {
        let roots = Arc::new(roots(opts)?);
        Some(
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| Error::Tls {
                    reason: format!("cannot build certificate verifier: {e}"),
                })?,
        )
    };
    let seen = ServedLeaf::default();
    let verifier = Verifier {
        seen: seen.clone(),
        schemes: provider
            .signature_verification_algorithms
            .supported_schemes(),
        inner,
        pin: opts.pin_sha256,
        provider: provider.clone(),
    };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls {
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // The appliance closes every connection after one response; HTTP/1.1 is all it speaks here.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No session resumption: a resumed handshake shows no certificate, and every connection
    // should show (and have checked) the one the appliance serves now.
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok((cfg, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_served_leaf_that_is_not_x509_still_has_its_digest_and_no_expiry() {
        let cert = ServedCert::from_der(b"not a certificate");
        assert_eq!(
            cert.sha256,
            crate::support::hash::sha256_hex(b"not a certificate")
        );
        assert_eq!(cert.not_after, None);
    }
}
