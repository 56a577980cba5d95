//! `bt-dr metrics`: Prometheus series for node_exporter's textfile collector
//! (`--textfile PATH`) or a scrape endpoint (`serve --listen ADDR`).
//!
//! Every value comes from bt-dr-core: live state from `collect_live`, backup facts from the
//! store's manifests (and `verify_backup_set`), split brain and findings from the audit. The
//! series are prometheus-client families; the README's "Metrics" section lists them.

mod args;
mod cache;
mod collect;
mod registry;
mod serve;
mod textfile;

use std::sync::Arc;

pub use args::MetricsArgs;
use args::{MetricsCommand, OnceArgs};

use crate::context::Context;
use crate::exit::{CliResult, Exit};
use collect::{Collector, VerifyPolicy};

/// Runs `bt-dr metrics`: one collection to a textfile or stdout, or a server.
pub async fn run(args: MetricsArgs, ctx: &Context) -> CliResult {
    match args.command {
        Some(MetricsCommand::Serve(s)) => {
            let verify = if s.no_verify {
                VerifyPolicy::Never
            } else {
                VerifyPolicy::Every(s.verify_interval)
            };
            let collector = Arc::new(Collector::new(
                ctx,
                None,
                verify,
                s.upgrade_table.as_deref(),
            )?);
            let cache = Arc::new(cache::Cache::new(collector, s.cache_ttl));
            serve::serve(&s.listen, cache).await
        }
        None => once(args.once, ctx).await,
    }
}

/// One collection. Exit 0 when it had no error, 3 (partial) when a stage failed for some
/// site: the series were still written, with `bt_dr_collection_errors` saying where.
async fn once(args: OnceArgs, ctx: &Context) -> CliResult {
    let verify = if args.no_verify {
        VerifyPolicy::Never
    } else {
        VerifyPolicy::Always
    };
    let collector = Arc::new(Collector::new(
        ctx,
        args.site.as_deref(),
        verify,
        args.upgrade_table.as_deref(),
    )?);
    let snap = collector.collect().await;
    let text = registry::render(&snap, None, None);
    match &args.textfile {
        Some(path) => {
            textfile::write(path, &text)?;
        }
        None => print!("{text}"),
    }
    Ok(if snap.error_count() > 0 {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
