//! B Series Appliances: what kind of machine each is and what role it plays.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The kind of B Series Appliance. Recovery steps differ by kind (spare/RMA for hardware,
/// snapshot or redeploy for virtual, certificates only for cloud).
///
/// ```
/// use bt_dr_core::ApplianceKind;
/// let k: ApplianceKind = serde_json::from_str("\"hyper-v\"").unwrap();
/// assert!(k.is_virtual());
/// assert_eq!(k.redeploy_image(), Some("EXE"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ApplianceKind {
    /// Physical B200.
    B200,
    /// Physical B300.
    B300,
    /// Physical B400.
    B400,
    /// Virtual appliance on VMware.
    Vmware,
    /// Virtual appliance on Hyper-V.
    HyperV,
    /// Virtual appliance on Azure.
    Azure,
    /// Virtual appliance on AWS (deployed from a shared AMI).
    Aws,
    /// Virtual appliance on Nutanix.
    Nutanix,
    /// Cloud appliance (customer-administered, BeyondTrust-run infrastructure).
    Cloud,
    /// Site hosted and managed entirely by BeyondTrust.
    Hosted,
}

impl ApplianceKind {
    /// Physical hardware (B200/B300/B400).
    pub fn is_physical(self) -> bool {
        matches!(self, Self::B200 | Self::B300 | Self::B400)
    }
    /// A virtual appliance the customer runs.
    pub fn is_virtual(self) -> bool {
        matches!(
            self,
            Self::Vmware | Self::HyperV | Self::Azure | Self::Aws | Self::Nutanix
        )
    }
    /// Cloud or BeyondTrust-hosted: the vendor manages network and default certificate.
    pub fn is_managed(self) -> bool {
        matches!(self, Self::Cloud | Self::Hosted)
    }
    /// Whether `/appliance` network settings exist for the customer to record.
    pub fn has_network_settings(self) -> bool {
        !self.is_managed()
    }
    /// Whether the platform can take a powered-down snapshot/checkpoint to restore first.
    pub fn supports_snapshots(self) -> bool {
        matches!(self, Self::Vmware | Self::HyperV | Self::Nutanix)
    }
    /// The deployment file used to redeploy a virtual appliance; AWS uses a shared AMI instead.
    pub fn redeploy_image(self) -> Option<&'static str> {
        match self {
            Self::Vmware => Some("OVA"),
            Self::HyperV | Self::Azure => Some("EXE"),
            Self::Nutanix => Some("QCOW2"),
            _ => None,
        }
    }
    /// Shared-IP failover works on this platform (it does not on AWS).
    pub fn supports_shared_ip(self) -> bool {
        !matches!(self, Self::Aws | Self::Cloud | Self::Hosted)
    }
    /// Short label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::B200 => "b200",
            Self::B300 => "b300",
            Self::B400 => "b400",
            Self::Vmware => "vmware",
            Self::HyperV => "hyper-v",
            Self::Azure => "azure",
            Self::Aws => "aws",
            Self::Nutanix => "nutanix",
            Self::Cloud => "cloud",
            Self::Hosted => "hosted",
        }
    }
}

impl std::fmt::Display for ApplianceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Failover role as `check_health` and `get_appliances` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FailoverRole {
    /// Not in a failover relationship.
    #[default]
    None,
    /// Serves the site.
    Primary,
    /// Syncs from the primary and takes over when promoted.
    Backup,
}

impl FailoverRole {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Primary => "primary",
            Self::Backup => "backup",
        }
    }
}

impl std::str::FromStr for FailoverRole {
    type Err = crate::support::error::Error;
    fn from_str(s: &str) -> crate::support::error::Result<Self> {
        match s.trim() {
            "none" => Ok(Self::None),
            "primary" => Ok(Self::Primary),
            "backup" => Ok(Self::Backup),
            o => Err(crate::support::error::Error::invalid_input(
                "failover_role",
                format!("`{o}` is not none, primary or backup"),
            )),
        }
    }
}

impl std::fmt::Display for FailoverRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Atlas cluster role as `get_appliances` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClusterRole {
    /// Not clustered.
    #[default]
    Single,
    /// Atlas primary node.
    Primary,
    /// Atlas traffic node.
    Traffic,
}

impl std::str::FromStr for ClusterRole {
    type Err = crate::support::error::Error;
    fn from_str(s: &str) -> crate::support::error::Result<Self> {
        match s.trim() {
            "single" => Ok(Self::Single),
            "primary" => Ok(Self::Primary),
            "traffic" => Ok(Self::Traffic),
            o => Err(crate::support::error::Error::invalid_input(
                "cluster_role",
                format!("`{o}` is not single, primary or traffic"),
            )),
        }
    }
}

/// One B Series Appliance of a site.
///
/// ```
/// use bt_dr_core::{Appliance, ApplianceKind};
/// let a: Appliance = toml::from_str(r#"
///     hostname = "bt-a.example.com"
///     kind = "b300"
///     serial = "B300-1234"
///     failover_role = "primary"
/// "#).unwrap();
/// assert_eq!(a.kind, ApplianceKind::B300);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Appliance {
    /// The appliance's own hostname (not the site name).
    pub hostname: String,
    /// Hardware or virtual platform.
    pub kind: ApplianceKind,
    /// Serial number from the `/appliance` Status page.
    #[serde(default)]
    pub serial: Option<String>,
    /// Base software version from the `/appliance` Status page.
    #[serde(default)]
    pub base_version: Option<String>,
    /// Failover role this appliance is meant to have.
    #[serde(default)]
    pub failover_role: FailoverRole,
    /// Atlas role.
    #[serde(default)]
    pub cluster_role: ClusterRole,
    /// Primary IP address (for runbooks).
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// API base URL when it differs from `https://<hostname>` (e.g. a port or a private name).
    #[serde(default)]
    pub api_url: Option<String>,
}

impl Appliance {
    /// The base URL the API client talks to for this appliance.
    pub fn base_url(&self) -> String {
        self.api_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", self.hostname))
    }
}
