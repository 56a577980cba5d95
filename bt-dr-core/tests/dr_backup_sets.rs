//! Backup sets, verify, incremental recordings, the multi-site job and retention.

use crate::common;

use bt_dr_core::backup_set::FileKind;
use bt_dr_core::retention::RetentionCandidate;
use bt_dr_core::{
    BackupStore, ErrorKind, JobSite, RetentionPolicy, plan_retention, run_backup_job,
    run_backup_set, verify_backup_set,
};
use bt_dr_sim::{Endpoint, Fault, Sim};
use common::*;
use time::macros::datetime;

#[tokio::test]
async fn a_set_holds_everything_and_verifies() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let r = run_backup_set(&store, &site, &c, &full_options(&sim, inputs.path()))
        .await
        .unwrap();
    let m = &r.manifest;
    assert_eq!(m.files_of(FileKind::Nsb).count(), 1);
    let screen = |m: &bt_dr_core::Manifest| {
        m.reporting
            .iter()
            .filter(|r| r.kind == bt_dr_core::api::ReportKind::SessionRecording)
            .count()
    };
    // Recordings live in the site's reporting archive, not in the set.
    assert_eq!(m.files_of(FileKind::Recording).count(), 0);
    assert_eq!(screen(m), sim.config().sessions as usize);
    assert_eq!(m.files_of(FileKind::CertificateBundle).count(), 1);
    assert_eq!(m.files_of(FileKind::ApplianceRecord).count(), 2);
    assert_eq!(m.files_of(FileKind::VaultKey).count(), 1);
    assert!(
        m.certificate.as_ref().unwrap().findings.is_empty(),
        "{:?}",
        m.certificate
    );
    for id in [
        "session_recordings",
        "command_shell_recordings",
        "appliance_settings",
        "vault_encryption_key",
        "certificates",
    ] {
        assert!(
            m.not_covered.iter().any(|n| n.id == id && n.in_this_set),
            "{id}"
        );
    }
    let nsb = m.files_of(FileKind::Nsb).next().unwrap();
    assert_eq!(
        nsb.sha256,
        bt_dr_sim::expected_backup_sha256_hex(sim.config())
    );
    let v = verify_backup_set(&r.path).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.files_checked, m.files.len() + m.reporting.len());
    assert_eq!(store.list_sets("support").unwrap().len(), 1);
    assert!(
        store
            .checkpoint("support")
            .unwrap()
            .recordings_until
            .is_some()
    );

    // Second run: recordings are incremental.
    let r2 = run_backup_set(&store, &site, &c, &full_options(&sim, inputs.path()))
        .await
        .unwrap();
    assert_ne!(r2.set_id, r.set_id);
    assert_eq!(screen(&r2.manifest), 0);
    assert_eq!(store.list_sets("support").unwrap()[0].id, r2.set_id);

    // Tampering is found.
    let nsb_path = r.path.join(&nsb.path);
    let mut bytes = std::fs::read(&nsb_path).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&nsb_path, &bytes).unwrap();
    let rec = &m.reporting[0];
    std::fs::remove_file(store.site_dir("support").unwrap().join(&rec.path)).unwrap();
    std::fs::write(r.path.join("stray.txt"), b"x").unwrap();
    let v = verify_backup_set(&r.path).unwrap();
    let problems: Vec<_> = v.problems.iter().map(|p| p.problem.as_str()).collect();
    assert!(
        problems.contains(&"hash_mismatch")
            && problems.contains(&"missing")
            && problems.contains(&"unlisted"),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_failed_run_leaves_no_set_and_keeps_the_checkpoint() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    sim.primary()
        .set_fault(Endpoint::Backup, Fault::HtmlPage, None);
    let e = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity);
    assert!(store.list_sets("support").unwrap().is_empty());
    let sets_dir = root.path().join("support/sets");
    assert_eq!(
        std::fs::read_dir(&sets_dir).unwrap().count(),
        0,
        "no staging folder left behind"
    );
    assert_eq!(store.checkpoint("support").unwrap().recordings_until, None);
}

#[tokio::test]
async fn one_failing_site_does_not_stop_the_job() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let other = Sim::start_pair(config()).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let mut bad_site = pair_site(&other);
    bad_site.name = "broken".into();
    let bad_client = builder(&other, other.primary())
        .credentials(&client_id(&other), "wrong".into())
        .build()
        .unwrap();
    let jobs = vec![
        JobSite {
            site: bad_site,
            client: bad_client,
            options: Default::default(),
        },
        JobSite {
            site: pair_site(&sim),
            client: client(&sim, sim.primary()),
            options: Default::default(),
        },
    ];
    let report = run_backup_job(&store, jobs, 2).await;
    assert_eq!(report.sites.len(), 2);
    assert_eq!(report.sites[0].site, "broken");
    let err = report.sites[0].error.as_ref().unwrap();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.code, "BT_DR_AUTH");
    assert!(!report.sites[0].partial);
    assert!(report.sites[1].report.is_some());
    assert_eq!(report.failed().count(), 1);
    assert_eq!(store.list_sets("support").unwrap().len(), 1);
}

#[test]
fn retention_over_a_long_synthetic_history() {
    // One set a day at 02:00 from 2025-01-01 to 2026-11-20 (a Friday).
    let mut sets = Vec::new();
    let mut t = datetime!(2025-01-01 02:00 UTC);
    while t <= datetime!(2026-11-20 02:00 UTC) {
        sets.push(RetentionCandidate {
            id: bt_dr_core::store::set_id_for(t),
            created_at: t,
            verified: Some(true),
            not_verifiable: None,
            version: None,
        });
        t += time::Duration::days(1);
    }
    let n = sets.len();
    let policy = RetentionPolicy {
        keep_daily: Some(7),
        keep_weekly: Some(4),
        keep_monthly: Some(6),
        keep_yearly: Some(2),
        ..Default::default()
    };
    let plan = plan_retention("support", &sets, &policy).unwrap();
    let kept: Vec<String> = plan.keep.iter().map(|k| k.id[..8].to_string()).collect();
    let expected = [
        "20261120", "20261119", "20261118", "20261117", "20261116", "20261115",
        "20261114", // daily 7
        "20261108", "20261101", // weekly: newest of the two weeks before
        "20261031", "20260930", "20260831", "20260731",
        "20260630", // monthly 6 (Nov counted already)
        "20251231", // yearly 2 (2026 counted already)
    ];
    assert_eq!(kept, expected);
    assert_eq!(plan.remove.len(), n - expected.len());
    let newest = &plan.keep[0];
    for r in [
        "daily",
        "weekly",
        "monthly",
        "yearly",
        "newest verified set",
    ] {
        assert!(
            newest.reasons.iter().any(|x| x.starts_with(r)),
            "{r}: {:?}",
            newest.reasons
        );
    }
}

#[tokio::test]
async fn apply_retention_on_a_store_never_drops_the_newest_verified_set() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let opts = bt_dr_core::BackupSetOptions {
        recordings: false,
        ..Default::default()
    };
    for _ in 0..3 {
        run_backup_set(&store, &site, &c, &opts).await.unwrap();
    }
    let sets = store.list_sets("support").unwrap();
    assert_eq!(sets.len(), 3);
    // Corrupt the newest: keep-last 1 keeps it, and the newest verified one is kept too.
    let newest = &sets[0];
    let f = &newest.manifest.files[0];
    std::fs::write(newest.path.join(&f.path), b"corrupt").unwrap();
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(plan.keep.len(), 2);
    assert_eq!(plan.keep[1].id, sets[1].id);
    assert_eq!(plan.remove, [sets[2].id.clone()]);
    let removed = store.apply_retention(&plan).unwrap();
    assert_eq!(removed, [sets[2].id.clone()]);
    let left: Vec<_> = store
        .list_sets("support")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, [sets[0].id.clone(), sets[1].id.clone()]);
    // A stale plan that would remove the newest verified set is refused.
    let bad = bt_dr_core::RetentionPlan {
        site: "support".into(),
        keep: vec![],
        remove: vec![sets[1].id.clone()],
        min_nsb_bytes: bt_dr_core::retention::DEFAULT_MIN_NSB_BYTES,
    };
    assert_eq!(
        store.apply_retention(&bad).unwrap_err().kind(),
        ErrorKind::Refused
    );
}
