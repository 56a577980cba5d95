//! Simulated appliances hosted in child processes (`bt-dr-bench sim-host`).
//!
//! Every `Sim::start_single` holds two listening sockets (the appliance and its site address)
//! and one accepted socket per client connection. 10,000 appliances and their clients in one
//! process would need about 40,000 file descriptors, twice the hard `RLIMIT_NOFILE` of the
//! benchmark machine (20,000). Hosting the appliances in a few child processes keeps each
//! process under the limit, and keeps the simulators' memory and CPU out of the numbers of the
//! process being measured, which only holds the clients.
//!
//! Protocol: the host prints one JSON line (`setup_secs`, `appliances`: url, CA PEM, account)
//! once every appliance listens, then answers each `stats` line on standard input with one
//! JSON line (request counts, CPU seconds, peak RSS, open fds). End of input stops it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use bt_dr_sim::{Account, Endpoint, Sim, SimConfig};
use serde_json::{Value, json};

use bt_dr_bench::Opts;

/// The secret of every simulated account (a simulator's, never a real one's).
pub const SECRET: &str = "bench-fleet-secret-0123456789";

/// One appliance of a host, as the host announced it.
#[derive(Debug, Clone)]
pub struct Hosted {
    /// Base URL.
    pub url: String,
    /// The CA its certificate chains to.
    pub ca_pem: String,
    /// API account id.
    pub account: String,
    /// Site host name (`site-NNNN.example.com`).
    pub site_hostname: String,
    /// Product version it reports.
    pub version: String,
    /// Size of its backup in bytes.
    pub backup_size: u64,
}

/// What the host process is asked to start.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// Global index of its first appliance.
    pub first: usize,
    /// How many appliances.
    pub count: usize,
    /// Latency added to every request.
    pub latency_ms: u64,
    /// Appliances per API account (read-only accounts `acct-NNNN`); 0 gives every appliance
    /// a full-access account of its own (`site-NNNN`), as the backup job needs.
    pub per_account: usize,
    /// Backup sizes are spread over `[min, max]` bytes.
    pub backup_min: u64,
    /// See `backup_min`.
    pub backup_max: u64,
    /// Sessions with recordings each appliance reports.
    pub sessions: u32,
}

impl HostSpec {
    fn args(&self) -> Vec<String> {
        [
            ("first", self.first as u64),
            ("count", self.count as u64),
            ("latency-ms", self.latency_ms),
            ("per-account", self.per_account as u64),
            ("backup-min", self.backup_min),
            ("backup-max", self.backup_max),
            ("sessions", u64::from(self.sessions)),
        ]
        .iter()
        .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
        .collect()
    }

    fn from_opts(o: &Opts) -> Result<Self, String> {
        Ok(Self {
            first: o.num_or("first", 0)?,
            count: o.num_or("count", 1)?,
            latency_ms: o.num_or("latency-ms", 0)?,
            per_account: o.num_or("per-account", 0)?,
            backup_min: o.num_or("backup-min", 64 * 1024)?,
            backup_max: o.num_or("backup-max", 64 * 1024)?,
            sessions: o.num_or("sessions", 0)?,
        })
    }

    /// Account of global appliance `i`.
    pub fn account(&self, i: usize) -> String {
        match i.checked_div(self.per_account) {
            None => format!("site-{i:04}"),
            Some(a) => format!("acct-{a:04}"),
        }
    }

    /// Backup size of local appliance `k`: spread evenly over the range, in a shuffled order
    /// so that neighbouring sites differ.
    pub fn backup_size(&self, k: usize) -> u64 {
        let span = self.backup_max.saturating_sub(self.backup_min);
        if span == 0 || self.count < 2 {
            return self.backup_min;
        }
        let step = (k * 7919) % self.count;
        self.backup_min + span * step as u64 / (self.count as u64 - 1)
    }
}

/// `bt-dr-bench sim-host`: runs the appliances of a [`HostSpec`] until standard input ends.
pub fn serve(o: &Opts) -> Result<Value, String> {
    let spec = HostSpec::from_opts(o)?;
    crate::procstat::raise_nofile()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let sims = rt.block_on(async {
        let mut sims = Vec::with_capacity(spec.count);
        for k in 0..spec.count {
            let i = spec.first + k;
            let account = spec.account(i);
            let access = if spec.per_account == 0 {
                Account::full_access(&account, SECRET)
            } else {
                Account::read_only(&account, SECRET)
            };
            let cfg = SimConfig {
                latency: Duration::from_millis(spec.latency_ms),
                accounts: vec![access],
                site_hostname: format!("site-{i:04}.example.com"),
                backup_size: spec.backup_size(k),
                sessions: spec.sessions,
                ..Default::default()
            };
            sims.push(
                Sim::start_single(cfg)
                    .await
                    .map_err(|e| format!("starting appliance {i}: {e}"))?,
            );
        }
        Ok::<_, String>(sims)
    })?;
    let appliances: Vec<Value> = sims
        .iter()
        .enumerate()
        .map(|(k, s)| {
            json!({
                "url": s.primary().url(),
                "ca_pem": s.ca_pem(),
                "account": spec.account(spec.first + k),
                "site_hostname": s.config().site_hostname,
                "version": s.config().version,
                "backup_size": s.config().backup_size,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let line = json!({"setup_secs": t.elapsed().as_secs_f64(), "appliances": appliances});
    writeln!(out, "{line}").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    for l in std::io::stdin().lock().lines() {
        let l = l.map_err(|e| e.to_string())?;
        if l.trim() != "stats" {
            continue;
        }
        let count = |e: Endpoint| {
            sims.iter()
                .map(|s| s.primary().request_count(e))
                .sum::<u64>()
        };
        let stats = json!({
            "requests": {
                "token": count(Endpoint::Token),
                "command": count(Endpoint::Command),
                "backup": count(Endpoint::Backup),
                "reporting": count(Endpoint::Reporting),
                "any": count(Endpoint::Any),
            },
            "cpu_secs": crate::procstat::cpu_secs(),
            "hwm_kib": crate::procstat::hwm_kib(),
            "fds": crate::procstat::fd_count(),
        });
        writeln!(out, "{stats}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    rt.block_on(async {
        for s in sims {
            s.shutdown().await;
        }
    });
    Ok(Value::Null)
}

/// A running `sim-host` child; stopped (end of input, then kill) on drop.
pub struct SimHost {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Its appliances, once [`SimHost::ready`] returned.
    pub appliances: Vec<Hosted>,
    /// How long it took to start them.
    pub setup_secs: f64,
}

impl SimHost {
    /// Starts `exe sim-host` for `spec`; [`SimHost::ready`] waits for its appliances.
    pub fn spawn(exe: &Path, spec: &HostSpec) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .arg("sim-host")
            .args(spec.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {} sim-host: {e}", exe.display()))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("sim-host has no stdout")?);
        Ok(Self {
            child,
            stdin,
            stdout,
            appliances: Vec::new(),
            setup_secs: 0.0,
        })
    }

    fn line(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading from sim-host: {e}"))?;
        if n == 0 {
            return Err("sim-host ended early (see its error above)".into());
        }
        serde_json::from_str(line.trim()).map_err(|e| format!("sim-host printed bad JSON: {e}"))
    }

    /// Waits until every appliance listens.
    pub fn ready(&mut self) -> Result<(), String> {
        let v = self.line()?;
        self.setup_secs = v["setup_secs"].as_f64().unwrap_or(0.0);
        let s = |a: &Value, k: &str| a[k].as_str().unwrap_or_default().to_string();
        self.appliances = v["appliances"]
            .as_array()
            .ok_or("sim-host listed no appliances")?
            .iter()
            .map(|a| Hosted {
                url: s(a, "url"),
                ca_pem: s(a, "ca_pem"),
                account: s(a, "account"),
                site_hostname: s(a, "site_hostname"),
                version: s(a, "version"),
                backup_size: a["backup_size"].as_u64().unwrap_or(0),
            })
            .collect();
        Ok(())
    }

    /// Request counts, CPU seconds, peak RSS and fds of the host so far.
    pub fn stats(&mut self) -> Result<HostStats, String> {
        let stdin = self.stdin.as_mut().ok_or("sim-host input is closed")?;
        writeln!(stdin, "stats").map_err(|e| format!("writing to sim-host: {e}"))?;
        stdin.flush().map_err(|e| e.to_string())?;
        let v = self.line()?;
        let r = |k: &str| v["requests"][k].as_u64().unwrap_or(0);
        Ok(HostStats {
            token: r("token"),
            command: r("command"),
            backup: r("backup"),
            reporting: r("reporting"),
            any: r("any"),
            cpu_secs: v["cpu_secs"].as_f64().unwrap_or(0.0),
            hwm_kib: v["hwm_kib"].as_u64().unwrap_or(0),
            fds: v["fds"].as_u64().unwrap_or(0),
        })
    }
}

impl Drop for SimHost {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `stats` answer.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct HostStats {
    /// `POST /oauth2/token` requests.
    pub token: u64,
    /// `/api/command` requests.
    pub command: u64,
    /// `/api/backup` requests.
    pub backup: u64,
    /// `/api/reporting` requests.
    pub reporting: u64,
    /// Every request.
    pub any: u64,
    /// CPU seconds the host used so far.
    pub cpu_secs: f64,
    /// Its peak RSS, KiB.
    pub hwm_kib: u64,
    /// Its open file descriptors.
    pub fds: u64,
}

impl HostStats {
    /// Sum over hosts.
    pub fn sum(all: &[HostStats]) -> HostStats {
        all.iter().fold(HostStats::default(), |a, s| HostStats {
            token: a.token + s.token,
            command: a.command + s.command,
            backup: a.backup + s.backup,
            reporting: a.reporting + s.reporting,
            any: a.any + s.any,
            cpu_secs: a.cpu_secs + s.cpu_secs,
            hwm_kib: a.hwm_kib + s.hwm_kib,
            fds: a.fds + s.fds,
        })
    }

    /// `self - earlier` for the counters and CPU (peaks are kept).
    pub fn since(&self, earlier: &HostStats) -> HostStats {
        HostStats {
            token: self.token - earlier.token,
            command: self.command - earlier.command,
            backup: self.backup - earlier.backup,
            reporting: self.reporting - earlier.reporting,
            any: self.any - earlier.any,
            cpu_secs: self.cpu_secs - earlier.cpu_secs,
            hwm_kib: self.hwm_kib,
            fds: self.fds,
        }
    }
}

/// Starts `hosts` sim-host children splitting `spec` (all spawned first, so they start their
/// appliances in parallel) and waits for all of them.
pub fn start_hosts(exe: &Path, spec: &HostSpec, hosts: usize) -> Result<Vec<SimHost>, String> {
    let hosts = hosts.clamp(1, spec.count.max(1));
    let per = spec.count.div_ceil(hosts);
    let mut out = Vec::with_capacity(hosts);
    let mut first = spec.first;
    let end = spec.first + spec.count;
    while first < end {
        let count = per.min(end - first);
        let mut s = spec.clone();
        s.first = first;
        s.count = count;
        out.push(SimHost::spawn(exe, &s)?);
        first += count;
    }
    for h in &mut out {
        h.ready()?;
    }
    Ok(out)
}

/// Stats of every host, summed.
pub fn stats_of(hosts: &mut [SimHost]) -> Result<HostStats, String> {
    let all = hosts
        .iter_mut()
        .map(SimHost::stats)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HostStats::sum(&all))
}
