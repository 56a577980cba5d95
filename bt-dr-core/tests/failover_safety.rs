//! Failover safety through the public API against the in-process simulator pair:
//! reachable / unreachable / unknown, explicit overrides, execution on a fresh plan, and a
//! settle loop that never demotes anything on its own.

use crate::common;

use std::time::Duration;

use bt_dr_core::api::{Client, RetryPolicy};
use bt_dr_core::failover::{Reachability, plan_failover_with};
use bt_dr_core::{
    Error, ErrorKind, FailoverMode, FailoverOptions, FailoverOutcome, FailoverPlan, Site,
    execute_failover, plan_failover,
};
use bt_dr_sim::{Account, Endpoint, FailoverRole as SimRole, Fault, PermCommand, Sim};
use common::*;

fn fast() -> FailoverOptions {
    FailoverOptions {
        settle_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        ..FailoverOptions::default()
    }
}

fn forced() -> FailoverOptions {
    FailoverOptions {
        force_unknown: true,
        ..fast()
    }
}

/// A client that does not trust the simulator's CA (system roots only).
fn untrusted_client(sim: &Sim, a: &bt_dr_sim::SimAppliance) -> Client {
    Client::builder(&a.url())
        .credentials(&client_id(sim), SECRET.into())
        .site_name("support")
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

/// A URL where nothing listens.
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("https://127.0.0.1:{port}")
}

struct Pair {
    sim: Sim,
    site: Site,
    ha: String,
    hb: String,
}

async fn pair() -> Pair {
    pair_with(config()).await
}

async fn pair_with(cfg: bt_dr_sim::SimConfig) -> Pair {
    let sim = Sim::start_pair(cfg).await.unwrap();
    let site = pair_site(&sim);
    let ha = sim.primary().hostname().to_string();
    let hb = sim.backup().unwrap().hostname().to_string();
    Pair { sim, site, ha, hb }
}

impl Pair {
    fn a(&self) -> &bt_dr_sim::SimAppliance {
        self.sim.primary()
    }
    fn b(&self) -> &bt_dr_sim::SimAppliance {
        self.sim.backup().unwrap()
    }
    fn roles(&self) -> (SimRole, SimRole) {
        (self.a().failover_role(), self.b().failover_role())
    }
    async fn plan(
        &self,
        a: &Client,
        b: &Client,
        mode: FailoverMode,
    ) -> bt_dr_core::Result<FailoverPlan> {
        plan_failover(&self.site, (&self.ha, a), (&self.hb, b), mode).await
    }
    async fn execute(
        &self,
        a: &Client,
        b: &Client,
        plan: &FailoverPlan,
        opts: &FailoverOptions,
    ) -> bt_dr_core::Result<bt_dr_core::FailoverTimeline> {
        execute_failover(&self.site, (&self.ha, a), (&self.hb, b), plan, opts).await
    }
}

fn assert_unknown_refusal(e: &Error, host: &str) {
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    let m = e.to_string();
    assert!(m.contains("state unknown") && m.contains(host), "{m}");
}

#[tokio::test]
async fn untrusted_certificate_on_a_healthy_primary_refuses_unplanned() {
    let p = pair().await;
    let (a, b) = (untrusted_client(&p.sim, p.a()), client(&p.sim, p.b()));
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    assert!(
        e.to_string().contains("TLS"),
        "names the observed error: {e}"
    );
    // A planned failover cannot go ahead either while the primary's state is unknown.
    let e = p.plan(&a, &b, FailoverMode::Planned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup));
}

#[tokio::test]
async fn pin_mismatch_on_a_healthy_primary_refuses_unplanned() {
    let p = pair().await;
    let a = builder(&p.sim, p.a())
        .pin_sha256(&"00".repeat(32))
        .build()
        .unwrap();
    let b = client(&p.sim, p.b());
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup));
}

#[tokio::test]
async fn force_unknown_lets_an_unplanned_failover_proceed() {
    let p = pair().await;
    let (a, b) = (untrusted_client(&p.sim, p.a()), client(&p.sim, p.b()));
    let plan = plan_failover_with(
        &p.site,
        (&p.ha, &a),
        (&p.hb, &b),
        FailoverMode::Unplanned,
        &forced(),
    )
    .await
    .unwrap();
    assert_eq!(plan.from.hostname, p.ha);
    assert_eq!(plan.to.hostname, p.hb);
    assert_eq!(plan.from.reachability, Reachability::Unknown);
    assert_eq!(plan.from.error.as_ref().unwrap().kind, ErrorKind::Tls);
    assert!(!plan.from.reachable);
    assert!(
        plan.warnings.iter().any(|w| w.contains("force_unknown")),
        "{:?}",
        plan.warnings
    );
    // The override is needed again at execution, which plans afresh.
    let e = p.execute(&a, &b, &plan, &fast()).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup));

    let t = p.execute(&a, &b, &plan, &forced()).await.unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert_eq!(p.b().failover_role(), SimRole::Primary);
    assert!(
        t.follow_up
            .iter()
            .any(|s| s.contains("could not be checked")),
        "{:?}",
        t.follow_up
    );
}

#[tokio::test]
async fn primary_stopped_allows_unplanned() {
    let p = pair().await;
    let (a, b) = (client(&p.sim, p.a()), client(&p.sim, p.b()));
    p.a().set_down(true);
    let plan = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap();
    assert_eq!(
        plan.from.reachability,
        Reachability::Unreachable,
        "{plan:?}"
    );
    assert!(matches!(
        plan.from.error.as_ref().unwrap().kind,
        ErrorKind::Network | ErrorKind::Timeout
    ));
    assert!(plan.from.probe_error.is_some());
    let t = p.execute(&a, &b, &plan, &fast()).await.unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert_eq!(p.b().failover_role(), SimRole::Primary);
}

#[tokio::test]
async fn primary_at_a_closed_port_allows_unplanned() {
    let p = pair().await;
    let a = Client::builder(&closed_port_url())
        .credentials(&client_id(&p.sim), SECRET.into())
        .extra_ca_pem(p.sim.ca_pem().as_bytes().to_vec())
        .only_extra_ca(true)
        .site_name("support")
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let b = client(&p.sim, p.b());
    let plan = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap();
    assert_eq!(plan.from.hostname, p.ha);
    assert_eq!(
        plan.from.reachability,
        Reachability::Unreachable,
        "{plan:?}"
    );
    let t = p.execute(&a, &b, &plan, &fast()).await.unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert_eq!(p.b().failover_role(), SimRole::Primary);
}

#[tokio::test]
async fn auth_permission_rate_limit_and_parse_failures_are_state_unknown() {
    let mut cfg = config();
    let deny_id = format!("{}-deny", cfg.accounts[0].client_id);
    cfg.accounts.push(Account {
        perm_command: PermCommand::Deny,
        ..Account::read_only(&deny_id, SECRET)
    });
    let p = pair_with(cfg).await;
    let b = client(&p.sim, p.b());

    // 401: wrong secret.
    let a = builder(&p.sim, p.a())
        .credentials(&client_id(&p.sim), "not-the-secret".into())
        .build()
        .unwrap();
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);

    // 403: an account without command permission.
    let a = builder(&p.sim, p.a())
        .credentials(&deny_id, SECRET.into())
        .build()
        .unwrap();
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);

    // Rate limited past the budget.
    p.a().set_fault(
        Endpoint::Command,
        Fault::RateLimited {
            retry_after_secs: None,
        },
        None,
    );
    let a = builder(&p.sim, p.a())
        .retry_policy(RetryPolicy {
            max_rate_limit_waits: 0,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    p.a().clear_faults();

    // An answer that does not parse.
    p.a()
        .set_fault(Endpoint::Command, Fault::MalformedXml, None);
    let a = client(&p.sim, p.a());
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    p.a().clear_faults();

    // The API connection is reset but the unauthenticated probe answers: not unreachable.
    p.a()
        .set_fault(Endpoint::Command, Fault::ResetConnection, None);
    let e = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap_err();
    assert_unknown_refusal(&e, &p.ha);
    let plan = plan_failover_with(
        &p.site,
        (&p.ha, &a),
        (&p.hb, &b),
        FailoverMode::Unplanned,
        &forced(),
    )
    .await
    .unwrap();
    assert_eq!(plan.from.reachability, Reachability::Unknown);
    assert_eq!(plan.from.error.as_ref().unwrap().kind, ErrorKind::Network);
    assert_eq!(plan.from.probe_status, Some(200));
    p.a().clear_faults();

    // Nothing was changed by any of it.
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup));
}

#[tokio::test]
async fn an_appliance_to_promote_in_unknown_state_is_refused_even_with_force() {
    let p = pair().await;
    let (a, b) = (client(&p.sim, p.a()), untrusted_client(&p.sim, p.b()));
    p.a().set_health(false, Some("disk failure"));
    let e = plan_failover_with(
        &p.site,
        (&p.ha, &a),
        (&p.hb, &b),
        FailoverMode::Unplanned,
        &forced(),
    )
    .await
    .unwrap_err();
    assert_unknown_refusal(&e, &p.hb);
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup));
}

#[tokio::test]
async fn tampered_plan_hostnames_never_move_the_wrong_appliance() {
    let p = pair().await;
    let (a, b) = (client(&p.sim, p.a()), client(&p.sim, p.b()));
    p.a().set_down(true);
    let plan = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap();
    assert_eq!(
        (plan.from.hostname.as_str(), plan.to.hostname.as_str()),
        (p.ha.as_str(), p.hb.as_str())
    );

    let mut made_up_from = plan.clone();
    made_up_from.from.hostname = "evil.example.com".into();
    let mut made_up_to = plan.clone();
    made_up_to.to.hostname = "evil.example.com".into();
    let mut swapped = plan.clone();
    std::mem::swap(&mut swapped.from, &mut swapped.to);
    let mut other_site = plan.clone();
    other_site.site = "another-site".into();
    for bad in [&made_up_from, &made_up_to, &swapped, &other_site] {
        let e = p.execute(&a, &b, bad, &fast()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
        assert!(e.to_string().contains("plan again"), "{e}");
        // Nothing promoted, nothing demoted.
        assert_eq!(p.roles(), (SimRole::Primary, SimRole::Backup), "{bad:?}");
    }
    // The clients are passed in the other order: still the right appliance is promoted.
    let t = execute_failover(&p.site, (&p.hb, &b), (&p.ha, &a), &plan, &fast())
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert_eq!(p.b().failover_role(), SimRole::Primary);
    // The role change (after the redirect step) went to the right appliance.
    let role_change = t
        .events
        .iter()
        .find(|e| e.step == Some(bt_dr_core::FailoverStep::RoleChange))
        .expect("a role change event");
    assert!(role_change.event.starts_with(&p.hb), "{t:?}");
}

#[tokio::test]
async fn a_plan_made_before_the_roles_changed_is_refused() {
    let p = pair().await;
    let (a, b) = (client(&p.sim, p.a()), client(&p.sim, p.b()));
    let plan = p.plan(&a, &b, FailoverMode::Planned).await.unwrap();
    // Someone swapped the pair meanwhile.
    p.a().set_failover_role(SimRole::Backup);
    p.b().set_failover_role(SimRole::Primary);
    let e = p.execute(&a, &b, &plan, &fast()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    assert!(e.to_string().contains("does not match"), "{e}");
    assert_eq!(p.roles(), (SimRole::Backup, SimRole::Primary));
    // Split brain appeared meanwhile.
    p.a().set_failover_role(SimRole::Primary);
    let e = p.execute(&a, &b, &plan, &fast()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    assert!(e.to_string().contains("split brain"), "{e}");
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Primary));
}

/// The old primary is down while the backup is promoted (so it keeps its primary role), then
/// comes back before the first poll: both claim primary during the settle loop.
async fn split_brain_during_settle(demote: bool) -> (Pair, bt_dr_core::FailoverTimeline) {
    let p = pair().await;
    // A slow first retry gives the old primary time to come back before the first poll.
    let a = builder(&p.sim, p.a())
        .retry_policy(RetryPolicy {
            initial_backoff: Duration::from_millis(400),
            max_backoff: Duration::from_millis(400),
            max_attempts: 3,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let b = client(&p.sim, p.b());
    p.a().set_down(true);
    let plan = p.plan(&a, &b, FailoverMode::Unplanned).await.unwrap();
    let watcher = {
        let a_sim = p.a().clone();
        let b_sim = p.b().clone();
        tokio::spawn(async move {
            while b_sim.failover_role() != SimRole::Primary {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            a_sim.set_down(false);
        })
    };
    let opts = FailoverOptions {
        settle_timeout: Duration::from_millis(1500),
        poll_interval: Duration::from_millis(50),
        demote_old_primary: demote,
        ..FailoverOptions::default()
    };
    let t = p.execute(&a, &b, &plan, &opts).await.unwrap();
    watcher.await.unwrap();
    (p, t)
}

#[tokio::test]
async fn settle_never_demotes_without_being_asked() {
    let (p, t) = split_brain_during_settle(false).await;
    assert!(
        t.events.iter().any(|e| e.event == "both primary"),
        "split brain seen: {t:?}"
    );
    assert_eq!(t.outcome, FailoverOutcome::SplitBrain, "{t:?}");
    assert!(
        !t.events.iter().any(|e| e.event.contains("demoted")),
        "{t:?}"
    );
    // The old primary was left alone.
    assert_eq!(p.roles(), (SimRole::Primary, SimRole::Primary));
    assert!(
        t.follow_up
            .iter()
            .any(|s| s.contains(&p.ha) && s.contains("by hand")),
        "{:?}",
        t.follow_up
    );
}

#[tokio::test]
async fn settle_demotes_the_old_primary_only_when_asked() {
    let (p, t) = split_brain_during_settle(true).await;
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert!(
        t.events
            .iter()
            .any(|e| e.event.starts_with(&p.ha) && e.event.contains("demoted")),
        "{t:?}"
    );
    assert_eq!(p.roles(), (SimRole::Backup, SimRole::Primary));
}
