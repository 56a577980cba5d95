//! `bt-dr backup`: the nightly job, the core's `run_backup_job` over every (or one) site.

use std::sync::Arc;

use bt_dr_core::api::{CancelToken, Progress};
use bt_dr_core::backup_set::{JobSite, SiteOutcome};
use bt_dr_core::{BackupSetOptions, DEFAULT_JOB_CONCURRENCY, run_backup_job};

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::{Reporter, print_json, print_table};

/// `bt-dr backup` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Only this site (default: every site of the inventory).
    #[arg(long)]
    pub site: Option<String>,
    /// Sites backed up at once.
    #[arg(long, default_value_t = DEFAULT_JOB_CONCURRENCY, value_parser = super::concurrency)]
    pub concurrency: usize,
    /// Name of the environment variable (or `--secret-file` entry) holding the site backup
    /// password the NSB is encrypted with. The password itself is never an argument.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Skip reporting data (recordings, session reports, exit surveys).
    #[arg(long)]
    pub no_recordings: bool,
    /// How far back the first run of a site reaches for reporting data, in days.
    #[arg(long, value_name = "DAYS")]
    pub first_run_days: Option<u32>,
    /// Also take an NSB from every other appliance of the site (failover settings are not
    /// synced between a pair, so each appliance's own backup matters).
    #[arg(long)]
    pub all_appliances: bool,
}

/// Runs `bt-dr backup`.
pub async fn run(args: BackupArgs, ctx: &Context) -> CliResult {
    let store = ctx.store()?;
    let sites = ctx.sites(args.site.as_deref())?;
    let password = match &args.password_env {
        Some(var) => Some(ctx.secret(var)?.ok_or_else(|| {
            CliError::Usage(format!(
                "--password-env {var}: no such environment variable or --secret-file entry"
            ))
        })?),
        None => None,
    };
    let reporter = Reporter::new(ctx);
    // Ctrl-C or SIGTERM (systemd's stop) cancels every running set: nothing of a cancelled
    // set is kept, finished sets are, and the exit code says which (25 or 3).
    let cancel = CancelToken::new();
    let thresholds = ctx.inventory()?.thresholds.clone();
    let mut jobs = Vec::with_capacity(sites.len());
    let mut not_started = Vec::new();
    for site in &sites {
        // The appliance serving the site now (after a failover, the inventory's backup).
        // A site that cannot be backed up tonight (its secret missing, its pair in split
        // brain) fails alone: the other sites still get their sets.
        let found = match ctx.clients(site) {
            Ok(all) => bt_dr_core::backup_source(site, &all)
                .await
                .map(|source| (source, all)),
            Err(CliError::Core(e)) => Err(e),
            Err(usage) => return Err(usage),
        };
        let ((source, client), all) = match found {
            Ok(found) => found,
            Err(e) => {
                not_started.push(SiteOutcome {
                    site: site.name.clone(),
                    report: None,
                    error: Some(e.report()),
                    partial: false,
                    elapsed_ms: 0,
                });
                continue;
            }
        };
        let other_appliances = if args.all_appliances {
            all.into_iter()
                .filter(|(h, _)| *h != source)
                .map(|(_, c)| c)
                .collect()
        } else {
            Vec::new()
        };
        let d = BackupSetOptions::default();
        let options = BackupSetOptions {
            backup_password: password.clone(),
            recordings: !args.no_recordings,
            first_run_recordings_days: args.first_run_days.unwrap_or(d.first_run_recordings_days),
            thresholds: thresholds.clone(),
            other_appliances,
            progress: Some(progress_for(&reporter, &site.name)),
            cancel: Some(cancel.clone()),
            ..d
        };
        jobs.push(JobSite {
            site: (*site).clone(),
            client,
            options,
        });
    }
    reporter.line(&format!(
        "backup: {} site(s), {} at a time, into {}",
        jobs.len(),
        args.concurrency,
        store.root().display()
    ));
    let watcher = {
        let cancel = cancel.clone();
        let reporter = reporter.clone();
        tokio::spawn(async move {
            super::wait_for_signal().await;
            reporter.line("backup: interrupted; cancelling the sets in progress");
            cancel.cancel();
        })
    };
    let mut report = run_backup_job(&store, jobs, args.concurrency).await;
    watcher.abort();
    report.sites.extend(not_started);

    for s in &report.sites {
        reporter.line(&summary_line(s));
    }
    if ctx.args.json {
        print_json(&report)?;
    } else {
        let rows: Vec<Vec<String>> = report.sites.iter().map(row).collect();
        print_table(
            &["SITE", "STATUS", "SET", "FILES", "SECONDS", "DETAIL"],
            &rows,
        );
    }
    Ok(job_exit(&report.sites))
}

/// 0 when every site has a complete set; 3 when some site failed or is partial while another
/// succeeded; the failed sites' error kind when no site got a set at all.
fn job_exit(sites: &[SiteOutcome]) -> Exit {
    let any_set = sites.iter().any(|s| s.report.is_some());
    let all_complete = sites.iter().all(|s| s.error.is_none() && !s.partial);
    if all_complete {
        Exit::Ok
    } else if any_set {
        Exit::Partial
    } else {
        sites
            .iter()
            .find_map(|s| s.error.as_ref().map(|e| Exit::Error(e.kind)))
            .unwrap_or(Exit::Partial)
    }
}

fn summary_line(s: &SiteOutcome) -> String {
    match (&s.report, &s.error) {
        (Some(r), _) => format!(
            "backup {}: set {}{} ({} files) in {:.1}s",
            s.site,
            r.set_id,
            if s.partial { " PARTIAL" } else { "" },
            r.manifest.files.len(),
            s.elapsed_ms as f64 / 1000.0
        ),
        (None, Some(e)) => format!("backup {}: FAILED: {} ({})", s.site, e.message, e.code),
        (None, None) => format!("backup {}: no set", s.site),
    }
}

fn row(s: &SiteOutcome) -> Vec<String> {
    let secs = format!("{:.1}", s.elapsed_ms as f64 / 1000.0);
    match (&s.report, &s.error) {
        (Some(r), _) => {
            let failed: Vec<String> = r
                .failed_parts()
                .map(|p| {
                    serde_json::to_value(p.part)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_else(|| format!("{:?}", p.part))
                })
                .collect();
            vec![
                s.site.clone(),
                if s.partial { "partial" } else { "ok" }.into(),
                r.set_id.clone(),
                r.manifest.files.len().to_string(),
                secs,
                if failed.is_empty() {
                    r.path.display().to_string()
                } else {
                    format!("failed parts: {}", failed.join(", "))
                },
            ]
        }
        (None, Some(e)) => vec![
            s.site.clone(),
            "FAILED".into(),
            "-".into(),
            "-".into(),
            secs,
            format!("{} ({})", e.message, e.code),
        ],
        (None, None) => vec![
            s.site.clone(),
            "-".into(),
            "-".into(),
            "-".into(),
            secs,
            String::new(),
        ],
    }
}

/// The NSB download's progress: a byte bar on a terminal, one line when it completes
/// otherwise (never a line per chunk: cron mails and journals stay short).
fn progress_for(reporter: &Reporter, site: &str) -> Progress {
    let bar = reporter.bytes(&format!("NSB {site}"));
    let reporter = reporter.clone();
    let site = site.to_string();
    let done_once = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |done: u64, total: Option<u64>| {
        if reporter.is_interactive() {
            if let Some(t) = total
                && bar.length() != Some(t)
            {
                bar.set_length(t);
            }
            bar.set_position(done);
            if total == Some(done) {
                bar.finish();
            }
        } else if total == Some(done) && !done_once.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            reporter.line(&format!("backup {site}: NSB downloaded, {done} bytes"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_dr_core::{Error, ErrorKind};

    fn failed(kind_err: Error) -> SiteOutcome {
        SiteOutcome {
            site: "s".into(),
            report: None,
            error: Some(kind_err.report()),
            partial: false,
            elapsed_ms: 0,
        }
    }

    #[test]
    fn every_site_failing_is_the_first_error_kind_and_none_is_ok() {
        assert_eq!(job_exit(&[]), Exit::Ok);
        let sites = [
            failed(Error::NotFound { what: "x".into() }),
            failed(Error::Refused { reason: "y".into() }),
        ];
        assert_eq!(job_exit(&sites), Exit::Error(ErrorKind::NotFound));
        assert_eq!(job_exit(&sites).code(), 27);
    }
}
