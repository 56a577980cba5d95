//! The one list of bt-dr's public operations. Every binding (Python, Node, C) has a parity
//! test that walks this list and fails when an operation has no counterpart there.
//!
//! Naming: Python uses the name as is, Node in camelCase, C as `bt_dr_<name>`.

use serde::Serialize;

/// One public operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Operation {
    /// snake_case name.
    pub name: &'static str,
    /// Area of the DR domain.
    pub area: &'static str,
    /// What it does.
    pub summary: &'static str,
}

const fn op(name: &'static str, area: &'static str, summary: &'static str) -> Operation {
    Operation {
        name,
        area,
        summary,
    }
}

/// Every public operation, grouped by area.
///
/// ```
/// assert!(bt_dr_core::OPERATIONS.iter().any(|o| o.name == "check_restore"));
/// ```
pub const OPERATIONS: &[Operation] = &[
    // versions and sites
    op(
        "parse_version",
        "versions",
        "Parse `X.Y.Z` or the check_health form with build",
    ),
    op(
        "load_inventory",
        "sites",
        "Load and validate a fleet inventory from TOML, JSON or YAML",
    ),
    // backups
    op(
        "parse_backup_name",
        "backups",
        "Parse a default NSB backup file name",
    ),
    op(
        "format_backup_name",
        "backups",
        "Build a default NSB backup file name",
    ),
    op(
        "check_restore",
        "backups",
        "Decide whether a backup version restores onto a site version",
    ),
    op(
        "check_restore_onto",
        "backups",
        "Check a restore onto an inventory site; for a failover pair, the break/restore/reset-key/re-establish steps",
    ),
    op(
        "load_upgrade_table",
        "backups",
        "Load the supported-upgrade table",
    ),
    op(
        "nsb_coverage",
        "backups",
        "List what an NSB holds and what it leaves out",
    ),
    // certificates
    op(
        "check_certificate_bundle",
        "certificates",
        "Open and check a p12 certificate bundle",
    ),
    op(
        "check_certificate_pair",
        "certificates",
        "Check a failover pair carries the identical certificate",
    ),
    // records
    op(
        "appliance_record",
        "records",
        "Load, validate and save an /appliance settings record",
    ),
    op(
        "vault_key_record",
        "records",
        "Record a downloaded Vault encryption key",
    ),
    // API client
    op(
        "check_health",
        "api",
        "Authenticated check_health of an appliance",
    ),
    op("probe_health", "api", "Unauthenticated /check_health probe"),
    op(
        "get_api_info",
        "api",
        "API version and the account's permissions",
    ),
    op(
        "get_appliances",
        "api",
        "Appliances of the failover pair or Atlas cluster",
    ),
    op(
        "get_connected_clients",
        "api",
        "Clients connected to the appliance",
    ),
    op(
        "set_failover_role",
        "api",
        "Change an appliance's failover role",
    ),
    op(
        "download_backup",
        "api",
        "Stream the NSB backup to disk with SHA-256 and a sidecar",
    ),
    op("list_sessions", "api", "List sessions in a time window"),
    op("get_session", "api", "Session report by lsid"),
    op(
        "download_recording",
        "api",
        "Stream a session recording to disk",
    ),
    op(
        "download_report",
        "api",
        "Save one kind of Reporting API data (a recording of any kind, a session report, exit surveys)",
    ),
    op("list_archives", "api", "ArchiveListing for a day"),
    op(
        "download_archive",
        "api",
        "Stream an Archive (gzip) to disk",
    ),
    // DR operations
    op(
        "run_backup_set",
        "backup_sets",
        "Take a backup set for a site (NSB, recordings, records, manifest)",
    ),
    op(
        "run_backup_job",
        "backup_sets",
        "Take backup sets for many sites concurrently",
    ),
    op(
        "verify_backup_set",
        "backup_sets",
        "Re-hash a backup set against its manifest",
    ),
    op(
        "list_backup_sets",
        "backup_sets",
        "List the backup sets of a site",
    ),
    op(
        "plan_retention",
        "backup_sets",
        "Plan which sets a retention policy keeps and removes",
    ),
    op(
        "apply_retention",
        "backup_sets",
        "Remove the sets a retention plan marks",
    ),
    op("audit", "audit", "Readiness audit of the fleet"),
    op(
        "check_atlas_cluster",
        "audit",
        "Check an Atlas cluster after a change: membership, sync, client trend per node",
    ),
    op(
        "render_runbook",
        "runbooks",
        "Generate a site's recovery runbook",
    ),
    op("plan_failover", "failover", "Plan a failover (dry run)"),
    op(
        "execute_failover",
        "failover",
        "Execute a planned or unplanned failover and return its timeline",
    ),
];

/// Looks an operation up by name.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}
