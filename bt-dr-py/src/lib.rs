//! Python bindings of bt-dr: the native module `bt_dr._native` behind the `bt_dr` package.
//!
//! This crate only converts: Python values to core inputs (via serde from plain dicts, or
//! explicit parsing for dates and enums), core results to JSON-compatible Python objects
//! (the pure-Python layer in `python/bt_dr` turns them into typed classes), and core errors
//! to the exception hierarchy rooted at `bt_dr.BtDrError`. Every rule lives in bt-dr-core.

pub mod client;
pub mod convert;
pub mod dr;
pub mod errors;
pub mod ops;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("USER_AGENT", bt_dr_core::USER_AGENT)?;
    // The core's default, so Python shows the number `concurrency=None` stands for.
    m.add(
        "DEFAULT_JOB_CONCURRENCY",
        bt_dr_core::DEFAULT_JOB_CONCURRENCY,
    )?;
    m.add_class::<client::NativeClient>()?;
    m.add_function(wrap_pyfunction!(errors::error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(errors::raise_invalid_input, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(ops::operations, m)?)?;
    m.add_function(wrap_pyfunction!(ops::parse_version, m)?)?;
    m.add_function(wrap_pyfunction!(ops::compare_versions, m)?)?;
    m.add_function(wrap_pyfunction!(ops::load_inventory, m)?)?;
    m.add_function(wrap_pyfunction!(ops::load_upgrade_table, m)?)?;
    m.add_function(wrap_pyfunction!(ops::parse_backup_name, m)?)?;
    m.add_function(wrap_pyfunction!(ops::format_backup_name, m)?)?;
    m.add_function(wrap_pyfunction!(ops::check_restore, m)?)?;
    m.add_function(wrap_pyfunction!(ops::check_restore_onto, m)?)?;
    m.add_function(wrap_pyfunction!(ops::nsb_coverage, m)?)?;
    m.add_function(wrap_pyfunction!(ops::check_certificate_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(ops::check_certificate_pair, m)?)?;
    m.add_function(wrap_pyfunction!(ops::appliance_record_load, m)?)?;
    m.add_function(wrap_pyfunction!(ops::appliance_record_save, m)?)?;
    m.add_function(wrap_pyfunction!(ops::vault_key_record, m)?)?;
    m.add_function(wrap_pyfunction!(ops::vault_key_pairs_with, m)?)?;
    m.add_function(wrap_pyfunction!(ops::required_permission, m)?)?;
    m.add_function(wrap_pyfunction!(ops::missing_permission, m)?)?;
    m.add_function(wrap_pyfunction!(ops::time_window_last_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(ops::severity_at_least, m)?)?;
    for f in [
        wrap_pyfunction!(dr::run_backup_set, m)?,
        wrap_pyfunction!(dr::run_backup_job, m)?,
        wrap_pyfunction!(dr::verify_backup_set, m)?,
        wrap_pyfunction!(dr::list_backup_sets, m)?,
        wrap_pyfunction!(dr::plan_retention, m)?,
        wrap_pyfunction!(dr::apply_retention, m)?,
        wrap_pyfunction!(dr::collect_live, m)?,
        wrap_pyfunction!(dr::audit, m)?,
        wrap_pyfunction!(dr::audit_markdown, m)?,
        wrap_pyfunction!(dr::render_runbook, m)?,
        wrap_pyfunction!(dr::plan_failover, m)?,
        wrap_pyfunction!(dr::execute_failover, m)?,
        wrap_pyfunction!(dr::check_atlas_cluster, m)?,
        wrap_pyfunction!(dr::site_pair, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
