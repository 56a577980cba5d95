//! Whether a backup taken on one product version may be restored onto a site running another.
//!
//! The vendor tests restores only from the versions each release lists as supported upgrade
//! sources; that list lives in the release notes, so it is data the user loads
//! ([`UpgradeTable`]), never code.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::product::Product;
use crate::model::version::{ProductVersion, VersionPattern};
use crate::support::document::{Format, load_document, parse_document};
use crate::support::error::{Error, Result};

/// One release and the versions it lists as supported upgrade sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpgradeEntry {
    /// The release (`X.Y` covers all its maintenance releases, `X.Y.Z` one of them).
    pub version: VersionPattern,
    /// Product, when the table mixes RS and PRA.
    #[serde(default)]
    pub product: Option<Product>,
    /// Versions a backup may come from and be restored onto this release.
    pub supported_upgrades_from: Vec<VersionPattern>,
}

/// The supported-upgrade table, loaded from TOML/JSON/YAML.
///
/// ```
/// use bt_dr_core::UpgradeTable;
/// let t = UpgradeTable::from_toml_str(r#"
///     [[releases]]
///     version = "24.1"
///     supported_upgrades_from = ["23.2", "23.3"]
/// "#).unwrap();
/// assert_eq!(t.releases.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpgradeTable {
    /// Releases and their supported sources.
    #[serde(default)]
    pub releases: Vec<UpgradeEntry>,
}

impl UpgradeTable {
    /// Loads a table file (format by extension).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        load_document(path.as_ref(), "upgrade table")
    }
    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        parse_document(text, Format::Toml, "upgrade table", None)
    }
    /// Parses JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        parse_document(text, Format::Json, "upgrade table", None)
    }

    /// Whether `from` is listed as a supported upgrade source of `to`. Exact entries for
    /// `to` win over its major entry, so a maintenance release can narrow its major's list.
    pub fn lists(
        &self,
        product: Option<Product>,
        from: &ProductVersion,
        to: &ProductVersion,
    ) -> bool {
        let applies =
            |e: &&UpgradeEntry| e.product.is_none() || product.is_none() || e.product == product;
        let exact: Vec<_> = self
            .releases
            .iter()
            .filter(applies)
            .filter(|e| matches!(e.version, VersionPattern::Exact(_)) && e.version.matches(to))
            .collect();
        let entries = if exact.is_empty() {
            self.releases
                .iter()
                .filter(applies)
                .filter(|e| e.version.matches(to))
                .collect()
        } else {
            exact
        };
        entries
            .iter()
            .any(|e| e.supported_upgrades_from.iter().any(|p| p.matches(from)))
    }
}

/// The verdict on a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestoreCompatibility {
    /// Same version, or a listed supported upgrade source.
    Supported,
    /// Older and not listed: the vendor has not tested it; unexpected issues or data loss may follow.
    Untested,
    /// Newer than the site, or another product: not supported.
    Refused,
}

/// Result of [`check_restore`], with the reason in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestoreCheck {
    /// Verdict.
    pub compatibility: RestoreCompatibility,
    /// Version of the backup.
    pub backup_version: ProductVersion,
    /// Version of the receiving site.
    pub site_version: ProductVersion,
    /// Why.
    pub reason: String,
    /// A warning to show the operator, when the restore is not plainly supported or the target
    /// is in a failover pair.
    pub warning: Option<String>,
    /// What to do around the restore, in order (empty when nothing special applies). Filled by
    /// [`check_restore_onto`] for a site with a failover pair.
    #[serde(default)]
    pub steps: Vec<String>,
}

impl RestoreCheck {
    /// Turns a refused verdict into [`Error::VersionIncompatible`]; supported and untested pass.
    pub fn into_result(self) -> Result<Self> {
        if self.compatibility == RestoreCompatibility::Refused {
            return Err(Error::VersionIncompatible {
                backup: self.backup_version.to_string(),
                site: self.site_version.to_string(),
                reason: self.reason,
            });
        }
        Ok(self)
    }
}

/// Decides whether a backup from `backup` can be restored onto a site at `site`.
///
/// Same `X.Y.Z` is supported; a newer backup is refused; an older one is supported only
/// when `table` lists it as an upgrade source of the site's version, and untested otherwise.
/// When both products are known and differ, the restore is refused.
///
/// ```
/// use bt_dr_core::{check_restore, RestoreCompatibility, UpgradeTable};
/// let table = UpgradeTable::from_toml_str(r#"
///     [[releases]]
///     version = "24.1"
///     supported_upgrades_from = ["23.2"]
/// "#).unwrap();
/// let v = |s: &str| s.parse().unwrap();
/// assert_eq!(check_restore(&v("23.2.1"), &v("24.1.0"), &table, None, None).compatibility, RestoreCompatibility::Supported);
/// assert_eq!(check_restore(&v("22.1.0"), &v("24.1.0"), &table, None, None).compatibility, RestoreCompatibility::Untested);
/// assert_eq!(check_restore(&v("24.2.0"), &v("24.1.0"), &table, None, None).compatibility, RestoreCompatibility::Refused);
/// ```
pub fn check_restore(
    backup: &ProductVersion,
    site: &ProductVersion,
    table: &UpgradeTable,
    backup_product: Option<Product>,
    site_product: Option<Product>,
) -> RestoreCheck {
    let mk = |compatibility, reason: String, warning: Option<String>| RestoreCheck {
        compatibility,
        backup_version: backup.without_build(),
        site_version: site.without_build(),
        reason,
        warning,
        steps: Vec::new(),
    };
    if let (Some(b), Some(s)) = (backup_product, site_product)
        && b != s
    {
        return mk(
            RestoreCompatibility::Refused,
            format!(
                "the backup is from a {} site and the target runs {}",
                b.display_name(),
                s.display_name()
            ),
            Some("A backup restores only onto a site of the same product.".into()),
        );
    }
    let product = site_product.or(backup_product);
    if backup == site {
        return mk(
            RestoreCompatibility::Supported,
            format!("same version {}", site.release()),
            None,
        );
    }
    if backup > site {
        return mk(
            RestoreCompatibility::Refused,
            format!(
                "the backup ({}) is newer than the site ({}); restoring to an older version is not supported",
                backup.release(),
                site.release()
            ),
            Some(format!(
                "Upgrade the site to {} or later before restoring this backup.",
                backup.release()
            )),
        );
    }
    if table.lists(product, backup, site) {
        return mk(
            RestoreCompatibility::Supported,
            format!(
                "{} is a supported upgrade source of {}",
                backup.release(),
                site.release()
            ),
            None,
        );
    }
    mk(
        RestoreCompatibility::Untested,
        format!(
            "{} is older than {} and not listed among its supported upgrade sources",
            backup.release(),
            site.release()
        ),
        Some(
            "The vendor has not tested this restore path: expect unexpected issues and possibly data loss. \
             Prefer restoring onto a site at the backup's own version, then upgrading."
                .into(),
        ),
    )
}

/// [`check_restore`] for a restore onto `site` (its version and product), aware of failover.
///
/// A restore writes the backup's failover settings and inter-appliance pre-shared key over the
/// target's, so onto an appliance in active failover the link between the two breaks in ways
/// that are hard to see. When the site has a failover pair the verdict keeps its version
/// compatibility but gains a warning and the order to follow in [`RestoreCheck::steps`]:
/// break failover, restore, reset the pre-shared key, re-establish failover. A refused restore
/// gets no steps.
///
/// ```
/// use bt_dr_core::{Inventory, UpgradeTable, RestoreCompatibility, backup::check_restore_onto};
/// let inv = Inventory::from_toml_str(r#"
///     [[sites]]
///     name = "support"
///     fqdn = "support.example.com"
///     product = "rs"
///     version = "24.1.2"
///     appliances = [{ hostname = "bt-a.example.com", kind = "b300" },
///                   { hostname = "bt-b.example.com", kind = "vmware" }]
///     failover = { primary = "bt-a.example.com", backup = "bt-b.example.com", routing = "dns-swing" }
/// "#)?;
/// let site = &inv.sites[0];
/// let c = check_restore_onto(site, &"24.1.2".parse()?, None, &UpgradeTable::default());
/// assert_eq!(c.compatibility, RestoreCompatibility::Supported);
/// assert!(c.steps[0].contains("Break failover") && c.steps[2].contains("pre-shared key"));
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
pub fn check_restore_onto(
    site: &crate::model::site::Site,
    backup: &ProductVersion,
    backup_product: Option<Product>,
    table: &UpgradeTable,
) -> RestoreCheck {
    let mut check = check_restore(
        backup,
        &site.version,
        table,
        backup_product,
        Some(site.product),
    );
    let Some(pair) = &site.failover else {
        return check;
    };
    if check.compatibility == RestoreCompatibility::Refused {
        return check;
    }
    let failover_warning = format!(
        "{} and {} are a failover pair: a restore replaces the failover settings and the \
         inter-appliance pre-shared key with the backup's, which breaks an active failover link. \
         Restore onto a pair member only when the primary lacks data that exists solely in this \
         backup; a rebuilt member normally gets its data by failover sync instead.",
        pair.primary, pair.backup
    );
    check.warning = Some(match check.warning.take() {
        Some(w) => format!("{w} {failover_warning}"),
        None => failover_warning,
    });
    check.steps = failover_restore_steps(pair);
    check
}

/// The guide's order for restoring onto an appliance in active failover, in bt-dr's words.
pub(crate) fn failover_restore_steps(pair: &crate::model::site::FailoverPair) -> Vec<String> {
    vec![
        format!(
            "Break failover between {} and {} (/login > Management > Failover) before restoring.",
            pair.primary, pair.backup
        ),
        "Restore the backup (/login > Management > Software > Restore Settings) onto the \
         appliance that needs it, with the backup password."
            .to_string(),
        "Reset the inter-appliance pre-shared key (/login > Management > Security): the restore \
         wrote the backup's key, which may not match the peer's."
            .to_string(),
        format!(
            "Re-establish failover with {} as primary, check the failover settings the restore \
             overwrote, and sync.",
            pair.primary
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ProductVersion {
        s.parse().unwrap()
    }

    fn table() -> UpgradeTable {
        UpgradeTable::from_json_str(
            r#"{"releases":[
                {"version":"24.1","supported_upgrades_from":["23.2","23.3"]},
                {"version":"24.1.3","supported_upgrades_from":["23.3"]},
                {"version":"25.1","product":"pra","supported_upgrades_from":["24.1"]}
            ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn each_rule() {
        let t = table();
        let c = |b: &str, s: &str| check_restore(&v(b), &v(s), &t, None, None).compatibility;
        assert_eq!(c("24.1.2", "24.1.2"), RestoreCompatibility::Supported);
        assert_eq!(
            c("24.1.2 (1-abcdef0)", "24.1.2 (2-1234567)"),
            RestoreCompatibility::Supported
        );
        assert_eq!(c("24.1.3", "24.1.2"), RestoreCompatibility::Refused);
        assert_eq!(c("23.2.9", "24.1.2"), RestoreCompatibility::Supported);
        assert_eq!(c("23.1.0", "24.1.2"), RestoreCompatibility::Untested);
        // The exact 24.1.3 entry narrows its major's list.
        assert_eq!(c("23.2.9", "24.1.3"), RestoreCompatibility::Untested);
        assert_eq!(c("23.3.1", "24.1.3"), RestoreCompatibility::Supported);
        // Empty table: older is untested, never supported.
        let empty = UpgradeTable::default();
        assert_eq!(
            check_restore(&v("23.2.9"), &v("24.1.2"), &empty, None, None).compatibility,
            RestoreCompatibility::Untested
        );
    }

    #[test]
    fn product_scoping_and_mismatch() {
        let t = table();
        let r = check_restore(
            &v("24.1.0"),
            &v("25.1.0"),
            &t,
            Some(Product::Pra),
            Some(Product::Pra),
        );
        assert_eq!(r.compatibility, RestoreCompatibility::Supported);
        let r = check_restore(
            &v("24.1.0"),
            &v("25.1.0"),
            &t,
            Some(Product::Rs),
            Some(Product::Rs),
        );
        assert_eq!(r.compatibility, RestoreCompatibility::Untested);
        assert!(r.warning.unwrap().contains("data loss"));
        let r = check_restore(
            &v("25.1.0"),
            &v("25.1.0"),
            &t,
            Some(Product::Rs),
            Some(Product::Pra),
        );
        assert_eq!(r.compatibility, RestoreCompatibility::Refused);
    }

    #[test]
    fn failover_pair_adds_the_ordered_steps() {
        let mut site: crate::model::site::Site = toml::from_str(
            r#"
            name = "support"
            fqdn = "support.example.com"
            product = "rs"
            version = "24.1.2"
            appliances = [{ hostname = "a.example.com", kind = "b300" },
                          { hostname = "b.example.com", kind = "b300" }]
            failover = { primary = "a.example.com", backup = "b.example.com", routing = "dns-swing" }
            "#,
        )
        .unwrap();
        let t = table();
        let c = check_restore_onto(&site, &v("23.1.0"), Some(Product::Rs), &t);
        assert_eq!(c.compatibility, RestoreCompatibility::Untested);
        let w = c.warning.unwrap();
        assert!(
            w.contains("data loss") && w.contains("pre-shared key"),
            "{w}"
        );
        assert_eq!(c.steps.len(), 4);
        assert!(c.steps[0].starts_with("Break failover"));
        assert!(c.steps[1].starts_with("Restore"));
        assert!(c.steps[2].starts_with("Reset the inter-appliance pre-shared key"));
        assert!(c.steps[3].starts_with("Re-establish failover"));
        // A refused restore gets no steps; a site without a pair gets the plain verdict.
        let c = check_restore_onto(&site, &v("25.1.0"), None, &t);
        assert_eq!(c.compatibility, RestoreCompatibility::Refused);
        assert!(c.steps.is_empty());
        site.failover = None;
        let c = check_restore_onto(&site, &v("24.1.2"), None, &t);
        assert!(c.steps.is_empty() && c.warning.is_none());
        // Older JSON without `steps` still reads.
        let old: RestoreCheck = serde_json::from_str(
            r#"{"compatibility":"supported","backup_version":"24.1.2","site_version":"24.1.2","reason":"same","warning":null}"#,
        )
        .unwrap();
        assert!(old.steps.is_empty());
    }

    #[test]
    fn refused_becomes_typed_error() {
        let e = check_restore(&v("25.1.0"), &v("24.1.0"), &table(), None, None)
            .into_result()
            .unwrap_err();
        assert_eq!(
            e.kind(),
            crate::support::error::ErrorKind::VersionIncompatible
        );
        assert!(e.to_string().contains("newer"));
    }
}
