//! `bt-dr-bench-download`: the Rust row of the download benchmark. It does nothing but what a
//! user's program would do to fetch a backup: build a client, take a token, and stream the
//! backup to disk with SHA-256 through `Client::download_backup`. Kept apart from the driver
//! and the simulator so `/usr/bin/time -v` sees only the client's memory.
//!
//! ```text
//! BT_DR_SECRET=... bt-dr-bench-download <base_url> <ca_pem_path> <client_id> <dir>
//! ```
//! Prints one JSON line: `{"bytes", "sha256", "path", "secs"}`. With `BT_DR_BENCH_LOG=1` the
//! core's account of the disk side (`bt_dr_core::writeback`: time hashing, writing, waiting for
//! the disk, the pacing's window, budget and observed disk rate) goes to stderr.

use std::process::ExitCode;
use std::time::Instant;

use bt_dr_core::SecretString;
use bt_dr_core::api::{BackupOptions, Client};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, ca, client_id, dir] = args.as_slice() else {
        eprintln!(
            "usage: BT_DR_SECRET=... bt-dr-bench-download <base_url> <ca_pem> <client_id> <dir>"
        );
        return ExitCode::from(2);
    };
    let Ok(secret) = std::env::var("BT_DR_SECRET") else {
        eprintln!("bt-dr-bench-download: BT_DR_SECRET is not set");
        return ExitCode::from(2);
    };
    // `BT_DR_BENCH_RUNTIME=current_thread` picks tokio's single-threaded runtime instead of
    // the multi-threaded one `#[tokio::main]` gives (for comparing the two).
    let flavor = std::env::var("BT_DR_BENCH_RUNTIME").unwrap_or_default();
    let mut builder = if flavor == "current_thread" {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bt-dr-bench-download: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("BT_DR_BENCH_LOG").is_some() {
        use tracing_subscriber::layer::SubscriberExt;
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .finish()
            .with(
                tracing_subscriber::filter::Targets::new()
                    .with_target("bt_dr_core::writeback", tracing::Level::DEBUG),
            );
        let _ = tracing::subscriber::set_global_default(sub);
    }
    let started = Instant::now();
    let result = rt.block_on(async {
        let pem = std::fs::read(ca).map_err(|e| bt_dr_core::Error::io("reading", ca, e))?;
        let client = Client::builder(url)
            .credentials(client_id, SecretString::from(secret))
            .extra_ca_pem(pem)
            .only_extra_ca(true)
            .build()?;
        client.download_backup(dir, BackupOptions::default()).await
    });
    match result {
        Ok(d) => {
            println!(
                "{}",
                serde_json::json!({
                    "bytes": d.file.size,
                    "sha256": d.file.sha256,
                    "path": d.file.path,
                    "sidecar": d.sidecar_path,
                    "secs": started.elapsed().as_secs_f64(),
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bt-dr-bench-download: {e}");
            ExitCode::FAILURE
        }
    }
}
