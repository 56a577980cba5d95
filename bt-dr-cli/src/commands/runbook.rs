//! `bt-dr runbook SITE`: the core's `render_runbook`, with the store's latest set when given.

use std::path::PathBuf;

use bt_dr_core::{render_runbook, write_atomic};

use crate::context::Context;
use crate::exit::{CliResult, Exit};
use crate::output::print_json;

/// `bt-dr runbook` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct RunbookArgs {
    /// The site, by its inventory name.
    pub site: String,
    /// The vendor's supported-upgrade table (TOML or JSON) for the restore steps.
    #[arg(long, value_name = "FILE")]
    pub upgrade_table: Option<PathBuf>,
    /// Write the runbook to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The JSON form: the Markdown with the site it is for.
#[derive(Debug, serde::Serialize)]
struct RunbookJson<'a> {
    site: &'a str,
    markdown: &'a str,
}

/// Runs `bt-dr runbook`.
pub fn run(args: RunbookArgs, ctx: &Context) -> CliResult {
    let site = ctx.site(&args.site)?;
    let store = match &ctx.args.store {
        Some(_) => Some(ctx.store()?),
        None => None,
    };
    let table = super::audit::upgrade_table(args.upgrade_table.as_ref())?;
    let md = render_runbook(site, store.as_ref(), &table)?;
    match &args.out {
        Some(out) => {
            write_atomic(out, md.as_bytes())?;
            if !ctx.args.quiet {
                eprintln!(
                    "runbook {}: {} lines → {}",
                    site.name,
                    md.lines().count(),
                    out.display()
                );
            }
        }
        None if ctx.args.json => print_json(&RunbookJson {
            site: &site.name,
            markdown: &md,
        })?,
        None => print!("{md}"),
    }
    Ok(Exit::Ok)
}
