//! Reporting API: listings, session reports, recordings and archives.

use crate::common;

use std::io::Read;

use bt_dr_sim::{Account, Product, Sim, SimConfig, expected_recording_sha256_hex};
use common::*;
use sha2::{Digest, Sha256};

const BT_REP: &str = "https://www.beyondtrust.com/namespaces/API/reporting";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn ymd(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm) to avoid a date crate in tests.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[tokio::test]
async fn listing_and_window_validation() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let day_ago = now() - 86_400;
    let r = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=SupportSessionListing&start_time={day_ago}&duration=0"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=UTF-8"));
    assert!(
        r.body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n")
    );
    let x = r.xml();
    assert_eq!(x.name, "session_list");
    assert_eq!(x.ns.as_deref(), Some(BT_REP));
    let sessions = x.all("session");
    assert_eq!(sessions.len(), 3);
    for s in &sessions {
        assert_eq!(s.attr("lsid").map(str::len), Some(32));
        let st: i64 = s
            .child("start_time")
            .and_then(|n| n.attr("timestamp"))
            .expect("ts")
            .parse()
            .expect("int");
        let et: i64 = s
            .child("end_time")
            .and_then(|n| n.attr("timestamp"))
            .expect("ts")
            .parse()
            .expect("int");
        assert!(st >= day_ago && et >= st && et <= now());
        assert_eq!(s.text_of("duration"), Some((et - st).to_string()));
    }
    // A window ending before any session finds nothing.
    let x = reporting(
        &c,
        &base,
        &t,
        &format!(
            "generate_report=SupportSessionListing&start_time={}&duration=60",
            day_ago - 7200
        ),
    )
    .await
    .xml();
    assert_eq!(x.name, "session_list");
    assert!(x.all("session").is_empty());
    // By date, in days.
    let x = reporting(
        &c,
        &base,
        &t,
        &format!(
            "generate_report=SupportSessionListing&end_date={}&duration=2",
            ymd(day_ago)
        ),
    )
    .await
    .xml();
    assert_eq!(x.all("session").len(), 3);

    for (query, needle) in [
        ("generate_report=SupportSessionListing", "time window"),
        (
            "generate_report=SupportSessionListing&start_time=5",
            "duration",
        ),
        (
            "generate_report=SupportSessionListing&duration=5",
            "time window",
        ),
        (
            "generate_report=SupportSessionListing&start_time=5&end_time=9&duration=1",
            "Conflicting",
        ),
        (
            "generate_report=SupportSessionListing&start_date=2024-02-30&duration=1",
            "start_date",
        ),
        (
            "generate_report=SupportSessionListing&start_time=5&duration=-3",
            "duration",
        ),
        ("generate_report=SupportSessionListing&lsids=a,b", "lsids"),
        (
            "generate_report=SupportSession&lsid=abc&duration=3",
            "duration",
        ),
        (
            "generate_report=AccessSessionListing&start_time=5&duration=1",
            "AccessSessionListing",
        ),
        ("generate_report=Bogus", "Bogus"),
        ("", "generate_report"),
    ] {
        let r = reporting(&c, &base, &t, query).await;
        assert_eq!(r.status, 200, "{query}");
        let x = r.xml();
        assert_eq!(x.name, "error", "{query}: {}", r.body);
        assert_eq!(x.ns.as_deref(), Some(BT_REP));
        assert!(x.text.contains(needle), "{query}: {}", x.text);
    }
}

#[tokio::test]
async fn session_report_and_recording_download() {
    let cfg = SimConfig {
        recording_size: 100_000,
        ..cfg()
    };
    let sim = Sim::start_single(cfg.clone()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSession&start_time=0&duration=0",
    )
    .await
    .xml();
    let sessions = x.all("session");
    assert_eq!(sessions.len(), 3);
    let s = sessions[0];
    let lsid = s.attr("lsid").expect("lsid").to_string();
    let dur = s.text_of("duration").expect("duration");
    assert_eq!(dur.len(), 8);
    assert_eq!(dur.matches(':').count(), 2);
    assert_eq!(s.child("public_site").and_then(|n| n.attr("id")), Some("1"));
    assert_eq!(s.text_of("session_type").as_deref(), Some("support"));
    assert_eq!(
        s.child("primary_customer").and_then(|n| n.attr("gsnumber")),
        Some("1")
    );
    assert_eq!(s.text_of("primary_customer").as_deref(), Some("Customer 1"));
    let rep = s.child("primary_rep").expect("rep");
    assert_eq!(
        (rep.attr("gsnumber"), rep.attr("id")),
        (Some("2"), Some("1"))
    );
    let url = s.text_of("session_recording_download_url").expect("url");
    assert!(url.starts_with("https://"), "{url}");
    assert!(url.contains("generate_report=SupportSessionRecording"));

    // lsids selects sessions; unknown ids just do not match.
    let other = sessions[2].attr("lsid").expect("lsid");
    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=SupportSession&lsids={lsid},{other},ffff"),
    )
    .await
    .xml();
    assert_eq!(x.all("session").len(), 2);

    let resp = c.get(&url).bearer_auth(&t).send().await.expect("recording");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        resp.headers()["content-disposition"],
        format!("attachment; filename=\"{lsid}.flv\"").as_str()
    );
    let body = resp.bytes().await.expect("body");
    assert_eq!(body.len(), 100_000);
    assert_ne!(body[0], b'<');
    assert_eq!(
        hex::encode(Sha256::digest(&body)),
        expected_recording_sha256_hex(&cfg, &lsid)
    );

    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSessionRecording&lsid=ffff",
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
}

#[tokio::test]
async fn pra_uses_access_session_names() {
    let sim = Sim::start_single(SimConfig {
        product: Product::Pra,
        namespace: bt_dr_sim::XmlNamespace::Bomgar,
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=AccessSessionListing&start_time=0&duration=0",
    )
    .await
    .xml();
    assert_eq!(x.name, "session_list");
    assert_eq!(
        x.ns.as_deref(),
        Some("http://www.bomgar.com/namespaces/API/reporting")
    );
    assert_eq!(x.all("session").len(), 3);
    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=AccessSession&start_time=0&duration=0",
    )
    .await
    .xml();
    let url = x.all("session")[0]
        .text_of("session_recording_download_url")
        .expect("url");
    assert!(url.contains("AccessSessionRecording"));
    let x = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSessionListing&start_time=0&duration=0",
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=ArchiveListing&date={}", ymd(now())),
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
}

#[tokio::test]
async fn archives_list_and_decode() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    let today = ymd(now());
    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=ArchiveListing&date={today}"),
    )
    .await
    .xml();
    assert_eq!(x.name, "archives");
    let states = x.all("state_archive");
    let events = x.all("event_archive");
    assert!(states.len() >= 2 && events.len() >= 2);
    assert!(
        states[0]
            .child("time")
            .and_then(|n| n.attr("timestamp"))
            .is_some()
    );
    assert_eq!(states[0].text_of("index").as_deref(), Some("1"));
    assert!(
        events[0]
            .child("start_time")
            .and_then(|n| n.attr("timestamp"))
            .is_some()
    );
    assert!(
        events[0]
            .child("end_time")
            .and_then(|n| n.attr("timestamp"))
            .is_some()
    );

    let six_days_ago = ymd(now() - 6 * 86_400);
    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=ArchiveListing&date={six_days_ago}"),
    )
    .await
    .xml();
    assert_eq!(x.name, "archives");
    for date in [ymd(now() - 8 * 86_400), ymd(now() + 2 * 86_400)] {
        let x = reporting(
            &c,
            &base,
            &t,
            &format!("generate_report=ArchiveListing&date={date}"),
        )
        .await
        .xml();
        assert_eq!(x.name, "error");
        assert_eq!(x.text, "No archives found for the given search criteria.");
    }

    let resp = c
        .get(format!(
            "{base}/api/reporting?generate_report=Archive&type=state&date={today}&index=1"
        ))
        .bearer_auth(&t)
        .send()
        .await
        .expect("archive");
    assert_eq!(resp.headers()["content-type"], "application/x-gzip");
    let gz = resp.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    let state: serde_json::Value = serde_json::from_str(&text).expect("json object");
    assert!(state["support_session"].is_object());
    assert!(state["customer_client"].is_null());

    let resp = c
        .get(format!(
            "{base}/api/reporting?generate_report=Archive&type=event&date={today}&index=2"
        ))
        .bearer_auth(&t)
        .send()
        .await
        .expect("archive");
    let gz = resp.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l["event_type"].is_string()));

    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=Archive&type=state&date={today}&index=9"),
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
    let x = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=Archive&type=blob&date={today}&index=1"),
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
}

#[tokio::test]
async fn archive_permission_is_separate() {
    let mut acct = Account::full_access("noarch", "noarch-secret");
    acct.perm_reporting_archive = false;
    let sim = Sim::start_single(SimConfig {
        accounts: vec![acct],
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token_request(&c, &base, "noarch", "noarch-secret")
        .await
        .json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = reporting(
        &c,
        &base,
        &t,
        &format!("generate_report=ArchiveListing&date={}", ymd(now())),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.xml().text.contains("perm_reporting_archive"));
    let r = reporting(
        &c,
        &base,
        &t,
        "generate_report=SupportSessionListing&start_time=0&duration=0",
    )
    .await;
    assert_eq!(r.status, 200);
}
