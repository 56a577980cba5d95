//! The JSON Schema of bt-dr-core's public result and option types, the one source the bindings'
//! type surfaces are generated from (issue 15 item 2): `schema/bt-dr.schema.json` is what
//! [`schema_document`] returns, and `bt-dr-py/scripts/gen_models.py`, `gen_stubs.py` and
//! `bt-dr-node/scripts/gen_types.py` read that file. `make generate` writes them all;
//! `make check-generated` fails when a committed file differs from what the sources make.
//!
//! The schema describes the JSON the core *serializes* (schemars' serialize contract): a field
//! is `required` when it is always present, and `null` is in its type when it may be null. The
//! types bindings take as JSON input are listed under `x-bt-inputs`; for those, `required`
//! follows the deserialize contract instead (what a caller must give; the rest has defaults).
//! Every object also carries `x-order`, its properties in the order the core writes them
//! (`properties` itself is sorted), which the generators keep as field order.

use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

use bt_dr_core::api::{
    ApiInfo, ApplianceInfo, ArchiveEntry, BackupDownload, BackupSidecar, ConnectedClient,
    DownloadedFile, Health, Permissions, Probe, RoleChange, Session, TimeWindow,
};
use bt_dr_core::atlas::{AtlasCheckOptions, AtlasReport};
use bt_dr_core::audit::{AuditOptions, AuditReport, AuditReportView, SiteLive};
use bt_dr_core::backup::{BackupName, BackupNameView, NsbCoverage, RestoreCheck, UpgradeTable};
use bt_dr_core::backup_set::{
    BackupSetOptionsInput, BackupSetReport, JobReport, VaultKeyInput, VerifyReport,
    VerifyReportView,
};
use bt_dr_core::certificate::{BundleCheckOptions, BundleReport, BundleReportView, PairReport};
use bt_dr_core::error::{ErrorKindInfo, ErrorReport};
use bt_dr_core::failover::{FailoverOptionsInput, FailoverPlan, FailoverTimeline};
use bt_dr_core::manifest::Manifest;
use bt_dr_core::records::{ApplianceRecord, VaultKeyRecord, VaultKeyRecordView};
use bt_dr_core::retention::{RetentionCandidate, RetentionPlan, RetentionPolicy};
use bt_dr_core::store::{CleanReport, SetListing, SetSummary, SiteCleanReport};
use bt_dr_core::{Finding, Inventory, Operation, Site, Thresholds, VersionView};

/// Where the committed schema lives, relative to the workspace root.
pub const SCHEMA_PATH: &str = "schema/bt-dr.schema.json";

/// Registers every root type with `generator`. A root is a type a binding returns, or takes as
/// JSON; the types they contain come along.
fn add_roots(generator: &mut SchemaGenerator) {
    macro_rules! roots {
        ($($t:ty),* $(,)?) => { $( generator.subschema_for::<$t>(); )* };
    }
    roots!(
        // common
        Finding,
        ErrorReport,
        ErrorKindInfo,
        Operation,
        VersionView,
        // API results
        Health,
        Probe,
        Permissions,
        ApiInfo,
        ApplianceInfo,
        ConnectedClient,
        RoleChange,
        DownloadedFile,
        BackupSidecar,
        BackupDownload,
        Session,
        ArchiveEntry,
        TimeWindow,
        // certificates
        BundleCheckOptions,
        BundleReport,
        BundleReportView<'static>,
        PairReport,
        // backups
        BackupName,
        BackupNameView,
        RestoreCheck,
        UpgradeTable,
        NsbCoverage,
        // records
        ApplianceRecord,
        VaultKeyRecord,
        VaultKeyRecordView<'static>,
        // sites
        Site,
        Thresholds,
        Inventory,
        // backup sets
        VaultKeyInput,
        BackupSetOptionsInput,
        Manifest,
        BackupSetReport,
        SetSummary,
        SetListing,
        CleanReport,
        SiteCleanReport,
        VerifyReport,
        VerifyReportView<'static>,
        JobReport,
        // retention
        RetentionPolicy,
        RetentionPlan,
        RetentionCandidate,
        // audit
        AuditOptions,
        SiteLive,
        AuditReport,
        AuditReportView<'static>,
        // failover
        FailoverOptionsInput,
        FailoverPlan,
        FailoverTimeline,
        // atlas
        AtlasCheckOptions,
        AtlasReport,
    );
}

/// The types bindings take as JSON input (options, inventories and their parts, policies,
/// plans, windows), exactly as the core deserializes them. `Thresholds` and `UpgradeTable` are
/// left out on purpose: bindings hand them out complete (a loaded inventory or table) more
/// often than they take them, and their inputs are partial forms of the same keys. The failover
/// and backup-set options are here as their JSON forms (`FailoverOptionsInput`,
/// `BackupSetOptionsInput`: milliseconds instead of durations), which is what bindings pass.
pub const INPUTS: &[&str] = &[
    "AdminRestrictions",
    "ApiAccess",
    "Appliance",
    "ApplianceIdentity",
    "ApplianceRecord",
    "AtlasCheckOptions",
    "AuditOptions",
    "AutoFailover",
    "BackupSetOptionsInput",
    "BundleCheckOptions",
    "ColdSpare",
    "FailoverOptionsInput",
    "FailoverPair",
    "Interface",
    "Inventory",
    "LoginAgreement",
    "RetentionPlan",
    "RetentionPolicy",
    "Site",
    "Smtp",
    "Snmp",
    "StaticRoute",
    "Syslog",
    "TimeWindow",
    "TlsSettings",
    "TrafficNode",
    "UpgradeEntry",
    "TrafficRedirect",
    "VaultKeyInput",
];

fn definitions(contract: Contract) -> Map<String, Value> {
    let mut settings = SchemaSettings::draft2020_12();
    settings.contract = contract;
    let mut generator = settings.into_generator();
    add_roots(&mut generator);
    generator.take_definitions(true)
}

/// Adds `x-order` to every object schema in `value` (recursively: enum variants are objects
/// too) from `order`, the same schema under the serialize contract, whose `required` lists
/// the always-written properties in source order; properties it lacks (skipped when empty)
/// follow in name order.
fn add_order(value: &mut Value, order: &Value) {
    if let (Some(obj), Some(ord)) = (value.as_object_mut(), order.as_object()) {
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let mut names: Vec<String> = ord
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            names.retain(|n| props.contains_key(n));
            for key in props.keys() {
                if !names.contains(key) {
                    names.push(key.clone());
                }
            }
            obj.insert(
                "x-order".into(),
                names.into_iter().map(Value::String).collect(),
            );
        }
        for (key, child) in obj.iter_mut() {
            if let Some(o) = ord.get(key) {
                add_order(child, o);
            }
        }
    } else if let (Some(arr), Some(ord)) = (value.as_array_mut(), order.as_array()) {
        for (child, o) in arr.iter_mut().zip(ord) {
            add_order(child, o);
        }
    }
}

/// The schema document: every root type and the types it uses under `$defs`, sorted by name.
pub fn schema_document() -> Value {
    let serialized = definitions(Contract::Serialize);
    let deserialized = definitions(Contract::Deserialize);
    let mut defs = Map::new();
    for (name, schema) in &serialized {
        let mut schema = if INPUTS.contains(&name.as_str()) {
            deserialized
                .get(name)
                .cloned()
                .unwrap_or_else(|| schema.clone())
        } else {
            schema.clone()
        };
        add_order(&mut schema, schema_order(&serialized, name));
        add_defaults(&mut schema, schema_order(&deserialized, name));
        strip_examples(&mut schema);
        defs.insert(name.clone(), schema);
    }
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    doc.insert(
        "$id".into(),
        "https://example.invalid/bt-dr/schema/bt-dr.schema.json".into(),
    );
    doc.insert("title".into(), "bt-dr".into());
    doc.insert(
        "$comment".into(),
        "GENERATED by tools/bt-dr-schema (`make generate`) from bt-dr-core's types with the \
         `schema` feature; do not edit. `make check-generated` fails when it drifts."
            .into(),
    );
    doc.insert(
        "description".into(),
        "The JSON shapes bt-dr-core serializes, which every binding returns unchanged \
         (required: always present), and the inputs they take as JSON (x-bt-inputs; there \
         required: what a caller must give)."
            .into(),
    );
    doc.insert(
        "x-bt-inputs".into(),
        INPUTS.iter().map(|s| Value::String((*s).into())).collect(),
    );
    doc.insert("$defs".into(), Value::Object(defs));
    Value::Object(doc)
}

/// Gives every property the core fills in when its key is absent a `default` (taken from
/// `input`, the same schema under the deserialize contract; `null` for a nullable property
/// without one), so generators know which fields may be left out of a constructor.
fn add_defaults(value: &mut Value, input: &Value) {
    if let (Some(obj), Some(inp)) = (value.as_object_mut(), input.as_object()) {
        let required: Vec<&str> = inp
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let in_props = inp.get("properties").and_then(Value::as_object);
        if let (Some(props), Some(in_props)) = (
            obj.get_mut("properties").and_then(Value::as_object_mut),
            in_props,
        ) {
            for (name, prop) in props.iter_mut() {
                let Some(in_prop) = in_props.get(name) else {
                    continue;
                };
                let Some(p) = prop.as_object_mut() else {
                    continue;
                };
                if required.contains(&name.as_str()) || p.contains_key("default") {
                    continue;
                }
                if let Some(d) = in_prop.get("default") {
                    p.insert("default".into(), d.clone());
                } else if nullable(in_prop) {
                    p.insert("default".into(), Value::Null);
                }
            }
        }
        for (key, child) in obj.iter_mut() {
            if key != "properties"
                && let Some(i) = inp.get(key)
            {
                add_defaults(child, i);
            }
        }
    } else if let (Some(arr), Some(inp)) = (value.as_array_mut(), input.as_array()) {
        for (child, i) in arr.iter_mut().zip(inp) {
            add_defaults(child, i);
        }
    }
}

/// `null` is one of the values `schema` allows.
fn nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    ["anyOf", "oneOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(nullable))
    })
}

/// Removes the rustdoc examples (fenced code blocks) from every `description`: they are Rust
/// doctests, not documentation for Python or TypeScript readers.
fn strip_examples(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "description" => *text = without_code(text),
                    _ => strip_examples(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_examples),
        _ => {}
    }
}

fn without_code(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code {
            out.push(line);
        }
    }
    out.join("\n").trim().to_string()
}

fn schema_order<'a>(serialized: &'a Map<String, Value>, name: &str) -> &'a Value {
    serialized.get(name).unwrap_or(&Value::Null)
}

/// The document as committed: two-space indentation, keys sorted, one final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&sort(schema_document()))
        .expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Sorts object keys recursively, so the file is byte-stable whatever `serde_json` map order
/// the build links (another crate of the workspace may turn on `preserve_order`).
fn sort(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
        other => other,
    }
}

/// The schema of one type alone (used by tests).
pub fn schema_for<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_matches_the_core_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SCHEMA_PATH);
        let committed = std::fs::read_to_string(&path).expect("the committed schema");
        assert!(
            committed == schema_text(),
            "{SCHEMA_PATH} is out of date: run `make generate` and commit the result"
        );
    }

    #[test]
    fn every_object_has_its_order_and_inputs_exist() {
        let doc = schema_document();
        let defs = doc["$defs"].as_object().unwrap();
        for name in INPUTS {
            assert!(
                defs.contains_key(*name),
                "input {name} is not in the schema"
            );
        }
        for (name, def) in defs {
            if let Some(props) = def.get("properties").and_then(Value::as_object) {
                let order = def["x-order"].as_array().unwrap();
                assert_eq!(
                    order.len(),
                    props.len(),
                    "{name}: x-order misses properties"
                );
            }
        }
        // Serialize contract for results: a field the core always writes is required.
        let finding = &defs["Finding"];
        assert!(
            finding["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "remediation")
        );
        // Doc comments become descriptions, without their doctests.
        let desc = finding["description"].as_str().unwrap();
        assert!(!desc.is_empty() && !desc.contains("```"));
    }

    #[test]
    fn timestamps_and_paths_carry_their_format() {
        let doc = schema_document();
        assert_eq!(
            doc["$defs"]["SetSummary"]["properties"]["created_at"]["format"],
            "date-time"
        );
        assert_eq!(
            doc["$defs"]["SetSummary"]["properties"]["path"]["format"],
            "path"
        );
        assert_eq!(doc["$defs"]["ProductVersion"]["type"], "string");
    }
}
