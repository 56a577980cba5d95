//! Every subcommand of the built `bt-dr` against one simulated pair: exit codes, the JSON
//! shapes (parsed, key fields checked), help text, and no secret in any output.

use crate::cli_common;

use std::sync::OnceLock;

use cli_common::*;

/// One simulated pair for the whole file; tests that change its state live in other files.
fn site() -> &'static SimSite {
    static SITE: OnceLock<SimSite> = OnceLock::new();
    SITE.get_or_init(|| SimSite::start("support", true, 64 * 1024))
}

const SUBCOMMANDS: [&[&str]; 15] = [
    &["health"],
    &["backup"],
    &["verify"],
    &["prune"],
    &["audit"],
    &["runbook"],
    &["cert"],
    &["cert", "check"],
    &["failover"],
    &["failover", "plan"],
    &["failover", "execute"],
    &["metrics"],
    &["sim"],
    &["completions"],
    &["man"],
];

#[test]
fn every_subcommand_has_help() {
    for sub in SUBCOMMANDS {
        let mut c = bt_dr();
        c.args(sub).arg("--help");
        let r = run(c);
        r.code(0);
        assert!(r.stdout.contains("Usage: bt-dr"), "{sub:?}:\n{}", r.stdout);
        // Every command takes the global flags.
        assert!(r.stdout.contains("--json"), "{sub:?}:\n{}", r.stdout);
    }
    let mut c = bt_dr();
    c.arg("--help");
    let r = run(c);
    r.code(0);
    assert!(r.stdout.contains("Exit codes"), "{}", r.stdout);
    let mut c = bt_dr();
    c.arg("--version");
    assert!(run(c).code(0).stdout.starts_with("bt-dr "));
}

#[test]
fn usage_errors_exit_2() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    // No --store.
    let mut c = bt_dr();
    c.arg("--inventory").arg(&fleet.inventory).arg("verify");
    let r = run(c);
    r.code(2);
    assert!(r.stderr.contains("--store"), "{}", r.stderr);
    // No inventory.
    let mut c = bt_dr();
    c.arg("health");
    run(c).code(2);
    // Unknown site.
    let r = fleet.run(&["health", "--site", "nowhere"]);
    r.code(2);
    assert!(r.stderr.contains("nowhere"), "{}", r.stderr);
    let r = fleet.run(&["runbook", "nowhere"]);
    r.code(2);
    // clap's own usage errors.
    fleet.run(&["backup", "--concurrency", "0"]).code(2);
    fleet.run(&["audit", "--fail-on", "severe"]).code(2);
    fleet.run(&["no-such-command"]).code(2);
    // Retention without a keep rule removes nothing and says which flags exist.
    let r = fleet.run(&["prune"]);
    r.code(2);
    assert!(r.stderr.contains("--keep-last"), "{}", r.stderr);
    // The backup password variable must exist.
    let r = fleet.run(&["backup", "--password-env", "BT_DR_CLI_TEST_UNSET"]);
    r.code(2);
    assert!(!fleet.store.join("support").join("sets").exists());
}

#[test]
fn health_ok_and_json_shape() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    let r = fleet.run(&["health"]);
    r.code(0);
    assert!(r.stdout.contains("bt-a.example.com") && r.stdout.contains("primary"));
    let r = fleet.run(&["--json", "health"]);
    r.code(0);
    let v = r.json();
    let sites = v.as_array().expect("an array of SiteLive");
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0]["site"], "support");
    let apps = sites[0]["appliances"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0]["hostname"], "bt-a.example.com");
    assert_eq!(apps[0]["health"]["success"], true);
    assert_eq!(apps[0]["health"]["failover_role"], "primary");
    assert_eq!(apps[1]["health"]["failover_role"], "backup");
    assert!(apps[0]["error"].is_null());
}

#[test]
fn health_reports_a_wrong_secret_as_down_without_echoing_it() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    // The environment wins over the secret file: a wrong secret there is an auth failure.
    let mut c = fleet.cmd(&["--json", "health"]);
    c.env(SECRET_ENV, "not-the-secret-Pq7");
    let r = run(c);
    r.code(1);
    let v = r.json();
    let a = &v[0]["appliances"][0];
    assert!(a["health"].is_null());
    assert_eq!(a["error"]["kind"], "auth", "{a}");
    assert!(!r.stdout.contains("not-the-secret-Pq7") && !r.stderr.contains("not-the-secret-Pq7"));
}

#[test]
fn nightly_flow_backup_verify_prune_audit_runbook() {
    let s = site();
    let fleet = Fleet::new(&[s]);

    // Without the password the simulated site refuses the NSB: the only site failed, so the
    // exit code is its error kind (10 + status), not "partial".
    let r = fleet.run(&["--json", "backup"]);
    let v = r.json();
    let kind = v["sites"][0]["error"]["kind"].as_str().unwrap().to_string();
    assert!(v["sites"][0]["report"].is_null());
    assert!(r.code >= 11 && r.code <= 28, "{r:?}");
    assert_ne!(kind, "");

    // With it (from the secret file, named by --password-env): a complete set.
    let r = fleet.run(&["--json", "backup", "--password-env", PASSWORD_ENV]);
    r.code(0);
    let v = r.json();
    let site0 = &v["sites"][0];
    assert_eq!(site0["site"], "support");
    assert_eq!(site0["partial"], false);
    assert!(site0["error"].is_null());
    let set_id = site0["report"]["set_id"].as_str().unwrap().to_string();
    assert_eq!(
        site0["report"]["manifest"]["nsb"]["password_protected"],
        true
    );
    assert!(
        fleet
            .store
            .join("support/sets")
            .join(&set_id)
            .join("manifest.json")
            .is_file()
    );
    // Not a terminal: plain lines, no bars.
    assert!(r.stderr.contains("NSB downloaded"), "{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "{}", r.stderr);

    // A second set, so retention has something to remove.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fleet
        .run(&["backup", "--password-env", PASSWORD_ENV, "--no-recordings"])
        .code(0);

    // verify: latest, one, all.
    let r = fleet.run(&["--json", "verify"]);
    r.code(0);
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["ok"], true);
    assert!(v[0]["files_checked"].as_u64().unwrap() > 0);
    let r = fleet.run(&["--json", "verify", "--all"]);
    r.code(0);
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let r = fleet.run(&["--json", "verify", "--site", "support", "--set", &set_id]);
    r.code(0);
    assert!(r.json()[0]["path"].as_str().unwrap().ends_with(&set_id));
    // Not found: 10 + 17.
    let r = fleet.run(&["verify", "--set", "20000101T000000Z"]);
    r.code(27);
    assert!(r.stderr.contains("BT_DR_NOT_FOUND"), "{}", r.stderr);

    // prune --dry-run plans and removes nothing.
    let r = fleet.run(&[
        "--json",
        "prune",
        "--keep-last",
        "1",
        "--keep-versions",
        "0",
        "--dry-run",
    ]);
    r.code(0);
    let v = r.json();
    assert_eq!(v[0]["plan"]["site"], "support");
    assert_eq!(v[0]["plan"]["remove"], serde_json::json!([set_id]));
    assert!(v[0]["outcome"].is_null());
    assert!(fleet.store.join("support/sets").join(&set_id).is_dir());
    // For real.
    let r = fleet.run(&[
        "--json",
        "prune",
        "--keep-last",
        "1",
        "--keep-versions",
        "0",
    ]);
    r.code(0);
    let v = r.json();
    assert_eq!(v[0]["outcome"]["removed"], serde_json::json!([set_id]));
    assert!(!fleet.store.join("support/sets").join(&set_id).exists());

    // A damaged set: verify ends with the integrity code (10 + 10).
    let latest = fleet.run(&["--json", "verify"]).json()[0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let nsb = std::fs::read_dir(&latest)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "nsb"))
        .expect("an NSB in the set");
    let mut bytes = std::fs::read(&nsb).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&nsb, bytes).unwrap();
    let r = fleet.run(&["--json", "verify"]);
    r.code(20);
    assert_eq!(r.json()[0]["ok"], false);

    // audit: the set lacks a certificate, records and a Vault key (errors), so --fail-on
    // error exits 1; nothing is critical, so --fail-on critical exits 0.
    let r = fleet.run(&["audit", "--format", "json", "--fail-on", "error"]);
    r.code(1);
    let v = r.json();
    assert_eq!(v["schema"], "bt-dr.audit/1");
    assert_eq!(v["sites"], serde_json::json!(["support"]));
    assert!(v["summary"]["error"].as_u64().unwrap() > 0);
    assert_eq!(v["worst"], "error");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "certificate_missing")
    );
    fleet.run(&["audit", "--fail-on", "critical"]).code(0);
    let r = fleet.run(&["audit", "--fail-on", "info"]);
    r.code(1);
    assert!(
        r.stdout.starts_with("# bt-dr readiness audit"),
        "{}",
        r.stdout
    );
    // --live adds what the appliances say now; --out writes the same report.
    let out = fleet.dir.path().join("audit.json");
    let r = fleet.run(&[
        "--json",
        "audit",
        "--live",
        "--fail-on",
        "critical",
        "--out",
        out.to_str().unwrap(),
    ]);
    r.code(0);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["summary"], r.json()["summary"]);

    // runbook: Markdown naming the real hosts; JSON carries the same text.
    let r = fleet.run(&["runbook", "support"]);
    r.code(0);
    assert!(r.stdout.contains("bt-b.example.com"), "{}", r.stdout);
    let md = r.stdout.clone();
    let r = fleet.run(&["--json", "runbook", "support"]);
    r.code(0);
    let v = r.json();
    assert_eq!(v["site"], "support");
    assert_eq!(v["markdown"].as_str().unwrap(), md);
}

#[test]
fn backup_concurrency_and_other_appliances() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    let r = fleet.run(&[
        "--json",
        "-q",
        "backup",
        "--password-env",
        PASSWORD_ENV,
        "--all-appliances",
        "--concurrency",
        "1",
        "--no-recordings",
    ]);
    r.code(0);
    assert_eq!(r.stderr, "", "--quiet prints nothing on success");
    let v = r.json();
    let nsbs = v["sites"][0]["report"]["manifest"]["appliance_nsbs"]
        .as_array()
        .unwrap();
    assert_eq!(nsbs.len(), 2, "{nsbs:?}");
}

#[test]
fn cert_check_exit_codes_and_passphrase_sources() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    let good = p12("default_chain.p12");
    let good = good.to_str().unwrap();

    // From the environment.
    let mut c = fleet.cmd(&["--json", "cert", "check", good, "--site", "support"]);
    c.env("BT_DR_P12_PASSPHRASE", P12_PASSPHRASE);
    let r = run(c);
    r.code(0);
    let v = r.json();
    assert_eq!(v["usable"], true);
    assert_eq!(v["has_private_key"], true);
    assert_eq!(v["key_matches_leaf"], true);
    assert!(v["certificates"].as_array().unwrap().len() >= 3);

    // From a file.
    let pf = fleet.dir.path().join("p12.pass");
    std::fs::write(&pf, format!("{P12_PASSPHRASE}\n")).unwrap();
    let r = fleet.run(&[
        "cert",
        "check",
        good,
        "--passphrase-file",
        pf.to_str().unwrap(),
    ]);
    r.code(0);
    assert!(r.stdout.contains("support.example.com"), "{}", r.stdout);

    // Wrong passphrase: 10 + 8.
    let bad = fleet.dir.path().join("bad.pass");
    std::fs::write(&bad, "Wrong-Pass-Zz1\n").unwrap();
    let r = fleet.run(&[
        "cert",
        "check",
        good,
        "--passphrase-file",
        bad.to_str().unwrap(),
    ]);
    r.code(18);
    assert!(!r.stderr.contains("Wrong-Pass-Zz1"));

    // No passphrase and no terminal to ask on: usage.
    let r = fleet.run(&["cert", "check", good]);
    r.code(2);
    assert!(r.stderr.contains("BT_DR_P12_PASSPHRASE"), "{}", r.stderr);

    // Findings at or above --fail-on: an expired certificate is at least an error.
    let mut c = fleet.cmd(&[
        "--json",
        "cert",
        "check",
        p12("expired.p12").to_str().unwrap(),
    ]);
    c.env("BT_DR_P12_PASSPHRASE", P12_PASSPHRASE);
    let r = run(c);
    r.code(1);
    assert_eq!(r.json()["usable"], false);
    // A name the leaf does not cover is a finding too.
    let mut c = fleet.cmd(&[
        "cert",
        "check",
        good,
        "--fqdn",
        "other.example.org",
        "--fail-on",
        "info",
    ]);
    c.env("BT_DR_P12_PASSPHRASE", P12_PASSPHRASE);
    run(c).code(1);
}

#[test]
fn failover_plan_json_and_refusal() {
    let s = site();
    let fleet = Fleet::new(&[s]);
    let r = fleet.run(&["--json", "failover", "plan", "support"]);
    r.code(0);
    let v = r.json();
    assert_eq!(v["site"], "support");
    assert_eq!(v["mode"], "planned");
    assert_eq!(v["from"]["hostname"], "bt-a.example.com");
    assert_eq!(v["to"]["hostname"], "bt-b.example.com");
    assert!(!v["steps"].as_array().unwrap().is_empty());
    // Unplanned over a healthy primary is refused by the core: a finding, exit 1.
    let r = fleet.run(&["failover", "plan", "support", "--mode", "unplanned"]);
    r.code(1);
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    // --dry-run of execute is the plan, and needs no --yes.
    let r = fleet.run(&["--json", "failover", "execute", "support", "--dry-run"]);
    r.code(0);
    assert_eq!(r.json()["to"]["hostname"], "bt-b.example.com");
    assert_eq!(
        s.sim.primary().failover_role(),
        bt_dr_sim::FailoverRole::Primary
    );
}

#[test]
fn completions_and_man() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let mut c = bt_dr();
        c.args(["completions", shell]);
        let r = run(c);
        r.code(0);
        assert!(r.stdout.contains("bt-dr"), "{shell}");
        assert!(r.stdout.contains("failover"), "{shell}");
    }
    let mut c = bt_dr();
    c.arg("man");
    let r = run(c);
    r.code(0);
    assert!(r.stdout.contains(".TH bt-dr 1"), "{}", r.stdout);
    let dir = tempfile::tempdir().unwrap();
    let mut c = bt_dr();
    c.args(["man", "--out"]).arg(dir.path().join("man1"));
    run(c).code(0);
    for page in ["bt-dr.1", "bt-dr-backup.1", "bt-dr-failover-execute.1"] {
        assert!(dir.path().join("man1").join(page).is_file(), "{page}");
    }
}
