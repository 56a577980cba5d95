//! The nightly job's exit codes over two sites: one whose appliance fails the NSB download
//! while the other succeeds is "partial" (3); when every site fails it is the error's kind.

use crate::cli_common;

use bt_dr_sim::{Endpoint, Fault};
use cli_common::*;

#[test]
fn one_failing_site_makes_the_job_partial_and_all_failing_makes_it_an_error() {
    let good = SimSite::start("alpha", false, 64 * 1024);
    let bad = SimSite::start("bravo", false, 64 * 1024);
    bad.sim.primary().set_fault(
        Endpoint::Backup,
        Fault::XmlError("Backup is not available".into()),
        None,
    );
    let fleet = Fleet::new(&[&good, &bad]);

    let r = fleet.run(&["--json", "backup", "--no-recordings"]);
    r.code(3);
    let v = r.json();
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0]["site"], "alpha");
    assert!(sites[0]["error"].is_null());
    assert!(sites[0]["report"]["set_id"].is_string());
    assert_eq!(sites[1]["site"], "bravo");
    assert!(sites[1]["report"].is_null());
    assert!(
        sites[1]["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("BT_DR_")
    );
    // The good site's set is kept.
    assert_eq!(
        std::fs::read_dir(fleet.store.join("alpha/sets"))
            .unwrap()
            .count(),
        1
    );
    // Human form: both sites named, the failure with its code.
    let r = fleet.run(&["backup", "--no-recordings"]);
    r.code(3);
    assert!(
        r.stdout.contains("alpha") && r.stdout.contains("FAILED"),
        "{}",
        r.stdout
    );

    // Only the failing site: no set anywhere, so the exit code is its kind's.
    let r = fleet.run(&["--json", "backup", "--site", "bravo", "--no-recordings"]);
    let kind = r.json()["sites"][0]["error"]["kind"]
        .as_str()
        .unwrap()
        .to_string();
    let want = match kind.as_str() {
        "api" => 21,
        "network" => 23,
        "timeout" => 24,
        "integrity" => 20,
        other => panic!("unexpected kind {other}"),
    };
    r.code(want);

    // --site narrows the job: the good site alone is complete.
    fleet
        .run(&["backup", "--site", "alpha", "--no-recordings"])
        .code(0);
}

#[test]
fn sigterm_cancels_the_job_and_keeps_nothing_half_written() {
    let s = SimSite::start("slow", false, 4 * 1024 * 1024);
    s.sim.primary().set_fault(
        Endpoint::Backup,
        Fault::SlowBody {
            bytes_per_sec: 256 * 1024,
        },
        None,
    );
    let fleet = Fleet::new(&[&s]);
    let mut c = fleet.cmd(&["--json", "backup", "--no-recordings"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.sim.primary().request_count(Endpoint::Backup) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on the child this test spawned and still owns.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_secret(&stdout, &stderr);
    // 10 + cancelled; the report still comes out, naming the kind.
    assert_eq!(out.status.code(), Some(25), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["sites"][0]["error"]["kind"], "cancelled");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let sets = fleet.store.join("slow/sets");
    let finished = std::fs::read_dir(&sets).map(|d| d.count()).unwrap_or(0);
    assert_eq!(finished, 0, "a cancelled set was kept");
}

#[test]
fn a_site_whose_secret_is_missing_fails_alone() {
    let good = SimSite::start("alpha", false, 64 * 1024);
    let orphan = SimSite::start("bravo", false, 64 * 1024);
    let fleet = Fleet::new(&[&good, &orphan]);
    // bravo names a secret variable that neither the environment nor the secret file holds.
    let text = std::fs::read_to_string(&fleet.inventory).unwrap();
    let cut = text.find("name = \"bravo\"").unwrap();
    let (head, tail) = text.split_at(cut);
    let tail = tail.replacen(
        &format!("client_secret_env = \"{SECRET_ENV}\""),
        "client_secret_env = \"BT_DR_NOBODY_SET_THIS\"",
        1,
    );
    std::fs::write(&fleet.inventory, format!("{head}{tail}")).unwrap();

    let r = fleet.run(&["--json", "backup", "--no-recordings"]);
    r.code(3);
    let v = r.json();
    let site = |name: &str| {
        v["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["site"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {v}"))
    };
    assert!(site("alpha")["report"]["set_id"].is_string());
    let bravo = site("bravo");
    assert!(bravo["report"].is_null());
    assert_eq!(bravo["error"]["kind"], "invalid_input", "{bravo}");
    assert!(
        bravo["error"]["message"]
            .as_str()
            .unwrap()
            .contains("BT_DR_NOBODY_SET_THIS"),
        "{bravo}"
    );
    assert_eq!(
        std::fs::read_dir(fleet.store.join("alpha/sets"))
            .unwrap()
            .count(),
        1
    );

    // Health: alpha is asked and answers; bravo is reported down with the reason, not a crash
    // of the whole sweep.
    let r = fleet.run(&["--json", "health"]);
    r.code(1);
    let v = r.json();
    let sites = v.as_array().unwrap();
    assert_eq!(sites.len(), 2, "{v}");
    assert!(
        sites[0]["appliances"][0]["health"]["success"] == true,
        "{v}"
    );
    for a in sites[1]["appliances"].as_array().unwrap() {
        assert!(a["health"].is_null());
        assert_eq!(a["error"]["kind"], "invalid_input", "{a}");
    }
}
