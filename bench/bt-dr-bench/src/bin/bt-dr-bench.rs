//! `bt-dr-bench`: the benchmark driver of issue 8. Run from the repository root.
//!
//! ```text
//! bt-dr-bench download [--sizes 268435456,2147483648] [--reps 5] [--reps-large 3]
//!                      [--python-requests PY] [--python-bt-dr PY | --python-bt-dr-missing REASON]
//! bt-dr-bench sweep    [--appliances 1000] [--per-account 10] [--latency-ms 100] [--sequential N]
//! bt-dr-bench certs    [--count 1000] [--dir target/bench/p12]
//! bt-dr-bench criterion-report [--criterion-dir target/bench/criterion]
//! bt-dr-bench summary [--dir target/bench]
//! bt-dr-bench fleet    [--sizes 100,1000,10000] [--per-account 10] [--latency-ms 100] [--reps 3]
//!                      [--reps-large 2] [--per-host 2500]
//! bt-dr-bench job      [--sites 200] [--concurrency 1,4,16,64] [--latency-ms 100]
//!                      [--min-kib 64] [--max-kib 1024] [--recordings] [--work DIR]
//! bt-dr-bench verify   [--sets 20] [--size-mib 512] [--reps 3] [--work DIR] [--scripts DIR]
//! ```
//! Each prints a table and writes a JSON file under `target/bench/` (`--out` to change it).
//! `fleet-point` (one point of the fleet curve) and `sim-host` (simulated appliances in a
//! process of their own) are the children `fleet`, `job` and `verify` start.

use std::process::ExitCode;

use bt_dr_bench::Opts;

// The fleet-scale benchmarks of issue 16 (items 3–5) and their helpers live next to the
// library's modules but belong to this binary.
#[path = "../fleet.rs"]
mod fleet;
#[path = "../job.rs"]
mod job;
#[path = "../procstat.rs"]
mod procstat;
#[path = "../simhost.rs"]
mod simhost;
#[path = "../verify.rs"]
mod verify;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let opts = match Opts::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bt-dr-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let r = match cmd.as_str() {
        "download" => bt_dr_bench::download::run(&opts),
        "sweep" => bt_dr_bench::sweep::run(&opts),
        "certs" => bt_dr_bench::certs::run(&opts),
        "criterion-report" => bt_dr_bench::criterion_report::run(&opts),
        "summary" => bt_dr_bench::summary::run(&opts),
        "fleet" => fleet::run(&opts),
        "fleet-point" => fleet::run_point(&opts),
        "job" => job::run(&opts),
        "verify" => verify::run(&opts),
        "sim-host" => simhost::serve(&opts),
        _ => {
            eprintln!(
                "usage: bt-dr-bench download|sweep|certs|criterion-report|summary|fleet|job|verify [--option value]..."
            );
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bt-dr-bench {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
