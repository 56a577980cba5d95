//! `bt-dr failover plan|execute SITE`: the core's `plan_failover_with` / `execute_failover`.
//!
//! Execution changes which appliance serves a site, so it is never started by accident: on a
//! terminal it asks for the site name to be typed back unless `--yes`; without a terminal it
//! refuses unless `--yes`, before contacting any appliance.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use bt_dr_core::{
    ErrorKind, FailoverMode, FailoverOptions, FailoverOutcome, FailoverPlan, Site, TrafficRedirect,
    execute_failover,
};

use bt_dr_core::failover::plan_failover_with;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;

/// `bt-dr failover` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FailoverCommand {
    /// Look at both appliances and print what a failover would do (no side effects).
    Plan(PlanArgs),
    /// Plan again from fresh observations, then redirect traffic, change roles, confirm.
    Execute(ExecuteArgs),
}

/// Planned or unplanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Swap roles with a final data sync; both appliances up.
    Planned,
    /// Promote the backup without a sync; the primary is lost.
    Unplanned,
}

impl From<Mode> for FailoverMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Planned => FailoverMode::Planned,
            Mode::Unplanned => FailoverMode::Unplanned,
        }
    }
}

/// Flags shared by plan and execute.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// The site, by its inventory name (it needs a `[failover]` pair).
    pub site: String,
    /// Planned swap or unplanned promotion.
    #[arg(long, value_enum, default_value_t = Mode::Planned)]
    pub mode: Mode,
    /// Go ahead although the old primary answered unusably (TLS, auth, parse…): only when you
    /// know by other means it is down, or two primaries result.
    #[arg(long)]
    pub force_unknown: bool,
    /// Go ahead with a planned swap although the appliances serve different certificates.
    #[arg(long)]
    pub force_certificate_mismatch: bool,
    /// The URL clients reach the site at (default https://<site fqdn>).
    #[arg(long, value_name = "URL")]
    pub site_url: Option<String>,
}

/// `bt-dr failover execute` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecuteArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Plan only (same as `failover plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// After an unplanned promotion, demote the old primary if it still claims primary.
    #[arg(long)]
    pub demote_old_primary: bool,
    /// Program that moves DNS / NAT for a swing (run without a shell; gets BT_DR_SITE,
    /// BT_DR_FROM, BT_DR_TO, … in its environment).
    #[arg(long, value_name = "PROGRAM")]
    pub redirect_command: Option<String>,
    /// An argument for --redirect-command (repeat for more). Not for secrets: argv is visible.
    #[arg(long, value_name = "ARG", requires = "redirect_command")]
    pub redirect_arg: Vec<String>,
    /// Give up waiting for the roles to settle after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub settle_timeout: Option<u64>,
    /// After a redirect hook, how long to check that the site URL answers as the target.
    #[arg(long, value_name = "SECS")]
    pub redirect_verify_timeout: Option<u64>,
    /// After the role change, how long to wait for clients on the new primary.
    #[arg(long, value_name = "SECS")]
    pub confirm_timeout: Option<u64>,
}

fn options(p: &PlanArgs) -> FailoverOptions {
    FailoverOptions {
        force_unknown: p.force_unknown,
        force_certificate_mismatch: p.force_certificate_mismatch,
        site_url: p.site_url.clone(),
        ..FailoverOptions::default()
    }
}

/// The two appliances of the site's pair with their clients.
fn pair<'a>(
    ctx: &Context,
    site: &'a Site,
) -> Result<[(&'a str, bt_dr_core::api::Client); 2], CliError> {
    let fo = site
        .failover
        .as_ref()
        .ok_or_else(|| CliError::Usage(format!("site {:?} has no [failover] pair", site.name)))?;
    let with_client = |host: &str| -> Result<(&'a str, bt_dr_core::api::Client), CliError> {
        let a = site.appliance(host).ok_or_else(|| {
            CliError::Usage(format!(
                "site {:?}: failover appliance {host:?} is not among its appliances",
                site.name
            ))
        })?;
        Ok((a.hostname.as_str(), ctx.client(site, a)?))
    };
    Ok([with_client(&fo.primary)?, with_client(&fo.backup)?])
}

/// Runs `bt-dr failover …`.
pub async fn run(cmd: FailoverCommand, ctx: &Context) -> CliResult {
    match cmd {
        FailoverCommand::Plan(p) => plan_only(&p, ctx).await,
        FailoverCommand::Execute(e) => execute(e, ctx).await,
    }
}

/// Plans; a plan the core refuses is a finding (exit 1), not a failure of the command.
async fn plan_only(p: &PlanArgs, ctx: &Context) -> CliResult {
    match make_plan(p, &options(p), ctx).await? {
        Ok(plan) => {
            show_plan(&plan, ctx)?;
            Ok(Exit::Ok)
        }
        Err(reason) => {
            eprintln!("bt-dr: failover of {} refused: {reason}", p.site);
            Ok(Exit::Findings)
        }
    }
}

/// The plan, or the reason the core refused one.
async fn make_plan(
    p: &PlanArgs,
    opts: &FailoverOptions,
    ctx: &Context,
) -> Result<Result<FailoverPlan, String>, CliError> {
    let site = ctx.site(&p.site)?;
    let [(h1, c1), (h2, c2)] = pair(ctx, site)?;
    match plan_failover_with(site, (h1, &c1), (h2, &c2), p.mode.into(), opts).await {
        Ok(plan) => Ok(Ok(plan)),
        Err(e) if e.kind() == ErrorKind::Refused => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// The JSON spelling of a core enum (`planned`, `settled`, …) for the human output.
fn name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn show_plan(plan: &FailoverPlan, ctx: &Context) -> Result<(), CliError> {
    if ctx.args.json {
        return print_json(plan);
    }
    println!(
        "failover plan for {} ({}): {} → {}",
        plan.site,
        name(plan.mode),
        plan.from.hostname,
        plan.to.hostname
    );
    if let Some(n) = plan.connected_clients {
        println!("  connected clients that will be disconnected: {n}");
    }
    for (i, s) in plan.steps.iter().enumerate() {
        println!(
            "  {}. [{}] {}",
            i + 1,
            if s.automated { "bt-dr" } else { "you" },
            s.action
        );
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
    Ok(())
}

async fn execute(e: ExecuteArgs, ctx: &Context) -> CliResult {
    let interactive = std::io::stdin().is_terminal();
    // Refused before any appliance is contacted: nothing changes without a clear yes.
    if !e.dry_run && !e.yes && !interactive {
        return Err(CliError::Usage(
            "failover execute changes which appliance serves the site: pass --yes \
             (stdin is not a terminal, so bt-dr cannot ask)"
                .into(),
        ));
    }
    let mut opts = options(&e.plan);
    opts.demote_old_primary = e.demote_old_primary;
    if let Some(prog) = &e.redirect_command {
        let argv = std::iter::once(prog.clone()).chain(e.redirect_arg.iter().cloned());
        opts.redirect = Some(TrafficRedirect::command(argv));
    }
    for (secs, slot) in [
        (e.settle_timeout, &mut opts.settle_timeout),
        (e.redirect_verify_timeout, &mut opts.redirect_verify_timeout),
        (e.confirm_timeout, &mut opts.confirm_timeout),
    ] {
        if let Some(s) = secs {
            *slot = Duration::from_secs(s);
        }
    }
    let plan = match make_plan(&e.plan, &opts, ctx).await? {
        Ok(plan) => plan,
        Err(reason) => {
            eprintln!("bt-dr: failover of {} refused: {reason}", e.plan.site);
            return Ok(Exit::Findings);
        }
    };
    if e.dry_run {
        show_plan(&plan, ctx)?;
        return Ok(Exit::Ok);
    }
    if !e.yes {
        // Shown on stderr so a --json stdout stays one document.
        let mut err = std::io::stderr();
        let _ = writeln!(
            err,
            "About to fail {} over: {} → {} ({}).",
            plan.site,
            plan.from.hostname,
            plan.to.hostname,
            name(plan.mode)
        );
        for w in &plan.warnings {
            let _ = writeln!(err, "  warning: {w}");
        }
        let _ = write!(err, "Type the site name ({}) to go ahead: ", plan.site);
        let _ = err.flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| CliError::Usage(format!("no answer read: {e}")))?;
        if answer.trim() != plan.site {
            return Err(CliError::Usage("not confirmed; nothing was changed".into()));
        }
    }
    let site = ctx.site(&e.plan.site)?;
    let [(h1, c1), (h2, c2)] = pair(ctx, site)?;
    let timeline = execute_failover(site, (h1, &c1), (h2, &c2), &plan, &opts).await?;
    if ctx.args.json {
        print_json(&timeline)?;
    } else {
        for ev in &timeline.events {
            println!(
                "  +{:>6} ms  {:<40} {}={} {}={}",
                ev.elapsed_ms,
                ev.event,
                plan.from.hostname,
                ev.from_role.map(|r| r.as_str()).unwrap_or("?"),
                plan.to.hostname,
                ev.to_role.map(|r| r.as_str()).unwrap_or("?"),
            );
        }
        println!("outcome: {}", name(timeline.outcome));
        for f in &timeline.follow_up {
            println!("follow-up: {f}");
        }
    }
    Ok(match (&timeline.error, timeline.outcome) {
        (Some(err), _) => Exit::Error(err.kind),
        (None, FailoverOutcome::Settled) => Exit::Ok,
        // The roles did not end where asked (timed out, split brain, redirect failed): the
        // timeline says what did happen.
        (None, _) => Exit::Partial,
    })
}
