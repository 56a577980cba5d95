//! OAuth2 token endpoint and bearer checks.

use crate::common;

use std::time::Duration;

use bt_dr_sim::{Account, Sim, SimConfig};
use common::*;
use reqwest::header::CONTENT_TYPE;

#[tokio::test]
async fn token_has_documented_shape() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let r = token_request(&c, &sim.primary().url(), ID, SECRET).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header("server"), Some("Apache"));
    let v = r.json();
    let tok = v["access_token"].as_str().expect("token");
    assert_eq!(tok.len(), 40);
    assert!(tok.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(sim.tokens_issued(ID), 1);
    let h = command(&c, &sim.primary().url(), tok, "action=check_health").await;
    assert_eq!(h.status, 200, "{}", h.body);
}

#[tokio::test]
async fn bad_credentials_are_invalid_client() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let r = token_request(&c, &base, ID, "wrong").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(r.json()["message"].is_string());
    let r = token_request(&c, &base, "nobody", SECRET).await;
    assert_eq!(r.status, 401);
    // No credentials at all.
    let r = into_resp(
        c.post(format!("{base}/oauth2/token"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 401);
    // Wrong grant type.
    let r = into_resp(
        c.post(format!("{base}/oauth2/token"))
            .basic_auth(ID, Some(SECRET))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=password")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    assert_eq!(sim.tokens_issued(ID), 0);
}

#[tokio::test]
async fn lenient_token_request_forms() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    // JSON body + Basic auth.
    let r = into_resp(
        c.post(format!("{base}/oauth2/token"))
            .basic_auth(ID, Some(SECRET))
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"grant_type":"client_credentials"}"#)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Credentials in the form body.
    let r = into_resp(
        c.post(format!("{base}/oauth2/token"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=client_credentials&client_id={ID}&client_secret={SECRET}"
            ))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sim.tokens_issued(ID), 2);
}

#[tokio::test]
async fn thirty_first_token_evicts_the_oldest() {
    let sim = Sim::start_single(cfg()).await.expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let mut tokens = Vec::new();
    for _ in 0..30 {
        tokens.push(token(&c, &base).await);
    }
    let ok = command(&c, &base, &tokens[0], "action=check_health").await;
    assert_eq!(ok.status, 200);
    let newest = token(&c, &base).await;
    assert_eq!(sim.tokens_issued(ID), 31);
    let denied = command(&c, &base, &tokens[0], "action=check_health").await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["error"], "access_denied");
    assert_eq!(
        denied.json()["message"],
        "The resource owner or authorization server denied the request."
    );
    for t in [&tokens[1], &tokens[29], &newest] {
        assert_eq!(
            command(&c, &base, t, "action=check_health").await.status,
            200
        );
    }
}

#[tokio::test]
async fn bearer_is_required_and_checked() {
    let sim = Sim::start_single(SimConfig {
        invalid_token_status: 403,
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let r = into_resp(
        c.get(format!("{base}/api/command?action=check_health"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "access_denied");
    assert!(r.header("x-ratelimit-limit").is_some());
    let r = command(&c, &base, "not-a-token", "action=check_health").await;
    assert_eq!(r.status, 403);
    let r = get(&c, &base, "not-a-token", "/api/backup").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn tokens_expire() {
    let sim = Sim::start_single(SimConfig {
        token_lifetime_secs: 1,
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let base = sim.primary().url();
    let t = token(&c, &base).await;
    assert_eq!(
        command(&c, &base, &t, "action=check_health").await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = command(&c, &base, &t, "action=check_health").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "access_denied");
}

#[tokio::test]
async fn tokens_are_shared_by_the_pair_and_revoked_by_secret_regeneration() {
    let sim = Sim::start_pair(SimConfig {
        accounts: vec![
            Account::full_access(ID, SECRET),
            Account::full_access("other", "other-secret"),
        ],
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let b = sim.backup().expect("backup").url();
    let t = token(&c, &a).await;
    assert_eq!(command(&c, &b, &t, "action=check_health").await.status, 200);
    let other = token_request(&c, &b, "other", "other-secret").await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();

    sim.regenerate_secret(ID, "new-secret");
    assert_eq!(command(&c, &a, &t, "action=check_health").await.status, 401);
    assert_eq!(token_request(&c, &a, ID, SECRET).await.status, 401);
    assert_eq!(token_request(&c, &a, ID, "new-secret").await.status, 200);
    // The other account is untouched.
    assert_eq!(
        command(&c, &a, &other, "action=check_health").await.status,
        200
    );
}
