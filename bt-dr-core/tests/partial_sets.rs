//! Issue 12 items 3 and 1 (retention floor): one failing step keeps every part that succeeded,
//! the set is marked partial, and neither a partial set nor a tiny NSB is ever the newest
//! verified set retention protects.

use crate::common;

use std::time::Duration;

use bt_dr_core::api::{CancelToken, RetryPolicy};
use bt_dr_core::backup_set::{FileKind, PartStatus, SetPart};
use bt_dr_core::{
    BackupStore, ErrorKind, JobSite, RetentionPolicy, run_backup_job, run_backup_set,
    verify_backup_set,
};
use bt_dr_sim::{Endpoint, Fault, Sim};
use common::*;

fn status(m: &bt_dr_core::Manifest, p: SetPart) -> PartStatus {
    m.part(p)
        .unwrap_or_else(|| panic!("no outcome for {p}"))
        .status
}

/// The Reporting API failing after the NSB was downloaded: the set is kept, partial.
async fn reporting_fails(
    fault: Fault,
    client: impl Fn(&Sim) -> bt_dr_core::api::Client,
) -> ErrorKind {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim);
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    sim.primary().set_fault(Endpoint::Reporting, fault, None);
    let r = run_backup_set(&store, &site, &c, &full_options(&sim, inputs.path()))
        .await
        .expect("the NSB was downloaded: the set is kept");
    assert!(r.partial && r.manifest.partial);
    let failed: Vec<_> = r.failed_parts().map(|p| p.part).collect();
    assert_eq!(failed, [SetPart::Recordings]);
    let err = r.failed_parts().next().unwrap().error.clone().unwrap();
    assert_eq!(err.code, err.kind.code());
    for p in [
        SetPart::Nsb,
        SetPart::Certificate,
        SetPart::ApplianceRecords,
        SetPart::VaultKey,
    ] {
        assert_eq!(status(&r.manifest, p), PartStatus::Ok, "{p}");
    }
    let nsb = r.manifest.files_of(FileKind::Nsb).next().unwrap();
    assert_eq!(
        nsb.sha256,
        bt_dr_sim::expected_backup_sha256_hex(sim.config())
    );
    assert_eq!(r.manifest.files_of(FileKind::Recording).count(), 0);
    assert!(r.manifest.reporting.is_empty());
    assert!(
        r.manifest
            .findings
            .iter()
            .any(|f| f.id == "set_part_failed")
    );
    // Every kept file is intact; the set says it is partial.
    let v = verify_backup_set(&r.path).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert!(v.partial);
    // The manifest on disk says the same.
    let listed = store.list_sets("support").unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].manifest, r.manifest);
    // The checkpoint never moves past recordings that were not downloaded.
    assert_eq!(store.checkpoint("support").unwrap().recordings_until, None);

    // Next night the Reporting API is back: the recordings are taken from where they were.
    sim.primary().clear_faults();
    let r2 = run_backup_set(&store, &site, &c, &full_options(&sim, inputs.path()))
        .await
        .unwrap();
    assert!(!r2.partial && r2.failed_parts().next().is_none());
    let screen = r2
        .manifest
        .reporting
        .iter()
        .filter(|r| r.kind == bt_dr_core::api::ReportKind::SessionRecording)
        .count();
    assert_eq!(screen, sim.config().sessions as usize);
    err.kind
}

#[tokio::test]
async fn reporting_404_after_the_nsb_keeps_a_partial_set() {
    let kind = reporting_fails(Fault::ServerError(404), |s| client(s, s.primary())).await;
    assert!(
        matches!(kind, ErrorKind::Api | ErrorKind::NotFound),
        "{kind:?}"
    );
}

#[tokio::test]
async fn reporting_403_after_the_nsb_keeps_a_partial_set() {
    let kind = reporting_fails(Fault::ServerError(403), |s| client(s, s.primary())).await;
    assert_eq!(kind, ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn reporting_timeout_after_the_nsb_keeps_a_partial_set() {
    let kind = reporting_fails(Fault::Delay(Duration::from_secs(3)), |s| {
        builder(s, s.primary())
            .request_timeout(Duration::from_millis(400))
            .retry_policy(RetryPolicy {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap()
    })
    .await;
    assert!(
        matches!(kind, ErrorKind::Timeout | ErrorKind::Network),
        "{kind:?}"
    );
}

#[tokio::test]
async fn failing_certificate_records_and_vault_key_steps_keep_the_rest() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let mut opts = full_options(&sim, inputs.path());
    opts.certificate_bundle = Some(inputs.path().join("no-such.p12"));
    let broken = inputs.path().join("broken.toml");
    std::fs::write(&broken, "this is [not a record").unwrap();
    opts.appliance_records.push(broken);
    opts.vault_key.as_mut().unwrap().path = inputs.path().join("no-such.key");
    let r = run_backup_set(&store, &site, &c, &opts).await.unwrap();
    assert!(r.partial);
    let failed: Vec<_> = r
        .failed_parts()
        .map(|p| (p.part, p.error.as_ref().unwrap().kind))
        .collect();
    assert_eq!(
        failed.iter().map(|f| f.0).collect::<Vec<_>>(),
        [
            SetPart::Certificate,
            SetPart::ApplianceRecords,
            SetPart::VaultKey
        ]
    );
    assert_eq!(failed[0].1, ErrorKind::Io);
    assert_eq!(failed[2].1, ErrorKind::Io);
    assert_eq!(status(&r.manifest, SetPart::Nsb), PartStatus::Ok);
    assert_eq!(status(&r.manifest, SetPart::Recordings), PartStatus::Ok);
    // The two good records are kept although the third failed.
    assert_eq!(r.manifest.files_of(FileKind::ApplianceRecord).count(), 2);
    assert_eq!(r.manifest.appliance_records.len(), 2);
    assert_eq!(r.manifest.files_of(FileKind::CertificateBundle).count(), 0);
    assert_eq!(r.manifest.files_of(FileKind::VaultKey).count(), 0);
    assert!(r.manifest.certificate.is_none() && r.manifest.vault_key.is_none());
    assert_eq!(
        r.manifest
            .reporting
            .iter()
            .filter(|r| r.kind == bt_dr_core::api::ReportKind::SessionRecording)
            .count(),
        sim.config().sessions as usize
    );
    let v = verify_backup_set(&r.path).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    // Recordings were taken: the checkpoint moves.
    assert!(
        store
            .checkpoint("support")
            .unwrap()
            .recordings_until
            .is_some()
    );
    // Skipped parts are recorded as such.
    let r2 = run_backup_set(
        &store,
        &site,
        &c,
        &bt_dr_core::BackupSetOptions {
            recordings: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!r2.partial);
    for p in [
        SetPart::Recordings,
        SetPart::Certificate,
        SetPart::ApplianceRecords,
        SetPart::VaultKey,
    ] {
        assert_eq!(status(&r2.manifest, p), PartStatus::Skipped, "{p}");
    }
}

#[tokio::test]
async fn a_cancel_after_the_nsb_still_aborts_the_whole_set() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    // The recordings listing is slow; the run is cancelled while it waits (the NSB is in).
    sim.primary().set_fault(
        Endpoint::Reporting,
        Fault::Delay(Duration::from_millis(500)),
        Some(1),
    );
    let cancel = CancelToken::new();
    let mut opts = full_options(&sim, inputs.path());
    opts.cancel = Some(cancel.clone());
    let primary = sim.primary().clone();
    let watcher = tokio::spawn(async move {
        while primary.request_count(Endpoint::Reporting) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cancel.cancel();
    });
    let e = run_backup_set(&store, &site, &c, &opts).await.unwrap_err();
    watcher.await.unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(sim.primary().request_count(Endpoint::Backup) >= 1);
    assert!(store.list_sets("support").unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(root.path().join("support/sets"))
            .unwrap()
            .count(),
        0,
        "nothing of a cancelled set is kept"
    );
    assert_eq!(store.checkpoint("support").unwrap().recordings_until, None);
}

#[tokio::test]
async fn the_job_report_names_partial_sites() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let other = Sim::start_pair(config()).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    other
        .primary()
        .set_fault(Endpoint::Reporting, Fault::ServerError(404), None);
    let mut partial_site = pair_site(&other);
    partial_site.name = "partial".into();
    let jobs = vec![
        JobSite {
            site: partial_site,
            client: client(&other, other.primary()),
            options: Default::default(),
        },
        JobSite {
            site: pair_site(&sim),
            client: client(&sim, sim.primary()),
            options: Default::default(),
        },
    ];
    let report = run_backup_job(&store, jobs, 2).await;
    assert_eq!(report.failed().count(), 0);
    let partial: Vec<_> = report.partial().map(|s| s.site.as_str()).collect();
    assert_eq!(partial, ["partial"]);
    assert!(report.sites[0].report.as_ref().unwrap().partial);
    assert!(!report.all_complete());
    // As JSON (what the bindings return).
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["sites"][0]["partial"], true);
    assert_eq!(v["sites"][0]["report"]["partial"], true);
    assert_eq!(
        v["sites"][0]["report"]["manifest"]["parts"][2]["part"],
        "recordings"
    );
    assert_eq!(
        v["sites"][0]["report"]["manifest"]["parts"][2]["status"],
        "failed"
    );
    assert!(v["sites"][0]["report"]["manifest"]["parts"][2]["error"]["code"].is_string());
    assert_eq!(v["sites"][1]["partial"], false);
}

#[tokio::test]
async fn a_partial_newer_set_is_never_the_protected_one() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let good = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    sim.primary()
        .set_fault(Endpoint::Reporting, Fault::ServerError(404), None);
    let partial = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    assert!(partial.partial);
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(plan.remove.is_empty(), "{plan:?}");
    assert_eq!(plan.keep[0].id, partial.set_id);
    assert_eq!(plan.keep[1].id, good.set_id);
    assert!(
        plan.keep[1]
            .reasons
            .contains(&"newest verified set".to_string()),
        "{plan:?}"
    );
    assert!(store.apply_retention(&plan).unwrap().is_empty());
    // A stale plan that removes the complete set is refused.
    let mut bad = plan.clone();
    bad.remove = vec![good.set_id.clone()];
    assert_eq!(
        store.apply_retention(&bad).unwrap_err().kind(),
        ErrorKind::Refused
    );
    assert_eq!(store.list_sets("support").unwrap().len(), 2);
}

#[tokio::test]
async fn a_tiny_newer_nsb_never_lets_retention_remove_the_real_backup() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut cfg = config();
    cfg.backup_size = 300;
    let tiny = Sim::start_pair(cfg).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let opts = bt_dr_core::BackupSetOptions {
        recordings: false,
        ..Default::default()
    };
    let real = run_backup_set(
        &store,
        &pair_site(&sim),
        &client(&sim, sim.primary()),
        &opts,
    )
    .await
    .unwrap();
    let bogus = run_backup_set(
        &store,
        &pair_site(&tiny),
        &client(&tiny, tiny.primary()),
        &opts,
    )
    .await
    .unwrap();
    assert!(
        bogus
            .manifest
            .not_verifiable(bt_dr_core::retention::DEFAULT_MIN_NSB_BYTES)
            .is_some()
    );
    // The bogus set's files hash fine: only the floor keeps it from being "verified".
    assert!(verify_backup_set(&bogus.path).unwrap().ok());
    let policy = RetentionPolicy {
        keep_last: Some(1),
        ..Default::default()
    };
    let plan = store.plan_retention("support", &policy).unwrap();
    assert_eq!(plan.keep[0].id, bogus.set_id);
    assert_eq!(plan.keep[1].id, real.set_id);
    assert!(
        plan.keep[1]
            .reasons
            .contains(&"newest verified set".to_string())
    );
    assert!(plan.remove.is_empty());
    assert!(store.apply_retention(&plan).unwrap().is_empty());
    // The floor is configurable: below it, the small set counts.
    let plan = store
        .plan_retention(
            "support",
            &RetentionPolicy {
                min_nsb_bytes: Some(100),
                ..policy
            },
        )
        .unwrap();
    assert_eq!(plan.remove, std::slice::from_ref(&real.set_id));
    assert_eq!(plan.min_nsb_bytes, 100);
}

#[tokio::test]
async fn manifests_without_parts_still_load() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let r = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    let mp = r.path.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("parts");
    o.remove("partial");
    o.insert("format".into(), 1.into());
    std::fs::write(&mp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let sets = store.list_sets("support").unwrap();
    assert_eq!(sets.len(), 1);
    assert!(!sets[0].manifest.partial && sets[0].manifest.parts.is_empty());
    assert!(sets[0].manifest.not_verifiable(1024).is_none());
    assert!(verify_backup_set(&r.path).unwrap().ok());
}

#[tokio::test]
async fn failed_recording_downloads_keep_the_set_and_hold_the_checkpoint() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    // The listing answers (slowly); every recording download after it fails.
    sim.primary().set_fault(
        Endpoint::Reporting,
        Fault::Delay(Duration::from_millis(300)),
        Some(1),
    );
    let primary = sim.primary().clone();
    let watcher = tokio::spawn(async move {
        while primary.request_count(Endpoint::Reporting) == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        primary.set_fault(Endpoint::Reporting, Fault::ServerError(500), None);
    });
    let r = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    watcher.await.unwrap();
    assert!(r.partial);
    let failed: Vec<_> = r.failed_parts().map(|p| p.part).collect();
    assert_eq!(failed, [SetPart::Recordings]);
    assert_eq!(r.manifest.files_of(FileKind::Recording).count(), 0);
    let entry = r.manifest.recordings.as_ref().unwrap();
    assert_eq!(entry.count, 0);
    assert!(
        r.manifest
            .findings
            .iter()
            .any(|f| f.id == "reporting_download_failed")
    );
    // The checkpoint stops at the first session whose recording was not taken.
    let cp = store
        .checkpoint("support")
        .unwrap()
        .recordings_until
        .unwrap();
    let screen = entry
        .kinds
        .iter()
        .find(|k| k.kind == bt_dr_core::api::ReportKind::SessionRecording)
        .unwrap();
    assert_eq!(cp, screen.until);
    // (not to the run's time, as a complete run would)
    assert!(cp < r.manifest.created_at.unix_timestamp(), "{cp}");
    // Next run: every recording is taken.
    sim.primary().clear_faults();
    let r2 = run_backup_set(&store, &site, &c, &Default::default())
        .await
        .unwrap();
    assert!(!r2.partial);
    assert_eq!(
        r2.manifest
            .reporting
            .iter()
            .filter(|r| r.kind == bt_dr_core::api::ReportKind::SessionRecording)
            .count(),
        sim.config().sessions as usize
    );
}
