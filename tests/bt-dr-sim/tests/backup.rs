//! /api/backup: permissions, password, headers and a streamed, deterministic body.

use crate::common;

use bt_dr_sim::{Sim, SimConfig, expected_backup_sha256_hex};
use common::*;
use reqwest::header::CONTENT_TYPE;
use sha2::{Digest, Sha256};

async fn download(resp: reqwest::Response) -> (u64, String) {
    let mut resp = resp;
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        len += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (len, hex::encode(hasher.finalize()))
}

#[tokio::test]
async fn backup_body_and_headers() {
    let cfg = SimConfig {
        backup_size: 3 * 1024 * 1024 + 17,
        ..cfg()
    };
    let sim = Sim::start_single(cfg.clone()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let resp = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("backup");
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(
        h["content-length"],
        (3 * 1024 * 1024 + 17).to_string().as_str()
    );
    assert_eq!(h["connection"], "close");
    assert!(h.get("x-ratelimit-remaining").is_some());
    let cd = h["content-disposition"].to_str().expect("ascii");
    let name = cd
        .strip_prefix("attachment; filename=\"")
        .and_then(|s| s.strip_suffix('"'))
        .expect("attachment filename");
    // bomgar-{version}-{site}-{date}-{id}.nsb
    let parts: Vec<&str> = name.trim_end_matches(".nsb").split('-').collect();
    assert_eq!(parts.len(), 5, "{name}");
    assert_eq!(
        (parts[0], parts[1], parts[2]),
        ("bomgar", "24.1.2", "support")
    );
    assert_eq!(parts[3].len(), 8);
    assert!(parts[4].len() == 8 && parts[4].chars().all(|c| c.is_ascii_hexdigit()));
    let (len, sha) = download(resp).await;
    assert_eq!(len, cfg.backup_size);
    assert_eq!(sha, expected_backup_sha256_hex(&cfg));

    // A second download has another id, the same bytes; POST works too.
    let resp = c
        .post(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("backup");
    let cd2 = resp.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_ne!(cd, cd2);
    let first = resp.bytes().await.expect("body");
    assert_eq!(&first[..8], b"BTNSB\0\0\x01");
}

#[tokio::test]
async fn backup_password_and_no_disposition() {
    let cfg = SimConfig {
        backup_password: Some("s3cret".into()),
        content_disposition: false,
        backup_size: 1000,
        ..cfg()
    };
    let sim = Sim::start_single(cfg).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let r = get(&c, &base, &t, "/api/backup").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.xml().name, "error");
    assert!(r.xml().text.contains("Invalid backup password"));
    let send = |pw: &'static str| {
        c.post(format!("{base}/api/backup"))
            .bearer_auth(&t)
            .header(CONTENT_TYPE, "application/json")
            .body(format!("{{\"password\":\"{pw}\"}}"))
            .send()
    };
    assert_eq!(send("wrong").await.expect("send").status(), 403);
    let ok = send("s3cret").await.expect("send");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("content-disposition").is_none());
    assert_eq!(ok.bytes().await.expect("body").len(), 1000);
}

#[tokio::test]
async fn large_backup_streams() {
    let cfg = SimConfig {
        backup_size: 256 * 1024 * 1024,
        ..cfg()
    };
    let sim = Sim::start_single(cfg.clone()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let resp = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("backup");
    assert_eq!(resp.status(), 200);
    let expected = tokio::task::spawn_blocking({
        let cfg = cfg.clone();
        move || expected_backup_sha256_hex(&cfg)
    });
    let (len, sha) = download(resp).await;
    assert_eq!(len, 256 * 1024 * 1024);
    assert_eq!(sha, expected.await.expect("join"));
}
