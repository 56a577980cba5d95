//! NSB backups: names, what they hold, and where they can be restored.

mod coverage;
mod name;
mod restore;

pub use coverage::{CoverageItem, ExcludedItem, NsbCoverage, nsb_coverage};
pub use name::{BackupName, BackupNameView};
pub(crate) use restore::failover_restore_steps;
pub use restore::{
    RestoreCheck, RestoreCompatibility, UpgradeEntry, UpgradeTable, check_restore,
    check_restore_onto,
};
