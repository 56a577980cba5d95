//! The certificate bundle check against bundles made by the openssl CLI (fixtures/p12) and
//! bundles generated here with rcgen.

use bt_dr_core::certificate::open_bundle;
use bt_dr_core::{
    BundleCheckOptions, BundleReport, CertClass, ErrorKind, SecretString, Severity,
    check_certificate_bundle, check_certificate_pair,
};
use time::macros::datetime;

const PASS: &str = "fixture-pass";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/p12/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn opts() -> BundleCheckOptions {
    BundleCheckOptions::for_site("support.example.com")
        .with_appliances(["bt-a.example.com", "bt-b.example.com"])
        .at(datetime!(2026-11-21 00:00 UTC))
}

fn check(name: &str) -> BundleReport {
    check_with(name, PASS, &opts())
}

fn check_with(name: &str, pass: &str, o: &BundleCheckOptions) -> BundleReport {
    check_certificate_bundle(&fixture(name), &SecretString::from(pass), o)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ids(r: &BundleReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn clean_bundles_in_every_encryption_and_key_type() {
    for name in [
        "default_chain.p12",
        "legacy_chain.p12",
        "shuffled_chain.p12",
        "ec_p256.p12",
        "ec_p384.p12",
        "rsa4096.p12",
        "wildcard.p12",
    ] {
        let r = check(name);
        assert!(r.findings.is_empty(), "{name}: {:?}", r.findings);
        assert_eq!(r.key_matches_leaf, Some(true), "{name}");
        assert_eq!(r.chain.len(), 3, "{name}");
        let classes: Vec<CertClass> = r.chain.iter().map(|i| r.certificates[*i].class).collect();
        assert_eq!(
            classes,
            [
                CertClass::CaSigned,
                CertClass::Intermediate,
                CertClass::Root
            ],
            "{name}"
        );
    }
}

#[test]
fn shuffled_chain_finds_the_leaf_by_its_key() {
    let r = check("shuffled_chain.p12");
    let leaf = r.leaf_cert().unwrap();
    assert_eq!(leaf.issued_to, "support.example.com");
    assert_ne!(r.leaf, Some(0), "the stored order starts with the root");
}

#[test]
fn each_problem_fixture_reports_its_finding() {
    for (name, id, sev) in [
        (
            "missing_intermediate.p12",
            "missing_intermediate",
            Severity::Error,
        ),
        ("two_roots.p12", "multiple_roots", Severity::Error),
        ("expired.p12", "expired", Severity::Critical),
        ("mismatched_key.p12", "key_mismatch", Severity::Error),
        ("self_signed.p12", "self_signed_in_use", Severity::Warning),
        ("weak_rsa1024.p12", "weak_key", Severity::Error),
        ("no_key.p12", "no_private_key", Severity::Error),
        ("wrong_host.p12", "site_fqdn_not_covered", Severity::Error),
        ("wrong_host.p12", "hostname_not_covered", Severity::Warning),
    ] {
        let r = check(name);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{name}: no {id} in {:?}", ids(&r)));
        assert_eq!(f.severity, sev, "{name}");
        assert!(!f.message.is_empty());
    }
}

#[test]
fn problem_fixtures_report_nothing_else_spurious() {
    assert_eq!(
        ids(&check("missing_intermediate.p12")),
        ["missing_intermediate"]
    );
    assert_eq!(ids(&check("expired.p12")), ["expired"]);
    assert_eq!(ids(&check("weak_rsa1024.p12")), ["weak_key"]);
    assert_eq!(ids(&check("self_signed.p12")), ["self_signed_in_use"]);
    let r = check("self_signed.p12");
    assert_eq!(r.leaf_cert().unwrap().class, CertClass::SelfSigned);
}

#[test]
fn no_passphrase_is_a_finding_not_an_error() {
    let r = check_with("no_passphrase.p12", "", &opts());
    assert!(ids(&r).contains(&"no_passphrase"), "{:?}", ids(&r));
}

#[test]
fn wrong_passphrase_and_corrupt_files_are_distinct_errors() {
    let e = check_certificate_bundle(
        &fixture("default_chain.p12"),
        &SecretString::from("nope"),
        &opts(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassphrase);
    let e = check_certificate_bundle(
        &fixture("legacy_chain.p12"),
        &SecretString::from("nope"),
        &opts(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassphrase);
    for bad in ["not_a_p12.p12", "truncated.p12"] {
        let e = check_certificate_bundle(&fixture(bad), &SecretString::from(PASS), &opts())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Certificate, "{bad}: {e}");
    }
    let e = check_certificate_bundle(b"", &SecretString::from(PASS), &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Certificate);
}

#[test]
fn passphrase_never_appears_in_errors_or_reports() {
    let secret = "Sup3r-Secret-Passphrase!";
    let e = check_certificate_bundle(
        &fixture("default_chain.p12"),
        &SecretString::from(secret),
        &opts(),
    )
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains(secret));
    let s = SecretString::from(secret);
    assert!(!format!("{s:?}").contains(secret));
}

#[test]
fn expiry_horizon_is_configurable() {
    // Leaves in the fixtures end on 2044-01-01.
    let near = opts().at(datetime!(2043-12-15 00:00 UTC));
    let r = check_with("default_chain.p12", PASS, &near);
    assert_eq!(ids(&r), ["expiring_soon"]);
    let mut short = near.clone();
    short.expiry_horizon_days = 7;
    assert!(
        check_with("default_chain.p12", PASS, &short)
            .findings
            .is_empty()
    );
    let before = opts().at(datetime!(2024-06-01 00:00 UTC));
    assert!(ids(&check_with("default_chain.p12", PASS, &before)).contains(&"not_yet_valid"));
}

#[test]
fn bundle_opens_every_certificate_even_off_chain() {
    let b = open_bundle(&fixture("two_roots.p12"), &SecretString::from(PASS)).unwrap();
    assert_eq!(b.certs.len(), 4);
    let b = open_bundle(&fixture("no_key.p12"), &SecretString::from(PASS)).unwrap();
    assert_eq!(b.certs.len(), 3);
    assert_eq!(b.key_count, 0);
}

#[test]
fn more_than_one_root_is_an_error_even_with_a_complete_chain() {
    // "Every CA-signed certificate must have exactly one root certificate."
    let r = check("two_roots.p12");
    assert_eq!(r.chain.len(), 3, "the chain itself is complete");
    assert_eq!(ids(&r), ["multiple_roots"]);
    assert_eq!(r.worst(), Some(Severity::Error));
    assert!(!r.is_usable());
    assert!(r.findings[0].message.contains("Other Root CA"));
    // One root is fine.
    assert!(check("default_chain.p12").is_usable());
}

#[test]
fn opened_bundle_debug_redacts_the_private_key() {
    let bytes = fixture("default_chain.p12");
    let b = open_bundle(&bytes, &SecretString::from(PASS)).unwrap();
    let shown = format!("{b:?} {b:#?}");
    assert!(shown.contains("REDACTED"), "{shown}");
    assert!(!shown.contains(PASS));
    // The key as p12-keystore reads it: RSA PKCS#8, whose tail (d, p, q, dp, dq, qinv) is
    // private. None of it may appear, as hex or as a Debug byte list.
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&bytes, PASS).unwrap();
    let key = archive.keys[0].key.as_der();
    let private_tail = &key[key.len() - 256..];
    let lower = shown.to_lowercase();
    let flat = shown.replace(['\n', ' '], "");
    for w in private_tail.windows(8) {
        assert!(!lower.contains(&hex::encode(w)));
        let list = format!("{w:?}").replace(' ', "");
        assert!(!flat.contains(&list[1..list.len() - 1]));
    }
}

#[test]
fn pair_check_compares_leaves() {
    let a = check("default_chain.p12");
    let b = check("legacy_chain.p12");
    let same = check_certificate_pair(&a, &b);
    assert!(
        same.identical && same.findings.is_empty(),
        "{:?}",
        same.findings
    );
    let other = check("rsa4096.p12");
    let diff = check_certificate_pair(&a, &other);
    assert!(!diff.identical);
    assert_eq!(diff.findings[0].id, "pair_certificate_mismatch");
}

/// Generated chains: ECDSA-signed intermediates and a leaf the site name is missing from.
mod generated {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    fn p12(chain_der: &[Vec<u8>], key_der: &[u8]) -> Vec<u8> {
        // Built with p12-keystore's writer so the test needs no openssl.
        let key = p12_keystore::PrivateKey::from_der(key_der).unwrap();
        let certs: Vec<_> = chain_der
            .iter()
            .map(|d| p12_keystore::Certificate::from_der(d).unwrap())
            .collect();
        let mut ks = p12_keystore::KeyStore::new();
        ks.add_entry(
            "leaf",
            p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
                b"id".as_slice(),
                key,
                certs,
            )),
        );
        ks.writer("pw").write().unwrap()
    }

    #[test]
    fn ecdsa_chain_verifies_and_names_are_checked() {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut rp = CertificateParams::new(Vec::<String>::new()).unwrap();
        rp.distinguished_name.push(DnType::CommonName, "Gen Root");
        rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root = rp.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(rp, &root_key);
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut lp = CertificateParams::new(vec!["bt-a.example.com".to_string()]).unwrap();
        lp.distinguished_name
            .push(DnType::CommonName, "bt-a.example.com");
        let leaf = lp.signed_by(&leaf_key, &root_issuer).unwrap();
        let bytes = p12(
            &[leaf.der().to_vec(), root.der().to_vec()],
            &leaf_key.serialize_der(),
        );
        let r = check_certificate_bundle(
            &bytes,
            &SecretString::from("pw"),
            &BundleCheckOptions::for_site("support.example.com")
                .with_appliances(["bt-a.example.com"]),
        )
        .unwrap();
        assert_eq!(r.chain.len(), 2, "{:?}", r.findings);
        assert_eq!(r.key_matches_leaf, Some(true));
        assert_eq!(ids(&r), ["site_fqdn_not_covered"]);
    }
}
