//! The two BeyondTrust products a site can run.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::support::error::{Error, Result};

/// Remote Support or Privileged Remote Access.
///
/// ```
/// use bt_dr_core::Product;
/// assert_eq!("PRA".parse::<Product>().unwrap(), Product::Pra);
/// assert_eq!(Product::Rs.session_report(), "SupportSession");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Product {
    /// BeyondTrust Remote Support (formerly Bomgar).
    Rs,
    /// BeyondTrust Privileged Remote Access.
    Pra,
}

impl Product {
    /// Short lowercase name used in files and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Rs => "rs",
            Product::Pra => "pra",
        }
    }

    /// Human name.
    pub fn display_name(self) -> &'static str {
        match self {
            Product::Rs => "Remote Support",
            Product::Pra => "Privileged Remote Access",
        }
    }

    /// Reporting API name of the per-session report (RS names sessions "support", PRA "access").
    pub fn session_report(self) -> &'static str {
        match self {
            Product::Rs => "SupportSession",
            Product::Pra => "AccessSession",
        }
    }

    /// Reporting API name of the session listing report.
    pub fn session_listing_report(self) -> &'static str {
        match self {
            Product::Rs => "SupportSessionListing",
            Product::Pra => "AccessSessionListing",
        }
    }

    /// Reporting API name of the session recording download.
    pub fn session_recording_report(self) -> &'static str {
        match self {
            Product::Rs => "SupportSessionRecording",
            Product::Pra => "AccessSessionRecording",
        }
    }
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Product {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rs" | "remote support" | "remote-support" | "bomgar" => Ok(Product::Rs),
            "pra" | "privileged remote access" | "privileged-remote-access" => Ok(Product::Pra),
            other => Err(Error::invalid_input(
                "product",
                format!("`{other}` is neither `rs` nor `pra`"),
            )),
        }
    }
}
