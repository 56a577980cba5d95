//! Every integration test of the `bt-dr` command, linked into one binary.
//!
//! One binary instead of one per file: each test binary links the whole dependency graph, so
//! one per file cost CI disk and link time. Each file is still a module with its own simulated
//! pair; run one with `cargo test -p bt-dr-cli --test cli -- cli_failover::`.

mod cli_common;

mod cli_backup_job;
mod cli_commands;
mod cli_failover;
mod cli_sim;
#[cfg(unix)]
mod cli_tty;
mod metrics_e2e;
