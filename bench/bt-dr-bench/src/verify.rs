//! Item 5 of issue 16: `verify_backup_set` over a large store against `sha256sum -c` of the
//! same files, on one core and on both.
//!
//! The store (`--sets` sets of `--size-mib` MiB, one site each) is taken once with
//! `run_backup_job` from `sim-host` appliances and kept under `--work` for later runs with the
//! same parameters. The peers check the files the manifests list, from `SHA256SUMS` files
//! written from those manifests (one per set, absolute paths): one `sha256sum -c` process over
//! all of them, and `xargs -P2` over the per-set files (`bench/scripts/sha256sum_verify.sh`).
//! `verify_backup_set` hashes a set's files one after the other, so the two-core row runs two
//! sets at a time on two threads, as `xargs -P2` does.
//!
//! The page cache: the files are read once before the timed runs. When the store is smaller
//! than the memory available, every timed run (ours and the peers') reads from the cache: the
//! rows compare hashing and file handling, not the disk. The result says which it was.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bt_dr_core::{BackupStore, Manifest, verify_backup_set};
use serde_json::{Value, json};

use crate::job::{jobs_of, verify_all};
use crate::simhost::{self, HostSpec};
use bt_dr_bench::{Opts, Stats, mib_per_s, print_table, ratio, run_measured};

/// Sets of the store and their manifests, in site order.
fn set_paths(store: &Path, sets: usize) -> Result<Vec<(PathBuf, Manifest)>, String> {
    let store = BackupStore::open(store).map_err(|e| e.to_string())?;
    (0..sets)
        .map(|i| {
            let site = format!("site-{i:04}");
            store
                .latest_set(&site)
                .map_err(|e| format!("{site}: {e}"))?
                .map(|s| (s.path, s.manifest))
                .ok_or_else(|| format!("{site} has no set"))
        })
        .collect()
}

/// Takes the store with `run_backup_job`, unless one with the same parameters is there.
fn ensure_store(work: &Path, sets: usize, size: u64) -> Result<(PathBuf, bool), String> {
    let store = work.join("store");
    let marker = work.join("store-params.json");
    let want = json!({"sets": sets, "size_bytes": size});
    let have: Option<Value> = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if have.as_ref() == Some(&want) && set_paths(&store, sets).is_ok() {
        return Ok((store, true));
    }
    let _ = std::fs::remove_file(&marker);
    if store.exists() {
        std::fs::remove_dir_all(&store)
            .map_err(|e| format!("removing {}: {e}", store.display()))?;
    }
    std::fs::create_dir_all(&store).map_err(|e| format!("creating {}: {e}", store.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let spec = HostSpec {
        first: 0,
        count: sets,
        latency_ms: 0,
        per_account: 0,
        backup_min: size,
        backup_max: size,
        sessions: 0,
    };
    let t = Instant::now();
    let hosts = simhost::start_hosts(&exe, &spec, 1)?;
    let jobs = jobs_of(&hosts[0].appliances, false)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let st = BackupStore::open(&store).map_err(|e| e.to_string())?;
    let report = rt.block_on(bt_dr_core::run_backup_job(&st, jobs, 2));
    drop(hosts);
    if !report.all_complete() {
        let first = report.sites.iter().find_map(|s| {
            s.error
                .as_ref()
                .map(|e| format!("{}: {}", s.site, e.message))
        });
        return Err(format!("taking the store failed: {first:?}"));
    }
    eprintln!(
        "  took {sets} sets of {} in {:.1} s",
        bt_dr_bench::human_bytes(size),
        t.elapsed().as_secs_f64()
    );
    bt_dr_bench::write_json(&marker, &want)?;
    Ok((store, false))
}

/// Writes one `SHA256SUMS` file per set (absolute paths) from its manifest; returns the bytes
/// they cover.
fn write_sums(sets: &[(PathBuf, Manifest)], dir: &Path) -> Result<u64, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut total = 0;
    for (i, (p, m)) in sets.iter().enumerate() {
        let abs = std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let mut sums = String::new();
        for f in &m.files {
            sums.push_str(&format!("{}  {}\n", f.sha256, abs.join(&f.path).display()));
            total += f.size;
        }
        let file = dir.join(format!("set-{i:04}.sha256"));
        std::fs::write(&file, sums).map_err(|e| format!("writing {}: {e}", file.display()))?;
    }
    Ok(total)
}

/// `verify_backup_set` over `paths` on `threads` threads, sets taken from a shared queue.
fn verify_parallel(paths: &[PathBuf], threads: usize) -> Result<u64, String> {
    let next = AtomicUsize::new(0);
    let bytes = Mutex::new(0u64);
    let first_err = Mutex::new(None::<String>);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = paths.get(i) else { break };
                    match verify_backup_set(p) {
                        Ok(r) if r.ok() => {
                            *bytes.lock().unwrap_or_else(|e| e.into_inner()) += r.bytes_checked
                        }
                        Ok(r) => {
                            first_err
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(format!("{}: {:?}", p.display(), r.problems));
                        }
                        Err(e) => {
                            first_err
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(format!("{}: {e}", p.display()));
                        }
                    }
                }
            });
        }
    });
    match first_err.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(bytes.into_inner().unwrap_or_else(|e| e.into_inner())),
    }
}

fn mem_available_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemAvailable:")
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
}

/// `bt-dr-bench verify`: writes `--out` (default `target/bench/verify.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let sets: usize = o.num_or("sets", 20)?.max(1);
    let size_mib: u64 = o.num_or("size-mib", 512)?.max(1);
    let reps: usize = o.num_or("reps", 3)?.max(1);
    let work = PathBuf::from(o.str_or("work", "target/bench/verify-work"));
    let scripts = PathBuf::from(o.str_or("scripts", "bench/scripts"));
    let out = PathBuf::from(o.str_or("out", "target/bench/verify.json"));
    let script = scripts.join("sha256sum_verify.sh");
    if !script.exists() {
        return Err(format!("{} is missing", script.display()));
    }
    crate::procstat::raise_nofile()?;
    let machine = bt_dr_bench::machine();
    let (store, reused) = ensure_store(&work, sets, size_mib << 20)?;
    let listing = set_paths(&store, sets)?;
    let sums = work.join("sums");
    let listed = write_sums(&listing, &sums)?;
    let paths: Vec<PathBuf> = listing.into_iter().map(|(p, _)| p).collect();
    let (ok, files, bytes, problem) = verify_all(&paths);
    if ok != sets {
        return Err(format!("the store does not verify: {problem:?}"));
    }
    let avail = mem_available_kib();
    let cached = avail.is_some_and(|a| bytes / 1024 < a);
    eprintln!(
        "  {sets} sets, {files} files, {:.1} MiB (read once to warm the page cache; {} MiB available: {})",
        bytes as f64 / 1048576.0,
        avail.unwrap_or(0) / 1024,
        if cached {
            "the timed runs read from the cache"
        } else {
            "larger than memory, the timed runs read from disk"
        }
    );

    let scratch = work.join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let peer = |jobs: &str| -> Result<(f64, Option<f64>, Option<u64>), String> {
        let argv = vec![
            "sh".to_string(),
            script.display().to_string(),
            sums.display().to_string(),
            jobs.to_string(),
        ];
        let m = run_measured(&argv, &[], &scratch);
        if !m.ok {
            return Err(format!(
                "sha256sum -c ({jobs} job(s)) failed: {}",
                m.stderr.lines().take(3).collect::<Vec<_>>().join("; ")
            ));
        }
        Ok((m.wall_secs, m.cpu_secs, m.max_rss_kib))
    };
    let mut walls: [Vec<f64>; 4] = Default::default();
    let mut cpus: [Vec<f64>; 4] = Default::default();
    let mut rss: [Option<u64>; 4] = [None; 4];
    // Rows are interleaved within each repetition so that load from other work on the machine
    // falls on all of them alike.
    for rep in 0..reps {
        for (row, threads) in [(0usize, 1usize), (1, 2)] {
            let c0 = crate::procstat::cpu_secs();
            let t = Instant::now();
            let b = verify_parallel(&paths, threads)?;
            walls[row].push(t.elapsed().as_secs_f64());
            cpus[row].push(crate::procstat::cpu_secs() - c0);
            if b != bytes {
                return Err(format!("verified {b} bytes, expected {bytes}"));
            }
        }
        for (row, jobs) in [(2usize, "1"), (3, "2")] {
            let (w, c, r) = peer(jobs)?;
            walls[row].push(w);
            if let Some(c) = c {
                cpus[row].push(c);
            }
            rss[row] = rss[row].max(r);
        }
        eprintln!(
            "  rep {}/{reps}: verify_backup_set {:.2} s / 2 threads {:.2} s; sha256sum -c {:.2} s / xargs -P2 {:.2} s",
            rep + 1,
            walls[0][rep],
            walls[1][rep],
            walls[2][rep],
            walls[3][rep]
        );
    }
    let our_rss = crate::procstat::max_rss_kib();
    let st: Vec<Stats> = walls.iter().map(|w| Stats::of(w)).collect();
    let cpu: Vec<Stats> = cpus.iter().map(|c| Stats::of(c)).collect();
    let names = [
        "verify_backup_set, sets one after the other (1 thread)",
        "verify_backup_set, 2 threads (2 sets at a time)",
        "sha256sum -c, one process",
        "sha256sum -c, xargs -P2 (one process per set)",
    ];
    let rows: Vec<Vec<String>> = (0..4)
        .map(|i| {
            let peer_of = if i < 2 { i + 2 } else { i };
            vec![
                names[i].to_string(),
                format!("{:.2}", st[i].median),
                format!("{:.0}", mib_per_s(bytes, st[i].median)),
                format!("{:.2}", cpu[i].median),
                // Other work on the machine takes cores away from every row alike; CPU seconds
                // are the steadier comparison.
                format!("{:.2}", cpu[i].median / st[i].median),
                ratio(st[peer_of].median / st[i].median),
                ratio(cpu[peer_of].median / cpu[i].median),
            ]
        })
        .collect();
    print_table(
        &format!(
            "Verify {sets} sets × {size_mib} MiB ({:.1} GiB, {files} files; {}), median of {reps}",
            bytes as f64 / (1u64 << 30) as f64,
            if cached {
                "page cache warm"
            } else {
                "larger than RAM"
            }
        ),
        &[
            "run",
            "wall s",
            "MiB/s",
            "CPU s",
            "cores busy",
            "wall: sha256sum on as many cores / this",
            "CPU: sha256sum / this",
        ],
        &rows,
    );
    let v = json!({
        "benchmark": "verify_store",
        "machine": machine,
        "machine_after": bt_dr_bench::machine(),
        "sets": sets,
        "set_size_mib": size_mib,
        "files": files,
        "bytes": bytes,
        "bytes_listed_for_sha256sum": listed,
        "store_reused": reused,
        "mem_available_kib": avail,
        "page_cache_warm": cached,
        "reps": reps,
        "rows": (0..4).map(|i| json!({
            "row": names[i],
            "wall_secs": st[i],
            "cpu_secs": cpu[i],
            "mib_per_s": mib_per_s(bytes, st[i].median),
            "peak_rss_kib": if i < 2 { Some(our_rss) } else { rss[i] },
        })).collect::<Vec<_>>(),
        "ratios": {
            "verify_1_thread_vs_sha256sum_1_process": st[2].median / st[0].median,
            "verify_2_threads_vs_sha256sum_xargs_p2": st[3].median / st[1].median,
            "verify_2_threads_speedup": st[0].median / st[1].median,
            "sha256sum_xargs_p2_speedup": st[2].median / st[3].median,
            "cpu_sha256sum_1_process_vs_verify_1_thread": cpu[2].median / cpu[0].median,
            "cpu_sha256sum_xargs_p2_vs_verify_2_threads": cpu[3].median / cpu[1].median,
        },
    });
    bt_dr_bench::write_json(&out, &v)?;
    Ok(v)
}
