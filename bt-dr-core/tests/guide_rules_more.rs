//! Issue 13 items 4, 11, 14 and 16: version-aware retention and the audit's "nothing from before
//! this version" warning, Cloud sites that keep BeyondTrust's default certificate, the Atlas
//! cluster check against a simulated cluster, and thresholds taken from the inventory.

use crate::common;

use std::path::Path;
use std::time::Duration;

use bt_dr_core::api::Client;
use bt_dr_core::atlas::{AtlasCheckOptions, ClientTrend};
use bt_dr_core::{
    AuditInput, AuditOptions, AuditReport, BackupSetOptions, BackupStore, BundleCheckOptions,
    ClusterRole, ErrorKind, Inventory, RetentionPolicy, SecretString, Severity, Site, SiteLive,
    Thresholds, UpgradeTable, audit, check_atlas_cluster, check_certificate_bundle, collect_live,
    run_backup_set,
};
use bt_dr_sim::{Sim, SimConfig};
use common::*;

fn at_version(version: &str) -> SimConfig {
    SimConfig {
        version: version.into(),
        ..config()
    }
}

fn quick() -> BackupSetOptions {
    BackupSetOptions {
        recordings: false,
        backup_password: Some("nightly-backup-pass".into()),
        ..Default::default()
    }
}

async fn take_set(store: &BackupStore, sim: &Sim, site: &Site, opts: &BackupSetOptions) -> String {
    run_backup_set(store, site, &client(sim, sim.primary()), opts)
        .await
        .unwrap()
        .set_id
}

fn inventory(sites: Vec<Site>, thresholds: Thresholds) -> Inventory {
    let inv = Inventory { sites, thresholds };
    inv.validate().unwrap();
    inv
}

fn run_audit(
    inv: &Inventory,
    store: Option<&BackupStore>,
    live: &[SiteLive],
    options: &AuditOptions,
) -> AuditReport {
    audit(AuditInput {
        inventory: inv,
        store,
        live,
        upgrade_table: &UpgradeTable::default(),
        options,
    })
    .unwrap()
}

fn ids(r: &AuditReport) -> Vec<String> {
    r.findings.iter().map(|f| f.finding.id.clone()).collect()
}

fn has(r: &AuditReport, id: &str) -> bool {
    r.with_id(id).next().is_some()
}

fn clients_of(sim: &Sim) -> Vec<(String, Client)> {
    sim.appliances()
        .iter()
        .map(|a| (a.hostname().to_string(), client(sim, a)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Item 4: version-aware retention

#[tokio::test]
async fn keep_last_one_still_keeps_the_newest_verified_set_of_each_of_the_two_newest_versions() {
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    // Two sets at 23.2.1, two at 24.1.2, two at 24.3.0, in that order (the site was updated
    // twice while backed up nightly).
    let mut ids_by_version: Vec<Vec<String>> = Vec::new();
    for v in ["23.2.1", "24.1.2", "24.3.0"] {
        let sim = Sim::start_pair(at_version(v)).await.unwrap();
        let site = pair_site(&sim);
        let mut ids = Vec::new();
        for _ in 0..2 {
            ids.push(take_set(&store, &sim, &site, &quick()).await);
        }
        ids_by_version.push(ids);
    }
    let [old, mid, new] = [&ids_by_version[0], &ids_by_version[1], &ids_by_version[2]];
    let last_one = RetentionPolicy {
        keep_last: Some(1),
        ..Default::default()
    };
    let plan = store.plan_retention("support", &last_one).unwrap();
    let kept: Vec<&str> = plan.keep.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(kept, [new[1].as_str(), mid[1].as_str()], "{plan:?}");
    assert_eq!(
        plan.remove,
        [
            new[0].clone(),
            mid[0].clone(),
            old[1].clone(),
            old[0].clone()
        ]
    );
    assert!(plan.keep[1].reasons.contains(&"version 24.1.2".to_string()));
    assert!(plan.keep[0].reasons.contains(&"version 24.3.0".to_string()));

    // Three versions keep the oldest release's newest set too; zero switches the rule off.
    let three = RetentionPolicy {
        keep_versions: Some(3),
        ..last_one.clone()
    };
    let plan3 = store.plan_retention("support", &three).unwrap();
    assert!(plan3.keep.iter().any(|k| k.id == old[1]));
    let off = RetentionPolicy {
        keep_versions: Some(0),
        ..last_one.clone()
    };
    assert_eq!(store.plan_retention("support", &off).unwrap().keep.len(), 1);

    // The newest 24.1.2 set no longer verifies: retention looks further into that release
    // (only the site's newest set had been verified) and keeps the one that does.
    let broken = store
        .list_sets("support")
        .unwrap()
        .into_iter()
        .find(|s| s.id == mid[1])
        .unwrap();
    let nsb = broken.path.join(
        &broken
            .manifest
            .files_of(bt_dr_core::backup_set::FileKind::Nsb)
            .next()
            .unwrap()
            .path,
    );
    let mut bytes = std::fs::read(&nsb).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&nsb, bytes).unwrap();
    let plan = store.plan_retention("support", &last_one).unwrap();
    let kept: Vec<&str> = plan.keep.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(kept, [new[1].as_str(), mid[0].as_str()], "{plan:?}");
    assert!(plan.remove.contains(&mid[1]));
    store.apply_retention(&plan).unwrap();
    let left: Vec<String> = store
        .list_sets("support")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, [new[1].clone(), mid[0].clone()]);
}

#[tokio::test]
async fn the_audit_warns_when_an_updated_site_has_no_set_from_before_its_version() {
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let updated = Sim::start_pair(at_version("24.3.0")).await.unwrap();
    let site = pair_site(&updated);
    take_set(&store, &updated, &site, &quick()).await;

    // Only 24.3.0 sets and nothing says the site ever ran anything else: no warning (a site
    // that was never updated has nothing older to keep).
    let inv = inventory(vec![site.clone()], Thresholds::default());
    let r = run_audit(&inv, Some(&store), &[], &AuditOptions::default());
    assert!(
        !has(&r, "no_backup_before_current_version"),
        "{:?}",
        ids(&r)
    );

    // The inventory still lists the release the site ran before the update the appliances
    // report now: the update is known, and no set from before it is left.
    let mut stale_inventory = site.clone();
    stale_inventory.version = "24.1.2".parse().unwrap();
    let inv = inventory(vec![stale_inventory.clone()], Thresholds::default());
    let live = vec![collect_live(&site.name, &clients_of(&updated)).await];
    let r = run_audit(&inv, Some(&store), &live, &AuditOptions::default());
    let found: Vec<_> = r.with_id("no_backup_before_current_version").collect();
    assert_eq!(found.len(), 1, "{:?}", ids(&r));
    assert_eq!(found[0].finding.severity, Severity::Warning);
    assert!(
        found[0]
            .finding
            .message
            .contains("the inventory lists 24.1.2")
    );
    assert!(
        found[0]
            .finding
            .remediation
            .as_deref()
            .is_some_and(|t| t.contains("keep_versions"))
    );

    // A set taken on the earlier release (even later in time) is one to go back to.
    let before = Sim::start_pair(at_version("24.1.2")).await.unwrap();
    take_set(&store, &before, &pair_site(&before), &quick()).await;
    let r = run_audit(&inv, Some(&store), &live, &AuditOptions::default());
    assert!(
        !has(&r, "no_backup_before_current_version"),
        "{:?}",
        ids(&r)
    );
}

// ---------------------------------------------------------------------------------------------
// Item 11: Cloud

fn cloud_site(sim: &Sim, extra: &str) -> Site {
    let site: Site = toml::from_str(&format!(
        r#"
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
{extra}
[[appliances]]
hostname = "{host}"
kind = "cloud"
api_url = "{url}"
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        host = sim.primary().hostname(),
        url = sim.primary().url(),
    ))
    .unwrap();
    site.validate().unwrap();
    site
}

fn cloud_record(dir: &Path, host: &str, with_tls: bool) -> std::path::PathBuf {
    let p = dir.join(format!("{host}-{with_tls}.toml"));
    let tls = if with_tls {
        "[tls]\nprotocols = [\"TLSv1.2\", \"TLSv1.3\"]\nciphers = [\"TLS_AES_256_GCM_SHA384\"]\n"
    } else {
        ""
    };
    std::fs::write(
        &p,
        format!(
            "[identity]\nhostname = \"{host}\"\nappliance_version = \"24.1.2\"\nserial = \"CLOUD-1\"\n\
             base_version = \"7.2.1\"\nsystem_time = \"2026-11-20T02:00:00Z\"\n{tls}"
        ),
    )
    .unwrap();
    p
}

#[tokio::test]
async fn a_cloud_site_on_the_default_certificate_needs_no_bundle_but_custom_settings_do() {
    let sim = Sim::start_single(config()).await.unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let plain = cloud_site(&sim, "");
    assert!(!plain.custom_certificate && !plain.custom_tls);
    take_set(&store, &sim, &plain, &quick()).await;
    let audit_of = |site: &Site| {
        let inv = inventory(vec![site.clone()], Thresholds::default());
        ids(&run_audit(
            &inv,
            Some(&store),
            &[],
            &AuditOptions::default(),
        ))
    };
    let got = audit_of(&plain);
    for absent in [
        "certificate_missing",
        "tls_settings_missing",
        "appliance_record_missing",
    ] {
        assert!(!got.iter().any(|i| i == absent), "{absent} in {got:?}");
    }

    // A custom certificate on the Cloud site: its bundle is asked for as on any other site.
    let custom_cert = cloud_site(&sim, "custom_certificate = true");
    assert!(
        audit_of(&custom_cert)
            .iter()
            .any(|i| i == "certificate_missing")
    );
    // So it is on an appliance the customer runs, flag or not.
    let mut on_prem = plain.clone();
    on_prem.appliances[0].kind = bt_dr_core::ApplianceKind::Vmware;
    assert!(
        audit_of(&on_prem)
            .iter()
            .any(|i| i == "certificate_missing")
    );

    // Custom SSL/TLS settings: a record of them is asked for; one without them does not do.
    let custom_tls = cloud_site(&sim, "custom_tls = true");
    assert!(
        audit_of(&custom_tls)
            .iter()
            .any(|i| i == "tls_settings_missing")
    );
    let host = sim.primary().hostname().to_string();
    take_set(
        &store,
        &sim,
        &custom_tls,
        &BackupSetOptions {
            appliance_records: vec![cloud_record(inputs.path(), &host, false)],
            ..quick()
        },
    )
    .await;
    let inv = inventory(vec![custom_tls.clone()], Thresholds::default());
    let r = run_audit(&inv, Some(&store), &[], &AuditOptions::default());
    let missing: Vec<_> = r.with_id("tls_settings_missing").collect();
    assert_eq!(missing.len(), 1, "{:?}", ids(&r));
    assert_eq!(missing[0].finding.subject, host);
    assert!(missing[0].finding.message.contains("no SSL/TLS settings"));
    take_set(
        &store,
        &sim,
        &custom_tls,
        &BackupSetOptions {
            appliance_records: vec![cloud_record(inputs.path(), &host, true)],
            ..quick()
        },
    )
    .await;
    assert!(
        !audit_of(&custom_tls)
            .iter()
            .any(|i| i == "tls_settings_missing")
    );
    assert!(
        !audit_of(&custom_tls)
            .iter()
            .any(|i| i == "certificate_missing")
    );

    // The flags are part of the site's strict schema and default to off in older inventories.
    let json = serde_json::to_value(&custom_tls).unwrap();
    assert_eq!(json["custom_tls"], true);
    assert_eq!(json["custom_certificate"], false);
    let misspelt = toml::from_str::<Site>(
        "name = \"s\"\nfqdn = \"s.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\ncustom_certs = true\n",
    );
    assert!(misspelt.is_err());
}

// ---------------------------------------------------------------------------------------------
// Item 14: Atlas

const EU: &str = "tn-eu.example.com";
const US: &str = "tn-us.example.com";

fn atlas_site(sim: &Sim) -> Site {
    let mut toml = format!(
        r#"
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
[failover]
primary = "{a}"
backup = "{b}"
routing = "dns-swing"
[atlas]
traffic_nodes = [{{ hostname = "{EU}", region = "eu" }}, {{ hostname = "{US}", region = "us" }}]
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        a = sim.primary().hostname(),
        b = sim.backup().unwrap().hostname(),
    );
    for app in sim.appliances() {
        let role = if app.cluster_role() == bt_dr_sim::ClusterRole::Traffic {
            "traffic"
        } else {
            "primary"
        };
        toml += &format!(
            "[[appliances]]\nhostname = \"{}\"\nkind = \"vmware\"\ncluster_role = \"{role}\"\napi_url = \"{}\"\n",
            app.hostname(),
            app.url()
        );
    }
    let site: Site = toml::from_str(&toml).unwrap();
    site.validate().unwrap();
    site
}

fn fast() -> AtlasCheckOptions {
    AtlasCheckOptions {
        sample_interval_ms: 50,
    }
}

fn finding_ids(r: &bt_dr_core::AtlasReport) -> Vec<(String, String)> {
    r.findings
        .iter()
        .map(|f| (f.id.clone(), f.subject.clone()))
        .collect()
}

#[tokio::test]
async fn the_atlas_check_samples_every_node_of_a_simulated_cluster() {
    let sim = Sim::start_atlas(config(), &[EU, US]).await.unwrap();
    assert_eq!(sim.traffic_nodes().len(), 2);
    let site = atlas_site(&sim);
    let clients = clients_of(&sim);
    let node = |h: &str| sim.appliances().iter().find(|a| a.hostname() == h).unwrap();

    // A healthy cluster after a change: clients arriving on one node, holding on the other.
    node(EU).set_connected_clients(&[3, 4]);
    node(US).set_connected_clients(&[5, 5]);
    let r = check_atlas_cluster(&site, &clients, &fast()).await.unwrap();
    assert!(r.findings.is_empty(), "{:?}", finding_ids(&r));
    assert_eq!(r.nodes.len(), 4);
    let eu = r.node(EU).unwrap();
    assert_eq!(eu.role, ClusterRole::Traffic);
    assert_eq!(
        (eu.listed, eu.listed_role, eu.accepting_connections),
        (Some(true), Some(ClusterRole::Traffic), Some(true))
    );
    assert!(eu.reachable && eu.healthy == Some(true));
    assert_eq!(eu.version.as_deref(), Some(sim.config().version.as_str()));
    assert_eq!(eu.last_sync_status.as_deref(), Some("success"));
    assert_eq!(
        eu.samples.iter().map(|s| s.total).collect::<Vec<_>>(),
        [3, 4]
    );
    assert_eq!(eu.samples[1].representatives, 2);
    assert_eq!(eu.trend, Some(ClientTrend::Increasing));
    assert_eq!(r.node(US).unwrap().trend, Some(ClientTrend::Steady));
    let primary = r.node(sim.primary().hostname()).unwrap();
    assert_eq!(
        (primary.role, primary.listed_role),
        (ClusterRole::Primary, Some(ClusterRole::Primary))
    );
    assert!(r.sample_interval_ms == 50 && r.site == "support");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["nodes"][2]["trend"], "increasing");
    assert_eq!(json["nodes"][2]["role"], "traffic");

    // Now the EU node loses clients, runs an older release and its last sync failed; the US
    // node has left the cluster and carries nobody.
    node(EU).set_connected_clients(&[5, 2]);
    node(EU).set_version(Some("24.1.1"));
    node(EU).set_last_sync(time::OffsetDateTime::now_utc().unix_timestamp(), "failed");
    node(US).set_cluster_member(false);
    node(US).set_connected_clients(&[0]);
    let r = check_atlas_cluster(&site, &clients, &fast()).await.unwrap();
    let got = finding_ids(&r);
    for (id, host) in [
        ("traffic_node_clients_decreasing", EU),
        ("traffic_node_version_differs", EU),
        ("traffic_node_sync_failed", EU),
        ("traffic_node_not_in_cluster", US),
        ("traffic_node_no_clients", US),
    ] {
        assert!(
            got.contains(&(id.to_string(), host.to_string())),
            "{id} {host} not in {got:?}"
        );
    }
    assert_eq!(r.node(US).unwrap().listed, Some(false));
    assert_eq!(r.node(EU).unwrap().trend, Some(ClientTrend::Decreasing));
    assert_eq!(r.worst(), Some(Severity::Error));
    assert!(
        r.findings
            .windows(2)
            .all(|w| w[0].severity >= w[1].severity)
    );

    // The audit reads the same membership from its live view.
    let live = vec![collect_live(&site.name, &clients).await];
    let inv = inventory(vec![site.clone()], Thresholds::default());
    let report = run_audit(&inv, None, &live, &AuditOptions::default());
    assert!(
        report
            .with_id("traffic_node_not_in_cluster")
            .any(|f| f.finding.subject == US),
        "{:?}",
        ids(&report)
    );

    // A node that is down is unreachable, not a node without clients.
    node(US).set_cluster_member(true);
    node(US).set_down(true);
    let r = check_atlas_cluster(&site, &clients, &fast()).await.unwrap();
    let us = r.node(US).unwrap();
    assert!(!us.reachable && us.samples.is_empty() && us.error.is_some());
    let got = finding_ids(&r);
    assert!(
        got.contains(&("cluster_node_unreachable".into(), US.into())),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|(id, h)| id == "traffic_node_no_clients" && h == US)
    );
}

#[tokio::test]
async fn the_atlas_check_refuses_what_it_cannot_check() {
    let sim = Sim::start_atlas(config(), &[EU, US]).await.unwrap();
    let site = atlas_site(&sim);
    let clients = clients_of(&sim);
    let kind = |r: bt_dr_core::Result<bt_dr_core::AtlasReport>| r.unwrap_err().kind();

    let mut no_atlas = site.clone();
    no_atlas.atlas = None;
    assert_eq!(
        kind(check_atlas_cluster(&no_atlas, &clients, &fast()).await),
        ErrorKind::InvalidInput
    );
    let without_us: Vec<_> = clients.iter().filter(|(h, _)| h != US).cloned().collect();
    let e = check_atlas_cluster(&site, &without_us, &fast())
        .await
        .unwrap_err();
    assert!(
        e.kind() == ErrorKind::InvalidInput && e.to_string().contains(US),
        "{e}"
    );
    let only_traffic: Vec<_> = clients
        .iter()
        .filter(|(h, _)| h == EU || h == US)
        .cloned()
        .collect();
    assert_eq!(
        kind(check_atlas_cluster(&site, &only_traffic, &fast()).await),
        ErrorKind::InvalidInput
    );
    let mut stranger = clients.clone();
    stranger.push(("elsewhere.example.com".into(), clients[0].1.clone()));
    assert_eq!(
        kind(check_atlas_cluster(&site, &stranger, &fast()).await),
        ErrorKind::InvalidInput
    );
    let too_long = AtlasCheckOptions {
        sample_interval_ms: bt_dr_core::atlas::MAX_SAMPLE_INTERVAL_MS + 1,
    };
    assert_eq!(
        kind(check_atlas_cluster(&site, &clients, &too_long).await),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn the_simulator_control_api_drives_the_cluster() {
    let sim = Sim::start_atlas(config(), &[EU]).await.unwrap();
    let control = bt_dr_sim::control::ControlServer::start(sim.appliances().to_vec(), 0)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, body: &str| {
        http.post(format!("{}/appliances/2/{path}", control.url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    assert_eq!(
        post("connected_clients", r#"{"counts":[1,2]}"#)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("cluster", r#"{"accepting":false}"#)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("version", r#"{"version":"24.1.1"}"#)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("connected_clients", r#"{"counts":[-1]}"#)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post("cluster", r#"{"member":"no"}"#)
            .await
            .unwrap()
            .status(),
        400
    );
    let state: serde_json::Value = http
        .get(format!("{}/state", control.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tn = &state["appliances"][2];
    assert_eq!(tn["cluster_role"], "traffic");
    assert_eq!(tn["accepting_connections"], false);
    assert_eq!(tn["cluster_member"], true);
    assert_eq!(state["appliances"][0]["cluster_role"], "primary");

    let c = client(&sim, &sim.traffic_nodes()[0]);
    assert_eq!(c.get_connected_clients().await.unwrap().len(), 1);
    assert_eq!(c.get_connected_clients().await.unwrap().len(), 2);
    assert_eq!(c.get_connected_clients().await.unwrap().len(), 2);
    assert_eq!(c.check_health().await.unwrap().version.release(), "24.1.1");
    // A traffic node is in no failover relationship.
    assert!(
        c.set_failover_role(bt_dr_core::FailoverRole::Primary, false, false)
            .await
            .is_err()
    );
    let listed = client(&sim, sim.primary()).get_appliances().await.unwrap();
    let node = listed.iter().find(|a| a.public_hostname == EU).unwrap();
    assert_eq!(node.cluster_role, ClusterRole::Traffic);
    assert!(!node.accepting_connections);
    control.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Item 16: thresholds

#[test]
fn thresholds_load_from_the_inventory_with_defaults_and_bounds() {
    let inv = Inventory::from_toml_str(
        "[thresholds]\ncertificate_horizon_days = 45\nmin_rsa_bits = 3072\n",
    )
    .unwrap();
    assert_eq!(
        inv.thresholds,
        Thresholds {
            certificate_horizon_days: 45,
            min_rsa_bits: 3072,
            ..Thresholds::default()
        }
    );
    let d = Thresholds::default();
    assert_eq!(
        (
            d.max_backup_age_hours,
            d.certificate_horizon_days,
            d.sync_stale_factor,
            d.sync_stale_min_hours,
            d.min_connectivity_test_ips,
            d.min_rsa_bits
        ),
        (26, 30, 2, 1, 2, 2048)
    );
    assert_eq!(d.sync_stale_after(600), Duration::from_secs(3600));
    assert_eq!(d.sync_stale_after(7200), Duration::from_secs(14400));
    assert_eq!(d.sync_stale_after(u64::MAX), Duration::from_secs(u64::MAX));
    // The certificate check's defaults are the same numbers.
    let b = BundleCheckOptions::default();
    assert_eq!((b.expiry_horizon_days, b.min_rsa_bits), (30, 2048));
    for bad in [
        "[thresholds]\nmin_rsa_bits = 512\n",
        "[thresholds]\nsync_stale_factor = 0\n",
        "[thresholds]\nmin_connectivity_test_ips = 0\n",
        "[thresholds]\nmax_backup_age_hours = 0\n",
        "[thresholds]\ncertificate_horizon_day = 10\n",
    ] {
        let e = Inventory::from_toml_str(bad).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Parse),
            "{bad}: {e}"
        );
    }
    let json = serde_json::to_value(&inv).unwrap();
    assert_eq!(json["thresholds"]["certificate_horizon_days"], 45);
    let back: Inventory = serde_json::from_value(json).unwrap();
    assert_eq!(back, inv);
}

#[tokio::test]
async fn an_inventory_horizon_changes_the_audits_certificate_finding() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    take_set(
        &store,
        &sim,
        &site,
        &BackupSetOptions {
            certificate_bundle: Some(fixture("default_chain.p12")),
            certificate_passphrase: Some("fixture-pass".into()),
            ..quick()
        },
    )
    .await;
    let not_after = store
        .latest_set("support")
        .unwrap()
        .unwrap()
        .manifest
        .certificate
        .unwrap()
        .leaf_not_after
        .unwrap();
    // Forty days before expiry: inside a 45-day horizon, outside the default 30 days.
    let now = AuditOptions {
        now: Some(not_after - time::Duration::days(40)),
        ..Default::default()
    };
    let default = inventory(vec![site.clone()], Thresholds::default());
    assert!(!has(
        &run_audit(&default, Some(&store), &[], &now),
        "certificate_expiring"
    ));
    let wide = inventory(
        vec![site.clone()],
        Thresholds {
            certificate_horizon_days: 45,
            ..Thresholds::default()
        },
    );
    let r = run_audit(&wide, Some(&store), &[], &now);
    assert!(has(&r, "certificate_expiring"), "{:?}", ids(&r));
    // The caller's override still wins over the inventory.
    let narrow = AuditOptions {
        certificate_horizon_days: Some(10),
        ..now.clone()
    };
    assert!(!has(
        &run_audit(&wide, Some(&store), &[], &narrow),
        "certificate_expiring"
    ));

    // Backup age: the same set is stale under a 1-hour limit two hours later.
    let created = store.latest_set("support").unwrap().unwrap().created_at;
    let later = AuditOptions {
        now: Some(created + time::Duration::hours(2)),
        ..Default::default()
    };
    assert!(!has(
        &run_audit(&default, Some(&store), &[], &later),
        "backup_stale"
    ));
    let strict = inventory(
        vec![site],
        Thresholds {
            max_backup_age_hours: 1,
            ..Thresholds::default()
        },
    );
    assert!(has(
        &run_audit(&strict, Some(&store), &[], &later),
        "backup_stale"
    ));

    // The RSA minimum reaches the certificate check through the same thresholds.
    let bytes = std::fs::read(fixture("default_chain.p12")).unwrap();
    let pass = SecretString::from("fixture-pass");
    let opts = BundleCheckOptions::for_site("support.example.com")
        .at(not_after - time::Duration::days(400));
    let ids_of = |o: &BundleCheckOptions| -> Vec<String> {
        check_certificate_bundle(&bytes, &pass, o)
            .unwrap()
            .findings
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    assert!(!ids_of(&opts).contains(&"weak_key".to_string()));
    let strong = Thresholds {
        min_rsa_bits: 4096,
        ..Thresholds::default()
    };
    assert!(ids_of(&opts.clone().with_thresholds(&strong)).contains(&"weak_key".to_string()));
}

#[tokio::test]
async fn sync_and_connectivity_thresholds_come_from_the_inventory() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    // The backup last synced three hours ago; the pair syncs hourly (the default interval).
    let three_hours_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3 * 3600;
    sim.backup()
        .unwrap()
        .set_last_sync(three_hours_ago, "success");
    let live = vec![collect_live(&site.name, &clients_of(&sim)).await];
    let audit_ids = |site: &Site, t: Thresholds, o: &AuditOptions| {
        ids(&run_audit(
            &inventory(vec![site.clone()], t),
            None,
            &live,
            o,
        ))
    };
    let defaults = AuditOptions::default();
    assert!(audit_ids(&site, Thresholds::default(), &defaults).contains(&"sync_stale".into()));
    let patient = Thresholds {
        sync_stale_factor: 4,
        ..Thresholds::default()
    };
    assert!(!audit_ids(&site, patient.clone(), &defaults).contains(&"sync_stale".into()));
    let hurried = AuditOptions {
        max_sync_age_hours: Some(1),
        ..Default::default()
    };
    assert!(audit_ids(&site, patient, &hurried).contains(&"sync_stale".into()));

    // Automatic failover with one test address: below bt-dr's default of two.
    let pair = site.failover.as_mut().unwrap();
    pair.auto_failover.enabled = true;
    pair.auto_failover.connectivity_test_ips = vec!["10.0.0.1".parse().unwrap()];
    let got = audit_ids(&site, Thresholds::default(), &defaults);
    assert!(
        got.contains(&"auto_failover_few_test_ips".into()),
        "{got:?}"
    );
    assert!(!got.contains(&"auto_failover_without_test_ips".into()));
    let one_is_enough = Thresholds {
        min_connectivity_test_ips: 1,
        ..Thresholds::default()
    };
    assert!(
        !audit_ids(&site, one_is_enough, &defaults).contains(&"auto_failover_few_test_ips".into())
    );
    site.failover
        .as_mut()
        .unwrap()
        .auto_failover
        .connectivity_test_ips
        .clear();
    let got = audit_ids(&site, Thresholds::default(), &defaults);
    assert!(
        got.contains(&"auto_failover_without_test_ips".into()),
        "{got:?}"
    );
}
