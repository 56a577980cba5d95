//! The DR operations: what an operator runs — backup sets and their manifests, the store,
//! the reporting archive, retention, the readiness audit, the runbook, failover and the
//! Atlas cluster check.
//!
//! Built on [`crate::model`], [`crate::rules`] and the [`crate::api`] client. Inside, the
//! set's shape ([`manifest`]) and its check ([`verify`]) sit below both [`store`] and
//! [`backup_set`], so the store never depends on the code that takes sets.

pub mod atlas;
pub mod audit;
pub mod backup_set;
pub mod backup_source;
pub mod failover;
pub mod manifest;
pub mod reporting_archive;
pub mod retention;
pub mod runbook;
pub mod store;
pub mod verify;
