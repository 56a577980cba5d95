//! Issue 13, items 1–3: every kind of reporting data the guide lists is archived per site and
//! survives retention; a failover pair's set holds each appliance's NSB.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use bt_dr_core::api::ReportKind;
use bt_dr_core::backup_set::{
    BackupSetOptions, FileKind, ManifestFile, PartStatus, ReportingStatus, SetPart,
};
use bt_dr_core::{BackupStore, FailoverRole, RetentionPolicy, run_backup_set, verify_backup_set};
use bt_dr_sim::{Account, Endpoint, Fault, Sim, SimConfig};
use common::*;

/// Twelve sessions give every kind: numbers 6 and 12 are presentations, 5 and 10 have no
/// screen recording, 3 and 9 used Show My Screen, 1, 5 and 9 a command shell.
fn rich_config() -> SimConfig {
    SimConfig {
        sessions: 12,
        recording_size: 4 * 1024,
        rate_limit_per_second: 0,
        rate_limit_per_hour: 0,
        ..config()
    }
}

fn options() -> BackupSetOptions {
    BackupSetOptions {
        backup_password: Some("nightly-Pa55".to_string().into()),
        ..BackupSetOptions::default()
    }
}

fn counts(refs: &[bt_dr_core::reporting_archive::ReportingRef]) -> BTreeMap<ReportKind, usize> {
    let mut m = BTreeMap::new();
    for r in refs {
        *m.entry(r.kind).or_default() += 1;
    }
    m
}

fn single_site(sim: &Sim) -> bt_dr_core::Site {
    let toml = format!(
        r#"
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
[[appliances]]
hostname = "{a}"
kind = "b300"
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        a = sim.primary().hostname(),
    );
    toml::from_str(&toml).unwrap()
}

#[tokio::test]
async fn every_reporting_kind_the_guide_lists_is_archived_and_verified() {
    let mut cfg = rich_config();
    cfg.backup_password = Some("nightly-Pa55".into());
    let sim = Sim::start_single(cfg).await.unwrap();
    let site = single_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &options())
        .await
        .unwrap();
    assert!(!r.partial, "{:?}", r.manifest.parts);
    let m = &r.manifest;
    let kinds = &m.recordings.as_ref().unwrap().kinds;
    assert_eq!(kinds.len(), 7, "every RS kind: {kinds:?}");
    assert!(kinds.iter().all(|k| k.status == ReportingStatus::Ok));
    let c = counts(&m.reporting);
    assert_eq!(c[&ReportKind::SessionReport], 10);
    assert_eq!(c[&ReportKind::SessionRecording], 8);
    assert_eq!(c[&ReportKind::ShowMyScreenRecording], 2);
    assert_eq!(c[&ReportKind::CommandShellRecording], 3);
    assert_eq!(c[&ReportKind::PresentationRecording], 2);
    assert_eq!(c[&ReportKind::CustomerExitSurvey], 1);
    assert_eq!(c[&ReportKind::RepExitSurvey], 1);
    // Nothing of it sits in the set: removing the set cannot take it.
    assert_eq!(m.files_of(FileKind::Recording).count(), 0);
    for rf in &m.reporting {
        assert!(rf.path.starts_with(&format!("reporting/{}/", rf.kind)));
        let p = store.site_dir("support").unwrap().join(&rf.path);
        assert!(p.is_file(), "{}", p.display());
        if rf.kind == ReportKind::SessionRecording {
            let lsid = rf.lsid.as_deref().unwrap();
            assert_eq!(
                rf.sha256,
                bt_dr_sim::expected_recording_sha256_hex(sim.config(), lsid)
            );
        }
    }
    // Every kind the product has counts as kept by this set in the coverage list.
    for id in [
        "session_recordings",
        "command_shell_recordings",
        "presentation_recordings",
        "show_my_screen_recordings",
    ] {
        assert!(
            m.not_covered.iter().any(|n| n.id == id && n.in_this_set),
            "{id}: {:?}",
            m.not_covered
        );
    }
    let v = verify_backup_set(&r.path).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.files_checked, m.files.len() + m.reporting.len());

    // A damaged archive file is a problem of the set that refers to it.
    let victim = store
        .site_dir("support")
        .unwrap()
        .join(&m.reporting[0].path);
    std::fs::write(&victim, b"changed").unwrap();
    let v = verify_backup_set(&r.path).unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.path == m.reporting[0].path && p.problem == "size_mismatch"),
        "{:?}",
        v.problems
    );
}

#[tokio::test]
async fn pra_takes_only_the_kinds_pra_has() {
    let cfg = SimConfig {
        product: bt_dr_sim::Product::Pra,
        ..rich_config()
    };
    let sim = Sim::start_single(cfg).await.unwrap();
    let mut site = single_site(&sim);
    site.product = bt_dr_core::Product::Pra;
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let c = common::builder(&sim, sim.primary())
        .product(bt_dr_core::Product::Pra)
        .build()
        .unwrap();
    let r = run_backup_set(&store, &site, &c, &options()).await.unwrap();
    let kinds: Vec<ReportKind> = r
        .manifest
        .recordings
        .as_ref()
        .unwrap()
        .kinds
        .iter()
        .map(|k| k.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ReportKind::SessionReport,
            ReportKind::SessionRecording,
            ReportKind::CommandShellRecording
        ]
    );
    let c = counts(&r.manifest.reporting);
    // PRA has no presentations: all twelve sessions are access sessions.
    assert_eq!(c[&ReportKind::SessionReport], 12);
    assert_eq!(c[&ReportKind::SessionRecording], 10);
    assert!(!r.partial);
}

#[tokio::test]
async fn sixty_nights_with_keep_last_3_keep_every_recording_ever_taken() {
    let sim = Sim::start_single(SimConfig {
        sessions: 2,
        backup_size: 20 * 1024,
        ..rich_config()
    })
    .await
    .unwrap();
    let site = single_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let policy = RetentionPolicy {
        keep_last: Some(3),
        ..RetentionPolicy::default()
    };
    let mut ever: BTreeMap<String, (ReportKind, String)> = BTreeMap::new();
    for night in 0..60 {
        if night > 0 {
            sim.primary().add_sessions(1);
        }
        let r = run_backup_set(&store, &site, &c, &options()).await.unwrap();
        assert!(!r.partial, "night {night}: {:?}", r.manifest.parts);
        for rf in &r.manifest.reporting {
            ever.insert(rf.path.clone(), (rf.kind, rf.sha256.clone()));
        }
        let plan = store.plan_retention("support", &policy).unwrap();
        store.apply_retention(&plan).unwrap();
    }
    assert_eq!(store.list_sets("support").unwrap().len(), 3);
    let recordings = ever
        .values()
        .filter(|(k, _)| *k == ReportKind::SessionRecording)
        .count();
    // Two sessions on the first night, then one a night: 61. Every fifth has no screen
    // recording and every sixth is a presentation (recorded as such).
    let expected = (1..=61u32).filter(|n| n % 5 != 0 && n % 6 != 0).count();
    assert_eq!(recordings, expected);
    let site_dir = store.site_dir("support").unwrap();
    for (path, (_, sha)) in &ever {
        let p = site_dir.join(path);
        assert!(p.is_file(), "{path} was lost");
        assert_eq!(&bt_dr_core::sha256_file(&p).unwrap().0, sha, "{path}");
    }
}

#[tokio::test]
async fn removing_a_set_of_the_earlier_layout_moves_its_recordings_to_the_archive() {
    let sim = Sim::start_single(rich_config()).await.unwrap();
    let site = single_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let old = run_backup_set(&store, &site, &c, &options()).await.unwrap();
    // Rewrite it the way sets were laid out before the archive: recordings inside the set.
    let site_dir = store.site_dir("support").unwrap();
    let mut m = old.manifest.clone();
    let taken: Vec<_> = m
        .reporting
        .drain(..)
        .filter(|r| r.kind == ReportKind::SessionRecording)
        .collect();
    std::fs::create_dir_all(old.path.join("recordings")).unwrap();
    for r in &taken {
        let name = Path::new(&r.path).file_name().unwrap();
        std::fs::rename(
            site_dir.join(&r.path),
            old.path.join("recordings").join(name),
        )
        .unwrap();
        m.files.push(ManifestFile {
            path: format!("recordings/{}", name.to_string_lossy()),
            kind: FileKind::Recording,
            size: r.size,
            sha256: r.sha256.clone(),
        });
    }
    m.format = 2;
    bt_dr_core::fsutil::write_json_atomic(old.path.join("manifest.json"), &m).unwrap();
    assert!(verify_backup_set(&old.path).unwrap().ok());

    run_backup_set(&store, &site, &c, &options()).await.unwrap();
    let policy = RetentionPolicy {
        keep_last: Some(1),
        ..RetentionPolicy::default()
    };
    // Every archive name for one recording taken (by other bytes): the removal is refused and
    // the set, with the only copy, stays.
    // The last one: the ones before it must not have left the set either.
    let first = Path::new(&taken.last().unwrap().path);
    let (stem, ext) = first
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .rsplit_once('.')
        .unwrap();
    let kind_dir = site_dir.join(first.parent().unwrap());
    let blockers: Vec<_> = (1..=100)
        .map(|n| {
            let name = if n == 1 {
                format!("{stem}.{ext}")
            } else {
                format!("{stem}-{n}.{ext}")
            };
            kind_dir.join(name)
        })
        .collect();
    for b in &blockers {
        std::fs::write(b, b"other bytes").unwrap();
    }
    let plan = store.plan_retention("support", &policy).unwrap();
    assert!(store.apply_retention(&plan).is_err());
    assert!(
        verify_backup_set(&old.path).unwrap().ok(),
        "the set is intact"
    );
    for b in &blockers {
        std::fs::remove_file(b).unwrap();
    }
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(1),
                ..RetentionPolicy::default()
            },
        )
        .unwrap();
    assert_eq!(plan.remove, std::slice::from_ref(&old.set_id));
    store.apply_retention(&plan).unwrap();
    assert!(!old.path.exists());
    for r in &taken {
        let p = site_dir.join(&r.path);
        assert!(p.is_file(), "{} lost with its set", r.path);
        assert_eq!(bt_dr_core::sha256_file(&p).unwrap().0, r.sha256);
    }
}

#[tokio::test]
async fn a_missing_reporting_permission_is_a_finding_not_a_failure() {
    let mut no_presentations = Account::full_access("no-pres", SECRET);
    no_presentations.perm_reporting_presentation = false;
    let sim = Sim::start_single(SimConfig {
        accounts: vec![no_presentations],
        ..rich_config()
    })
    .await
    .unwrap();
    let site = single_site(&sim);
    let c = bt_dr_core::api::Client::builder(&sim.primary().url())
        .credentials("no-pres", SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .only_extra_ca(true)
        .site_name("support")
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let r = run_backup_set(&store, &site, &c, &options()).await.unwrap();
    assert!(!r.partial, "{:?}", r.manifest.parts);
    let kinds = &r.manifest.recordings.as_ref().unwrap().kinds;
    let pres = kinds
        .iter()
        .find(|k| k.kind == ReportKind::PresentationRecording)
        .unwrap();
    assert_eq!(pres.status, ReportingStatus::NotPermitted);
    assert!(
        r.manifest
            .findings
            .iter()
            .any(|f| f.id == "reporting_not_permitted"
                && f.message.contains("perm_reporting_presentation"))
    );
    // The audit names the kind never archived (and only that one).
    let report = bt_dr_core::audit(bt_dr_core::AuditInput {
        inventory: &bt_dr_core::Inventory {
            sites: vec![site.clone()],
            ..Default::default()
        },
        store: Some(&store),
        live: &[],
        upgrade_table: &bt_dr_core::UpgradeTable::default(),
        options: &bt_dr_core::AuditOptions::default(),
    })
    .unwrap();
    let never: Vec<_> = report.with_id("recordings_never_archived").collect();
    assert_eq!(never.len(), 1, "{:?}", report.findings);
    assert!(never[0].finding.message.contains("presentation_recording"));
    assert!(!never[0].finding.message.contains("session_recording"));
    // Its checkpoint does not move: it catches up once allowed.
    let cp = store.checkpoint("support").unwrap();
    assert!(
        !cp.reporting_until
            .contains_key(&ReportKind::PresentationRecording)
    );
    assert!(
        cp.reporting_until
            .contains_key(&ReportKind::SessionRecording)
    );
}

#[tokio::test]
async fn a_reporting_outage_keeps_the_nsb_and_the_next_night_catches_up() {
    let sim = Sim::start_single(rich_config()).await.unwrap();
    let site = single_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    sim.primary()
        .set_fault(Endpoint::Reporting, Fault::ServerError(503), None);
    let r = run_backup_set(&store, &site, &c, &options()).await.unwrap();
    assert!(r.partial);
    assert_eq!(
        r.manifest.part(SetPart::Recordings).unwrap().status,
        PartStatus::Failed
    );
    assert_eq!(r.manifest.files_of(FileKind::Nsb).count(), 1);
    assert!(
        r.manifest
            .recordings
            .as_ref()
            .unwrap()
            .kinds
            .iter()
            .all(|k| k.status == ReportingStatus::Failed)
    );
    sim.primary().clear_faults();
    let r2 = run_backup_set(&store, &site, &c, &options()).await.unwrap();
    assert!(!r2.partial, "{:?}", r2.manifest.parts);
    assert_eq!(
        counts(&r2.manifest.reporting)[&ReportKind::SessionRecording],
        8
    );
}

#[tokio::test]
async fn a_failover_pair_set_takes_the_nsb_of_each_appliance_and_says_which_is_which() {
    let sim = Sim::start_pair(rich_config()).await.unwrap();
    let site = pair_site(&sim);
    let backup = sim.backup().unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let opts = BackupSetOptions {
        other_appliances: vec![client(&sim, backup)],
        reporting_kinds: Some(vec![]),
        ..options()
    };
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    assert!(!r.partial, "{:?}", r.manifest.parts);
    let nsbs = &r.manifest.appliance_nsbs;
    assert_eq!(nsbs.len(), 2, "{nsbs:?}");
    assert!(nsbs[0].main && nsbs[0].role == Some(FailoverRole::Primary));
    assert!(!nsbs[1].main && nsbs[1].role == Some(FailoverRole::Backup));
    assert_eq!(nsbs[1].base_url, backup.url());
    assert!(nsbs[1].file.starts_with("appliances/"));
    assert_eq!(r.manifest.files_of(FileKind::Nsb).count(), 2);
    assert!(r.path.join(&nsbs[1].file).is_file());
    // The set's size is its main NSB's, on disk, never the sum of the pair's.
    let main_len = std::fs::metadata(r.path.join(&r.manifest.nsb.file))
        .unwrap()
        .len();
    assert!(main_len > 0);
    assert_eq!(r.manifest.nsb_size(), main_len);
    assert!(verify_backup_set(&r.path).unwrap().ok());

    // The backup appliance down: the primary's NSB is kept, the set says what is missing.
    backup.set_down(true);
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    assert!(r.partial);
    let part = r.manifest.part(SetPart::ApplianceNsbs).unwrap();
    assert_eq!(part.status, PartStatus::Failed);
    assert!(part.error.is_some());
    assert_eq!(r.manifest.files_of(FileKind::Nsb).count(), 1);
    assert!(verify_backup_set(&r.path).unwrap().ok());
}

#[tokio::test]
async fn the_inventory_thresholds_reach_the_bundle_check_of_a_set() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let inputs = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    // The simulator's certificate runs to 2044: a horizon of 30 years reaches it.
    let mut opts = full_options(&sim, inputs.path());
    opts.thresholds = bt_dr_core::inventory::Thresholds {
        certificate_horizon_days: 30 * 366,
        ..Default::default()
    };
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    // The Vault key record carries the day the caller says the key was exported.
    let mut opts_day = full_options(&sim, inputs.path());
    opts_day.recordings = false;
    opts_day.vault_key.as_mut().unwrap().exported_on = Some(time::macros::date!(2026 - 11 - 01));
    let r_day = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts_day)
        .await
        .unwrap();
    assert_eq!(
        r_day.manifest.vault_key.as_ref().unwrap().date,
        time::macros::date!(2026 - 11 - 01)
    );
    let findings = &r.manifest.certificate.as_ref().unwrap().findings;
    assert!(
        findings.iter().any(|f| f.id == "expiring_soon"),
        "{findings:?}"
    );
    // And the same through the JSON form every binding passes.
    let o = BackupSetOptions::from_json(serde_json::json!({
        "thresholds": {"certificate_horizon_days": 400},
        "reporting_kinds": ["session_recording", "exit_survey"],
    }));
    assert_eq!(
        o.unwrap_err().kind(),
        bt_dr_core::ErrorKind::InvalidInput,
        "an unknown kind is refused"
    );
    let o = BackupSetOptions::from_json(serde_json::json!({
        "thresholds": {"certificate_horizon_days": 400},
        "backup_password": "s3cret-value",
    }))
    .unwrap();
    assert_eq!(o.thresholds.certificate_horizon_days, 400);
    assert!(!format!("{o:?}").contains("s3cret-value"));
    let e =
        BackupSetOptions::from_json(serde_json::json!({"backup_password": 12345678})).unwrap_err();
    assert!(!e.to_string().contains("12345678"), "{e}");
}

#[test]
fn report_kinds_and_time_windows_parse_strictly() {
    use bt_dr_core::api::TimeWindow;
    let w: TimeWindow =
        serde_json::from_str(r#"{"type":"start_date","date":"2026-11-20","days":1}"#).unwrap();
    assert_eq!(
        serde_json::to_value(&w).unwrap()["date"],
        serde_json::json!("2026-11-20")
    );
    assert!(serde_json::from_str::<TimeWindow>(r#"{"type":"lsid","lsid":"a","x":1}"#).is_err());
    assert_eq!(
        "exit_survey".parse::<ReportKind>().unwrap_err().kind(),
        bt_dr_core::ErrorKind::InvalidInput
    );
    for k in ReportKind::ALL {
        assert_eq!(k.as_str().parse::<ReportKind>().unwrap(), k);
    }
}

#[tokio::test]
async fn a_kind_named_twice_is_taken_once() {
    let sim = Sim::start_single(rich_config()).await.unwrap();
    let site = single_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let opts = BackupSetOptions::from_json(serde_json::json!({
        "reporting_kinds": ["session_recording", "session_recording"],
    }))
    .unwrap();
    let r = run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    assert_eq!(r.manifest.recordings.as_ref().unwrap().kinds.len(), 1);
    assert_eq!(
        counts(&r.manifest.reporting)[&ReportKind::SessionRecording],
        8
    );
    assert_eq!(r.manifest.reporting.len(), 8);
}
