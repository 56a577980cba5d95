//! Every integration test of bt-dr-core, linked into one binary.
//!
//! One binary instead of one per file: each test binary links the whole dependency graph
//! (tens of MB each), so one per file cost CI gigabytes of disk and minutes of linking.
//! Each file below is still a module of its own with its own simulator set-up; run one with
//! `cargo test -p bt-dr-core --test integration -- <file>::`.

mod common;

mod api_client;
mod backup_source;
mod certificates;
mod chaos;
mod disk_full;
mod dr_audit_runbook_failover;
mod dr_backup_sets;
mod failover_safety;
mod fault_matrix;
mod fuzz_regressions;
mod guide_failover;
mod guide_reporting;
mod guide_rules;
mod guide_rules_more;
mod hostile_appliance;
mod large_download;
mod p12_variants;
mod partial_sets;
mod readme_sync;
mod records_and_inventory;
mod secrets;
mod store_robustness;
mod tls;
