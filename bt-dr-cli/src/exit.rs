//! Exit codes: the contract scripts, cron and systemd rely on. Documented in the README's
//! "Exit codes" table; a change here is a breaking change.

use std::process::ExitCode;

use bt_dr_core::{Error, ErrorKind};

/// How a command ended, before it becomes a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done and nothing reached the `--fail-on` threshold.
    Ok,
    /// The command worked, but findings at or above the threshold were reported (audit,
    /// health, cert check, failover plan refused).
    Findings,
    /// Some sites or parts failed while others succeeded (a partial backup job, say); every
    /// part that succeeded was kept.
    Partial,
    /// The command line or an input file was wrong (clap's own usage errors also exit 2).
    Usage,
    /// The command failed with a bt-dr error of this kind.
    Error(ErrorKind),
}

impl Exit {
    /// The process exit code: 0 ok, 1 findings, 2 usage, 3 partial, 10 + the C status code
    /// of the error kind (11 invalid input … 28 internal).
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Findings => 1,
            Exit::Usage => 2,
            Exit::Partial => 3,
            Exit::Error(kind) => 10 + kind.status() as u8,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// A command's failure: a core error (keeps its kind) or a usage problem found by the command.
#[derive(Debug)]
pub enum CliError {
    /// From bt-dr-core; the exit code follows its kind.
    Core(Error),
    /// A usage problem clap could not see (a missing `--store`, an unknown site name).
    Usage(String),
}

impl CliError {
    /// The exit status this failure ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Core(e) => Exit::Error(e.kind()),
            CliError::Usage(_) => Exit::Usage,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{} ({})", e, e.kind().code()),
            CliError::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

/// What every command returns.
pub type CliResult = Result<Exit, CliError>;
