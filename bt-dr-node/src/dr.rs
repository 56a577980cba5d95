//! DR operations: backup sets (run, job, verify, list), retention (plan, apply), the readiness
//! audit with its live inputs, the runbook, and failover (plan, execute). Each is one call into
//! bt-dr-core; the binding only converts arguments and results.

use std::sync::Arc;

use bt_dr_core::api::Health;
use bt_dr_core::{
    AtlasCheckOptions, AuditInput, AuditOptions, AuditReport, BackupSetOptions, BackupStore,
    DEFAULT_JOB_CONCURRENCY, DEFAULT_SWEEP_CONCURRENCY, Error, ErrorReport, FailoverMode,
    FailoverOptions, FailoverPlan, Inventory, JobSite, RetentionPlan, RetentionPolicy, Site,
    SiteLive, UpgradeTable,
};
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{ClassInstance, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{CancelToken, Client, ProgressFn, Transfer, transfer};
use crate::convert::{blocking, enum_input, input, js_error, out, promise, to_snake};

fn store_at(path: &str) -> bt_dr_core::Result<BackupStore> {
    BackupStore::open(path)
}

fn site_input(v: Value) -> bt_dr_core::Result<Site> {
    let s: Site = input("site", v)?;
    s.validate()?;
    Ok(s)
}

/// Options of one backup set: the camelCase object goes to the core's one parser
/// ([`BackupSetOptions::from_json`]), which owns the defaults and refuses unknown keys.
fn set_options(v: Option<Value>) -> bt_dr_core::Result<BackupSetOptions> {
    BackupSetOptions::from_json(v.map(to_snake).unwrap_or(Value::Null))
}

/// Options of failover planning and execution, through the core's one parser
/// ([`FailoverOptions::from_json`]).
fn failover_options(v: Option<Value>) -> bt_dr_core::Result<FailoverOptions> {
    FailoverOptions::from_json(v.map(to_snake).unwrap_or(Value::Null))
}

/// `run_backup_set`: takes one backup set (NSB, reporting data, certificate bundle,
/// `/appliance` records, Vault key record, manifest) of `site` through `client` into the store
/// at `store`; `other_appliances` are the clients of the site's other appliances (a failover
/// pair's backup) whose NSBs the set takes too.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
#[allow(clippy::too_many_arguments)]
pub fn run_backup_set<'e>(
    env: &'e Env,
    store: String,
    site: Value,
    client: &Client,
    options: Option<Value>,
    #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
    on_progress: Option<ProgressFn>,
    cancel: Option<&CancelToken>,
    other_appliances: Option<Vec<ClassInstance<'e, Client>>>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let client = client.core();
        let others: Vec<_> = other_appliances
            .iter()
            .flatten()
            .map(|c| c.core())
            .collect();
        let t = transfer(on_progress, cancel);
        promise(env, async move {
            let store = store_at(&store)?;
            let site = site_input(site)?;
            let mut opts = set_options(options)?;
            opts.other_appliances = others;
            opts.progress = t.progress();
            opts.cancel = t.cancel();
            let r = bt_dr_core::run_backup_set(&store, &site, &client, &opts).await;
            t.finish();
            out(&r?)
        })
    })
}

/// Progress of one site of a backup job.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct JobProgressEvent {
    /// Site name.
    pub site: String,
    /// Bytes of its NSB received so far.
    pub done: f64,
    /// Announced size, if any.
    pub total: Option<f64>,
}

/// The JavaScript progress callback of a job.
pub type JobProgressFn =
    ThreadsafeFunction<JobProgressEvent, Unknown<'static>, JobProgressEvent, Status, false>;

/// `run_backup_job`: backs up many sites (`sites[i]` through `clients[i]` with `options[i]`), at
/// most `concurrency` at a time (the core's [`DEFAULT_JOB_CONCURRENCY`] when not given); one
/// failing site does not stop the others. Site `i` also takes the NSBs of the next
/// `other_counts[i]` clients of `other_appliances` (a flattened list).
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
#[allow(clippy::too_many_arguments)]
pub fn run_backup_job<'e>(
    env: &'e Env,
    store: String,
    sites: Vec<Value>,
    clients: Vec<ClassInstance<'e, Client>>,
    options: Vec<Value>,
    concurrency: Option<u32>,
    #[napi(ts_arg_type = "((event: JobProgressEvent) => void) | undefined | null")]
    on_progress: Option<JobProgressFn>,
    cancel: Option<&CancelToken>,
    other_appliances: Option<Vec<ClassInstance<'e, Client>>>,
    other_counts: Option<Vec<u32>>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let clients: Vec<_> = clients.iter().map(|c| c.core()).collect();
        let others: Vec<_> = other_appliances
            .iter()
            .flatten()
            .map(|c| c.core())
            .collect();
        let other_counts = other_counts.unwrap_or_default();
        let cb = on_progress.map(Arc::new);
        let prepared = (|| {
            if sites.len() != clients.len()
                || (!options.is_empty() && options.len() != sites.len())
                || (!other_counts.is_empty() && other_counts.len() != sites.len())
            {
                return Err(Error::invalid_input(
                    "sites",
                    "sites, clients and options must have the same length",
                ));
            }
            if other_counts.iter().map(|&n| n as usize).sum::<usize>() != others.len() {
                return Err(Error::invalid_input(
                    "other_appliances",
                    "the counts do not add up to the clients given",
                ));
            }
            let mut jobs = Vec::with_capacity(sites.len());
            let mut transfers = Vec::with_capacity(sites.len());
            let mut options = options.into_iter();
            let mut others = others.into_iter();
            let mut counts = other_counts.into_iter();
            for (site, client) in sites.into_iter().zip(clients) {
                let site = site_input(site)?;
                let mut opts = set_options(options.next())?;
                let n = counts.next().unwrap_or(0) as usize;
                opts.other_appliances = others.by_ref().take(n).collect();
                // Each site's progress is paced on its own, so one site's burst never hides
                // another's events.
                let name = site.name.clone();
                let t = Transfer::new(
                    cb.clone().map(|cb| {
                        move |done: u64, total: Option<u64>| {
                            cb.call(
                                JobProgressEvent {
                                    site: name.clone(),
                                    done: done as f64,
                                    total: total.map(|t| t as f64),
                                },
                                ThreadsafeFunctionCallMode::NonBlocking,
                            );
                        }
                    }),
                    cancel,
                );
                opts.progress = t.progress();
                opts.cancel = t.cancel();
                transfers.push(t);
                jobs.push(JobSite {
                    site,
                    client,
                    options: opts,
                });
            }
            Ok((jobs, transfers))
        })();
        let (jobs, transfers) = prepared.map_err(|e| js_error(env, &e))?;
        let concurrency = concurrency.map_or(DEFAULT_JOB_CONCURRENCY, |n| n as usize);
        promise(env, async move {
            let store = store_at(&store)?;
            let report = bt_dr_core::run_backup_job(&store, jobs, concurrency).await;
            transfers.iter().for_each(Transfer::finish);
            out(&report)
        })
    })
}

/// `verify_backup_set`: re-hashes every file of the set at `path` against its manifest;
/// resolves to the core's [`VerifyReport::view`](bt_dr_core::VerifyReport::view) (the report
/// with `ok`).
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn verify_backup_set(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            out(&bt_dr_core::verify_backup_set(&path)?.view())
        })
    })
}

/// `list_backup_sets`: the sets of `site` in the store, newest first.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn list_backup_sets(
    env: &Env,
    store: String,
    site: String,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || out(&store_at(&store)?.list_sets(&site)?))
    })
}

/// `plan_retention`: which sets of `site` a policy keeps (with reasons) and removes.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn plan_retention(
    env: &Env,
    store: String,
    site: String,
    policy: Value,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let policy: RetentionPolicy = input("policy", policy)?;
            out(&store_at(&store)?.plan_retention(&site, &policy)?)
        })
    })
}

/// `apply_retention`: removes the sets a plan marks; resolves to the removed ids.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn apply_retention(
    env: &Env,
    store: String,
    plan: Value,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let plan: RetentionPlan = input("plan", plan)?;
            out(&store_at(&store)?.apply_retention(&plan)?)
        })
    })
}

/// The inputs of `audit` that are not [`AuditOptions`]: the store, live state and upgrade table
/// travel in the same JavaScript options object.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditInputs {
    store: Option<String>,
    live: Vec<SiteLive>,
    upgrade_table: Option<UpgradeTable>,
}

/// Splits the snake_cased `audit` options object into its inputs and the core's
/// [`AuditOptions`] (parsed by [`AuditOptions::from_json`], which owns the defaults and refuses
/// unknown keys).
fn audit_options(v: Option<Value>) -> bt_dr_core::Result<(AuditInputs, AuditOptions)> {
    let mut v = v.map(to_snake).unwrap_or(Value::Null);
    let mut inputs = serde_json::Map::new();
    if let Value::Object(m) = &mut v {
        for k in ["store", "live", "upgrade_table"] {
            if let Some(x) = m.remove(k) {
                inputs.insert(k.to_string(), x);
            }
        }
    }
    let inputs: AuditInputs = serde_json::from_value(Value::Object(inputs))
        .map_err(|e| Error::invalid_input("options", e.to_string()))?;
    Ok((inputs, AuditOptions::from_json(v)?))
}

/// `audit`: the readiness audit of `inventory`, with the backup store, live state
/// (from `collectLive`) and upgrade table when given; resolves to the core's
/// [`AuditReport::view`] (the report with `worst`).
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn audit(
    env: &Env,
    inventory: Value,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let inv: Inventory = input("inventory", inventory)?;
            inv.validate()?;
            let (o, opts) = audit_options(options)?;
            let store = o.store.as_deref().map(store_at).transpose()?;
            let table = o.upgrade_table.unwrap_or_default();
            let report = bt_dr_core::audit(AuditInput {
                inventory: &inv,
                store: store.as_ref(),
                live: &o.live,
                upgrade_table: &table,
                options: &opts,
            })?;
            out(&report.view())
        })
    })
}

/// `audit` (report form): the core's Markdown rendering of an audit report (a report as `audit`
/// returns it: the core reads its view back and ignores `worst`).
#[napi(catch_unwind)]
pub fn audit_markdown(env: Env, report: Value) -> napi::Result<String> {
    crate::convert::guard(&env, || {
        input::<AuditReport>("report", report)
            .map(|r| r.to_markdown())
            .map_err(|e| js_error(&env, &e))
    })
}

/// `audit` (live input): asks every appliance of a site (`hostnames[i]` through `clients[i]`)
/// for health, served certificate and pair view, concurrently.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn collect_live<'e>(
    env: &'e Env,
    site: String,
    hostnames: Vec<String>,
    clients: Vec<ClassInstance<'e, Client>>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let pairs: Vec<_> = hostnames
            .into_iter()
            .zip(clients.iter().map(|c| c.core()))
            .collect();
        promise(env, async move {
            out(&bt_dr_core::collect_live(&site, &pairs).await)
        })
    })
}

/// One appliance of a health sweep: its health, or the error as the core's [`ErrorReport`].
#[derive(Serialize)]
struct SweepEntry {
    health: Option<Health>,
    error: Option<ErrorReport>,
}

/// Health of many appliances at once (at most `concurrency` in flight, the core's
/// [`DEFAULT_SWEEP_CONCURRENCY`] when not given); each entry is `{health}` or `{error}`, in
/// input order.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn health_sweep<'e>(
    env: &'e Env,
    clients: Vec<ClassInstance<'e, Client>>,
    concurrency: Option<u32>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let clients: Vec<_> = clients.iter().map(|c| c.core()).collect();
        let n = concurrency.map_or(DEFAULT_SWEEP_CONCURRENCY, |n| n as usize);
        promise(env, async move {
            let results = bt_dr_core::health_sweep(&clients, n).await;
            // `{health, error}` per appliance, the error as the core's `ErrorReport` like every
            // error kept in a result (the core has no entry type for a sweep yet).
            let entries: Vec<SweepEntry> = results
                .into_iter()
                .map(|r| match r {
                    Ok(h) => SweepEntry {
                        health: Some(h),
                        error: None,
                    },
                    Err(e) => SweepEntry {
                        health: None,
                        error: Some(e.report()),
                    },
                })
                .collect();
            out(&entries)
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RunbookIn {
    store: Option<String>,
    upgrade_table: Option<UpgradeTable>,
}

/// `render_runbook`: the recovery runbook of `site` (Markdown), naming files from the newest
/// set in the store when given.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn render_runbook(
    env: &Env,
    site: Value,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let site = site_input(site)?;
            let o: RunbookIn = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => RunbookIn::default(),
            };
            let store = o.store.as_deref().map(store_at).transpose()?;
            let table = o.upgrade_table.unwrap_or_default();
            Ok(Value::String(bt_dr_core::render_runbook(
                &site,
                store.as_ref(),
                &table,
            )?))
        })
    })
}

/// `plan_failover_with`: looks at both appliances of the pair and plans `mode` (`"planned"` or
/// `"unplanned"`), refusing what is unsafe. No side effects. `options` are the failover
/// options ([`FailoverOptions::from_json`], camelCase): `forceUnknown`,
/// `forceCertificateMismatch`, `redirect`, `siteUrl`, … shape the plan.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
#[allow(clippy::too_many_arguments)]
pub fn plan_failover<'e>(
    env: &'e Env,
    site: Value,
    first_hostname: String,
    first_client: &Client,
    second_hostname: String,
    second_client: &Client,
    mode: String,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let (a, b) = (first_client.core(), second_client.core());
        promise(env, async move {
            let site = site_input(site)?;
            let mode: FailoverMode = enum_input("mode", &mode)?;
            let opts = failover_options(options)?;
            out(&bt_dr_core::failover::plan_failover_with(
                &site,
                (&first_hostname, &a),
                (&second_hostname, &b),
                mode,
                &opts,
            )
            .await?)
        })
    })
}

/// `execute_failover`: re-plans, refuses when the world moved, redirects traffic (the
/// `redirect` command hook), changes the role, polls until the pair settles and confirms
/// clients; resolves to the timeline. `options` as for [`plan_failover`].
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
#[allow(clippy::too_many_arguments)]
pub fn execute_failover<'e>(
    env: &'e Env,
    site: Value,
    first_hostname: String,
    first_client: &Client,
    second_hostname: String,
    second_client: &Client,
    plan: Value,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let (a, b) = (first_client.core(), second_client.core());
        promise(env, async move {
            let site = site_input(site)?;
            let plan: FailoverPlan = input("plan", plan)?;
            let opts = failover_options(options)?;
            out(&bt_dr_core::execute_failover(
                &site,
                (&first_hostname, &a),
                (&second_hostname, &b),
                &plan,
                &opts,
            )
            .await?)
        })
    })
}

/// `check_atlas_cluster`: checks an Atlas cluster after a change — membership as the primary
/// lists it, `check_health` of every node, and connected clients sampled twice per node
/// (`hostnames[i]` through `clients[i]`). `options` is `{ sampleIntervalMs? }`.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn check_atlas_cluster<'e>(
    env: &'e Env,
    site: Value,
    hostnames: Vec<String>,
    clients: Vec<ClassInstance<'e, Client>>,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let pairs: Vec<_> = hostnames
            .into_iter()
            .zip(clients.iter().map(|c| c.core()))
            .collect();
        promise(env, async move {
            let site = site_input(site)?;
            let opts = AtlasCheckOptions::from_json(options.map(to_snake).unwrap_or(Value::Null))?;
            out(&bt_dr_core::check_atlas_cluster(&site, &pairs, &opts).await?)
        })
    })
}
