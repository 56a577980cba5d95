//! An appliance (or whatever answers in its place) that sends hostile answers: error bodies
//! instead of the file, file names that collide with bt-dr's own, absurd numbers, multi-byte
//! text at the wrong place, 403 `access_denied` for an expired token, and proxies that echo the
//! bearer token. Every test looks at what a user sees: the typed error, the folder (no file
//! under any name left behind, existing files untouched), and no panic.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bt_dr_core::api::{BackupOptions, TransferOptions};
use bt_dr_core::{BackupStore, ErrorKind, run_backup_set, verify_backup_set};
use bt_dr_sim::{Endpoint, Fault, Sim};
use common::*;

/// Every entry of `dir` with its SHA-256 (folders as `dir`).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = if e.file_type().unwrap().is_dir() {
                "dir".to_string()
            } else {
                bt_dr_core::sha256_file(&e.path()).unwrap().0
            };
            (name, kind)
        })
        .collect()
}

fn answer(status: u16, content_type: &str, body: &[u8]) -> Fault {
    Fault::Answer {
        status,
        content_type: content_type.into(),
        body: body.to_vec(),
    }
}

fn header(name: &str, value: &str) -> Fault {
    Fault::Header {
        name: name.into(),
        value: value.into(),
    }
}

/// Bodies and content types that are not a backup, each with a word the error must carry.
fn hostile_answers() -> Vec<(&'static str, Fault, Option<&'static str>)> {
    let mut bom_html = b"\xEF\xBB\xBF".to_vec();
    bom_html.extend_from_slice(b"<!DOCTYPE html><html><body>Sign in</body></html>");
    let mut bom_ws_html = b"\xEF\xBB\xBF \r\n\t".to_vec();
    bom_ws_html.extend_from_slice(b"<html><body>Proxy error</body></html>");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "<html>denied</html>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(
            " {\"error\":\"x\"}"
                .encode_utf16()
                .flat_map(u16::to_be_bytes),
        )
        .collect();
    let mut blank_then_json = b"\r\n".repeat(20 * 1024);
    blank_then_json.extend_from_slice(br#"{"error": "access_denied"}"#);
    let mut text_labelled_nsb = b"BTNSB\0\0\x01".to_vec();
    text_labelled_nsb.extend_from_slice(&[7u8; 600]);
    vec![
        (
            "json error, 200",
            answer(
                200,
                "application/json",
                br#"{"error": "access_denied", "message": "The resource owner or authorization server denied the request."}"#,
            ),
            Some("access_denied"),
        ),
        (
            "json error, octet-stream",
            answer(
                200,
                "application/octet-stream",
                br#"  {"error": "backup_failed", "message": "disk full"}"#,
            ),
            Some("disk full"),
        ),
        (
            "problem+json",
            answer(
                200,
                "application/problem+json",
                br#"{"title": "Forbidden", "detail": "backups are disabled"}"#,
            ),
            Some("backups are disabled"),
        ),
        (
            "vendor +json",
            answer(200, "application/vnd.bt+json", b"BTNSB\0\0\x01binary"),
            None,
        ),
        ("json array", answer(200, "", b"[1, 2, 3]"), None),
        ("utf-8 bom + html", answer(200, "", &bom_html), None),
        (
            "bom + whitespace + html as octet-stream",
            answer(200, "application/octet-stream", &bom_ws_html),
            None,
        ),
        ("utf-16le html", answer(200, "", &utf16le), None),
        ("utf-16be json", answer(200, "", &utf16be), None),
        (
            "text/plain message",
            answer(200, "text/plain; charset=utf-8", b"Backup failed"),
            None,
        ),
        (
            "nsb bytes labelled text/plain",
            answer(200, "text/plain", &text_labelled_nsb),
            None,
        ),
        ("text/csv", answer(200, "TEXT/CSV", b"a,b\n1,2\n"), None),
        (
            "upper-case text/html",
            answer(200, "Text/HTML; charset=ISO-8859-1", b"BTNSB"),
            None,
        ),
        (
            "xml error, application/xml",
            answer(
                200,
                "application/xml",
                b"<error>Backup failed: disk full</error>",
            ),
            Some("disk full"),
        ),
        (
            "xml error after a prolog, untyped",
            answer(
                200,
                "",
                b"<?xml version=\"1.0\"?>\n<error xmlns=\"https://www.beyondtrust.com/namespaces/API/command\">Not allowed</error>",
            ),
            Some("Not allowed"),
        ),
        ("svg", answer(200, "application/octet-stream", b"\n\n  <svg/>"), None),
        ("whitespace only", answer(200, "", b"   \r\n  "), None),
        (
            "json after 40 KiB of blank lines (TLS records of 16 KiB)",
            answer(200, "application/octet-stream", &blank_then_json),
            Some("access_denied"),
        ),
        ("empty", answer(200, "application/octet-stream", b""), None),
        ("bom only", answer(200, "", b"\xEF\xBB\xBF"), None),
        (
            "sim html page",
            Fault::HtmlPage,
            None,
        ),
        (
            "sim xml error",
            Fault::XmlError("Backup failed: disk full".into()),
            Some("disk full"),
        ),
    ]
}

#[tokio::test]
async fn error_answers_are_never_saved_as_backups() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    for (label, fault, must_say) in hostile_answers() {
        let dir = tempfile::tempdir().unwrap();
        // A file the user already had there stays exactly as it was.
        std::fs::write(dir.path().join("keep.nsb"), b"an older backup").unwrap();
        let before = snapshot(dir.path());
        sim.primary().set_fault(Endpoint::Backup, fault, Some(1));
        let r = c
            .download_backup(dir.path(), BackupOptions::default())
            .await;
        sim.primary().clear_faults();
        let e = r.expect_err(label);
        assert_eq!(e.kind(), ErrorKind::Integrity, "{label}: {e}");
        if let Some(word) = must_say {
            assert!(e.to_string().contains(word), "{label}: {e}");
        }
        assert_eq!(snapshot(dir.path()), before, "{label}: folder changed");
    }
    // The same appliance still delivers a real backup afterwards.
    let dir = tempfile::tempdir().unwrap();
    let d = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(
        d.file.sha256,
        bt_dr_sim::expected_backup_sha256_hex(sim.config())
    );
}

#[tokio::test]
async fn error_answers_are_never_saved_as_recordings_or_archives() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let lsid = c
        .list_sessions(&bt_dr_core::api::TimeWindow::since(0))
        .await
        .unwrap()[0]
        .lsid
        .clone();
    let today = time::OffsetDateTime::now_utc().date();
    for (label, fault, _) in hostile_answers() {
        let dir = tempfile::tempdir().unwrap();
        sim.primary()
            .set_fault(Endpoint::Reporting, fault.clone(), Some(1));
        let e = c
            .download_recording(&lsid, dir.path(), TransferOptions::default())
            .await
            .expect_err(label);
        assert_eq!(e.kind(), ErrorKind::Integrity, "recording, {label}: {e}");
        sim.primary().set_fault(Endpoint::Reporting, fault, Some(1));
        let e = c
            .download_archive(
                bt_dr_core::api::ArchiveKind::State,
                today,
                1,
                dir.path(),
                TransferOptions::default(),
            )
            .await
            .expect_err(label);
        assert_eq!(e.kind(), ErrorKind::Integrity, "archive, {label}: {e}");
        sim.primary().clear_faults();
        assert!(snapshot(dir.path()).is_empty(), "{label}");
    }
}

/// Names an appliance may propose that must neither be used nor replace anything.
const HOSTILE_NAMES: [&str; 12] = [
    "manifest.json",
    "checkpoint.json",
    "vault-key.json",
    "keep.nsb",
    "keep.nsb.bt-dr.json",
    "../manifest.json",
    "..\\..\\manifest.json",
    ".hidden.nsb",
    "NUL.nsb",
    "recordings",
    "a\u{202E}bsn.json",
    "evil.nsb",
];

#[tokio::test]
async fn appliance_file_names_never_collide_with_or_replace_files() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let sha = bt_dr_sim::expected_backup_sha256_hex(sim.config());
    for proposed in HOSTILE_NAMES {
        let dir = tempfile::tempdir().unwrap();
        for own in [
            "manifest.json",
            "checkpoint.json",
            "vault-key.json",
            "keep.nsb",
            "keep.nsb.bt-dr.json",
        ] {
            std::fs::write(dir.path().join(own), format!("bt-dr's own {own}")).unwrap();
        }
        let before = snapshot(dir.path());
        sim.primary()
            .set_fault(Endpoint::Backup, Fault::Filename(proposed.into()), Some(1));
        let d = c
            .download_backup(dir.path(), BackupOptions::default())
            .await
            .unwrap();
        let after = snapshot(dir.path());
        for (name, hash) in &before {
            assert_eq!(after.get(name), Some(hash), "{proposed}: {name} changed");
        }
        assert!(!before.contains_key(&d.file.file_name), "{proposed}");
        assert!(d.file.file_name.starts_with("bomgar-") && d.file.file_name.ends_with(".nsb"));
        assert_eq!(d.file.path, dir.path().join(&d.file.file_name));
        assert_eq!(after[&d.file.file_name], sha);
        assert_eq!(
            d.sidecar_path,
            dir.path().join(format!("{}.bt-dr.json", d.file.file_name))
        );
        assert_eq!(after.len(), before.len() + 2, "{proposed}: {after:?}");
        // The proposal is kept, escaped, in the metadata.
        assert_eq!(
            d.sidecar.appliance_file_name.as_deref(),
            Some(proposed.escape_debug().to_string().as_str())
        );
    }
}

#[tokio::test]
async fn a_real_nsb_name_that_is_taken_gets_a_unique_one() {
    let mut cfg = config();
    cfg.backup_name_template = "bomgar-{version}-{site}-20261202-fixedid1.nsb".into();
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let dir = tempfile::tempdir().unwrap();
    let name = "bomgar-24.1.2-support-20261202-fixedid1.nsb";
    let first = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(first.file.file_name, name, "a real NSB name is kept");
    std::fs::write(&first.file.path, b"the user's edited copy").unwrap();
    let before = snapshot(dir.path());
    let second = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(
        second.file.file_name,
        "bomgar-24.1.2-support-20261202-fixedid1-2.nsb"
    );
    let after = snapshot(dir.path());
    for (n, h) in &before {
        assert_eq!(after.get(n), Some(h), "{n} changed");
    }
    assert_eq!(after.len(), 4);
    // A name whose sidecar name alone is taken is skipped too.
    std::fs::write(
        dir.path()
            .join("bomgar-24.1.2-support-20261202-fixedid1-3.nsb.bt-dr.json"),
        b"orphan sidecar",
    )
    .unwrap();
    let third = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(
        third.file.file_name,
        "bomgar-24.1.2-support-20261202-fixedid1-4.nsb"
    );
}

#[tokio::test]
async fn a_set_survives_an_appliance_naming_its_backup_manifest_json() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    sim.primary().set_fault(
        Endpoint::Backup,
        header(
            "Content-Disposition",
            "attachment; filename=\"manifest.json\"",
        ),
        Some(1),
    );
    let r = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    let nsb = &r.manifest.nsb.file;
    assert!(nsb.ends_with(".nsb"), "{nsb}");
    let (sha, _) = bt_dr_core::sha256_file(&r.path.join(nsb)).unwrap();
    assert_eq!(sha, bt_dr_sim::expected_backup_sha256_hex(sim.config()));
    let v = verify_backup_set(&r.path).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
}

#[tokio::test]
async fn absurd_retry_after_and_rate_limit_numbers_never_panic() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    c.check_health().await.unwrap();
    // A wait longer than the policy's cap is waited out for the cap, then the call goes on.
    let capped = builder(&sim, sim.primary())
        .retry_policy(bt_dr_core::api::RetryPolicy {
            max_retry_after: Duration::from_millis(150),
            ..fast_retries()
        })
        .build()
        .unwrap();
    for v in ["1e20", "31"] {
        sim.primary().set_fault(
            Endpoint::Command,
            Fault::RateLimited {
                retry_after_secs: None,
            },
            Some(1),
        );
        sim.primary()
            .set_fault(Endpoint::Command, header("Retry-After", v), Some(1));
        let started = Instant::now();
        capped
            .check_health()
            .await
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_secs(2),
            "{v}: {took:?}"
        );
        sim.primary().clear_faults();
    }
    // With no waits left, RateLimited at once, carrying the (clamped) wait.
    let no_waits = || {
        builder(&sim, sim.primary())
            .retry_policy(bt_dr_core::api::RetryPolicy {
                max_rate_limit_waits: 0,
                ..fast_retries()
            })
            .build()
            .unwrap()
    };
    let impatient = no_waits();
    for (v, want) in [
        ("1e20", 86_400),
        ("inf", 86_400),
        ("99999999999999999999999999", 86_400),
        ("1e400", 86_400),
        ("86401", 86_400),
        ("31", 31),
    ] {
        sim.primary().set_fault(
            Endpoint::Command,
            Fault::RateLimited {
                retry_after_secs: None,
            },
            Some(1),
        );
        sim.primary()
            .set_fault(Endpoint::Command, header("Retry-After", v), Some(1));
        let started = Instant::now();
        let e = impatient.check_health().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{v}: {e}");
        assert!(started.elapsed() < Duration::from_secs(2), "{v}");
        match e {
            bt_dr_core::Error::RateLimited { retry_after } => {
                assert_eq!(retry_after, Some(Duration::from_secs(want)), "{v}")
            }
            other => panic!("{other}"),
        }
        sim.primary().clear_faults();
    }
    // Unreadable: treated as absent, a short backoff, then the call goes through.
    for v in [
        "-5",
        "NaN",
        "-inf",
        "soon",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "0x10",
        "1,5",
        "\u{20ac}",
    ] {
        sim.primary().set_fault(
            Endpoint::Command,
            Fault::RateLimited {
                retry_after_secs: None,
            },
            Some(1),
        );
        sim.primary()
            .set_fault(Endpoint::Command, header("Retry-After", v), Some(1));
        let started = Instant::now();
        c.check_health()
            .await
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        assert!(started.elapsed() < Duration::from_secs(2), "{v}");
        sim.primary().clear_faults();
    }
    // X-RateLimit-Remaining below zero or absurd on an error answer.
    for v in ["-5", "99999999999999999999999", "x", "-9223372036854775808"] {
        sim.primary()
            .set_fault(Endpoint::Command, Fault::ServerError(503), Some(1));
        sim.primary().set_fault(
            Endpoint::Command,
            header("X-RateLimit-Remaining", v),
            Some(1),
        );
        c.check_health()
            .await
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        sim.primary().clear_faults();
    }
    // The token endpoint too.
    let fresh = no_waits();
    sim.primary().set_fault(
        Endpoint::Token,
        Fault::RateLimited {
            retry_after_secs: None,
        },
        Some(1),
    );
    sim.primary()
        .set_fault(Endpoint::Token, header("Retry-After", "1e20"), Some(1));
    let e = fresh.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    sim.primary().clear_faults();
    // A backup answered with absurd numbers in its headers still lands whole.
    let dir = tempfile::tempdir().unwrap();
    sim.primary().set_fault(
        Endpoint::Backup,
        header("X-RateLimit-Remaining", "-5"),
        Some(1),
    );
    sim.primary()
        .set_fault(Endpoint::Backup, header("Retry-After", "1e20"), Some(1));
    let d = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(
        d.file.sha256,
        bt_dr_sim::expected_backup_sha256_hex(sim.config())
    );
}

#[tokio::test]
async fn absurd_token_lifetimes_never_panic() {
    let sim = Sim::start_single(config()).await.unwrap();
    for expires_in in [
        "1e20",
        "18446744073709551615",
        "1e308",
        "-5",
        "0",
        "0.001",
        "\"soon\"",
        "\"1e20\"",
        "null",
        "{}",
    ] {
        // The answered token is not one the appliance knows: the call is rejected, bt-dr takes
        // one fresh (real) token and goes on. What matters is that the number did not panic.
        let c = client(&sim, sim.primary());
        sim.primary().set_fault(
            Endpoint::Token,
            answer(
                200,
                "application/json",
                format!(
                    r#"{{"access_token":"notknown123","token_type":"Bearer","expires_in":{expires_in}}}"#
                )
                .as_bytes(),
            ),
            Some(1),
        );
        c.check_health()
            .await
            .unwrap_or_else(|e| panic!("{expires_in}: {e}"));
        sim.primary().clear_faults();
    }
    // A token that cannot go into a header is an auth error, not a panic.
    let c = client(&sim, sim.primary());
    sim.primary().set_fault(
        Endpoint::Token,
        answer(
            200,
            "application/json",
            "{\"access_token\":\"a\\nb\u{20ac}\",\"expires_in\":60}".as_bytes(),
        ),
        None,
    );
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains('\u{20ac}'), "{e}");
    sim.primary().clear_faults();
}

#[tokio::test]
async fn multi_byte_text_where_the_parser_cuts_never_panics() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    for text in [
        "2019-10-07T00:32:50.877+\u{20ac}",
        "\u{e9}\u{20ac}\u{1d11e}+0000",
        "\u{20ac}\u{20ac}\u{20ac}\u{20ac}\u{20ac}",
        "2019-10-07T00:32:50.877\u{e9}0000",
        "\u{e9}",
    ] {
        let xml = format!(
            "<health_check><appliance id=\"x\">bt-a</appliance><version>24.1.2</version><success>1</success><failover_role>primary</failover_role><last_data_sync_time>{text}</last_data_sync_time></health_check>"
        );
        sim.primary().set_fault(
            Endpoint::Command,
            answer(200, "text/xml", xml.as_bytes()),
            Some(1),
        );
        let h = c.check_health().await.unwrap();
        assert_eq!(h.last_data_sync_time, None, "{text}");
        let xml = format!(
            "<session_list><session lsid=\"abc\"><start_time>{text}</start_time><end_time timestamp=\"9223372036854775807\">{text}</end_time></session></session_list>"
        );
        sim.primary().set_fault(
            Endpoint::Reporting,
            answer(200, "text/xml", xml.as_bytes()),
            Some(1),
        );
        let s = c
            .list_sessions(&bt_dr_core::api::TimeWindow::since(0))
            .await
            .unwrap();
        assert_eq!(s[0].start_time, None, "{text}");
        assert_eq!(s[0].end_time, None, "{text}");
    }
}

#[tokio::test]
async fn forbidden_access_denied_renews_the_token_once() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let id = client_id(&sim);
    c.check_health().await.unwrap();
    let issued = sim.tokens_issued(&id);
    // 403 + access_denied once: one new token, and the call succeeds.
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::RejectTokens { status: 403 },
        Some(1),
    );
    c.check_health().await.unwrap();
    assert_eq!(sim.tokens_issued(&id), issued + 1);
    // The same on a download.
    let dir = tempfile::tempdir().unwrap();
    sim.primary().set_fault(
        Endpoint::Backup,
        Fault::RejectTokens { status: 403 },
        Some(1),
    );
    c.download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(sim.tokens_issued(&id), issued + 2);
    // Still rejected after the one renewal: a permission error, and only one renewal.
    sim.primary()
        .set_fault(Endpoint::Command, Fault::RejectTokens { status: 403 }, None);
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert_eq!(sim.tokens_issued(&id), issued + 3);
    sim.primary().clear_faults();
    // A 403 that is not access_denied is a permission error at once, with no renewal.
    let before = sim.tokens_issued(&id);
    for body in [
        &br#"{"error":"insufficient_scope","message":"perm_command"}"#[..],
        b"<error>Not allowed</error>",
    ] {
        sim.primary().set_fault(
            Endpoint::Command,
            answer(403, "application/json", body),
            Some(1),
        );
        let e = c.check_health().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    }
    assert_eq!(sim.tokens_issued(&id), before);
    // 401 still behaves as before: renewed once.
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::RejectTokens { status: 401 },
        Some(1),
    );
    c.check_health().await.unwrap();
    assert_eq!(sim.tokens_issued(&id), before + 1);
}

#[tokio::test]
async fn echoed_request_headers_never_reach_an_error() {
    let mut cfg = config();
    cfg.backup_password = Some("NSB-pass-Kx91".into());
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    c.check_health().await.unwrap();
    let tokens = sim.live_tokens(&client_id(&sim));
    let token = tokens[0].clone();
    let opts = || BackupOptions {
        password: Some("NSB-pass-Kx91".into()),
        ..Default::default()
    };
    let mut seen = String::new();
    let mut record = |e: bt_dr_core::Error| {
        seen += &format!("{e}\n{e:?}\n{}\n", e.details());
        e
    };
    for status in [502, 400, 404, 200] {
        let dir = tempfile::tempdir().unwrap();
        let echo = Fault::EchoHeaders { status };
        sim.primary()
            .set_fault(Endpoint::Command, echo.clone(), None);
        let e = record(c.check_health().await.unwrap_err());
        assert_ne!(e.kind(), ErrorKind::Internal);
        sim.primary().clear_faults();
        sim.primary()
            .set_fault(Endpoint::Backup, echo.clone(), None);
        let e = record(c.download_backup(dir.path(), opts()).await.unwrap_err());
        assert_ne!(e.kind(), ErrorKind::Internal);
        sim.primary().clear_faults();
        sim.primary().set_fault(Endpoint::Reporting, echo, None);
        let e = record(
            c.list_sessions(&bt_dr_core::api::TimeWindow::since(0))
                .await
                .unwrap_err(),
        );
        assert_ne!(e.kind(), ErrorKind::Internal);
        let e = record(
            c.download_recording("abc", dir.path(), TransferOptions::default())
                .await
                .unwrap_err(),
        );
        assert_ne!(e.kind(), ErrorKind::Internal);
        sim.primary().clear_faults();
        assert!(snapshot(dir.path()).is_empty());
    }
    // A JSON or XML error envelope that quotes the header: the message is kept, the token not.
    for (ct, body) in [
        (
            "application/json",
            format!(
                r#"{{"error":"invalid_request","message":"bad header Authorization: Bearer {token}"}}"#
            ),
        ),
        (
            "text/xml",
            format!("<error>rejected Authorization: Bearer {token}</error>"),
        ),
        (
            "application/json",
            format!(
                r#"{{"error":"invalid_request","access_token":"{token}","message":"{token}"}}"#
            ),
        ),
    ] {
        for status in [400, 500, 200] {
            sim.primary()
                .set_fault(Endpoint::Command, answer(status, ct, body.as_bytes()), None);
            let e = record(c.get_appliances().await.unwrap_err());
            sim.primary().clear_faults();
            if status == 400 {
                assert!(
                    e.to_string().contains("invalid_request") || e.to_string().contains("rejected"),
                    "{e}"
                );
            }
            sim.primary()
                .set_fault(Endpoint::Backup, answer(status, ct, body.as_bytes()), None);
            let dir = tempfile::tempdir().unwrap();
            record(c.download_backup(dir.path(), opts()).await.unwrap_err());
            assert!(snapshot(dir.path()).is_empty());
            sim.primary().clear_faults();
        }
    }
    // The token endpoint, which carries the client secret (Basic).
    let fresh = client(&sim, sim.primary());
    sim.primary()
        .set_fault(Endpoint::Token, Fault::EchoHeaders { status: 400 }, Some(1));
    record(fresh.check_health().await.unwrap_err());
    sim.primary().clear_faults();

    assert!(seen.len() > 1000, "the test must see real errors: {seen}");
    let basic = {
        // base64 of "id:secret", as sent in the Basic header.
        let raw = format!("{}:{SECRET}", client_id(&sim));
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in raw.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(table[(n >> (18 - 6 * i)) as usize & 63] as char);
            }
        }
        out
    };
    for secret in [token.as_str(), SECRET, "NSB-pass-Kx91", &basic[..16]] {
        assert!(!seen.contains(secret), "secret {:.6}… in:\n{seen}", secret);
    }
}

#[tokio::test]
async fn api_answers_after_a_byte_order_mark_still_parse() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(
        b"<?xml version=\"1.0\"?><health_check><appliance id=\"x\">bt-a</appliance><version>24.1.2</version><success>1</success></health_check>",
    );
    sim.primary().set_fault(
        Endpoint::Command,
        answer(200, "text/xml; charset=UTF-8", &body),
        Some(1),
    );
    let h = c.check_health().await.unwrap();
    assert_eq!(h.hostname, "bt-a");
    // An XML error after a BOM keeps its message.
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(b"<error>Failover is not configured</error>");
    sim.primary()
        .set_fault(Endpoint::Command, answer(200, "text/xml", &body), Some(1));
    let e = c.get_appliances().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    assert!(e.to_string().contains("Failover is not configured"), "{e}");
}

#[tokio::test]
async fn an_html_page_with_multi_byte_text_at_the_sniffing_cut_is_still_html() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    // 'é' across byte 64 of the trimmed body, where the command API looks for an HTML page.
    for pad in 38..50 {
        let body = format!(
            "<html><head><title>{}é€</title></head><body>Login</body></html>",
            "x".repeat(pad)
        );
        sim.primary().set_fault(
            Endpoint::Command,
            answer(200, "application/octet-stream", body.as_bytes()),
            Some(1),
        );
        let e = c.check_health().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api, "{pad}: {e}");
        assert!(e.to_string().contains("HTML page"), "{pad}: {e}");
    }
}
