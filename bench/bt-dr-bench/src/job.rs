//! Item 4 of issue 16: the nightly job at scale — `run_backup_job` over many simulated sites
//! with small backups, at several concurrencies.
//!
//! The sites run in one `sim-host` child (their memory and descriptors are not the job's);
//! each has a full-access API account of its own, so the per-account rate limit (20 requests/s,
//! burst 20) only binds when a site makes more than 20 requests. Every concurrency gets a new
//! store and new clients (cold tokens). Measured in this process: wall time, peak RSS (VmHWM,
//! reset before each run), peak open descriptors (sampled from `/proc/self/fd` every 10 ms).
//! Afterwards every set is checked: the job says complete and `verify_backup_set` agrees.
//!
//! The bound a concurrency `c` sets: `ceil(sites / c)` waves of one site's round trips
//! (requests per site × latency); the transfer of small backups on loopback adds little.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bt_dr_core::api::{Client, RetryPolicy};
use bt_dr_core::{
    BackupSetOptions, BackupStore, JobSite, SecretString, Site, run_backup_job, verify_backup_set,
};
use serde_json::{Value, json};

use crate::procstat::{self, Sampler};
use crate::simhost::{self, HostSpec, Hosted, SECRET};
use bt_dr_bench::{Opts, print_table, ratio};

/// A single-appliance site for a hosted appliance.
pub fn site_of(i: usize, a: &Hosted) -> Result<Site, String> {
    let site: Site = serde_json::from_value(json!({
        "name": format!("site-{i:04}"),
        "fqdn": a.site_hostname,
        "product": "rs",
        "version": a.version,
        "appliances": [{
            "hostname": format!("bt-{i:04}.example.com"),
            "kind": "vmware",
            "ip": "127.0.0.1",
            "api_url": a.url,
        }],
    }))
    .map_err(|e| format!("site {i}: {e}"))?;
    site.validate().map_err(|e| format!("site {i}: {e}"))?;
    Ok(site)
}

/// Jobs (site, fresh client, options without recordings unless asked) for hosted appliances.
pub fn jobs_of(apps: &[Hosted], recordings: bool) -> Result<Vec<JobSite>, String> {
    apps.iter()
        .enumerate()
        .map(|(i, a)| {
            let site = site_of(i, a)?;
            let client = Client::builder(&a.url)
                .credentials(&a.account, SecretString::from(SECRET))
                .extra_ca_pem(a.ca_pem.as_bytes().to_vec())
                .only_extra_ca(true)
                .site_name(&site.name)
                .retry_policy(RetryPolicy::default())
                .build()
                .map_err(|e| format!("client {i}: {e}"))?;
            Ok(JobSite {
                site,
                client,
                options: BackupSetOptions {
                    recordings,
                    ..Default::default()
                },
            })
        })
        .collect()
}

/// Checks every set of a job's store: `(sets verified ok, files, bytes, first problem)`.
pub fn verify_all(paths: &[PathBuf]) -> (usize, usize, u64, Option<String>) {
    let mut ok = 0;
    let (mut files, mut bytes) = (0, 0);
    let mut first = None;
    for p in paths {
        match verify_backup_set(p) {
            Ok(r) if r.ok() && !r.partial => {
                ok += 1;
                files += r.files_checked;
                bytes += r.bytes_checked;
            }
            Ok(r) => {
                first.get_or_insert_with(|| format!("{}: {:?}", p.display(), r.problems));
            }
            Err(e) => {
                first.get_or_insert_with(|| format!("{}: {e}", p.display()));
            }
        }
    }
    (ok, files, bytes, first)
}

fn fresh_dir(p: &Path) -> Result<(), String> {
    if p.exists() {
        std::fs::remove_dir_all(p).map_err(|e| format!("removing {}: {e}", p.display()))?;
    }
    std::fs::create_dir_all(p).map_err(|e| format!("creating {}: {e}", p.display()))
}

/// `bt-dr-bench job`: writes `--out` (default `target/bench/job.json`).
pub fn run(o: &Opts) -> Result<Value, String> {
    let sites: usize = o.num_or("sites", 200)?.max(1);
    let concurrencies: Vec<usize> = o
        .str_or("concurrency", "1,4,16,64")
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("--concurrency: {s:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let latency_ms: u64 = o.num_or("latency-ms", 100)?;
    let min_kib: u64 = o.num_or("min-kib", 64)?;
    let max_kib: u64 = o.num_or("max-kib", 1024)?.max(min_kib);
    let recordings = o.flag("recordings");
    let work = PathBuf::from(o.str_or("work", "target/bench/job-work"));
    let out = PathBuf::from(o.str_or("out", "target/bench/job.json"));
    let nofile = procstat::raise_nofile()?;
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let spec = HostSpec {
        first: 0,
        count: sites,
        latency_ms,
        per_account: 0,
        backup_min: min_kib * 1024,
        backup_max: max_kib * 1024,
        sessions: if recordings { 3 } else { 0 },
    };
    let machine = bt_dr_bench::machine();
    let mut hosts = simhost::start_hosts(&exe, &spec, 1)?;
    let apps: Vec<Hosted> = hosts[0].appliances.clone();
    let total_backup: u64 = apps.iter().map(|a| a.backup_size).sum();
    eprintln!(
        "  {sites} sites started in {:.1} s ({:.1} MiB of backups in all)",
        hosts[0].setup_secs,
        total_backup as f64 / 1048576.0
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut results = Vec::new();
    let mut rows = Vec::new();
    let mut all_ok = true;
    for &c in &concurrencies {
        let dir = work.join(format!("store-c{c}"));
        fresh_dir(&dir)?;
        let store = BackupStore::open(&dir).map_err(|e| e.to_string())?;
        let jobs = jobs_of(&apps, recordings)?;
        // Every site's account bucket is full again before the run.
        std::thread::sleep(Duration::from_millis(1100));
        let h0 = simhost::stats_of(&mut hosts)?;
        let hwm_reset = procstat::reset_peak_rss();
        let fds_before = procstat::fd_count();
        let sampler = Sampler::start(Duration::from_millis(10));
        let c0 = procstat::cpu_secs();
        let t = Instant::now();
        let report = rt.block_on(run_backup_job(&store, jobs, c));
        let wall = t.elapsed().as_secs_f64();
        let cpu = procstat::cpu_secs() - c0;
        let peaks = sampler.finish();
        let peak_rss = if hwm_reset {
            procstat::hwm_kib().unwrap_or(peaks.rss_kib)
        } else {
            peaks.rss_kib
        };
        let h = simhost::stats_of(&mut hosts)?.since(&h0);
        let complete = report.all_complete();
        let failed: Vec<String> = report
            .failed()
            .map(|s| {
                format!(
                    "{}: {}",
                    s.site,
                    s.error.as_ref().map_or("?".into(), |e| e.message.clone())
                )
            })
            .collect();
        let paths: Vec<PathBuf> = report
            .sites
            .iter()
            .filter_map(|s| s.report.as_ref().map(|r| r.path.clone()))
            .collect();
        let (verified, files, bytes, problem) = verify_all(&paths);
        let per_site = h.any as f64 / sites as f64;
        let waves = sites.div_ceil(c.max(1)) as f64;
        let bound = waves * per_site * latency_ms as f64 / 1000.0;
        let ok = complete && verified == sites;
        all_ok &= ok;
        eprintln!(
            "  concurrency {c}: {wall:.2} s (latency bound {bound:.2} s), peak RSS {:.1} MiB, peak fds {}, {verified}/{sites} sets verified",
            peak_rss as f64 / 1024.0,
            peaks.fds
        );
        if let Some(p) = &problem {
            eprintln!("  first problem: {p}");
        }
        if let Some(f) = failed.first() {
            eprintln!("  first failed site: {f}");
        }
        rows.push(vec![
            c.to_string(),
            format!("{wall:.2}"),
            format!("{bound:.2}"),
            ratio(wall / bound),
            format!("{:.1}", peak_rss as f64 / 1024.0),
            format!("{}", peaks.fds),
            format!("{per_site:.1}"),
            format!("{verified}/{sites}"),
        ]);
        results.push(json!({
            "concurrency": c,
            "wall_secs": wall,
            "latency_bound_secs": bound,
            "wall_vs_bound": wall / bound,
            "client_cpu_secs": cpu,
            "appliances_cpu_secs": h.cpu_secs,
            "peak_rss_kib": peak_rss,
            "peak_rss_is_vmhwm_reset_per_run": hwm_reset,
            "fds_before": fds_before,
            "peak_fds": peaks.fds,
            "requests": {"token": h.token, "command": h.command, "backup": h.backup,
                         "reporting": h.reporting, "any": h.any},
            "requests_per_site": per_site,
            "all_complete": complete,
            "failed_sites": failed,
            "sets_verified": verified,
            "files_verified": files,
            "bytes_verified": bytes,
            "first_problem": problem,
        }));
        drop(report);
        std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    drop(hosts);
    print_table(
        &format!(
            "run_backup_job over {sites} simulated sites ({min_kib} KiB..{max_kib} KiB backups, {:.1} MiB in all{}), {latency_ms} ms latency, one API account per site, store in {}",
            total_backup as f64 / 1048576.0,
            if recordings { ", with recordings" } else { "" },
            work.display()
        ),
        &[
            "concurrency",
            "wall s",
            "latency bound s",
            "wall / bound",
            "peak RSS MiB",
            "peak fds",
            "requests/site",
            "sets verified",
        ],
        &rows,
    );
    let v = json!({
        "benchmark": "backup_job",
        "machine": machine,
        "machine_after": bt_dr_bench::machine(),
        "sites": sites,
        "latency_ms": latency_ms,
        "backup_bytes_min": min_kib * 1024,
        "backup_bytes_max": max_kib * 1024,
        "backup_bytes_total": total_backup,
        "recordings": recordings,
        "store_under": work.display().to_string(),
        "accounts": "one full-access account per site; client limiter 20 requests/s, burst 20",
        "nofile_soft_hard": [nofile.0, nofile.1],
        "results": results,
        "all_sets_verified": all_ok,
    });
    bt_dr_bench::write_json(&out, &v)?;
    if !all_ok {
        return Err("some sets are missing, partial or did not verify".into());
    }
    Ok(v)
}
