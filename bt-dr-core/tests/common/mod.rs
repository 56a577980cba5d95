//! Shared set-up for tests that talk to the simulator.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use bt_dr_core::api::{Client, ClientBuilder, RetryPolicy};
use bt_dr_sim::{Account, Sim, SimAppliance, SimConfig};

pub const SECRET: &str = "sim-secret-Zq8xW3";

/// A config with an account unique to this test, so the process-wide per-account rate
/// limiter of one test does not slow another.
pub fn config() -> SimConfig {
    static N: AtomicU32 = AtomicU32::new(0);
    let id = format!(
        "test-client-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    SimConfig {
        accounts: vec![Account::full_access(&id, SECRET)],
        ..SimConfig::default()
    }
}

pub fn client_id(sim: &Sim) -> String {
    sim.config().accounts[0].client_id.clone()
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(20),
        max_backoff: std::time::Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

pub fn builder(sim: &Sim, a: &SimAppliance) -> ClientBuilder {
    Client::builder(&a.url())
        .credentials(&client_id(sim), SECRET.into())
        .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
        .only_extra_ca(true)
        .site_name("support")
        .retry_policy(fast_retries())
}

pub fn client(sim: &Sim, a: &SimAppliance) -> Client {
    builder(sim, a).build().unwrap()
}

/// Every entry in `dir` that is not a finished file of the given names.
pub fn stray_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
