//! How results reach the operator: JSON or tables on stdout, log lines and progress on stderr.
//!
//! Progress bars are drawn only when stderr is a terminal (and not `--quiet`); under cron,
//! systemd or a pipe the same events become plain log lines, so a journal never fills with
//! carriage returns and escape codes.

use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::context::{Context, GlobalArgs};
use crate::exit::CliError;

/// Sends tracing events to stderr: warnings by default, errors only with `-q`, info with
/// `-v`, debug with `-vv`, trace beyond.
pub fn init_logging(args: &GlobalArgs) {
    let level = if args.quiet {
        tracing::Level::ERROR
    } else {
        match args.verbose {
            0 => tracing::Level::WARN,
            1 => tracing::Level::INFO,
            2 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

/// Prints a core result's JSON form on stdout (pretty, one document).
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| bt_dr_core::Error::Internal {
        reason: format!("serialising the result: {e}"),
    })?;
    println!("{text}");
    Ok(())
}

/// Prints rows as a left-aligned table; the last column is not padded.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for r in rows {
        let _ = writeln!(out, "{}", line(r.iter().map(String::as_str).collect()));
    }
}

/// Where progress goes for this run.
#[derive(Debug, Clone)]
pub struct Reporter {
    bars: Option<MultiProgress>,
    quiet: bool,
}

impl Reporter {
    /// Bars when stderr is a terminal and not `--quiet`; plain lines otherwise (none with
    /// `--quiet`).
    pub fn new(ctx: &Context) -> Self {
        let quiet = ctx.args.quiet;
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Reporter { bars, quiet }
    }

    /// Bars are drawn.
    pub fn is_interactive(&self) -> bool {
        self.bars.is_some()
    }

    /// A plain status line on stderr (suspended around the bars when they are drawn).
    pub fn line(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(m) => m.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
    }

    /// A counting bar of `len` steps (a sweep over sites); hidden when not interactive.
    pub fn counter(&self, len: u64, what: &str) -> ProgressBar {
        match &self.bars {
            Some(m) => {
                let pb = m.add(ProgressBar::new(len));
                pb.set_style(
                    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                pb.set_prefix(what.to_string());
                pb
            }
            None => ProgressBar::hidden(),
        }
    }

    /// A byte bar for one download; hidden when not interactive.
    pub fn bytes(&self, label: &str) -> ProgressBar {
        match &self.bars {
            Some(m) => {
                let pb = m.add(ProgressBar::new(0));
                pb.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                pb.set_prefix(label.to_string());
                pb
            }
            None => ProgressBar::hidden(),
        }
    }
}
