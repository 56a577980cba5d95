//! Item 1: backup download over TLS on loopback, the library against curl and requests.
//!
//! The simulator runs as its own process (`bt-dr-sim --single --backup-size N`). Every row is
//! one complete process, from credentials to a file on disk, run under `/usr/bin/time -v`:
//!
//! | row | what |
//! |---|---|
//! | `bt-dr (Rust)` | `bt-dr-bench-download`: token, `check_health`, `download_backup` (stream + SHA-256 + fsync + rename + sidecar) |
//! | `curl` | `curl` for the token, then `curl -o` (the file may still be in the page cache) |
//! | `curl + sync FILE` | the same, then `sync FILE` (on disk: bt-dr's durability) |
//! | `curl + sha256sum` | the same, then `sha256sum` of the file |
//! | `bt_dr (Python)` | `bt_dr.Client(...).download_backup(dir)` |
//! | `requests + hashlib` | a `requests` streaming script hashing with `hashlib`, with 64 KiB `iter_content` chunks (the Python target's peer), 8 KiB and 1 MiB |
//!
//! Rows alternate within each repetition; the downloaded files are deleted (and `sync` run,
//! untimed) after every row. The ratios printed: Rust / curl (the ≥ 0.95× target on disk),
//! Rust / (curl + sync), bt_dr (Python) / requests 64 KiB (the ≥ 1.5× target) and their peak
//! RSS (bt_dr's must be no higher), with the other requests rows as references.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{Opts, SimProcess, Stats, human_bytes, mib_per_s, print_table, ratio, run_measured};

struct Row {
    key: &'static str,
    label: &'static str,
    argv: Vec<String>,
    /// Why the row cannot run, when it cannot.
    skip: Option<String>,
}

fn clean_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// The size of the one non-sidecar file a row left in `dir`.
fn landed_size(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .max()
}

/// A SHA-256 the row printed: JSON `"sha256"` or `sha256sum`'s first word.
fn printed_sha(stdout: &str) -> Option<String> {
    for line in stdout.lines().rev() {
        if let Ok(v) = serde_json::from_str::<Value>(line)
            && let Some(s) = v["sha256"].as_str()
        {
            return Some(s.to_string());
        }
        let w = line.split_whitespace().next().unwrap_or("");
        if w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(w.to_string());
        }
    }
    None
}

fn sync() {
    let _ = std::process::Command::new("sync").status();
}

/// Runs the download benchmark and writes `--out` (default `target/bench/download.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let sizes: Vec<u64> = o
        .str_or("sizes", "268435456,2147483648")
        .split(',')
        .map(|s| s.trim().parse().map_err(|_| format!("bad size {s:?}")))
        .collect::<Result<_, _>>()?;
    let reps: usize = o.num_or("reps", 5)?;
    let reps_large: usize = o.num_or("reps-large", 3)?;
    let sim_bin = PathBuf::from(o.str_or("sim", "target/release/bt-dr-sim"));
    let dl_bin = o.str_or("download-bin", "target/release/bt-dr-bench-download");
    let scripts = PathBuf::from(o.str_or("scripts", "bench/scripts"));
    let work = PathBuf::from(o.str_or("work", "target/bench/download-work"));
    let out = PathBuf::from(o.str_or("out", "target/bench/download.json"));
    let py_requests = o.get("python-requests").map(str::to_string);
    let py_bt_dr = o.get("python-bt-dr").map(str::to_string);
    let py_bt_dr_reason = o.str_or(
        "python-bt-dr-missing",
        "no Python with the bt_dr package was given (--python-bt-dr)",
    );
    let label = o.str_or("label", "disk");
    let machine = crate::machine();
    eprintln!("download ({label}): {}", crate::machine_line(&machine));
    let scratch = work.with_extension("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let script = |name: &str| scripts.join(name).to_string_lossy().into_owned();

    let mut results = Vec::new();
    for &size in &sizes {
        let sim = SimProcess::start(
            &sim_bin,
            &[
                "--single",
                "--backup-size",
                &size.to_string(),
                "--control-port",
                "0",
            ],
        )?;
        let url = sim.field("primary_url");
        let ca = sim.field("ca_pem_path");
        let id = sim.field("client_id");
        let secret = sim.field("client_secret");
        let wd = work.to_string_lossy().into_owned();
        let file = work.join("backup.nsb").to_string_lossy().into_owned();
        let s = |x: &str| x.to_string();
        // The requests script, with the chunk size `iter_content` reads.
        let requests_row = |key, label, chunk: u32| Row {
            key,
            label,
            argv: match &py_requests {
                Some(py) => vec![
                    py.clone(),
                    script("requests_download.py"),
                    url.clone(),
                    ca.clone(),
                    id.clone(),
                    file.clone(),
                    chunk.to_string(),
                ],
                None => Vec::new(),
            },
            skip: py_requests
                .is_none()
                .then(|| "no Python with requests was given (--python-requests)".to_string()),
        };
        let rows = [
            Row {
                key: "rust",
                label: "bt-dr (Rust)",
                argv: vec![
                    dl_bin.clone(),
                    url.clone(),
                    ca.clone(),
                    id.clone(),
                    wd.clone(),
                ],
                skip: None,
            },
            Row {
                key: "curl",
                label: "curl",
                argv: vec![
                    s("bash"),
                    script("curl_download.sh"),
                    url.clone(),
                    ca.clone(),
                    id.clone(),
                    file.clone(),
                    s("0"),
                ],
                skip: None,
            },
            Row {
                key: "curl_sync",
                label: "curl + sync FILE",
                argv: vec![
                    s("bash"),
                    script("curl_download.sh"),
                    url.clone(),
                    ca.clone(),
                    id.clone(),
                    file.clone(),
                    s("sync"),
                ],
                skip: None,
            },
            Row {
                key: "curl_sha256sum",
                label: "curl + sha256sum",
                argv: vec![
                    s("bash"),
                    script("curl_download.sh"),
                    url.clone(),
                    ca.clone(),
                    id.clone(),
                    file.clone(),
                    s("1"),
                ],
                skip: None,
            },
            Row {
                key: "python_bt_dr",
                label: "bt_dr (Python)",
                argv: match &py_bt_dr {
                    Some(py) => vec![
                        py.clone(),
                        script("bt_dr_download.py"),
                        url.clone(),
                        ca.clone(),
                        id.clone(),
                        wd.clone(),
                    ],
                    None => Vec::new(),
                },
                skip: py_bt_dr.is_none().then(|| py_bt_dr_reason.clone()),
            },
            requests_row(
                "python_requests_64k",
                "requests + hashlib, 64 KiB chunks",
                64 << 10,
            ),
            requests_row("python_requests", "requests + hashlib, 8 KiB chunks", 8192),
            requests_row(
                "python_requests_1m",
                "requests + hashlib, 1 MiB chunks",
                1 << 20,
            ),
        ];
        let n_reps = if size >= 1 << 30 { reps_large } else { reps };
        let mut walls: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut rss: Vec<Vec<u64>> = vec![Vec::new(); rows.len()];
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut shas: Vec<Option<String>> = vec![None; rows.len()];
        let mut errors: Vec<Option<String>> = vec![None; rows.len()];
        for rep in 0..n_reps {
            for (i, row) in rows.iter().enumerate() {
                if row.skip.is_some() || errors[i].is_some() {
                    continue;
                }
                clean_dir(&work)?;
                sync();
                let m = run_measured(&row.argv, &[("BT_DR_SECRET", secret.as_str())], &scratch);
                let landed = landed_size(&work);
                clean_dir(&work)?;
                sync();
                if !m.ok || landed != Some(size) {
                    errors[i] = Some(format!(
                        "exit ok={} file size {:?} (want {size}); stderr: {}",
                        m.ok,
                        landed,
                        m.stderr.trim().chars().take(400).collect::<String>()
                    ));
                    eprintln!(
                        "  {} {}: FAILED {}",
                        human_bytes(size),
                        row.label,
                        errors[i].as_deref().unwrap_or("")
                    );
                    continue;
                }
                eprintln!(
                    "  {} rep {}/{} {:<20} {:>7.3} s  {:>8.1} MiB/s  peak RSS {} KiB",
                    human_bytes(size),
                    rep + 1,
                    n_reps,
                    row.label,
                    m.wall_secs,
                    mib_per_s(size, m.wall_secs),
                    m.max_rss_kib.map_or("?".into(), |k| k.to_string())
                );
                walls[i].push(m.wall_secs);
                if let Some(k) = m.max_rss_kib {
                    rss[i].push(k);
                }
                if let Some(c) = m.cpu_secs {
                    cpu[i].push(c);
                }
                if let Some(h) = printed_sha(&m.stdout) {
                    shas[i] = Some(h);
                }
            }
        }
        drop(sim);
        // The simulator's body is deterministic: check every hash a row printed.
        let expected = bt_dr_sim::expected_backup_sha256_hex(&bt_dr_sim::SimConfig {
            backup_size: size,
            ..Default::default()
        });
        let med = |i: usize| Stats::of(&walls[i]).median;
        let thr = |i: usize| {
            if walls[i].is_empty() {
                None
            } else {
                Some(mib_per_s(size, med(i)))
            }
        };
        let idx = |k: &str| rows.iter().position(|r| r.key == k).unwrap_or(0);
        let r_of = |a: &str, b: &str| match (thr(idx(a)), thr(idx(b))) {
            (Some(x), Some(y)) if y > 0.0 => Some(x / y),
            _ => None,
        };
        let row_json: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "row": r.key,
                    "label": r.label,
                    "status": if let Some(s) = &r.skip { format!("not run: {s}") }
                              else if let Some(e) = &errors[i] { format!("failed: {e}") }
                              else { "ok".to_string() },
                    "wall_secs": Stats::of(&walls[i]),
                    "walls": walls[i],
                    "throughput_mib_s": thr(i),
                    "peak_rss_kib_max": rss[i].iter().max(),
                    "client_cpu_secs": Stats::of(&cpu[i]),
                    "client_cpu_secs_per_gib": (!cpu[i].is_empty())
                        .then(|| Stats::of(&cpu[i]).median * (1u64 << 30) as f64 / size as f64),
                    "peak_rss_kib_all": rss[i],
                    "sha256": shas[i],
                    "sha256_matches": shas[i].as_ref().map(|h| *h == expected),
                    "command": r.argv,
                })
            })
            .collect();
        let rust_rss = rss[idx("rust")].iter().max().copied();
        let peak = |k: &str| rss[idx(k)].iter().max().copied();
        // Peak RSS of bt_dr (Python) over the requests script it is measured against (lower is
        // better; the target is ≤ 1).
        let py_rss = match (peak("python_bt_dr"), peak("python_requests_64k")) {
            (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
            _ => None,
        };
        let ratios = json!({
            "rust_vs_curl": r_of("rust", "curl"),
            "rust_vs_curl_sync": r_of("rust", "curl_sync"),
            "rust_vs_curl_sha256sum": r_of("rust", "curl_sha256sum"),
            "python_bt_dr_vs_requests_64k": r_of("python_bt_dr", "python_requests_64k"),
            "python_bt_dr_vs_requests": r_of("python_bt_dr", "python_requests"),
            "python_bt_dr_vs_requests_1m": r_of("python_bt_dr", "python_requests_1m"),
            "python_bt_dr_rss_vs_requests_64k": py_rss,
        });
        let mut table = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let status = if let Some(s) = &r.skip {
                format!("not run ({s})")
            } else if errors[i].is_some() {
                "FAILED".to_string()
            } else {
                String::new()
            };
            let vs = match r.key {
                "rust" => format!(
                    "{} curl, {} curl+sync, {} curl+sha256sum",
                    r_of("rust", "curl").map_or("-".into(), ratio),
                    r_of("rust", "curl_sync").map_or("-".into(), ratio),
                    r_of("rust", "curl_sha256sum").map_or("-".into(), ratio)
                ),
                "python_bt_dr" => format!(
                    "{} requests 64 KiB (RSS {}), {} 8 KiB, {} 1 MiB",
                    r_of("python_bt_dr", "python_requests_64k").map_or("-".into(), ratio),
                    py_rss.map_or("-".into(), ratio),
                    r_of("python_bt_dr", "python_requests").map_or("-".into(), ratio),
                    r_of("python_bt_dr", "python_requests_1m").map_or("-".into(), ratio)
                ),
                _ => String::new(),
            };
            table.push(vec![
                r.label.to_string(),
                if walls[i].is_empty() {
                    "-".into()
                } else {
                    format!("{:.3}", med(i))
                },
                thr(i).map_or("-".into(), |t| format!("{t:.0}")),
                rss[i]
                    .iter()
                    .max()
                    .map_or("-".into(), |k| format!("{:.1}", *k as f64 / 1024.0)),
                if cpu[i].is_empty() {
                    "-".into()
                } else {
                    format!(
                        "{:.2}",
                        Stats::of(&cpu[i]).median * (1u64 << 30) as f64 / size as f64
                    )
                },
                match &shas[i] {
                    Some(h) if *h == expected => "ok".into(),
                    Some(_) => "MISMATCH".into(),
                    None => "-".into(),
                },
                vs,
                status,
            ]);
        }
        print_table(
            &format!(
                "Download of a {} backup over TLS on loopback, files on {label} ({}; median of {} runs)",
                human_bytes(size),
                work.display(),
                n_reps
            ),
            &[
                "row",
                "wall s",
                "MiB/s",
                "peak RSS MiB",
                "client CPU s/GiB",
                "sha256",
                "ratio",
                "note",
            ],
            &table,
        );
        let show = |x: Option<f64>| x.map_or("-".to_string(), ratio);
        println!(
            "ratios ({label}, {}): Rust / curl {} (target ≥ 0.95×), Rust / (curl + sync FILE) {}, \
             bt_dr (Python) / requests 64 KiB {} (target ≥ 1.5×), peak RSS bt_dr (Python) / \
             requests 64 KiB {} (target ≤ 1.00×)",
            human_bytes(size),
            show(r_of("rust", "curl")),
            show(r_of("rust", "curl_sync")),
            show(r_of("python_bt_dr", "python_requests_64k")),
            show(py_rss),
        );
        results.push(json!({
            "size_bytes": size,
            "size": human_bytes(size),
            "reps": n_reps,
            "expected_sha256": expected,
            "rows": row_json,
            "ratios": ratios,
            "targets": {
                "rust_ge_0_95_curl": r_of("rust", "curl").map(|r| r >= 0.95),
                "python_ge_1_5_requests_64k": r_of("python_bt_dr", "python_requests_64k").map(|r| r >= 1.5),
                "python_rss_le_requests_64k": py_rss.map(|r| r <= 1.0),
                "python_ge_1_5_requests": r_of("python_bt_dr", "python_requests").map(|r| r >= 1.5),
                "python_ge_1_5_requests_1m": r_of("python_bt_dr", "python_requests_1m").map(|r| r >= 1.5),
                "rust_peak_rss_le_32_mib": rust_rss.map(|k| k <= 32 * 1024),
            },
        }));
    }
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&scratch);
    let v = json!({
        "benchmark": "download",
        "machine": machine,
        "work_dir": work,
        "label": label,
        "results": results,
    });
    crate::write_json(&out, &v)?;
    let failed: Vec<String> = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["rows"].as_array().into_iter().flatten())
        .filter(|r| {
            r["status"]
                .as_str()
                .is_some_and(|s| s.starts_with("failed"))
                || r["sha256_matches"] == false
        })
        .map(|r| format!("{}: {}", r["label"], r["status"]))
        .collect();
    if !failed.is_empty() {
        return Err(format!("rows failed: {}", failed.join("; ")));
    }
    Ok(v)
}
