//! Item 4: collects Criterion's estimates (`<criterion dir>/<group>/<bench>/new/estimates.json`)
//! into one JSON result file and a table.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{Opts, print_table};

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                if p.join("estimates.json").exists() {
                    found.push(p);
                }
            } else {
                walk(&p, found);
            }
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Reads `--criterion-dir` (default `target/bench/criterion`) and writes `--out`
/// (default `target/bench/parsers.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let dir = PathBuf::from(o.str_or("criterion-dir", "target/bench/criterion"));
    let out = PathBuf::from(o.str_or("out", "target/bench/parsers.json"));
    let mut found = Vec::new();
    walk(&dir, &mut found);
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for p in found {
        let read = |f: &str| -> Option<Value> {
            serde_json::from_str(&std::fs::read_to_string(p.join(f)).ok()?).ok()
        };
        let (Some(est), Some(meta)) = (read("estimates.json"), read("benchmark.json")) else {
            continue;
        };
        let id = meta["full_id"].as_str().unwrap_or_default().to_string();
        let med = est["median"]["point_estimate"].as_f64().unwrap_or(0.0);
        let lo = est["median"]["confidence_interval"]["lower_bound"]
            .as_f64()
            .unwrap_or(0.0);
        let hi = est["median"]["confidence_interval"]["upper_bound"]
            .as_f64()
            .unwrap_or(0.0);
        items.push(json!({"id": id, "median_ns": med, "ci95_ns": [lo, hi],
                          "mean_ns": est["mean"]["point_estimate"]}));
        rows.push((
            id.clone(),
            vec![
                id,
                fmt_ns(med),
                format!("{} – {}", fmt_ns(lo), fmt_ns(hi)),
                if med > 0.0 {
                    format!("{:.0}", 1e9 / med)
                } else {
                    "-".into()
                },
            ],
        ));
    }
    if rows.is_empty() {
        return Err(format!(
            "no Criterion results under {} (run `cargo bench -p bt-dr-bench --bench parsers` with CRITERION_HOME set to it)",
            dir.display()
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    print_table(
        "Criterion micro-benchmarks (median, 95% confidence interval)",
        &["benchmark", "median", "95% CI", "per second"],
        &rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
    );
    let v = json!({
        "benchmark": "parsers",
        "machine": crate::machine(),
        "criterion_dir": dir,
        "results": items,
    });
    crate::write_json(&out, &v)?;
    Ok(v)
}
