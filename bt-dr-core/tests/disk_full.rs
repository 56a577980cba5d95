//! Issue 12 item 10: the disk fills up while a set is taken — during the NSB body, its
//! sidecar, the certificate, records and Vault key copies, and the manifest. Every time: a
//! typed `Io` error (or, when only a later part did not fit, a partial set whose failed parts
//! say `Io`), nothing under a final name that does not verify, and the store still lists and
//! verifies. Runs on a 2 MiB tmpfs (needs root and `mount`); skipped with the reason printed
//! where that is not available.
//!
//! tmpfs allocates at write time, so a full disk shows at `write`, never at `fsync`; the
//! sweep fills the disk at every 4 KiB step of the set instead.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use bt_dr_core::backup_set::PartStatus;
use bt_dr_core::{BackupStore, ErrorKind, run_backup_set, verify_backup_set};
use bt_dr_sim::Sim;
use common::*;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem at `dir` completely, then frees `free` bytes.
fn fill_leaving(dir: &Path, free: u64) {
    let p = dir.join("filler");
    let _ = std::fs::remove_file(&p);
    let mut f = std::fs::File::create(&p).unwrap();
    let block = vec![0xa5u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => len += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling: {e}"),
        }
    }
    // Single pages too, so the disk is really full.
    loop {
        match f.write(&block[..512]) {
            Ok(0) => break,
            Ok(n) => len += n as u64,
            Err(_) => break,
        }
    }
    f.set_len(len.saturating_sub(free)).unwrap();
    f.sync_all().unwrap();
}

fn final_names(sets: &Path) -> Vec<String> {
    std::fs::read_dir(sets)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_full_disk_at_any_point_leaves_nothing_under_a_final_name() {
    let base = tempfile::tempdir().unwrap();
    let mnt = base.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let forced = std::env::var_os("BT_DR_DISK_FULL_FORCE_RLIMIT").is_some();
    let mounted = if forced {
        Err("BT_DR_DISK_FULL_FORCE_RLIMIT is set".to_string())
    } else {
        Tmpfs::mount(&mnt, "2m")
    };
    let _fs = match mounted {
        Ok(m) => m,
        Err(why) => {
            println!("no tmpfs ({why}): falling back to RLIMIT_FSIZE");
            rlimit_fallback(base.path());
            return;
        }
    };
    let mut cfg = config();
    cfg.backup_size = 512 * 1024;
    let sim = Sim::start_pair(cfg).await.unwrap();
    let site = pair_site(&sim);
    let c = client(&sim, sim.primary());
    let inputs = tempfile::tempdir().unwrap();
    let mut opts = full_options(&sim, inputs.path());
    opts.recordings = false;

    // How much a whole set needs.
    let probe_root = base.path().join("probe");
    let probe = BackupStore::open(&probe_root).unwrap();
    let whole = run_backup_set(&probe, &site, &c, &opts).await.unwrap();
    let need: u64 = whole.manifest.files.iter().map(|f| f.size).sum::<u64>() + 16 * 1024;
    let nsb_size = 512 * 1024;

    // Free space from nothing to a whole set: coarse through the NSB body, page by page
    // around its end (sidecar, certificate, records, Vault key, manifest).
    let mut frees: Vec<u64> = (0..nsb_size).step_by(32 * 1024).collect();
    frees.extend((nsb_size - 16 * 1024..need + 64 * 1024).step_by(4096));
    let (mut io_errors, mut partial, mut complete) = (0, 0, 0);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for free in frees {
        let root = mnt.join("store");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("support/sets")).unwrap();
        let store = BackupStore::open(&root).unwrap();
        fill_leaving(&mnt, free);
        let r = run_backup_set(&store, &site, &c, &opts).await;
        let sets_dir = root.join("support/sets");
        match &r {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Io, "free {free}: {e}");
                let msg = e.to_string();
                let at = if msg.contains("manifest.json") {
                    "manifest"
                } else if msg.contains(bt_dr_core::api::SIDECAR_SUFFIX) {
                    "sidecar"
                } else if msg.contains(".nsb") {
                    "nsb body"
                } else {
                    "other"
                };
                *kinds.entry(at.to_string()).or_default() += 1;
                io_errors += 1;
                assert_eq!(
                    final_names(&sets_dir),
                    Vec::<String>::new(),
                    "free {free}: nothing under a final name after {e}"
                );
            }
            Ok(rep) if rep.partial => {
                for p in rep.failed_parts() {
                    assert_eq!(p.error.as_ref().unwrap().kind, ErrorKind::Io, "{p:?}");
                }
                assert_eq!(
                    rep.manifest
                        .part(bt_dr_core::backup_set::SetPart::Nsb)
                        .unwrap()
                        .status,
                    PartStatus::Ok
                );
                partial += 1;
            }
            Ok(_) => complete += 1,
        }
        // The store still lists and every set in it verifies; no temporary file is left.
        let scan = store.scan("support").unwrap();
        assert!(
            scan.unreadable.is_empty(),
            "free {free}: {:?}",
            scan.unreadable
        );
        for s in &scan.sets {
            let v = verify_backup_set(&s.path).unwrap();
            assert!(v.ok(), "free {free}: {:?}", v.problems);
        }
        for n in final_names(&sets_dir) {
            assert!(!n.starts_with('.'), "free {free}: leftover {n}");
        }
        std::fs::remove_file(mnt.join("filler")).unwrap();
        // Once there is room again, the next run succeeds.
        if free % (128 * 1024) == 0 {
            let ok = run_backup_set(&store, &site, &c, &opts).await.unwrap();
            assert!(!ok.partial);
            assert!(verify_backup_set(&ok.path).unwrap().ok());
        }
    }
    println!(
        "disk full: {io_errors} Io errors ({kinds:?}), {partial} partial sets, {complete} complete"
    );
    assert!(io_errors > 10);
    assert!(kinds.get("nsb body").is_some_and(|n| *n > 0), "{kinds:?}");
    assert!(kinds.get("manifest").is_some_and(|n| *n > 0), "{kinds:?}");
    assert!(complete >= 1, "the sweep reaches a whole set");
}

const RLIMIT_CHILD: &str = "BT_DR_DISK_FULL_CHILD";

/// The fallback child: a file-size limit smaller than the NSB, SIGXFSZ ignored, so the body's
/// write fails with EFBIG as it would with a full disk.
#[test]
fn rlimit_child() {
    let Some(store_dir) = std::env::var_os(RLIMIT_CHILD) else {
        return;
    };
    let limit = libc::rlimit {
        rlim_cur: 128 * 1024,
        rlim_max: 128 * 1024,
    };
    // SAFETY: plain libc calls on this process's own limits and signal disposition.
    let ok = unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN) != libc::SIG_ERR
            && libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0
    };
    if !ok {
        println!("RESULT skip setrlimit failed");
        std::process::exit(0);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let line = rt.block_on(async move {
        let mut cfg = config();
        cfg.backup_size = 512 * 1024;
        let sim = Sim::start_pair(cfg).await.unwrap();
        let store = BackupStore::open(PathBuf::from(store_dir)).unwrap();
        let opts = bt_dr_core::BackupSetOptions {
            recordings: false,
            ..Default::default()
        };
        match run_backup_set(
            &store,
            &pair_site(&sim),
            &client(&sim, sim.primary()),
            &opts,
        )
        .await
        {
            Ok(_) => "RESULT ok".to_string(),
            Err(e) => format!("RESULT err {}", e.kind()),
        }
    });
    println!("{line}");
    std::process::exit(0);
}

fn rlimit_fallback(base: &Path) {
    let store_dir = base.join("rlimit-store");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "disk_full::rlimit_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(RLIMIT_CHILD, &store_dir)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            println!("SKIPPED disk-full test: cannot start the RLIMIT_FSIZE child: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(result) = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()))
    else {
        panic!(
            "RLIMIT_FSIZE child said nothing: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if let Some(why) = result.strip_prefix("skip ") {
        println!("SKIPPED disk-full test: neither tmpfs nor RLIMIT_FSIZE: {why}");
        return;
    }
    assert_eq!(
        result, "err io",
        "a write past the limit is a typed Io error"
    );
    let store = BackupStore::open(&store_dir).unwrap();
    let scan = store.scan("support").unwrap();
    assert!(scan.sets.is_empty() && scan.unreadable.is_empty());
    assert_eq!(
        final_names(&store_dir.join("support/sets")),
        Vec::<String>::new(),
        "nothing under a final name"
    );
    println!("disk full (RLIMIT_FSIZE): typed Io error, nothing under a final name");
}
