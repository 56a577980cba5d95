//! Failover appliances must carry the identical certificate: clients validate it strictly.

use serde::{Deserialize, Serialize};

use super::check::BundleReport;
use crate::{Finding, Severity};

/// The comparison of two appliances' bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    /// The leaf certificates are byte-identical.
    pub identical: bool,
    /// Findings (empty when identical and complete).
    pub findings: Vec<Finding>,
}

/// Compares the bundles of the two appliances of a failover pair.
pub fn check_certificate_pair(primary: &BundleReport, backup: &BundleReport) -> PairReport {
    let mut findings = Vec::new();
    let (a, b) = (primary.leaf_cert(), backup.leaf_cert());
    let identical = match (a, b) {
        (Some(a), Some(b)) => a.sha256 == b.sha256,
        _ => false,
    };
    if !identical {
        let desc = |c: Option<&super::CertInfo>| {
            c.map(|c| {
                format!(
                    "`{}` (serial {}, sha256 {}…)",
                    c.issued_to,
                    c.serial,
                    &c.sha256[..12]
                )
            })
            .unwrap_or_else(|| "no certificate".into())
        };
        findings.push(
            Finding::new(
                "pair_certificate_mismatch",
                Severity::Error,
                "failover pair",
                format!(
                    "the primary serves {} but the backup serves {}",
                    desc(a),
                    desc(b)
                ),
            )
            .with_remediation(
                "Export the primary's certificate with key and chain and import it on the backup.",
            ),
        );
    }
    let chain_subjects = |r: &BundleReport| {
        r.chain
            .iter()
            .map(|i| r.certificates[*i].sha256.clone())
            .collect::<Vec<_>>()
    };
    if identical && chain_subjects(primary) != chain_subjects(backup) {
        findings.push(Finding::new(
            "pair_chain_differs",
            Severity::Warning,
            "failover pair",
            "both appliances hold the same certificate but with different chains",
        ));
    }
    PairReport {
        identical,
        findings,
    }
}
