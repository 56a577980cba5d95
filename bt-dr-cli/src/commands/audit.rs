//! `bt-dr audit`: the core's readiness audit over the inventory, the store and (with `--live`)
//! what the appliances say now.

use std::path::PathBuf;

use bt_dr_core::{AuditInput, AuditOptions, UpgradeTable, audit, write_atomic};

use super::FailOn;
use crate::context::Context;
use crate::exit::{CliResult, Exit};
use crate::output::Reporter;

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown, grouped by site.
    Md,
    /// The `bt-dr.audit/1` JSON document.
    Json,
}

/// `bt-dr audit` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// Output format (`--json` means `--format json`).
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also ask every appliance now (health, roles, sync, served certificates).
    #[arg(long)]
    pub live: bool,
    /// Sites asked at once with `--live`.
    #[arg(long, default_value_t = bt_dr_core::DEFAULT_SWEEP_CONCURRENCY, value_parser = super::concurrency)]
    pub concurrency: usize,
    /// The vendor's supported-upgrade table (TOML or JSON) for the restore checks.
    #[arg(long, value_name = "FILE")]
    pub upgrade_table: Option<PathBuf>,
    /// Newest backup older than this many hours is stale (default: the inventory's threshold).
    #[arg(long, value_name = "HOURS")]
    pub max_backup_age_hours: Option<u32>,
    /// A data sync older than this many hours is stale (default: from the pair's interval).
    #[arg(long, value_name = "HOURS")]
    pub max_sync_age_hours: Option<u32>,
    /// Warn when a certificate expires within this many days (default: the inventory's).
    #[arg(long, value_name = "DAYS")]
    pub certificate_horizon_days: Option<i64>,
    /// Also write the report to this file (atomically), in the chosen format.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Loads `--upgrade-table`, or the empty table.
pub fn upgrade_table(path: Option<&PathBuf>) -> Result<UpgradeTable, crate::exit::CliError> {
    Ok(match path {
        Some(p) => UpgradeTable::load(p)?,
        None => UpgradeTable::default(),
    })
}

/// Runs `bt-dr audit`.
pub async fn run(args: AuditArgs, ctx: &Context) -> CliResult {
    let inventory = ctx.inventory()?;
    // The store is optional: without it the audit runs the rules that need no backups.
    let store = match &ctx.args.store {
        Some(_) => Some(ctx.store()?),
        None => None,
    };
    let table = upgrade_table(args.upgrade_table.as_ref())?;
    let reporter = Reporter::new(ctx);
    let live = if args.live {
        super::health::sweep(ctx, None, args.concurrency, &reporter).await?
    } else {
        Vec::new()
    };
    let options = AuditOptions {
        max_backup_age_hours: args.max_backup_age_hours,
        max_sync_age_hours: args.max_sync_age_hours,
        certificate_horizon_days: args.certificate_horizon_days,
        now: None,
    };
    let report = audit(AuditInput {
        inventory,
        store: store.as_ref(),
        live: &live,
        upgrade_table: &table,
        options: &options,
    })?;
    let json = ctx.args.json || args.format == Format::Json;
    let text = if json {
        serde_json::to_string_pretty(&report.view()).map_err(|e| bt_dr_core::Error::Internal {
            reason: format!("serialising the audit: {e}"),
        })?
    } else {
        report.to_markdown()
    };
    if let Some(out) = &args.out {
        write_atomic(out, text.as_bytes())?;
    }
    if json {
        println!("{text}");
    } else {
        print!("{text}");
    }
    let s = &report.summary;
    reporter.line(&format!(
        "audit: {} critical, {} error, {} warning, {} info",
        s.critical, s.error, s.warning, s.info
    ));
    Ok(if args.fail_on.reached_by(report.worst()) {
        Exit::Findings
    } else {
        Exit::Ok
    })
}
