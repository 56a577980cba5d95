//! Every fault produces its documented wire behaviour.

use crate::common;

use std::time::{Duration, Instant};

use bt_dr_sim::{Endpoint, Fault, Sim, SimConfig};
use common::*;

async fn setup(cfg: SimConfig) -> (Sim, reqwest::Client, String, String) {
    let sim = Sim::start_pair(cfg).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    (sim, c, base, t)
}

#[tokio::test]
async fn delay_and_slow_body() {
    let (sim, c, base, t) = setup(SimConfig {
        backup_size: 20_000,
        ..cfg()
    })
    .await;
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::Delay(Duration::from_millis(400)),
        Some(1),
    );
    let start = Instant::now();
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert!(
        sim.primary().armed_faults().is_empty(),
        "consumed after one use"
    );

    sim.primary().set_fault(
        Endpoint::Backup,
        Fault::SlowBody {
            bytes_per_sec: 40_000,
        },
        Some(1),
    );
    let start = Instant::now();
    let r = get(&c, &base, &t, "/api/backup").await;
    assert_eq!(r.status, 200);
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn truncate_at_sends_full_length_then_closes() {
    let (sim, c, base, t) = setup(SimConfig {
        backup_size: 100_000,
        ..cfg()
    })
    .await;
    sim.primary()
        .set_fault(Endpoint::Backup, Fault::TruncateAt(1000), Some(1));
    let mut resp = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "100000");
    let mut got = 0usize;
    let err = loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => got += chunk.len(),
            Ok(None) => panic!("body completed after {got} bytes"),
            Err(e) => break e,
        }
    };
    assert_eq!(got, 1000, "error: {err}");
    // Consumed: the next download is whole.
    let r = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.bytes().await.expect("body").len(), 100_000);
}

#[tokio::test]
async fn reset_connection_gives_no_response() {
    let (sim, c, base, t) = setup(cfg()).await;
    sim.primary()
        .set_fault(Endpoint::Command, Fault::ResetConnection, Some(1));
    let before = sim.primary().request_count(Endpoint::Command);
    let err = c
        .get(format!("{base}/api/command?action=check_health"))
        .bearer_auth(&t)
        .send()
        .await
        .expect_err("connection reset");
    assert!(!err.is_status(), "{err}");
    assert_eq!(sim.primary().request_count(Endpoint::Command), before + 1);
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
}

#[tokio::test]
async fn server_error_rate_limit_and_html() {
    let (sim, c, base, t) = setup(cfg()).await;
    let p = sim.primary();
    p.set_fault(Endpoint::Command, Fault::ServerError(502), Some(1));
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 502);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(r.body.contains("502"));

    p.set_fault(
        Endpoint::Command,
        Fault::RateLimited {
            retry_after_secs: Some(7),
        },
        Some(1),
    );
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("retry-after"), Some("7"));

    p.set_fault(Endpoint::Command, Fault::HtmlPage, Some(1));
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(r.body.contains("<form"));

    p.set_fault(Endpoint::Token, Fault::ServerError(503), Some(1));
    assert_eq!(token_request(&c, &base, ID, SECRET).await.status, 503);
    assert_eq!(token_request(&c, &base, ID, SECRET).await.status, 200);
}

#[tokio::test]
async fn xml_faults_and_content_type() {
    let (sim, c, base, t) = setup(SimConfig {
        backup_size: 5000,
        ..cfg()
    })
    .await;
    let p = sim.primary();
    p.set_fault(
        Endpoint::Command,
        Fault::XmlError("Simulated failure".into()),
        Some(1),
    );
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=UTF-8"));
    let x = r.xml();
    assert_eq!(x.name, "error");
    assert_eq!(x.text, "Simulated failure");
    assert_eq!(
        x.ns.as_deref(),
        Some("https://www.beyondtrust.com/namespaces/API/command")
    );
    p.set_fault(Endpoint::Reporting, Fault::XmlError("nope".into()), Some(1));
    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSessionListing&start_time=0&duration=0",
    )
    .await
    .xml();
    assert_eq!(
        x.ns.as_deref(),
        Some("https://www.beyondtrust.com/namespaces/API/reporting")
    );

    p.set_fault(Endpoint::Command, Fault::MalformedXml, Some(1));
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/xml")
    );
    assert!(try_parse_xml(&r.body).is_err());

    p.set_fault(Endpoint::Command, Fault::WrongContentType, Some(1));
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.xml().name, "health_check");

    p.set_fault(Endpoint::Backup, Fault::WrongContentType, Some(1));
    let r = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.expect("body").len(), 5000);

    p.set_fault(Endpoint::Backup, Fault::TraversalFilename, Some(1));
    let r = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"../../etc/evil.nsb\""
    );
    assert_eq!(r.headers().get_all("content-disposition").iter().count(), 1);
}

#[tokio::test]
async fn expire_tokens_invalidates_issued_tokens() {
    let (sim, c, base, t) = setup(cfg()).await;
    sim.primary()
        .set_fault(Endpoint::Command, Fault::ExpireTokens, Some(1));
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "access_denied");
    // Still invalid on the peer too: tokens are site-wide.
    let backup = sim.backup().expect("backup").url();
    assert_eq!(
        command(&c, &backup, &t, "action=check_health").await.status,
        401
    );
    let fresh = token(&c, &base).await;
    assert_eq!(
        command(&c, &base, &fresh, "action=check_health")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn counts_scopes_and_clearing() {
    let (sim, c, base, t) = setup(cfg()).await;
    let p = sim.primary();
    let b = sim.backup().expect("backup");
    // Twice, then gone.
    p.set_fault(Endpoint::Command, Fault::ServerError(500), Some(2));
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        500
    );
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        500
    );
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    // Until cleared, on every endpoint, only on this appliance.
    p.set_fault(Endpoint::Any, Fault::ServerError(503), None);
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        503
    );
    assert_eq!(get(&c, &base, &t, "/check_health").await.status, 503);
    assert_eq!(get(&c, &base, &t, "/api/backup").await.status, 503);
    assert_eq!(
        command(&c, &b.url(), &t, "action=check_health")
            .await
            .status,
        200
    );
    assert_eq!(p.armed_faults().len(), 1);
    p.clear_faults();
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    // A fault for another endpoint leaves this one alone.
    p.set_fault(Endpoint::Probe, Fault::ServerError(500), None);
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    assert_eq!(get(&c, &base, &t, "/check_health").await.status, 500);
    p.clear_faults();

    assert_eq!(p.request_count(Endpoint::Token), 1);
    assert_eq!(p.request_count(Endpoint::Command), 6);
    assert_eq!(p.request_count(Endpoint::Probe), 2);
    assert_eq!(p.request_count(Endpoint::Backup), 1);
    assert_eq!(p.request_count(Endpoint::Any), 10);
    assert_eq!(b.request_count(Endpoint::Command), 1);
}

#[tokio::test]
async fn latency_applies_to_every_request() {
    let (_sim, c, base, t) = setup(SimConfig {
        latency: Duration::from_millis(150),
        ..cfg()
    })
    .await;
    let start = Instant::now();
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn answer_sends_exactly_the_status_type_and_bytes_given() {
    let (sim, c, base, t) = setup(cfg()).await;
    let p = sim.primary();
    let cases: Vec<(u16, &str, Vec<u8>)> = vec![
        (
            200,
            "application/json",
            br#"{"error":"access_denied","message":"denied"}"#.to_vec(),
        ),
        (
            200,
            "application/octet-stream",
            b"\xEF\xBB\xBF<!DOCTYPE html><html></html>".to_vec(),
        ),
        (503, "text/plain; charset=utf-8", b"try later".to_vec()),
        (200, "", Vec::new()),
        (200, "", vec![0xFF, 0xFE, b'<', 0, b'h', 0]),
    ];
    for (status, ct, body) in cases {
        p.set_fault(
            Endpoint::Backup,
            Fault::Answer {
                status,
                content_type: ct.into(),
                body: body.clone(),
            },
            Some(1),
        );
        let r = c
            .get(format!("{base}/api/backup"))
            .bearer_auth(&t)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(
            r.headers().get("content-type").map(|v| v.to_str().unwrap()),
            (!ct.is_empty()).then_some(ct)
        );
        assert!(r.headers().get("x-ratelimit-remaining").is_none());
        assert!(r.headers().get("content-disposition").is_none());
        assert_eq!(r.bytes().await.expect("body").as_ref(), &body[..]);
    }
    // Consumed: the next backup is the real one.
    let r = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
}

#[tokio::test]
async fn header_and_filename_set_or_replace_response_headers() {
    let (sim, c, base, t) = setup(SimConfig {
        backup_size: 1000,
        ..cfg()
    })
    .await;
    let p = sim.primary();
    let header = |name: &str, value: &str| Fault::Header {
        name: name.into(),
        value: value.into(),
    };
    p.set_fault(
        Endpoint::Command,
        Fault::RateLimited {
            retry_after_secs: Some(1),
        },
        Some(1),
    );
    p.set_fault(Endpoint::Command, header("Retry-After", "1e20"), Some(1));
    p.set_fault(
        Endpoint::Command,
        header("X-RateLimit-Remaining", "-5"),
        Some(1),
    );
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1e20"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("-5"));
    assert_eq!(r.headers.get_all("retry-after").iter().count(), 1);

    p.set_fault(
        Endpoint::Backup,
        header(
            "Content-Disposition",
            "attachment; filename=\"manifest.json\"",
        ),
        Some(1),
    );
    p.set_fault(Endpoint::Backup, header("Content-Length", "5"), Some(1));
    let r = get(&c, &base, &t, "/api/backup").await;
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"manifest.json\"")
    );
    assert_eq!(
        r.header("content-length"),
        Some("1000"),
        "framing is left alone"
    );

    p.set_fault(
        Endpoint::Backup,
        Fault::Filename("a\"b€.nsb".into()),
        Some(1),
    );
    let r = c
        .get(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.headers()["content-disposition"].as_bytes(),
        "attachment; filename=\"a\"b€.nsb\"".as_bytes()
    );
}

#[tokio::test]
async fn reject_tokens_revokes_and_answers_access_denied_with_the_status() {
    let (sim, c, base, t) = setup(cfg()).await;
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::RejectTokens { status: 403 },
        Some(1),
    );
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["error"], "access_denied");
    // The old token is gone for good; a fresh one works.
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        401
    );
    let fresh = token(&c, &base).await;
    assert_eq!(
        command(&c, &base, &fresh, "action=check_health")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn echo_headers_leaks_the_request_headers_like_a_debug_proxy() {
    let (sim, c, base, t) = setup(cfg()).await;
    sim.primary().set_fault(
        Endpoint::Backup,
        Fault::EchoHeaders { status: 502 },
        Some(1),
    );
    let r = get(&c, &base, &t, "/api/backup").await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(r.body.contains("GET /api/backup HTTP/1.1"), "{}", r.body);
    assert!(
        r.body.contains(&format!("authorization: Bearer {t}")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn echo_headers_also_leaks_the_request_body_with_the_backup_password() {
    let (sim, c, base, t) = setup(cfg()).await;
    sim.primary().set_fault(
        Endpoint::Backup,
        Fault::EchoHeaders { status: 502 },
        Some(1),
    );
    let r = c
        .post(format!("{base}/api/backup"))
        .bearer_auth(&t)
        .header("Content-Type", "application/json")
        .body(r#"{"password":"Backup-Pass-4711"}"#)
        .send()
        .await
        .expect("request");
    let r = into_resp(r).await;
    assert_eq!(r.status, 502);
    assert!(r.body.contains("POST /api/backup HTTP/1.1"), "{}", r.body);
    assert!(
        r.body.contains(&format!("authorization: Bearer {t}")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#"{"password":"Backup-Pass-4711"}"#),
        "{}",
        r.body
    );
    // Armed once: the next backup is a normal one again.
    assert_eq!(get(&c, &base, &t, "/api/backup").await.status, 200);
}
