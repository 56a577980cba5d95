//! Offline operations: versions, inventories, backup names and restore rules, NSB coverage,
//! certificate bundles, appliance and Vault key records. Each is a direct call into bt-dr-core;
//! file reads and PKCS#12 decryption run off the JavaScript thread and return Promises.

use std::path::PathBuf;

use bt_dr_core::document::{Format, parse_document};
use bt_dr_core::{
    ApplianceRecord, BackupName, BundleCheckOptions, BundleReport, Error, Inventory, Product,
    ProductVersion, SecretString, Site, UpgradeTable, VaultKeyRecord,
};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{blocking, date_input, input, out, sync_value, time_input};

/// The core's parse of a `format` argument (`toml`, `json`, `yaml`/`yml`, any case); no
/// format is the core's default ([`Format::default`]), so the default lives in one place.
fn format_input(s: Option<&str>) -> bt_dr_core::Result<Format> {
    s.map_or(Ok(Format::default()), str::parse)
}

/// `parse_version`: parses `X.Y.Z` or the `check_health` form `X.Y.Z (build-commit)` into the
/// core's [`ProductVersion::view`] (camelCase keys).
#[napi(catch_unwind, ts_return_type = "any")]
pub fn parse_version(env: Env, text: String) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        sync_value(
            &env,
            text.parse::<ProductVersion>().and_then(|v| out(&v.view())),
        )
    })
}

/// `load_inventory` (text form): parses and validates inventory text (`toml`, `json` or `yaml`;
/// the core's default format when not given).
#[napi(catch_unwind, ts_return_type = "any")]
pub fn parse_inventory(env: Env, text: String, format: Option<String>) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        sync_value(
            &env,
            format_input(format.as_deref())
                .and_then(|f| Inventory::parse(&text, f))
                .and_then(|i| out(&i)),
        )
    })
}

/// `load_inventory`: loads and validates an inventory file (format by extension).
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn load_inventory(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || Inventory::load(&path).and_then(|i| out(&i)))
    })
}

/// `parse_backup_name`: parses a default NSB backup file name into the core's
/// [`BackupName::view`] (every part as text, camelCase keys).
#[napi(catch_unwind, ts_return_type = "any")]
pub fn parse_backup_name(env: Env, name: String) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        sync_value(
            &env,
            name.parse::<BackupName>().and_then(|n| out(&n.view())),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupNameParts {
    version: String,
    site: String,
    date: String,
    #[serde(default)]
    time: Option<String>,
    id: String,
    /// Present when a parsed name is passed back; the name is rebuilt from the parts.
    #[serde(default, rename = "file_name")]
    _file_name: Option<String>,
}

/// `format_backup_name`: builds a default NSB backup file name from
/// `{version, site, date: "YYYY-MM-DD", time?: "HH:MM:SS", id}`.
#[napi(catch_unwind)]
pub fn format_backup_name(env: Env, parts: Value) -> napi::Result<String> {
    crate::convert::guard(&env, || {
        let r = (|| {
            let p: BackupNameParts = input("parts", parts)?;
            let version: ProductVersion = p.version.parse()?;
            // Field names as the core, Python and C report them (`date`, `time`), not the
            // JavaScript argument path: the same bad input gives the same error everywhere.
            let date = date_input("date", &p.date)?;
            let time = p
                .time
                .as_deref()
                .map(|t| time_input("time", t))
                .transpose()?;
            Ok(BackupName::new(version, &p.site, date, time, &p.id)?.to_string())
        })();
        r.map_err(|e| crate::convert::js_error(&env, &e))
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RestoreOptions {
    #[serde(default)]
    table: Option<UpgradeTable>,
    #[serde(default)]
    backup_product: Option<Product>,
    #[serde(default)]
    site_product: Option<Product>,
}

/// `check_restore`: whether a backup of `backupVersion` restores onto a site at `siteVersion`.
/// `options`: `{table?, backupProduct?, siteProduct?}`.
#[napi(catch_unwind, ts_return_type = "any")]
pub fn check_restore(
    env: Env,
    backup_version: String,
    site_version: String,
    options: Option<Value>,
) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        let r = (|| {
            let o: RestoreOptions = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => RestoreOptions::default(),
            };
            let b: ProductVersion = backup_version.parse()?;
            let s: ProductVersion = site_version.parse()?;
            let table = o.table.unwrap_or_default();
            out(&bt_dr_core::check_restore(
                &b,
                &s,
                &table,
                o.backup_product,
                o.site_product,
            ))
        })();
        sync_value(&env, r)
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RestoreOntoOptions {
    #[serde(default)]
    table: Option<UpgradeTable>,
    #[serde(default)]
    backup_product: Option<Product>,
}

/// `check_restore_onto`: [`check_restore`] for a restore onto an inventory `site` (its version
/// and product); for a failover pair the verdict gains a warning and the guide's `steps`
/// (break failover, restore, reset the pre-shared key, re-establish). `options`:
/// `{table?, backupProduct?}`.
#[napi(catch_unwind, ts_return_type = "any")]
pub fn check_restore_onto(
    env: Env,
    site: Value,
    backup_version: String,
    options: Option<Value>,
) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        let r = (|| {
            let site: Site = input("site", site)?;
            site.validate()?;
            let o: RestoreOntoOptions = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => RestoreOntoOptions::default(),
            };
            let b: ProductVersion = backup_version.parse()?;
            let table = o.table.unwrap_or_default();
            out(&bt_dr_core::check_restore_onto(
                &site,
                &b,
                o.backup_product,
                &table,
            ))
        })();
        sync_value(&env, r)
    })
}

/// `load_upgrade_table` (text form): parses a supported-upgrade table in `format` (the core's
/// default format when not given; the core's document parser, as `load_upgrade_table` and the
/// C binding use it).
#[napi(catch_unwind, ts_return_type = "any")]
pub fn parse_upgrade_table(env: Env, text: String, format: Option<String>) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        let r = format_input(format.as_deref())
            .and_then(|f| parse_document::<UpgradeTable>(&text, f, "upgrade table", None));
        sync_value(&env, r.and_then(|t| out(&t)))
    })
}

/// `load_upgrade_table`: loads the supported-upgrade table from a file.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn load_upgrade_table(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || UpgradeTable::load(&path).and_then(|t| out(&t)))
    })
}

/// `nsb_coverage`: what an NSB backup of `product` holds and what it leaves out.
#[napi(catch_unwind, ts_return_type = "any")]
pub fn nsb_coverage(
    env: Env,
    product: String,
    include_logged_history: Option<bool>,
) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        // The core's own parsing (and its error), as Python and C use it.
        let r = product.parse::<Product>().and_then(|p| {
            out(&bt_dr_core::nsb_coverage(
                p,
                include_logged_history.unwrap_or(false),
            ))
        });
        sync_value(&env, r)
    })
}

/// `check_certificate_bundle`: opens a p12 bundle (a path or its bytes) with `passphrase` and
/// checks it against `options` (`{siteFqdn?, applianceHostnames?, expiryHorizonDays?,
/// minRsaBits?, now?}`).
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn check_certificate_bundle(
    env: &Env,
    source: Either<String, Buffer>,
    passphrase: String,
    options: Option<Value>,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        let source = match source {
            Either::A(path) => Either::A(PathBuf::from(path)),
            Either::B(buf) => Either::B(buf.to_vec()),
        };
        let passphrase = SecretString::from(passphrase);
        blocking(env, move || {
            let opts: BundleCheckOptions = match options {
                Some(v) if !v.is_null() => input("options", v)?,
                _ => BundleCheckOptions::default(),
            };
            let bytes = match source {
                Either::A(path) => {
                    std::fs::read(&path).map_err(|e| Error::io("reading", &path, e))?
                }
                Either::B(b) => b,
            };
            // The core's view: the report with its verdict (`usable`, `worst`).
            let report = bt_dr_core::check_certificate_bundle(&bytes, &passphrase, &opts)?;
            out(&report.view())
        })
    })
}

/// `check_certificate_pair`: compares the bundle reports of a failover pair's two appliances.
#[napi(catch_unwind, ts_return_type = "any")]
pub fn check_certificate_pair(env: Env, primary: Value, backup: Value) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        let r = (|| {
            let p: BundleReport = input("primary", primary)?;
            let b: BundleReport = input("backup", backup)?;
            p.check_consistent("primary")?;
            b.check_consistent("backup")?;
            out(&bt_dr_core::check_certificate_pair(&p, &b))
        })();
        sync_value(&env, r)
    })
}

/// A record as JavaScript passes it back: a bare record or the view `appliance_record` returned.
fn record_input(v: Value) -> bt_dr_core::Result<ApplianceRecord> {
    ApplianceRecord::from_view_json(crate::convert::to_snake(v))
}

/// `appliance_record` (text form): parses an `/appliance` record in `format` (the core's
/// default format when not given) and validates it (the core's document parser and rules, as
/// `appliance_record_load` and the C binding use them).
#[napi(catch_unwind, ts_return_type = "any")]
pub fn appliance_record_parse(
    env: Env,
    text: String,
    format: Option<String>,
) -> napi::Result<Value> {
    crate::convert::guard(&env, || {
        let r = format_input(format.as_deref()).and_then(|f| {
            let a: ApplianceRecord = parse_document(&text, f, "appliance record", None)?;
            a.validate()?;
            Ok(a)
        });
        sync_value(&env, r.and_then(|a| out(&a.view())))
    })
}

/// `appliance_record`: loads and validates an `/appliance` record file.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn appliance_record_load(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            ApplianceRecord::load(&path).and_then(|a| out(&a.view()))
        })
    })
}

/// `appliance_record`: validates a record object (throws `BT_DR_INVALID_INPUT` when unusable).
#[napi(catch_unwind)]
pub fn appliance_record_validate(env: Env, record: Value) -> napi::Result<()> {
    crate::convert::guard(&env, || {
        let r = record_input(record).and_then(|a| a.validate());
        r.map_err(|e| crate::convert::js_error(&env, &e))
    })
}

/// `appliance_record`: the identifying file name of a record.
#[napi(catch_unwind)]
pub fn appliance_record_file_name(env: Env, record: Value) -> napi::Result<String> {
    crate::convert::guard(&env, || {
        let r = record_input(record).map(|a| a.file_name());
        r.map_err(|e| crate::convert::js_error(&env, &e))
    })
}

/// `appliance_record`: validates and saves a record as JSON into `dir`; resolves to its path.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn appliance_record_save(
    env: &Env,
    record: Value,
    dir: String,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let a = record_input(record)?;
            let p = a.save(&dir)?;
            Ok(Value::String(p.display().to_string()))
        })
    })
}

/// `vault_key_record`: hashes a downloaded Vault key file and records it (never its content):
/// the core's [`VaultKeyRecord::view`], the record with its findings.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn vault_key_record(
    env: &Env,
    path: String,
    site: String,
    date: String,
    password_protected: bool,
) -> napi::Result<PromiseRaw<'_, Value>> {
    crate::convert::guard(env, || {
        blocking(env, move || {
            let d = date_input("date", &date)?;
            let rec = VaultKeyRecord::from_file(&path, &site, d, password_protected)?;
            out(&rec.view())
        })
    })
}
