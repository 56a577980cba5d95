//! Every simulator fault against the backup download and the command API: either the typed
//! error a user can act on, or a successful retry — and never a partial or corrupt file under a
//! final name.

use crate::common;

use std::time::Duration;

use bt_dr_core::ErrorKind;
use bt_dr_core::api::BackupOptions;
use bt_dr_sim::{Endpoint, Fault, Sim};
use common::*;

#[derive(Debug)]
enum Expect {
    Ok,
    Err(ErrorKind),
}

/// Files in `dir` must be exactly a complete backup and its sidecar, or nothing.
fn assert_clean(dir: &std::path::Path, expected_sha: &str) {
    let names = stray_files(dir);
    for n in &names {
        if n.ends_with(".nsb") {
            let (sha, _) = bt_dr_core::sha256_file(&dir.join(n)).unwrap();
            assert_eq!(sha, expected_sha, "{n} is not the complete backup");
        } else {
            assert!(n.ends_with(".nsb.bt-dr.json"), "stray file {n}");
        }
    }
}

#[tokio::test]
async fn backup_fault_matrix() {
    let mut cfg = config();
    cfg.backup_size = 512 * 1024;
    let sha = bt_dr_sim::expected_backup_sha256_hex(&cfg);
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let cases: Vec<(Fault, Option<u32>, Expect)> = vec![
        (
            Fault::Delay(Duration::from_millis(200)),
            Some(1),
            Expect::Ok,
        ),
        (
            Fault::SlowBody {
                bytes_per_sec: 4 * 1024 * 1024,
            },
            Some(1),
            Expect::Ok,
        ),
        (Fault::TruncateAt(1000), Some(1), Expect::Ok),
        (
            Fault::TruncateAt(1000),
            None,
            Expect::Err(ErrorKind::Network),
        ),
        (Fault::ResetConnection, Some(2), Expect::Ok),
        (
            Fault::ResetConnection,
            None,
            Expect::Err(ErrorKind::Network),
        ),
        (Fault::ServerError(503), Some(2), Expect::Ok),
        (Fault::ServerError(500), None, Expect::Err(ErrorKind::Api)),
        (
            Fault::RateLimited {
                retry_after_secs: Some(0),
            },
            Some(2),
            Expect::Ok,
        ),
        (Fault::ExpireTokens, Some(1), Expect::Ok),
        (Fault::HtmlPage, None, Expect::Err(ErrorKind::Integrity)),
        // An error document instead of the backup: nothing saved, the appliance's message kept.
        (
            Fault::XmlError("Backup failed: disk full".into()),
            None,
            Expect::Err(ErrorKind::Integrity),
        ),
        // Labelled as text: not taken for a backup, whatever the bytes.
        (
            Fault::WrongContentType,
            None,
            Expect::Err(ErrorKind::Integrity),
        ),
        (Fault::TraversalFilename, None, Expect::Ok),
        (
            Fault::Answer {
                status: 200,
                content_type: "application/json".into(),
                body: br#"{"error":"access_denied"}"#.to_vec(),
            },
            None,
            Expect::Err(ErrorKind::Integrity),
        ),
        (Fault::RejectTokens { status: 403 }, Some(1), Expect::Ok),
        (Fault::Filename("manifest.json".into()), None, Expect::Ok),
    ];
    for (fault, times, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        sim.primary().clear_faults();
        sim.primary()
            .set_fault(Endpoint::Backup, fault.clone(), times);
        let r = c
            .download_backup(dir.path(), BackupOptions::default())
            .await;
        sim.primary().clear_faults();
        match (&expect, &r) {
            (Expect::Ok, Ok(d)) => {
                assert_eq!(d.file.sha256, sha, "{fault:?}");
                assert!(
                    d.file.path.starts_with(dir.path()),
                    "{fault:?} wrote outside the folder: {:?}",
                    d.file.path
                );
                if matches!(fault, Fault::TraversalFilename | Fault::Filename(_)) {
                    // Not a real NSB name: bt-dr's own name is used, the proposal recorded.
                    assert!(!d.file.file_name.contains(".."), "{}", d.file.file_name);
                    assert!(
                        d.file.file_name.starts_with("bomgar-")
                            && d.file.file_name.ends_with(".nsb"),
                        "{}",
                        d.file.file_name
                    );
                    assert!(d.sidecar.appliance_file_name.is_some());
                }
            }
            (Expect::Err(k), Err(e)) => assert_eq!(e.kind(), *k, "{fault:?}: {e}"),
            _ => panic!("{fault:?}: expected {expect:?}, got {r:?}"),
        }
        if let Err(e) = &r
            && matches!(fault, Fault::XmlError(_))
        {
            assert!(
                e.to_string().contains("disk full"),
                "appliance message kept: {e}"
            );
        }
        assert_clean(dir.path(), &sha);
    }
    // Nothing escaped the temp folders.
    assert!(!std::path::Path::new("/etc/evil.nsb").exists());
}

#[tokio::test]
async fn command_fault_matrix() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let cases: Vec<(Fault, Option<u32>, Expect)> = vec![
        (Fault::ResetConnection, Some(1), Expect::Ok),
        (Fault::ServerError(502), Some(2), Expect::Ok),
        (Fault::HtmlPage, None, Expect::Err(ErrorKind::Api)),
        (
            Fault::XmlError("Unknown action".into()),
            None,
            Expect::Err(ErrorKind::Api),
        ),
        (Fault::MalformedXml, None, Expect::Err(ErrorKind::Parse)),
        (Fault::WrongContentType, None, Expect::Ok),
        (Fault::ExpireTokens, Some(1), Expect::Ok),
        (
            Fault::RateLimited {
                retry_after_secs: Some(0),
            },
            Some(3),
            Expect::Ok,
        ),
        (Fault::RejectTokens { status: 403 }, Some(1), Expect::Ok),
        (
            Fault::RejectTokens { status: 403 },
            None,
            Expect::Err(ErrorKind::PermissionDenied),
        ),
        (
            Fault::Header {
                name: "Retry-After".into(),
                value: "1e20".into(),
            },
            None,
            Expect::Ok,
        ),
        (
            Fault::EchoHeaders { status: 502 },
            None,
            Expect::Err(ErrorKind::Api),
        ),
    ];
    for (fault, times, expect) in cases {
        sim.primary().clear_faults();
        sim.primary()
            .set_fault(Endpoint::Command, fault.clone(), times);
        let r = c.check_health().await;
        match (&expect, &r) {
            (Expect::Ok, Ok(h)) => assert!(h.success),
            (Expect::Err(k), Err(e)) => assert_eq!(e.kind(), *k, "{fault:?}: {e}"),
            _ => panic!("{fault:?}: expected {expect:?}, got {r:?}"),
        }
    }
}

#[tokio::test]
async fn token_endpoint_faults() {
    let sim = Sim::start_single(config()).await.unwrap();
    sim.primary()
        .set_fault(Endpoint::Token, Fault::ServerError(503), Some(2));
    let c = client(&sim, sim.primary());
    c.check_health().await.unwrap();
    let c2 = client(&sim, sim.primary());
    sim.primary()
        .set_fault(Endpoint::Token, Fault::Delay(Duration::from_secs(3)), None);
    let c2 = bt_dr_core::api::Client::builder(c2.base_url())
        .credentials(&client_id(&sim), SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .request_timeout(Duration::from_millis(300))
        .retry_policy(bt_dr_core::api::RetryPolicy {
            max_attempts: 1,
            ..fast_retries()
        })
        .build()
        .unwrap();
    assert_eq!(
        c2.check_health().await.unwrap_err().kind(),
        ErrorKind::Timeout
    );
}
