//! `bt-dr prune`: retention through the store's plan/apply; `--dry-run` only plans.

use serde::Serialize;

use bt_dr_core::RetentionPolicy;
use bt_dr_core::retention::RetentionPlan;
use bt_dr_core::store::RetentionOutcome;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::{Reporter, print_json, print_table};

/// `bt-dr prune` flags: the core's `RetentionPolicy`, one flag per field.
#[derive(Debug, Clone, clap::Args)]
pub struct PruneArgs {
    /// Only this site (default: every site of the inventory).
    #[arg(long)]
    pub site: Option<String>,
    /// Keep the newest N sets.
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest set of each of the last N hours that have one.
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// Keep the newest set of each of the last N days that have one.
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest set of each of the last N ISO weeks that have one.
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest set of each of the last N months that have one.
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Keep the newest set of each of the last N years that have one.
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// Keep every set younger than this many hours (counted back from the newest set).
    #[arg(long, value_name = "HOURS")]
    pub keep_within_hours: Option<u32>,
    /// Also keep the newest verified set of each of the last N product versions (0: off;
    /// default: the core's).
    #[arg(long, value_name = "N")]
    pub keep_versions: Option<u32>,
    /// A set whose NSB is smaller than this never counts as verified (default: the core's).
    #[arg(long, value_name = "BYTES")]
    pub min_nsb_bytes: Option<u64>,
    /// Print the plan; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl PruneArgs {
    fn policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
            keep_within_hours: self.keep_within_hours,
            min_nsb_bytes: self.min_nsb_bytes,
            keep_versions: self.keep_versions,
        }
    }
}

/// One site's plan and, unless `--dry-run`, what applying it did.
#[derive(Debug, Serialize)]
struct SitePrune {
    plan: RetentionPlan,
    outcome: Option<RetentionOutcome>,
}

/// Runs `bt-dr prune`.
pub fn run(args: PruneArgs, ctx: &Context) -> CliResult {
    let policy = args.policy();
    if policy.is_empty() {
        // The core refuses it too; caught here so the operator gets the flag names.
        return Err(CliError::Usage(
            "no keep rule: give at least one of --keep-last, --keep-hourly, --keep-daily, \
             --keep-weekly, --keep-monthly, --keep-yearly, --keep-within-hours"
                .into(),
        ));
    }
    let store = ctx.store()?;
    let sites = ctx.sites(args.site.as_deref())?;
    let reporter = Reporter::new(ctx);
    let mut results = Vec::with_capacity(sites.len());
    for site in &sites {
        let plan = store.plan_retention(&site.name, &policy)?;
        let outcome = if args.dry_run || plan.remove.is_empty() {
            None
        } else {
            Some(store.apply_retention_report(&plan)?)
        };
        reporter.line(&format!(
            "prune {}: keep {}, {} {}",
            site.name,
            plan.keep.len(),
            if args.dry_run {
                "would remove"
            } else {
                "removed"
            },
            plan.remove.len()
        ));
        results.push(SitePrune { plan, outcome });
    }
    if ctx.args.json {
        print_json(&results)?;
    } else {
        let mut rows = Vec::new();
        for r in &results {
            for k in &r.plan.keep {
                rows.push(vec![
                    r.plan.site.clone(),
                    k.id.clone(),
                    "keep".into(),
                    k.reasons.join(", "),
                ]);
            }
            for id in &r.plan.remove {
                let action = if args.dry_run {
                    "would remove"
                } else {
                    "removed"
                };
                rows.push(vec![
                    r.plan.site.clone(),
                    id.clone(),
                    action.into(),
                    String::new(),
                ]);
            }
        }
        print_table(&["SITE", "SET", "ACTION", "WHY"], &rows);
    }
    Ok(Exit::Ok)
}
