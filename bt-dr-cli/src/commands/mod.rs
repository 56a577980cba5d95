//! One module per subcommand. Each parses its flags, calls bt-dr-core and maps the result to
//! an [`Exit`](crate::exit::Exit); none of them decides anything the core decides.

pub mod audit;
pub mod backup;
pub mod cert;
pub mod docs;
pub mod failover;
pub mod health;
pub mod prune;
pub mod runbook;
pub mod sim;
pub mod verify;

use bt_dr_core::Severity;

/// A `--fail-on` threshold: the core's [`Severity`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Warnings and above.
    Warning,
    /// Errors and above.
    Error,
    /// Critical findings only.
    Critical,
}

impl FailOn {
    /// The core severity this threshold starts at.
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
            FailOn::Critical => Severity::Critical,
        }
    }

    /// Whether `worst` reaches this threshold.
    pub fn reached_by(self, worst: Option<Severity>) -> bool {
        worst.is_some_and(|w| w >= self.severity())
    }
}

/// Parses a `--concurrency` value: a whole number from 1 to 1024.
pub fn concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err("a whole number from 1 to 1024".into()),
    }
}

/// Waits for Ctrl-C, or SIGTERM (what systemd and `kill` send).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
