//! Offline operations: versions, inventory, backup names, restore compatibility, NSB coverage,
//! certificate bundles and records.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use std::ffi::c_char;

use bt_dr_core::{BundleReport, Inventory, RestoreCompatibility, Severity, UpgradeTable};

use super::{
    Out, arg_bytes, arg_ref, arg_str, bt_dr_status, free_handle, guard, into_handle, opt_str,
};
use crate::mapping;

/// How urgent a finding is; `BT_DR_SEVERITY_NONE` when there is no finding at all.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum bt_dr_severity {
    /// No finding.
    None = 0,
    /// Worth knowing.
    Info = 1,
    /// Will hurt later.
    Warning = 2,
    /// Recovery would fail or be incomplete today.
    Error = 3,
    /// The site is at risk now.
    Critical = 4,
}

impl From<Option<Severity>> for bt_dr_severity {
    fn from(s: Option<Severity>) -> Self {
        match s {
            None => Self::None,
            Some(Severity::Info) => Self::Info,
            Some(Severity::Warning) => Self::Warning,
            Some(Severity::Error) => Self::Error,
            Some(Severity::Critical) => Self::Critical,
        }
    }
}

/// The verdict of `bt_dr_check_restore`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum bt_dr_restore_compatibility {
    /// Same version, or a listed supported upgrade source.
    Supported = 0,
    /// Older and not listed: untested by the vendor.
    Untested = 1,
    /// Newer than the site, or another product.
    Refused = 2,
}

impl From<RestoreCompatibility> for bt_dr_restore_compatibility {
    fn from(c: RestoreCompatibility) -> Self {
        match c {
            RestoreCompatibility::Supported => Self::Supported,
            RestoreCompatibility::Untested => Self::Untested,
            RestoreCompatibility::Refused => Self::Refused,
        }
    }
}

/// A validated fleet inventory (`bt_dr_load_inventory`, `bt_dr_parse_inventory`).
#[derive(Debug)]
pub struct bt_dr_inventory {
    pub(crate) inner: Inventory,
}

/// A supported-upgrade table (`bt_dr_load_upgrade_table`, `bt_dr_parse_upgrade_table`).
#[derive(Debug)]
pub struct bt_dr_upgrade_table {
    pub(crate) inner: UpgradeTable,
}

/// The result of checking one PKCS#12 certificate bundle (`bt_dr_check_certificate_bundle`).
#[derive(Debug)]
pub struct bt_dr_bundle_report {
    pub(crate) inner: BundleReport,
}

/// Parses a product version, `X.Y.Z` or the `check_health` form `X.Y.Z (<build>-<commit>)`.
///
/// `*out_json`: the core's version view (`VersionView`, the same JSON every binding returns):
/// `{"text": "19.1.8 (37380-749b…)", "release": "19.1.8", "major": 19, "minor": 1, "patch": 8,
/// "build_number": 37380 | null, "build_commit": "749b…" | null}`.
/// Fails with `BT_DR_STATUS_PARSE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_parse_version(
    text: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_parse_version", || {
        let text = unsafe { arg_str(text, "text")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::parse_version(text)?)
    })
}

/// Loads and validates an inventory file; the format follows the extension (`.toml`, `.json`,
/// `.yaml`/`.yml`). Free `*out_inventory` with `bt_dr_inventory_free`.
/// Fails with `BT_DR_STATUS_IO`, `BT_DR_STATUS_PARSE` (file, line, column and field in the
/// details) or `BT_DR_STATUS_INVALID_INPUT` (a rule of the inventory, e.g. a duplicate site).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_load_inventory(
    path: *const c_char,
    out_inventory: *mut *mut bt_dr_inventory,
) -> bt_dr_status {
    guard("bt_dr_load_inventory", || {
        let path = unsafe { arg_str(path, "path")? };
        let out = Out::new(out_inventory, "out_inventory")?;
        let inner = mapping::load_inventory(path)?;
        out.write(into_handle(bt_dr_inventory { inner }));
        Ok(())
    })
}

/// Like `bt_dr_load_inventory` from text; `format` is `"toml"`, `"json"` or
/// `"yaml"`; NULL is the library's default format (TOML).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_parse_inventory(
    text: *const c_char,
    format: *const c_char,
    out_inventory: *mut *mut bt_dr_inventory,
) -> bt_dr_status {
    guard("bt_dr_parse_inventory", || {
        let text = unsafe { arg_str(text, "text")? };
        let format = unsafe { opt_str(format, "format")? };
        let out = Out::new(out_inventory, "out_inventory")?;
        let inner = mapping::parse_inventory(text, format)?;
        out.write(into_handle(bt_dr_inventory { inner }));
        Ok(())
    })
}

/// Number of sites in the inventory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_inventory_site_count(
    inventory: *const bt_dr_inventory,
    out_count: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_inventory_site_count", || {
        let inv = unsafe { arg_ref(inventory, "inventory")? };
        let out = Out::new(out_count, "out_count")?;
        out.write(inv.inner.sites.len());
        Ok(())
    })
}

/// The inventory as JSON: `{"sites": [{"name", "fqdn", "product": "rs"|"pra", "version",
/// "appliances": [...], "failover": {...}|null, "atlas": {...}|null, "cold_spare": {...}|null,
/// "api": {"client_id", "client_secret_env", "ca_file", "pin_sha256"}|null,
/// "custom_certificate": bool, "custom_tls": bool, ...}], "thresholds":
/// {"max_backup_age_hours", "certificate_horizon_days", "sync_stale_factor",
/// "sync_stale_min_hours", "min_connectivity_test_ips", "min_rsa_bits"}}` — the fields of the
/// inventory file, validated, with bt-dr's default for every threshold the file leaves out.
/// Secrets are never part of an inventory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_inventory_to_json(
    inventory: *const bt_dr_inventory,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_inventory_to_json", || {
        let inv = unsafe { arg_ref(inventory, "inventory")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&inv.inner)?)
    })
}

/// Frees an inventory. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_inventory_free(inventory: *mut bt_dr_inventory) -> bt_dr_status {
    guard("bt_dr_inventory_free", || {
        unsafe { free_handle(inventory) };
        Ok(())
    })
}

/// Parses a default NSB backup file name `bomgar-<version>-<site>-<date>-<id>.nsb`.
///
/// `*out_json`: `{"file_name": "bomgar-24.1.2-support-20261120-5f3a9c01.nsb", "version":
/// "24.1.2", "site": "support", "date": "2026-11-20", "time": "01:02:03" | null, "id":
/// "5f3a9c01"}`. Fails with `BT_DR_STATUS_PARSE` (also when the name is ambiguous).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_parse_backup_name(
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_parse_backup_name", || {
        let name = unsafe { arg_str(name, "name")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::parse_backup_name(name)?)
    })
}

/// Builds a default NSB backup file name. `date` is `YYYY-MM-DD`; `time` (`HH:MM:SS`) may be
/// NULL; `id` is alphanumeric or a UUID. Fails with `BT_DR_STATUS_INVALID_INPUT` or
/// `BT_DR_STATUS_PARSE` (version).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_format_backup_name(
    version: *const c_char,
    site: *const c_char,
    date: *const c_char,
    time: *const c_char,
    id: *const c_char,
    out_name: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_format_backup_name", || {
        let version = unsafe { arg_str(version, "version")? };
        let site = unsafe { arg_str(site, "site")? };
        let date = unsafe { arg_str(date, "date")? };
        let time = unsafe { opt_str(time, "time")? };
        let id = unsafe { arg_str(id, "id")? };
        let out = Out::new(out_name, "out_name")?;
        out.write_string(mapping::format_backup_name(version, site, date, time, id)?)
    })
}

/// Loads a supported-upgrade table file (TOML/JSON/YAML by extension): `[[releases]] version =
/// "24.1"`, `supported_upgrades_from = ["23.2", "23.3"]`, optional `product`. Free with
/// `bt_dr_upgrade_table_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_load_upgrade_table(
    path: *const c_char,
    out_table: *mut *mut bt_dr_upgrade_table,
) -> bt_dr_status {
    guard("bt_dr_load_upgrade_table", || {
        let path = unsafe { arg_str(path, "path")? };
        let out = Out::new(out_table, "out_table")?;
        let inner = mapping::load_upgrade_table(path)?;
        out.write(into_handle(bt_dr_upgrade_table { inner }));
        Ok(())
    })
}

/// Like `bt_dr_load_upgrade_table` from text; `format` is `"toml"`, `"json"` or
/// `"yaml"`; NULL is the library's default format (TOML).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_parse_upgrade_table(
    text: *const c_char,
    format: *const c_char,
    out_table: *mut *mut bt_dr_upgrade_table,
) -> bt_dr_status {
    guard("bt_dr_parse_upgrade_table", || {
        let text = unsafe { arg_str(text, "text")? };
        let format = unsafe { opt_str(format, "format")? };
        let out = Out::new(out_table, "out_table")?;
        let inner = mapping::parse_upgrade_table(text, format)?;
        out.write(into_handle(bt_dr_upgrade_table { inner }));
        Ok(())
    })
}

/// The table as JSON: `{"releases": [{"version": "24.1", "product": "rs"|"pra"|null,
/// "supported_upgrades_from": ["23.2"]}]}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_upgrade_table_to_json(
    table: *const bt_dr_upgrade_table,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_upgrade_table_to_json", || {
        let t = unsafe { arg_ref(table, "table")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&t.inner)?)
    })
}

/// Frees an upgrade table. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_upgrade_table_free(table: *mut bt_dr_upgrade_table) -> bt_dr_status {
    guard("bt_dr_upgrade_table_free", || {
        unsafe { free_handle(table) };
        Ok(())
    })
}

/// Decides whether a backup taken at `backup_version` restores onto a site at `site_version`.
///
/// `table` may be NULL (no listed upgrade sources: only the same version is supported).
/// `backup_product` and `site_product` (`"rs"`/`"pra"`) may be NULL (unknown). A refused
/// restore is a verdict, not an error: the call succeeds with `BT_DR_RESTORE_COMPATIBILITY_REFUSED`.
///
/// `*out_json`: `{"compatibility": "supported"|"untested"|"refused", "backup_version",
/// "site_version", "reason": "...", "warning": "..." | null, "steps": ["..."]}` (`steps` is
/// empty here; see `bt_dr_check_restore_onto`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_restore(
    backup_version: *const c_char,
    site_version: *const c_char,
    table: *const bt_dr_upgrade_table,
    backup_product: *const c_char,
    site_product: *const c_char,
    out_compatibility: *mut bt_dr_restore_compatibility,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_check_restore", || {
        let backup_version = unsafe { arg_str(backup_version, "backup_version")? };
        let site_version = unsafe { arg_str(site_version, "site_version")? };
        // SAFETY: NULL or a live table (contract).
        let table = unsafe { table.as_ref() }.map(|t| &t.inner);
        let bp = unsafe { opt_str(backup_product, "backup_product")? };
        let sp = unsafe { opt_str(site_product, "site_product")? };
        let out_c = Out::new(out_compatibility, "out_compatibility")?;
        let out_j = Out::new(out_json, "out_json")?;
        let check = mapping::check_restore(backup_version, site_version, table, bp, sp)?;
        let json = mapping::to_json(&check)?;
        out_j.write_string(json)?;
        out_c.write(check.compatibility.into());
        Ok(())
    })
}

/// Checks a restore of a backup taken at `backup_version` onto `site` (a site of `inventory`:
/// its version and product), as `bt_dr_check_restore` does, aware of failover: when the site
/// has a failover pair, the verdict keeps its compatibility but gains a warning and the steps to
/// follow (break failover, restore, reset the inter-appliance pre-shared key, re-establish
/// failover); a refused restore gets no steps. `backup_product` (`"rs"`/`"pra"`) may be NULL
/// (unknown); `table` may be NULL (no listed upgrade sources).
///
/// `*out_compatibility`: the verdict. `*out_json`: as for `bt_dr_check_restore`, with
/// `"steps": ["Break failover between ...", ...]` in order (empty for a single appliance).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_restore_onto(
    inventory: *const bt_dr_inventory,
    site: *const c_char,
    backup_version: *const c_char,
    backup_product: *const c_char,
    table: *const bt_dr_upgrade_table,
    out_compatibility: *mut bt_dr_restore_compatibility,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_check_restore_onto", || {
        let inv = unsafe { arg_ref(inventory, "inventory")? };
        let site = unsafe { arg_str(site, "site")? };
        let backup_version = unsafe { arg_str(backup_version, "backup_version")? };
        let bp = unsafe { opt_str(backup_product, "backup_product")? };
        // SAFETY: NULL or a live table (contract).
        let table = unsafe { table.as_ref() }.map(|t| &t.inner);
        let out_c = Out::new(out_compatibility, "out_compatibility")?;
        let out_j = Out::new(out_json, "out_json")?;
        let site = mapping::site_of(&inv.inner, site)?;
        let check = mapping::check_restore_onto(&site, backup_version, bp, table)?;
        out_j.write_string(mapping::to_json(&check)?)?;
        out_c.write(check.compatibility.into());
        Ok(())
    })
}

/// What an NSB backup of `product` (`"rs"`/`"pra"`) holds and leaves out.
///
/// `*out_json`: `{"product", "include_logged_history", "included": [{"id", "label", "note"}],
/// "excluded": [{"id", "label", "save_instead", "bt_dr_operation", "report_kinds":
/// ["session_recording", ...]}]}` (`report_kinds`: the Reporting API kinds that hold the item,
/// which a backup set archives).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_nsb_coverage(
    product: *const c_char,
    include_logged_history: bool,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_nsb_coverage", || {
        let product = unsafe { arg_str(product, "product")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::nsb_coverage(product, include_logged_history)?)
    })
}

/// Opens a PKCS#12 bundle (`p12`, `p12_len` bytes) with `passphrase` (may be `""`, never NULL)
/// and checks it. `options_json` may be NULL (defaults) or `{"site_fqdn": "support.example.com",
/// "appliance_hostnames": ["bt-a.example.com"], "expiry_horizon_days": 30, "min_rsa_bits":
/// 2048, "now": "2026-11-20T00:00:00Z"}` (every field optional). Free `*out_report` with
/// `bt_dr_bundle_report_free`.
///
/// Fails with `BT_DR_STATUS_WRONG_PASSPHRASE`, `BT_DR_STATUS_CERTIFICATE` (not a PKCS#12,
/// truncated, unsupported) or `BT_DR_STATUS_PARSE` (options). Problems *in* a readable bundle
/// (expired, missing intermediate, key mismatch, …) are findings of a successful report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_certificate_bundle(
    p12: *const u8,
    p12_len: usize,
    passphrase: *const c_char,
    options_json: *const c_char,
    out_report: *mut *mut bt_dr_bundle_report,
) -> bt_dr_status {
    guard("bt_dr_check_certificate_bundle", || {
        let bytes = unsafe { arg_bytes(p12, p12_len, "p12")? };
        let pass = unsafe { arg_str(passphrase, "passphrase")? };
        let opts = unsafe { opt_str(options_json, "options_json")? };
        let out = Out::new(out_report, "out_report")?;
        let inner = mapping::check_certificate_bundle(bytes, pass, opts)?;
        out.write(into_handle(bt_dr_bundle_report { inner }));
        Ok(())
    })
}

/// Like `bt_dr_check_certificate_bundle` reading the bundle from the file at `path`
/// (`BT_DR_STATUS_IO` when it cannot be read).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_certificate_bundle_file(
    path: *const c_char,
    passphrase: *const c_char,
    options_json: *const c_char,
    out_report: *mut *mut bt_dr_bundle_report,
) -> bt_dr_status {
    guard("bt_dr_check_certificate_bundle_file", || {
        let path = unsafe { arg_str(path, "path")? };
        let pass = unsafe { arg_str(passphrase, "passphrase")? };
        let opts = unsafe { opt_str(options_json, "options_json")? };
        let out = Out::new(out_report, "out_report")?;
        let inner = mapping::check_certificate_bundle_file(path, pass, opts)?;
        out.write(into_handle(bt_dr_bundle_report { inner }));
        Ok(())
    })
}

/// The report as JSON — the core's view (`BundleReport::view`: the report with its verdict,
/// the same JSON every binding returns):
/// `{"certificates": [{"subject", "issuer", "issued_to", "issued_by", "dns_names": [],
/// "ip_addresses": [], "not_before": RFC 3339, "not_after": RFC 3339, "serial", "sha256",
/// "is_ca", "key_algorithm": "rsa"|"ec"|..., "key_bits", "class", "friendly_name"}],
/// "leaf": index | null, "chain": [indices from the leaf up], "has_private_key": bool,
/// "key_matches_leaf": bool | null, "findings": [{"id", "severity":
/// "info"|"warning"|"error"|"critical", "subject", "message", "remediation"}],
/// "worst": severity | null, "usable": bool}`. Findings are most severe first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_to_json(
    report: *const bt_dr_bundle_report,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_to_json", || {
        let r = unsafe { arg_ref(report, "report")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::bundle_report_value(&r.inner)?)
    })
}

/// Number of findings in the report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_finding_count(
    report: *const bt_dr_bundle_report,
    out_count: *mut usize,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_finding_count", || {
        let r = unsafe { arg_ref(report, "report")? };
        let out = Out::new(out_count, "out_count")?;
        out.write(r.inner.findings.len());
        Ok(())
    })
}

/// The most severe finding (`BT_DR_SEVERITY_NONE` when there is none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_worst_severity(
    report: *const bt_dr_bundle_report,
    out_severity: *mut bt_dr_severity,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_worst_severity", || {
        let r = unsafe { arg_ref(report, "report")? };
        let out = Out::new(out_severity, "out_severity")?;
        out.write(r.inner.worst().into());
        Ok(())
    })
}

/// Whether the bundle is usable: no finding at error level or above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_is_usable(
    report: *const bt_dr_bundle_report,
    out_usable: *mut bool,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_is_usable", || {
        let r = unsafe { arg_ref(report, "report")? };
        let out = Out::new(out_usable, "out_usable")?;
        out.write(r.inner.is_usable());
        Ok(())
    })
}

/// Finding number `index` (0-based, most severe first) as JSON `{"id", "severity", "subject",
/// "message", "remediation"}`. `BT_DR_STATUS_INVALID_INPUT` when `index` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_finding_json(
    report: *const bt_dr_bundle_report,
    index: usize,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_finding_json", || {
        let r = unsafe { arg_ref(report, "report")? };
        let out = Out::new(out_json, "out_json")?;
        let f = r.inner.findings.get(index).ok_or_else(|| {
            bt_dr_core::Error::invalid_input(
                "index",
                format!(
                    "{index} is out of range (the report has {} findings)",
                    r.inner.findings.len()
                ),
            )
        })?;
        out.write_string(mapping::to_json(f)?)
    })
}

/// Frees a bundle report. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_bundle_report_free(
    report: *mut bt_dr_bundle_report,
) -> bt_dr_status {
    guard("bt_dr_bundle_report_free", || {
        unsafe { free_handle(report) };
        Ok(())
    })
}

/// Checks that the two appliances of a failover pair carry the identical certificate.
///
/// `*out_identical`: the leaf certificates are byte-identical. `*out_json`: `{"identical":
/// bool, "findings": [finding, ...]}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_certificate_pair(
    primary: *const bt_dr_bundle_report,
    backup: *const bt_dr_bundle_report,
    out_identical: *mut bool,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_check_certificate_pair", || {
        let p = unsafe { arg_ref(primary, "primary")? };
        let b = unsafe { arg_ref(backup, "backup")? };
        let out_i = Out::new(out_identical, "out_identical")?;
        let out_j = Out::new(out_json, "out_json")?;
        let pair = bt_dr_core::check_certificate_pair(&p.inner, &b.inner);
        out_j.write_string(mapping::to_json(&pair)?)?;
        out_i.write(pair.identical);
        Ok(())
    })
}

/// Loads and validates an `/appliance` settings record file (TOML/JSON/YAML by extension) and,
/// when `save_dir` is not NULL, saves it there as JSON under its identifying file name.
///
/// `*out_json`: the record's fields as every binding returns them (`{"identity": {...},
/// "ip_configuration": [...], ..., "file_name":
/// "appliance-<host>-v<version>-sn-<serial>-base-<base>-<time>.json"}`) plus `"saved_path":
/// "..."` when `save_dir` was given. Fails with `BT_DR_STATUS_IO`, `BT_DR_STATUS_PARSE` or `BT_DR_STATUS_INVALID_INPUT`
/// (a setting a recovery depends on is missing; `field` in the details).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_appliance_record(
    path: *const c_char,
    save_dir: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_appliance_record", || {
        let path = unsafe { arg_str(path, "path")? };
        let save_dir = unsafe { opt_str(save_dir, "save_dir")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::appliance_record(path, save_dir)?)
    })
}

/// Like `bt_dr_appliance_record` from text; `format` is `"toml"`, `"json"` or
/// `"yaml"`; NULL is the library's default format (TOML).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_appliance_record_parse(
    text: *const c_char,
    format: *const c_char,
    save_dir: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_appliance_record_parse", || {
        let text = unsafe { arg_str(text, "text")? };
        let format = unsafe { opt_str(format, "format")? };
        let save_dir = unsafe { opt_str(save_dir, "save_dir")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::appliance_record_text(text, format, save_dir)?)
    })
}

/// Records a downloaded Vault encryption key: hashes the key file at `key_path` (never reads it
/// otherwise) for `site`, downloaded on `date` (`YYYY-MM-DD`); `password_protected` is what the
/// operator chose when downloading.
///
/// `*out_json`: the core's view (`VaultKeyRecord::view`, the same JSON every binding returns),
/// the record's fields with its findings alongside: `{"site", "date": "YYYY-MM-DD",
/// "file_name", "sha256", "size", "password_protected", "recorded_at": RFC 3339, "findings":
/// [finding, ...]}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_vault_key_record(
    key_path: *const c_char,
    site: *const c_char,
    date: *const c_char,
    password_protected: bool,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_vault_key_record", || {
        let key_path = unsafe { arg_str(key_path, "key_path")? };
        let site = unsafe { arg_str(site, "site")? };
        let date = unsafe { arg_str(date, "date")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::vault_key_record(
            key_path,
            site,
            date,
            password_protected,
        )?)
    })
}
