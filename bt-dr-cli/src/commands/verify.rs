//! `bt-dr verify`: the core's `verify_backup_set` over the latest, one or every set.

use bt_dr_core::{Error, ErrorKind, SetSummary, verify_backup_set};

use crate::context::Context;
use crate::exit::{CliResult, Exit};
use crate::output::{Reporter, print_json, print_table};

/// `bt-dr verify` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Only this site (default: every site of the inventory).
    #[arg(long)]
    pub site: Option<String>,
    /// This set id (needs `--site` when the inventory has more than one site).
    #[arg(long, value_name = "ID", conflicts_with = "all")]
    pub set: Option<String>,
    /// Every set, not only the latest.
    #[arg(long)]
    pub all: bool,
}

/// Runs `bt-dr verify`. A set whose files do not match its manifest ends with the
/// integrity error code; no set to verify is "not found".
pub fn run(args: VerifyArgs, ctx: &Context) -> CliResult {
    let store = ctx.store()?;
    let sites = ctx.sites(args.site.as_deref())?;
    let mut targets: Vec<SetSummary> = Vec::new();
    for site in &sites {
        if args.all {
            targets.extend(store.list_sets(&site.name)?);
        } else if let Some(id) = &args.set {
            targets.extend(
                store
                    .list_sets(&site.name)?
                    .into_iter()
                    .filter(|s| &s.id == id),
            );
        } else if let Some(latest) = store.latest_set(&site.name)? {
            targets.push(latest);
        }
    }
    if targets.is_empty() {
        let what = match (&args.set, &args.site) {
            (Some(id), Some(site)) => format!("backup set {site}/{id}"),
            (Some(id), None) => format!("backup set {id}"),
            (None, Some(site)) => format!("a backup set of site {site}"),
            (None, None) => "a backup set of any site".to_string(),
        };
        return Err(Error::NotFound { what }.into());
    }
    let reporter = Reporter::new(ctx);
    let bar = reporter.counter(targets.len() as u64, "verify");
    let mut reports = Vec::with_capacity(targets.len());
    for t in &targets {
        bar.set_message(format!("{}/{}", t.site, t.id));
        let r = verify_backup_set(&t.path)?;
        bar.inc(1);
        if !reporter.is_interactive() {
            reporter.line(&format!(
                "verify {}/{}: {}",
                t.site,
                t.id,
                if r.ok() { "intact" } else { "PROBLEMS" }
            ));
        }
        reports.push((t.site.clone(), t.id.clone(), r));
    }
    bar.finish_and_clear();
    let bad = reports.iter().filter(|(_, _, r)| !r.ok()).count();
    if ctx.args.json {
        let views: Vec<_> = reports.iter().map(|(_, _, r)| r.view()).collect();
        print_json(&views)?;
    } else {
        let mut rows = Vec::new();
        for (site, id, r) in &reports {
            let detail = r
                .problems
                .iter()
                .map(|p| format!("{} {}", p.problem, p.path))
                .collect::<Vec<_>>()
                .join("; ");
            rows.push(vec![
                site.clone(),
                id.clone(),
                if r.ok() { "intact" } else { "PROBLEMS" }.to_string(),
                r.files_checked.to_string(),
                r.bytes_checked.to_string(),
                if r.partial {
                    "partial set".into()
                } else {
                    String::new()
                },
                detail,
            ]);
        }
        print_table(
            &[
                "SITE", "SET", "STATUS", "FILES", "BYTES", "NOTE", "PROBLEMS",
            ],
            &rows,
        );
    }
    if bad > 0 {
        reporter.line(&format!("verify: {bad} set(s) do not match their manifest"));
        Ok(Exit::Error(ErrorKind::Integrity))
    } else {
        Ok(Exit::Ok)
    }
}
