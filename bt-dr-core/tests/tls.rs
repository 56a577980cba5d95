//! TLS: verified by default, custom CA and pinning as options, insecure only on request.

use crate::common;

use bt_dr_core::ErrorKind;
use bt_dr_core::api::Client;
use bt_dr_sim::Sim;
use common::*;

#[tokio::test]
async fn unknown_ca_is_refused() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = Client::builder(&sim.primary().url())
        .credentials(&client_id(&sim), SECRET.into())
        .build()
        .unwrap();
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
}

#[tokio::test]
async fn custom_ca_is_accepted_and_pin_is_enforced() {
    let sim = Sim::start_single(config()).await.unwrap();
    client(&sim, sim.primary()).check_health().await.unwrap();
    let good = builder(&sim, sim.primary())
        .pin_sha256(&sim.leaf_cert_sha256_hex())
        .build()
        .unwrap();
    good.check_health().await.unwrap();
    let bad = builder(&sim, sim.primary())
        .pin_sha256(&"00".repeat(32))
        .build()
        .unwrap();
    let e = bad.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls);
    assert!(e.to_string().contains("pin mismatch"), "{e}");
    // A pin alone (no CA) works only with the explicit dangerous switch.
    let pinned_only = Client::builder(&sim.primary().url())
        .credentials(&client_id(&sim), SECRET.into())
        .danger_accept_invalid_certs(true)
        .pin_sha256(&sim.leaf_cert_sha256_hex())
        .build()
        .unwrap();
    pinned_only.check_health().await.unwrap();
}

#[test]
fn plain_http_and_bad_urls_are_refused() {
    let e = Client::builder("http://support.example.com")
        .credentials("id", "s".into())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls);
    let e = Client::builder("ftp://x")
        .credentials("id", "s".into())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = Client::builder("https://user:pw@x.example.com")
        .credentials("id", "s".into())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(!e.to_string().contains("pw@"));
    let e = Client::builder("https://x.example.com")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        Client::builder("http://x.example.com")
            .credentials("id", "s".into())
            .danger_allow_http(true)
            .build()
            .is_ok()
    );
    let e = Client::builder("https://x.example.com")
        .credentials("id", "s".into())
        .pin_sha256("zz")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
