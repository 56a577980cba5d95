//! DR operations: backup sets and jobs, verify, retention, audit, runbook, failover.
//!
//! Sites are named by an inventory and a site name; the backup store is a folder path (created
//! when missing). Secrets (backup password, p12 passphrase) are separate arguments, never JSON.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use std::ffi::{c_char, c_void};

use bt_dr_core::api::BlockingClient;
use bt_dr_core::{AuditReport, FailoverOutcome, FailoverPlan, Inventory, RetentionPlan, SiteLive};

use super::client::{bt_dr_cancel_token, bt_dr_client, bt_dr_progress_callback, transfer};
use super::foundation::{bt_dr_inventory, bt_dr_severity, bt_dr_upgrade_table};
use super::{
    Failure, FfiResult, Out, arg_ref, arg_str, bt_dr_status, free_handle, guard, into_handle,
    opt_str,
};
use crate::mapping::{self, JobEntry};

/// A retention plan: which sets a policy keeps and removes (`bt_dr_plan_retention`).
#[derive(Debug)]
pub struct bt_dr_retention_plan {
    inner: RetentionPlan,
}

/// Live state of sites' appliances, collected for the audit (`bt_dr_live_state_collect`).
#[derive(Debug, Default)]
pub struct bt_dr_live_state {
    inner: Vec<SiteLive>,
}

/// The readiness audit result (`bt_dr_audit`).
#[derive(Debug)]
pub struct bt_dr_audit_report {
    inner: AuditReport,
}

/// A failover plan (`bt_dr_plan_failover`), to show and then hand to `bt_dr_execute_failover`.
#[derive(Debug)]
pub struct bt_dr_failover_plan {
    inner: FailoverPlan,
}

/// The sites of a backup job (`bt_dr_backup_job_add`), run by `bt_dr_run_backup_job`.
#[derive(Debug, Default)]
pub struct bt_dr_backup_job {
    entries: Vec<JobEntry>,
}

/// How an executed failover ended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum bt_dr_failover_outcome {
    /// The target is primary and the old primary backup (or gone, unplanned).
    Settled = 0,
    /// The roles did not settle in time.
    TimedOut = 1,
    /// Both appliances claim primary: demote the old primary by hand or with force.
    SplitBrain = 2,
    /// The redirect command failed or ran out of time; no role was changed.
    RedirectFailed = 3,
    /// After the redirect command, the site URL kept answering as another appliance (or not at
    /// all); no role was changed.
    RedirectMismatch = 4,
}

impl From<FailoverOutcome> for bt_dr_failover_outcome {
    fn from(o: FailoverOutcome) -> Self {
        match o {
            FailoverOutcome::Settled => Self::Settled,
            FailoverOutcome::TimedOut => Self::TimedOut,
            FailoverOutcome::SplitBrain => Self::SplitBrain,
            FailoverOutcome::RedirectFailed => Self::RedirectFailed,
            FailoverOutcome::RedirectMismatch => Self::RedirectMismatch,
        }
    }
}

unsafe fn site_arg(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
) -> FfiResult<bt_dr_core::Site> {
    Ok(unsafe { inventory_site(inventory, site)? }.1)
}

/// The inventory and its site named `site`.
unsafe fn inventory_site<'a>(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
) -> FfiResult<(&'a Inventory, bt_dr_core::Site)> {
    let inv = unsafe { arg_ref(inventory, "inventory")? };
    let name = unsafe { arg_str(site, "site")? };
    Ok((&inv.inner, mapping::site_of(&inv.inner, name)?))
}

/// `count` clients from an array (NULL allowed only with `count` 0).
unsafe fn client_array(
    clients: *const *const bt_dr_client,
    count: usize,
    name: &'static str,
) -> FfiResult<Vec<BlockingClient>> {
    if count > 0 && clients.is_null() {
        return Err(Failure::Null(name));
    }
    (0..count)
        .map(|i| {
            // SAFETY: an array of `count` elements (contract).
            let c = unsafe { *clients.add(i) };
            Ok(unsafe { arg_ref(c, name)? }.inner.clone())
        })
        .collect()
}

/// `count` (hostname, client) pairs from two parallel arrays.
unsafe fn host_clients(
    hostnames: *const *const c_char,
    clients: *const *const bt_dr_client,
    count: usize,
) -> FfiResult<Vec<(String, BlockingClient)>> {
    if count > 0 && hostnames.is_null() {
        return Err(Failure::Null("hostnames"));
    }
    let clients = unsafe { client_array(clients, count, "clients")? };
    clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // SAFETY: an array of `count` elements (contract).
            let h = unsafe { arg_str(*hostnames.add(i), "hostnames")? };
            Ok((h.to_string(), c))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// backup sets

/// Takes one backup set of `site` (a site of `inventory`) through `client` into the backup store
/// at `store_dir`: the NSB, reporting data since the last set (into the site's reporting
/// archive, which the set refers to), the certificate bundle, `/appliance` records, the Vault
/// key record, and a manifest. A failed or cancelled run leaves nothing.
///
/// `other_appliances` (`other_count` clients; NULL when 0) are the site's other appliances to
/// take an NSB from too, each through its own client — normally the backup appliance of a
/// failover pair, whose failover settings the data sync does not carry. Their NSBs go to
/// `appliances/<host>/` in the set and are listed in `manifest.appliance_nsbs`; a failure there
/// makes the set partial, not the call.
///
/// `options_json` may be NULL or `{"recordings": true, "reporting_kinds": ["session_report",
/// "session_recording", "show_my_screen_recording", "command_shell_recording",
/// "presentation_recording", "customer_exit_survey", "rep_exit_survey"],
/// "first_run_recordings_days": 7, "certificate_bundle": "/path/site.p12", "thresholds":
/// {"certificate_horizon_days": 30, "min_rsa_bits": 2048, ...}, "appliance_records":
/// ["/path/bt-a.toml"], "vault_key": {"path": "/path/vault.key", "password_protected": true}}`
/// (every field optional, parsed by the core; `reporting_kinds` absent = every kind the
/// product has; `thresholds` absent or null = `inventory`'s `[thresholds]` — the C API's
/// contract: a site comes with its inventory, whose limits the audit applies too). An unknown field, or a
/// secret in the JSON, is `BT_DR_STATUS_INVALID_INPUT`; malformed JSON `BT_DR_STATUS_PARSE`.
/// `backup_password` and `certificate_passphrase` may be NULL. `progress`, `userdata` and
/// `cancel` as for `bt_dr_download_backup` (progress is the NSB download's).
///
/// `*out_json`: `{"site", "set_id", "path", "partial": bool, "cleaned": {...}, "manifest":
/// {"format": 3, "site", "fqdn", "product", "site_version", "source_host", "created_at",
/// "completed_at", "nsb": {"file", "version", "password_protected"}, "appliance_nsbs":
/// [{"host", "base_url", "role": "primary"|"backup"|"none"|null, "file", "version",
/// "password_protected", "main": bool}] (absent unless other appliances were given), "files":
/// [{"path", "kind": "nsb"|"sidecar"|"certificate_bundle"|"appliance_record"|"vault_key"|
/// "vault_key_record", "size", "sha256"}], "recordings": {"since", "until", "count", "kinds":
/// [{"kind", "status": "ok"|"not_permitted"|"failed", "count", "since", "until", "error"?}]} |
/// null, "reporting": [{"kind", "lsid"?, "path" (relative to the site folder,
/// `reporting/<kind>/<file>`), "size", "sha256"}], "certificate": {"file", "leaf_sha256",
/// "leaf_not_after", "findings"} | null, "appliance_records": [identity], "vault_key": {"site",
/// "date": "YYYY-MM-DD", "file_name", "sha256", "size", "password_protected", "recorded_at"} |
/// null, "not_covered": [{"id", "label", "in_this_set", "save_instead"}], "findings":
/// [finding], "parts": [{"part": "nsb"|"appliance_nsbs"|"recordings"|"certificate"|
/// "appliance_records"|"vault_key", "status": "ok"|"failed"|"skipped", "error"?}], "partial":
/// bool}}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_run_backup_set(
    store_dir: *const c_char,
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    client: *const bt_dr_client,
    other_appliances: *const *const bt_dr_client,
    other_count: usize,
    options_json: *const c_char,
    backup_password: *const c_char,
    certificate_passphrase: *const c_char,
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_run_backup_set", || {
        let store_dir = unsafe { arg_str(store_dir, "store_dir")? };
        let (inv, site) = unsafe { inventory_site(inventory, site)? };
        let c = unsafe { arg_ref(client, "client")? };
        let others = unsafe { client_array(other_appliances, other_count, "other_appliances")? };
        let opts_json = unsafe { opt_str(options_json, "options_json")? };
        let pw = unsafe { opt_str(backup_password, "backup_password")? };
        let pass = unsafe { opt_str(certificate_passphrase, "certificate_passphrase")? };
        let out = Out::new(out_json, "out_json")?;
        let t = unsafe { transfer(progress, userdata, cancel) };
        let others = others.iter().map(|o| o.client().clone()).collect();
        let opts = mapping::backup_set_options(opts_json, pw, pass, inv, others, &t)?;
        out.write_json(&mapping::run_backup_set(store_dir, &site, &c.inner, &opts)?)
    })
}

/// Makes an empty backup job. Free with `bt_dr_backup_job_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_backup_job_new(out_job: *mut *mut bt_dr_backup_job) -> bt_dr_status {
    guard("bt_dr_backup_job_new", || {
        Out::new(out_job, "out_job")?.write(into_handle(bt_dr_backup_job::default()));
        Ok(())
    })
}

/// Adds a site to a job: `site` of `inventory`, backed up through `client` (and the
/// `other_count` clients of `other_appliances`, NULL when 0), with the options and secrets of
/// `bt_dr_run_backup_set` (the options are checked now; the job keeps copies).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_backup_job_add(
    job: *mut bt_dr_backup_job,
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    client: *const bt_dr_client,
    other_appliances: *const *const bt_dr_client,
    other_count: usize,
    options_json: *const c_char,
    backup_password: *const c_char,
    certificate_passphrase: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_backup_job_add", || {
        // SAFETY: NULL or a live job used from one thread (contract).
        let job = unsafe { job.as_mut() }.ok_or(Failure::Null("job"))?;
        let (inv, site) = unsafe { inventory_site(inventory, site)? };
        let c = unsafe { arg_ref(client, "client")? };
        let others = unsafe { client_array(other_appliances, other_count, "other_appliances")? };
        let opts_json = unsafe { opt_str(options_json, "options_json")? };
        let pw = unsafe { opt_str(backup_password, "backup_password")? };
        let pass = unsafe { opt_str(certificate_passphrase, "certificate_passphrase")? };
        let others = others.iter().map(|o| o.client().clone()).collect();
        let options = mapping::backup_set_options(
            opts_json,
            pw,
            pass,
            inv,
            others,
            &mapping::Transfer::default(),
        )?;
        job.entries.push(JobEntry {
            site,
            client: c.inner.clone(),
            options,
        });
        Ok(())
    })
}

/// Frees a backup job. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_backup_job_free(job: *mut bt_dr_backup_job) -> bt_dr_status {
    guard("bt_dr_backup_job_free", || {
        unsafe { free_handle(job) };
        Ok(())
    })
}

/// Takes a backup set of every site of `job` into the store at `store_dir`, at most
/// `concurrency` at a time (0: the library's default, `bt_dr_default_job_concurrency`); one
/// failing site does not stop the others, so the call succeeds with per-site errors. `cancel`
/// may be NULL; it stops every site.
///
/// `*out_failed`: how many sites failed (no set taken). `*out_json`: `{"sites": [{"site",
/// "report": (the JSON of bt_dr_run_backup_set) | null, "error": {"kind", "code", "message",
/// "details"} | null, "partial": bool, "elapsed_ms"}]}` in the order the sites were added.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_run_backup_job(
    store_dir: *const c_char,
    job: *const bt_dr_backup_job,
    concurrency: usize,
    cancel: *const bt_dr_cancel_token,
    out_failed: *mut usize,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_run_backup_job", || {
        let store_dir = unsafe { arg_str(store_dir, "store_dir")? };
        let job = unsafe { arg_ref(job, "job")? };
        // SAFETY: NULL or a live token (contract).
        let cancel = unsafe { cancel.as_ref() }.map(|t| &t.inner);
        let out_f = Out::new(out_failed, "out_failed")?;
        let out_j = Out::new(out_json, "out_json")?;
        // 0 is C's "not given" (there are no optional arguments): the core's default.
        let concurrency = (concurrency != 0).then_some(concurrency);
        let report = mapping::run_backup_job(store_dir, &job.entries, concurrency, cancel)?;
        out_j.write_string(mapping::to_json(&report)?)?;
        out_f.write(report.failed().count());
        Ok(())
    })
}

/// How many sites `bt_dr_run_backup_job` takes at once when `concurrency` is 0: the core's
/// default, asked here so a C caller never copies the number.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_default_job_concurrency(
    out_concurrency: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_default_job_concurrency", || {
        Out::new(out_concurrency, "out_concurrency")?.write(bt_dr_core::DEFAULT_JOB_CONCURRENCY);
        Ok(())
    })
}

/// Re-hashes every file of the backup set in the folder `set_path` against its manifest.
///
/// `*out_ok`: every file is present and matches. `*out_json`: `{"path", "files_checked",
/// "bytes_checked", "problems": [{"path", "problem": "missing"|"size_mismatch"|"hash_mismatch"|
/// "unlisted"|"no_manifest"|"unsafe_path", "detail"}], "ok": bool}`. A folder that does not
/// exist is `BT_DR_STATUS_NOT_FOUND`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_verify_backup_set(
    set_path: *const c_char,
    out_ok: *mut bool,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_verify_backup_set", || {
        let path = unsafe { arg_str(set_path, "set_path")? };
        let out_o = Out::new(out_ok, "out_ok")?;
        let out_j = Out::new(out_json, "out_json")?;
        let (ok, v) = mapping::verify_backup_set(path)?;
        out_j.write_json(&v)?;
        out_o.write(ok);
        Ok(())
    })
}

/// The complete backup sets of `site` in the store at `store_dir`, newest first.
/// `*out_json`: `[{"id", "site", "path", "created_at", "manifest": {...}}]` (manifest as in
/// `bt_dr_run_backup_set`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_list_backup_sets(
    store_dir: *const c_char,
    site: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_list_backup_sets", || {
        let store_dir = unsafe { arg_str(store_dir, "store_dir")? };
        let site = unsafe { arg_str(site, "site")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::list_backup_sets(store_dir, site)?)
    })
}

// ---------------------------------------------------------------------------------------------
// retention

/// Plans retention of `site`'s sets in the store at `store_dir` (a dry run: nothing is removed;
/// the newest sets are verified so that the newest intact one is always kept).
/// `policy_json`: `{"keep_last": N, "keep_hourly": N, "keep_daily": N, "keep_weekly": N,
/// "keep_monthly": N, "keep_yearly": N, "keep_within_hours": N}`, at least one rule (an empty
/// policy is `BT_DR_STATUS_INVALID_INPUT`). Free with `bt_dr_retention_plan_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_plan_retention(
    store_dir: *const c_char,
    site: *const c_char,
    policy_json: *const c_char,
    out_plan: *mut *mut bt_dr_retention_plan,
) -> bt_dr_status {
    guard("bt_dr_plan_retention", || {
        let store_dir = unsafe { arg_str(store_dir, "store_dir")? };
        let site = unsafe { arg_str(site, "site")? };
        let policy = unsafe { arg_str(policy_json, "policy_json")? };
        let out = Out::new(out_plan, "out_plan")?;
        let inner = mapping::plan_retention(store_dir, site, policy)?;
        out.write(into_handle(bt_dr_retention_plan { inner }));
        Ok(())
    })
}

/// Like `bt_dr_plan_retention` over sets given as JSON, `[{"id", "created_at": RFC 3339,
/// "verified": bool | null}]`, instead of a store.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_plan_retention_for_sets(
    site: *const c_char,
    sets_json: *const c_char,
    policy_json: *const c_char,
    out_plan: *mut *mut bt_dr_retention_plan,
) -> bt_dr_status {
    guard("bt_dr_plan_retention_for_sets", || {
        let site = unsafe { arg_str(site, "site")? };
        let sets = unsafe { arg_str(sets_json, "sets_json")? };
        let policy = unsafe { arg_str(policy_json, "policy_json")? };
        let out = Out::new(out_plan, "out_plan")?;
        let inner = mapping::plan_retention_for_sets(site, sets, policy)?;
        out.write(into_handle(bt_dr_retention_plan { inner }));
        Ok(())
    })
}

/// A retention plan from its JSON (as written by `bt_dr_retention_plan_to_json`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_retention_plan_from_json(
    plan_json: *const c_char,
    out_plan: *mut *mut bt_dr_retention_plan,
) -> bt_dr_status {
    guard("bt_dr_retention_plan_from_json", || {
        let text = unsafe { arg_str(plan_json, "plan_json")? };
        let out = Out::new(out_plan, "out_plan")?;
        let inner = mapping::retention_plan(text)?;
        out.write(into_handle(bt_dr_retention_plan { inner }));
        Ok(())
    })
}

/// The plan as JSON: `{"site", "keep": [{"id", "reasons": ["last 3", "daily (2026-11-20)",
/// "newest verified set", ...]}], "remove": ["<set id>", ...]}`, newest first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_retention_plan_to_json(
    plan: *const bt_dr_retention_plan,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_retention_plan_to_json", || {
        let p = unsafe { arg_ref(plan, "plan")? };
        Out::new(out_json, "out_json")?.write_string(mapping::to_json(&p.inner)?)
    })
}

/// How many sets the plan removes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_retention_plan_remove_count(
    plan: *const bt_dr_retention_plan,
    out_count: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_retention_plan_remove_count", || {
        let p = unsafe { arg_ref(plan, "plan")? };
        Out::new(out_count, "out_count")?.write(p.inner.remove.len());
        Ok(())
    })
}

/// Frees a retention plan. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_retention_plan_free(
    plan: *mut bt_dr_retention_plan,
) -> bt_dr_status {
    guard("bt_dr_retention_plan_free", || {
        unsafe { free_handle(plan) };
        Ok(())
    })
}

/// Removes the sets `plan` marks from the store at `store_dir`, after checking again that the
/// newest verified set is not among them (`BT_DR_STATUS_REFUSED` otherwise).
/// `*out_json`: the removed set ids, `["<set id>", ...]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_apply_retention(
    store_dir: *const c_char,
    plan: *const bt_dr_retention_plan,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_apply_retention", || {
        let store_dir = unsafe { arg_str(store_dir, "store_dir")? };
        let p = unsafe { arg_ref(plan, "plan")? };
        let out = Out::new(out_json, "out_json")?;
        let removed = mapping::apply_retention(store_dir, &p.inner)?;
        out.write_string(mapping::to_json(&removed)?)
    })
}

// ---------------------------------------------------------------------------------------------
// audit

/// Makes an empty live-state collection. Free with `bt_dr_live_state_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_live_state_new(
    out_live: *mut *mut bt_dr_live_state,
) -> bt_dr_status {
    guard("bt_dr_live_state_new", || {
        Out::new(out_live, "out_live")?.write(into_handle(bt_dr_live_state::default()));
        Ok(())
    })
}

/// Asks the `count` appliances of `site` what they say right now (health, served certificate,
/// pair view), concurrently, and adds the answers to `live`. `hostnames[i]` (as in the
/// inventory) is reached through `clients[i]`. An unreachable appliance is recorded, not an
/// error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_live_state_collect(
    live: *mut bt_dr_live_state,
    site: *const c_char,
    hostnames: *const *const c_char,
    clients: *const *const bt_dr_client,
    count: usize,
) -> bt_dr_status {
    guard("bt_dr_live_state_collect", || {
        // SAFETY: NULL or a live collection used from one thread (contract).
        let live = unsafe { live.as_mut() }.ok_or(Failure::Null("live"))?;
        let site = unsafe { arg_str(site, "site")? };
        let pairs = unsafe { host_clients(hostnames, clients, count)? };
        live.inner.push(mapping::collect_live(site, &pairs));
        Ok(())
    })
}

/// The collection as JSON: `[{"site", "appliances": [{"hostname", "health": (health JSON) |
/// null, "error": {"kind", "code", "message", "details"} | null, "served_cert_sha256",
/// "appliances": [...] | null, ...}]}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_live_state_to_json(
    live: *const bt_dr_live_state,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_live_state_to_json", || {
        let l = unsafe { arg_ref(live, "live")? };
        Out::new(out_json, "out_json")?.write_string(mapping::to_json(&l.inner)?)
    })
}

/// Frees a live-state collection. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_live_state_free(live: *mut bt_dr_live_state) -> bt_dr_status {
    guard("bt_dr_live_state_free", || {
        unsafe { free_handle(live) };
        Ok(())
    })
}

/// Runs the readiness audit over every site of `inventory`. `store_dir` (the backup store) may
/// be NULL: backup, certificate, record and key rules are then skipped. `live` may be NULL: live
/// rules are then skipped. `table` may be NULL (no listed upgrade sources). `options_json` may be
/// NULL or `{"max_backup_age_hours": N, "max_sync_age_hours": N, "certificate_horizon_days": N,
/// "now": RFC 3339}` (every field optional; an absent or null limit is the inventory's
/// `[thresholds]`: 26 h, the sync-stale rule, 30 days unless the inventory says otherwise),
/// parsed by the core: an unknown field or a value of the wrong type is
/// `BT_DR_STATUS_INVALID_INPUT`, malformed JSON `BT_DR_STATUS_PARSE`.
/// Free `*out_report` with `bt_dr_audit_report_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit(
    inventory: *const bt_dr_inventory,
    store_dir: *const c_char,
    live: *const bt_dr_live_state,
    table: *const bt_dr_upgrade_table,
    options_json: *const c_char,
    out_report: *mut *mut bt_dr_audit_report,
) -> bt_dr_status {
    guard("bt_dr_audit", || {
        let inv = unsafe { arg_ref(inventory, "inventory")? };
        let store_dir = unsafe { opt_str(store_dir, "store_dir")? };
        // SAFETY: NULL or live handles (contract).
        let live = unsafe { live.as_ref() }
            .map(|l| l.inner.as_slice())
            .unwrap_or(&[]);
        let table = unsafe { table.as_ref() }.map(|t| &t.inner);
        let opts = unsafe { opt_str(options_json, "options_json")? };
        let out = Out::new(out_report, "out_report")?;
        let inner = mapping::audit(&inv.inner, store_dir, live, table, opts)?;
        out.write(into_handle(bt_dr_audit_report { inner }));
        Ok(())
    })
}

/// The report as JSON (schema `bt-dr.audit/1`): `{"schema": "bt-dr.audit/1", "generated_at":
/// RFC 3339, "sites": ["support", ...], "summary": {"critical", "error", "warning", "info"},
/// "findings": [{"site", "id", "severity", "subject", "message", "remediation"}], "worst":
/// severity | null}`, findings most severe first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_to_json(
    report: *const bt_dr_audit_report,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_audit_report_to_json", || {
        let r = unsafe { arg_ref(report, "report")? };
        Out::new(out_json, "out_json")?.write_json(&mapping::audit_report_value(&r.inner)?)
    })
}

/// The report as Markdown, grouped by site.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_to_markdown(
    report: *const bt_dr_audit_report,
    out_markdown: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_audit_report_to_markdown", || {
        let r = unsafe { arg_ref(report, "report")? };
        Out::new(out_markdown, "out_markdown")?.write_string(r.inner.to_markdown())
    })
}

/// Number of findings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_finding_count(
    report: *const bt_dr_audit_report,
    out_count: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_audit_report_finding_count", || {
        let r = unsafe { arg_ref(report, "report")? };
        Out::new(out_count, "out_count")?.write(r.inner.findings.len());
        Ok(())
    })
}

/// The most severe finding (`BT_DR_SEVERITY_NONE`: the fleet is ready).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_worst_severity(
    report: *const bt_dr_audit_report,
    out_severity: *mut bt_dr_severity,
) -> bt_dr_status {
    guard("bt_dr_audit_report_worst_severity", || {
        let r = unsafe { arg_ref(report, "report")? };
        Out::new(out_severity, "out_severity")?.write(r.inner.worst().into());
        Ok(())
    })
}

/// Counts of findings by severity.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_summary(
    report: *const bt_dr_audit_report,
    out_critical: *mut usize,
    out_error: *mut usize,
    out_warning: *mut usize,
    out_info: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_audit_report_summary", || {
        let r = unsafe { arg_ref(report, "report")? };
        let (c, e, w, i) = (
            Out::new(out_critical, "out_critical")?,
            Out::new(out_error, "out_error")?,
            Out::new(out_warning, "out_warning")?,
            Out::new(out_info, "out_info")?,
        );
        let s = r.inner.summary;
        c.write(s.critical);
        e.write(s.error);
        w.write(s.warning);
        i.write(s.info);
        Ok(())
    })
}

/// Frees an audit report. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_audit_report_free(report: *mut bt_dr_audit_report) -> bt_dr_status {
    guard("bt_dr_audit_report_free", || {
        unsafe { free_handle(report) };
        Ok(())
    })
}

/// Checks `site`'s Atlas cluster (a site of `inventory` with an `[atlas]` table) after a change:
/// asks every node `check_health`, the primary nodes `get_appliances` (is each traffic node a
/// member, in its role, accepting connections), and samples each node's connected clients
/// twice, `sample_interval_ms` apart, for the trend. `hostnames[i]` (as in the inventory) is
/// reached through `clients[i]`; every traffic node and at least one primary node need a client
/// (`BT_DR_STATUS_INVALID_INPUT` otherwise, also for a site without Atlas). `options_json` may be
/// NULL or `{"sample_interval_ms": N}` (default 30 000, at most 3 600 000). Blocks for the
/// interval.
///
/// `*out_worst`: the most severe finding (`BT_DR_SEVERITY_NONE`: nothing found). `*out_json`:
/// `{"site", "checked_at", "sample_interval_ms", "nodes": [{"hostname", "role":
/// "primary"|"traffic", "listed": bool | null, "listed_role", "accepting_connections",
/// "reachable", "healthy", "version", "last_sync_time", "last_sync_status", "samples": [{"at",
/// "total", "representatives"}], "trend": "increasing"|"steady"|"decreasing" | null, "error":
/// report | null}], "findings": [finding]}`, primary nodes first, findings most severe first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_atlas_cluster(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    hostnames: *const *const c_char,
    clients: *const *const bt_dr_client,
    count: usize,
    options_json: *const c_char,
    out_worst: *mut bt_dr_severity,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_check_atlas_cluster", || {
        let site = unsafe { site_arg(inventory, site)? };
        let pairs = unsafe { host_clients(hostnames, clients, count)? };
        let opts = unsafe { opt_str(options_json, "options_json")? };
        let out_w = Out::new(out_worst, "out_worst")?;
        let out_j = Out::new(out_json, "out_json")?;
        let report = mapping::check_atlas_cluster(&site, &pairs, opts)?;
        out_j.write_string(mapping::to_json(&report)?)?;
        out_w.write(report.worst().into());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// runbook

/// Renders the recovery runbook of `site` (a site of `inventory`) as Markdown — the core writes
/// the runbook as a Markdown document, meant to be printed or stored next to the backups.
/// `store_dir` may be NULL; with it, the runbook names the files of the newest set. `table` may
/// be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_render_runbook(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    store_dir: *const c_char,
    table: *const bt_dr_upgrade_table,
    out_markdown: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_render_runbook", || {
        let site = unsafe { site_arg(inventory, site)? };
        let store_dir = unsafe { opt_str(store_dir, "store_dir")? };
        // SAFETY: NULL or a live table (contract).
        let table = unsafe { table.as_ref() }.map(|t| &t.inner);
        let out = Out::new(out_markdown, "out_markdown")?;
        out.write_string(mapping::render_runbook(&site, store_dir, table)?)
    })
}

// ---------------------------------------------------------------------------------------------
// failover

/// Plans a failover of `site` (a site of `inventory` with a failover pair) without side effects.
/// `first_hostname`/`first` and `second_hostname`/`second` are the two appliances and their
/// clients, in any order (the plan finds the primary from their live roles). `mode` is
/// `"planned"` (swap with a final data sync) or `"unplanned"` (promote the backup; refused with
/// `BT_DR_STATUS_REFUSED` while the primary is healthy, or while its state is unknown: it
/// answered, but with a TLS, pin, authentication, permission, rate-limit, parse or API error).
/// Free with `bt_dr_failover_plan_free`. Same as `bt_dr_plan_failover_with` with NULL options.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_plan_failover(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    first_hostname: *const c_char,
    first: *const bt_dr_client,
    second_hostname: *const c_char,
    second: *const bt_dr_client,
    mode: *const c_char,
    out_plan: *mut *mut bt_dr_failover_plan,
) -> bt_dr_status {
    // SAFETY: the caller's pointers are passed on unchanged, with NULL options.
    unsafe {
        bt_dr_plan_failover_with(
            inventory,
            site,
            first_hostname,
            first,
            second_hostname,
            second,
            mode,
            std::ptr::null(),
            out_plan,
        )
    }
}

/// `bt_dr_plan_failover` with options. `options_json` may be NULL (defaults) or the options of
/// `bt_dr_execute_failover_with`; planning uses `force_unknown`, `force_certificate_mismatch`,
/// `redirect` and `site_url` (the plan's redirect step and URL). `"force_unknown": true` plans
/// an unplanned failover although the old primary's state is unknown (a warning in the plan
/// says so): only when it has been confirmed by other means that it is down or no longer
/// serving, otherwise the site ends up with two primaries. A planned failover between
/// appliances serving different certificates is refused (`BT_DR_STATUS_REFUSED`) unless
/// `"force_certificate_mismatch": true`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_plan_failover_with(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    first_hostname: *const c_char,
    first: *const bt_dr_client,
    second_hostname: *const c_char,
    second: *const bt_dr_client,
    mode: *const c_char,
    options_json: *const c_char,
    out_plan: *mut *mut bt_dr_failover_plan,
) -> bt_dr_status {
    guard("bt_dr_plan_failover_with", || {
        let site = unsafe { site_arg(inventory, site)? };
        let h1 = unsafe { arg_str(first_hostname, "first_hostname")? };
        let c1 = unsafe { arg_ref(first, "first")? };
        let h2 = unsafe { arg_str(second_hostname, "second_hostname")? };
        let c2 = unsafe { arg_ref(second, "second")? };
        let mode = unsafe { arg_str(mode, "mode")? };
        let opts_json = unsafe { opt_str(options_json, "options_json")? };
        let out = Out::new(out_plan, "out_plan")?;
        let opts = mapping::failover_options(opts_json)?;
        let inner = mapping::plan_failover(&site, (h1, &c1.inner), (h2, &c2.inner), mode, &opts)?;
        out.write(into_handle(bt_dr_failover_plan { inner }));
        Ok(())
    })
}

/// A failover plan from its JSON (as written by `bt_dr_failover_plan_to_json`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_failover_plan_from_json(
    plan_json: *const c_char,
    out_plan: *mut *mut bt_dr_failover_plan,
) -> bt_dr_status {
    guard("bt_dr_failover_plan_from_json", || {
        let text = unsafe { arg_str(plan_json, "plan_json")? };
        let out = Out::new(out_plan, "out_plan")?;
        let inner = mapping::failover_plan(text)?;
        out.write(into_handle(bt_dr_failover_plan { inner }));
        Ok(())
    })
}

/// The plan as JSON: `{"site", "mode": "planned"|"unplanned", "from": appliance, "to":
/// appliance, "connected_clients": N | null, "steps": [{"action", "automated": bool, "step":
/// "redirect"|"verify_redirect"|"role_change"|"settle"|"demote"|"confirm" | null}], "warnings":
/// ["..."], "certificates": "identical"|"different"|"unknown" (the leaf certificates the two
/// appliances serve), "site_url": "https://..." | null}` where an appliance is `{"hostname", "reachability":
/// "reachable"|"unreachable"|"unknown", "reachable", "healthy", "role":
/// "none"|"primary"|"backup"|null, "error": report | null, "probe_status": N | null,
/// "probe_error": report | null, "served_leaf_sha256": hex | null}` and a report is `{"kind",
/// "code", "message", "details"}`. Steps come in the guide's order: redirect traffic, role
/// change, confirm clients.
/// `unreachable`: the API and the unauthenticated `/check_health` probe both failed at the
/// network level; `unknown`: something answered but not usably (TLS, pin, auth, parse...).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_failover_plan_to_json(
    plan: *const bt_dr_failover_plan,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_failover_plan_to_json", || {
        let p = unsafe { arg_ref(plan, "plan")? };
        Out::new(out_json, "out_json")?.write_string(mapping::to_json(&p.inner)?)
    })
}

/// The hostname of the appliance the plan makes primary. Free with `bt_dr_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_failover_plan_target(
    plan: *const bt_dr_failover_plan,
    out_hostname: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_failover_plan_target", || {
        let p = unsafe { arg_ref(plan, "plan")? };
        Out::new(out_hostname, "out_hostname")?.write_string(p.inner.to.hostname.clone())
    })
}

/// Frees a failover plan. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_failover_plan_free(plan: *mut bt_dr_failover_plan) -> bt_dr_status {
    guard("bt_dr_failover_plan_free", || {
        unsafe { free_handle(plan) };
        Ok(())
    })
}

/// Executes `plan` for `site` in the guide's order: plans again and refuses
/// (`BT_DR_STATUS_REFUSED`) when the roles changed since; redirects traffic (shared IP:
/// automatic; DNS or NAT swing: a manual step here, a command with
/// `bt_dr_execute_failover_with`); changes the role once (never retried blindly) and polls both
/// appliances until they agree; then confirms clients (connected clients on the new primary,
/// health through the site URL). Appliances and clients as for `bt_dr_plan_failover`.
/// `settle_timeout_ms` and `poll_interval_ms` of 0 keep the core's defaults. The same as
/// `bt_dr_execute_failover_with` with `{"settle_timeout_ms", "poll_interval_ms"}`.
///
/// `*out_outcome`: how it ended (a timeout, split brain or failed redirect is an outcome, not
/// an error). `*out_json`: `{"site", "mode", "events": [{"elapsed_ms", "event", "from_role",
/// "to_role", "step", "error": report | null}], "outcome": "settled"|"timed_out"|
/// "split_brain"|"redirect_failed"|"redirect_mismatch", "follow_up": ["..."], "redirect":
/// {"routing": "shared-ip"|"dns-swing"|"nat-swing", "method": "automatic"|"command"|"manual",
/// "site_url", "ran": bool, "verified": bool, "answered_by": hostname | null, "error": report |
/// null} | null, "confirmation": {"site_url", "connected_clients": N | null, "site_status": N |
/// null, "site_healthy", "site_answered_by", "site_reaches_target", "confirmed": bool,
/// "clients_error", "site_error", "waited_ms"} | null, "error": report | null}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_execute_failover(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    first_hostname: *const c_char,
    first: *const bt_dr_client,
    second_hostname: *const c_char,
    second: *const bt_dr_client,
    plan: *const bt_dr_failover_plan,
    settle_timeout_ms: u64,
    poll_interval_ms: u64,
    out_outcome: *mut bt_dr_failover_outcome,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_execute_failover", || {
        let opts = mapping::failover_timing(settle_timeout_ms, poll_interval_ms)?;
        // SAFETY: the caller's pointers, passed on unchanged.
        unsafe {
            execute(
                inventory,
                site,
                (first_hostname, first),
                (second_hostname, second),
                plan,
                &opts,
                out_outcome,
                out_json,
            )
        }
    })
}

/// The body both execute functions share, once their options are known.
#[allow(clippy::too_many_arguments)]
unsafe fn execute(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    first: (*const c_char, *const bt_dr_client),
    second: (*const c_char, *const bt_dr_client),
    plan: *const bt_dr_failover_plan,
    opts: &bt_dr_core::FailoverOptions,
    out_outcome: *mut bt_dr_failover_outcome,
    out_json: *mut *mut c_char,
) -> FfiResult<()> {
    let site = unsafe { site_arg(inventory, site)? };
    let h1 = unsafe { arg_str(first.0, "first_hostname")? };
    let c1 = unsafe { arg_ref(first.1, "first")? };
    let h2 = unsafe { arg_str(second.0, "second_hostname")? };
    let c2 = unsafe { arg_ref(second.1, "second")? };
    let p = unsafe { arg_ref(plan, "plan")? };
    let out_o = Out::new(out_outcome, "out_outcome")?;
    let out_j = Out::new(out_json, "out_json")?;
    let t = mapping::execute_failover(&site, (h1, &c1.inner), (h2, &c2.inner), &p.inner, opts)?;
    out_j.write_string(mapping::to_json(&t)?)?;
    out_o.write(t.outcome.into());
    Ok(())
}

/// `bt_dr_execute_failover` with options. `options_json` may be NULL (defaults) or
/// `{"settle_timeout_ms": N, "poll_interval_ms": N, "redirect_verify_timeout_ms": N,
/// "confirm_timeout_ms": N, "force_unknown": bool, "demote_old_primary": bool,
/// "force_certificate_mismatch": bool, "site_url": "https://...", "redirect": {"command":
/// ["/path/swing-dns", "arg", ...], "timeout_ms": N}}`, parsed by the core (every field
/// optional; 0 ms keeps a default; an unknown field is `BT_DR_STATUS_INVALID_INPUT`, malformed
/// JSON `BT_DR_STATUS_PARSE`). `force_unknown` and `force_certificate_mismatch` as for
/// `bt_dr_plan_failover_with`, needed again here because execution plans afresh.
/// `demote_old_primary`: after an unplanned promotion, if the old primary still claims primary,
/// demote it with force; off (the default) nothing is demoted by bt-dr and the outcome is then
/// `BT_DR_FAILOVER_OUTCOME_SPLIT_BRAIN` with the demotion as a follow-up step. `redirect`: for a
/// DNS or NAT swing, the command (run directly, no shell; the facts in `BT_DR_SITE`,
/// `BT_DR_FQDN`, `BT_DR_FROM`, `BT_DR_TO`, `BT_DR_TO_IP`, `BT_DR_ROUTING`, `BT_DR_MODE`,
/// `BT_DR_SITE_URL`) that moves traffic before the role change; then the site URL (`site_url`,
/// default `https://<fqdn>`) must answer as the target within `redirect_verify_timeout_ms`, or
/// no role is changed (`BT_DR_FAILOVER_OUTCOME_REDIRECT_FAILED` /
/// `BT_DR_FAILOVER_OUTCOME_REDIRECT_MISMATCH`). `*out_outcome` and `*out_json` as for
/// `bt_dr_execute_failover`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_execute_failover_with(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    first_hostname: *const c_char,
    first: *const bt_dr_client,
    second_hostname: *const c_char,
    second: *const bt_dr_client,
    plan: *const bt_dr_failover_plan,
    options_json: *const c_char,
    out_outcome: *mut bt_dr_failover_outcome,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_execute_failover_with", || {
        let opts_json = unsafe { opt_str(options_json, "options_json")? };
        let opts = mapping::failover_options(opts_json)?;
        // SAFETY: the caller's pointers, passed on unchanged.
        unsafe {
            execute(
                inventory,
                site,
                (first_hostname, first),
                (second_hostname, second),
                plan,
                &opts,
                out_outcome,
                out_json,
            )
        }
    })
}
