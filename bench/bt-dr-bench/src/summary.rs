//! The verdicts of the last `make bench`, read back from the JSON result files.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{Opts, print_table, ratio};

fn read(dir: &std::path::Path, name: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
}

fn verdict(ok: Option<bool>) -> String {
    match ok {
        Some(true) => "met".into(),
        Some(false) => "MISSED".into(),
        None => "not measured".into(),
    }
}

/// Prints one table of every target and writes `--dir`/summary.json.
pub fn run(o: &Opts) -> Result<Value, String> {
    let dir = PathBuf::from(o.str_or("dir", "target/bench"));
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut push = |what: String, measured: String, target: &str, ok: Option<bool>| {
        items.push(json!({"what": what, "measured": measured, "target": target, "met": ok}));
        // Rows without a target ("(no target)", "(reference peer)") get no verdict; a target
        // row whose measurement is missing says so.
        let v = if target.starts_with('(') {
            "–".into()
        } else {
            verdict(ok)
        };
        rows.push(vec![what, measured, target.to_string(), v]);
    };
    for (file, place) in [
        ("download.json", "disk"),
        ("download-tmpfs.json", "tmpfs, diagnostic"),
    ] {
        let Some(d) = read(&dir, file) else {
            continue;
        };
        for r in d["results"].as_array().into_iter().flatten() {
            let size = format!("{} ({place})", r["size"].as_str().unwrap_or("?"));
            let f = |k: &str| r["ratios"][k].as_f64();
            push(
                format!("download {size}: Rust / curl throughput"),
                f("rust_vs_curl").map_or("-".into(), ratio),
                "≥ 0.95×",
                r["targets"]["rust_ge_0_95_curl"].as_bool(),
            );
            push(
                format!("download {size}: Rust / (curl + sync FILE), the same durability"),
                f("rust_vs_curl_sync").map_or("-".into(), ratio),
                "(no target)",
                None,
            );
            push(
                format!("download {size}: Rust / (curl + sha256sum)"),
                f("rust_vs_curl_sha256sum").map_or("-".into(), ratio),
                "(no target)",
                None,
            );
            push(
                format!("download {size}: bt_dr (Python) / requests, 64 KiB chunks"),
                f("python_bt_dr_vs_requests_64k").map_or("-".into(), ratio),
                "≥ 1.5×",
                r["targets"]["python_ge_1_5_requests_64k"].as_bool(),
            );
            push(
                format!("download {size}: peak RSS bt_dr (Python) / requests, 64 KiB chunks"),
                f("python_bt_dr_rss_vs_requests_64k").map_or("-".into(), ratio),
                "≤ 1.00×",
                r["targets"]["python_rss_le_requests_64k"].as_bool(),
            );
            // The other chunk sizes are shown for reference, with whether they would have
            // cleared the same bar.
            for (key, what) in [
                ("python_bt_dr_vs_requests", "8 KiB chunks"),
                ("python_bt_dr_vs_requests_1m", "tuned to 1 MiB chunks"),
            ] {
                push(
                    format!("download {size}: bt_dr (Python) / requests {what}"),
                    f(key).map_or("-".into(), |x| {
                        format!("{} ({} 1.5×)", ratio(x), if x >= 1.5 { "≥" } else { "<" })
                    }),
                    "(reference peer)",
                    None,
                );
            }
            let rss = r["rows"]
                .as_array()
                .and_then(|rows| rows.iter().find(|x| x["row"] == "rust"))
                .and_then(|x| x["peak_rss_kib_max"].as_u64());
            if r["size_bytes"].as_u64().unwrap_or(0) >= 1 << 30 {
                push(
                    format!("download {size}: Rust peak RSS"),
                    rss.map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
                    "≤ 32 MiB",
                    r["targets"]["rust_peak_rss_le_32_mib"].as_bool(),
                );
            }
        }
    }
    if let Some(s) = read(&dir, "sweep.json") {
        push(
            format!(
                "health sweep of {} appliances (cold), vs sequential {}",
                s["appliances"],
                s["speedup_cold_vs_sequential"]
                    .as_f64()
                    .map_or("-".into(), ratio)
            ),
            format!(
                "{:.3} s",
                s["cold_sweep_secs"]["median"].as_f64().unwrap_or(0.0)
            ),
            "≤ 1.5 s",
            s["target_cold_le_1_5_s"].as_bool(),
        );
    }
    if let Some(s) = read(&dir, "sweep-rate-limit.json") {
        let wall = s["cold_sweep_secs"]["median"].as_f64().unwrap_or(0.0);
        let floor = s["rate_limit_floor_cold_secs"].as_f64().unwrap_or(0.0);
        push(
            format!(
                "rate limit kept: {} appliances on {} accounts, 20 req/s each ({} requests beyond the expected)",
                s["appliances"], s["accounts"], s["requests_beyond_expected"]
            ),
            format!("{wall:.2} s (limit allows ≥ {floor:.2} s)"),
            "wall ≥ limit floor",
            Some(wall >= floor && s["requests_beyond_expected"] == 0),
        );
    }
    if let Some(c) = read(&dir, "certs.json") {
        push(
            format!(
                "certificate audit of {} bundles: library / shell loop (per bundle {:.2} ms vs {:.1} ms; {:.2}× the KDF floor)",
                c["bundles"],
                c["per_bundle_ms"]["library_1_thread"]
                    .as_f64()
                    .unwrap_or(0.0),
                c["per_bundle_ms"]["shell_loop_1_job"]
                    .as_f64()
                    .unwrap_or(0.0),
                c["ratios"]["library_vs_kdf_floor"].as_f64().unwrap_or(0.0),
            ),
            c["ratios"]["library_1_thread_vs_shell_1_job"]
                .as_f64()
                .map_or("-".into(), ratio),
            "≥ 20×",
            c["target_ge_20x_shell"].as_bool(),
        );
        push(
            format!(
                "certificate audit: library on {} threads / shell loop on as many jobs",
                c["library_threads"]
            ),
            c["ratios"]["library_all_threads_vs_shell_all_jobs"]
                .as_f64()
                .map_or("-".into(), ratio),
            "(no target)",
            None,
        );
    }
    if let Some(f) = read(&dir, "fleet.json") {
        for point in f["curve"].as_array().into_iter().flatten() {
            let exp = point["growth_exponent_cold_wall"].as_f64();
            push(
                format!(
                    "fleet health sweep, {:.0} appliances (cold): wall / floor (round trips, rate limit, CPU on 2 cores); wall growth exponent {}",
                    point["appliances"].as_f64().unwrap_or(0.0),
                    exp.map_or("-".into(), |e| format!("{e:.2}"))
                ),
                format!(
                    "{:.2} s, {} of the floor",
                    point["cold_secs"].as_f64().unwrap_or(0.0),
                    point["cold_vs_floor"].as_f64().map_or("-".into(), ratio)
                ),
                if exp.is_some() {
                    "growth ≤ linear"
                } else {
                    "(first point)"
                },
                exp.map(|e| e <= 1.1),
            );
        }
    }
    if let Some(j) = read(&dir, "job.json") {
        for r in j["results"].as_array().into_iter().flatten() {
            push(
                format!(
                    "nightly job, {} sites at concurrency {}: wall / round-trip bound (peak {} fds, {:.1} MiB)",
                    j["sites"],
                    r["concurrency"],
                    r["peak_fds"],
                    r["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0
                ),
                format!(
                    "{:.2} s, {}",
                    r["wall_secs"].as_f64().unwrap_or(0.0),
                    r["wall_vs_bound"].as_f64().map_or("-".into(), ratio)
                ),
                "every set verified",
                Some(r["all_complete"] == true && r["sets_verified"] == j["sites"]),
            );
        }
    }
    if let Some(v) = read(&dir, "verify.json") {
        push(
            format!(
                "verify {} sets × {} MiB: verify_backup_set / sha256sum -c (1 thread vs 1 process)",
                v["sets"], v["set_size_mib"]
            ),
            v["ratios"]["verify_1_thread_vs_sha256sum_1_process"]
                .as_f64()
                .map_or("-".into(), ratio),
            "(no target)",
            None,
        );
        push(
            "verify: 2 threads / sha256sum -c with xargs -P2".into(),
            v["ratios"]["verify_2_threads_vs_sha256sum_xargs_p2"]
                .as_f64()
                .map_or("-".into(), ratio),
            "(no target)",
            None,
        );
    }
    if let Some(p) = read(&dir, "parsers.json") {
        push(
            "Criterion micro-benchmarks".into(),
            format!("{} results", p["results"].as_array().map_or(0, Vec::len)),
            "(no target)",
            None,
        );
    }
    print_table(
        &format!("Summary of {}", dir.display()),
        &["measurement", "result", "target", "verdict"],
        &rows,
    );
    let v = json!({"machine": crate::machine(), "targets": items});
    crate::write_json(&dir.join("summary.json"), &v)?;
    Ok(v)
}
