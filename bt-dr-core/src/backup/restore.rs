//! Whether a backup taken on one product version may be restored onto a site running another.
//!
//! The vendor tests restores only from the versions each release lists as supported upgrade
//! sources; that list lives in the release notes, so it is data the user loads
//! ([`UpgradeTable`]), never code.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::document::{Format, load_document, parse_document};
use crate::{Error, Product, ProductVersion, Result, VersionPattern};

/// One release and the versions it lists as supported upgrade sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct RestoreCheck {
    /// Verdict.
    pub compatibility: RestoreCompatibility,
    /// Version of the backup.
    pub backup_version: ProductVersion,
    /// Version of the receiving site.
    pub site_version: ProductVersion,
    /// Why.
    pub reason: String,
    /// A warning to show the operator, when the restore is not plainly supported.
    pub warning: Option<String>,
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
    fn refused_becomes_typed_error() {
        let e = check_restore(&v("25.1.0"), &v("24.1.0"), &table(), None, None)
            .into_result()
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::VersionIncompatible);
        assert!(e.to_string().contains("newer"));
    }
}
