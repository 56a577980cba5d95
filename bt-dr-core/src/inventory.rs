//! The fleet: every site an operator or MSP looks after, loaded from TOML, JSON or YAML.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::document::{Format, load_document, parse_document};
use crate::{Error, Result, Site};

/// A fleet of sites.
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
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The sites.
    #[serde(default)]
    pub sites: Vec<Site>,
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
