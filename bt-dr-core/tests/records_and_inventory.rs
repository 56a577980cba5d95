//! Inventory loading errors, /appliance records and Vault key records through the public API.

use bt_dr_core::{ApplianceRecord, ErrorKind, Inventory, VaultKeyRecord};

const GOOD: &str = r#"
[[sites]]
name = "support"
fqdn = "support.example.com"
product = "pra"
version = "24.3.1"
[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "b400"
[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "azure"
[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "nat-swing"
[sites.failover.auto_failover]
enabled = true
connectivity_test_ips = ["10.0.0.1", "10.0.0.2"]
"#;

#[test]
fn inventory_loads_from_every_format() {
    let inv = Inventory::from_toml_str(GOOD).unwrap();
    let s = &inv.sites[0];
    assert_eq!(s.product, bt_dr_core::Product::Pra);
    assert_eq!(
        s.failover
            .as_ref()
            .unwrap()
            .auto_failover
            .connectivity_test_ips
            .len(),
        2
    );
    let json = serde_json::to_string(&inv).unwrap();
    assert_eq!(Inventory::from_json_str(&json).unwrap(), inv);
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("fleet.yaml");
    std::fs::write(&yaml, serde_yaml_ng::to_string(&inv).unwrap()).unwrap();
    assert_eq!(Inventory::load(&yaml).unwrap(), inv);
}

#[test]
fn a_bad_file_names_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fleet.toml");
    std::fs::write(&p, GOOD.replace("kind = \"azure\"", "kind = \"azur\"")).unwrap();
    let e = Inventory::load(&p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    let msg = e.to_string();
    assert!(msg.contains("fleet.toml:12:"), "{msg}");
    assert!(
        msg.contains("sites[0].appliances[1].kind") || msg.contains("sites.0.appliances.1.kind"),
        "{msg}"
    );
    std::fs::write(
        &p,
        GOOD.replace("version = \"24.3.1\"", "version = \"24.3\""),
    )
    .unwrap();
    let e = Inventory::load(&p).unwrap_err();
    assert!(
        e.to_string().contains("X.Y.Z") && e.to_string().contains(":6"),
        "{e}"
    );
    // Relations are validated after parsing.
    let e = Inventory::from_toml_str(&GOOD.replace(
        "backup = \"bt-b.example.com\"",
        "backup = \"bt-c.example.com\"",
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("bt-c.example.com"), "{e}");
    let e = Inventory::load(dir.path().join("fleet.ini")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = Inventory::load(dir.path().join("missing.toml")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}

const RECORD: &str = r#"
[identity]
hostname = "bt-a.example.com"
appliance_version = "24.3.1"
serial = "B400-77"
base_version = "7.4.0"
system_time = "2026-11-20T02:15:30+01:00"
[[ip_configuration]]
name = "eth0"
addresses = ["10.0.0.11/24", "fd00::11/64"]
gateway = "10.0.0.1"
[syslog]
enabled = true
host = "syslog.example.com"
[smtp]
server = "smtp.example.com"
certificate_reminders = true
recipients = ["ops@example.com"]
[login_agreement]
enabled = true
text = "Authorised use only."
"#;

#[test]
fn appliance_record_validates_and_saves_under_its_identity() {
    let r = ApplianceRecord::from_toml_str(RECORD).unwrap();
    assert_eq!(
        r.file_name(),
        "appliance-bt-a.example.com-v24.3.1-sn-B400-77-base-7.4.0-20261120T011530Z.json"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = r.save(dir.path()).unwrap();
    assert_eq!(ApplianceRecord::load(&p).unwrap(), r);
    for (from, to, field) in [
        ("serial = \"B400-77\"", "serial = \" \"", "identity.serial"),
        ("host = \"syslog.example.com\"", "", "syslog.host"),
        ("server = \"smtp.example.com\"", "", "smtp.server"),
        ("recipients = [\"ops@example.com\"]", "", "smtp.recipients"),
        (
            "text = \"Authorised use only.\"",
            "",
            "login_agreement.text",
        ),
        (
            "\"10.0.0.11/24\"",
            "\"10.0.0.11\"",
            "ip_configuration[0].addresses",
        ),
        (
            "\"fd00::11/64\"",
            "\"fd00::11/129\"",
            "ip_configuration[0].addresses",
        ),
    ] {
        let e = ApplianceRecord::from_toml_str(&RECORD.replace(from, to)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{field}: {e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    let e = ApplianceRecord::from_toml_str(
        &RECORD.replace("[identity]", "[identity]\ncolour = \"red\""),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
}

#[test]
fn vault_key_record_pairs_with_the_same_days_backup() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vault.key");
    std::fs::write(&key, b"k").unwrap();
    let d = time::macros::date!(2026 - 11 - 20);
    let r = VaultKeyRecord::from_file(&key, "support", d, true).unwrap();
    assert!(r.findings().is_empty());
    // Dates travel as ISO strings (manifests are read by people and other languages).
    assert!(
        serde_json::to_string(&r)
            .unwrap()
            .contains(r#""date":"2026-11-20""#)
    );
    assert_eq!(r.sha256, bt_dr_core::sha256_hex(b"k"));
    assert!(r.pairs_with("support", d));
    assert!(!r.pairs_with("support", d.next_day().unwrap()));
    assert!(!r.pairs_with("other", d));
    std::fs::write(&key, b"").unwrap();
    assert_eq!(
        VaultKeyRecord::from_file(&key, "support", d, true)
            .unwrap_err()
            .kind(),
        ErrorKind::Integrity
    );
    assert_eq!(
        VaultKeyRecord::from_file(dir.path().join("none"), "support", d, true)
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );
}

#[test]
fn every_operation_is_documented_once() {
    let mut names: Vec<_> = bt_dr_core::OPERATIONS.iter().map(|o| o.name).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate operation names");
    assert!(bt_dr_core::OPERATIONS.iter().all(|o| !o.summary.is_empty()));
}

#[test]
fn error_kinds_have_distinct_stable_codes() {
    use std::collections::HashSet;
    let kinds = bt_dr_core::ErrorKind::ALL;
    assert_eq!(
        kinds
            .iter()
            .map(|k| k.status())
            .collect::<HashSet<_>>()
            .len(),
        kinds.len()
    );
    assert_eq!(
        kinds.iter().map(|k| k.code()).collect::<HashSet<_>>().len(),
        kinds.len()
    );
    assert_eq!(
        kinds
            .iter()
            .map(|k| k.python_class())
            .collect::<HashSet<_>>()
            .len(),
        kinds.len()
    );
    assert!(
        kinds
            .iter()
            .all(|k| k.status() > 0 && k.code() == format!("BT_DR_{}", k.as_str().to_uppercase()))
    );
}
