//! The DR operations (backup sets, retention, audit, runbook, failover): conversions around
//! bt-dr-core's functions. Network work runs with the GIL released on a client's runtime.

use std::path::PathBuf;
use std::time::Duration;

use bt_dr_core::api::CancelToken;
use bt_dr_core::backup_set::VaultKeyInput;
use bt_dr_core::retention::RetentionCandidate;
use bt_dr_core::{
    AuditInput, AuditOptions, AuditReport, BackupSetOptions, BackupStore, Error, FailoverMode,
    FailoverOptions, FailoverPlan, Inventory, RetentionPlan, RetentionPolicy, SecretString, Site,
    SiteLive, UpgradeTable,
};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use crate::client::{NativeClient, ProgressHook, run_blocking, run_cancellable};
use crate::convert::{from_json, from_py, json_to_py, py_to_json, to_json, to_py};
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

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Backup set options from a dict; secrets become `SecretString` at once.
fn set_options(obj: Option<&Bound<'_, PyAny>>) -> PyResult<BackupSetOptions> {
    let mut o = BackupSetOptions::default();
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(o);
    };
    let v = py_to_json(obj)?;
    let known = [
        "backup_password",
        "recordings",
        "first_run_recordings_days",
        "certificate_bundle",
        "certificate_passphrase",
        "appliance_records",
        "vault_key",
    ];
    if let Some(k) = v
        .as_object()
        .and_then(|map| map.keys().find(|k| !known.contains(&k.as_str())))
    {
        return py_result(Err(Error::invalid_input(
            "backup set options",
            format!("unknown option `{k}`"),
        )));
    }
    o.backup_password = opt_str(&v, "backup_password").map(SecretString::from);
    if let Some(b) = v.get("recordings").and_then(Value::as_bool) {
        o.recordings = b;
    }
    if let Some(n) = v.get("first_run_recordings_days").and_then(Value::as_u64) {
        o.first_run_recordings_days = n as u32;
    }
    o.certificate_bundle = opt_str(&v, "certificate_bundle").map(PathBuf::from);
    o.certificate_passphrase = opt_str(&v, "certificate_passphrase").map(SecretString::from);
    if let Some(list) = v.get("appliance_records").filter(|x| !x.is_null()) {
        o.appliance_records = from_json(list.clone(), "appliance_records")?;
    }
    if let Some(k) = v.get("vault_key").filter(|x| !x.is_null()) {
        o.vault_key = Some(VaultKeyInput {
            path: opt_str(k, "path").map(PathBuf::from).ok_or_else(|| {
                crate::errors::to_pyerr(Error::invalid_input("vault_key.path", "is required"))
            })?,
            password_protected: k
                .get("password_protected")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Ok(o)
}

/// Takes one backup set of `site` through `client` into the store at `store`.
#[pyfunction]
#[pyo3(signature = (store, site, client, options=None, progress=None))]
pub fn run_backup_set<'py>(
    py: Python<'py>,
    store: PathBuf,
    site: &Bound<'py, PyAny>,
    client: &NativeClient,
    options: Option<&Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let store = store_at(store)?;
        let site = site_from(site)?;
        let mut opts = set_options(options)?;
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

/// Local trait so the hook can report the NSB size of a set.
trait NsbSize {
    fn nsb_size(&self) -> u64;
}

impl NsbSize for bt_dr_core::Manifest {
    fn nsb_size(&self) -> u64 {
        self.files_of(bt_dr_core::backup_set::FileKind::Nsb)
            .map(|f| f.size)
            .next()
            .unwrap_or(0)
    }
}

/// Backs up many sites concurrently: `jobs` is a list of `(site, client, options)`.
#[pyfunction]
#[pyo3(signature = (store, jobs, concurrency=4))]
pub fn run_backup_job<'py>(
    py: Python<'py>,
    store: PathBuf,
    jobs: &Bound<'py, PyList>,
    concurrency: usize,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let store = store_at(store)?;
        let mut sites = Vec::new();
        let mut runtime = None;
        let token = CancelToken::new();
        for item in jobs.iter() {
            let (site, client, options): (
                Bound<'py, PyAny>,
                PyRef<'py, NativeClient>,
                Option<Bound<'py, PyAny>>,
            ) = item.extract()?;
            let bc = client.live()?;
            sites.push(bt_dr_core::backup_set::JobSite {
                site: site_from(&site)?,
                client: bc.client().clone(),
                options: BackupSetOptions {
                    cancel: Some(token.clone()),
                    ..set_options(options.as_ref())?
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

/// Re-hashes a backup set against its manifest.
#[pyfunction]
pub fn verify_backup_set(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
    crate::errors::guard(|| {
        let r = py
            .detach(|| bt_dr_core::verify_backup_set(&path))
            .map_err(crate::errors::to_pyerr)?;
        let mut v = to_json(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), r.ok().into());
        }
        json_to_py(py, &v)
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

/// Runs the readiness audit.
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
        let opts: AuditOptions = match options {
            Some(o) if !o.is_none() => {
                let mut v = to_json(&AuditOptions::default())?;
                if let (Some(base), Value::Object(over)) = (v.as_object_mut(), py_to_json(o)?) {
                    for (k, x) in over {
                        base.insert(k, x);
                    }
                }
                from_json(v, "audit options")?
            }
            _ => AuditOptions::default(),
        };
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
        let mut v = to_json(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("worst".into(), to_json(&report.worst())?);
        }
        json_to_py(py, &v)
    })
}

/// The Markdown form of an audit report (dict).
#[pyfunction]
pub fn audit_markdown(report: &Bound<'_, PyAny>) -> PyResult<String> {
    crate::errors::guard(|| {
        let mut v = py_to_json(report)?;
        if let Some(o) = v.as_object_mut() {
            o.remove("worst");
        }
        let r: AuditReport = from_json(v, "audit report")?;
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

/// Failover options from the keyword arguments (None: the core's default).
fn failover_options(
    settle_timeout: Option<f64>,
    poll_interval: Option<f64>,
    force_unknown: Option<bool>,
    demote_old_primary: Option<bool>,
) -> PyResult<FailoverOptions> {
    let mut opts = FailoverOptions::default();
    for (v, slot, field) in [
        (settle_timeout, &mut opts.settle_timeout, "settle_timeout"),
        (poll_interval, &mut opts.poll_interval, "poll_interval"),
    ] {
        if let Some(s) = v {
            if !(s > 0.0 && s.is_finite()) {
                return py_result(Err(Error::invalid_input(
                    field,
                    "must be a positive number of seconds",
                )));
            }
            *slot = Duration::from_secs_f64(s);
        }
    }
    if let Some(f) = force_unknown {
        opts.force_unknown = f;
    }
    if let Some(d) = demote_old_primary {
        opts.demote_old_primary = d;
    }
    Ok(opts)
}

/// Plans a failover of `site` (no side effects); `first`/`second` are `(hostname, client)`.
/// `force_unknown`: plan although the old primary's state is unknown (answered, but with a
/// TLS, pin, authentication, permission, rate-limit, parse or API error).
#[pyfunction]
#[pyo3(signature = (site, first, second, mode, force_unknown=false))]
pub fn plan_failover<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    first: Side<'py>,
    second: Side<'py>,
    mode: &str,
    force_unknown: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let mode = mode_of(mode)?;
        let opts = failover_options(None, None, Some(force_unknown), None)?;
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

/// Executes a plan and returns its timeline. `force_unknown` as for planning (execution
/// plans afresh); `demote_old_primary`: the settle loop may demote an old primary that still
/// claims primary with force (off: bt-dr demotes nothing by itself).
#[pyfunction]
#[pyo3(signature = (site, first, second, plan, settle_timeout=None, poll_interval=None, force_unknown=false, demote_old_primary=false))]
#[allow(clippy::too_many_arguments)]
pub fn execute_failover<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    first: Side<'py>,
    second: Side<'py>,
    plan: &Bound<'py, PyAny>,
    settle_timeout: Option<f64>,
    poll_interval: Option<f64>,
    force_unknown: bool,
    demote_old_primary: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site = site_from(site)?;
        let plan: FailoverPlan = from_py(plan, "plan")?;
        let opts = failover_options(
            settle_timeout,
            poll_interval,
            Some(force_unknown),
            Some(demote_old_primary),
        )?;
        let (ha, a) = (first.0, first.1.live()?);
        let (hb, b) = (second.0, second.1.live()?);
        let (ca, cb) = (a.client().clone(), b.client().clone());
        let t = run_blocking(py, &a, async move {
            bt_dr_core::execute_failover(&site, (&ha, &ca), (&hb, &cb), &plan, &opts).await
        })?;
        to_py(py, &t)
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
