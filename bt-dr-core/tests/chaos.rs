//! Issue 12 item 9 (second half): kill -9 chaos. A child process (this test binary, re-run
//! as `chaos_child`) takes a backup set, downloads an NSB, or applies a retention plan; the
//! parent kills it with SIGKILL after a random delay, at least 30 times. After every kill:
//! every file under a final name hashes to what its manifest or sidecar says, the set list is
//! the one before or the one after, and after the store cleans the crash leftovers a later run
//! succeeds. Deterministic: the seed is printed, and `BT_DR_CHAOS_SEED` replays a run.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bt_dr_core::api::SIDECAR_SUFFIX;
use bt_dr_core::{BackupStore, RetentionPolicy, run_backup_set, verify_backup_set};
use bt_dr_sim::Sim;
use common::*;

const CHILD_ENV: &str = "BT_DR_CHAOS_CHILD";
const READY: &str = "BT_DR_CHAOS_READY";
const SITE: &str = "support";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    /// A whole backup set (NSB, recordings, certificate, records, Vault key, manifest, rename).
    Set,
    /// A bare NSB download with its sidecar.
    Download,
    /// Applying a retention plan that removes one set.
    Retention,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Set => "set",
            Mode::Download => "download",
            Mode::Retention => "retention",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "set" => Mode::Set,
            "download" => Mode::Download,
            _ => Mode::Retention,
        }
    }
}

fn small_sim_config() -> bt_dr_sim::SimConfig {
    let mut cfg = config();
    cfg.backup_size = 256 * 1024;
    cfg
}

/// The child: does one operation as told by the environment, announcing when it starts.
#[test]
fn chaos_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mode = Mode::parse(&mode);
    let store_dir = PathBuf::from(std::env::var("BT_DR_CHAOS_STORE").unwrap());
    let work = PathBuf::from(std::env::var("BT_DR_CHAOS_WORK").unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = BackupStore::open(&store_dir).unwrap();
        let ready = || {
            let mut o = std::io::stdout();
            writeln!(o, "{READY}").unwrap();
            o.flush().unwrap();
        };
        match mode {
            Mode::Set => {
                let sim = Sim::start_pair(small_sim_config()).await.unwrap();
                let site = pair_site(&sim);
                let c = client(&sim, sim.primary());
                let inputs = tempfile::tempdir_in(&work).unwrap();
                let opts = full_options(&sim, inputs.path());
                ready();
                run_backup_set(&store, &site, &c, &opts).await.unwrap();
            }
            Mode::Download => {
                let sim = Sim::start_pair(small_sim_config()).await.unwrap();
                let c = client(&sim, sim.primary());
                ready();
                c.download_backup(work.join("downloads"), Default::default())
                    .await
                    .unwrap();
            }
            Mode::Retention => {
                let plan: bt_dr_core::RetentionPlan =
                    serde_json::from_slice(&std::fs::read(work.join("plan.json")).unwrap())
                        .unwrap();
                ready();
                store.apply_retention(&plan).unwrap();
            }
        }
    });
    std::process::exit(0);
}

/// splitmix64: small, deterministic, good enough to pick kill points.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Outcome {
    /// The child was still running when the signal was sent.
    killed: bool,
    /// From "ready" to the kill or the exit.
    ran: Duration,
}

/// Runs one child; kills it `kill_after` after it said it started (None: lets it finish).
fn run_child(mode: Mode, store: &Path, work: &Path, kill_after: Option<Duration>) -> Outcome {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "chaos::chaos_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode.name())
        .env("BT_DR_CHAOS_STORE", store)
        .env("BT_DR_CHAOS_WORK", work)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(work.join("child.stderr")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the {} child ended before it started: {}",
            mode.name(),
            std::fs::read_to_string(work.join("child.stderr")).unwrap_or_default()
        );
        if line.contains(READY) {
            break;
        }
    }
    let t = Instant::now();
    let killed = match kill_after {
        Some(d) => {
            std::thread::sleep(d);
            let running = child.try_wait().unwrap().is_none();
            if running {
                child.kill().unwrap(); // SIGKILL
            }
            let status = child.wait().unwrap();
            if !running {
                assert!(status.success(), "{} child failed: {status}", mode.name());
            }
            running
        }
        None => {
            let status = child.wait().unwrap();
            assert!(status.success(), "{} child failed: {status}", mode.name());
            false
        }
    };
    Outcome {
        killed,
        ran: t.elapsed(),
    }
}

fn set_ids(store: &BackupStore) -> Vec<String> {
    let scan = store.scan(SITE).unwrap();
    assert!(
        scan.unreadable.is_empty(),
        "a folder under a final set name is unreadable: {:?}",
        scan.unreadable
    );
    scan.sets.into_iter().map(|s| s.id).collect()
}

/// Every set under a final name verifies, every sidecar'd download matches its sidecar.
fn check_final_names(store: &BackupStore, downloads: &Path) -> (usize, usize) {
    let mut sets = 0;
    for s in store.scan(SITE).unwrap().sets {
        let v = verify_backup_set(&s.path).unwrap();
        assert!(v.ok(), "set {} after a kill: {:?}", s.id, v.problems);
        sets += 1;
    }
    store.checkpoint(SITE).expect("checkpoint always parses");
    let mut files = 0;
    let Ok(rd) = std::fs::read_dir(downloads) else {
        return (sets, files);
    };
    let names: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for n in &names {
        if n.starts_with('.') {
            assert!(
                n.starts_with(".bt-dr-") && n.ends_with(".partial"),
                "unexpected hidden file {n}"
            );
            continue;
        }
        if let Some(nsb) = n.strip_suffix(SIDECAR_SUFFIX) {
            let side: bt_dr_core::api::BackupSidecar =
                serde_json::from_slice(&std::fs::read(downloads.join(n)).unwrap())
                    .expect("a sidecar under its final name parses");
            assert_eq!(side.file_name, nsb);
            // The sidecar is written first: a kill before the NSB's rename leaves it alone.
            if downloads.join(nsb).exists() {
                let (sha, size) = bt_dr_core::sha256_file(&downloads.join(nsb)).unwrap();
                assert_eq!((sha, size), (side.sha256.clone(), side.size), "{nsb}");
                files += 1;
            }
        } else {
            // An NSB under its final name is whole and always has its sidecar.
            let (_, size) = bt_dr_core::sha256_file(&downloads.join(n)).unwrap();
            assert_eq!(size, 256 * 1024, "{n}");
            assert!(
                downloads.join(format!("{n}{SIDECAR_SUFFIX}")).exists(),
                "{n} under its final name without its sidecar"
            );
        }
    }
    (sets, files)
}

fn leftovers(store: &BackupStore) -> Vec<String> {
    let site = store.site_dir(SITE).unwrap();
    let mut out = Vec::new();
    for d in [site.clone(), site.join("sets")] {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            if n.starts_with('.') {
                out.push(n);
            }
        }
    }
    out
}

/// Copies set `from` to a new final id through a staging name (as the store would).
fn duplicate_set(store: &BackupStore, from: &Path, n: usize) {
    let sets = store.site_dir(SITE).unwrap().join("sets");
    let id = format!("20200101T0000{:02}Z", n % 60);
    let id = format!("{id}-{n}");
    let tmp = sets.join(format!(".copy-{id}"));
    copy_dir(from, &tmp);
    std::fs::rename(&tmp, sets.join(id)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn kill_9_at_random_points_loses_nothing() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let seed = std::env::var("BT_DR_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_1202_u64);
    println!("chaos seed {seed} (replay with BT_DR_CHAOS_SEED={seed})");
    let mut rng = Rng(seed);
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let store_dir = root.path().join("store");
    std::fs::create_dir_all(work.join("downloads")).unwrap();
    let store = BackupStore::open(&store_dir).unwrap();
    let downloads = work.join("downloads");

    // Calibrate: how long each operation takes when left alone.
    let mut took = std::collections::HashMap::new();
    for mode in [Mode::Set, Mode::Download] {
        let o = run_child(mode, &store_dir, &work, None);
        took.insert(mode, o.ran);
    }
    let mut dup = 0;
    let ensure_sets = |dup: &mut usize| {
        let sets = store.list_sets(SITE).unwrap();
        let newest = sets[0].path.clone();
        for _ in sets.len()..4 {
            *dup += 1;
            duplicate_set(&store, &newest, *dup);
        }
    };
    ensure_sets(&mut dup);
    let plan_one = |store: &BackupStore| {
        let n = store.list_sets(SITE).unwrap().len() as u32;
        let plan = store
            .plan_retention(
                SITE,
                &RetentionPolicy {
                    keep_last: Some(n - 1),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(plan.remove.len(), 1);
        std::fs::write(work.join("plan.json"), serde_json::to_vec(&plan).unwrap()).unwrap();
        plan
    };
    plan_one(&store);
    let o = run_child(Mode::Retention, &store_dir, &work, None);
    took.insert(Mode::Retention, o.ran);
    println!(
        "undisturbed: set {:?}, download {:?}, retention {:?}",
        took[&Mode::Set],
        took[&Mode::Download],
        took[&Mode::Retention]
    );

    let started = Instant::now();
    let mut kills = std::collections::HashMap::<&str, usize>::new();
    let mut runs = 0;
    let mut cleaned = 0;
    let mut sidecar_only = 0;
    let mut recovered = 0;
    let modes = [Mode::Set, Mode::Download, Mode::Retention];
    while kills.values().sum::<usize>() < 90 && started.elapsed() < Duration::from_secs(50) {
        let mode = modes[runs % 3];
        runs += 1;
        if mode == Mode::Retention {
            ensure_sets(&mut dup);
        }
        let before = set_ids(&store);
        let expected_after: Vec<String> = match mode {
            Mode::Retention => {
                let plan = plan_one(&store);
                before
                    .iter()
                    .filter(|id| !plan.remove.contains(id))
                    .cloned()
                    .collect()
            }
            _ => before.clone(),
        };
        // Kill anywhere in the operation (a little past its usual end too).
        let span = took[&mode].as_micros() as u64 * 11 / 10;
        let delay = Duration::from_micros(rng.below(span.max(1000)));
        let o = run_child(mode, &store_dir, &work, Some(delay));
        if o.killed {
            *kills.entry(mode.name()).or_default() += 1;
        }

        // Final names hold only whole, matching files.
        check_final_names(&store, &downloads);
        let after = set_ids(&store);
        match mode {
            Mode::Set => {
                let new: Vec<_> = after.iter().filter(|id| !before.contains(id)).collect();
                assert!(
                    after.len() == before.len()
                        || (after.len() == before.len() + 1 && new.len() == 1),
                    "set list after a kill during a set: before {before:?}, after {after:?}"
                );
                assert!(before.iter().all(|id| after.contains(id)));
            }
            Mode::Download => assert_eq!(after, before),
            Mode::Retention => assert!(
                after == before || after == expected_after,
                "set list after a kill during retention: before {before:?}, after {after:?}, \
                 expected one of them or {expected_after:?}"
            ),
        }
        // Downloads killed between the sidecar and the NSB's rename: counted, then tidied.
        for e in std::fs::read_dir(&downloads).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            if n.starts_with('.') {
                std::fs::remove_file(downloads.join(&n)).unwrap();
            } else if let Some(nsb) = n.strip_suffix(SIDECAR_SUFFIX)
                && !downloads.join(nsb).exists()
            {
                sidecar_only += 1;
                std::fs::remove_file(downloads.join(&n)).unwrap();
            }
        }
        // The store cleans what the kill left (age zero: nothing else runs now), and only that.
        let c = store.clean_leftovers(SITE, Duration::ZERO).unwrap();
        assert!(c.failed.is_empty(), "{:?}", c.failed);
        cleaned += c.removed.len();
        assert_eq!(leftovers(&store), Vec::<String>::new());
        // Cleaning removes no set; a whole set the kill caught between its manifest and its
        // rename is finished instead (only a set build can leave one).
        let cleaned_ids = set_ids(&store);
        assert!(
            after.iter().all(|id| cleaned_ids.contains(id)),
            "cleaning removed a set: {after:?} → {cleaned_ids:?}"
        );
        assert_eq!(cleaned_ids.len(), after.len() + c.recovered.len());
        if !c.recovered.is_empty() {
            assert_eq!(mode, Mode::Set);
            assert_eq!(c.recovered.len(), 1);
            assert!(verify_backup_set(&c.recovered[0]).unwrap().ok());
            recovered += 1;
        }
    }
    let total: usize = kills.values().sum();
    println!(
        "{runs} runs, {total} killed mid-operation ({kills:?}), {cleaned} leftovers cleaned, \
         {sidecar_only} sidecars whose NSB was killed before its rename, {recovered} whole sets \
         finished from staging, in {:?}",
        started.elapsed()
    );
    assert!(total >= 30, "only {total} kills landed mid-operation");

    // A later run succeeds, and every set in the store verifies.
    let run = run_child(Mode::Set, &store_dir, &work, None);
    assert!(!run.killed);
    for s in store.list_sets(SITE).unwrap() {
        assert!(verify_backup_set(&s.path).unwrap().ok(), "{}", s.id);
    }
    assert!(leftovers(&store).is_empty());
}

#[tokio::test]
async fn in_process_sanity_for_the_chaos_helpers() {
    // The helpers used above agree with a set taken in process.
    let sim = Sim::start_pair(small_sim_config()).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = BackupStore::open(root.path()).unwrap();
    let r = run_backup_set(
        &store,
        &pair_site(&sim),
        &client(&sim, sim.primary()),
        &Default::default(),
    )
    .await
    .unwrap();
    duplicate_set(&store, &r.path, 1);
    assert_eq!(set_ids(&store).len(), 2);
    check_final_names(&store, &root.path().join("none"));
    assert!(leftovers(&store).is_empty());
}
