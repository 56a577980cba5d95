//! The rules: pure decisions over the model, without I/O to an appliance — NSB names and
//! what they hold, restore compatibility, certificate bundles, `/appliance` and Vault key
//! records, and the finding type every check reports.
//!
//! Depends on [`crate::model`] and [`crate::support`] (and names the Reporting kinds of
//! [`crate::api`]); the operations in [`crate::dr`] apply them.

pub mod backup;
pub mod certificate;
pub mod finding;
pub mod records;
