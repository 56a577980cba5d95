//! Sites and how their appliances are arranged: failover pairs, Atlas clusters, cold spares.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::appliance::{Appliance, FailoverRole};
use crate::model::product::Product;
use crate::model::version::ProductVersion;
use crate::support::error::{Error, Result};

/// How client traffic is moved from a failed primary to the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RoutingMethod {
    /// The backup takes over a shared IP by itself (same subnet; not on AWS).
    SharedIp,
    /// The site's DNS A record is pointed at the backup.
    DnsSwing,
    /// The firewall NAT rule for the public IP is pointed at the backup's private IP.
    NatSwing,
}

impl RoutingMethod {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::SharedIp => "shared IP",
            Self::DnsSwing => "DNS swing",
            Self::NatSwing => "NAT swing",
        }
    }
}

/// Automatic failover and data-sync settings of the backup appliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoFailover {
    /// Whether the backup promotes itself when the primary is unreachable.
    #[serde(default)]
    pub enabled: bool,
    /// Addresses the backup must reach before promoting itself (guards against isolating itself).
    #[serde(default)]
    pub connectivity_test_ips: Vec<IpAddr>,
    /// How long the primary must be unreachable before automatic promotion.
    #[serde(default = "default_primary_timeout")]
    pub primary_timeout_secs: u64,
    /// Interval of automatic data sync.
    #[serde(default = "default_sync_interval")]
    pub data_sync_interval_secs: u64,
    /// Optional bandwidth cap for data sync, in kilobits per second.
    #[serde(default)]
    pub bandwidth_limit_kbps: Option<u64>,
}

fn default_primary_timeout() -> u64 {
    300
}
fn default_sync_interval() -> u64 {
    3600
}

impl Default for AutoFailover {
    fn default() -> Self {
        Self {
            enabled: false,
            connectivity_test_ips: Vec::new(),
            primary_timeout_secs: default_primary_timeout(),
            data_sync_interval_secs: default_sync_interval(),
            bandwidth_limit_kbps: None,
        }
    }
}

/// A primary/backup failover pair, by appliance hostname.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FailoverPair {
    /// Hostname of the appliance meant to be primary.
    pub primary: String,
    /// Hostname of the appliance meant to be backup.
    pub backup: String,
    /// How traffic is swung.
    pub routing: RoutingMethod,
    /// Shared IP addresses, when routing is shared IP.
    #[serde(default)]
    pub shared_ips: Vec<IpAddr>,
    /// Automatic failover/data-sync settings.
    #[serde(default)]
    pub auto_failover: AutoFailover,
}

/// An Atlas traffic node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TrafficNode {
    /// Hostname of the node (also listed among the site's appliances).
    pub hostname: String,
    /// Region the node serves.
    #[serde(default)]
    pub region: Option<String>,
}

/// An Atlas cluster: the site's failover pair acts as primary nodes, plus traffic nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AtlasCluster {
    /// Traffic nodes.
    pub traffic_nodes: Vec<TrafficNode>,
}

/// A powered-off spare kept in place of a failover partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ColdSpare {
    /// Spare hostname.
    pub hostname: String,
    /// Spare kind.
    pub kind: crate::model::appliance::ApplianceKind,
    /// On the same switch as the appliance it replaces (the switch then needs a reboot after an IP takeover).
    #[serde(default)]
    pub same_switch: bool,
    /// On the same local network (so it can take over the failed appliance's IP).
    #[serde(default)]
    pub same_network: bool,
}

/// API access for a site. The secret itself is never stored in an inventory: it is read
/// from the named environment variable at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiAccess {
    /// OAuth client id.
    pub client_id: String,
    /// Environment variable holding the OAuth client secret.
    pub client_secret_env: String,
    /// Optional extra CA (PEM file) for a private PKI.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Optional SHA-256 pin of the server certificate (hex).
    #[serde(default)]
    pub pin_sha256: Option<String>,
}

/// One RS or PRA site: its public name, product, version and appliances.
///
/// ```
/// use bt_dr_core::Site;
/// let s: Site = toml::from_str(r#"
///     name = "support"
///     fqdn = "support.example.com"
///     product = "rs"
///     version = "24.1.2"
///     [[appliances]]
///     hostname = "bt-a.example.com"
///     kind = "vmware"
/// "#).unwrap();
/// s.validate().unwrap();
/// assert_eq!(s.version.release(), "24.1.2");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Short site name as it appears in backup file names; folder name in the backup store.
    pub name: String,
    /// Public FQDN clients connect to.
    pub fqdn: String,
    /// RS or PRA.
    pub product: Product,
    /// Product version installed (`/login > Status > Information`).
    pub version: ProductVersion,
    /// Appliances serving the site.
    #[serde(default)]
    pub appliances: Vec<Appliance>,
    /// Failover pair, if any.
    #[serde(default)]
    pub failover: Option<FailoverPair>,
    /// Atlas cluster, if any.
    #[serde(default)]
    pub atlas: Option<AtlasCluster>,
    /// Cold spare, if any.
    #[serde(default)]
    pub cold_spare: Option<ColdSpare>,
    /// API credentials reference.
    #[serde(default)]
    pub api: Option<ApiAccess>,
    /// A certificate of the site's own replaced the vendor's default one. Only meaningful for
    /// a Cloud site: BeyondTrust provides a working default certificate there, so its bundle
    /// is backed up only when this is set. Every other site (except a BeyondTrust-hosted one)
    /// has a certificate of its own and always needs its bundle backed up.
    #[serde(default)]
    pub custom_certificate: bool,
    /// The SSL/TLS configuration (`/appliance` Security > SSL/TLS Configuration) was changed
    /// from the default; the backup then records it, on a Cloud site too.
    #[serde(default)]
    pub custom_tls: bool,
}

fn is_valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Site names go into file names and backup file names: letters, digits, `-`, `.`, `_`.
pub(crate) fn validate_site_name(name: &str, field: &str) -> Result<()> {
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid_input(field, "must be 1 to 100 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        || name.starts_with('.')
        || name.starts_with('-')
        || name.contains("..")
    {
        return Err(Error::invalid_input(
            field,
            format!(
                "`{name}` may hold only letters, digits, `-`, `_` and `.`, and must not start with `.` or `-`"
            ),
        ));
    }
    Ok(())
}

impl Site {
    /// Checks the relations a parser cannot: unique appliances, pair members present, etc.
    pub fn validate(&self) -> Result<()> {
        let p = |f: &str| format!("sites[{}].{f}", self.name);
        validate_site_name(&self.name, "site.name")?;
        if !is_valid_hostname(&self.fqdn) {
            return Err(Error::invalid_input(
                p("fqdn"),
                format!("`{}` is not a hostname", self.fqdn),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.appliances {
            if !is_valid_hostname(&a.hostname) {
                return Err(Error::invalid_input(
                    p("appliances.hostname"),
                    format!("`{}` is not a hostname", a.hostname),
                ));
            }
            if !seen.insert(a.hostname.as_str()) {
                return Err(Error::invalid_input(
                    p("appliances"),
                    format!("appliance `{}` is listed twice", a.hostname),
                ));
            }
        }
        if let Some(pair) = &self.failover {
            if pair.primary == pair.backup {
                return Err(Error::invalid_input(
                    p("failover"),
                    "primary and backup are the same appliance",
                ));
            }
            for (role, h) in [("primary", &pair.primary), ("backup", &pair.backup)] {
                if self.appliance(h).is_none() {
                    return Err(Error::invalid_input(
                        p(&format!("failover.{role}")),
                        format!("`{h}` is not among the site's appliances"),
                    ));
                }
            }
            if pair.routing == RoutingMethod::SharedIp && pair.shared_ips.is_empty() {
                return Err(Error::invalid_input(
                    p("failover.shared_ips"),
                    "shared-IP routing needs at least one shared IP",
                ));
            }
        }
        if let Some(atlas) = &self.atlas {
            for n in &atlas.traffic_nodes {
                if self.appliance(&n.hostname).is_none() {
                    return Err(Error::invalid_input(
                        p("atlas.traffic_nodes"),
                        format!("`{}` is not among the site's appliances", n.hostname),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the site's certificate bundle must be in its backups: never for a site hosted by
    /// BeyondTrust, only with [`Site::custom_certificate`] for a Cloud site (the vendor's
    /// default certificate needs no backup), always otherwise.
    pub fn certificate_backup_needed(&self) -> bool {
        let kinds = || self.appliances.iter().map(|a| a.kind);
        if kinds().all(|k| k == crate::model::appliance::ApplianceKind::Hosted) {
            return false;
        }
        if kinds().all(crate::model::appliance::ApplianceKind::is_managed) {
            return self.custom_certificate;
        }
        true
    }

    /// The appliance with this hostname.
    pub fn appliance(&self, hostname: &str) -> Option<&Appliance> {
        self.appliances
            .iter()
            .find(|a| a.hostname.eq_ignore_ascii_case(hostname))
    }

    /// The appliance meant to be primary: the pair's primary, else the first not marked backup.
    pub fn intended_primary(&self) -> Option<&Appliance> {
        match &self.failover {
            Some(p) => self.appliance(&p.primary),
            None => self.appliances.iter().find(|a| {
                a.failover_role != FailoverRole::Backup
                    && a.cluster_role != crate::model::appliance::ClusterRole::Traffic
            }),
        }
    }

    /// The pair's backup appliance, if the site has a pair.
    pub fn intended_backup(&self) -> Option<&Appliance> {
        self.failover
            .as_ref()
            .and_then(|p| self.appliance(&p.backup))
    }
}
