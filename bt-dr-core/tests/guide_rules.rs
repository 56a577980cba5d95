//! Rules of the DR guide that read what a backup set recorded or what the inventory says:
//! audit findings (certificate warnings, an NSB without password, a partial set, a Vault key
//! from another day) and the cold-spare runbook.

use crate::common;

use bt_dr_core::{
    AuditInput, AuditOptions, AuditReport, BackupStore, Inventory, Severity, UpgradeTable, audit,
    run_backup_set,
};
use bt_dr_sim::Sim;
use common::*;

async fn audit_after(opts: bt_dr_core::BackupSetOptions) -> AuditReport {
    audit_after_with(opts, |_| {}).await
}

async fn audit_after_with(
    opts: bt_dr_core::BackupSetOptions,
    arrange: impl FnOnce(&Sim),
) -> AuditReport {
    let sim = Sim::start_pair(config()).await.unwrap();
    arrange(&sim);
    let site = pair_site(&sim);
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    run_backup_set(&store, &site, &client(&sim, sim.primary()), &opts)
        .await
        .unwrap();
    audit(AuditInput {
        inventory: &Inventory {
            sites: vec![site],
            ..Default::default()
        },
        store: Some(&store),
        live: &[],
        upgrade_table: &UpgradeTable::default(),
        options: &AuditOptions::default(),
    })
    .unwrap()
}

fn with(report: &AuditReport, id: &str) -> Vec<(Severity, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.finding.id == id)
        .map(|f| (f.finding.severity, f.finding.message.clone()))
        .collect()
}

#[tokio::test]
async fn certificate_warnings_reach_the_audit_report() {
    let report = audit_after(bt_dr_core::BackupSetOptions {
        recordings: false,
        backup_password: Some("pw".into()),
        certificate_bundle: Some(fixture("self_signed.p12")),
        certificate_passphrase: Some("fixture-pass".into()),
        ..Default::default()
    })
    .await;
    let warnings = with(&report, "certificate_warning");
    assert!(
        warnings
            .iter()
            .any(|(sev, msg)| *sev == Severity::Warning && msg.contains("self_signed_in_use")),
        "{}",
        report.to_markdown()
    );
    assert!(report.to_markdown().contains("certificate_warning"));
}

#[tokio::test]
async fn an_nsb_without_password_is_a_finding_that_says_where_to_keep_one() {
    let report = audit_after(bt_dr_core::BackupSetOptions {
        recordings: false,
        ..Default::default()
    })
    .await;
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.finding.id == "nsb_without_password")
        .collect();
    assert_eq!(found.len(), 1, "{}", report.to_markdown());
    assert_eq!(found[0].finding.severity, Severity::Warning);
    let fix = found[0].finding.remediation.as_deref().unwrap_or("");
    assert!(fix.contains("password vault"), "{fix}");

    let protected = audit_after(bt_dr_core::BackupSetOptions {
        recordings: false,
        backup_password: Some("pw".into()),
        ..Default::default()
    })
    .await;
    assert!(with(&protected, "nsb_without_password").is_empty());
}

#[tokio::test]
async fn a_partial_newest_set_is_an_error_naming_what_failed() {
    let report = audit_after_with(
        bt_dr_core::BackupSetOptions {
            backup_password: Some("pw".into()),
            ..Default::default()
        },
        |sim| {
            sim.primary().set_fault(
                bt_dr_sim::Endpoint::Reporting,
                bt_dr_sim::Fault::ServerError(404),
                None,
            )
        },
    )
    .await;
    let found = with(&report, "backup_partial");
    assert_eq!(found.len(), 1, "{}", report.to_markdown());
    assert_eq!(found[0].0, Severity::Error);
    assert!(found[0].1.contains("recordings"), "{}", found[0].1);

    let whole = audit_after(bt_dr_core::BackupSetOptions {
        backup_password: Some("pw".into()),
        ..Default::default()
    })
    .await;
    assert!(with(&whole, "backup_partial").is_empty());
}

#[tokio::test]
async fn a_vault_key_exported_on_another_day_is_a_finding() {
    let inputs = tempfile::tempdir().unwrap();
    let key = inputs.path().join("vault.key");
    std::fs::write(&key, b"encrypted vault key bytes").unwrap();
    let ten_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(10 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&key)
        .unwrap()
        .set_modified(ten_days_ago)
        .unwrap();
    let opts = |key: &std::path::Path| bt_dr_core::BackupSetOptions {
        recordings: false,
        backup_password: Some("pw".into()),
        vault_key: Some(bt_dr_core::backup_set::VaultKeyInput {
            path: key.to_path_buf(),
            password_protected: true,
            exported_on: None,
        }),
        ..Default::default()
    };
    let report = audit_after(opts(&key)).await;
    let found = with(&report, "vault_key_not_same_day");
    assert_eq!(found.len(), 1, "{}", report.to_markdown());
    let day = time::OffsetDateTime::from(ten_days_ago).date().to_string();
    assert!(found[0].1.contains(&day), "{}", found[0].1);

    // Exported today: it pairs with today's backup.
    let fresh = inputs.path().join("fresh.key");
    std::fs::write(&fresh, b"encrypted vault key bytes").unwrap();
    let report = audit_after(opts(&fresh)).await;
    assert!(with(&report, "vault_key_not_same_day").is_empty());
}

#[test]
fn the_cold_spare_runbook_offers_the_ip_takeover_only_on_the_same_network() {
    let mut site: bt_dr_core::Site = toml::from_str(
        "name = \"support\"\nfqdn = \"support.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n\
         [[appliances]]\nhostname = \"bt-a.example.com\"\nkind = \"b300\"\n",
    )
    .unwrap();
    let spare = |same_network, same_switch| bt_dr_core::ColdSpare {
        hostname: "spare.example.com".into(),
        kind: bt_dr_core::ApplianceKind::B300,
        same_switch,
        same_network,
    };
    let section = |site: &bt_dr_core::Site| {
        let md = bt_dr_core::render_runbook(site, None, &UpgradeTable::default()).unwrap();
        md[md.find("## Cold spare").expect("a cold spare section")..].to_string()
    };

    site.cold_spare = Some(spare(true, true));
    let s = section(&site);
    assert!(
        s.contains("IP address") && s.contains("reboot the switch"),
        "{s}"
    );

    site.cold_spare = Some(spare(true, false));
    let s = section(&site);
    assert!(
        s.contains("IP address") && !s.contains("reboot the switch"),
        "{s}"
    );

    site.cold_spare = Some(spare(false, false));
    let s = section(&site);
    assert!(
        s.contains("DNS A record") && !s.contains("give it the failed appliance's IP"),
        "{s}"
    );
}
