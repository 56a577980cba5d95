//! # bt-dr-core
//!
//! Disaster recovery for BeyondTrust Remote Support (RS) and Privileged Remote Access (PRA)
//! sites on B Series Appliances, as typed, validated operations.
//!
//! The modules follow the DR domain:
//!
//! | module | what |
//! |---|---|
//! | [`product`], [`version`] | RS/PRA and release versions |
//! | [`appliance`], [`site`], [`inventory`] | appliances, failover pairs, Atlas, the fleet and its thresholds |
//! | [`atlas`] | Atlas cluster check after a change: membership, sync, client trend per node |
//! | [`backup`] | NSB names, what an NSB holds, restore compatibility |
//! | [`certificate`] | p12 bundles: classes, chain, key, names, expiry; pair check |
//! | [`records`] | `/appliance` settings and Vault key records |
//! | [`api`] | the appliance API client (OAuth, Command, Backup, Reporting) |
//! | [`store`], [`backup_set`], [`retention`] | backup sets with manifests, verify, retention |
//! | [`reporting_archive`] | the per-site archive of recordings, session reports and exit surveys |
//! | [`audit`] | the readiness audit |
//! | [`runbook`] | the recovery runbook |
//! | [`failover`] | failover plan and execution |
//! | [`finding`] | the finding type every check reports |
//! | [`error`] | the one error type and its stable kinds |
//! | [`operations`] | the list of public operations the bindings mirror |
//!
//! ```
//! use bt_dr_core::{check_restore, RestoreCompatibility, UpgradeTable};
//! let verdict = check_restore(&"24.2.0".parse()?, &"24.1.1".parse()?, &UpgradeTable::default(), None, None);
//! assert_eq!(verdict.compatibility, RestoreCompatibility::Refused);
//! # Ok::<(), bt_dr_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod appliance;
pub mod atlas;
pub mod audit;
pub mod backup;
pub mod backup_set;
pub mod certificate;
pub mod dates;
pub mod document;
pub mod error;
pub mod failover;
pub mod finding;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod inventory;
pub mod operations;
pub mod product;
pub mod records;
pub mod reporting_archive;
pub mod retention;
pub mod runbook;
pub mod site;
pub mod store;
pub mod version;

pub use appliance::{Appliance, ApplianceKind, ClusterRole, FailoverRole};
pub use atlas::{AtlasCheckOptions, AtlasReport, check_atlas_cluster};
pub use audit::{
    AuditInput, AuditOptions, AuditReport, SiteLive, audit, collect_live, health_sweep,
};
pub use backup::{
    BackupName, NsbCoverage, RestoreCheck, RestoreCompatibility, UpgradeEntry, UpgradeTable,
    check_restore, check_restore_onto, nsb_coverage,
};
pub use backup_set::{
    BackupSetOptions, BackupSetReport, JobReport, JobSite, Manifest, VerifyReport, run_backup_job,
    run_backup_set, verify_backup_set,
};
pub use certificate::{
    BundleCheckOptions, BundleReport, CertClass, CertInfo, PairReport, check_certificate_bundle,
    check_certificate_pair,
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
pub use records::{ApplianceRecord, VaultKeyRecord};
pub use retention::{RetentionPlan, RetentionPolicy, plan_retention};
pub use runbook::render_runbook;
pub use secrecy::{ExposeSecret, SecretString};
pub use site::{
    ApiAccess, AtlasCluster, AutoFailover, ColdSpare, FailoverPair, RoutingMethod, Site,
    TrafficNode,
};
pub use store::{BackupStore, SetSummary};
pub use version::{ProductVersion, VersionPattern};

/// The user agent bt-dr sends: `bt-dr/<version>`.
pub const USER_AGENT: &str = concat!("bt-dr/", env!("CARGO_PKG_VERSION"));

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
