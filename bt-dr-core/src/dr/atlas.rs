//! Atlas clusters after a change: what the API can tell of the checks the vendor guide walks
//! through by hand once a traffic node is restored and synced.
//!
//! The guide's test is a person logging in to a representative console in the node's region
//! and watching the node's connected clients go up by one. The API cannot log anybody in, but
//! it can watch: [`check_atlas_cluster`] samples the connected clients of every node twice, an
//! interval apart, and reports the trend per node, together with what `check_health` says of
//! each node (reachable, healthy, version, last sync) and whether the cluster, as its primary
//! lists it with `get_appliances`, holds the traffic nodes the inventory names.
//!
//! Whether traffic nodes report a last sync in `check_health` is not documented; a node that
//! reports none is shown without one and is not a finding.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{ApplianceInfo, Client, ConnectedClient, Health};
use crate::model::appliance::ClusterRole;
use crate::model::site::Site;
use crate::rules::finding::{Finding, Severity};
use crate::support::error::{Error, ErrorKind, ErrorReport, Result};

/// Longest interval [`check_atlas_cluster`] accepts between its two samples: one hour. A check
/// meant to confirm a change is waited on by someone.
pub const MAX_SAMPLE_INTERVAL_MS: u64 = 3_600_000;

fn default_interval_ms() -> u64 {
    30_000
}

/// Options of [`check_atlas_cluster`].
///
/// ```
/// let o: bt_dr_core::atlas::AtlasCheckOptions = serde_json::from_str("{}").unwrap();
/// assert_eq!(o.sample_interval_ms, 30_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AtlasCheckOptions {
    /// Milliseconds between the two samples of connected clients (default 30 000, at most
    /// [`MAX_SAMPLE_INTERVAL_MS`]). Thirty seconds is long enough for a console or Jump Client
    /// that was waiting to reconnect to show up, and short enough to wait for at a console.
    #[serde(default = "default_interval_ms")]
    pub sample_interval_ms: u64,
}

impl Default for AtlasCheckOptions {
    fn default() -> Self {
        Self {
            sample_interval_ms: default_interval_ms(),
        }
    }
}

impl AtlasCheckOptions {
    /// The options from a binding's JSON: `null` is the defaults; an unknown field or a value
    /// of the wrong type is [`Error::InvalidInput`] on `atlas check options`, whose message
    /// never quotes a value.
    ///
    /// ```
    /// use bt_dr_core::AtlasCheckOptions;
    /// let o = AtlasCheckOptions::from_json(serde_json::json!({"sample_interval_ms": 5000}))?;
    /// assert_eq!(o.sample_interval_ms, 5000);
    /// assert_eq!(AtlasCheckOptions::from_json(serde_json::Value::Null)?, AtlasCheckOptions::default());
    /// assert!(AtlasCheckOptions::from_json(serde_json::json!({"interval": 1})).is_err());
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        crate::support::document::options_from_json(value, "atlas check options")
    }
}

/// How a node's connected clients moved between the two samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientTrend {
    /// More clients in the second sample.
    Increasing,
    /// As many in both.
    Steady,
    /// Fewer in the second sample.
    Decreasing,
}

impl ClientTrend {
    fn between(first: u64, second: u64) -> Self {
        match second.cmp(&first) {
            std::cmp::Ordering::Greater => Self::Increasing,
            std::cmp::Ordering::Equal => Self::Steady,
            std::cmp::Ordering::Less => Self::Decreasing,
        }
    }
}

/// One sample of a node's connected clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientSample {
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub at: OffsetDateTime,
    /// Every connected client.
    pub total: u64,
    /// Representative consoles among them (the count the vendor's manual test watches).
    pub representatives: u64,
}

impl ClientSample {
    fn of(clients: &[ConnectedClient]) -> Self {
        Self {
            at: OffsetDateTime::now_utc(),
            total: clients.len() as u64,
            representatives: clients
                .iter()
                .filter(|c| c.client_type == "representative")
                .count() as u64,
        }
    }
}

/// What the check found of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AtlasNode {
    /// Hostname, as in the inventory.
    pub hostname: String,
    /// Role the inventory gives it: `traffic` for the cluster's traffic nodes, `primary` for
    /// the primary nodes (the site's failover pair).
    pub role: ClusterRole,
    /// Listed by the cluster's `get_appliances` (None: no primary node answered it).
    pub listed: Option<bool>,
    /// Role the cluster lists it with.
    pub listed_role: Option<ClusterRole>,
    /// Whether the cluster lists it as accepting new client connections.
    pub accepting_connections: Option<bool>,
    /// It answered at all (a network failure or time-out is unreachable; a TLS, account or
    /// parse failure is an answer whose content is unknown, see `error`).
    pub reachable: bool,
    /// What `check_health` says of itself.
    pub healthy: Option<bool>,
    /// Release it runs (`X.Y.Z`).
    pub version: Option<String>,
    /// Last data sync it reports, if it reports one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub last_sync_time: Option<OffsetDateTime>,
    /// Status of that sync.
    pub last_sync_status: Option<String>,
    /// The connected-client samples that succeeded, oldest first.
    pub samples: Vec<ClientSample>,
    /// How the client count moved (both samples needed).
    pub trend: Option<ClientTrend>,
    /// The first error met asking it.
    pub error: Option<ErrorReport>,
}

/// The result of [`check_atlas_cluster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AtlasReport {
    /// Site name.
    pub site: String,
    /// When the check started.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub checked_at: OffsetDateTime,
    /// Milliseconds between the two samples.
    pub sample_interval_ms: u64,
    /// Primary nodes first, then traffic nodes, in inventory order.
    pub nodes: Vec<AtlasNode>,
    /// Problems found, most severe first.
    pub findings: Vec<Finding>,
}

impl AtlasReport {
    /// The node with this hostname.
    pub fn node(&self, hostname: &str) -> Option<&AtlasNode> {
        self.nodes
            .iter()
            .find(|n| n.hostname.eq_ignore_ascii_case(hostname))
    }
    /// The most severe finding.
    pub fn worst(&self) -> Option<Severity> {
        crate::rules::finding::worst(&self.findings)
    }
}

fn finding(id: &str, sev: Severity, subject: &str, msg: String, fix: &str) -> Finding {
    Finding::new(id, sev, subject, msg).with_remediation(fix)
}

fn names(v: &ApplianceInfo, host: &str) -> bool {
    v.public_hostname.eq_ignore_ascii_case(host) || v.name.eq_ignore_ascii_case(host)
}

/// The site's traffic nodes against the cluster as `get_appliances` lists it: a node the
/// inventory names but the cluster does not list, one listed in another role or refusing new
/// clients, and a traffic node the cluster lists but the inventory does not know (its runbook
/// and checks would miss it). The audit applies the same rule to its live view.
pub(crate) fn membership_findings(site: &Site, listed: &[ApplianceInfo]) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(atlas) = &site.atlas else {
        return out;
    };
    for node in &atlas.traffic_nodes {
        let h = node.hostname.as_str();
        match listed.iter().find(|v| names(v, h)) {
            None => out.push(finding(
                "traffic_node_not_in_cluster",
                Severity::Error,
                h,
                "the inventory names this traffic node, but the cluster does not list it".into(),
                "Add the node back into the Atlas cluster from the primary's /login > Management > Cluster and press Sync Now; if it was retired, remove it from the inventory.",
            )),
            Some(v) => {
                if v.cluster_role != ClusterRole::Traffic {
                    out.push(finding(
                        "traffic_node_wrong_role",
                        Severity::Warning,
                        h,
                        format!(
                            "the cluster lists this traffic node with cluster role `{}`",
                            role_str(v.cluster_role)
                        ),
                        "Check the node's role in /login > Management > Cluster, or correct the inventory.",
                    ));
                }
                if !v.accepting_connections {
                    out.push(finding(
                        "traffic_node_not_accepting",
                        Severity::Warning,
                        h,
                        "the traffic node does not accept new client connections".into(),
                        "Check the node in /login > Management > Cluster; sync it from the primary.",
                    ));
                }
            }
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for v in listed
        .iter()
        .filter(|v| v.cluster_role == ClusterRole::Traffic)
    {
        let known = atlas.traffic_nodes.iter().any(|n| names(v, &n.hostname));
        let subject = if v.public_hostname.is_empty() {
            v.name.clone()
        } else {
            v.public_hostname.clone()
        };
        if known || seen.contains(&subject.to_ascii_lowercase()) {
            continue;
        }
        seen.push(subject.to_ascii_lowercase());
        out.push(finding(
            "cluster_node_not_in_inventory",
            Severity::Warning,
            &subject,
            "the cluster lists this traffic node, but the inventory does not name it: the runbook and the checks leave it out".into(),
            "Add the node to the site's appliances and to [sites.atlas] traffic_nodes.",
        ));
    }
    out
}

fn role_str(r: ClusterRole) -> &'static str {
    match r {
        ClusterRole::Single => "single",
        ClusterRole::Primary => "primary",
        ClusterRole::Traffic => "traffic",
    }
}

fn unreachable(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout)
}

/// One node's answers to the first round of questions.
struct FirstLook {
    health: Result<Health>,
    clients: Result<Vec<ConnectedClient>>,
    appliances: Option<Result<Vec<ApplianceInfo>>>,
}

async fn first_look(client: &Client, ask_cluster: bool) -> FirstLook {
    let cluster = async {
        if ask_cluster {
            Some(client.get_appliances().await)
        } else {
            None
        }
    };
    let (health, clients, appliances) = tokio::join!(
        client.check_health(),
        client.get_connected_clients(),
        cluster
    );
    FirstLook {
        health,
        clients,
        appliances,
    }
}

/// Checks an Atlas cluster after a change: samples every node's connected clients twice,
/// `opts.sample_interval_ms` apart, and reports per node whether it answered, its health,
/// release and last sync, the client counts and their trend, and how the cluster's own list
/// (`get_appliances` of a primary node) compares with the inventory.
///
/// `clients` holds a client per node, by inventory hostname: every traffic node of
/// `site.atlas` and at least one primary node (the other appliances of the site). Findings:
///
/// | id | severity | when |
/// |---|---|---|
/// | `traffic_node_not_in_cluster` | error | the inventory names a traffic node the cluster does not list |
/// | `traffic_node_wrong_role` / `traffic_node_not_accepting` | warning | the cluster lists it in another role / refusing new clients |
/// | `cluster_node_not_in_inventory` | warning | the cluster lists a traffic node the inventory does not name |
/// | `cluster_membership_unknown` | error | no primary node answered `get_appliances` |
/// | `cluster_node_unreachable` / `cluster_node_unhealthy` | error | a node does not answer / reports a problem |
/// | `traffic_node_version_differs` | error | a traffic node runs another release than the primary |
/// | `traffic_node_sync_failed` | error | a traffic node reports its last sync failed |
/// | `traffic_node_clients_unknown` | warning | a traffic node answers but its clients cannot be listed |
/// | `traffic_node_clients_decreasing` | warning | fewer clients in the second sample |
/// | `traffic_node_no_clients` | warning | no client on the node in either sample |
///
/// Refused (`InvalidInput`) when the site has no Atlas cluster, a traffic node has no client,
/// no primary node has one, a client names an appliance the site does not have, or the
/// interval is above [`MAX_SAMPLE_INTERVAL_MS`].
pub async fn check_atlas_cluster(
    site: &Site,
    clients: &[(String, Client)],
    opts: &AtlasCheckOptions,
) -> Result<AtlasReport> {
    let Some(atlas) = &site.atlas else {
        return Err(Error::invalid_input(
            "site.atlas",
            format!("site `{}` has no Atlas cluster", site.name),
        ));
    };
    if opts.sample_interval_ms > MAX_SAMPLE_INTERVAL_MS {
        return Err(Error::invalid_input(
            "sample_interval_ms",
            format!("must be at most {MAX_SAMPLE_INTERVAL_MS} (one hour)"),
        ));
    }
    for (h, _) in clients {
        if site.appliance(h).is_none() {
            return Err(Error::invalid_input(
                "clients",
                format!("`{h}` is not among the appliances of site `{}`", site.name),
            ));
        }
    }
    let client_of = |h: &str| {
        clients
            .iter()
            .find(|(x, _)| x.eq_ignore_ascii_case(h))
            .map(|(_, c)| c)
    };
    let is_traffic = |h: &str| {
        atlas
            .traffic_nodes
            .iter()
            .any(|n| n.hostname.eq_ignore_ascii_case(h))
    };
    // Primary nodes: the intended primary first (its view of the cluster is asked first), then
    // every other appliance that is not a traffic node.
    let mut primaries: Vec<&str> = Vec::new();
    if let Some(p) = site.intended_primary().filter(|a| !is_traffic(&a.hostname)) {
        primaries.push(&p.hostname);
    }
    for a in &site.appliances {
        if !is_traffic(&a.hostname)
            && !primaries
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&a.hostname))
        {
            primaries.push(&a.hostname);
        }
    }
    let mut nodes: Vec<(&str, ClusterRole, &Client)> = Vec::new();
    for h in &primaries {
        if let Some(c) = client_of(h) {
            nodes.push((h, ClusterRole::Primary, c));
        }
    }
    if nodes.is_empty() {
        return Err(Error::invalid_input(
            "clients",
            "no client for a primary node: the cluster's list of appliances comes from one",
        ));
    }
    for n in &atlas.traffic_nodes {
        let c = client_of(&n.hostname).ok_or_else(|| {
            Error::invalid_input(
                "clients",
                format!("no client for traffic node `{}`", n.hostname),
            )
        })?;
        nodes.push((&n.hostname, ClusterRole::Traffic, c));
    }

    let checked_at = OffsetDateTime::now_utc();
    let first: Vec<FirstLook> = futures_util::future::join_all(
        nodes
            .iter()
            .map(|(_, role, c)| first_look(c, *role == ClusterRole::Primary)),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(opts.sample_interval_ms)).await;
    let second: Vec<Option<Result<Vec<ConnectedClient>>>> =
        futures_util::future::join_all(nodes.iter().zip(&first).map(|((_, _, c), look)| async {
            // A node that could not list its clients the first time has no trend to finish.
            if look.clients.is_ok() {
                Some(c.get_connected_clients().await)
            } else {
                None
            }
        }))
        .await;

    let mut findings = Vec::new();
    // The cluster as the first primary node that answers lists it.
    let listed: Option<Vec<ApplianceInfo>> = first
        .iter()
        .find_map(|l| l.appliances.as_ref().and_then(|r| r.as_ref().ok()))
        .cloned();
    match &listed {
        Some(l) => findings.extend(membership_findings(site, l)),
        None => findings.push(finding(
            "cluster_membership_unknown",
            Severity::Error,
            &site.name,
            "no primary node answered get_appliances: the cluster's members are unknown".into(),
            "Check the primary nodes and the API account (perm_command read_only or better).",
        )),
    }
    let primary_release = nodes
        .iter()
        .zip(&first)
        .filter(|((_, role, _), _)| *role == ClusterRole::Primary)
        .find_map(|(_, l)| l.health.as_ref().ok().map(|h| h.version.without_build()));

    let mut report_nodes = Vec::with_capacity(nodes.len());
    for (((host, role, _), look), again) in nodes.iter().zip(first).zip(second) {
        let view = listed
            .as_ref()
            .and_then(|l| l.iter().find(|v| names(v, host)));
        let mut node = AtlasNode {
            hostname: host.to_string(),
            role: *role,
            listed: listed.as_ref().map(|_| view.is_some()),
            listed_role: view.map(|v| v.cluster_role),
            accepting_connections: view.map(|v| v.accepting_connections),
            reachable: true,
            healthy: None,
            version: None,
            last_sync_time: None,
            last_sync_status: None,
            samples: Vec::new(),
            trend: None,
            error: None,
        };
        match &look.health {
            Ok(h) => {
                node.healthy = Some(h.success);
                node.version = Some(h.version.release());
                node.last_sync_time = h.last_data_sync_time;
                node.last_sync_status = h.last_data_sync_status.clone();
            }
            Err(e) => {
                node.reachable = !unreachable(e);
                node.error = Some(e.report());
            }
        }
        let mut clients_error = None;
        match (&look.clients, &again) {
            (Ok(a), Some(Ok(b))) => {
                node.samples = vec![ClientSample::of(a), ClientSample::of(b)];
                node.trend = Some(ClientTrend::between(
                    node.samples[0].total,
                    node.samples[1].total,
                ));
            }
            (Ok(a), Some(Err(e))) => {
                node.samples = vec![ClientSample::of(a)];
                clients_error = Some(e);
            }
            (Ok(a), None) => node.samples = vec![ClientSample::of(a)],
            (Err(e), _) => clients_error = Some(e),
        }
        if let Some(e) = clients_error {
            node.error.get_or_insert_with(|| e.report());
        }
        node_findings(
            &node,
            primary_release.as_ref(),
            clients_error,
            &mut findings,
        );
        report_nodes.push(node);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(AtlasReport {
        site: site.name.clone(),
        checked_at,
        sample_interval_ms: opts.sample_interval_ms,
        nodes: report_nodes,
        findings,
    })
}

/// What one node's answers say is wrong.
fn node_findings(
    node: &AtlasNode,
    primary_release: Option<&crate::model::version::ProductVersion>,
    clients_error: Option<&Error>,
    out: &mut Vec<Finding>,
) {
    let h = node.hostname.as_str();
    if !node.reachable {
        let why = node
            .error
            .as_ref()
            .map_or("no answer", |e| e.message.as_str());
        out.push(finding(
            "cluster_node_unreachable",
            Severity::Error,
            h,
            format!("the node does not answer: {why}"),
            "Check the node and its network path; a traffic node that is down sends its clients to the others only if node selection allows it.",
        ));
        return;
    }
    if node.healthy == Some(false) {
        out.push(finding(
            "cluster_node_unhealthy",
            Severity::Error,
            h,
            "the node reports a problem in check_health".into(),
            "Look at the node's /appliance Status page.",
        ));
    }
    if node.role != ClusterRole::Traffic {
        return;
    }
    if let (Some(v), Some(p)) = (&node.version, primary_release)
        && v.parse::<crate::model::version::ProductVersion>()
            .ok()
            .as_ref()
            != Some(p)
    {
        out.push(finding(
            "traffic_node_version_differs",
            Severity::Error,
            h,
            format!(
                "the traffic node runs {v}, the primary {}: it has not synced the site's software",
                p.release()
            ),
            "Press Sync Now in the primary's /login > Management > Cluster and check the node again.",
        ));
    }
    if let Some(s) = node
        .last_sync_status
        .as_deref()
        .filter(|s| !s.eq_ignore_ascii_case("success"))
    {
        out.push(finding(
            "traffic_node_sync_failed",
            Severity::Error,
            h,
            format!("the node's last sync ended with `{s}`"),
            "Press Sync Now in the primary's /login > Management > Cluster and read the cluster's status history.",
        ));
    }
    if let Some(e) = clients_error {
        out.push(finding(
            "traffic_node_clients_unknown",
            Severity::Warning,
            h,
            format!("the node's connected clients cannot be listed: {e}"),
            "Give the API account read access to the command API on every node, then check again.",
        ));
        return;
    }
    match (node.trend, node.samples.first(), node.samples.last()) {
        (Some(ClientTrend::Decreasing), Some(a), Some(b)) => out.push(finding(
            "traffic_node_clients_decreasing",
            Severity::Warning,
            h,
            format!(
                "connected clients fell from {} to {} between the samples",
                a.total, b.total
            ),
            "Watch the node: clients leaving it right after a change point at routing or certificates; compare with the other nodes.",
        )),
        (Some(ClientTrend::Steady), Some(a), _) if a.total == 0 => out.push(finding(
            "traffic_node_no_clients",
            Severity::Warning,
            h,
            "no client was connected to the node in either sample".into(),
            "Log in to a representative console from a region routed through this node: the node's connected representatives should go up by one.",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_json_are_strict_and_quote_no_value() {
        let e = AtlasCheckOptions::from_json(serde_json::json!({"sample_interval_ms": "s3cr3t"}))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = AtlasCheckOptions::from_json(serde_json::json!({"other": 1})).unwrap_err();
        assert!(e.to_string().contains("unknown field `other`"), "{e}");
    }

    fn view(host: &str, role: ClusterRole, accepting: bool) -> ApplianceInfo {
        ApplianceInfo {
            id: "0".repeat(32),
            name: host.split('.').next().unwrap_or(host).into(),
            public_hostname: host.into(),
            cluster_role: role,
            failover_role: crate::model::appliance::FailoverRole::None,
            accepting_connections: accepting,
            timezone_offset: Some(0),
        }
    }

    fn site() -> Site {
        toml::from_str(
            r#"
            name = "support"
            fqdn = "support.example.com"
            product = "rs"
            version = "24.1.2"
            [[appliances]]
            hostname = "bt-a.example.com"
            kind = "b300"
            [[appliances]]
            hostname = "tn-eu.example.com"
            kind = "vmware"
            cluster_role = "traffic"
            [[appliances]]
            hostname = "tn-us.example.com"
            kind = "vmware"
            cluster_role = "traffic"
            [atlas]
            traffic_nodes = [{ hostname = "tn-eu.example.com" }, { hostname = "tn-us.example.com" }]
            "#,
        )
        .unwrap()
    }

    fn ids(f: &[Finding]) -> Vec<(&str, &str)> {
        f.iter()
            .map(|f| (f.id.as_str(), f.subject.as_str()))
            .collect()
    }

    #[test]
    fn membership_compares_the_cluster_list_with_the_inventory() {
        let listed = vec![
            view("bt-a.example.com", ClusterRole::Primary, true),
            view("TN-EU.example.com", ClusterRole::Traffic, false),
            view("tn-ap.example.com", ClusterRole::Traffic, true),
            view("tn-ap.example.com", ClusterRole::Traffic, true),
        ];
        let f = membership_findings(&site(), &listed);
        assert_eq!(
            ids(&f),
            [
                ("traffic_node_not_accepting", "tn-eu.example.com"),
                ("traffic_node_not_in_cluster", "tn-us.example.com"),
                ("cluster_node_not_in_inventory", "tn-ap.example.com"),
            ]
        );
        let all_good = vec![
            view("tn-eu.example.com", ClusterRole::Traffic, true),
            view("tn-us.example.com", ClusterRole::Single, true),
        ];
        assert_eq!(
            ids(&membership_findings(&site(), &all_good)),
            [("traffic_node_wrong_role", "tn-us.example.com")]
        );
    }

    #[test]
    fn trend_and_options() {
        assert_eq!(ClientTrend::between(1, 2), ClientTrend::Increasing);
        assert_eq!(ClientTrend::between(2, 2), ClientTrend::Steady);
        assert_eq!(ClientTrend::between(3, 2), ClientTrend::Decreasing);
        assert_eq!(
            serde_json::to_string(&ClientTrend::Increasing).unwrap(),
            "\"increasing\""
        );
        assert!(serde_json::from_str::<AtlasCheckOptions>(r#"{"interval": 1}"#).is_err());
    }
}
