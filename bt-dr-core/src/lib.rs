//! # bt-dr-core
//!
//! Disaster recovery for BeyondTrust Remote Support (RS) and Privileged Remote Access (PRA)
//! sites on B Series Appliances, as typed, validated operations.
//!
//! The crate is layered; each layer imports only from the ones above it in this table
//! (and from [`support`]), always from the owning module:
//!
//! | layer | modules | what |
//! |---|---|---|
//! | [`model`] | [`product`], [`version`], [`appliance`], [`site`], [`inventory`] | RS/PRA, release versions, appliances, failover pairs, Atlas, the fleet and its thresholds |
//! | [`rules`] | [`backup`], [`certificate`], [`records`], [`finding`] | NSB names, what an NSB holds, restore compatibility; p12 bundles and pair check; `/appliance` and Vault key records; the finding type |
//! | [`api`] | [`api`] | the appliance API client (OAuth, Command, Backup, Reporting) |
//! | [`dr`] | [`manifest`], [`verify`], [`store`], [`backup_set`], [`backup_source`](mod@backup_source), [`reporting_archive`], [`retention`], [`audit`](mod@audit), [`runbook`], [`failover`], [`atlas`] | backup sets with manifests, verify, the store, which appliance tonight's backup comes from, the reporting archive, retention, the readiness audit, the runbook, failover, the Atlas cluster check |
//! | [`support`] | [`error`], [`document`], [`dates`], [`fsutil`], [`hash`], [`operations`] | the one error type and its stable kinds, documents, dates, atomic files, hashing, the operations the bindings mirror |
//!
//! Every module is also reachable at the crate root (`bt_dr_core::store`, …), and the main
//! types are re-exported there.
//!
//! ```
//! use bt_dr_core::{check_restore, RestoreCompatibility, UpgradeTable};
//! let verdict = check_restore(&"24.2.0".parse()?, &"24.1.1".parse()?, &UpgradeTable::default(), None, None);
//! assert_eq!(verdict.compatibility, RestoreCompatibility::Refused);
//! # Ok::<(), bt_dr_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod dr;
pub mod model;
pub mod rules;
pub mod support;

// The modules by their short names, as before the crate was layered: the bindings, tests and
// users name `bt_dr_core::store::…`, `bt_dr_core::backup_set::…`, `bt_dr_core::inventory::…`.
pub use dr::{
    atlas, audit, backup_set, backup_source, failover, manifest, reporting_archive, retention,
    runbook, store, verify,
};
pub use model::{appliance, inventory, product, site, version};
pub use rules::{backup, certificate, finding, records};
#[doc(hidden)]
pub use support::fuzzing;
pub use support::{dates, document, error, fsutil, hash, operations};

pub use appliance::{Appliance, ApplianceKind, ClusterRole, FailoverRole};
pub use atlas::{AtlasCheckOptions, AtlasReport, check_atlas_cluster};
pub use audit::{
    AuditInput, AuditOptions, AuditReport, AuditReportView, DEFAULT_SWEEP_CONCURRENCY, SiteLive,
    audit, collect_live, health_sweep,
};
pub use backup::{
    BackupName, BackupNameView, NsbCoverage, RestoreCheck, RestoreCompatibility, UpgradeEntry,
    UpgradeTable, check_restore, check_restore_onto, nsb_coverage,
};
pub use backup_set::{
    BackupSetOptions, BackupSetReport, DEFAULT_JOB_CONCURRENCY, JobReport, JobSite, Manifest,
    VerifyReport, VerifyReportView, run_backup_job, run_backup_set, verify_backup_set,
};
pub use backup_source::backup_source;
pub use certificate::{
    BundleCheckOptions, BundleReport, BundleReportView, CertClass, CertInfo, PairReport,
    check_certificate_bundle, check_certificate_pair,
};
pub use error::{Error, ErrorKind, ErrorReport, Result};
pub use failover::{
    ClientConfirmation, FailoverMode, FailoverOptions, FailoverOutcome, FailoverPlan, FailoverStep,
    FailoverTimeline, RedirectMethod, RedirectReport, RedirectRequest, TrafficRedirect,
    execute_failover, plan_failover,
};
pub use finding::{Finding, Severity};
pub use fsutil::{AtomicFile, write_atomic};
pub use hash::{sha256_file, sha256_hex};
pub use inventory::{Inventory, Thresholds};
pub use operations::{OPERATIONS, Operation};
pub use product::Product;
pub use records::{ApplianceRecord, ApplianceRecordView, VaultKeyRecord, VaultKeyRecordView};
pub use retention::{RetentionPlan, RetentionPolicy, plan_retention};
pub use runbook::render_runbook;
pub use secrecy::{ExposeSecret, SecretString};
pub use site::{
    ApiAccess, AtlasCluster, AutoFailover, ColdSpare, FailoverPair, RoutingMethod, Site,
    TrafficNode,
};
pub use store::{BackupStore, SetSummary};
pub use version::{ProductVersion, VersionPattern, VersionView};

/// The user agent bt-dr sends: `bt-dr/<version>`.
pub const USER_AGENT: &str = concat!("bt-dr/", env!("CARGO_PKG_VERSION"));

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
