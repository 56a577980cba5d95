//! Findings: the one shape every check in bt-dr reports (certificates, records, audit).

use serde::{Deserialize, Serialize};

/// How urgent a finding is. Ordered: `Info < Warning < Error < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Will hurt later (expiring soon, temporary setup).
    Warning,
    /// Recovery would fail or be incomplete today.
    Error,
    /// The site is at risk now (expired certificate, split brain).
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::support::error::Error;
    fn from_str(s: &str) -> crate::support::error::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            "critical" => Ok(Severity::Critical),
            o => Err(crate::support::error::Error::invalid_input(
                "severity",
                format!("`{o}` is not info, warning, error or critical"),
            )),
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem (or fact) a check found.
///
/// ```
/// use bt_dr_core::{Finding, Severity};
/// let f = Finding::new("expired", Severity::Critical, "support.example.com", "certificate expired")
///     .with_remediation("renew it");
/// assert_eq!(f.remediation.as_deref(), Some("renew it"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    /// Stable rule id (snake case), e.g. `missing_intermediate`.
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// What it is about: a site, an appliance hostname, a certificate subject, a file.
    pub subject: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub remediation: Option<String>,
}

impl Finding {
    /// A finding without remediation.
    pub fn new(
        id: &str,
        severity: Severity,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            id: id.to_string(),
            severity,
            subject: subject.into(),
            message: message.into(),
            remediation: None,
        }
    }

    /// Adds the step that fixes it.
    pub fn with_remediation(mut self, r: impl Into<String>) -> Self {
        self.remediation = Some(r.into());
        self
    }
}

/// The most severe of some findings.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
