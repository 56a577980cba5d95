//! A 2 GiB backup streams from the simulator with flat memory. Ignored by default (it moves
//! 2 GiB through TLS); run with
//! `cargo test -p bt-dr-core --test integration -- --ignored large_download`.
//! Simulator and client share this process, so the limit covers both.

use crate::common;

use bt_dr_core::api::BackupOptions;
use bt_dr_sim::Sim;
use common::*;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "moves 2 GiB; run explicitly"]
async fn two_gib_backup_with_flat_memory() {
    let size: u64 = std::env::var("BT_DR_LARGE_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2 << 30);
    let mut cfg = config();
    cfg.backup_size = size;
    let sim = Sim::start_single(cfg).await.unwrap();
    let c = client(&sim, sim.primary());
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let before = peak_rss_kib();
    let t = std::time::Instant::now();
    let d = c
        .download_backup(dir.path(), BackupOptions::default())
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_rss_kib();
    println!(
        "downloaded {} bytes in {secs:.1} s ({:.0} MiB/s); peak RSS {} MiB (before {} MiB)",
        d.file.size,
        d.file.size as f64 / secs / 1048576.0,
        peak / 1024,
        before / 1024
    );
    assert_eq!(d.file.size, size);
    assert_eq!(
        d.file.sha256,
        bt_dr_sim::expected_backup_sha256_hex(sim.config())
    );
    assert!(peak < 64 * 1024, "peak RSS {} MiB", peak / 1024);
}
