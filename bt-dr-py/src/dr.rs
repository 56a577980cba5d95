//! The DR operations (backup sets, retention, audit, runbook, failover): conversions around
//! bt-dr-core's functions. Network work runs with the GIL released on a client's runtime.

use std::path::PathBuf;

use bt_dr_core::api::{CancelToken, Client};
use bt_dr_core::retention::RetentionCandidate;
use bt_dr_core::{
    AtlasCheckOptions, AuditInput, AuditOptions, AuditReport, BackupSetOptions, BackupStore,
    DEFAULT_JOB_CONCURRENCY, Error, FailoverMode, FailoverOptions, FailoverPlan, Inventory,
    RetentionPlan, RetentionPolicy, Site, SiteLive, UpgradeTable,
};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use crate::client::{NativeClient, ProgressHook, run_blocking, run_cancellable};
use crate::convert::{from_json, from_py, py_to_json, to_py};
use crate::errors::py_result;

fn store_at(root: PathBuf) -> PyResult<BackupStore> {
    py_result(BackupStore::open(root))
}

fn site_from(obj: &Bound<'_, PyAny>) -> PyResult<Site> {
    let site: Site = from_py(obj, "site")?;
    py_result(site.validate())?;
    Ok(site)
}

fn table_from(obj: Option<&Bound<'_, PyAny>>) -> PyResult<UpgradeTable> {
    match obj {
        Some(t) if !t.is_none() => from_py(t, "upgrade table"),
        _ => Ok(UpgradeTable::default()),
    }
}

/// A JSON-compatible Python value, or JSON `null` for None / absent.
fn json_or_null(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match obj {
        Some(o) if !o.is_none() => py_to_json(o),
        _ => Ok(Value::Null),
    }
}

/// Backup set options from their JSON form (the core's parser: unknown keys are refused,
/// secrets become `SecretString` at once), with the other appliances' clients set on them.
fn set_options(
    obj: Option<&Bound<'_, PyAny>>,
    others: &[PyRef<'_, NativeClient>],
) -> PyResult<BackupSetOptions> {
    let mut o = py_result(BackupSetOptions::from_json(json_or_null(obj)?))?;
    o.other_appliances = others
        .iter()
        .map(|c| c.live().map(|bc| bc.client().clone()))
        .collect::<PyResult<Vec<Client>>>()?;
    Ok(o)
}

/// Takes one backup set of `site` through `client` into the store at `store`.
/// `other_appliances`: clients of the site's other appliances (a pair's backup) to take an
/// NSB from too.
#[pyfunction]
#[pyo3(signature = (store, site, client, options=None, progress=None, other_appliances=Vec::new()))]
pub fn run_backup_set<'py>(
    py: Python<'py>,
    store: PathBuf,
    site: &Bound<'py, PyAny>,
    client: &NativeClient,
    options: Option<&Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
    other_appliances: Vec<PyRef<'py, NativeClient>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let store = store_at(store)?;
        let site = site_from(site)?;
        let mut opts = set_options(options, &other_appliances)?;
        let hook = ProgressHook::new(progress);
        opts.progress = Some(hook.progress());
        opts.cancel = Some(hook.token());
        let bc = client.live()?;
        let c = bc.client().clone();
        let v = hook.run(
            py,
            &bc,
            async move { bt_dr_core::run_backup_set(&store, &site, &c, &opts).await },
            |rep| rep.manifest.nsb_size(),
        )?;
        to_py(py, &v)
    })
}

/// One job of [`run_backup_job`] as Python hands it over.
type JobItem<'py> = (
    Bound<'py, PyAny>,
    PyRef<'py, NativeClient>,
    Option<Bound<'py, PyAny>>,
    Vec<PyRef<'py, NativeClient>>,
);

/// Backs up many sites concurrently: `jobs` is a list of `(site, client, options,
/// other_appliances)`; `concurrency` None is the core's [`DEFAULT_JOB_CONCURRENCY`].
#[pyfunction]
#[pyo3(signature = (store, jobs, concurrency=None))]
pub fn run_backup_job<'py>(
    py: Python<'py>,
    store: PathBuf,
    jobs: &Bound<'py, PyList>,
    concurrency: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let concurrency = concurrency.unwrap_or(DEFAULT_JOB_CONCURRENCY);
        let store = store_at(store)?;
        let mut sites = Vec::new();
        let mut runtime = None;
        let token = CancelToken::new();
        for item in jobs.iter() {
            let (site, client, options, others): JobItem<'py> = item.extract()?;
            let bc = client.live()?;
            sites.push(bt_dr_core::backup_set::JobSite {
                site: site_from(&site)?,
                client: bc.client().clone(),
                options: BackupSetOptions {
                    cancel: Some(token.clone()),
                    ..set_options(options.as_ref(), &others)?
                },
            });
            runtime.get_or_insert(bc);
        }
        let Some(bc) = runtime else {
            return to_py(py, &bt_dr_core::backup_set::JobReport { sites: Vec::new() });
        };
        let report = run_cancellable(py, &bc, Some(token), async move {
            Ok(bt_dr_core::run_backup_job(&store, sites, concurrency).await)
        })?;
        to_py(py, &report)
    })
}

/// Re-hashes a backup set against its manifest; the result is the core's view (the report
/// with its `ok` verdict).
#[pyfunction]
pub fn verify_backup_set(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
    crate::errors::guard(|| {
        let r = py
            .detach(|| bt_dr_core::verify_backup_set(&path))
            .map_err(crate::errors::to_pyerr)?;
        to_py(py, &r.view())
    })
}

/// The complete backup sets of a site, newest first.
#[pyfunction]
pub fn list_backup_sets<'py>(
    py: Python<'py>,
    store: PathBuf,
    site: &str,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let store = store_at(store)?;
        to_py(py, &py_result(store.list_sets(site))?)
    })
}

/// Plans retention: from the store's sets of `site` (verifying the newest), or from `sets`
/// (`[{id, created_at, verified}]`) when given.
#[pyfunction]
#[pyo3(signature = (site, policy, store=None, sets=None))]
pub fn plan_retention<'py>(
    py: Python<'py>,
    site: &str,
    policy: &Bound<'py, PyAny>,
    store: Option<PathBuf>,
    sets: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let policy: RetentionPolicy = from_py(policy, "retention policy")?;
        let plan = match (store, sets) {
            (_, Some(s)) if !s.is_none() => {
                let c: Vec<RetentionCandidate> = from_py(s, "sets")?;
                py_result(bt_dr_core::plan_retention(site, &c, &policy))?
            }
            (Some(root), _) => {
                let st = store_at(root)?;
                py.detach(|| st.plan_retention(site, &policy))
                    .map_err(crate::errors::to_pyerr)?
            }
            _ => {
                return py_result(Err(Error::invalid_input(
                    "plan_retention",
                    "give a store or the sets",
                )));
            }
        };
        to_py(py, &plan)
    })
}

/// Removes the sets `plan` marks (re-checking the newest verified set is kept); returns their ids.
#[pyfunction]
pub fn apply_retention(
    py: Python<'_>,
    store: PathBuf,
    plan: &Bound<'_, PyAny>,
) -> PyResult<Vec<String>> {
    crate::errors::guard(|| {
        let plan: RetentionPlan = from_py(plan, "retention plan")?;
        let st = store_at(store)?;
        py.detach(|| st.apply_retention(&plan))
            .map_err(crate::errors::to_pyerr)
    })
}

fn clients_of<'py>(
    list: &Bound<'py, PyAny>,
) -> PyResult<Vec<(String, bt_dr_core::api::BlockingClient)>> {
    let mut out = Vec::new();
    for item in list.try_iter()? {
        let (host, c): (String, PyRef<'py, NativeClient>) = item?.extract()?;
        out.push((host, c.live()?));
    }
    Ok(out)
}

/// What the appliances of a site say right now: `clients` is `[(hostname, client)]`.
#[pyfunction]
pub fn collect_live<'py>(
    py: Python<'py>,
    site: &str,
    clients: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let list = clients_of(clients)?;
        let Some((_, bc)) = list.first().cloned() else {
            return to_py(
                py,
                &SiteLive {
                    site: site.to_string(),
                    appliances: Vec::new(),
                },
            );
        };
        let pairs: Vec<(String, bt_dr_core::api::Client)> = list
            .into_iter()
            .map(|(h, b)| (h, b.client().clone()))
            .collect();
        let site = site.to_string();
        let live = run_blocking(py, &bc, async move {
            Ok(bt_dr_core::collect_live(&site, &pairs).await)
        })?;
        to_py(py, &live)
    })
}

/// Runs the readiness audit; the result is the core's view (the report with its `worst`).
#[pyfunction]
#[pyo3(signature = (inventory, store=None, live=None, upgrade_table=None, options=None))]
pub fn audit<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    store: Option<PathBuf>,
    live: Option<&Bound<'py, PyAny>>,
    upgrade_table: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let inv: Inventory = from_py(inventory, "inventory")?;
        py_result(inv.validate())?;
        let store = store.map(store_at).transpose()?;
        let live: Vec<SiteLive> = match live {
            Some(l) if !l.is_none() => from_py(l, "live")?,
            _ => Vec::new(),
        };
        let table = table_from(upgrade_table)?;
        // The core's parser (unknown keys refused, `null` the defaults); absent values come
        // from the inventory's thresholds (the core's rule).
        let opts = py_result(AuditOptions::from_json(json_or_null(options)?))?;
        let report = py
            .detach(|| {
                bt_dr_core::audit(AuditInput {
                    inventory: &inv,
                    store: store.as_ref(),
                    live: &live,
                    upgrade_table: &table,
                    options: &opts,
                })
            })
            .map_err(crate::errors::to_pyerr)?;
        to_py(py, &report.view())
    })
}

/// The Markdown form of an audit report (dict; the view `audit` returns reads back as the
/// report, its `worst` ignored by the core).
#[pyfunction]
pub fn audit_markdown(report: &Bound<'_, PyAny>) -> PyResult<String> {
    crate::errors::guard(|| {
        let r: AuditReport = from_py(report, "audit report")?;
        Ok(r.to_markdown())
    })
}

/// Renders a site's recovery runbook (Markdown).
#[pyfunction]
#[pyo3(signature = (site, store=None, upgrade_table=None))]
pub fn render_runbook(
    py: Python<'_>,
    site: &Bound<'_, PyAny>,
    store: Option<PathBuf>,
    upgrade_table: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let store = store.map(store_at).transpose()?;
        let table = table_from(upgrade_table)?;
        py.detach(|| bt_dr_core::render_runbook(&site, store.as_ref(), &table))
            .map_err(crate::errors::to_pyerr)
    })
}

fn mode_of(s: &str) -> PyResult<FailoverMode> {
    from_json(Value::String(s.to_string()), "mode")
}

type Side<'py> = (String, PyRef<'py, NativeClient>);

/// Failover options from their JSON form (the core's parser: times in milliseconds, unknown
/// keys refused, `null` for the defaults).
fn failover_options(obj: Option<&Bound<'_, PyAny>>) -> PyResult<FailoverOptions> {
    py_result(FailoverOptions::from_json(json_or_null(obj)?))
}

/// Plans a failover of `site` (no side effects); `first`/`second` are `(hostname, client)`,
/// `options` the core's JSON form of the failover options (`force_unknown`,
/// `force_certificate_mismatch`, `redirect`, `site_url`... shape the plan).
#[pyfunction]
#[pyo3(signature = (site, first, second, mode, options=None))]
pub fn plan_failover<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    first: Side<'py>,
    second: Side<'py>,
    mode: &str,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let mode = mode_of(mode)?;
        let opts = failover_options(options)?;
        let (ha, a) = (first.0, first.1.live()?);
        let (hb, b) = (second.0, second.1.live()?);
        let (ca, cb) = (a.client().clone(), b.client().clone());
        let plan = run_blocking(py, &a, async move {
            bt_dr_core::failover::plan_failover_with(&site, (&ha, &ca), (&hb, &cb), mode, &opts)
                .await
        })?;
        to_py(py, &plan)
    })
}

/// Executes a plan and returns its timeline; `options` as for [`plan_failover`] (execution
/// plans afresh with them), plus the timings.
#[pyfunction]
#[pyo3(signature = (site, first, second, plan, options=None))]
pub fn execute_failover<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    first: Side<'py>,
    second: Side<'py>,
    plan: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let plan: FailoverPlan = from_py(plan, "plan")?;
        let opts = failover_options(options)?;
        let (ha, a) = (first.0, first.1.live()?);
        let (hb, b) = (second.0, second.1.live()?);
        let (ca, cb) = (a.client().clone(), b.client().clone());
        let t = run_blocking(py, &a, async move {
            bt_dr_core::execute_failover(&site, (&ha, &ca), (&hb, &cb), &plan, &opts).await
        })?;
        to_py(py, &t)
    })
}

/// Checks an Atlas cluster after a change: `clients` is `[(hostname, client)]` (every traffic
/// node and at least one primary node), `options` the core's `AtlasCheckOptions` dict.
#[pyfunction]
#[pyo3(signature = (site, clients, options=None))]
pub fn check_atlas_cluster<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    clients: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let opts = py_result(AtlasCheckOptions::from_json(json_or_null(options)?))?;
        let list = clients_of(clients)?;
        let runtime = list.first().map(|(_, bc)| bc.clone());
        let pairs: Vec<(String, Client)> = list
            .into_iter()
            .map(|(h, b)| (h, b.client().clone()))
            .collect();
        let fut = async move { bt_dr_core::check_atlas_cluster(&site, &pairs, &opts).await };
        let report = match runtime {
            Some(bc) => run_blocking(py, &bc, fut)?,
            // No client at all: the core refuses before any I/O; a small runtime runs it.
            None => py_result(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Internal {
                        reason: format!("cannot start a runtime: {e}"),
                    })
                    .and_then(|rt| rt.block_on(fut)),
            )?,
        };
        to_py(py, &report)
    })
}

/// The hostnames of a site's intended primary and backup appliances.
#[pyfunction]
pub fn site_pair(site: &Bound<'_, PyAny>) -> PyResult<(Option<String>, Option<String>)> {
    crate::errors::guard(|| {
        let s = site_from(site)?;
        Ok((
            s.intended_primary().map(|a| a.hostname.clone()),
            s.intended_backup().map(|a| a.hostname.clone()),
        ))
    })
}
