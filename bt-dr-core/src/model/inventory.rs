//! The fleet: every site an operator or MSP looks after, loaded from TOML, JSON or YAML.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::site::Site;
use crate::support::document::{Format, load_document, parse_document};
use crate::support::error::{Error, Result};

/// A fleet of sites, and the limits bt-dr judges them by.
///
/// ```
/// use bt_dr_core::Inventory;
/// let inv = Inventory::from_toml_str(r#"
///     [[sites]]
///     name = "support"
///     fqdn = "support.example.com"
///     product = "rs"
///     version = "24.1.2"
/// "#).unwrap();
/// assert_eq!(inv.sites.len(), 1);
/// assert!(inv.site("support").is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The sites.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// bt-dr's own limits (the optional `[thresholds]` table); absent values take the defaults.
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// The limits the vendor guide leaves open and bt-dr therefore chooses itself. Each field says
/// why its default is what it is. They live in the inventory (an optional top-level
/// `[thresholds]` table) so an operator can fit them to the fleet; the audit and the
/// certificate check read them from here unless their caller overrides a value.
///
/// ```
/// use bt_dr_core::Inventory;
/// let inv = Inventory::from_toml_str(r#"
///     [thresholds]
///     certificate_horizon_days = 45
/// "#).unwrap();
/// assert_eq!(inv.thresholds.certificate_horizon_days, 45);
/// assert_eq!(inv.thresholds.max_backup_age_hours, 26);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// The newest backup set may be this many hours old before the audit calls it stale.
    /// Default 26: backups run nightly, so a healthy site's newest set is at most 24 hours old
    /// when the audit runs; two hours of slack absorb a slow night or a job that starts late,
    /// while one missed night is reported the next morning.
    pub max_backup_age_hours: u32,
    /// Warn when a certificate expires within this many days. Default 30: a CA-signed renewal
    /// can take days to weeks to order, validate and import on every appliance (both of a
    /// pair, every Atlas node), and a month leaves room for that plus a holiday.
    pub certificate_horizon_days: u32,
    /// A failover backup's last data sync is stale once it is older than this many sync
    /// intervals. Default 2: one interval can be missed (a long sync, a brief network blip);
    /// two in a row mean syncing has stopped.
    pub sync_stale_factor: u32,
    /// The sync-stale limit is never below this many hours, whatever the interval. Default 1:
    /// with very short sync intervals, twice the interval would report ordinary jitter.
    pub sync_stale_min_hours: u32,
    /// With automatic failover on, the backup should test at least this many connectivity
    /// addresses before promoting itself. Default 2: a single address can be one that the
    /// backup still reaches while cut off from the primary (its own gateway, say), so it would
    /// promote itself into a split brain; with one address that is down for maintenance it
    /// would never fail over. Two addresses in different places avoid both.
    pub min_connectivity_test_ips: u32,
    /// Smallest RSA key the certificate check accepts, in bits. Default 2048: the floor that
    /// public CAs and current TLS clients require; a smaller key is refused by browsers and
    /// client software alike, so a restored certificate with one would not serve.
    pub min_rsa_bits: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_backup_age_hours: 26,
            certificate_horizon_days: 30,
            sync_stale_factor: 2,
            sync_stale_min_hours: 1,
            min_connectivity_test_ips: 2,
            min_rsa_bits: 2048,
        }
    }
}

impl Thresholds {
    /// Refuses values that would switch a check off or make it meaningless.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |field: &str, why: &str| Err(Error::invalid_input(format!("thresholds.{field}"), why));
        if self.max_backup_age_hours == 0 {
            return bad("max_backup_age_hours", "must be at least 1 hour");
        }
        if self.certificate_horizon_days > 3650 {
            return bad("certificate_horizon_days", "must be at most 3650 days");
        }
        if self.sync_stale_factor == 0 {
            return bad("sync_stale_factor", "must be at least 1 sync interval");
        }
        if self.min_connectivity_test_ips == 0 {
            return bad(
                "min_connectivity_test_ips",
                "must be at least 1; automatic failover without a test address can promote an isolated backup",
            );
        }
        if !(1024..=16384).contains(&self.min_rsa_bits) {
            return bad("min_rsa_bits", "must be between 1024 and 16384 bits");
        }
        Ok(())
    }

    /// The sync-stale limit for a sync interval: `sync_stale_factor` intervals, at least
    /// `sync_stale_min_hours`.
    pub fn sync_stale_after(&self, data_sync_interval_secs: u64) -> std::time::Duration {
        let by_interval = data_sync_interval_secs.saturating_mul(u64::from(self.sync_stale_factor));
        let floor = u64::from(self.sync_stale_min_hours).saturating_mul(3600);
        std::time::Duration::from_secs(by_interval.max(floor))
    }
}

impl Inventory {
    /// Loads and validates an inventory file (format by extension).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let inv: Inventory = load_document(path.as_ref(), "inventory")?;
        inv.validate()?;
        Ok(inv)
    }

    /// Parses and validates inventory text in the given format.
    pub fn parse(text: &str, format: Format) -> Result<Self> {
        let inv: Inventory = parse_document(text, format, "inventory", None)?;
        inv.validate()?;
        Ok(inv)
    }

    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Self::parse(text, Format::Toml)
    }

    /// Parses JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::parse(text, Format::Json)
    }

    /// Validates every site and that site names are unique. Names that differ only in case
    /// are one site (the backup store keeps one folder for them), so they are refused too.
    pub fn validate(&self) -> Result<()> {
        self.thresholds.validate()?;
        let mut names: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        for s in &self.sites {
            s.validate()?;
            if let Some(first) = names.insert(s.name.to_ascii_lowercase(), s.name.as_str()) {
                let reason = if first == s.name {
                    format!("site `{}` is listed twice", s.name)
                } else {
                    format!(
                        "sites `{first}` and `{}` differ only in case: they are one site \
                         (one folder in the backup store); give them different names",
                        s.name
                    )
                };
                return Err(Error::invalid_input("sites.name", reason));
            }
        }
        Ok(())
    }

    /// The site with this name (an exact match first, else one differing only in case).
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name).or_else(|| {
            self.sites
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
        })
    }
}
