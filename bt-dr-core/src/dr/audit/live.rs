//! What the appliances say right now, gathered concurrently for the audit and health sweeps.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::api::{ApplianceInfo, Client, Health};
use crate::support::error::ErrorReport;

/// One appliance's live state. Errors are kept as data: an unreachable appliance is a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApplianceLive {
    /// Appliance hostname (as in the inventory).
    pub hostname: String,
    /// `check_health`, when it answered.
    pub health: Option<Health>,
    /// Why `check_health` failed, when it did: kind, stable code, message and details.
    /// Older results kept only the details object; they still load.
    #[serde(default, deserialize_with = "ErrorReport::deserialize_lenient")]
    pub error: Option<ErrorReport>,
    /// SHA-256 (lowercase hex) of the DER of the leaf certificate the appliance presented in
    /// the TLS handshake ([`Client::served_leaf_sha256`]); `None` over plain http or when no
    /// handshake happened. Compared across a pair by the `pair_certificates_differ` rule.
    #[serde(default)]
    pub served_cert_sha256: Option<String>,
    /// `notAfter` of that leaf certificate (RFC 3339), when it parsed as X.509: the expiry
    /// every client of this appliance sees, whatever the backup sets hold.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub served_cert_not_after: Option<time::OffsetDateTime>,
    /// `get_appliances` as this appliance sees the pair/cluster.
    pub appliances: Option<Vec<ApplianceInfo>>,
}

/// Live state of a site's appliances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    let error = health.as_ref().err().map(|e| e.report());
    let served = client.served_cert_since(mark);
    let served_cert_not_after = served.as_ref().and_then(|c| c.not_after);
    ApplianceLive {
        hostname,
        health: health.ok(),
        error,
        // The verifier's record covers every trust mode and failed handshakes too; the
        // probe's TLS info is the fallback for a client that never got that far.
        served_cert_sha256: served
            .map(|c| c.sha256)
            .or_else(|| probe.ok().and_then(|p| p.peer_certificate_sha256)),
        served_cert_not_after,
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

/// How many appliances a health sweep asks at once when the caller does not say: a sweep is
/// round trips, not bandwidth, so more overlap than a backup job; each client still keeps to
/// its account's rate limit.
pub const DEFAULT_SWEEP_CONCURRENCY: usize = 8;

/// Health of many appliances at once (at most `concurrency` in flight, see
/// [`DEFAULT_SWEEP_CONCURRENCY`]), each client keeping to its account's rate limit. Results come
/// back in input order.
pub async fn health_sweep(
    clients: &[Client],
    concurrency: usize,
) -> Vec<crate::support::error::Result<Health>> {
    let mut out: Vec<(usize, crate::support::error::Result<Health>)> =
        futures_util::stream::iter(clients.iter().cloned().enumerate())
            .map(|(i, c)| async move { (i, c.check_health().await) })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::error::{Error, ErrorKind};

    #[test]
    fn the_error_is_typed_and_older_results_still_load() {
        let e = Error::Timeout {
            operation: "check_health".into(),
        };
        let live = ApplianceLive {
            hostname: "a.example.com".into(),
            health: None,
            error: Some(e.report()),
            served_cert_sha256: None,
            served_cert_not_after: None,
            appliances: None,
        };
        let v = serde_json::to_value(&live).unwrap();
        assert_eq!(v["error"]["code"], ErrorKind::Timeout.code());
        assert_eq!(v["error"]["kind"], "timeout");
        let back: ApplianceLive = serde_json::from_value(v).unwrap();
        assert_eq!(back, live);

        // The shape results had before: the details object only.
        let old: ApplianceLive = serde_json::from_value(serde_json::json!({
            "hostname": "a.example.com", "health": null, "appliances": null,
            "error": e.details(),
        }))
        .unwrap();
        let r = old.error.unwrap();
        assert_eq!(r.kind, ErrorKind::Timeout);
        assert_eq!(r.code, ErrorKind::Timeout.code());
        assert_eq!(r.message, e.to_string());

        // A kind this version does not know reads as an API error rather than failing.
        let odd: ApplianceLive = serde_json::from_value(serde_json::json!({
            "hostname": "a", "health": null, "appliances": null,
            "error": {"kind": "martian", "message": "?"},
        }))
        .unwrap();
        assert_eq!(odd.error.unwrap().kind, ErrorKind::Api);
    }
}
