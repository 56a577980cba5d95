//! `bt-dr sim`: starts a pair, prints one JSON line, writes an inventory and a 0600 secret
//! file the other commands can use, and stops cleanly on SIGTERM.

use crate::cli_common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use cli_common::*;

#[test]
fn sim_writes_a_usable_inventory_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("fleet.toml");
    let mut c = bt_dr();
    c.args(["sim", "--backup-size", "65536", "--write-inventory"])
        .arg(&inv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect(&line);
    assert_eq!(v["site"], "support");
    assert!(
        v["primary_url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    assert!(v["backup_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(v["client_id"], "bt-dr-sim-client");
    assert_eq!(v["secret_env"], "BT_DR_SIM_SECRET");
    let secret_file = std::path::PathBuf::from(v["secret_file"].as_str().unwrap());
    assert!(secret_file.is_absolute());
    assert!(std::path::Path::new(v["ca_file"].as_str().unwrap()).is_file());

    // The secret file: owner-only, one NAME=secret line; the secret is nowhere else.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&secret_file).unwrap();
    let secret = text
        .trim()
        .strip_prefix("BT_DR_SIM_SECRET=")
        .unwrap()
        .to_string();
    assert!(secret.len() >= 24);
    assert!(!line.contains(&secret));
    assert!(!std::fs::read_to_string(&inv).unwrap().contains(&secret));

    // The other commands run against it.
    let mut c = bt_dr();
    c.arg("--inventory")
        .arg(&inv)
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--json", "health"]);
    let r = run(c);
    r.code(0);
    assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
    assert_eq!(r.json()[0]["appliances"][0]["health"]["success"], true);
    let mut c = bt_dr();
    c.arg("--inventory")
        .arg(&inv)
        .arg("--secret-file")
        .arg(&secret_file)
        .arg("--store")
        .arg(dir.path().join("store"))
        .args(["backup", "--no-recordings"]);
    let r = run(c);
    r.code(0);
    assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));

    // SIGTERM: exit 0, secret file removed.
    // SAFETY: kill(2) on the child we spawned and still own.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!secret_file.exists());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!err.contains(&secret));
}
