//! The foundation operations (versions, inventory, backups, certificates, records): each one
//! converts its inputs, calls bt-dr-core and converts the result. No DR rule lives here.

use std::path::PathBuf;

use bt_dr_core::api::{ApiInfo, TimeWindow};
use bt_dr_core::document::{Format, load_document, parse_document};
use bt_dr_core::{
    ApplianceRecord, BackupName, BundleCheckOptions, BundleReport, Error, Inventory, OPERATIONS,
    Product, SecretString, Severity, UpgradeTable, VaultKeyRecord,
};
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::convert::{
    from_py, json_to_py, parse_date, parse_time, parse_version as parse_pv, py_to_json, to_json,
    to_py,
};
use crate::errors::py_result;

/// Parses a document format name (the core's parser: `toml`, `json`, `yaml`/`yml`, any case).
pub fn format_of(s: &str) -> PyResult<Format> {
    py_result(s.parse())
}

/// Parses a product name (`rs` or `pra`).
pub fn product_of(s: &str) -> PyResult<Product> {
    py_result(s.parse())
}

/// A document from exactly one of a path, a text (with its format) or a dict.
fn document<T: DeserializeOwned>(
    what: &str,
    path: Option<PathBuf>,
    text: Option<&str>,
    format: Option<&str>,
    data: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    match (path, text, data) {
        (Some(p), None, None) => match format {
            None => py_result(load_document(&p, what)),
            Some(f) => {
                let text = py_result(
                    std::fs::read_to_string(&p).map_err(|e| Error::io("reading", &p, e)),
                )?;
                py_result(parse_document(&text, format_of(f)?, what, Some(&p)))
            }
        },
        (None, Some(t), None) => py_result(parse_document(
            t,
            // Text without a format: the core's default format.
            format.map(format_of).transpose()?.unwrap_or_default(),
            what,
            None,
        )),
        (None, None, Some(d)) => from_py(d, what),
        _ => py_result(Err(Error::invalid_input(
            what,
            "give exactly one of a path, a text or a dict",
        ))),
    }
}

/// Every public operation of bt-dr-core: `{name, area, summary}`.
#[pyfunction]
pub fn operations(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    crate::errors::guard(|| to_py(py, &OPERATIONS))
}

/// Parses `X.Y.Z` or the check_health form with build.
#[pyfunction]
pub fn parse_version<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| to_py(py, &parse_pv(text)?.view()))
}

/// Orders two versions as bt-dr does: -1, 0 or 1.
#[pyfunction]
pub fn compare_versions(a: &str, b: &str) -> PyResult<i8> {
    crate::errors::guard(|| Ok(parse_pv(a)?.cmp(&parse_pv(b)?) as i8))
}

/// Loads and validates an inventory.
#[pyfunction]
#[pyo3(signature = (path=None, text=None, format=None, data=None))]
pub fn load_inventory<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    text: Option<&str>,
    format: Option<&str>,
    data: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let inv: Inventory = document("inventory", path, text, format, data)?;
        py_result(inv.validate())?;
        to_py(py, &inv)
    })
}

/// Loads the supported-upgrade table.
#[pyfunction]
#[pyo3(signature = (path=None, text=None, format=None, data=None))]
pub fn load_upgrade_table<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    text: Option<&str>,
    format: Option<&str>,
    data: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let t: UpgradeTable = document("upgrade table", path, text, format, data)?;
        to_py(py, &t)
    })
}

/// Parses a default NSB backup file name; the result is the core's view (every part as text
/// and the `file_name` they make).
#[pyfunction]
pub fn parse_backup_name<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let n: BackupName = py_result(name.parse())?;
        to_py(py, &n.view())
    })
}

/// Builds a default NSB backup file name and returns it (the core's `BackupName` Display).
#[pyfunction]
#[pyo3(signature = (version, site, date, id, time=None))]
pub fn format_backup_name(
    version: &str,
    site: &str,
    date: &str,
    id: &str,
    time: Option<&str>,
) -> PyResult<String> {
    crate::errors::guard(|| {
        let t = time.map(|t| parse_time(t, "time")).transpose()?;
        let n = py_result(BackupName::new(
            parse_pv(version)?,
            site,
            parse_date(date, "date")?,
            t,
            id,
        ))?;
        Ok(n.to_string())
    })
}

/// Decides whether a backup version restores onto a site version.
#[pyfunction]
#[pyo3(signature = (backup_version, site_version, table=None, backup_product=None, site_product=None, strict=false))]
pub fn check_restore<'py>(
    py: Python<'py>,
    backup_version: &str,
    site_version: &str,
    table: Option<&Bound<'py, PyAny>>,
    backup_product: Option<&str>,
    site_product: Option<&str>,
    strict: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let table: UpgradeTable = match table {
            Some(t) if !t.is_none() => from_py(t, "upgrade table")?,
            _ => UpgradeTable::default(),
        };
        let check = bt_dr_core::check_restore(
            &parse_pv(backup_version)?,
            &parse_pv(site_version)?,
            &table,
            backup_product.map(product_of).transpose()?,
            site_product.map(product_of).transpose()?,
        );
        let check = if strict {
            py_result(check.into_result())?
        } else {
            check
        };
        to_py(py, &check)
    })
}

/// Decides whether a backup restores onto an inventory site (its version and product); for a
/// failover pair the verdict carries the core's warning and the ordered `steps`.
#[pyfunction]
#[pyo3(signature = (site, backup_version, backup_product=None, table=None))]
pub fn check_restore_onto<'py>(
    py: Python<'py>,
    site: &Bound<'py, PyAny>,
    backup_version: &str,
    backup_product: Option<&str>,
    table: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let site: bt_dr_core::Site = from_py(site, "site")?;
        py_result(site.validate())?;
        let table: UpgradeTable = match table {
            Some(t) if !t.is_none() => from_py(t, "upgrade table")?,
            _ => UpgradeTable::default(),
        };
        let check = bt_dr_core::check_restore_onto(
            &site,
            &parse_pv(backup_version)?,
            backup_product.map(product_of).transpose()?,
            &table,
        );
        to_py(py, &check)
    })
}

/// Lists what an NSB holds and what it leaves out.
#[pyfunction]
#[pyo3(signature = (product, include_logged_history=false))]
pub fn nsb_coverage<'py>(
    py: Python<'py>,
    product: &str,
    include_logged_history: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        to_py(
            py,
            &bt_dr_core::nsb_coverage(product_of(product)?, include_logged_history),
        )
    })
}

/// Opens and checks a p12 certificate bundle. The passphrase never leaves this call.
#[pyfunction]
#[pyo3(signature = (data, passphrase, options=None))]
pub fn check_certificate_bundle<'py>(
    py: Python<'py>,
    data: Vec<u8>,
    passphrase: String,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let opts: BundleCheckOptions = match options {
            Some(o) if !o.is_none() => from_py(o, "options")?,
            _ => BundleCheckOptions::default(),
        };
        let secret = SecretString::from(passphrase);
        let report = py
            .detach(|| bt_dr_core::check_certificate_bundle(&data, &secret, &opts))
            .map_err(crate::errors::to_pyerr)?;
        to_py(py, &report.view())
    })
}

/// Checks a failover pair carries the identical certificate.
#[pyfunction]
pub fn check_certificate_pair<'py>(
    py: Python<'py>,
    primary: &Bound<'py, PyAny>,
    backup: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let a: BundleReport = from_py(primary, "primary")?;
        let b: BundleReport = from_py(backup, "backup")?;
        py_result(a.check_consistent("primary"))?;
        py_result(b.check_consistent("backup"))?;
        to_py(py, &bt_dr_core::check_certificate_pair(&a, &b))
    })
}

fn record_json(r: &ApplianceRecord) -> PyResult<Value> {
    to_json(&r.view())
}

fn record_from(data: &Bound<'_, PyAny>) -> PyResult<ApplianceRecord> {
    py_result(ApplianceRecord::from_view_json(py_to_json(data)?))
}

/// Loads (path, text or dict) and validates an /appliance settings record.
#[pyfunction]
#[pyo3(signature = (path=None, text=None, format=None, data=None))]
pub fn appliance_record_load<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    text: Option<&str>,
    format: Option<&str>,
    data: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let r: ApplianceRecord = match data {
            Some(d) if path.is_none() && text.is_none() => record_from(d)?,
            _ => document("appliance record", path, text, format, data)?,
        };
        py_result(r.validate())?;
        json_to_py(py, &record_json(&r)?)
    })
}

/// Validates a record (dict) and writes it as JSON into `dir`; returns the path.
#[pyfunction]
pub fn appliance_record_save(data: &Bound<'_, PyAny>, dir: PathBuf) -> PyResult<PathBuf> {
    crate::errors::guard(|| {
        let r = record_from(data)?;
        py_result(r.save(dir))
    })
}

/// Records a downloaded Vault encryption key (hash, size, protection) with its findings.
#[pyfunction]
pub fn vault_key_record<'py>(
    py: Python<'py>,
    path: PathBuf,
    site: &str,
    date: &str,
    password_protected: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::errors::guard(|| {
        let r = py_result(VaultKeyRecord::from_file(
            path,
            site,
            parse_date(date, "date")?,
            password_protected,
        ))?;
        to_py(py, &r.view())
    })
}

/// Whether a Vault key record (site, date) pairs with a backup of `site` taken on `backup_date`.
#[pyfunction]
pub fn vault_key_pairs_with(
    key_site: &str,
    key_date: &str,
    site: &str,
    backup_date: &str,
) -> PyResult<bool> {
    crate::errors::guard(|| {
        Ok(bt_dr_core::records::vault_key_pairs_with(
            key_site,
            parse_date(key_date, "date")?,
            site,
            parse_date(backup_date, "backup_date")?,
        ))
    })
}

/// The API permission an operation needs.
#[pyfunction]
pub fn required_permission(operation: &str) -> PyResult<Option<&'static str>> {
    crate::errors::guard(|| Ok(bt_dr_core::api::required_permission(operation)))
}

/// The permission `operation` needs that the account of `api_info` lacks, if any.
#[pyfunction]
pub fn missing_permission(
    api_info: &Bound<'_, PyAny>,
    operation: &str,
) -> PyResult<Option<&'static str>> {
    crate::errors::guard(|| {
        let info: ApiInfo = from_py(api_info, "api_info")?;
        Ok(info.missing_permission(operation))
    })
}

/// Sessions started in the `seconds` before `now_unix` (default: now), as a window dict.
#[pyfunction]
#[pyo3(signature = (seconds, now_unix=None))]
pub fn time_window_last_seconds(
    py: Python<'_>,
    seconds: u64,
    now_unix: Option<i64>,
) -> PyResult<Bound<'_, PyAny>> {
    crate::errors::guard(|| {
        let now = match now_unix {
            Some(u) => py_result(
                time::OffsetDateTime::from_unix_timestamp(u)
                    .map_err(|e| Error::invalid_input("now", e.to_string())),
            )?,
            None => time::OffsetDateTime::now_utc(),
        };
        to_py(py, &TimeWindow::last_seconds(now, seconds))
    })
}

/// A window from its dict: the core's serde form (`type` plus that variant's fields, dates as
/// `YYYY-MM-DD`); a shape the core refuses is `InvalidInput` naming `window`.
pub fn window_from(obj: &Bound<'_, PyAny>) -> PyResult<TimeWindow> {
    from_py(obj, "window")
}

/// Whether severity `s` is at least `threshold` (bt-dr's ordering info < warning < error < critical).
#[pyfunction]
pub fn severity_at_least(s: &str, threshold: &str) -> PyResult<bool> {
    crate::errors::guard(|| {
        let a: Severity = py_result(s.parse())?;
        let b: Severity = py_result(threshold.parse())?;
        Ok(a >= b)
    })
}
