//! Certificates: a private root CA and the leaf the appliances serve. Failover peers must
//! present identical certificates, so by default the pair shares one leaf; with
//! `SimConfig::distinct_certificates` each appliance gets its own (same CA, same names, another
//! key), as after a renewal imported on one appliance only.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use tokio_rustls::TlsAcceptor;

use crate::SimConfig;

/// One server certificate with its key.
#[derive(Clone)]
pub(crate) struct Leaf {
    pub der: CertificateDer<'static>,
    pub key: Vec<u8>,
    pub sha256_hex: String,
}

pub(crate) struct Certs {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    /// One per appliance index (0 and 1); the same leaf twice unless distinct certificates
    /// were asked for.
    pub leaves: [Leaf; 2],
}

impl Certs {
    /// The leaf appliance `index` serves: only the backup (index 1) can differ; traffic nodes
    /// carry the primary's.
    pub fn leaf(&self, index: usize) -> &Leaf {
        &self.leaves[usize::from(index == 1)]
    }
}

pub(crate) fn generate(cfg: &SimConfig) -> Result<Certs, rcgen::Error> {
    let now = OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bt-dr-sim Root CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "bt-dr-sim");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now - Duration::days(1);
    ca_params.not_after = now + Duration::days(3650);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut names: Vec<String> = Vec::new();
    for name in [
        "localhost",
        "127.0.0.1",
        cfg.site_hostname.as_str(),
        cfg.appliance_hostnames[0].as_str(),
        cfg.appliance_hostnames[1].as_str(),
    ] {
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    let make_leaf = || -> Result<Leaf, rcgen::Error> {
        let leaf_key = KeyPair::generate()?;
        let mut leaf_params = CertificateParams::new(names.clone())?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, cfg.site_hostname.as_str());
        leaf_params
            .distinguished_name
            .push(DnType::OrganizationName, "bt-dr-sim");
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.not_before = now - Duration::days(1);
        leaf_params.not_after = now + Duration::days(397);
        let der = leaf_params.signed_by(&leaf_key, &issuer)?.der().clone();
        Ok(Leaf {
            sha256_hex: hex::encode(Sha256::digest(der.as_ref())),
            der,
            key: leaf_key.serialize_der(),
        })
    };
    let first = make_leaf()?;
    let second = if cfg.distinct_certificates {
        make_leaf()?
    } else {
        first.clone()
    };
    Ok(Certs {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        leaves: [first, second],
    })
}

/// TLS acceptor for appliance `index`, presenting its leaf + CA, HTTP/1.1 only.
pub(crate) fn acceptor(certs: &Certs, index: usize) -> Result<TlsAcceptor, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let leaf = certs.leaf(index);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der.clone(), certs.ca_der.clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
