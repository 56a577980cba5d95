//! The failover state machine behind set_failover_role.

use crate::common;

use std::time::{Duration, Instant};

use bt_dr_sim::{FailoverRole, Sim, SimConfig};
use common::*;

async fn role_via_api(c: &reqwest::Client, base: &str, t: &str) -> String {
    command(c, base, t, "action=check_health")
        .await
        .xml()
        .text_of("failover_role")
        .expect("role")
}

#[tokio::test]
async fn planned_swap_passes_through_both_backup() {
    let sim = Sim::start_pair(SimConfig {
        data_sync_duration: Duration::from_millis(600),
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let b_app = sim.backup().expect("backup");
    let b = b_app.url();
    let t = token(&c, &a).await;
    let before = b_app.last_sync().0;

    let started = Instant::now();
    let x = command(
        &c,
        &b,
        &t,
        "action=set_failover_role&role=primary&data_sync_first=1",
    )
    .await
    .xml();
    assert_eq!(x.name, "success");
    assert_eq!(
        x.text,
        "Successfully started data sync. Role change will occur upon successful completion."
    );
    assert_eq!(role_via_api(&c, &a, &t).await, "backup");
    assert_eq!(role_via_api(&c, &b, &t).await, "backup");
    // Another role change is refused while the sync runs.
    let x = command(&c, &a, &t, "action=set_failover_role&role=primary")
        .await
        .xml();
    assert_eq!(x.name, "error");

    let deadline = started + Duration::from_secs(5);
    loop {
        if role_via_api(&c, &b, &t).await == "primary" {
            break;
        }
        assert!(Instant::now() < deadline, "swap never settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(550));
    assert_eq!(role_via_api(&c, &a, &t).await, "backup");
    assert_eq!(sim.primary().failover_role(), FailoverRole::Backup);
    let (after, status) = b_app.last_sync();
    assert!(after > before, "last sync time moved forward");
    assert_eq!(status, "success");
    let x = command(&c, &a, &t, "action=check_health").await.xml();
    assert_eq!(
        x.text_of("last_data_sync_status").as_deref(),
        Some("success")
    );
}

#[tokio::test]
async fn immediate_swap_flips_the_peer() {
    let sim = Sim::start_pair(cfg()).await.expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let t = token(&c, &a).await;
    let x = command(&c, &a, &t, "action=set_failover_role&role=backup")
        .await
        .xml();
    assert_eq!(x.name, "success");
    assert_eq!(x.text, "Successfully changed role.");
    assert_eq!(sim.primary().failover_role(), FailoverRole::Backup);
    assert_eq!(
        sim.backup().expect("b").failover_role(),
        FailoverRole::Primary
    );
    // Asking for the role it already has is a no-op success.
    let x = command(&c, &a, &t, "action=set_failover_role&role=backup")
        .await
        .xml();
    assert_eq!(x.name, "success");
    assert_eq!(
        sim.backup().expect("b").failover_role(),
        FailoverRole::Primary
    );
    // Missing / bad role.
    assert_eq!(
        command(&c, &a, &t, "action=set_failover_role")
            .await
            .xml()
            .name,
        "error"
    );
    assert_eq!(
        command(&c, &a, &t, "action=set_failover_role&role=boss")
            .await
            .xml()
            .name,
        "error"
    );
}

#[tokio::test]
async fn peer_down_blocks_data_sync_and_demotion_without_force() {
    let sim = Sim::start_pair(cfg()).await.expect("sim");
    let c = client(&sim);
    let a = sim.primary().url();
    let b_app = sim.backup().expect("backup");
    let t = token(&c, &a).await;
    b_app.set_down(true);
    assert!(b_app.is_down());
    // The down appliance is unreachable at the TCP/TLS level.
    assert!(
        c.get(format!("{}/check_health", b_app.url()))
            .send()
            .await
            .is_err()
    );
    assert_eq!(b_app.request_count(bt_dr_sim::Endpoint::Any), 0);

    let x = command(
        &c,
        &a,
        &t,
        "action=set_failover_role&role=backup&data_sync_first=1",
    )
    .await
    .xml();
    assert_eq!(x.name, "error");
    assert!(x.text.contains("peer"), "{}", x.text);
    let x = command(&c, &a, &t, "action=set_failover_role&role=backup")
        .await
        .xml();
    assert_eq!(x.name, "error");
    assert!(x.text.contains("force"), "{}", x.text);
    assert_eq!(sim.primary().failover_role(), FailoverRole::Primary);
    let x = command(&c, &a, &t, "action=set_failover_role&role=backup&force=1")
        .await
        .xml();
    assert_eq!(x.name, "success");
    assert_eq!(sim.primary().failover_role(), FailoverRole::Backup);
    // The unreachable peer kept its role.
    assert_eq!(b_app.failover_role(), FailoverRole::Backup);
}

#[tokio::test]
async fn unplanned_failover_then_old_primary_returns_in_split_brain() {
    let sim = Sim::start_pair(cfg()).await.expect("sim");
    let c = client(&sim);
    let a_app = sim.primary();
    let b_app = sim.backup().expect("backup");
    let t = token(&c, &b_app.url()).await;
    a_app.set_down(true);
    let x = command(
        &c,
        &b_app.url(),
        &t,
        "action=set_failover_role&role=primary",
    )
    .await
    .xml();
    assert_eq!(x.name, "success");
    assert_eq!(b_app.failover_role(), FailoverRole::Primary);
    a_app.set_down(false);
    assert_eq!(role_via_api(&c, &a_app.url(), &t).await, "primary");
    assert_eq!(role_via_api(&c, &b_app.url(), &t).await, "primary");
    // Demote the old primary now that both can see each other.
    let x = command(&c, &a_app.url(), &t, "action=set_failover_role&role=backup")
        .await
        .xml();
    assert_eq!(x.name, "success");
    assert_eq!(a_app.failover_role(), FailoverRole::Backup);
    assert_eq!(b_app.failover_role(), FailoverRole::Primary);
}

#[tokio::test]
async fn forced_roles_and_sync_failure_when_peer_drops() {
    let sim = Sim::start_pair(SimConfig {
        data_sync_duration: Duration::from_millis(1000),
        ..cfg()
    })
    .await
    .expect("sim");
    let c = client(&sim);
    let a = sim.primary();
    let b = sim.backup().expect("backup");
    let t = token(&c, &a.url()).await;
    b.set_failover_role(FailoverRole::Primary);
    assert_eq!(role_via_api(&c, &a.url(), &t).await, "primary");
    assert_eq!(role_via_api(&c, &b.url(), &t).await, "primary");
    b.set_failover_role(FailoverRole::Backup);

    let x = command(
        &c,
        &b.url(),
        &t,
        "action=set_failover_role&role=primary&data_sync_first=1",
    )
    .await
    .xml();
    assert_eq!(x.name, "success");
    a.set_down(true);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The sync could not finish: roles are restored and the status records the failure.
    assert_eq!(a.failover_role(), FailoverRole::Primary);
    assert_eq!(b.failover_role(), FailoverRole::Backup);
    assert_eq!(b.last_sync().1, "failed");
}
