//! The readiness audit (each rule fires, and a ready site is silent), the runbook, and the
//! failover drill against a simulator pair.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use bt_dr_core::{
    AuditInput, AuditOptions, BackupStore, ErrorKind, FailoverMode, FailoverOptions,
    FailoverOutcome, FailoverRole, Inventory, SiteLive, UpgradeTable, audit, collect_live,
    execute_failover, plan_failover, render_runbook, run_backup_set,
};
use bt_dr_sim::Sim;
use common::*;

async fn live_of(sim: &Sim, site: &bt_dr_core::Site) -> SiteLive {
    let clients: Vec<_> = [sim.primary(), sim.backup().unwrap()]
        .iter()
        .map(|a| (a.hostname().to_string(), client(sim, a)))
        .collect();
    collect_live(&site.name, &clients).await
}

fn ids(r: &bt_dr_core::AuditReport) -> BTreeSet<String> {
    r.findings.iter().map(|f| f.finding.id.clone()).collect()
}

#[tokio::test]
async fn a_ready_site_is_silent() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    run_backup_set(
        &store,
        &site,
        &client(&sim, sim.primary()),
        &full_options(&sim, inputs.path()),
    )
    .await
    .unwrap();
    let live = vec![live_of(&sim, &site).await];
    assert!(
        live[0]
            .appliances
            .iter()
            .all(|a| a.served_cert_sha256.is_some() && a.served_cert_not_after.is_some())
    );
    let inv = Inventory {
        sites: vec![site],
        ..Default::default()
    };
    let report = audit(AuditInput {
        inventory: &inv,
        store: Some(&store),
        live: &live,
        upgrade_table: &UpgradeTable::default(),
        options: &AuditOptions::default(),
    })
    .unwrap();
    assert!(report.findings.is_empty(), "{}", report.to_markdown());
    assert!(report.to_markdown().contains("Ready: no findings"));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["schema"], "bt-dr.audit/1");
    assert_eq!(json["summary"]["critical"], 0);
}

#[tokio::test]
async fn every_rule_fires_on_a_broken_fleet() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();

    // A set without certificate, vault key, records or recordings.
    let opts = bt_dr_core::BackupSetOptions {
        recordings: false,
        ..Default::default()
    };
    run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();

    // Live trouble: split brain, a stale failed sync on the backup, an unhealthy appliance.
    sim.backup().unwrap().set_last_sync(1_600_000_000, "failed");
    let mut live = live_of(&sim, &site).await;
    sim.backup()
        .unwrap()
        .set_failover_role(bt_dr_sim::FailoverRole::Primary);
    let split = live_of(&sim, &site).await;

    // Topology: auto failover without test IPs, shared IP on AWS, cold spare on the switch, Atlas.
    let pair = site.failover.as_mut().unwrap();
    pair.auto_failover.enabled = true;
    pair.routing = bt_dr_core::RoutingMethod::SharedIp;
    pair.shared_ips = vec!["10.0.0.10".parse().unwrap()];
    site.appliances[1].kind = bt_dr_core::ApplianceKind::Aws;
    site.cold_spare = Some(bt_dr_core::ColdSpare {
        hostname: "spare.example.com".into(),
        kind: bt_dr_core::ApplianceKind::B300,
        same_switch: true,
        same_network: true,
    });
    let node = sim.primary().hostname().to_string();
    site.atlas = Some(bt_dr_core::AtlasCluster {
        traffic_nodes: vec![bt_dr_core::TrafficNode {
            hostname: node.clone(),
            region: None,
        }],
    });
    // The live view (plain data) says that node refuses clients, and the backup serves another certificate.
    for a in live.appliances.iter_mut() {
        if let Some(v) = a.appliances.as_mut() {
            for x in v.iter_mut().filter(|x| x.public_hostname == node) {
                x.accepting_connections = false;
            }
        }
    }
    live.appliances[1].served_cert_sha256 = Some("0".repeat(64));
    // The appliances now report a newer version than the backup, and one is unreachable in a second site.
    for a in live.appliances.iter_mut() {
        if let Some(h) = a.health.as_mut() {
            h.version = "99.1.0".parse().unwrap();
        }
    }
    live.appliances[0].health.as_mut().unwrap().success = false;
    let mut second = site.clone();
    second.name = "second".into();
    second.failover = None;
    second.atlas = None;
    second.cold_spare = None;
    let mut down = split.clone();
    down.site = "second".into();
    down.appliances[0].health = None;
    down.appliances[0].error = Some(
        bt_dr_core::Error::Network {
            reason: "connection refused".into(),
        }
        .report(),
    );
    // The other appliance answers, but with a certificate the client does not trust.
    down.appliances[1].health = None;
    down.appliances[1].error = Some(
        bt_dr_core::Error::Tls {
            reason: "unknown issuer".into(),
        }
        .report(),
    );
    let mut third = site.clone();
    third.name = "third".into();
    third.version = "20.1.0".parse().unwrap();
    third.failover = None;
    third.atlas = None;
    third.cold_spare = None;
    // Split brain view for the main site: merge the role state into `live`.
    for (a, s) in live.appliances.iter_mut().zip(split.appliances.iter()) {
        if let (Some(h), Some(sh)) = (a.health.as_mut(), s.health.as_ref()) {
            h.failover_role = sh.failover_role;
        }
    }

    let inv = Inventory {
        sites: vec![site, second, third],
        ..Default::default()
    };
    let opts = AuditOptions {
        now: Some(time::OffsetDateTime::now_utc() + time::Duration::days(3)),
        ..AuditOptions::default()
    };
    let lives = vec![live, down];
    let report = audit(AuditInput {
        inventory: &inv,
        store: Some(&store),
        live: &lives,
        upgrade_table: &UpgradeTable::default(),
        options: &opts,
    })
    .unwrap();
    let got = ids(&report);
    for want in [
        "backup_stale",
        "no_backup_at_current_version",
        "backup_restore_untested",
        "vault_key_missing",
        "nsb_without_password",
        "certificate_missing",
        "pair_certificates_differ",
        "appliance_record_missing",
        "appliance_unhealthy",
        "appliance_unreachable",
        "appliance_state_unknown",
        "split_brain",
        "auto_failover_without_test_ips",
        "shared_ip_unsupported",
        "cold_spare_same_switch",
        "traffic_node_not_accepting",
        "recordings_never_archived",
        "no_backup",
    ] {
        assert!(got.contains(want), "{want} missing from {got:?}");
    }
    // A TLS failure is "state unknown", never "unreachable" (a failover would act on that).
    let tls_host = &inv.sites[1].appliances[1].hostname;
    let about_tls_host: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.site == "second" && &f.finding.subject == tls_host)
        .map(|f| f.finding.id.as_str())
        .collect();
    assert!(
        about_tls_host.contains(&"appliance_state_unknown")
            && !about_tls_host.contains(&"appliance_unreachable"),
        "{about_tls_host:?}"
    );
    assert_eq!(report.worst(), Some(bt_dr_core::Severity::Critical));
    assert!(
        report
            .findings
            .windows(2)
            .all(|w| w[0].finding.severity >= w[1].finding.severity)
    );
    let md = report.to_markdown();
    assert!(md.contains("## second") && md.contains("`split_brain`"));
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.finding.remediation.is_some())
    );
}

#[tokio::test]
async fn sync_rules_and_refused_restores() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    run_backup_set(
        &store,
        &site,
        &client(&sim, sim.primary()),
        &Default::default(),
    )
    .await
    .unwrap();
    sim.backup().unwrap().set_last_sync(
        time::OffsetDateTime::now_utc().unix_timestamp() - 10 * 3600,
        "failed",
    );
    let mut live = live_of(&sim, &site).await;
    for a in live.appliances.iter_mut() {
        if let Some(h) = a.health.as_mut() {
            h.version = "23.1.0".parse().unwrap();
        }
    }
    let inv = Inventory {
        sites: vec![site],
        ..Default::default()
    };
    let report = audit(AuditInput {
        inventory: &inv,
        store: Some(&store),
        live: &[live],
        upgrade_table: &UpgradeTable::default(),
        options: &AuditOptions::default(),
    })
    .unwrap();
    let got = ids(&report);
    for want in ["sync_stale", "sync_failed", "backup_restore_refused"] {
        assert!(got.contains(want), "{want} missing from {got:?}");
    }
    assert!(!got.contains("split_brain") && !got.contains("backup_stale"));
}

#[tokio::test]
async fn runbook_names_the_real_things() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let set = run_backup_set(
        &store,
        &site,
        &client(&sim, sim.primary()),
        &full_options(&sim, inputs.path()),
    )
    .await
    .unwrap();
    site.atlas = Some(bt_dr_core::AtlasCluster {
        traffic_nodes: vec![bt_dr_core::TrafficNode {
            hostname: sim.backup().unwrap().hostname().into(),
            region: Some("eu".into()),
        }],
    });
    let md = render_runbook(&site, Some(&store), &UpgradeTable::default()).unwrap();
    for needle in [
        site.fqdn.as_str(),
        sim.primary().hostname(),
        sim.backup().unwrap().hostname(),
        set.manifest.nsb.file.as_str(),
        "10.0.0.12",       // the backup's IP for the DNS swing
        "192.168.50.0/24", // static route from the /appliance record
        "RMA",             // physical appliance
        "OVA",             // VMware redeploy
        "execute_failover",
        "check_restore",
        "Sync Now",
        "Supported",
    ] {
        assert!(md.contains(needle), "runbook lacks {needle}\n{md}");
    }
    let network = md.find("Network first").unwrap();
    let certs = md.find("Certificates:").unwrap();
    let login = md.find("/login: a replaced").unwrap();
    assert!(network < certs && certs < login, "restore order");
    site.appliances[1].kind = bt_dr_core::ApplianceKind::Aws;
    site.failover.as_mut().unwrap().routing = bt_dr_core::RoutingMethod::NatSwing;
    let md = render_runbook(&site, None, &UpgradeTable::default()).unwrap();
    assert!(md.contains("AMI") && md.contains("NAT rule") && md.contains("No backup set exists"));
}

fn fast() -> FailoverOptions {
    FailoverOptions {
        settle_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(50),
        ..FailoverOptions::default()
    }
}

#[tokio::test]
async fn planned_failover_swaps_with_a_timeline() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = (
        client(&sim, sim.primary()),
        client(&sim, sim.backup().unwrap()),
    );
    let (ha, hb) = (sim.primary().hostname(), sim.backup().unwrap().hostname());
    let plan = plan_failover(&site, (ha, &a), (hb, &b), FailoverMode::Planned)
        .await
        .unwrap();
    assert_eq!(plan.to.hostname, hb);
    assert!(plan.connected_clients.unwrap() > 0);
    assert!(plan.warnings.iter().any(|w| w.contains("disconnected")));
    // Planning changed nothing.
    assert_eq!(
        sim.primary().failover_role(),
        bt_dr_sim::FailoverRole::Primary
    );
    let t = execute_failover(&site, (ha, &a), (hb, &b), &plan, &fast())
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled, "{t:?}");
    assert!(
        t.events
            .iter()
            .any(|e| e.from_role == Some(FailoverRole::Backup)
                && e.to_role == Some(FailoverRole::Backup)),
        "both-backup step seen: {t:?}"
    );
    assert_eq!(
        sim.backup().unwrap().failover_role(),
        bt_dr_sim::FailoverRole::Primary
    );
    assert_eq!(
        sim.primary().failover_role(),
        bt_dr_sim::FailoverRole::Backup
    );
    assert!(t.follow_up.iter().any(|s| s.contains("DNS")));
}

#[tokio::test]
async fn unplanned_failover_safety_rules() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let (a, b) = (
        client(&sim, sim.primary()),
        client(&sim, sim.backup().unwrap()),
    );
    let (ha, hb) = (sim.primary().hostname(), sim.backup().unwrap().hostname());
    let e = plan_failover(&site, (ha, &a), (hb, &b), FailoverMode::Unplanned)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    assert!(e.to_string().contains("healthy"));
    sim.primary().set_down(true);
    let e = plan_failover(&site, (ha, &a), (hb, &b), FailoverMode::Planned)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    let plan = plan_failover(&site, (ha, &a), (hb, &b), FailoverMode::Unplanned)
        .await
        .unwrap();
    // Down at the network level on both checks: unreachable, not merely unknown.
    assert_eq!(
        plan.from.reachability,
        bt_dr_core::failover::Reachability::Unreachable
    );
    let t = execute_failover(&site, (ha, &a), (hb, &b), &plan, &fast())
        .await
        .unwrap();
    assert_eq!(t.outcome, FailoverOutcome::Settled);
    assert_eq!(
        sim.backup().unwrap().failover_role(),
        bt_dr_sim::FailoverRole::Primary
    );
    assert!(t.follow_up.iter().any(|s| s.contains("force")));
    // The old primary comes back still thinking it is primary: the plan refuses split brain.
    sim.primary().set_down(false);
    let e = plan_failover(&site, (ha, &a), (hb, &b), FailoverMode::Planned)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("split brain"), "{e}");
}

#[tokio::test]
async fn certificate_record_and_role_rules() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let inputs = tempfile::tempdir().unwrap();
    let inv = Inventory {
        sites: vec![site.clone()],
        ..Default::default()
    };
    let run = |bundle: &str| {
        let mut o = full_options(&sim, inputs.path());
        o.certificate_bundle = Some(fixture(bundle));
        // Records taken before the last update.
        o.appliance_records = vec![
            appliance_record(inputs.path(), sim.primary().hostname(), "23.0.0"),
            appliance_record(inputs.path(), sim.backup().unwrap().hostname(), "23.0.0"),
        ];
        o
    };
    let audit_with = |store: &BackupStore, live: &[SiteLive], now: Option<time::OffsetDateTime>| {
        let opts = AuditOptions {
            now,
            ..AuditOptions::default()
        };
        ids(&audit(AuditInput {
            inventory: &inv,
            store: Some(store),
            live,
            upgrade_table: &UpgradeTable::default(),
            options: &opts,
        })
        .unwrap())
    };

    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    run_backup_set(
        &store,
        &site,
        &client(&sim, sim.primary()),
        &run("missing_intermediate.p12"),
    )
    .await
    .unwrap();
    let got = audit_with(&store, &[], None);
    assert!(
        got.contains("certificate_invalid") && got.contains("appliance_record_outdated"),
        "{got:?}"
    );
    assert!(!got.contains("certificate_expired") && !got.contains("certificate_expiring"));
    // Judged close to the leaf's expiry (2044-01-01) the bundle is expiring, then expired.
    let got = audit_with(
        &store,
        &[],
        Some(time::macros::datetime!(2043-12-20 00:00 UTC)),
    );
    assert!(got.contains("certificate_expiring"), "{got:?}");
    let got = audit_with(
        &store,
        &[],
        Some(time::macros::datetime!(2044-02-01 00:00 UTC)),
    );
    assert!(got.contains("certificate_expired"), "{got:?}");

    let root2 = tempfile::tempdir().unwrap();
    let store2 = BackupStore::open(root2.path()).unwrap();
    run_backup_set(
        &store2,
        &site,
        &client(&sim, sim.primary()),
        &run("expired.p12"),
    )
    .await
    .unwrap();
    assert!(audit_with(&store2, &[], None).contains("certificate_expired"));

    // Both appliances backup: nobody serves the site.
    sim.primary()
        .set_failover_role(bt_dr_sim::FailoverRole::Backup);
    let live = live_of(&sim, &site).await;
    let got = audit_with(&store, &[live], None);
    assert!(
        got.contains("both_backup") && !got.contains("split_brain"),
        "{got:?}"
    );
}
