//! `bt-dr completions SHELL` and `bt-dr man`: generated from the clap command tree, so they
//! never drift from the flags.

use std::path::PathBuf;

use bt_dr_core::Error;
use clap_complete::Shell;

use crate::exit::{CliResult, Exit};

/// `bt-dr completions` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `bt-dr man` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ManArgs {
    /// Write bt-dr.1 and one page per subcommand into this directory instead of printing
    /// the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script.
pub fn completions(args: CompletionsArgs) -> CliResult {
    let mut cmd = crate::cli_command();
    clap_complete::generate(args.shell, &mut cmd, "bt-dr", &mut std::io::stdout());
    Ok(Exit::Ok)
}

/// Prints or writes the manual pages.
pub fn man(args: ManArgs) -> CliResult {
    let cmd = crate::cli_command();
    match args.out {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io("creating the manual page folder", &dir, e))?;
            clap_mangen::generate_to(cmd, &dir)
                .map_err(|e| Error::io("writing manual pages", &dir, e))?;
        }
        None => {
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("writing the manual page", "<stdout>", e))?;
        }
    }
    Ok(Exit::Ok)
}
