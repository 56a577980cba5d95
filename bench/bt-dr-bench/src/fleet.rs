//! Item 3 of issue 16: the health sweep at fleet scale (100 / 1,000 / 10,000 appliances).
//!
//! `fleet` runs each point in a child process of its own (`fleet-point`), so that peak RSS
//! and open descriptors belong to that point only. A point starts its appliances in
//! `sim-host` children (see [`crate::simhost`]: one process cannot hold 10,000 appliances and
//! their clients under the machine's descriptor limit) and measures, in its own process, only
//! what a user's process would hold: one [`Client`] per appliance and `health_sweep` over them
//! with concurrency equal to the fleet size. API accounts are shared (`--per-account`
//! appliances each) so the per-account limiter applies.
//!
//! The floor of a cold sweep is the larger of: the round trips (token, then `check_health`:
//! 2 × latency, all appliances at once); the per-account rate limit (20 requests/s after a
//! burst of 20); the CPU the TLS handshakes and requests cost on both sides, measured per
//! appliance on the smallest point, times the fleet size, over the cores.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bt_dr_core::SecretString;
use bt_dr_core::api::{Client, RetryPolicy};
use bt_dr_core::health_sweep;
use serde_json::{Value, json};

use crate::procstat::{self, Sampler};
use crate::simhost::{self, HostSpec, Hosted, SECRET};
use bt_dr_bench::{Opts, Stats, print_table, ratio};

fn clients(apps: &[Hosted]) -> Result<Vec<Client>, String> {
    apps.iter()
        .enumerate()
        .map(|(i, a)| {
            Client::builder(&a.url)
                .credentials(&a.account, SecretString::from(SECRET))
                .extra_ca_pem(a.ca_pem.as_bytes().to_vec())
                .only_extra_ca(true)
                .retry_policy(RetryPolicy::default())
                .build()
                .map_err(|e| format!("client {i}: {e}"))
        })
        .collect()
}

/// `bt-dr-bench fleet-point`: one point of the curve; prints its JSON as the last line.
pub fn run_point(o: &Opts) -> Result<Value, String> {
    let n: usize = o.num_or("appliances", 100)?;
    let per_account: usize = o.num_or("per-account", 10)?.max(1);
    let latency_ms: u64 = o.num_or("latency-ms", 100)?;
    let reps: usize = o.num_or("reps", 2)?.max(1);
    let per_host: usize = o.num_or("per-host", 2500)?.max(1);
    let nofile = procstat::raise_nofile()?;
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let spec = HostSpec {
        first: 0,
        count: n,
        latency_ms,
        per_account,
        backup_min: 1024,
        backup_max: 1024,
        sessions: 0,
    };
    let t = Instant::now();
    let mut hosts = simhost::start_hosts(&exe, &spec, n.div_ceil(per_host))?;
    let setup_secs = t.elapsed().as_secs_f64();
    let apps: Vec<Hosted> = hosts
        .iter()
        .flat_map(|h| h.appliances.iter().cloned())
        .collect();
    eprintln!(
        "  {n} appliances in {} sim-host processes started in {setup_secs:.1} s",
        hosts.len()
    );
    let rss_before_clients = procstat::rss_kib();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let sampler = Sampler::start(Duration::from_millis(50));
    let mut runs = Vec::new();
    let mut failures = 0usize;
    let mut first_error = None;
    let mut extra_requests = 0u64;
    let mut client_build = Vec::new();
    for rep in 0..reps {
        let t = Instant::now();
        let cs = clients(&apps)?;
        client_build.push(t.elapsed().as_secs_f64());
        for (label, per_appliance) in [("cold", 2u64), ("warm", 1)] {
            // Let every account's bucket refill before a sweep starts.
            std::thread::sleep(Duration::from_millis(1100));
            let h0 = simhost::stats_of(&mut hosts)?;
            let c0 = procstat::cpu_secs();
            let t = Instant::now();
            let res = rt.block_on(health_sweep(&cs, n));
            let wall = t.elapsed().as_secs_f64();
            let client_cpu = procstat::cpu_secs() - c0;
            let h = simhost::stats_of(&mut hosts)?.since(&h0);
            let failed = res.iter().filter(|r| r.is_err()).count();
            failures += failed;
            if first_error.is_none() {
                first_error = res
                    .iter()
                    .find_map(|r| r.as_ref().err().map(|e| e.to_string()));
            }
            extra_requests += (h.token + h.command).saturating_sub(per_appliance * n as u64);
            eprintln!(
                "  rep {}/{reps}: {label} sweep {wall:.3} s, CPU {client_cpu:.2} s client + {:.2} s appliances, {} token + {} command requests, {failed} failed",
                rep + 1,
                h.cpu_secs,
                h.token,
                h.command
            );
            runs.push(json!({
                "rep": rep, "kind": label, "wall_secs": wall,
                "client_cpu_secs": client_cpu, "appliances_cpu_secs": h.cpu_secs,
                "token_requests": h.token, "command_requests": h.command, "failed": failed,
            }));
        }
        drop(cs);
    }
    let peaks = sampler.finish();
    let hs = simhost::stats_of(&mut hosts)?;
    drop(hosts);
    let pick = |kind: &str, key: &str| -> Vec<f64> {
        runs.iter()
            .filter(|r| r["kind"] == kind)
            .filter_map(|r| r[key].as_f64())
            .collect()
    };
    let v = json!({
        "benchmark": "fleet_point",
        "machine": bt_dr_bench::machine(),
        "appliances": n,
        "latency_ms": latency_ms,
        "appliances_per_account": per_account,
        "accounts": n.div_ceil(per_account),
        "concurrency": n,
        "sim_host_processes": n.div_ceil(per_host),
        "nofile_soft_hard": [nofile.0, nofile.1],
        "setup_secs": setup_secs,
        "client_build_secs": Stats::of(&client_build),
        "cold_secs": Stats::of(&pick("cold", "wall_secs")),
        "warm_secs": Stats::of(&pick("warm", "wall_secs")),
        "cold_cpu_secs": Stats::of(&pick("cold", "client_cpu_secs")),
        "cold_appliances_cpu_secs": Stats::of(&pick("cold", "appliances_cpu_secs")),
        "warm_cpu_secs": Stats::of(&pick("warm", "client_cpu_secs")),
        "warm_appliances_cpu_secs": Stats::of(&pick("warm", "appliances_cpu_secs")),
        "runs": runs,
        "client_peak_rss_kib": procstat::max_rss_kib(),
        "client_rss_before_clients_kib": rss_before_clients,
        "client_peak_fds": peaks.fds,
        "sim_hosts_peak_rss_kib_sum": hs.hwm_kib,
        "failures": failures,
        "first_error": first_error,
        "requests_beyond_expected": extra_requests,
    });
    println!("{v}");
    Ok(v)
}

fn f(v: &Value, path: &[&str]) -> f64 {
    path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(0.0)
}

/// `bt-dr-bench fleet`: the curve; writes `--out` (default `target/bench/fleet.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let sizes: Vec<usize> = o
        .str_or("sizes", "100,1000,10000")
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("--sizes: {s:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let per_account: usize = o.num_or("per-account", 10)?.max(1);
    let latency_ms: u64 = o.num_or("latency-ms", 100)?;
    let reps: usize = o.num_or("reps", 3)?;
    let reps_large: usize = o.num_or("reps-large", 2)?;
    let per_host: usize = o.num_or("per-host", 2500)?;
    let out = PathBuf::from(o.str_or("out", "target/bench/fleet.json"));
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let machine_before = bt_dr_bench::machine();
    let mut points = Vec::new();
    for &n in &sizes {
        eprintln!("fleet: {n} appliances");
        let r = if n >= 10_000 { reps_large } else { reps };
        let output = Command::new(&exe)
            .arg("fleet-point")
            .args(["--appliances", &n.to_string()])
            .args(["--per-account", &per_account.to_string()])
            .args(["--latency-ms", &latency_ms.to_string()])
            .args(["--reps", &r.to_string()])
            .args(["--per-host", &per_host.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start fleet-point: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let point: Value = text
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| format!("fleet-point for {n} appliances printed no result"))?;
        if !output.status.success() {
            return Err(format!(
                "fleet-point for {n} appliances failed: {}",
                point["first_error"]
            ));
        }
        points.push(point);
    }

    // The floor: CPU per appliance comes from the smallest point (the least queueing).
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    let small = &points[0];
    let small_n = f(small, &["appliances"]).max(1.0);
    let cpu_cold_per = (f(small, &["cold_cpu_secs", "median"])
        + f(small, &["cold_appliances_cpu_secs", "median"]))
        / small_n;
    let cpu_warm_per = (f(small, &["warm_cpu_secs", "median"])
        + f(small, &["warm_appliances_cpu_secs", "median"]))
        / small_n;
    let lat = latency_ms as f64 / 1000.0;
    let rate_cold = (2.0 * per_account as f64 - 20.0).max(0.0) / 20.0;
    let rate_warm = (per_account as f64 - 20.0).max(0.0) / 20.0;
    let mut rows = Vec::new();
    let mut curve = Vec::new();
    let mut prev: Option<&Value> = None;
    for p in &points {
        let n = f(p, &["appliances"]);
        let cold = f(p, &["cold_secs", "median"]);
        let warm = f(p, &["warm_secs", "median"]);
        let rss = f(p, &["client_peak_rss_kib"]);
        let floor_cold = (2.0 * lat).max(rate_cold).max(n * cpu_cold_per / cores);
        let floor_warm = lat.max(rate_warm).max(n * cpu_warm_per / cores);
        // Growth exponent between neighbouring points: 1 is linear, below 1 better than linear.
        let exp = |key: &[&str]| {
            prev.map(|q| {
                let (a, b) = (f(q, key), f(p, key));
                (b / a).ln() / (n / f(q, &["appliances"])).ln()
            })
        };
        let cold_exp = exp(&["cold_secs", "median"]);
        let rss_exp = exp(&["client_peak_rss_kib"]);
        // Cores the sweep kept busy (client + appliances): with other work on the machine it
        // gets less than all of them, and the wall time over the CPU floor says by how much.
        let busy = (f(p, &["cold_cpu_secs", "median"])
            + f(p, &["cold_appliances_cpu_secs", "median"]))
            / cold;
        let rss_per_app =
            prev.map(|q| (rss - f(q, &["client_peak_rss_kib"])) / (n - f(q, &["appliances"])));
        let fmt_exp = |e: Option<f64>| e.map_or("-".into(), |e| format!("{e:.2}"));
        rows.push(vec![
            format!("{n}"),
            format!("{cold:.3}"),
            format!("{:.3}", cold * 1000.0 / n),
            format!("{warm:.3}"),
            format!("{floor_cold:.3}"),
            ratio(cold / floor_cold),
            format!("{busy:.2}"),
            format!("{:.0}", rss / 1024.0),
            p["client_peak_fds"].to_string(),
            fmt_exp(cold_exp),
            fmt_exp(rss_exp),
        ]);
        curve.push(json!({
            "appliances": n,
            "cold_secs": cold,
            "warm_secs": warm,
            "cold_ms_per_appliance": cold * 1000.0 / n,
            "floor_cold_secs": floor_cold,
            "floor_warm_secs": floor_warm,
            "cold_vs_floor": cold / floor_cold,
            "cold_cores_busy": busy,
            "client_peak_rss_kib": rss,
            "client_peak_fds": p["client_peak_fds"],
            "sim_hosts_peak_rss_kib_sum": p["sim_hosts_peak_rss_kib_sum"],
            "growth_exponent_cold_wall": cold_exp,
            "growth_exponent_peak_rss": rss_exp,
            "rss_kib_per_added_appliance": rss_per_app,
        }));
        prev = Some(p);
    }
    print_table(
        &format!(
            "Health sweep curve: {latency_ms} ms latency, {per_account} appliances per API account, concurrency = fleet size, appliances in separate sim-host processes"
        ),
        &[
            "appliances",
            "cold s",
            "cold ms/appl.",
            "warm s",
            "floor s",
            "cold / floor",
            "cores busy",
            "client peak RSS MiB",
            "client peak fds",
            "wall growth exp.",
            "RSS growth exp.",
        ],
        &rows,
    );
    println!(
        "floor: max(2 round trips = {:.2} s, per-account limit {rate_cold:.2} s, CPU {:.3} ms per appliance (client + appliance, cold, measured at {small_n}) × n / {cores} cores); warm CPU {:.3} ms per appliance",
        2.0 * lat,
        cpu_cold_per * 1000.0,
        cpu_warm_per * 1000.0
    );
    let failures: u64 = points.iter().filter_map(|p| p["failures"].as_u64()).sum();
    let extra: u64 = points
        .iter()
        .filter_map(|p| p["requests_beyond_expected"].as_u64())
        .sum();
    println!("failures: {failures}; requests beyond the expected (429 retries): {extra}");
    let v = json!({
        "benchmark": "fleet_health_sweep",
        "machine": machine_before,
        "machine_after": bt_dr_bench::machine(),
        "latency_ms": latency_ms,
        "appliances_per_account": per_account,
        "client_rate_limit_per_account": "20 requests/s, burst 20 (ClientBuilder default)",
        "cpu_ms_per_appliance_cold": cpu_cold_per * 1000.0,
        "cpu_ms_per_appliance_warm": cpu_warm_per * 1000.0,
        "cores": cores,
        "curve": curve,
        "points": points,
        "failures": failures,
        "requests_beyond_expected": extra,
    });
    bt_dr_bench::write_json(&out, &v)?;
    if failures > 0 {
        return Err(format!("{failures} health checks failed"));
    }
    Ok(v)
}
