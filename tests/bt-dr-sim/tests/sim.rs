//! Every integration test of the simulator, linked into one binary (one per file cost CI disk
//! and link time). Run one file's tests with `cargo test -p bt-dr-sim --test sim -- auth::`.

mod common;

mod auth;
mod backup;
mod binary;
mod command;
mod failover;
mod faults;
mod rate_limit;
mod reporting;
