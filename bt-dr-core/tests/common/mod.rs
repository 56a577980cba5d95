//! Shared set-up for tests that talk to the simulator.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use bt_dr_core::api::{Client, ClientBuilder, RetryPolicy};
use bt_dr_sim::{Account, Sim, SimAppliance, SimConfig};

pub const SECRET: &str = "sim-secret-Zq8xW3";

/// A config with an account unique to this test, so the process-wide per-account rate
/// limiter of one test does not slow another.
pub fn config() -> SimConfig {
    static N: AtomicU32 = AtomicU32::new(0);
    let id = format!(
        "test-client-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    SimConfig {
        accounts: vec![Account::full_access(&id, SECRET)],
        ..SimConfig::default()
    }
}

pub fn client_id(sim: &Sim) -> String {
    sim.config().accounts[0].client_id.clone()
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(20),
        max_backoff: std::time::Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

pub fn builder(sim: &Sim, a: &SimAppliance) -> ClientBuilder {
    Client::builder(&a.url())
        .credentials(&client_id(sim), SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .only_extra_ca(true)
        .site_name("support")
        .retry_policy(fast_retries())
}

pub fn client(sim: &Sim, a: &SimAppliance) -> Client {
    builder(sim, a).build().unwrap()
}

/// Every entry in `dir` that is not a finished file of the given names.
pub fn stray_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A site inventory matching a simulator pair (appliances reached at the simulator's ports).
pub fn pair_site(sim: &Sim) -> bt_dr_core::Site {
    let b = sim.backup().expect("pair");
    let toml = format!(
        r#"
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
[[appliances]]
hostname = "{a}"
kind = "b300"
serial = "B300-0001"
ip = "10.0.0.11"
api_url = "{au}"
[[appliances]]
hostname = "{b}"
kind = "vmware"
ip = "10.0.0.12"
api_url = "{bu}"
[failover]
primary = "{a}"
backup = "{b}"
routing = "dns-swing"
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        a = sim.primary().hostname(),
        b = b.hostname(),
        au = sim.primary().url(),
        bu = b.url()
    );
    let site: bt_dr_core::Site = toml::from_str(&toml).unwrap();
    site.validate().unwrap();
    site
}

/// Writes an /appliance record for `host` at `version` and returns its path.
pub fn appliance_record(dir: &std::path::Path, host: &str, version: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{host}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"
[identity]
hostname = "{host}"
appliance_version = "{version}"
serial = "SN-{host}"
base_version = "7.2.1"
system_time = "2026-11-20T02:00:00Z"
[[ip_configuration]]
name = "eth0"
addresses = ["10.0.0.11/24"]
gateway = "10.0.0.1"
dns_servers = ["10.0.0.2"]
[[static_routes]]
destination = "192.168.50.0/24"
gateway = "10.0.0.254"
[syslog]
enabled = true
host = "syslog.example.com"
format = "RFC 5424"
"#
        ),
    )
    .unwrap();
    p
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/p12")
        .join(name)
}

/// Full set options: a backup password, certificate, both records, a protected Vault key.
pub fn full_options(sim: &Sim, inputs: &std::path::Path) -> bt_dr_core::BackupSetOptions {
    let key = inputs.join("vault.key");
    std::fs::write(&key, b"encrypted vault key bytes").unwrap();
    bt_dr_core::BackupSetOptions {
        certificate_bundle: Some(fixture("default_chain.p12")),
        certificate_passphrase: Some("fixture-pass".into()),
        appliance_records: vec![
            appliance_record(inputs, sim.primary().hostname(), &sim.config().version),
            appliance_record(
                inputs,
                sim.backup().unwrap().hostname(),
                &sim.config().version,
            ),
        ],
        vault_key: Some(bt_dr_core::backup_set::VaultKeyInput {
            path: key,
            password_protected: true,
            exported_on: None,
        }),
        backup_password: Some("nightly-backup-pass".into()),
        ..Default::default()
    }
}
