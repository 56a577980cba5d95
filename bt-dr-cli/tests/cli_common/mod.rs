//! Shared set-up for the end-to-end tests of the `bt-dr` binary: simulated sites (the
//! `bt-dr-sim` library, kept running on a runtime of the test process), inventories pointing at
//! them, a secret file, and a runner that checks no known secret ever reaches the output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use bt_dr_sim::{Account, Sim, SimConfig};

/// The API secret of every simulated account in these tests.
pub const CLIENT_SECRET: &str = "cli-test-Secret-7fQ2xV9kLm";
/// The NSB backup password the backup-password simulators require.
pub const BACKUP_PASSWORD: &str = "cli-test-BackupPw-3Jd8sQ";
/// The PKCS#12 fixtures' passphrase.
pub const P12_PASSPHRASE: &str = "fixture-pass";
/// Variable names the inventories and commands use for them.
pub const SECRET_ENV: &str = "BT_DR_CLI_TEST_SECRET";
pub const PASSWORD_ENV: &str = "BT_DR_CLI_TEST_BACKUP_PW";

/// Every secret the tests hand to bt-dr; none may appear in any output.
pub const SECRETS: [&str; 3] = [CLIENT_SECRET, BACKUP_PASSWORD, P12_PASSPHRASE];

/// A simulated site kept alive with its runtime.
pub struct SimSite {
    pub name: String,
    pub sim: Sim,
    rt: tokio::runtime::Runtime,
}

impl SimSite {
    /// Starts a small, fast simulated pair: 64 KiB NSB, 4 KiB recordings, no rate limit (each
    /// test's sims are private to it), the given backup password requirement.
    pub fn start(name: &str, backup_password: bool, backup_size: u64) -> SimSite {
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let cfg = SimConfig {
            accounts: vec![Account::full_access(&id, CLIENT_SECRET)],
            backup_size,
            recording_size: 4096,
            rate_limit_per_second: 0,
            rate_limit_per_hour: 0,
            backup_password: backup_password.then(|| BACKUP_PASSWORD.to_string()),
            data_sync_duration: std::time::Duration::from_millis(100),
            ..SimConfig::default()
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(Sim::start_pair(cfg)).expect("simulator starts");
        SimSite {
            name: name.to_string(),
            sim,
            rt,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.sim.config().accounts[0].client_id
    }

    /// This site as an inventory `[[sites]]` entry.
    pub fn toml(&self) -> String {
        let s = &self.sim;
        let b = s.backup().expect("pair");
        format!(
            r#"
[[sites]]
name = "{name}"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"

[sites.api]
client_id = "{id}"
client_secret_env = "{SECRET_ENV}"
ca_file = {ca}

[[sites.appliances]]
hostname = "{a}"
kind = "b300"
ip = "10.0.0.11"
api_url = "{au}"

[[sites.appliances]]
hostname = "{bh}"
kind = "vmware"
ip = "10.0.0.12"
api_url = "{bu}"

[sites.failover]
primary = "{a}"
backup = "{bh}"
routing = "dns-swing"
"#,
            name = self.name,
            fqdn = s.config().site_hostname,
            version = s.config().version,
            id = self.client_id(),
            ca = serde_json::to_string(&s.ca_pem_path().to_string_lossy()).unwrap(),
            a = s.primary().hostname(),
            au = s.primary().url(),
            bh = b.hostname(),
            bu = b.url(),
        )
    }
}

/// A working folder with an inventory of `sites` and a secret file holding the API secret
/// and the backup password.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub inventory: PathBuf,
    pub secret_file: PathBuf,
    pub store: PathBuf,
}

impl Fleet {
    pub fn new(sites: &[&SimSite]) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("fleet.toml");
        let text: String = sites.iter().map(|s| s.toml()).collect();
        std::fs::write(&inventory, text).unwrap();
        let secret_file = dir.path().join("fleet.secrets");
        std::fs::write(
            &secret_file,
            format!(
                "# test secrets\n{SECRET_ENV}={CLIENT_SECRET}\n{PASSWORD_ENV}={BACKUP_PASSWORD}\n"
            ),
        )
        .unwrap();
        let store = dir.path().join("store");
        Fleet {
            dir,
            inventory,
            secret_file,
            store,
        }
    }

    /// `bt-dr --inventory … --secret-file … --store …` plus `args`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bt_dr();
        c.arg("--inventory")
            .arg(&self.inventory)
            .arg("--secret-file")
            .arg(&self.secret_file)
            .arg("--store")
            .arg(&self.store)
            .args(args);
        c
    }

    /// Runs `cmd(args)` and checks the output holds no secret.
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd(args))
    }
}

/// The binary, with an environment that holds none of the variables bt-dr reads, and stdin
/// closed (never a terminal).
pub fn bt_dr() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bt-dr"));
    for v in [
        "BT_DR_INVENTORY",
        "BT_DR_STORE",
        "BT_DR_SECRET_FILE",
        "BT_DR_P12_PASSPHRASE",
        SECRET_ENV,
        PASSWORD_ENV,
    ] {
        c.env_remove(v);
    }
    c.env("RUST_BACKTRACE", "0").stdin(Stdio::null());
    c
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs a command to its end and checks that no known secret reached stdout or stderr.
pub fn run(mut c: Command) -> Run {
    let out: Output = c.output().expect("bt-dr runs");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_secret(&r.stdout, &r.stderr);
    r
}

pub fn assert_no_secret(stdout: &str, stderr: &str) {
    for s in SECRETS {
        assert!(!stdout.contains(s), "a secret reached stdout:\n{stdout}");
        assert!(!stderr.contains(s), "a secret reached stderr:\n{stderr}");
    }
}

/// A PKCS#12 fixture of bt-dr-core.
pub fn p12(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bt-dr-core/tests/fixtures/p12")
        .join(name)
}
