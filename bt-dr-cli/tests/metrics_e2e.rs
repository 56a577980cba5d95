//! `bt-dr metrics` end to end: the built binary against the simulator (a failover pair over
//! real TLS), a real backup store, and (when `BT_DR_PROMTOOL` names it) `promtool check
//! metrics` on what it wrote.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bt_dr_core::api::Client;
use bt_dr_core::{BackupSetOptions, BackupStore, ErrorKind};
use bt_dr_sim::{Account, Endpoint, FailoverRole, Sim, SimConfig};

const SECRET: &str = "metrics-secret-Hq7Lp2Vx9";
const SECRET_ENV: &str = "BT_DR_METRICS_TEST_SECRET";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_bt-dr")
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "bt-dr-metrics-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A pair with an account of its own, so no other test's requests share its rate limiter.
async fn start_pair() -> Sim {
    static N: AtomicU32 = AtomicU32::new(0);
    let id = format!(
        "metrics-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    Sim::start_pair(SimConfig {
        accounts: vec![Account::full_access(&id, SECRET)],
        backup_size: 64 * 1024,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn client_id(sim: &Sim) -> String {
    sim.config().accounts[0].client_id.clone()
}

/// The inventory of the pair as site `support` (and, with `second`, the primary again as the
/// single appliance of site `edge`), its secret in a secret file.
fn write_inventory(sim: &Sim, dir: &Path, second: bool) -> (PathBuf, PathBuf) {
    let b = sim.backup().unwrap();
    let api = format!(
        "[sites.api]\nclient_id = \"{}\"\nclient_secret_env = \"{SECRET_ENV}\"\nca_file = \"{}\"\n",
        client_id(sim),
        sim.ca_pem_path().display()
    );
    let mut inv = format!(
        r#"
[[sites]]
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
[[sites.appliances]]
hostname = "{a}"
kind = "b300"
failover_role = "primary"
api_url = "{au}"
[[sites.appliances]]
hostname = "{b}"
kind = "vmware"
failover_role = "backup"
api_url = "{bu}"
[sites.failover]
primary = "{a}"
backup = "{b}"
routing = "dns-swing"
{api}
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        a = sim.primary().hostname(),
        b = b.hostname(),
        au = sim.primary().url(),
        bu = b.url(),
    );
    if second {
        inv += &format!(
            r#"
[[sites]]
name = "edge"
fqdn = "edge.example.com"
product = "rs"
version = "{version}"
[[sites.appliances]]
hostname = "edge-a.example.com"
kind = "vmware"
api_url = "{au}"
{api}
"#,
            version = sim.config().version,
            au = sim.primary().url(),
        );
    }
    let inv_path = dir.join("inventory.toml");
    std::fs::write(&inv_path, inv).unwrap();
    let secrets = dir.join("secrets.env");
    std::fs::write(&secrets, format!("{SECRET_ENV}={SECRET}\n")).unwrap();
    (inv_path, secrets)
}

/// One backup set of `support` with the fixture certificate bundle, taken by the core.
async fn take_backup_set(sim: &Sim, inv: &Path, store: &Path) -> BackupStore {
    let inventory = bt_dr_core::Inventory::load(inv).unwrap();
    let site = inventory.site("support").unwrap();
    let client = Client::builder(&sim.primary().url())
        .credentials(&client_id(sim), SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .site_name("support")
        .build()
        .unwrap();
    let store = BackupStore::open(store).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bt-dr-core/tests/fixtures/p12/default_chain.p12");
    let opts = BackupSetOptions {
        recordings: false,
        certificate_bundle: Some(fixture),
        certificate_passphrase: Some("fixture-pass".into()),
        ..Default::default()
    };
    bt_dr_core::run_backup_set(&store, site, &client, &opts)
        .await
        .unwrap();
    store
}

fn base_cmd(inv: &Path, secrets: &Path, store: Option<&Path>) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("BT_DR_INVENTORY")
        .env_remove("BT_DR_STORE")
        .env_remove("BT_DR_SECRET_FILE")
        .env_remove(SECRET_ENV)
        .arg("--inventory")
        .arg(inv)
        .arg("--secret-file")
        .arg(secrets);
    if let Some(s) = store {
        c.arg("--store").arg(s);
    }
    c
}

async fn run(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

/// The value of the sample `name{labels...}` (every given label must match; others may be
/// there too).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let (n, rest) = match l.split_once('{') {
                Some((n, rest)) => (n, rest),
                None => (l.split(' ').next().unwrap_or(""), ""),
            };
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

fn promtool_check(path: &Path) {
    let Some(promtool) = std::env::var_os("BT_DR_PROMTOOL") else {
        return;
    };
    let out = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(path).unwrap())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}"
    );
}

fn no_secret(out: &Output, more: &str) {
    for s in [
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        more.into(),
    ] {
        assert!(!s.contains(SECRET), "the secret leaked: {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn textfile_has_every_series_and_replaces_the_old_file_atomically() {
    let sim = start_pair().await;
    let dir = Scratch::new();
    let (inv, secrets) = write_inventory(&sim, dir.path(), false);
    let store_dir = dir.path().join("store");
    let store = take_backup_set(&sim, &inv, &store_dir).await;
    let set = store.latest_set("support").unwrap().unwrap();

    let out_dir = dir.path().join("textfile");
    std::fs::create_dir_all(&out_dir).unwrap();
    let prom = out_dir.join("bt-dr.prom");
    std::fs::write(&prom, "old content\n").unwrap();
    let mut c = base_cmd(&inv, &secrets, Some(&store_dir));
    c.args(["metrics", "--textfile"]).arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&prom).unwrap();
    no_secret(&out, &text);
    // Replaced whole, nothing left beside it (the temporary file was renamed into place).
    assert!(!text.contains("old content"));
    assert!(text.ends_with("# EOF\n"), "{text}");
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["bt-dr.prom"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    let a = sim.primary().hostname().to_string();
    let b = sim.backup().unwrap().hostname().to_string();
    let site = ("site", "support");
    for h in [&a, &b] {
        let l = [site, ("appliance", h.as_str())];
        assert_eq!(
            value(&text, "bt_dr_appliance_up", &l),
            Some(1.0),
            "{h}\n{text}"
        );
        assert_eq!(value(&text, "bt_dr_appliance_healthy", &l), Some(1.0));
        let na = value(
            &text,
            "bt_dr_appliance_certificate_not_after_timestamp_seconds",
            &l,
        )
        .expect("served certificate expiry");
        assert!(na > time::OffsetDateTime::now_utc().unix_timestamp() as f64);
        let info = [site, ("appliance", h.as_str()), ("version", "24.1.2")];
        assert!(
            text.lines().any(|l| l.starts_with("bt_dr_appliance_info{")
                && info.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}")))),
            "{text}"
        );
    }
    let role = |h: &str, r: &str| {
        value(
            &text,
            "bt_dr_appliance_failover_role",
            &[site, ("appliance", h), ("role", r)],
        )
    };
    assert_eq!(role(&a, "primary"), Some(1.0));
    assert_eq!(role(&a, "backup"), Some(0.0));
    assert_eq!(role(&b, "backup"), Some(1.0));
    assert_eq!(role(&b, "primary"), Some(0.0));
    assert_eq!(value(&text, "bt_dr_site_split_brain", &[site]), Some(0.0));

    assert_eq!(value(&text, "bt_dr_backup_sets", &[site]), Some(1.0));
    assert_eq!(
        value(&text, "bt_dr_backup_last_timestamp_seconds", &[site]),
        Some(set.created_at.unix_timestamp_nanos() as f64 / 1e9)
    );
    let age = value(&text, "bt_dr_backup_age_seconds", &[site]).unwrap();
    assert!((0.0..600.0).contains(&age), "{age}");
    assert_eq!(value(&text, "bt_dr_backup_verified", &[site]), Some(1.0));
    assert_eq!(value(&text, "bt_dr_backup_partial", &[site]), Some(0.0));
    let size: u64 = set.manifest.files.iter().map(|f| f.size).sum();
    assert!(size >= 64 * 1024);
    assert_eq!(
        value(&text, "bt_dr_backup_size_bytes", &[site]),
        Some(size as f64)
    );
    let cert = set.manifest.certificate.as_ref().unwrap();
    assert_eq!(
        value(
            &text,
            "bt_dr_backup_certificate_not_after_timestamp_seconds",
            &[site, ("bundle", cert.file.as_str())]
        ),
        Some(cert.leaf_not_after.unwrap().unix_timestamp_nanos() as f64 / 1e9)
    );
    for stage in ["client", "appliance", "store", "verify", "audit"] {
        assert_eq!(
            value(&text, "bt_dr_collection_errors", &[site, ("stage", stage)]),
            Some(0.0),
            "{stage}"
        );
    }
    for sev in ["critical", "error", "warning", "info"] {
        assert!(
            value(
                &text,
                "bt_dr_audit_findings_by_severity",
                &[site, ("severity", sev)]
            )
            .is_some()
        );
    }
    assert!(value(&text, "bt_dr_collection_duration_seconds", &[]).unwrap() > 0.0);
    // Serve-only counters stay out of the textfile (the 0.0.4 parser has no OpenMetrics counters).
    assert!(!text.contains("_total"), "{text}");
    promtool_check(&prom);

    // A corrupted file of the newest set: verified drops to 0.
    let f = &set.manifest.files[0];
    std::fs::write(set.path.join(&f.path), b"corrupt").unwrap();
    let mut c = base_cmd(&inv, &secrets, Some(&store_dir));
    c.args(["metrics", "--textfile"]).arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(value(&text, "bt_dr_backup_verified", &[site]), Some(0.0));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn down_appliance_split_brain_and_stale_sync_come_from_the_core() {
    let sim = start_pair().await;
    let dir = Scratch::new();
    let (inv, secrets) = write_inventory(&sim, dir.path(), false);
    let a = sim.primary().hostname().to_string();
    let b = sim.backup().unwrap().hostname().to_string();
    let site = ("site", "support");
    let stdout_of = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();

    // The backup is down: up 0, the error kind, the audit's finding; not a collection error.
    sim.backup().unwrap().set_down(true);
    let mut c = base_cmd(&inv, &secrets, None);
    c.arg("metrics");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout_of(&out);
    no_secret(&out, &text);
    let lb = [site, ("appliance", b.as_str())];
    assert_eq!(value(&text, "bt_dr_appliance_up", &lb), Some(0.0), "{text}");
    assert_eq!(value(&text, "bt_dr_appliance_healthy", &lb), Some(0.0));
    assert_eq!(
        value(
            &text,
            "bt_dr_appliance_health_error",
            &[site, ("appliance", &b), ("kind", "network")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&text, "bt_dr_appliance_failover_role", &lb), None);
    assert_eq!(
        value(
            &text,
            "bt_dr_appliance_certificate_not_after_timestamp_seconds",
            &lb
        ),
        None
    );
    assert_eq!(
        value(&text, "bt_dr_appliance_up", &[site, ("appliance", &a)]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "bt_dr_audit_findings",
            &[
                site,
                ("severity", "error"),
                ("rule", "appliance_unreachable")
            ]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "bt_dr_collection_errors",
            &[site, ("stage", "appliance")]
        ),
        Some(0.0)
    );
    // No store: no backup series at all.
    assert!(!text.contains("bt_dr_backup_"), "{text}");
    sim.backup().unwrap().set_down(false);

    // Both claim primary: the audit's split_brain rule, critical.
    sim.backup()
        .unwrap()
        .set_failover_role(FailoverRole::Primary);
    let mut c = base_cmd(&inv, &secrets, None);
    c.arg("metrics");
    let text = stdout_of(&run(c).await);
    assert_eq!(
        value(&text, "bt_dr_site_split_brain", &[site]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "bt_dr_audit_findings",
            &[site, ("severity", "critical"), ("rule", "split_brain")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &text,
            "bt_dr_audit_findings_by_severity",
            &[site, ("severity", "critical")]
        )
        .unwrap()
            >= 1.0
    );
    sim.backup()
        .unwrap()
        .set_failover_role(FailoverRole::Backup);

    // A sync three days old that failed.
    let then = time::OffsetDateTime::now_utc().unix_timestamp() - 3 * 86400;
    sim.backup().unwrap().set_last_sync(then, "failed");
    let mut c = base_cmd(&inv, &secrets, None);
    c.arg("metrics");
    let text = stdout_of(&run(c).await);
    assert_eq!(value(&text, "bt_dr_site_split_brain", &[site]), Some(0.0));
    assert_eq!(
        value(
            &text,
            "bt_dr_appliance_data_sync_last_timestamp_seconds",
            &lb
        ),
        Some(then as f64),
        "{text}"
    );
    let age = value(&text, "bt_dr_appliance_data_sync_age_seconds", &lb).unwrap();
    assert!(
        (3.0 * 86400.0..3.0 * 86400.0 + 600.0).contains(&age),
        "{age}"
    );
    assert_eq!(
        value(&text, "bt_dr_appliance_data_sync_success", &lb),
        Some(0.0)
    );
    for rule in ["sync_stale", "sync_failed"] {
        assert_eq!(
            value(&text, "bt_dr_audit_findings", &[site, ("rule", rule)]),
            Some(1.0),
            "{rule}\n{text}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_secret_is_a_client_error_and_the_file_is_still_written() {
    let sim = start_pair().await;
    let dir = Scratch::new();
    let (inv, _) = write_inventory(&sim, dir.path(), false);
    let empty = dir.path().join("empty.env");
    std::fs::write(&empty, "").unwrap();
    let prom = dir.path().join("bt-dr.prom");
    let mut c = base_cmd(&inv, &empty, None);
    c.args(["metrics", "--textfile"]).arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let text = std::fs::read_to_string(&prom).unwrap();
    let site = ("site", "support");
    assert_eq!(
        value(
            &text,
            "bt_dr_collection_errors",
            &[site, ("stage", "client")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "bt_dr_appliance_up",
            &[site, ("appliance", sim.primary().hostname())]
        ),
        Some(0.0)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(SECRET_ENV),
        "{out:?}"
    );
    assert_eq!(sim.primary().request_count(Endpoint::Any), 0);
    promtool_check(&prom);

    // An upgrade table that cannot be read stops the run before anything is asked or written.
    std::fs::remove_file(&prom).unwrap();
    let mut c = base_cmd(&inv, &empty, None);
    c.args(["metrics", "--upgrade-table"])
        .arg(dir.path().join("no-such-table.toml"))
        .arg("--textfile")
        .arg(&prom);
    let out = run(c).await;
    assert_eq!(
        out.status.code(),
        Some(10 + ErrorKind::Io.status()),
        "{out:?}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-table.toml"));
    assert!(!prom.exists());
    sim.shutdown().await;
}

/// A running `metrics serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(mut c: Command) -> Server {
        // stderr goes to the test output: a server that fails says why there.
        c.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_string();
        Server { child, addr }
    }

    /// Sends SIGTERM and waits for the exit status (at most 10 s).
    fn terminate(mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "no exit 10 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 request: (status, content type, body).
fn http(addr: &str, method: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

async fn http_async(addr: &str, method: &'static str, path: &'static str) -> (u16, String, String) {
    let addr = addr.to_string();
    tokio::task::spawn_blocking(move || http(&addr, method, path))
        .await
        .unwrap()
}

fn requests(sim: &Sim) -> u64 {
    sim.appliances()
        .iter()
        .map(|a| a.request_count(Endpoint::Any))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_answers_metrics_and_probe_from_one_cached_collection() {
    let sim = start_pair().await;
    let dir = Scratch::new();
    let (inv, secrets) = write_inventory(&sim, dir.path(), true);
    let store_dir = dir.path().join("store");
    take_backup_set(&sim, &inv, &store_dir).await;
    let mut c = base_cmd(&inv, &secrets, Some(&store_dir));
    c.args([
        "metrics",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--cache-ttl",
        "1h",
    ]);
    let server = tokio::task::spawn_blocking(move || Server::start(c))
        .await
        .unwrap();
    let addr = server.addr.clone();
    let before = requests(&sim);

    // Four scrapes at once before anything is cached: one collection serves them all.
    let scrapes =
        futures_util::future::join_all((0..4).map(|_| http_async(&addr, "GET", "/metrics"))).await;
    let after_first = requests(&sim);
    assert!(after_first > before);
    for (status, ctype, body) in &scrapes {
        assert_eq!(*status, 200, "{body}");
        assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
        assert_eq!(
            value(body, "bt_dr_refreshes_total", &[]),
            Some(1.0),
            "{body}"
        );
        assert!(body.contains("site=\"edge\"") && body.contains("site=\"support\""));
        assert!(
            value(
                body,
                "bt_dr_backup_last_timestamp_seconds",
                &[("site", "support")]
            )
            .is_some()
        );
        assert!(!body.contains(SECRET));
    }
    // Within the TTL: no request reaches an appliance.
    let (status, _, body) = http_async(&addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(value(&body, "bt_dr_refreshes_total", &[]), Some(1.0));
    assert_eq!(requests(&sim), after_first);

    // /probe: only that site's series, from the same collection.
    let (status, ctype, body) = http_async(&addr, "GET", "/probe?site=edge").await;
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("application/openmetrics-text"));
    assert_eq!(
        value(
            &body,
            "bt_dr_appliance_up",
            &[("site", "edge"), ("appliance", "edge-a.example.com")]
        ),
        Some(1.0),
        "{body}"
    );
    assert!(!body.contains("site=\"support\""), "{body}");
    assert!(body.contains("bt_dr_collection_duration_seconds"));
    assert_eq!(requests(&sim), after_first);

    // What a scraper gets wrong is answered, short.
    let (status, _, body) = http_async(&addr, "GET", "/probe?site=nope").await;
    assert_eq!((status, body.as_str()), (404, "unknown site \"nope\"\n"));
    let (status, _, _) = http_async(&addr, "GET", "/probe").await;
    assert_eq!(status, 400);
    let (status, _, _) = http_async(&addr, "GET", "/elsewhere").await;
    assert_eq!(status, 404);
    let (status, _, _) = http_async(&addr, "POST", "/metrics").await;
    assert_eq!(status, 405);

    let st = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(st.success(), "{st:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_refreshes_after_the_ttl_and_verifies_in_the_background() {
    let sim = start_pair().await;
    let dir = Scratch::new();
    let (inv, secrets) = write_inventory(&sim, dir.path(), false);
    let store_dir = dir.path().join("store");
    take_backup_set(&sim, &inv, &store_dir).await;
    let mut c = base_cmd(&inv, &secrets, Some(&store_dir));
    c.args([
        "metrics",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--cache-ttl",
        "300ms",
    ]);
    let server = tokio::task::spawn_blocking(move || Server::start(c))
        .await
        .unwrap();
    let addr = server.addr.clone();
    let (_, _, body) = http_async(&addr, "GET", "/metrics").await;
    assert_eq!(value(&body, "bt_dr_refreshes_total", &[]), Some(1.0));
    let n1 = requests(&sim);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, _, body) = http_async(&addr, "GET", "/metrics").await;
    assert_eq!(
        value(&body, "bt_dr_refreshes_total", &[]),
        Some(2.0),
        "{body}"
    );
    assert!(requests(&sim) > n1);

    // The newest set is hashed off the refresh; its verdict shows once that is done.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, _, body) = http_async(&addr, "GET", "/metrics").await;
        match value(&body, "bt_dr_backup_verified", &[("site", "support")]) {
            Some(v) => {
                assert_eq!(v, 1.0, "{body}");
                break;
            }
            None => assert!(Instant::now() < deadline, "never verified: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(350)).await;
    }

    // The port is taken: a network error naming the address, exit 10 + its status.
    let mut c = base_cmd(&inv, &secrets, None);
    c.args(["metrics", "serve", "--listen", &addr]);
    let out = run(c).await;
    assert_eq!(
        out.status.code(),
        Some(10 + ErrorKind::Network.status()),
        "{out:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    let mut c = base_cmd(&inv, &secrets, None);
    c.args(["metrics", "serve", "--listen", "no-port-here"]);
    assert_eq!(run(c).await.status.code(), Some(2));

    let st = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(st.success(), "{st:?}");
    sim.shutdown().await;
}
