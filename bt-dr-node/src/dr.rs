//! DR operations: backup sets (run, job, verify, list), retention (plan, apply), the readiness
//! audit with its live inputs, the runbook, and failover (plan, execute). Each is one call into
//! bt-dr-core; the binding only converts arguments and results.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bt_dr_core::backup_set::VaultKeyInput;
use bt_dr_core::{
    AuditInput, AuditOptions, AuditReport, BackupSetOptions, BackupStore, Error, ErrorKind,
    FailoverMode, FailoverOptions, FailoverPlan, Inventory, JobSite, RetentionPlan,
    RetentionPolicy, SecretString, Site, SiteLive, UpgradeTable,
};
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{ClassInstance, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{CancelToken, Client, ProgressFn, progress_of};
use crate::convert::{blocking, enum_input, input, js_error, out, promise, set_key, to_camel};

fn store_at(path: &str) -> bt_dr_core::Result<BackupStore> {
    BackupStore::open(path)
}

fn site_input(v: Value) -> bt_dr_core::Result<Site> {
    let s: Site = input("site", v)?;
    s.validate()?;
    Ok(s)
}

/// The `code` of a core error kind named in a details object (`{"kind": "auth", …}`).
fn with_code(mut details: Value) -> Value {
    let code = details
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| ErrorKind::ALL.iter().find(|x| x.as_str() == k))
        .map(|k| k.code());
    if let Some(code) = code {
        set_key(&mut details, "code", Value::String(code.to_string()));
    }
    details
}

fn error_value(e: &Error) -> Value {
    with_code(to_camel(e.details()))
}

/// Options of one backup set, as JavaScript spells them (secrets are wrapped at once).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SetOptionsIn {
    backup_password: Option<String>,
    recordings: Option<bool>,
    first_run_recordings_days: Option<u32>,
    certificate_bundle: Option<PathBuf>,
    certificate_passphrase: Option<String>,
    appliance_records: Vec<PathBuf>,
    vault_key: Option<VaultKeyInput>,
}

fn set_options(v: Option<Value>) -> bt_dr_core::Result<BackupSetOptions> {
    let o: SetOptionsIn = match v {
        Some(v) if !v.is_null() => input("options", v)?,
        _ => SetOptionsIn::default(),
    };
    let d = BackupSetOptions::default();
    Ok(BackupSetOptions {
        backup_password: o.backup_password.map(SecretString::from),
        recordings: o.recordings.unwrap_or(d.recordings),
        first_run_recordings_days: o
            .first_run_recordings_days
            .unwrap_or(d.first_run_recordings_days),
        certificate_bundle: o.certificate_bundle,
        certificate_passphrase: o.certificate_passphrase.map(SecretString::from),
        appliance_records: o.appliance_records,
        vault_key: o.vault_key,
        progress: None,
        cancel: None,
    })
}

/// `run_backup_set`: takes one backup set (NSB, recordings, certificate bundle, `/appliance`
/// records, Vault key record, manifest) of `site` through `client` into the store at `store`.
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
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let client = client.core();
        let progress = progress_of(on_progress);
        let cancel = cancel.map(CancelToken::core);
        promise(env, async move {
            let store = store_at(&store)?;
            let site = site_input(site)?;
            let mut opts = set_options(options)?;
            opts.progress = progress;
            opts.cancel = cancel;
            out(&bt_dr_core::run_backup_set(&store, &site, &client, &opts).await?)
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
/// most `concurrency` at a time; one failing site does not stop the others.
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
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let clients: Vec<_> = clients.iter().map(|c| c.core()).collect();
        let cb = on_progress.map(Arc::new);
        let cancel = cancel.map(CancelToken::core);
        let prepared = (|| {
            if sites.len() != clients.len() || (!options.is_empty() && options.len() != sites.len())
            {
                return Err(Error::invalid_input(
                    "sites",
                    "sites, clients and options must have the same length",
                ));
            }
            let mut jobs = Vec::with_capacity(sites.len());
            let mut options = options.into_iter();
            for (site, client) in sites.into_iter().zip(clients) {
                let site = site_input(site)?;
                let mut opts = set_options(options.next())?;
                if let Some(cb) = &cb {
                    let cb = cb.clone();
                    let name = site.name.clone();
                    opts.progress = Some(Arc::new(crate::client::throttled(move |done, total| {
                        cb.call(
                            JobProgressEvent {
                                site: name.clone(),
                                done: done as f64,
                                total: total.map(|t| t as f64),
                            },
                            ThreadsafeFunctionCallMode::NonBlocking,
                        );
                    })));
                }
                opts.cancel = cancel.clone();
                jobs.push(JobSite {
                    site,
                    client,
                    options: opts,
                });
            }
            Ok(jobs)
        })();
        let jobs = prepared.map_err(|e| js_error(env, &e))?;
        let concurrency = concurrency.unwrap_or(4).max(1) as usize;
        promise(env, async move {
            let store = store_at(&store)?;
            let report = bt_dr_core::run_backup_job(&store, jobs, concurrency).await;
            let mut v = out(&report)?;
            if let Some(sites) = v.get_mut("sites").and_then(Value::as_array_mut) {
                for s in sites {
                    if let Some(e) = s.get_mut("error")
                        && !e.is_null()
                    {
                        *e = with_code(e.take());
                    }
                }
            }
            Ok(v)
        })
    })
}

/// `verify_backup_set`: re-hashes every file of the set at `path` against its manifest.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn verify_backup_set(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let r = bt_dr_core::verify_backup_set(&path)?;
            let mut v = out(&r)?;
            set_key(&mut v, "ok", Value::Bool(r.ok()));
            Ok(v)
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct AuditIn {
    store: Option<String>,
    live: Vec<SiteLive>,
    upgrade_table: Option<UpgradeTable>,
    max_backup_age_hours: Option<u32>,
    max_sync_age_hours: Option<u32>,
    certificate_horizon_days: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    now: Option<time::OffsetDateTime>,
}

/// `audit`: the readiness audit of `inventory`, with the backup store, live state
/// (from `collectLive`) and upgrade table when given.
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
            let o: AuditIn = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => AuditIn::default(),
            };
            let d = AuditOptions::default();
            let opts = AuditOptions {
                max_backup_age_hours: o.max_backup_age_hours.unwrap_or(d.max_backup_age_hours),
                max_sync_age_hours: o.max_sync_age_hours.or(d.max_sync_age_hours),
                certificate_horizon_days: o
                    .certificate_horizon_days
                    .unwrap_or(d.certificate_horizon_days),
                now: o.now,
            };
            let store = o.store.as_deref().map(store_at).transpose()?;
            let table = o.upgrade_table.unwrap_or_default();
            out(&bt_dr_core::audit(AuditInput {
                inventory: &inv,
                store: store.as_ref(),
                live: &o.live,
                upgrade_table: &table,
                options: &opts,
            })?)
        })
    })
}

/// `audit` (report form): the core's Markdown rendering of an audit report.
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
            let live = bt_dr_core::collect_live(&site, &pairs).await;
            let mut v = out(&live)?;
            if let Some(apps) = v.get_mut("appliances").and_then(Value::as_array_mut) {
                for a in apps {
                    if let Some(e) = a.get_mut("error")
                        && !e.is_null()
                    {
                        *e = with_code(e.take());
                    }
                }
            }
            Ok(v)
        })
    })
}

/// Health of many appliances at once; each entry is `{health}` or `{error}`, in input order.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn health_sweep<'e>(
    env: &'e Env,
    clients: Vec<ClassInstance<'e, Client>>,
    concurrency: Option<u32>,
) -> napi::Result<PromiseRaw<'e, Value>> {
    crate::convert::guard(env, || {
        let clients: Vec<_> = clients.iter().map(|c| c.core()).collect();
        let n = concurrency.unwrap_or(8).max(1) as usize;
        promise(env, async move {
            let results = bt_dr_core::health_sweep(&clients, n).await;
            let mut v = Vec::with_capacity(results.len());
            for r in results {
                v.push(match r {
                    Ok(h) => json!({ "health": out(&h)?, "error": null }),
                    Err(e) => json!({ "health": null, "error": error_value(&e) }),
                });
            }
            Ok(Value::Array(v))
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

/// Options of planning (`{ forceUnknown }`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct PlanIn {
    force_unknown: Option<bool>,
}

/// `plan_failover_with`: looks at both appliances of the pair and plans `mode` (`"planned"` or
/// `"unplanned"`), refusing what is unsafe. No side effects. `options.forceUnknown` plans
/// although the old primary's state is unknown.
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
            let o: PlanIn = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => PlanIn::default(),
            };
            let opts = FailoverOptions {
                force_unknown: o.force_unknown.unwrap_or(false),
                ..FailoverOptions::default()
            };
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FailoverIn {
    settle_timeout_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
    force_unknown: Option<bool>,
    demote_old_primary: Option<bool>,
}

/// `execute_failover`: re-plans, refuses when the world moved, changes the role and polls until
/// the pair settles; resolves to the timeline.
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
            let o: FailoverIn = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => FailoverIn::default(),
            };
            let d = FailoverOptions::default();
            let opts = FailoverOptions {
                settle_timeout: o
                    .settle_timeout_ms
                    .map(Duration::from_millis)
                    .unwrap_or(d.settle_timeout),
                poll_interval: o
                    .poll_interval_ms
                    .map(Duration::from_millis)
                    .unwrap_or(d.poll_interval),
                force_unknown: o.force_unknown.unwrap_or(d.force_unknown),
                demote_old_primary: o.demote_old_primary.unwrap_or(d.demote_old_primary),
            };
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
