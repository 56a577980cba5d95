//! NSB backups: names, what they hold, and where they can be restored.

mod coverage;
mod file_names;
mod name;
mod restore;

pub use coverage::{CoverageItem, ExcludedItem, NsbCoverage, nsb_coverage};
pub(crate) use file_names::is_windows_device;
pub use file_names::{
    SIDECAR_SUFFIX, backup_file_name, fallback_backup_name, recording_file_name, sanitize_file_name,
};
pub use name::{BackupName, BackupNameView};
pub(crate) use restore::failover_restore_steps;
pub use restore::{
    RestoreCheck, RestoreCompatibility, UpgradeEntry, UpgradeTable, check_restore,
    check_restore_onto,
};
