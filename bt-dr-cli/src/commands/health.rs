//! `bt-dr health`: every appliance of every (or one) site, through the core's live collection.

use futures_util::StreamExt;

use bt_dr_core::{DEFAULT_SWEEP_CONCURRENCY, SiteLive, collect_live};

use crate::context::Context;
use crate::exit::{CliResult, Exit};
use crate::output::{Reporter, print_json, print_table};

/// `bt-dr health` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthArgs {
    /// Only this site (default: every site of the inventory).
    #[arg(long)]
    pub site: Option<String>,
    /// Sites asked at once (each site's appliances are asked together).
    #[arg(long, default_value_t = DEFAULT_SWEEP_CONCURRENCY, value_parser = super::concurrency)]
    pub concurrency: usize,
}

/// The live state of a site none of whose appliances could be asked: each carries `e`.
fn unreachable_site(site: &bt_dr_core::Site, e: &bt_dr_core::Error) -> SiteLive {
    SiteLive {
        site: site.name.clone(),
        appliances: site
            .appliances
            .iter()
            .map(|a| bt_dr_core::audit::ApplianceLive {
                hostname: a.hostname.clone(),
                health: None,
                error: Some(e.report()),
                served_cert_sha256: None,
                served_cert_not_after: None,
                appliances: None,
            })
            .collect(),
    }
}

/// Asks every appliance of the chosen sites, concurrently.
pub async fn sweep(
    ctx: &Context,
    site: Option<&str>,
    concurrency: usize,
    reporter: &Reporter,
) -> Result<Vec<SiteLive>, crate::exit::CliError> {
    let sites = ctx.sites(site)?;
    let mut jobs = Vec::with_capacity(sites.len());
    for s in &sites {
        // A site whose clients cannot be built (its secret missing) is reported with that
        // error on each appliance; the other sites are still asked.
        let clients = match ctx.clients(s) {
            Ok(c) => Ok(c),
            Err(crate::exit::CliError::Core(e)) => Err(unreachable_site(s, &e)),
            Err(usage) => return Err(usage),
        };
        jobs.push((s.name.clone(), clients));
    }
    let bar = reporter.counter(jobs.len() as u64, "health");
    let mut out: Vec<(usize, SiteLive)> = futures_util::stream::iter(jobs.into_iter().enumerate())
        .map(|(i, (name, clients))| {
            let bar = bar.clone();
            async move {
                let live = match clients {
                    Ok(clients) => collect_live(&name, &clients).await,
                    Err(live) => live,
                };
                bar.inc(1);
                bar.set_message(name);
                (i, live)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, l)| l).collect())
}

/// An appliance is down or unhealthy: no answer, or `success` = 0.
fn healthy(a: &bt_dr_core::audit::ApplianceLive) -> bool {
    a.health.as_ref().is_some_and(|h| h.success)
}

/// Runs `bt-dr health`.
pub async fn run(args: HealthArgs, ctx: &Context) -> CliResult {
    let reporter = Reporter::new(ctx);
    let live = sweep(ctx, args.site.as_deref(), args.concurrency, &reporter).await?;
    let bad = live
        .iter()
        .flat_map(|s| &s.appliances)
        .filter(|a| !healthy(a))
        .count();
    if ctx.args.json {
        print_json(&live)?;
    } else {
        let mut rows = Vec::new();
        for s in &live {
            for a in &s.appliances {
                let (status, role, version, detail) = match (&a.health, &a.error) {
                    (Some(h), _) => (
                        if h.success { "ok" } else { "UNHEALTHY" }.to_string(),
                        h.failover_role.as_str().to_string(),
                        h.version.to_string(),
                        h.error_message.clone().unwrap_or_default(),
                    ),
                    (None, Some(e)) => (
                        "DOWN".to_string(),
                        "-".into(),
                        "-".into(),
                        format!("{} ({})", e.message, e.code),
                    ),
                    (None, None) => ("DOWN".into(), "-".into(), "-".into(), String::new()),
                };
                rows.push(vec![
                    s.site.clone(),
                    a.hostname.clone(),
                    status,
                    role,
                    version,
                    detail,
                ]);
            }
        }
        print_table(
            &["SITE", "APPLIANCE", "STATUS", "ROLE", "VERSION", "DETAIL"],
            &rows,
        );
    }
    if bad > 0 {
        reporter.line(&format!("health: {bad} appliance(s) down or unhealthy"));
        Ok(Exit::Findings)
    } else {
        Ok(Exit::Ok)
    }
}
