//! The model: what a DR plan is about — products, release versions, appliances, sites
//! (failover pairs, Atlas clusters, cold spares) and the inventory with its thresholds.
//!
//! Depends only on [`crate::support`]; every other layer builds on it.

pub mod appliance;
pub mod inventory;
pub mod product;
pub mod site;
pub mod version;
