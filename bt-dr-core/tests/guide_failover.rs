//! Failover as the guide orders it: identical certificates on both appliances (issue 13 item 7),
//! redirect -> role change -> confirm clients (item 8), and restoring onto an appliance in
//! active failover (item 9).

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bt_dr_core::api::Client;
use bt_dr_core::certificate::LeafComparison;
use bt_dr_core::failover::{
    FailoverStep, RedirectMethod, RedirectRequest, TimelineEvent, TrafficRedirect,
    plan_failover_with,
};
use bt_dr_core::{
    AuditInput, AuditOptions, ErrorKind, FailoverMode, FailoverOptions, FailoverOutcome,
    FailoverTimeline, Inventory, RestoreCompatibility, RoutingMethod, UpgradeTable, audit,
    check_restore_onto, collect_live, execute_failover, plan_failover, render_runbook,
};
use bt_dr_sim::{FailoverRole as SimRole, Sim, SimConfig};
use common::*;

fn fast() -> FailoverOptions {
    FailoverOptions {
        settle_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(50),
        redirect_verify_timeout: Duration::from_secs(2),
        confirm_timeout: Duration::from_secs(5),
        ..FailoverOptions::default()
    }
}

fn pair_clients(sim: &Sim) -> (Client, Client) {
    (
        client(sim, sim.primary()),
        client(sim, sim.backup().unwrap()),
    )
}

fn names(sim: &Sim) -> (String, String) {
    (
        sim.primary().hostname().to_string(),
        sim.backup().unwrap().hostname().to_string(),
    )
}

fn distinct() -> SimConfig {
    SimConfig {
        distinct_certificates: true,
        ..config()
    }
}

/// Index of the first event of `step` (panics with the timeline when there is none).
fn first(t: &FailoverTimeline, step: FailoverStep) -> usize {
    t.events
        .iter()
        .position(|e| e.step == Some(step))
        .unwrap_or_else(|| panic!("no {step:?} event: {t:#?}"))
}

fn last(t: &FailoverTimeline, step: FailoverStep) -> usize {
    t.events
        .iter()
        .rposition(|e| e.step == Some(step))
        .unwrap_or_else(|| panic!("no {step:?} event: {t:#?}"))
}

fn has(t: &FailoverTimeline, step: FailoverStep) -> bool {
    t.events.iter().any(|e| e.step == Some(step))
}

// ---- item 7: identical certificates ---------------------------------------------------------

#[tokio::test]
async fn the_client_records_the_served_leaf_in_every_trust_mode() {
    let sim = Sim::start_single(config()).await.unwrap();
    let want = sim.leaf_cert_sha256_hex();
    let url = sim.primary().url();
    let plain = || Client::builder(&url).credentials(&client_id(&sim), SECRET.into());

    let extra_ca = client(&sim, sim.primary());
    assert_eq!(extra_ca.served_leaf_sha256(), None, "nothing connected yet");
    extra_ca.check_health().await.unwrap();
    assert_eq!(
        extra_ca.served_leaf_sha256().as_deref(),
        Some(want.as_str())
    );
    // Clones share the record.
    assert_eq!(extra_ca.clone().served_leaf_sha256(), Some(want.clone()));
    // The expiry clients see: the simulator's leaf is valid for 397 days from its start.
    let not_after = extra_ca.served_leaf_not_after().expect("leaf notAfter");
    let days = (not_after - time::OffsetDateTime::now_utc()).whole_days();
    assert!((395..=397).contains(&days), "notAfter in {days} days");

    let pinned = builder(&sim, sim.primary())
        .pin_sha256(&want)
        .build()
        .unwrap();
    pinned.probe_health().await.unwrap();
    assert_eq!(pinned.served_leaf_sha256(), Some(want.clone()));

    let insecure = plain().danger_accept_invalid_certs(true).build().unwrap();
    insecure.check_health().await.unwrap();
    assert_eq!(insecure.served_leaf_sha256(), Some(want.clone()));

    // Not trusted (system roots only) or pinned to something else: the handshake fails, and
    // the record still says what was served.
    let untrusted = plain().build().unwrap();
    assert_eq!(
        untrusted.check_health().await.unwrap_err().kind(),
        ErrorKind::Tls
    );
    assert_eq!(untrusted.served_leaf_sha256(), Some(want.clone()));
    assert_eq!(untrusted.served_leaf_not_after(), Some(not_after));
    let wrong_pin = builder(&sim, sim.primary())
        .pin_sha256(&"00".repeat(32))
        .build()
        .unwrap();
    assert!(wrong_pin.check_health().await.is_err());
    assert_eq!(wrong_pin.served_leaf_sha256(), Some(want));

    // Plain http has no handshake to record.
    let http = Client::builder(&url.replacen("https://", "http://", 1))
        .credentials(&client_id(&sim), SECRET.into())
        .danger_allow_http(true)
        .build()
        .unwrap();
    let _ = http.probe_health().await;
    assert_eq!(http.served_leaf_sha256(), None);
}

#[tokio::test]
async fn identical_certificates_let_a_planned_failover_through() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let plan = plan_failover(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned)
        .await
        .unwrap();
    assert_eq!(plan.certificates, LeafComparison::Identical);
    let leaf = sim.leaf_cert_sha256_hex();
    assert_eq!(plan.from.served_leaf_sha256.as_deref(), Some(leaf.as_str()));
    assert_eq!(plan.to.served_leaf_sha256.as_deref(), Some(leaf.as_str()));
    assert!(
        !plan.warnings.iter().any(|w| w.contains("certificate")),
        "{:?}",
        plan.warnings
    );
}

#[tokio::test]
async fn different_certificates_refuse_a_planned_failover_unless_forced() {
    let sim = Sim::start_pair(distinct()).await.unwrap();
    let (leaf_a, leaf_b) = (
        sim.primary().leaf_cert_sha256_hex(),
        sim.backup().unwrap().leaf_cert_sha256_hex(),
    );
    assert_ne!(leaf_a, leaf_b, "the simulator serves two certificates");
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);

    let e = plan_failover(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    let msg = e.to_string();
    assert!(
        msg.contains("identical certificates") && msg.contains("force_certificate_mismatch"),
        "{msg}"
    );
    assert!(
        msg.contains(&leaf_a[..16]) && msg.contains(&leaf_b[..16]),
        "{msg}"
    );
    // Execution plans afresh, so it refuses too, and nothing moved.
    let forced = FailoverOptions {
        force_certificate_mismatch: true,
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &forced)
        .await
        .unwrap();
    assert_eq!(plan.certificates, LeafComparison::Different);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("force_certificate_mismatch") && w.contains("identical")),
        "{:?}",
        plan.warnings
    );
    let e = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &fast())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    assert_eq!(sim.primary().failover_role(), SimRole::Primary);

    // The live audit makes the same comparison.
    let clients = vec![(ha.clone(), a.clone()), (hb.clone(), b.clone())];
    let live = vec![collect_live(&site.name, &clients).await];
    assert_eq!(
        live[0]
            .appliance(&hb)
            .unwrap()
            .served_cert_sha256
            .as_deref(),
        Some(leaf_b.as_str())
    );
    let inv = Inventory {
        sites: vec![site.clone()],
        ..Inventory::default()
    };
    let report = audit(AuditInput {
        inventory: &inv,
        store: None,
        live: &live,
        upgrade_table: &UpgradeTable::default(),
        options: &AuditOptions::default(),
    })
    .unwrap();
    assert_eq!(
        report.with_id("pair_certificates_differ").count(),
        1,
        "{}",
        report.to_markdown()
    );

    // With the primary gone the certificates cannot be compared: a warning, not a refusal.
    sim.primary().set_down(true);
    let plan = plan_failover(&site, (&ha, &a), (&hb, &b), FailoverMode::Unplanned)
        .await
        .unwrap();
    assert_eq!(plan.certificates, LeafComparison::Unknown);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("could not be compared") && w.contains(&ha)),
        "{:?}",
        plan.warnings
    );
}

// ---- item 8: redirect -> role change -> confirm ---------------------------------------------

#[tokio::test]
async fn a_redirect_callback_runs_first_and_the_timeline_keeps_the_guides_order() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let seen: Arc<Mutex<Vec<(RedirectRequest, SimRole)>>> = Arc::default();
    let hook = {
        let (seen, backup) = (seen.clone(), sim.backup().unwrap().clone());
        TrafficRedirect::callback(move |req| {
            // Runs before the role change: the target is still backup here.
            seen.lock()
                .unwrap()
                .push((req.clone(), backup.failover_role()));
            backup.take_site_address();
            Ok(())
        })
    };
    let opts = FailoverOptions {
        redirect: Some(hook),
        site_url: Some(sim.site_url()),
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    let steps: Vec<_> = plan.steps.iter().map(|s| s.step.unwrap()).collect();
    assert_eq!(
        steps,
        [
            FailoverStep::Redirect,
            FailoverStep::VerifyRedirect,
            FailoverStep::RoleChange,
            FailoverStep::Settle,
            FailoverStep::Confirm
        ]
    );
    assert!(plan.steps.iter().all(|s| s.automated), "{:?}", plan.steps);
    assert_eq!(plan.site_url.as_deref(), Some(sim.site_url().as_str()));
    assert_eq!(sim.site_target(), 0, "planning moves nothing");

    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:#?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (req, role_then) = &seen[0];
    assert_eq!(*role_then, SimRole::Backup);
    assert_eq!(
        (req.from.as_str(), req.to.as_str(), req.fqdn.as_str()),
        (ha.as_str(), hb.as_str(), site.fqdn.as_str())
    );
    assert_eq!(req.routing, RoutingMethod::DnsSwing);
    assert_eq!(req.to_ip.as_deref(), Some("10.0.0.12"));

    assert!(
        last(&t, FailoverStep::Redirect) < first(&t, FailoverStep::VerifyRedirect)
            && last(&t, FailoverStep::VerifyRedirect) < first(&t, FailoverStep::RoleChange)
            && last(&t, FailoverStep::RoleChange) < first(&t, FailoverStep::Settle)
            && last(&t, FailoverStep::Settle) < first(&t, FailoverStep::Confirm),
        "{t:#?}"
    );
    let r = t.redirect.as_ref().unwrap();
    assert_eq!(r.method, RedirectMethod::Callback);
    assert!(r.ran && r.verified, "{r:?}");
    assert_eq!(r.answered_by.as_deref(), Some(hb.as_str()));
    let c = t.confirmation.as_ref().unwrap();
    assert!(c.confirmed, "{c:?}");
    assert!(c.connected_clients.unwrap() > 0 && c.site_healthy && c.site_reaches_target);
    assert_eq!(c.site_answered_by.as_deref(), Some(hb.as_str()));
    // Nothing is left for a person: the swing was automated and seen to work.
    assert!(
        !t.follow_up.iter().any(|f| f.contains("DNS")),
        "{:?}",
        t.follow_up
    );
    assert_eq!(sim.backup().unwrap().failover_role(), SimRole::Primary);
}

#[tokio::test]
async fn a_redirect_command_gets_the_facts_in_its_environment_and_can_swing() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let control = bt_dr_sim::control::ControlServer::start(sim.appliances().to_vec(), 0)
        .await
        .unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env.txt");
    // A swing script: note what bt-dr passed, then ask the simulator's control API (plain
    // HTTP over bash's /dev/tcp) to point the site address at the target.
    let script = format!(
        r#"env | grep '^BT_DR_' | sort > "$1"
exec 3<>/dev/tcp/127.0.0.1/{port}
printf 'POST /appliances/1/take_site_address HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' >&3
cat <&3 >/dev/null"#,
        port = control.port()
    );
    let opts = FailoverOptions {
        redirect: Some(TrafficRedirect::command([
            "bash".to_string(),
            "-c".into(),
            script,
            "swing".into(),
            env_file.display().to_string(),
        ])),
        site_url: Some(sim.site_url()),
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    assert!(
        plan.steps[0].action.contains("the redirect command `bash`")
            && !plan.steps[0].action.contains("take_site_address"),
        "the plan names the program, not its arguments: {:?}",
        plan.steps[0]
    );
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:#?}");
    assert_eq!(t.redirect.as_ref().unwrap().method, RedirectMethod::Command);
    assert!(t.redirect.as_ref().unwrap().verified);
    assert!(t.confirmation.as_ref().unwrap().confirmed, "{t:#?}");
    let env = std::fs::read_to_string(&env_file).unwrap();
    for line in [
        "BT_DR_SITE=support".to_string(),
        format!("BT_DR_FQDN={}", site.fqdn),
        format!("BT_DR_FROM={ha}"),
        format!("BT_DR_TO={hb}"),
        "BT_DR_TO_IP=10.0.0.12".into(),
        "BT_DR_ROUTING=dns-swing".into(),
        "BT_DR_MODE=planned".into(),
        format!("BT_DR_SITE_URL={}", sim.site_url()),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing from\n{env}");
    }
    control.shutdown().await;
}

/// The roles as they were: nothing changed.
fn assert_untouched(sim: &Sim, t: &FailoverTimeline) {
    assert!(!has(t, FailoverStep::RoleChange), "{t:#?}");
    assert!(t.confirmation.is_none());
    assert_eq!(sim.primary().failover_role(), SimRole::Primary);
    assert_eq!(sim.backup().unwrap().failover_role(), SimRole::Backup);
}

#[tokio::test]
async fn a_failing_redirect_command_stops_before_the_role_change() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let run = |argv: Vec<&str>, timeout: Duration| FailoverOptions {
        redirect: Some(TrafficRedirect::command(argv).with_timeout(timeout)),
        site_url: Some(sim.site_url()),
        ..fast()
    };
    let opts = run(
        vec!["sh", "-c", "echo 'zone update refused' >&2; exit 1"],
        Duration::from_secs(10),
    );
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::RedirectFailed, "{t:#?}");
    let e = t.error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(
        e.message.contains("exit status: 1") && e.message.contains("zone update refused"),
        "{e:?}"
    );
    let failed: &TimelineEvent = t.events.last().unwrap();
    assert_eq!(failed.step, Some(FailoverStep::Redirect));
    assert!(failed.error.is_some() && failed.event.contains("no role was changed"));
    assert!(!t.redirect.as_ref().unwrap().ran);
    assert!(
        t.follow_up
            .iter()
            .any(|f| f.contains("no role was changed"))
    );
    assert_untouched(&sim, &t);

    // A command that does not finish in time is killed: a typed time-out, nothing changed.
    let opts = run(vec!["sleep", "30"], Duration::from_millis(300));
    let started = std::time::Instant::now();
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(t.outcome, FailoverOutcome::RedirectFailed);
    assert_eq!(t.error.as_ref().unwrap().kind, ErrorKind::Timeout);
    assert_untouched(&sim, &t);

    // A program that does not exist.
    let opts = run(vec!["/nonexistent/bt-dr-swing"], Duration::from_secs(5));
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::RedirectFailed);
    assert_eq!(t.error.as_ref().unwrap().kind, ErrorKind::Io);
    assert_untouched(&sim, &t);

    // A callback that fails or panics: its error is the typed error; a panic is contained.
    for hook in [
        TrafficRedirect::callback(|_| {
            Err(bt_dr_core::Error::PermissionDenied {
                operation: "dns update".into(),
                permission: "zone:write".into(),
            })
        }),
        TrafficRedirect::callback(|_| panic!("the DNS library panicked")),
    ] {
        let opts = FailoverOptions {
            redirect: Some(hook),
            site_url: Some(sim.site_url()),
            ..fast()
        };
        let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
            .await
            .unwrap();
        assert_eq!(t.outcome, FailoverOutcome::RedirectFailed);
        assert!(matches!(
            t.error.as_ref().unwrap().kind,
            ErrorKind::PermissionDenied | ErrorKind::Internal
        ));
        assert_untouched(&sim, &t);
    }
}

#[tokio::test]
async fn a_hook_that_does_not_swing_is_a_typed_mismatch() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let opts = FailoverOptions {
        redirect: Some(TrafficRedirect::command(["true"])),
        site_url: Some(sim.site_url()),
        redirect_verify_timeout: Duration::from_millis(600),
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::RedirectMismatch, "{t:#?}");
    let e = t.error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::Refused);
    assert!(
        e.message.contains(&format!("still answers as {ha}")) && e.message.contains(&hb),
        "{e:?}"
    );
    let r = t.redirect.as_ref().unwrap();
    assert!(r.ran && !r.verified);
    assert_eq!(r.answered_by.as_deref(), Some(ha.as_str()));
    assert!(has(&t, FailoverStep::VerifyRedirect));
    assert_untouched(&sim, &t);

    // A site URL whose name does not resolve is not waited for.
    let opts = FailoverOptions {
        site_url: Some("https://bt-dr-test.invalid".into()),
        redirect_verify_timeout: Duration::from_secs(60),
        ..opts
    };
    let started = std::time::Instant::now();
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(t.outcome, FailoverOutcome::RedirectMismatch);
    assert!(
        t.error
            .as_ref()
            .unwrap()
            .message
            .contains("does not resolve"),
        "{t:#?}"
    );
    assert_untouched(&sim, &t);
}

#[tokio::test]
async fn without_a_hook_the_swing_is_manual_and_checked_when_confirming() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let opts = FailoverOptions {
        site_url: Some(sim.site_url()),
        confirm_timeout: Duration::from_millis(800),
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    assert_eq!(plan.steps[0].step, Some(FailoverStep::Redirect));
    assert!(!plan.steps[0].automated && plan.steps[0].action.contains("DNS A record"));
    assert_eq!(plan.steps.last().unwrap().step, Some(FailoverStep::Confirm));
    // Nobody swings: the roles still change (the step does not block), and the timeline says
    // the site URL does not reach the new primary.
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:#?}");
    assert!(first(&t, FailoverStep::Redirect) < first(&t, FailoverStep::RoleChange));
    assert!(last(&t, FailoverStep::Settle) < first(&t, FailoverStep::Confirm));
    let r = t.redirect.as_ref().unwrap();
    assert_eq!(r.method, RedirectMethod::Manual);
    assert!(!r.ran && !r.verified);
    assert_eq!(r.answered_by.as_deref(), Some(ha.as_str()));
    let c = t.confirmation.as_ref().unwrap();
    assert!(!c.confirmed && !c.site_reaches_target);
    assert!(c.connected_clients.unwrap() > 0);
    assert!(
        t.follow_up.iter().any(|f| f.contains("DNS A record"))
            && t.follow_up
                .iter()
                .any(|f| f.contains(&format!("answers as {ha}"))),
        "{:?}",
        t.follow_up
    );

    // Swung by hand before the run: the confirmation sees it and the step is done.
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    let opts = FailoverOptions {
        site_url: Some(sim.site_url()),
        ..fast()
    };
    assert!(sim.point_site_at(1));
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    let t = execute_failover(&site, (&ha, &a), (&hb, &b), &plan, &opts)
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled);
    assert!(t.redirect.as_ref().unwrap().verified);
    assert!(t.confirmation.as_ref().unwrap().confirmed, "{t:#?}");
    assert!(
        !t.follow_up.iter().any(|f| f.contains("DNS")),
        "{:?}",
        t.follow_up
    );
}

#[tokio::test]
async fn shared_ip_needs_no_redirect_and_hooks_are_checked_when_planning() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    let (a, b) = pair_clients(&sim);
    let (ha, hb) = names(&sim);
    site.failover.as_mut().unwrap().routing = RoutingMethod::SharedIp;
    let opts = FailoverOptions {
        redirect: Some(TrafficRedirect::command(["true"])),
        ..fast()
    };
    let plan = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &opts)
        .await
        .unwrap();
    assert_eq!(plan.steps[0].step, Some(FailoverStep::Redirect));
    assert!(plan.steps[0].automated && plan.steps[0].action.contains("shared IP"));
    assert!(plan.warnings.iter().any(|w| w.contains("not run")));
    assert_eq!(
        plan.site_url.as_deref(),
        Some(format!("https://{}", site.fqdn).as_str())
    );

    site.failover.as_mut().unwrap().routing = RoutingMethod::NatSwing;
    for (bad, field) in [
        (
            FailoverOptions {
                redirect: Some(TrafficRedirect::command(Vec::<String>::new())),
                ..fast()
            },
            "redirect.command",
        ),
        (
            FailoverOptions {
                redirect: Some(TrafficRedirect::command(["true"]).with_timeout(Duration::ZERO)),
                ..fast()
            },
            "redirect.timeout_ms",
        ),
        (
            FailoverOptions {
                site_url: Some("ftp://support.example.com".into()),
                ..fast()
            },
            "site_url",
        ),
    ] {
        let e = plan_failover_with(&site, (&ha, &a), (&hb, &b), FailoverMode::Planned, &bad)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert_eq!(e.details()["field"], field, "{e}");
    }
}

#[test]
fn the_hook_has_a_json_form_and_old_json_still_reads() {
    let hook: TrafficRedirect =
        serde_json::from_str(r#"{"command": ["/usr/local/bin/swing-dns", "--key", "k3y"]}"#)
            .unwrap();
    assert_eq!(hook.command.len(), 3);
    assert_eq!(hook.timeout_ms, 120_000);
    assert!(hook.callback.is_none());
    let debug = format!("{hook:?}");
    assert!(
        debug.contains("swing-dns") && !debug.contains("k3y"),
        "{debug}"
    );
    assert!(serde_json::from_str::<TrafficRedirect>(r#"{"cmd": ["x"]}"#).is_err());
    let back = serde_json::to_value(&hook).unwrap();
    assert_eq!(back["command"][0], "/usr/local/bin/swing-dns");
    assert_eq!(back["timeout_ms"], 120_000);

    let old_event: TimelineEvent = serde_json::from_str(
        r#"{"elapsed_ms": 5, "event": "target is primary", "from_role": "backup", "to_role": "primary"}"#,
    )
    .unwrap();
    assert!(old_event.step.is_none() && old_event.error.is_none());
    let old_timeline: FailoverTimeline = serde_json::from_str(
        r#"{"site": "support", "mode": "planned", "events": [], "outcome": "settled", "follow_up": []}"#,
    )
    .unwrap();
    assert!(old_timeline.redirect.is_none() && old_timeline.confirmation.is_none());
    let old_step: bt_dr_core::failover::PlanStep =
        serde_json::from_str(r#"{"action": "x", "automated": true}"#).unwrap();
    assert!(old_step.step.is_none());
    // The options read without any of the new fields, with their defaults.
    let opts: FailoverOptions = serde_json::from_str(
        r#"{"settle_timeout": {"secs": 5, "nanos": 0}, "poll_interval": {"secs": 0, "nanos": 50000000}}"#,
    )
    .unwrap();
    assert!(!opts.force_certificate_mismatch && opts.redirect.is_none());
    assert_eq!(
        opts.confirm_timeout,
        FailoverOptions::default().confirm_timeout
    );
}

// ---- item 9: restore onto an appliance in active failover ------------------------------------

#[tokio::test]
async fn restore_onto_a_pair_and_the_runbook_follow_the_guides_order() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (ha, hb) = names(&sim);
    let c = check_restore_onto(
        &site,
        &site.version,
        Some(site.product),
        &UpgradeTable::default(),
    );
    assert_eq!(c.compatibility, RestoreCompatibility::Supported);
    assert!(c.warning.as_ref().unwrap().contains("pre-shared key"));
    assert_eq!(c.steps.len(), 4, "{:?}", c.steps);
    for (step, starts) in c.steps.iter().zip([
        "Break failover",
        "Restore",
        "Reset the inter-appliance pre-shared key",
        "Re-establish failover",
    ]) {
        assert!(step.starts_with(starts), "{step}");
    }
    assert!(c.steps[0].contains(&ha) && c.steps[0].contains(&hb));

    let md = render_runbook(&site, None, &UpgradeTable::default()).unwrap();
    let at = |needle: &str, from: usize| {
        md[from..]
            .find(needle)
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("runbook lacks `{needle}` after {from}\n{md}"))
    };
    // Both failover sections: redirect, then the role change, then confirm clients.
    for section in ["## Primary down", "## Planned swap"] {
        let s = at(section, 0);
        let redirect = at("Redirect traffic", s);
        let role = at("Change the role", s);
        let confirm = at("Confirm clients work", s);
        assert!(redirect < role && role < confirm, "{section}\n{md}");
    }
    let s = at(
        "## Restoring a backup onto an appliance in active failover",
        0,
    );
    let steps: Vec<usize> = c.steps.iter().map(|step| at(step, s)).collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{md}");
    assert!(md.contains("check_restore_onto"));
    assert!(
        bt_dr_core::OPERATIONS
            .iter()
            .any(|o| o.name == "check_restore_onto")
    );
}
