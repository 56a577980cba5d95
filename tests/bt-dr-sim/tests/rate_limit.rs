//! Per-account rate limiting and the X-RateLimit headers.

use crate::common;

use bt_dr_sim::{Sim, SimConfig};
use common::*;

#[tokio::test]
async fn per_second_limit_returns_429_with_headers() {
    let sim = Sim::start_pair(SimConfig {
        rate_limit_per_second: 5,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let b = sim.backup().expect("backup").url();
    let t = token(&c, &a).await;
    let first = command(&c, &a, &t, "action=check_health").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("15000"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("14999"));
    assert_eq!(first.header("server"), Some("Apache"));
    assert_eq!(first.header("connection"), Some("close"));
    // Both appliances of the pair draw from one bucket for the account.
    let mut limited = None;
    for i in 0..20 {
        let base = if i % 2 == 0 { &b } else { &a };
        let r = command(&c, base, &t, "action=check_health").await;
        if r.status != 200 {
            limited = Some((i, r));
            break;
        }
    }
    let (_, r) = limited.expect("rate limited within 20 requests");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("x-ratelimit-limit"), Some("15000"));
    // The bucket refills.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(command(&c, &a, &t, "action=check_health").await.status, 200);
}

#[tokio::test]
async fn hourly_limit_and_configurable_status() {
    let sim = Sim::start_single(SimConfig {
        rate_limit_per_second: 1000,
        rate_limit_per_hour: 3,
        rate_limit_status: 503,
        send_retry_after: false,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let t = token(&c, &a).await;
    let remaining: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let r = command(&c, &a, &t, "action=check_health").await;
            assert_eq!(r.status, 200);
            v.push(r.header("x-ratelimit-remaining").unwrap_or("").to_string());
        }
        v
    };
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = command(&c, &a, &t, "action=check_health").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("retry-after"), None);
    // Token requests are not charged.
    assert_eq!(token_request(&c, &a, ID, SECRET).await.status, 200);
}
