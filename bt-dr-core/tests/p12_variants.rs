//! PKCS#12 bundles as different exporters write them, generated here at test time: a fresh PKI
//! from rcgen, `openssl pkcs12 -export` with each exporter's options, and hand-assembled files
//! for the variants the OpenSSL 3 CLI cannot write (PBES2 with the HMAC-SHA1 PRF, DEFAULT values
//! written out, the zero-length encoding of the empty password, algorithms bt-dr cannot read).
//!
//! Every valid bundle must open with its passphrase and name the right leaf, and must report
//! `WrongPassphrase` with any other; an unreadable variant is `Certificate` with its name.
//! Needs the `openssl` command (OpenSSL 3); CI and the dev machine have it.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use bt_dr_core::certificate::open_bundle;
use bt_dr_core::{
    BundleCheckOptions, BundleReport, ErrorKind, SecretString, Severity, check_certificate_bundle,
};
use der::{Decode, Encode};
use hmac::{KeyInit, Mac};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use time::macros::datetime;

const PASS: &str = "Exp0rt-pass";
const LEAF: &str = "support.example.com";

/// The PKI every bundle here carries: leaf + intermediate + root, and the leaf's key.
struct Pki {
    leaf_pem: String,
    key_pem: String,
    chain_pem: String,
    leaf_der: Vec<u8>,
    inter_der: Vec<u8>,
    root_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut rp = CertificateParams::new(Vec::<String>::new()).unwrap();
        rp.distinguished_name
            .push(DnType::CommonName, "Variants Root CA");
        rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root = rp.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(rp, &root_key);

        let inter_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ip = CertificateParams::new(Vec::<String>::new()).unwrap();
        ip.distinguished_name
            .push(DnType::CommonName, "Variants Intermediate CA");
        ip.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let inter = ip.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::new(ip, &inter_key);

        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut lp = CertificateParams::new(vec![
            LEAF.to_string(),
            "bt-a.example.com".to_string(),
            "bt-b.example.com".to_string(),
        ])
        .unwrap();
        lp.distinguished_name.push(DnType::CommonName, LEAF);
        let leaf = lp.signed_by(&leaf_key, &inter_issuer).unwrap();
        Pki {
            leaf_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
            chain_pem: format!("{}{}", inter.pem(), root.pem()),
            leaf_der: leaf.der().to_vec(),
            inter_der: inter.der().to_vec(),
            root_der: root.der().to_vec(),
            key_der: leaf_key.serialize_der(),
        }
    })
}

/// Runs `openssl` in `dir`; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .env("OPENSSL_CONF", "/dev/null")
        .output()
        .expect("the openssl command is needed to generate the test bundles");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl pkcs12 -export` of the PKI with `pass` and exporter options `extra`.
fn export(pass: &str, extra: &[&str]) -> Vec<u8> {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leaf.pem"), &p.leaf_pem).unwrap();
    std::fs::write(dir.path().join("leaf.key"), &p.key_pem).unwrap();
    std::fs::write(dir.path().join("chain.pem"), &p.chain_pem).unwrap();
    let passout = format!("pass:{pass}");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-certfile",
        "chain.pem",
        "-name",
        LEAF,
        "-passout",
        &passout,
        "-out",
        "out.p12",
    ];
    args.extend_from_slice(extra);
    openssl(dir.path(), &args);
    std::fs::read(dir.path().join("out.p12")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A small DER writer for the hand-assembled files (the crypto is openssl's and RustCrypto's).
// ---------------------------------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}
fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}
fn oid(dotted: &str) -> Vec<u8> {
    der::asn1::ObjectIdentifier::new_unwrap(dotted)
        .to_der()
        .unwrap()
}
fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}
fn int(v: u32) -> Vec<u8> {
    v.to_der().unwrap()
}
fn explicit0(b: &[u8]) -> Vec<u8> {
    tlv(0xa0, b)
}
const NULL: &[u8] = &[0x05, 0x00];

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const HMAC_SHA1: &str = "1.2.840.113549.2.7";
const HMAC_SHA256: &str = "1.2.840.113549.2.9";

/// How a hand-made PBES2 names its PRF.
#[derive(Clone, Copy)]
enum Prf {
    /// HMAC-SHA1 left out: the DEFAULT, as DER requires (OpenSSL `-v2prf hmacWithSHA1`).
    Sha1Implicit,
    /// HMAC-SHA1 written out although it is the DEFAULT (BER-leaning exporters).
    Sha1Explicit,
    /// HMAC-SHA256, written out (OpenSSL 3's default).
    Sha256,
}

/// PBES2 / PBKDF2 (2048 iterations) / AES-256-CBC of `plain` under `pass`, done by openssl.
/// Returns the AlgorithmIdentifier and the ciphertext.
fn pbes2(plain: &[u8], pass: &str, prf: Prf) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let salt: [u8; 8] = rand::random();
    let iv: [u8; 16] = rand::random();
    let digest = match prf {
        Prf::Sha256 => "digest:SHA256",
        _ => "digest:SHA1",
    };
    let key = openssl(
        dir.path(),
        &[
            "kdf",
            "-keylen",
            "32",
            "-kdfopt",
            digest,
            "-kdfopt",
            &format!("pass:{pass}"),
            "-kdfopt",
            &format!("hexsalt:{}", hex::encode(salt)),
            "-kdfopt",
            "iter:2048",
            "PBKDF2",
        ],
    );
    let key = String::from_utf8(key).unwrap().trim().replace(':', "");
    std::fs::write(dir.path().join("plain"), plain).unwrap();
    openssl(
        dir.path(),
        &[
            "enc",
            "-aes-256-cbc",
            "-K",
            &key,
            "-iv",
            &hex::encode(iv),
            "-in",
            "plain",
            "-out",
            "ct",
        ],
    );
    let ct = std::fs::read(dir.path().join("ct")).unwrap();
    let prf_alg = match prf {
        Prf::Sha1Implicit => Vec::new(),
        Prf::Sha1Explicit => seq(&[&oid(HMAC_SHA1), NULL]),
        Prf::Sha256 => seq(&[&oid(HMAC_SHA256), NULL]),
    };
    let kdf_params = seq(&[&octets(&salt), &int(2048), &prf_alg]);
    let kdf = seq(&[&oid("1.2.840.113549.1.5.12"), &kdf_params]);
    let enc = seq(&[&oid("2.16.840.1.101.3.4.1.42"), &octets(&iv)]);
    let alg = seq(&[&oid("1.2.840.113549.1.5.13"), &seq(&[&kdf, &enc])]);
    (alg, ct)
}

fn cert_bag(der: &[u8]) -> Vec<u8> {
    let inner = seq(&[&oid("1.2.840.113549.1.9.22.1"), &explicit0(&octets(der))]);
    seq(&[&oid("1.2.840.113549.1.12.10.1.3"), &explicit0(&inner)])
}
fn shrouded_key_bag(alg: &[u8], ct: &[u8]) -> Vec<u8> {
    let epki = seq(&[alg, &octets(ct)]);
    seq(&[&oid("1.2.840.113549.1.12.10.1.2"), &explicit0(&epki)])
}
fn safe_data(bags: &[Vec<u8>]) -> Vec<u8> {
    let contents = tlv(0x30, &bags.concat());
    seq(&[&oid(DATA), &explicit0(&octets(&contents))])
}
fn safe_encrypted(alg: &[u8], ct: &[u8]) -> Vec<u8> {
    let eci = seq(&[&oid(DATA), alg, &tlv(0x80, ct)]);
    let ed = seq(&[&int(0), &eci]);
    seq(&[&oid(ENCRYPTED_DATA), &explicit0(&ed)])
}
fn cert_safe_contents() -> Vec<u8> {
    let p = pki();
    let bags = [
        cert_bag(&p.leaf_der),
        cert_bag(&p.inter_der),
        cert_bag(&p.root_der),
    ];
    tlv(0x30, &bags.concat())
}

/// How the MAC of a hand-made PFX is keyed and written.
struct MacSpec<'a> {
    /// The password bytes fed to the PKCS#12 KDF (BMPString with NUL, or another encoding).
    password: &'a [u8],
    iterations: u32,
    /// Write `iterations` even when it is the DEFAULT (1).
    explicit_iterations: bool,
}

fn bmp(pass: &str) -> Vec<u8> {
    let mut v: Vec<u8> = pass.encode_utf16().flat_map(u16::to_be_bytes).collect();
    v.extend([0, 0]);
    v
}

/// A PFX v3 around `safes` with an HMAC-SHA256 MAC as `mac` says.
fn pfx(safes: &[Vec<u8>], mac: &MacSpec<'_>) -> Vec<u8> {
    let auth_safe = tlv(0x30, &safes.concat());
    let content_info = seq(&[&oid(DATA), &explicit0(&octets(&auth_safe))]);
    let mac_data = mac_data(&auth_safe, mac);
    seq(&[&int(3), &content_info, &mac_data])
}

fn mac_data(auth_safe: &[u8], mac: &MacSpec<'_>) -> Vec<u8> {
    let salt: [u8; 8] = rand::random();
    let key = pkcs12::kdf::derive_key::<sha2::Sha256>(
        mac.password,
        &salt,
        pkcs12::kdf::Pkcs12KeyType::Mac,
        mac.iterations as i32,
        32,
    );
    let mut h = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    h.update(auth_safe);
    let tag = h.finalize().into_bytes().to_vec();
    let digest_info = seq(&[&seq(&[&oid("2.16.840.1.101.3.4.2.1"), NULL]), &octets(&tag)]);
    let iters = if mac.iterations != 1 || mac.explicit_iterations {
        int(mac.iterations)
    } else {
        Vec::new()
    };
    seq(&[&digest_info, &octets(&salt), &iters])
}

/// `bytes` (an openssl export) with its MAC replaced by one made as `mac` says; the
/// authenticated safe is kept byte for byte.
fn remac(bytes: &[u8], mac: &MacSpec<'_>) -> Vec<u8> {
    let parsed = pkcs12::Pfx::from_der(bytes).unwrap();
    let auth_safe = parsed.auth_safe.content.value().to_vec();
    let content_info = parsed.auth_safe.to_der().unwrap();
    seq(&[&int(3), &content_info, &mac_data(&auth_safe, mac)])
}

/// Leaf cert + chain in a PBES2 encryptedData safe, the key in a PBES2 shrouded bag, both with
/// `prf`, HMAC-SHA256 MAC.
fn hand_pbes2(prf: Prf) -> Vec<u8> {
    let (calg, cct) = pbes2(&cert_safe_contents(), PASS, prf);
    let (kalg, kct) = pbes2(&pki().key_der, PASS, prf);
    let pw = bmp(PASS);
    pfx(
        &[
            safe_encrypted(&calg, &cct),
            safe_data(&[shrouded_key_bag(&kalg, &kct)]),
        ],
        &MacSpec {
            password: &pw,
            iterations: 2048,
            explicit_iterations: false,
        },
    )
}

// ---------------------------------------------------------------------------------------------

fn opts() -> BundleCheckOptions {
    BundleCheckOptions::for_site(LEAF)
        .with_appliances(["bt-a.example.com", "bt-b.example.com"])
        .at(datetime!(2026-11-21 00:00 UTC))
}

fn check(bytes: &[u8], pass: &str) -> bt_dr_core::Result<BundleReport> {
    check_certificate_bundle(bytes, &SecretString::from(pass), &opts())
}

fn ids(r: &BundleReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

/// Opens with `pass`, finds the right leaf with its key and the whole chain, reports exactly
/// `expect` (finding ids); a wrong passphrase is `WrongPassphrase`.
fn assert_valid(name: &str, bytes: &[u8], pass: &str, expect: &[&str]) {
    let r = check(bytes, pass).unwrap_or_else(|e| panic!("{name}: does not open: {e}"));
    let leaf = r.leaf_cert().unwrap_or_else(|| panic!("{name}: no leaf"));
    assert_eq!(leaf.issued_to, LEAF, "{name}");
    assert_eq!(leaf.der(), pki().leaf_der.as_slice(), "{name}");
    assert_eq!(r.key_matches_leaf, Some(true), "{name}");
    assert_eq!(r.chain.len(), 3, "{name}: {:?}", ids(&r));
    assert_eq!(ids(&r), expect, "{name}");
    for wrong in ["wrong-pass", "Exp0rt-pas", "exp0rt-pass"] {
        let e = check(bytes, wrong).expect_err(name);
        assert_eq!(
            e.kind(),
            ErrorKind::WrongPassphrase,
            "{name} with {wrong}: {e}"
        );
    }
}

#[test]
fn openssl_exports_in_every_exporter_style_open() {
    for (name, extra, expect) in [
        ("OpenSSL 3 default", &[][..], &[][..]),
        ("OpenSSL 1.1 style (-legacy)", &["-legacy"], &[]),
        ("-certpbe NONE", &["-certpbe", "NONE"], &[]),
        (
            "-keypbe AES-256-CBC -certpbe AES-128-CBC",
            &["-keypbe", "AES-256-CBC", "-certpbe", "AES-128-CBC"],
            &[],
        ),
        ("-macalg sha1", &["-macalg", "sha1"], &[]),
        (
            "-macalg sha512 -iter 20000",
            &["-macalg", "sha512", "-iter", "20000"],
            &[],
        ),
        (
            "Windows style 3DES",
            &[
                "-descert",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
            &[],
        ),
        (
            "PBES2 with des-ede3-cbc",
            &["-keypbe", "DES-EDE3-CBC", "-certpbe", "DES-EDE3-CBC"],
            &[],
        ),
        ("-nomaciter (MAC iterations = 1)", &["-nomaciter"], &[]),
        (
            "-keypbe NONE (key in the clear)",
            &["-keypbe", "NONE"],
            &["private_key_unencrypted"],
        ),
    ] {
        assert_valid(name, &export(PASS, extra), PASS, expect);
    }
}

#[test]
fn a_bundle_without_mac_opens_and_a_wrong_passphrase_still_fails() {
    // No MAC: only the decryption can tell a wrong passphrase.
    assert_valid("-nomac", &export(PASS, &["-nomac"]), PASS, &[]);
    assert_valid(
        "-nomac -legacy",
        &export(PASS, &["-nomac", "-legacy"]),
        PASS,
        &[],
    );
}

#[test]
fn pbes2_with_the_hmac_sha1_prf_opens() {
    assert_valid(
        "PBES2 HMAC-SHA1 PRF (implicit DEFAULT)",
        &hand_pbes2(Prf::Sha1Implicit),
        PASS,
        &[],
    );
    // The control: the same construction with OpenSSL 3's PRF.
    assert_valid("PBES2 HMAC-SHA256 PRF", &hand_pbes2(Prf::Sha256), PASS, &[]);
}

#[test]
fn der_with_default_values_written_out_opens() {
    // PBKDF2's prf = hmacWithSHA1 written out although it is the DEFAULT.
    assert_valid(
        "explicit DEFAULT PRF",
        &hand_pbes2(Prf::Sha1Explicit),
        PASS,
        &[],
    );
    // MacData.iterations = 1 written out although it is the DEFAULT.
    let pw = bmp(PASS);
    let explicit_one = remac(
        &export(PASS, &[]),
        &MacSpec {
            password: &pw,
            iterations: 1,
            explicit_iterations: true,
        },
    );
    // Make sure the surgery did write it: `02 01 01` closes the MacData.
    assert_eq!(&explicit_one[explicit_one.len() - 3..], &[0x02, 0x01, 0x01]);
    assert_valid("explicit DEFAULT MAC iterations", &explicit_one, PASS, &[]);
}

#[test]
fn no_password_bundles_open_with_either_empty_password_encoding() {
    for (name, base) in [
        ("OpenSSL 3 default", export("", &[])),
        ("-legacy", export("", &["-legacy"])),
        (
            "-keypbe NONE -certpbe NONE",
            export("", &["-keypbe", "NONE", "-certpbe", "NONE"]),
        ),
    ] {
        // As openssl writes it: the BMPString NUL (two zero bytes).
        let two_zero = base.clone();
        // The other encoding: zero bytes (pyca's no-password.p12, OpenSSL with a NULL password).
        let zero_length = remac(
            &base,
            &MacSpec {
                password: &[],
                iterations: 2048,
                explicit_iterations: false,
            },
        );
        for (enc, bytes) in [("two zero bytes", two_zero), ("zero length", zero_length)] {
            let r = check(&bytes, "").unwrap_or_else(|e| panic!("{name}, {enc}: {e}"));
            assert_eq!(r.leaf_cert().unwrap().issued_to, LEAF, "{name}, {enc}");
            assert_eq!(r.key_matches_leaf, Some(true), "{name}, {enc}");
            assert!(
                ids(&r).contains(&"no_passphrase"),
                "{name}, {enc}: {:?}",
                ids(&r)
            );
            assert!(
                !ids(&r).contains(&"private_key_unencrypted"),
                "no_passphrase already says it"
            );
            let opened = open_bundle(&bytes, &SecretString::from("")).unwrap();
            assert!(opened.empty_passphrase);
            // Given a passphrase, the answer is "wrong", and it says the file has none.
            let e = check(&bytes, PASS).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WrongPassphrase, "{name}, {enc}");
            assert!(
                e.to_string().contains("no passphrase"),
                "{name}, {enc}: {e}"
            );
        }
    }
}

/// Legacy PKCS#12 PBE (RFC 7292 appendix C) with SHA-1 under `password` bytes as given:
/// 3DES (`rc2_40 = false`) or RC2-40. Returns the AlgorithmIdentifier and the ciphertext.
fn legacy_pbe(plain: &[u8], password: &[u8], rc2_40: bool) -> (Vec<u8>, Vec<u8>) {
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    use pkcs12::kdf::{Pkcs12KeyType, derive_key};
    let salt: [u8; 8] = rand::random();
    let (oid_s, len) = if rc2_40 {
        ("1.2.840.113549.1.12.1.6", 5)
    } else {
        ("1.2.840.113549.1.12.1.3", 24)
    };
    let key = derive_key::<sha1::Sha1>(password, &salt, Pkcs12KeyType::EncryptionKey, 2048, len);
    let iv = derive_key::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Iv, 2048, 8);
    let ct = if rc2_40 {
        cbc::Encryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
            .unwrap()
            .encrypt_padded_vec::<Pkcs7>(plain)
    } else {
        cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .unwrap()
            .encrypt_padded_vec::<Pkcs7>(plain)
    };
    let alg = seq(&[&oid(oid_s), &seq(&[&octets(&salt), &int(2048)])]);
    (alg, ct)
}

#[test]
fn a_no_password_bundle_written_entirely_with_zero_bytes_opens() {
    // OpenSSL 1.1 defaults (RC2-40 certificates, 3DES key) from an exporter that treats "no
    // password" as zero bytes everywhere - MAC and encryption - as OpenSSL's library does
    // with a NULL password. The openssl CLI cannot write one, so it is assembled here.
    let (calg, cct) = legacy_pbe(&cert_safe_contents(), &[], true);
    let (kalg, kct) = legacy_pbe(&pki().key_der, &[], false);
    let bytes = pfx(
        &[
            safe_encrypted(&calg, &cct),
            safe_data(&[shrouded_key_bag(&kalg, &kct)]),
        ],
        &MacSpec {
            password: &[],
            iterations: 2048,
            explicit_iterations: false,
        },
    );
    let r = check(&bytes, "").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.leaf_cert().unwrap().issued_to, LEAF);
    assert_eq!(r.key_matches_leaf, Some(true));
    assert_eq!(r.chain.len(), 3);
    assert_eq!(ids(&r), ["no_passphrase"]);
    // The key was shrouded: no "unencrypted key" finding from the way it was opened.
    assert_eq!(
        open_bundle(&bytes, &SecretString::from(""))
            .unwrap()
            .unencrypted_key_bags,
        0
    );
    let e = check(&bytes, PASS).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassphrase);

    // The control: the same assembly under the standard encoding of a real passphrase.
    let pw = bmp(PASS);
    let (calg, cct) = legacy_pbe(&cert_safe_contents(), &pw, true);
    let (kalg, kct) = legacy_pbe(&pki().key_der, &pw, false);
    let bytes = pfx(
        &[
            safe_encrypted(&calg, &cct),
            safe_data(&[shrouded_key_bag(&kalg, &kct)]),
        ],
        &MacSpec {
            password: &pw,
            iterations: 2048,
            explicit_iterations: false,
        },
    );
    assert_valid("hand-made legacy PBE", &bytes, PASS, &[]);
}

/// `bytes` (an openssl export) with its MAC replaced by PBMAC1 (RFC 9579) as OpenSSL 3.4+
/// `-pbmac1_pbkdf2` writes it: PBKDF2-HMAC-SHA256 of the UTF-8 password, 32-byte key,
/// HMAC-SHA256. `kdf_oid` replaces PBKDF2's OID to make an unsupported variant.
fn with_pbmac1(bytes: &[u8], password: &str, kdf_oid: &str) -> Vec<u8> {
    let parsed = pkcs12::Pfx::from_der(bytes).unwrap();
    let auth_safe = parsed.auth_safe.content.value().to_vec();
    let salt: [u8; 16] = rand::random();
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, 2048, &mut key);
    let mut h = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    h.update(&auth_safe);
    let tag = h.finalize().into_bytes().to_vec();
    let kdf_params = seq(&[
        &octets(&salt),
        &int(2048),
        &int(32),
        &seq(&[&oid(HMAC_SHA256), NULL]),
    ]);
    let params = seq(&[
        &seq(&[&oid(kdf_oid), &kdf_params]),
        &seq(&[&oid(HMAC_SHA256), NULL]),
    ]);
    let digest_info = seq(&[
        &seq(&[&oid("1.2.840.113549.1.5.14"), &params]),
        &octets(&tag),
    ]);
    // macSalt and iterations are present but unused with PBMAC1.
    let mac_data = seq(&[&digest_info, &octets(&salt), &int(2048)]);
    seq(&[&int(3), &parsed.auth_safe.to_der().unwrap(), &mac_data])
}

#[test]
fn a_pbmac1_bundle_opens() {
    let pbkdf2 = "1.2.840.113549.1.5.12";
    let bytes = with_pbmac1(&export(PASS, &[]), PASS, pbkdf2);
    assert_valid("PBMAC1 (OpenSSL 3.4+ -pbmac1_pbkdf2)", &bytes, PASS, &[]);
    let bytes = with_pbmac1(&export("", &[]), "", pbkdf2);
    let r = check(&bytes, "").unwrap();
    assert_eq!(ids(&r), ["no_passphrase"]);
    // PBMAC1 over a KDF other than PBKDF2 (here scrypt's OID) is named, not "wrong".
    let bytes = with_pbmac1(&export(PASS, &[]), PASS, "1.3.6.1.4.1.11591.4.11");
    let e = check(&bytes, PASS).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e}");
    assert!(e.to_string().contains("PBMAC1 with scrypt"), "{e}");
}

#[test]
fn an_unencrypted_key_bag_in_a_protected_file_is_an_error_finding() {
    let r = check(&export(PASS, &["-keypbe", "NONE"]), PASS).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "private_key_unencrypted")
        .unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(!r.is_usable());
    assert!(f.remediation.is_some());
    // Only the certificates in the clear: no finding.
    let r = check(&export(PASS, &["-certpbe", "NONE"]), PASS).unwrap();
    assert!(r.findings.is_empty(), "{:?}", ids(&r));
    let b = open_bundle(
        &export(PASS, &["-keypbe", "NONE"]),
        &SecretString::from(PASS),
    )
    .unwrap();
    assert_eq!(b.unencrypted_key_bags, 1);
    let b = open_bundle(&export(PASS, &[]), &SecretString::from(PASS)).unwrap();
    assert_eq!(b.unencrypted_key_bags, 0);
}

#[test]
fn unsupported_variants_are_certificate_errors_that_name_the_algorithm() {
    for (keypbe, certpbe, named) in [
        ("PBE-SHA1-RC4-128", "NONE", "pbeWithSHAAnd128BitRC4"),
        ("PBE-SHA1-2DES", "NONE", "pbeWithSHAAnd2-KeyTripleDES-CBC"),
        ("NONE", "PBE-SHA1-RC2-128", "pbeWithSHAAnd128BitRC2-CBC"),
    ] {
        let bytes = export(PASS, &["-legacy", "-keypbe", keypbe, "-certpbe", certpbe]);
        let e = check(&bytes, PASS).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Certificate, "{named}: {e}");
        assert!(e.to_string().contains(named), "{e}");
        assert!(e.to_string().contains("not supported"), "{e}");
        // The MAC is checked first: a wrong passphrase is still a wrong passphrase.
        let e = check(&bytes, "wrong-pass").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WrongPassphrase, "{named}: {e}");
    }
    // A PBES2 cipher nobody implements here (RC5), in a hand-made file with a valid MAC.
    let kdf_params = seq(&[
        &octets(&[7; 8]),
        &int(2048),
        &seq(&[&oid(HMAC_SHA256), NULL]),
    ]);
    let kdf = seq(&[&oid("1.2.840.113549.1.5.12"), &kdf_params]);
    let rc5 = seq(&[&oid("1.2.840.113549.3.9"), &octets(&[0; 16])]);
    let alg = seq(&[&oid("1.2.840.113549.1.5.13"), &seq(&[&kdf, &rc5])]);
    let ct = [0x5a; 64];
    let pw = bmp(PASS);
    let bytes = pfx(
        &[safe_encrypted(&alg, &ct)],
        &MacSpec {
            password: &pw,
            iterations: 2048,
            explicit_iterations: false,
        },
    );
    let e = check(&bytes, PASS).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e}");
    assert!(e.to_string().contains("rc5-cbc"), "{e}");
}

#[test]
fn debug_of_an_opened_bundle_never_shows_the_key() {
    let key = &pki().key_der;
    // The private scalar of the EC key: `02 01 01 04 20` + 32 bytes in the RFC 5915 structure.
    // (The rest of the PKCS#8 - OIDs, the public point - is public and also in the certificate.)
    let at = key
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20])
        .expect("an RFC 5915 EC key")
        + 5;
    let scalar = &key[at..at + 32];
    for bytes in [export(PASS, &[]), export(PASS, &["-keypbe", "NONE"])] {
        let b = open_bundle(&bytes, &SecretString::from(PASS)).unwrap();
        assert_eq!(b.key_count, 1);
        for shown in [format!("{b:?}"), format!("{b:#?}")] {
            assert!(shown.contains("REDACTED"), "{shown}");
            assert!(!shown.contains(PASS));
            let flat = shown.replace(['\n', ' '], "");
            let lower = shown.to_lowercase();
            for w in scalar.windows(6) {
                // Not as hex, not as the byte list `Vec<u8>`'s Debug prints.
                assert!(!lower.contains(&hex::encode(w)), "{shown}");
                let list = format!("{w:?}").replace(' ', "");
                assert!(!flat.contains(&list[1..list.len() - 1]), "{shown}");
            }
            // Not as the base64 of the PEM body.
            let pem_body: String = pki()
                .key_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect();
            for w in pem_body.as_bytes().chunks(16) {
                assert!(!flat.contains(std::str::from_utf8(w).unwrap()) || w.len() < 16);
            }
        }
        // A clone still carries the key (the check matches it to the leaf), and stays redacted.
        let copy = b.clone();
        assert_eq!(copy.key_count, 1);
        assert!(format!("{copy:?}").contains("REDACTED"));
    }
}

#[test]
fn damaged_bundles_are_errors_never_panics() {
    let good = hand_pbes2(Prf::Sha1Explicit);
    let pass = SecretString::from(PASS);
    for n in 0..good.len() {
        let e = open_bundle(&good[..n], &pass).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Certificate, "prefix {n}: {e}");
    }
    for _ in 0..200 {
        let mut b = good.clone();
        let i = rand::random_range(0..b.len());
        b[i] ^= 1 << rand::random_range(0..8);
        // Any outcome but a panic; a flipped bit never opens as something else silently.
        if let Ok(opened) = open_bundle(&b, &pass) {
            assert_eq!(opened.certs.len(), 3);
        }
    }
}
