//! Entry points for the cargo-fuzz targets in `fuzz/` and for the regression replay test
//! (`tests/fuzz_regressions.rs`). One function per target family: each feeds arbitrary bytes to
//! the real parsers and **asserts invariants** (not only "no panic"), so a broken invariant is a
//! crash that libFuzzer records and the replay test keeps failing until it is fixed.
//!
//! Not a public API: hidden from the docs, may change at any time.
//!
//! Some parsers live in crate-private modules of [`crate::api`] (`xml`, `download`,
//! `transport`); this module reaches them, so the stable replay test exercises them too.

use std::path::{Component, Path, PathBuf};

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::api::{Health, sanitize_file_name};
use crate::model::inventory::Inventory;
use crate::model::version::{ProductVersion, VersionPattern};
use crate::rules::backup::{BackupName, UpgradeTable};
use crate::rules::certificate::{BundleCheckOptions, BundleReport, CertClass, CertInfo};
use crate::rules::records::{ApplianceRecord, VaultKeyRecord};
use crate::support::document::{Format, parse_document};
use crate::support::error::ErrorKind;

/// Inputs above this size are cut: the parsers are line/element oriented, and bigger inputs only
/// slow the fuzzer down.
pub const MAX_INPUT: usize = 64 * 1024;

/// The p12 family takes at most this many bytes (the KDFs make each run slow).
pub const MAX_P12_INPUT: usize = 8 * 1024;

/// A p12 whose MAC or PBE iteration count is above this is skipped (seeds use 1 or 2048).
pub const MAX_P12_ITERATIONS: u64 = 2048;

/// Sanitised file names never exceed this many bytes (`download.rs` rule today: 200).
pub const MAX_FILE_NAME: usize = 200;

/// A `Retry-After` (or any server-given wait) is never above this once parsed.
pub const MAX_SERVER_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The passphrase of every p12 seed (same as `tests/fixtures/p12`).
pub const P12_PASSPHRASE: &str = "fixture-pass";

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&data[..data.len().min(MAX_INPUT)])
}

fn assert_kind(family: &str, e: &crate::support::error::Error, allowed: &[ErrorKind]) {
    assert!(
        allowed.contains(&e.kind()),
        "{family}: untyped error kind {:?}: {e}",
        e.kind()
    );
}

// ---------------------------------------------------------------------------------------------
// Command / Reporting XML
// ---------------------------------------------------------------------------------------------

/// Command and Reporting API XML: `check_health` (public) and
/// `error_message`, `root_name`, api info, appliances, connected clients, role change, session
/// lists and archive listings. No panic; errors are `Parse` or `Api` (or `InvalidInput` for a
/// bad enum value); a parsed health's fields are trimmed and its version round-trips.
pub fn xml(data: &[u8]) {
    let s = text(data);
    let allowed = [ErrorKind::Parse, ErrorKind::Api, ErrorKind::InvalidInput];
    match Health::from_xml(&s) {
        Ok(h) => {
            assert_eq!(h.hostname.trim(), h.hostname, "health hostname not trimmed");
            assert!(
                h.error_message.as_deref().is_none_or(|m| !m.is_empty()),
                "empty error_message kept"
            );
            let back: ProductVersion = h.version.to_string().parse().unwrap_or_else(|e| {
                panic!("health version `{}` does not re-parse: {e}", h.version)
            });
            assert_eq!(back, h.version);
            assert_eq!(back.build(), h.version.build());
            let _ = serde_json::to_string(&h).expect("Health serializes");
        }
        Err(e) => assert_kind("check_health", &e, &allowed),
    }
    xml_internal(&s, &allowed);
}

fn xml_internal(s: &str, allowed: &[ErrorKind]) {
    use crate::api::xml;
    if let Some(m) = xml::error_message(s) {
        assert_eq!(m.trim(), m, "error message not trimmed");
    }
    if let Err(e) = xml::root_name(s) {
        assert_kind("root_name", &e, allowed);
    }
    match xml::parse_api_info(s) {
        Ok(a) => assert_eq!(a.api_version.trim(), a.api_version),
        Err(e) => assert_kind("api_info", &e, allowed),
    }
    match xml::parse_appliances(s) {
        Ok(v) => assert!(v.iter().all(|a| a.name.trim() == a.name)),
        Err(e) => assert_kind("appliances", &e, allowed),
    }
    if let Err(e) = xml::parse_connected_clients(s) {
        assert_kind("connected_clients", &e, allowed);
    }
    match xml::parse_role_change(s) {
        Ok(r) => assert_eq!(r.message.trim(), r.message),
        Err(e) => assert_kind("role_change", &e, allowed),
    }
    match xml::parse_sessions(s) {
        Ok(v) => {
            for x in &v {
                assert_eq!(x.lsid.trim(), x.lsid);
                assert!(x.recording_url.as_deref().is_none_or(|u| !u.is_empty()));
            }
            let _ = serde_json::to_string(&v).expect("sessions serialize");
        }
        Err(e) => assert_kind("sessions", &e, allowed),
    }
    match xml::parse_archives(s) {
        Ok(v) => {
            let _ = serde_json::to_string(&v).expect("archives serialize");
        }
        Err(e) => assert_kind("archives", &e, allowed),
    }
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

/// `Retry-After`, `X-RateLimit-Remaining`, `Content-Length` and `Content-Type` as an appliance
/// (or a proxy) may send them. Byte 0: bits 0–1 pick the status (429, 503, 403, 200); with
/// bit 2 clear the rest is a header value, with bit 2 set the rest is `<content type>\n<body>`
/// (bit 3: the body is complete). No panic; a parsed wait is at most [`MAX_SERVER_WAIT`]; a body
/// that starts (after a UTF-8 BOM and whitespace) with `{`, `[` or `<` is never taken for a file;
/// error text made from a body is bounded.
///
/// The parsers are in `api::transport` and `api::download`.
pub fn headers(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let status = [429u16, 503, 403, 200][usize::from(sel & 3)];
    if sel & 4 != 0 {
        let rest = &rest[..rest.len().min(4096)];
        let (ct, body) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&rest[..0], rest),
        };
        let ct = String::from_utf8_lossy(ct);
        body_checks(status, &ct, body, sel & 8 != 0);
        return;
    }
    let value = &rest[..rest.len().min(1024)];
    let Ok(hv) = http::HeaderValue::from_bytes(value) else {
        return;
    };
    let mut resp = http::Response::new(Vec::<u8>::new());
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    for name in ["retry-after", "x-ratelimit-remaining"] {
        resp.headers_mut().insert(name, hv.clone());
    }
    if let Ok(n) = hv.to_str().unwrap_or("").trim().parse::<u64>() {
        // A Content-Length-like number: never trusted beyond what arrives.
        resp.headers_mut()
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
    }
    let resp = reqwest::Response::from(resp);
    {
        use crate::api::transport;
        let wait = transport::retry_after(&resp);
        if let Some(wait) = wait {
            assert!(
                wait <= MAX_SERVER_WAIT,
                "Retry-After {:?} gave {wait:?} (> {MAX_SERVER_WAIT:?})",
                String::from_utf8_lossy(value)
            );
        }
        if let Ok(v) = hv.to_str() {
            assert_eq!(transport::parse_retry_after(v), wait, "Retry-After {v:?}");
        }
        let text = String::from_utf8_lossy(value);
        if let Some(w) = transport::parse_retry_after(&text) {
            assert!(w <= MAX_SERVER_WAIT, "Retry-After {text:?} gave {w:?}");
        }
        let _ = transport::rate_limit_exhausted(&resp);
    }
    let _ = resp.content_length();
}

/// Bodies and content types of answers that may or may not be the file asked for.
fn body_checks(status: u16, ct: &str, body: &[u8], complete: bool) {
    use crate::api::{download, transport};
    let kind = download::sniff(body, ct, complete);
    let start = transport::strip_utf8_bom(body);
    let first = start.iter().find(|b| !b" \t\r\n\x0c".contains(b));
    // A body labelled binary is judged by its first bytes only when it reads as text.
    if first.is_some_and(|b| b"{[<".contains(b))
        && (!download::labelled_binary(ct) || download::looks_like_text(body))
    {
        assert!(
            !matches!(kind, download::Sniff::Data),
            "a body starting with {:?} was taken for a file",
            first.map(|b| char::from(*b))
        );
    }
    let bound = 2 * transport::MAX_MESSAGE_CHARS + 100;
    let d = transport::describe_body(Some(status), ct, body);
    assert!(
        d.chars().count() <= bound,
        "describe_body is {} chars",
        d.chars().count()
    );
    if let Some(m) = transport::json_error_message(body) {
        assert!(
            m.chars().count() <= bound,
            "json_error_message is {} chars",
            m.chars().count()
        );
    }
    let r = transport::redact(&String::from_utf8_lossy(body));
    assert!(
        r.chars().count() <= transport::MAX_MESSAGE_CHARS + 1,
        "redact is {} chars",
        r.chars().count()
    );
}

// ---------------------------------------------------------------------------------------------
// Content-Disposition + file names
// ---------------------------------------------------------------------------------------------

/// Names the set or the store writes themselves, and the set's folder names: an appliance-chosen
/// name may never be one (compared after Unicode lowercasing, as `rules/backup/file_names.rs` does).
pub const RESERVED_NAMES: [&str; 8] = [
    "manifest.json",
    "checkpoint.json",
    "vault-key.json",
    "recordings",
    "certificates",
    "appliance",
    "vault",
    "sets",
];

/// Whether bt-dr writes a file or folder of that name itself (see [`RESERVED_NAMES`]; also every
/// `*.bt-dr.json` sidecar).
pub fn is_reserved_name(name: &str) -> bool {
    let l = name.to_lowercase();
    RESERVED_NAMES.contains(&l.as_str()) || l.ends_with(crate::api::SIDECAR_SUFFIX)
}

/// Checks the sanitising invariants (the rule documented on `sanitize_file_name`) on one name it
/// accepted: a single path component, never empty, `.` or `..`, never hidden or option-like, no
/// control, bidi-override or zero-width character nor any of `<>:"|?*`, not ending in a dot or
/// space, at most [`MAX_FILE_NAME`] bytes, not a name bt-dr writes nor a Windows device name, and
/// stable (sanitising it again gives it back).
pub fn assert_safe_name(proposed: &str, safe: &str) {
    let ctx = || format!("sanitize_file_name({proposed:?}) = {safe:?}");
    assert!(!safe.is_empty(), "{}: empty", ctx());
    assert!(
        !safe.contains(['/', '\\', '\0']),
        "{}: more than one path component",
        ctx()
    );
    assert!(safe != "." && safe != "..", "{}: dot name", ctx());
    assert!(
        !safe.starts_with(['.', '-']),
        "{}: hidden or option-like",
        ctx()
    );
    assert!(
        !safe.ends_with(['.', ' ']),
        "{}: trailing dot or space",
        ctx()
    );
    assert!(
        !safe.chars().any(|c| c.is_control()
            || "<>:\"|?*".contains(c)
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')),
        "{}: control, deceptive or reserved character",
        ctx()
    );
    assert!(safe.len() <= MAX_FILE_NAME, "{}: too long", ctx());
    assert!(
        !is_reserved_name(safe),
        "{}: a name bt-dr writes itself",
        ctx()
    );
    assert!(
        !crate::rules::backup::is_windows_device(safe),
        "{}: a Windows device name",
        ctx()
    );
    let mut parts = Path::new(safe).components();
    assert!(
        matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none(),
        "{}: not one normal path component",
        ctx()
    );
    assert_eq!(
        sanitize_file_name(safe).as_deref(),
        Some(safe),
        "{}: not stable",
        ctx()
    );
}

/// `Content-Disposition` parsing and [`sanitize_file_name`]: the
/// input is taken both as a whole header and as a proposed name. Every accepted name is one
/// path component, not `.`/`..`, not hidden, no control character, at most [`MAX_FILE_NAME`]
/// bytes, and never a name the set or store writes ([`is_reserved_name`]).
pub fn file_name(data: &[u8]) {
    let s = text(data);
    if let Some(safe) = sanitize_file_name(&s) {
        assert_safe_name(&s, &safe);
    }
    if let Some(proposed) = crate::api::download::content_disposition_name(&s)
        && let Some(safe) = sanitize_file_name(&proposed)
    {
        assert_safe_name(&proposed, &safe);
    }
}

// ---------------------------------------------------------------------------------------------
// Backup names and versions
// ---------------------------------------------------------------------------------------------

/// [`BackupName`], [`ProductVersion`] and [`VersionPattern`] parsing: no panic, errors typed,
/// and parse → Display → parse gives the same value whenever the first parse succeeds.
pub fn names(data: &[u8]) {
    let s = text(&data[..data.len().min(4096)]);
    let allowed = [ErrorKind::Parse, ErrorKind::InvalidInput];
    match s.parse::<BackupName>() {
        Ok(n) => {
            let shown = n.to_string();
            let back: BackupName = shown
                .parse()
                .unwrap_or_else(|e| panic!("BackupName {s:?} shows as {shown:?}: {e}"));
            assert_eq!(back, n, "BackupName {s:?} → {shown:?} round trip");
            assert_eq!(back.to_string(), shown);
            // The constructor accepts every parsed name.
            let built = BackupName::new(n.version.clone(), &n.site, n.date, n.time, &n.id)
                .unwrap_or_else(|e| panic!("BackupName::new refuses parsed {s:?}: {e}"));
            assert_eq!(built, n);
        }
        Err(e) => assert_kind("BackupName", &e, &allowed),
    }
    match s.parse::<ProductVersion>() {
        Ok(v) => {
            let shown = v.to_string();
            let back: ProductVersion = shown
                .parse()
                .unwrap_or_else(|e| panic!("ProductVersion {s:?} shows as {shown:?}: {e}"));
            assert_eq!(back, v);
            assert_eq!(back.build(), v.build(), "build lost in {s:?} → {shown:?}");
            assert_eq!(back.to_string(), shown);
            let r: ProductVersion = v.release().parse().expect("release re-parses");
            assert_eq!(r, v);
        }
        Err(e) => assert_kind("ProductVersion", &e, &allowed),
    }
    match s.parse::<VersionPattern>() {
        Ok(p) => {
            let shown = p.to_string();
            let back: VersionPattern = shown
                .parse()
                .unwrap_or_else(|e| panic!("VersionPattern {s:?} shows as {shown:?}: {e}"));
            assert_eq!(back, p, "VersionPattern {s:?} → {shown:?}");
        }
        Err(e) => assert_kind("VersionPattern", &e, &allowed),
    }
}

// ---------------------------------------------------------------------------------------------
// Documents: inventory, records, upgrade table in TOML/JSON/YAML
// ---------------------------------------------------------------------------------------------

/// Inventory, appliance record, Vault key record and upgrade table documents. Byte 0 picks the
/// format (TOML, JSON, YAML) and the document type; the rest is the text. No panic, errors are
/// `Parse` or `InvalidInput`, and a document that loads is saved (JSON) and loads again the same.
pub fn documents(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let s = text(rest);
    let format = [Format::Toml, Format::Json, Format::Yaml][usize::from(sel % 3)];
    let allowed = [ErrorKind::Parse, ErrorKind::InvalidInput];
    match (sel / 3) % 4 {
        0 => match Inventory::parse(&s, format) {
            Ok(inv) => {
                let json = serde_json::to_string(&inv).expect("inventory serializes");
                let back = Inventory::from_json_str(&json)
                    .unwrap_or_else(|e| panic!("saved inventory does not load: {e}\n{json}"));
                assert_eq!(back, inv, "inventory JSON round trip");
            }
            Err(e) => assert_kind("inventory", &e, &allowed),
        },
        1 => match parse_document::<ApplianceRecord>(&s, format, "appliance record", None)
            .and_then(|r| r.validate().map(|()| r))
        {
            Ok(r) => {
                let name = r.file_name();
                assert!(
                    !name.contains(['/', '\\', '\0']) && !name.starts_with('.'),
                    "record file name {name:?} is not one safe component"
                );
                let json = serde_json::to_string(&r).expect("record serializes");
                let back = ApplianceRecord::from_json_str(&json)
                    .unwrap_or_else(|e| panic!("saved record does not load: {e}\n{json}"));
                assert_eq!(back, r, "record JSON round trip");
            }
            Err(e) => assert_kind("appliance record", &e, &allowed),
        },
        2 => match parse_document::<VaultKeyRecord>(&s, format, "vault key record", None) {
            Ok(r) => {
                let _ = r.findings();
                let json = serde_json::to_string(&r).expect("vault record serializes");
                let back: VaultKeyRecord = parse_document(&json, Format::Json, "vault", None)
                    .unwrap_or_else(|e| panic!("saved vault record does not load: {e}\n{json}"));
                assert_eq!(back, r, "vault record JSON round trip");
            }
            Err(e) => assert_kind("vault key record", &e, &allowed),
        },
        _ => match parse_document::<UpgradeTable>(&s, format, "upgrade table", None) {
            Ok(t) => {
                let json = serde_json::to_string(&t).expect("upgrade table serializes");
                let back = UpgradeTable::from_json_str(&json)
                    .unwrap_or_else(|e| panic!("saved upgrade table does not load: {e}\n{json}"));
                assert_eq!(back, t, "upgrade table JSON round trip");
            }
            Err(e) => assert_kind("upgrade table", &e, &allowed),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// p12 bundles
// ---------------------------------------------------------------------------------------------

/// Reads one DER TLV: (tag, header length, content length).
fn der_tlv(b: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *b.first()?;
    let l0 = *b.get(1)?;
    if l0 < 0x80 {
        return Some((tag, 2, usize::from(l0)));
    }
    let n = usize::from(l0 & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    Some((tag, 2 + n, len))
}

/// The largest `OCTET STRING, INTEGER` pair value in a DER tree (PBKDF2 params and `MacData`
/// have a salt followed by the iteration count), looking inside OCTET STRINGs too.
fn max_iterations(b: &[u8], depth: u32) -> u64 {
    if depth > 16 {
        return 0;
    }
    let mut max = 0;
    let mut pos = 0;
    let mut prev_octets = false;
    while pos < b.len() {
        let Some((tag, hl, len)) = der_tlv(&b[pos..]) else {
            break;
        };
        let Some(end) = pos.checked_add(hl).and_then(|x| x.checked_add(len)) else {
            break;
        };
        if end > b.len() {
            break;
        }
        let content = &b[pos + hl..end];
        if tag == 0x02 && prev_octets && (1..=8).contains(&content.len()) {
            let v = content.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x));
            max = max.max(v);
        }
        if tag & 0x20 != 0 || tag == 0x04 {
            max = max.max(max_iterations(content, depth + 1));
        }
        prev_octets = tag == 0x04;
        pos = end;
    }
    max
}

/// `check_certificate_bundle` with the fixture passphrase on at most [`MAX_P12_INPUT`] bytes
/// (inputs whose iteration counts exceed [`MAX_P12_ITERATIONS`] are skipped: they are slow, not
/// wrong). No panic; errors are `Certificate` or `WrongPassphrase`; a report is consistent and
/// pairs with itself.
pub fn p12(data: &[u8]) {
    if data.len() > MAX_P12_INPUT || max_iterations(data, 0) > MAX_P12_ITERATIONS {
        return;
    }
    let opts = BundleCheckOptions::for_site("support.example.com")
        .with_appliances(["bt-a.example.com", "bt-b.example.com"])
        .at(OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("fixed time"));
    let pw = SecretString::from(P12_PASSPHRASE);
    match crate::rules::certificate::check_certificate_bundle(data, &pw, &opts) {
        Ok(r) => {
            r.check_consistent("report").unwrap_or_else(|e| {
                panic!("check_certificate_bundle made an inconsistent report: {e}")
            });
            let _ = r.is_usable();
            let p = crate::rules::certificate::check_certificate_pair(&r, &r);
            assert_eq!(
                p.identical,
                r.leaf.is_some(),
                "a bundle must pair with itself"
            );
            let _ = serde_json::to_string(&r).expect("report serializes");
        }
        Err(e) => assert_kind(
            "p12",
            &e,
            &[ErrorKind::Certificate, ErrorKind::WrongPassphrase],
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Pair check on arbitrary reports
// ---------------------------------------------------------------------------------------------

/// A cursor over fuzz bytes; reads past the end give zeros.
#[derive(Debug)]
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn usize(&mut self) -> usize {
        // Mostly small (in or near range), sometimes huge.
        match self.u8() {
            b @ 0..=239 => usize::from(b % 8),
            b => usize::MAX - usize::from(b - 240),
        }
    }
    fn string(&mut self) -> String {
        let n = usize::from(self.u8() % 80).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(s).into_owned()
    }
    fn sha(&mut self) -> String {
        // Well-formed most of the time (so `identical` can be reached), arbitrary otherwise.
        match self.u8() % 4 {
            0 => self.string(),
            k => format!("{:02x}", k).repeat(32),
        }
    }
}

fn cert_from(b: &mut Bytes<'_>) -> CertInfo {
    let t = |x: u8| OffsetDateTime::from_unix_timestamp(i64::from(x) * 86_400 * 30).expect("small");
    let classes = [
        CertClass::SelfSigned,
        CertClass::CaSigned,
        CertClass::Intermediate,
        CertClass::Root,
        CertClass::Unclassified,
    ];
    static TEMPLATE: std::sync::OnceLock<CertInfo> = std::sync::OnceLock::new();
    let mut c = TEMPLATE
        .get_or_init(|| {
            serde_json::from_value(serde_json::json!({
                "subject": "", "issuer": "", "issued_to": "", "issued_by": "",
                "dns_names": [], "ip_addresses": [],
                "not_before": "1970-01-01T00:00:00Z", "not_after": "1970-01-01T00:00:00Z",
                "serial": "", "sha256": "", "is_ca": false, "key_algorithm": "rsa",
                "key_bits": 2048, "class": "root", "friendly_name": null
            }))
            .expect("CertInfo template")
        })
        .clone();
    c.issued_to = b.string();
    c.issued_by = b.string();
    c.subject = b.string();
    c.serial = b.string();
    c.sha256 = b.sha();
    c.dns_names = (0..b.u8() % 3).map(|_| b.string()).collect();
    c.not_before = t(b.u8());
    c.not_after = t(b.u8());
    c.is_ca = b.u8() & 1 == 1;
    c.class = classes[usize::from(b.u8()) % classes.len()];
    c
}

fn report_from(b: &mut Bytes<'_>) -> BundleReport {
    let n = usize::from(b.u8() % 5);
    let certificates = (0..n).map(|_| cert_from(b)).collect();
    let leaf = (b.u8() & 1 == 1).then(|| b.usize());
    let chain = (0..b.u8() % 4).map(|_| b.usize()).collect();
    static TEMPLATE: std::sync::OnceLock<BundleReport> = std::sync::OnceLock::new();
    let mut r = TEMPLATE
        .get_or_init(|| {
            serde_json::from_value(serde_json::json!({
                "certificates": [], "leaf": null, "chain": [], "has_private_key": false,
                "key_matches_leaf": null, "findings": []
            }))
            .expect("BundleReport template")
        })
        .clone();
    r.certificates = certificates;
    r.leaf = leaf;
    r.chain = chain;
    r.has_private_key = b.u8() & 1 == 1;
    r
}

/// `check_certificate_pair` (and `check_consistent`) on two reports built from the bytes, with
/// out-of-range indices, non-hex and multi-byte digests. No panic; `identical` holds exactly when
/// both leaves exist and have the same digest, and a mismatch is always reported.
pub fn pair(data: &[u8]) {
    let mut b = Bytes(&data[..data.len().min(4096)]);
    let a = report_from(&mut b);
    let c = report_from(&mut b);
    for (x, y) in [(&a, &c), (&c, &a), (&a, &a)] {
        let p = crate::rules::certificate::check_certificate_pair(x, y);
        let lx = x.leaf.and_then(|i| x.certificates.get(i));
        let ly = y.leaf.and_then(|i| y.certificates.get(i));
        // Identical only for two real SHA-256 digests that are equal (case and the colon
        // form aside): a made-up digest never makes two appliances look alike.
        let digest = |s: &str| {
            let h: String = s
                .trim()
                .chars()
                .filter(|c| *c != ':')
                .collect::<String>()
                .to_ascii_lowercase();
            (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
        };
        let expect = matches!((lx, ly), (Some(l), Some(r))
            if digest(&l.sha256).is_some() && digest(&l.sha256) == digest(&r.sha256));
        assert_eq!(p.identical, expect, "identical flag");
        if !p.identical {
            assert!(
                p.findings
                    .iter()
                    .any(|f| f.id == "pair_certificate_mismatch"),
                "a mismatch without a finding"
            );
        }
        let _ = serde_json::to_string(&p).expect("pair report serializes");
    }
    for r in [&a, &c] {
        let consistent = r.check_consistent("r").is_ok();
        let expect = r.leaf.is_none_or(|i| i < r.certificates.len())
            && r.chain.iter().all(|i| *i < r.certificates.len())
            && r.certificates
                .iter()
                .all(|c| c.sha256.len() == 64 && c.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(consistent, expect, "check_consistent");
    }
}

// ---------------------------------------------------------------------------------------------
// Manifest + verify on generated trees
// ---------------------------------------------------------------------------------------------

const SENTINEL: &[u8] = b"outside the set: must never be read by verify";

/// The fuzzing scratch folder of this process: `<tmp>/bt-dr-fuzz-<pid>/{set,outside}`.
fn scratch() -> &'static (PathBuf, PathBuf) {
    static DIRS: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    DIRS.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("bt-dr-fuzz-{}", std::process::id()));
        let outside = root.join("outside");
        std::fs::create_dir_all(outside.join("dir")).expect("scratch folder");
        std::fs::write(outside.join("secret.nsb"), SENTINEL).expect("sentinel");
        std::fs::write(outside.join("dir").join("secret.nsb"), SENTINEL).expect("sentinel");
        (root.join("set"), outside)
    })
}

/// Removes this process's scratch folder of the `verify` family (the replay test calls it).
pub fn cleanup_scratch() {
    if let Some(root) = scratch().0.parent() {
        let _ = std::fs::remove_dir_all(root);
    }
}

/// A path made of safe components only (so the tree is created inside the set).
fn tree_path(b: &mut Bytes<'_>) -> String {
    const NAMES: [&str; 8] = [
        "bomgar-24.1.2-s-20261120-ab.nsb",
        "manifest.json",
        "certificates",
        "records",
        "a.p12",
        "vault",
        "x.json",
        "d",
    ];
    let depth = 1 + usize::from(b.u8() % 3);
    (0..depth)
        .map(|_| NAMES[usize::from(b.u8()) % NAMES.len()])
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `rel` names a regular file under `set` reached without any symlink and without
/// leaving the set.
fn plain_file_inside(set: &Path, rel: &str) -> bool {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) || rel.contains('\\') {
        return false;
    }
    let mut cur = set.to_path_buf();
    for c in p.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    std::fs::symlink_metadata(&cur).is_ok_and(|m| m.is_file())
}

/// Builds a set folder from the bytes (files, folders, symlinks pointing outside the set), a
/// `manifest.json` listing its files with right or wrong sizes and digests and with hostile paths
/// (`..`, absolute, backslashes, symlinked parents), then runs [`crate::dr::verify::verify_backup_set`].
/// No panic; errors are typed; verify never reads a file outside the set: `files_checked`
/// counts at most the listed paths that are plain files inside the set, and `bytes_checked`
/// never includes the sentinel outside.
pub fn verify(data: &[u8]) {
    let (set, outside) = scratch();
    let _ = std::fs::remove_dir_all(set);
    std::fs::create_dir_all(set).expect("set folder");
    let mut b = Bytes(&data[..data.len().min(8192)]);
    let mode = b.u8();
    let mut entries: Vec<serde_json::Value> = Vec::new();
    let mut created: Vec<(String, Vec<u8>)> = Vec::new();
    for _ in 0..b.u8() % 6 {
        let kind = b.u8() % 8;
        let rel = tree_path(&mut b);
        let full = set.join(&rel);
        if let Some(parent) = full.parent() {
            // A parent that is a file already: skip this entry.
            if std::fs::create_dir_all(parent).is_err() {
                continue;
            }
        }
        if std::fs::symlink_metadata(&full).is_ok() {
            continue;
        }
        let ok = match kind {
            0 => std::os::unix::fs::symlink(outside.join("secret.nsb"), &full).is_ok(),
            1 => std::os::unix::fs::symlink(outside.join("dir"), &full).is_ok(),
            2 => std::os::unix::fs::symlink("../outside/secret.nsb", &full).is_ok(),
            3 => std::fs::create_dir(&full).is_ok(),
            _ => {
                let content = b.string().into_bytes();
                let ok = std::fs::write(&full, &content).is_ok();
                if ok {
                    created.push((rel.clone(), content));
                }
                ok
            }
        };
        if ok {
            entries.push(
                serde_json::json!({"path": rel, "kind": "nsb", "size": SENTINEL.len(),
                "sha256": crate::support::hash::sha256_hex(SENTINEL)}),
            );
        }
    }
    for (rel, content) in &created {
        let (size, sha) = match b.u8() % 4 {
            0 => (
                content.len() as u64 + 1,
                crate::support::hash::sha256_hex(content),
            ),
            1 => (
                content.len() as u64,
                crate::support::hash::sha256_hex(b"other"),
            ),
            _ => (
                content.len() as u64,
                crate::support::hash::sha256_hex(content),
            ),
        };
        entries.push(serde_json::json!({"path": rel, "kind": "nsb", "size": size, "sha256": sha}));
    }
    // Hostile paths, either fixed or taken from the bytes.
    for _ in 0..b.u8() % 4 {
        let p = match b.u8() % 8 {
            0 => "../outside/secret.nsb".to_string(),
            1 => outside.join("secret.nsb").display().to_string(),
            2 => "d/../../outside/secret.nsb".to_string(),
            3 => "..\\outside\\secret.nsb".to_string(),
            4 => String::new(),
            5 => ".".to_string(),
            _ => b.string(),
        };
        entries.push(
            serde_json::json!({"path": p, "kind": "nsb", "size": SENTINEL.len(),
            "sha256": crate::support::hash::sha256_hex(SENTINEL)}),
        );
    }
    let manifest = if mode & 7 == 7 {
        // Raw bytes as the manifest: the JSON parsing path.
        b.0.to_vec()
    } else {
        let m = serde_json::json!({
            "format": 1, "site": "support", "fqdn": "support.example.com", "product": "rs",
            "site_version": "24.1.2", "source_host": "bt-a.example.com",
            "created_at": "2026-11-20T02:00:00Z", "completed_at": "2026-11-20T02:05:00Z",
            "nsb": {"file": "bomgar-24.1.2-s-20261120-ab.nsb", "version": "24.1.2",
                "password_protected": true},
            "files": entries, "recordings": null, "certificate": null,
            "appliance_records": [], "vault_key": null, "not_covered": [], "findings": [],
        });
        serde_json::to_vec(&m).expect("manifest json")
    };
    if mode & 8 == 0 {
        let _ = std::fs::write(set.join("manifest.json"), &manifest);
    }

    let listed: Vec<String> = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v.get("files").cloned())
        .and_then(|f| f.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.get("path").and_then(|p| p.as_str()).map(str::to_string))
        .collect();
    let inside = listed.iter().filter(|p| plain_file_inside(set, p)).count();
    let inside_bytes: u64 = listed
        .iter()
        .filter(|p| plain_file_inside(set, p))
        .filter_map(|p| std::fs::metadata(set.join(p)).ok())
        .map(|m| m.len())
        .sum();

    match crate::dr::verify::verify_backup_set(set) {
        Ok(r) => {
            assert!(
                r.files_checked <= inside,
                "verify read {} file(s) but only {inside} listed path(s) are plain files inside the set",
                r.files_checked
            );
            assert!(
                r.bytes_checked <= inside_bytes,
                "verify read {} bytes, plain files inside the set hold {inside_bytes}",
                r.bytes_checked
            );
            let _ = serde_json::to_string(&r).expect("verify report serializes");
        }
        Err(e) => assert_kind(
            "verify_backup_set",
            &e,
            &[
                ErrorKind::Parse,
                ErrorKind::Io,
                ErrorKind::Integrity,
                ErrorKind::InvalidInput,
                ErrorKind::NotFound,
            ],
        ),
    }
}

/// A target family: bytes in, a panic when an invariant breaks.
pub type Family = fn(&[u8]);

/// Every family by target name (the names of `fuzz/fuzz_targets/*.rs`).
pub const TARGETS: [(&str, Family); 8] = [
    ("xml", xml),
    ("headers", headers),
    ("file_name", file_name),
    ("names", names),
    ("documents", documents),
    ("p12", p12),
    ("verify", verify),
    ("pair", pair),
];
