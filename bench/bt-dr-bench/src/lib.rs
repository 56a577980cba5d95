//! Helpers shared by the bt-dr benchmarks (issue 8): running a peer under `/usr/bin/time -v`,
//! the simulator as a separate process, simple statistics, tables and JSON result files, and
//! the PKCS#12 key-derivation floor.
//!
//! The benchmarks themselves live in `src/bin/bt-dr-bench.rs` (download, health sweep,
//! certificate audit) and `benches/parsers.rs` (Criterion micro-benchmarks).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod certs;
pub mod criterion_report;
pub mod download;
pub mod kdf;
pub mod summary;
pub mod sweep;

/// Command-line options as `--key value` pairs (and bare `--flag`s, stored as `"true"`).
#[derive(Debug, Default, Clone)]
pub struct Opts {
    map: BTreeMap<String, String>,
}

impl Opts {
    /// Parses `--key value` / `--key=value` / `--flag` arguments.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        let mut it = args.into_iter().peekable();
        while let Some(a) = it.next() {
            let Some(key) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument {a:?}"));
            };
            if let Some((k, v)) = key.split_once('=') {
                map.insert(k.to_string(), v.to_string());
            } else if it.peek().is_some_and(|n| !n.starts_with("--")) {
                let v = it.next().unwrap_or_default();
                map.insert(key.to_string(), v);
            } else {
                map.insert(key.to_string(), "true".to_string());
            }
        }
        Ok(Self { map })
    }

    /// A string option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// A string option with a default.
    pub fn str_or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_string()
    }

    /// A number option with a default.
    pub fn num_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key} needs a number, got {v:?}")),
        }
    }

    /// A flag.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v != "false" && v != "0")
    }
}

/// Median, min, max and mean of a sample.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sample size.
    pub n: usize,
}

impl Stats {
    /// Statistics of `xs` (all zero for an empty sample).
    pub fn of(xs: &[f64]) -> Self {
        if xs.is_empty() {
            return Self {
                median: 0.0,
                min: 0.0,
                max: 0.0,
                mean: 0.0,
                n: 0,
            };
        }
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Self {
            median,
            min: v[0],
            max: v[n - 1],
            mean: v.iter().sum::<f64>() / n as f64,
            n,
        }
    }
}

/// One process run: wall time measured around spawn..exit, peak RSS from `/usr/bin/time -v`.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Wall time, seconds.
    pub wall_secs: f64,
    /// Peak resident set size of the process tree's largest member, KiB (`None` without GNU time).
    pub max_rss_kib: Option<u64>,
    /// User + system CPU seconds of the process and its children (`None` without GNU time).
    pub cpu_secs: Option<f64>,
    /// Standard output.
    pub stdout: String,
    /// Standard error (without GNU time's report).
    pub stderr: String,
    /// Exit status was success.
    pub ok: bool,
}

/// Path of GNU time, when installed.
pub fn gnu_time() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/time");
    p.exists().then_some(p)
}

/// Runs `argv` (with extra environment) under `/usr/bin/time -v` and measures it.
pub fn run_measured(argv: &[String], env: &[(&str, &str)], scratch: &Path) -> Measured {
    let report = scratch.join(format!("time-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let mut cmd = match gnu_time() {
        Some(t) => {
            let mut c = Command::new(t);
            c.arg("-v").arg("-o").arg(&report).args(argv);
            c
        }
        None => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    let started = Instant::now();
    let out = cmd.output();
    let wall_secs = started.elapsed().as_secs_f64();
    let (stdout, stderr, ok) = match out {
        Ok(o) => (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.status.success(),
        ),
        Err(e) => (
            String::new(),
            format!("cannot start {:?}: {e}", argv[0]),
            false,
        ),
    };
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();
    let field = |name: &str| -> Option<f64> {
        report_text
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    let max_rss_kib = field("Maximum resident set size (kbytes):").map(|k| k as u64);
    let cpu_secs = match (
        field("User time (seconds):"),
        field("System time (seconds):"),
    ) {
        (Some(u), Some(s)) => Some(u + s),
        _ => None,
    };
    let _ = std::fs::remove_file(&report);
    Measured {
        wall_secs,
        max_rss_kib,
        cpu_secs,
        stdout,
        stderr,
        ok,
    }
}

/// The `bt-dr-sim` binary running as a separate process; stopped with SIGTERM on drop.
#[derive(Debug)]
pub struct SimProcess {
    child: Child,
    /// The JSON line it printed.
    pub info: Value,
}

impl SimProcess {
    /// Starts `bin` with `args` and waits for its JSON line.
    pub fn start(bin: &Path, args: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("simulator has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("reading the simulator's JSON line: {e}"))?;
        let info: Value = serde_json::from_str(line.trim())
            .map_err(|e| format!("simulator printed {line:?}: {e}"))?;
        Ok(Self { child, info })
    }

    /// A string field of the JSON line.
    pub fn field(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_default().to_string()
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let termed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if termed {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prints a table with a header row; columns are left-aligned, numbers right-aligned.
pub fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let numeric = |s: &str| {
        s.trim_end_matches(['×', 's', '%'])
            .trim_end_matches(" ms")
            .trim_end_matches(" µs")
            .replace([',', '.', ' '], "")
            .chars()
            .all(|c| c.is_ascii_digit())
            && !s.is_empty()
    };
    println!("\n{title}");
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i].saturating_sub(c.chars().count());
                if numeric(c) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(header.iter().map(|s| s.to_string()).collect());
    println!(
        "|{}|",
        width
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        line(r.clone());
    }
}

/// CPU flags that decide the download's speed: SHA-256 and AES-GCM instructions, and the
/// vector units the hashing and TLS code may use.
const CPU_FLAGS: [&str; 5] = ["sha_ni", "aes", "avx2", "avx512f", "vaes"];

/// Facts about the machine: cores, CPU model and the flags of [`CPU_FLAGS`] it has, kernel,
/// load average, date.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags"))
        .map(|f| {
            let have: Vec<&str> = f.trim_start_matches([' ', '\t', ':']).split(' ').collect();
            CPU_FLAGS
                .iter()
                .copied()
                .filter(|c| have.contains(c))
                .collect()
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    });
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let now = time::OffsetDateTime::now_utc();
    serde_json::json!({
        "loadavg_1_5_15": loadavg,
        "nproc": cores,
        "cpu": cpu,
        "cpu_flags": flags,
        "kernel": kernel,
        "mem_total_kib": mem_kib,
        "date": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    })
}

/// One line for the head of a benchmark's output: CPU model, cores, flags, load.
pub fn machine_line(m: &Value) -> String {
    let flags: Vec<&str> = m["cpu_flags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "CPU {} ({} cores; {}), load average {}",
        m["cpu"]
            .as_str()
            .filter(|c| !c.is_empty())
            .unwrap_or("unknown"),
        m["nproc"],
        if flags.is_empty() {
            "none of sha_ni/aes/avx2/avx512f/vaes".to_string()
        } else {
            flags.join(" ")
        },
        m["loadavg_1_5_15"].as_str().unwrap_or("?")
    )
}

/// Writes a result file (pretty JSON), creating its folder.
pub fn write_json(path: &Path, v: &Value) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// `bytes / secs` in MiB/s.
pub fn mib_per_s(bytes: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        0.0
    } else {
        bytes as f64 / (1024.0 * 1024.0) / secs
    }
}

/// Human size: `256 MiB`, `2 GiB`.
pub fn human_bytes(b: u64) -> String {
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;
    if b >= GIB && b.is_multiple_of(GIB) {
        format!("{} GiB", b / GIB)
    } else if b >= MIB && b.is_multiple_of(MIB) {
        format!("{} MiB", b / MIB)
    } else if b >= 1024 && b.is_multiple_of(1024) {
        format!("{} KiB", b / 1024)
    } else {
        format!("{b} B")
    }
}

/// Ratio formatted as `1.23×`.
pub fn ratio(x: f64) -> String {
    format!("{x:.2}×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_options() {
        let s = Stats::of(&[3.0, 1.0, 2.0, 10.0]);
        assert_eq!(s.median, 2.5);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 10.0);
        let o = Opts::parse(
            ["--reps", "3", "--smoke", "--out=x.json"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap();
        assert_eq!(o.num_or("reps", 1u32).unwrap(), 3);
        assert!(o.flag("smoke"));
        assert_eq!(o.get("out"), Some("x.json"));
        assert!(Opts::parse(["bare".to_string()]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(2 << 30), "2 GiB");
        assert_eq!(human_bytes(1000), "1000 B");
    }
}
