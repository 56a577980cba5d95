//! `bt-dr`: the operator's front door to bt-dr-core.
//!
//! The command holds no disaster-recovery logic of its own: every decision is a call into
//! bt-dr-core (or the simulator crate for `bt-dr sim`). This crate parses flags, reads secrets
//! (environment, `--secret-file` or a prompt, never argv), prints the core's results and maps
//! them to the exit codes of [`exit::Exit`].

mod commands;
mod context;
mod exit;
mod metrics;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Disaster recovery for BeyondTrust Remote Support and Privileged Remote Access sites.
///
/// Exit codes: 0 ok, 1 findings at or above the threshold, 2 usage, 3 partial (some sites
/// failed while others succeeded), 11-28 a bt-dr error (10 + the error kind's status code).
/// Secrets come from environment variables, --secret-file or a prompt; never from argv.
#[derive(Debug, Parser)]
#[command(name = "bt-dr", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: context::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Health of every appliance of every (or one) site, asked concurrently.
    Health(commands::health::HealthArgs),
    /// The nightly job: a backup set of every (or one) site into the store.
    Backup(commands::backup::BackupArgs),
    /// Re-hash backup sets in the store against their manifests.
    Verify(commands::verify::VerifyArgs),
    /// Remove old backup sets by a retention policy (restic-style keep rules).
    Prune(commands::prune::PruneArgs),
    /// The readiness audit: backups, certificates, records, pairs, live state.
    Audit(commands::audit::AuditArgs),
    /// The recovery runbook of a site, as Markdown.
    Runbook(commands::runbook::RunbookArgs),
    /// Certificate bundle checks.
    #[command(subcommand)]
    Cert(commands::cert::CertCommand),
    /// Fail a site over to its backup appliance: plan (dry run) or execute.
    #[command(subcommand)]
    Failover(commands::failover::FailoverCommand),
    /// Prometheus metrics: a textfile for node_exporter, or a /metrics endpoint.
    Metrics(metrics::MetricsArgs),
    /// Run a simulated failover pair on loopback (for trying bt-dr out, and for tests).
    Sim(commands::sim::SimArgs),
    /// Shell completion script on stdout.
    Completions(commands::docs::CompletionsArgs),
    /// Manual pages (roff) on stdout, or one file per command into --out DIR.
    Man(commands::docs::ManArgs),
}

/// The clap command tree, for completions and manual pages.
pub(crate) fn cli_command() -> clap::Command {
    Cli::command()
}

fn main() -> ExitCode {
    // `bt-dr audit | head` must end quietly, as other Unix tools do, not panic on EPIPE.
    #[cfg(unix)]
    // SAFETY: called first thing, before any other thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    output::init_logging(&cli.global);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bt-dr: cannot start the async runtime: {e}");
            return exit::Exit::Error(bt_dr_core::ErrorKind::Internal).into();
        }
    };
    let ctx = context::Context::new(cli.global);
    let result = rt.block_on(async {
        match cli.command {
            Command::Health(a) => commands::health::run(a, &ctx).await,
            Command::Backup(a) => commands::backup::run(a, &ctx).await,
            Command::Verify(a) => commands::verify::run(a, &ctx),
            Command::Prune(a) => commands::prune::run(a, &ctx),
            Command::Audit(a) => commands::audit::run(a, &ctx).await,
            Command::Runbook(a) => commands::runbook::run(a, &ctx),
            Command::Cert(c) => commands::cert::run(c, &ctx),
            Command::Failover(c) => commands::failover::run(c, &ctx).await,
            Command::Metrics(a) => metrics::run(a, &ctx).await,
            Command::Sim(a) => commands::sim::run(a, &ctx).await,
            Command::Completions(a) => commands::docs::completions(a),
            Command::Man(a) => commands::docs::man(a),
        }
    });
    // Background tasks (a sim's servers, progress ticks) must not keep the process alive.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("bt-dr: {e}");
            e.exit().into()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        // clap's own checks: unique names, valid defaults, no flag clashes with globals.
        super::cli_command().debug_assert();
    }
}
