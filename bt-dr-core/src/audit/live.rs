//! What the appliances say right now, gathered concurrently for the audit and health sweeps.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::api::{ApplianceInfo, Client, Health};

/// One appliance's live state. Errors are kept as data: an unreachable appliance is a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplianceLive {
    /// Appliance hostname (as in the inventory).
    pub hostname: String,
    /// `check_health`, when it answered.
    pub health: Option<Health>,
    /// Error details when it did not.
    pub error: Option<serde_json::Value>,
    /// SHA-256 (lowercase hex) of the DER of the leaf certificate the appliance presented in
    /// the TLS handshake ([`Client::served_leaf_sha256`]); `None` over plain http or when no
    /// handshake happened. Compared across a pair by the `pair_certificates_differ` rule.
    #[serde(default)]
    pub served_cert_sha256: Option<String>,
    /// `get_appliances` as this appliance sees the pair/cluster.
    pub appliances: Option<Vec<ApplianceInfo>>,
}

/// Live state of a site's appliances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteLive {
    /// Site name.
    pub site: String,
    /// Per appliance.
    pub appliances: Vec<ApplianceLive>,
}

impl SiteLive {
    /// The live state of one appliance.
    pub fn appliance(&self, hostname: &str) -> Option<&ApplianceLive> {
        self.appliances
            .iter()
            .find(|a| a.hostname.eq_ignore_ascii_case(hostname))
    }
}

async fn one(hostname: String, client: Client) -> ApplianceLive {
    let mark = client.served_leaf_mark();
    let (health, probe, appliances) = tokio::join!(
        client.check_health(),
        client.probe_health(),
        client.get_appliances()
    );
    let error = health.as_ref().err().map(|e| e.details());
    ApplianceLive {
        hostname,
        health: health.ok(),
        error,
        // The verifier's record covers every trust mode and failed handshakes too; the
        // probe's TLS info is the fallback for a client that never got that far.
        served_cert_sha256: client
            .served_leaf_since(mark)
            .or_else(|| probe.ok().and_then(|p| p.peer_certificate_sha256)),
        appliances: appliances.ok(),
    }
}

/// Asks every appliance of a site, concurrently.
pub async fn collect_live(site: &str, clients: &[(String, Client)]) -> SiteLive {
    let appliances =
        futures_util::future::join_all(clients.iter().map(|(h, c)| one(h.clone(), c.clone())))
            .await;
    SiteLive {
        site: site.to_string(),
        appliances,
    }
}

/// Health of many appliances at once (at most `concurrency` in flight), each client keeping to
/// its account's rate limit. Results come back in input order.
pub async fn health_sweep(clients: &[Client], concurrency: usize) -> Vec<crate::Result<Health>> {
    let mut out: Vec<(usize, crate::Result<Health>)> =
        futures_util::stream::iter(clients.iter().cloned().enumerate())
            .map(|(i, c)| async move { (i, c.check_health().await) })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
