//! The API client against the simulator over TLS: every operation, the auth and rate-limit
//! rules, and TLS verification.

use crate::common;

use bt_dr_core::api::{
    ArchiveKind, BackupOptions, CancelToken, CommandAccess, TimeWindow, TransferOptions,
};
use bt_dr_core::{ErrorKind, FailoverRole};
use bt_dr_sim::{Endpoint, Fault, Sim, SimConfig, XmlNamespace};
use common::*;

#[tokio::test]
async fn health_info_appliances_and_clients() {
    for ns in [XmlNamespace::Bomgar, XmlNamespace::BeyondTrust] {
        let sim = Sim::start_pair(SimConfig {
            namespace: ns,
            ..config()
        })
        .await
        .unwrap();
        let c = client(&sim, sim.primary());
        let h = c.check_health().await.unwrap();
        assert!(h.success);
        assert_eq!(h.hostname, sim.primary().hostname());
        assert_eq!(h.version.release(), sim.config().version);
        assert!(h.version.build().is_some());
        assert_eq!(h.failover_role, FailoverRole::Primary);
        assert_eq!(h.last_data_sync_status.as_deref(), Some("success"));
        assert!(h.last_data_sync_time.is_some());

        let info = c.get_api_info().await.unwrap();
        assert_eq!(info.permissions.command, CommandAccess::FullAccess);
        assert!(info.permissions.backup);
        assert!(info.timestamp.is_some());

        let apps = c.get_appliances().await.unwrap();
        assert_eq!(apps.len(), 2);
        assert!(apps.iter().any(|a| a.failover_role == FailoverRole::Backup));

        let clients = c.get_connected_clients().await.unwrap();
        assert!(clients.iter().any(|c| c.client_type == "representative"));

        let probe = c.probe_health().await.unwrap();
        assert!(probe.healthy);
        sim.primary().set_health(false, Some("disk failing"));
        let probe = c.probe_health().await.unwrap();
        assert!(!probe.healthy && probe.status == 500);
        let h = c.check_health().await.unwrap();
        assert_eq!(h.error_message.as_deref(), Some("disk failing"));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn one_token_is_shared_by_concurrent_callers() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.check_health().await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    assert_eq!(sim.tokens_issued(&client_id(&sim)), 1);
}

#[tokio::test]
async fn evicted_or_revoked_token_is_renewed_once() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    c.check_health().await.unwrap();
    sim.primary()
        .set_fault(Endpoint::Command, Fault::ExpireTokens, Some(1));
    c.check_health().await.unwrap();
    assert_eq!(sim.tokens_issued(&client_id(&sim)), 2);
    // A regenerated secret: the old token dies and the old secret no longer gets a new one.
    sim.regenerate_secret(&client_id(&sim), "another-secret");
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
}

#[tokio::test]
async fn wrong_secret_is_auth_error_without_the_secret() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = builder(&sim, sim.primary())
        .credentials(&client_id(&sim), "wrong-secret-value-123".into())
        .build()
        .unwrap();
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!format!("{e} {e:?} {}", e.details()).contains("wrong-secret-value-123"));
}

#[tokio::test]
async fn permissions_are_reported_by_name() {
    let mut cfg = config();
    let id = cfg.accounts[0].client_id.clone();
    cfg.accounts = vec![bt_dr_sim::Account::read_only(&id, SECRET)];
    let sim = Sim::start_pair(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let info = c.get_api_info().await.unwrap();
    assert_eq!(
        info.missing_permission("download_backup"),
        Some("perm_backup")
    );
    let dir = tempfile::tempdir().unwrap();
    let e = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("perm_backup"), "{e}");
    let e = c
        .set_failover_role(FailoverRole::Backup, false, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("perm_command"));
    assert!(stray_files(dir.path()).is_empty());
}

#[tokio::test]
async fn client_side_rate_limit_keeps_under_the_appliance_limit() {
    let mut cfg = config();
    cfg.rate_limit_per_second = 5;
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = builder(&sim, sim.primary())
        .rate_limit_per_second(5)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..15)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.check_health().await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    // 16 requests (token + 15) at 5/s with a burst of 5 take about two seconds.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limited_answers_are_waited_out_then_reported() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::RateLimited {
            retry_after_secs: Some(0),
        },
        Some(2),
    );
    c.check_health().await.unwrap();
    sim.primary().set_fault(
        Endpoint::Command,
        Fault::RateLimited {
            retry_after_secs: None,
        },
        None,
    );
    let e = c.check_health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn failover_role_changes_and_errors() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let backup = client(&sim, sim.backup().unwrap());
    let r = backup
        .set_failover_role(FailoverRole::Primary, false, false)
        .await
        .unwrap();
    assert!(!r.sync_started);
    assert_eq!(
        sim.backup().unwrap().failover_role(),
        bt_dr_sim::FailoverRole::Primary
    );
    assert_eq!(
        sim.primary().failover_role(),
        bt_dr_sim::FailoverRole::Backup
    );
    // The now-backup old primary asks for a synced swap back.
    let old = client(&sim, sim.primary());
    let r = old
        .set_failover_role(FailoverRole::Primary, true, false)
        .await
        .unwrap();
    assert!(r.sync_started);
    // Peer down: a data sync cannot run.
    sim.primary().set_down(true);
    let e = backup
        .set_failover_role(FailoverRole::Backup, true, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    let e = backup
        .set_failover_role(FailoverRole::None, false, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn set_failover_role_is_not_retried_after_a_server_error() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let c = client(&sim, sim.backup().unwrap());
    c.check_health().await.unwrap();
    let before = sim.backup().unwrap().request_count(Endpoint::Command);
    sim.backup()
        .unwrap()
        .set_fault(Endpoint::Command, Fault::ServerError(502), Some(3));
    let e = c
        .set_failover_role(FailoverRole::Primary, false, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(
        sim.backup().unwrap().request_count(Endpoint::Command),
        before + 1
    );
    // A read is retried through the rest of the burst.
    c.check_health().await.unwrap();
}

#[tokio::test]
async fn backup_download_streams_hashes_and_writes_a_sidecar() {
    let mut cfg = config();
    cfg.backup_size = 3 * 1024 * 1024 + 17;
    let expected = bt_dr_sim::expected_backup_sha256_hex(&cfg);
    let sim = Sim::start_pair(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let dir = tempfile::tempdir().unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let s2 = seen.clone();
    let d = c
        .download_backup(
            dir.path(),
            BackupOptions {
                progress: Some(std::sync::Arc::new(move |done, total| {
                    assert_eq!(total, Some(3 * 1024 * 1024 + 17));
                    s2.store(done, std::sync::atomic::Ordering::SeqCst);
                })),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.file.sha256, expected);
    assert_eq!(d.file.size, 3 * 1024 * 1024 + 17);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), d.file.size);
    assert_eq!(bt_dr_core::sha256_file(&d.file.path).unwrap().0, expected);
    let name: bt_dr_core::BackupName = d.file.file_name.parse().unwrap();
    assert_eq!(name.version.release(), sim.config().version);
    assert_eq!(d.sidecar.sha256, expected);
    let side: bt_dr_core::api::BackupSidecar =
        serde_json::from_slice(&std::fs::read(&d.sidecar_path).unwrap()).unwrap();
    assert_eq!(side, d.sidecar);
    // The sidecar's digest comes from the bytes written, and matches the file on disk.
    assert_eq!(
        bt_dr_core::sha256_file(&d.sidecar_path).unwrap(),
        (d.sidecar_sha256.clone(), d.sidecar_size)
    );
    let mut names = stray_files(dir.path());
    names.sort();
    assert_eq!(
        names,
        [
            d.file.file_name.clone(),
            format!("{}.bt-dr.json", d.file.file_name)
        ]
    );
}

#[tokio::test]
async fn backup_password_travels_in_the_body() {
    let mut cfg = config();
    cfg.backup_password = Some("nsb-pass-77".into());
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let dir = tempfile::tempdir().unwrap();
    let e = c
        .download_backup(
            dir.path(),
            BackupOptions {
                password: Some("wrong-nsb-pass".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("wrong-nsb-pass"));
    assert!(
        stray_files(dir.path()).is_empty(),
        "{:?}",
        stray_files(dir.path())
    );
    let d = c
        .download_backup(
            dir.path(),
            BackupOptions {
                password: Some("nsb-pass-77".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(d.sidecar.password_protected);
}

#[tokio::test]
async fn cancel_leaves_no_file() {
    let mut cfg = config();
    cfg.backup_size = 8 * 1024 * 1024;
    let sim = Sim::start_single(cfg).await.unwrap();
    sim.primary().set_fault(
        Endpoint::Backup,
        Fault::SlowBody {
            bytes_per_sec: 2 * 1024 * 1024,
        },
        None,
    );
    let c = client(&sim, sim.primary());
    let dir = tempfile::tempdir().unwrap();
    let token = CancelToken::new();
    let t2 = token.clone();
    let e = c
        .download_backup(
            dir.path(),
            BackupOptions {
                progress: Some(std::sync::Arc::new(move |done, _| {
                    if done > 1024 * 1024 {
                        t2.cancel()
                    }
                })),
                cancel: Some(token),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(stray_files(dir.path()).is_empty());
}

#[tokio::test]
async fn reporting_sessions_recordings_archives() {
    let sim = Sim::start_single(config()).await.unwrap();
    let c = client(&sim, sim.primary());
    let now = time::OffsetDateTime::now_utc();
    let sessions = c
        .list_sessions(&TimeWindow::last_seconds(now, 2 * 86400))
        .await
        .unwrap();
    assert_eq!(sessions.len(), sim.config().sessions as usize);
    let s = c.get_session(&sessions[0].lsid).await.unwrap();
    assert!(s.recording_url.is_some() && s.start_time.is_some());
    let dir = tempfile::tempdir().unwrap();
    let rec = c
        .download_recording(&s.lsid, dir.path(), TransferOptions::default())
        .await
        .unwrap();
    assert_eq!(rec.size, sim.config().recording_size);
    assert!(rec.file_name.starts_with(&s.lsid));
    let e = c.get_session("no-such-session").await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Api | ErrorKind::NotFound),
        "{e}"
    );
    let e = c.get_session("../x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let archives = c.list_archives(now.date()).await.unwrap();
    assert!(!archives.is_empty());
    let a = &archives[0];
    let f = c
        .download_archive(
            a.kind,
            now.date(),
            a.index,
            dir.path(),
            TransferOptions::default(),
        )
        .await
        .unwrap();
    let gz = std::fs::read(&f.path).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert!(!text.is_empty());
    let old = now.date() - time::Duration::days(30);
    assert!(c.list_archives(old).await.unwrap().is_empty());
    let e = c
        .download_archive(
            ArchiveKind::State,
            old,
            1,
            dir.path(),
            TransferOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn pra_uses_access_session_reports() {
    let sim = Sim::start_single(SimConfig {
        product: bt_dr_sim::Product::Pra,
        ..config()
    })
    .await
    .unwrap();
    let c = builder(&sim, sim.primary())
        .product(bt_dr_core::Product::Pra)
        .build()
        .unwrap();
    let sessions = c.list_sessions(&TimeWindow::since(0)).await.unwrap();
    assert!(!sessions.is_empty());
    let rs = client(&sim, sim.primary());
    assert!(rs.list_sessions(&TimeWindow::since(0)).await.is_err());
}

#[tokio::test]
async fn client_from_the_inventory_api_section() {
    let sim = Sim::start_pair(config()).await.unwrap();
    let mut site = pair_site(&sim);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let env = format!("BT_DR_TEST_SECRET_{}", std::process::id());
    site.api = Some(bt_dr_core::ApiAccess {
        client_id: client_id(&sim),
        client_secret_env: env.clone(),
        ca_file: Some(ca),
        pin_sha256: Some(sim.leaf_cert_sha256_hex()),
    });
    let backup = site.intended_backup().unwrap().clone();
    let e = bt_dr_core::api::Client::for_appliance(&site, &backup).unwrap_err();
    assert!(e.to_string().contains(&env), "{e}");
    // SAFETY: this test is the only user of this uniquely named variable.
    unsafe { std::env::set_var(&env, SECRET) };
    let c = bt_dr_core::api::Client::for_appliance(&site, &backup).unwrap();
    assert_eq!(
        c.check_health().await.unwrap().failover_role,
        FailoverRole::Backup
    );
    site.api = None;
    assert_eq!(
        bt_dr_core::api::Client::for_appliance(&site, &backup)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    // Without an api section, credentials given to the preset builder still reach the
    // appliance at the inventory's URL.
    let c = bt_dr_core::api::ClientBuilder::for_appliance(&site, &backup)
        .unwrap()
        .credentials(&client_id(&sim), SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .build()
        .unwrap();
    assert_eq!(c.base_url(), backup.base_url());
    assert_eq!(
        c.check_health().await.unwrap().failover_role,
        FailoverRole::Backup
    );
}
