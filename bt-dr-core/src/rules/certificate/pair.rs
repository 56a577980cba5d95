//! Failover appliances must carry the identical certificate: clients validate it strictly.

use serde::{Deserialize, Serialize};

use super::CertInfo;
use super::check::BundleReport;
use crate::rules::finding::{Finding, Severity};
use crate::support::error::{Error, Result};

/// The comparison of two appliances' bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairReport {
    /// The leaf certificates are byte-identical.
    pub identical: bool,
    /// The pair can be restored as it is: both bundles are usable on their own
    /// ([`BundleReport::is_usable`]) and their leaves are identical. Reports saved before this
    /// field existed load as `false` (not known to be usable).
    #[serde(default)]
    pub usable: bool,
    /// Findings (empty when identical and complete).
    pub findings: Vec<Finding>,
}

impl BundleReport {
    /// Checks that a report handed in from outside (a binding argument, a saved file) is
    /// consistent: `leaf` and every `chain` index point into `certificates`, and every
    /// `sha256` is 64 hex digits. Reports made by [`crate::rules::certificate::check_certificate_bundle`] always are.
    ///
    /// ```
    /// let mut r: bt_dr_core::BundleReport = serde_json::from_value(serde_json::json!({
    ///     "certificates": [], "leaf": 3, "chain": [], "has_private_key": false,
    ///     "key_matches_leaf": null, "findings": []
    /// })).unwrap();
    /// let e = r.check_consistent("primary").unwrap_err();
    /// assert_eq!(e.kind(), bt_dr_core::ErrorKind::InvalidInput);
    /// r.leaf = None;
    /// assert!(r.check_consistent("primary").is_ok());
    /// ```
    pub fn check_consistent(&self, field: &str) -> Result<()> {
        let n = self.certificates.len();
        if let Some(i) = self.leaf
            && i >= n
        {
            return Err(Error::invalid_input(
                format!("{field}.leaf"),
                format!("index {i} is out of range: the report holds {n} certificate(s)"),
            ));
        }
        if let Some(i) = self.chain.iter().find(|i| **i >= n) {
            return Err(Error::invalid_input(
                format!("{field}.chain"),
                format!("index {i} is out of range: the report holds {n} certificate(s)"),
            ));
        }
        if let Some((i, _)) =
            self.certificates.iter().enumerate().find(|(_, c)| {
                c.sha256.len() != 64 || !c.sha256.bytes().all(|b| b.is_ascii_hexdigit())
            })
        {
            return Err(Error::invalid_input(
                format!("{field}.certificates[{i}].sha256"),
                "is not a SHA-256 digest (64 hex digits)",
            ));
        }
        Ok(())
    }
}

/// How the leaf certificates of the two appliances of a pair compare.
///
/// JSON: `"identical"`, `"different"` or `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeafComparison {
    /// Both SHA-256 digests are known and equal.
    Identical,
    /// Both are known and differ: clients that trust one appliance may reject the other.
    Different,
    /// At least one side is missing or is not a SHA-256 digest, so nothing can be said.
    #[default]
    Unknown,
}

/// A digest as 64 lowercase hex digits, accepting upper case and the colon-separated form
/// openssl prints; anything else is not a digest.
fn normalised_digest(d: &str) -> Option<String> {
    let hex: String = d
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Compares the SHA-256 digests of the leaf certificates two appliances serve (or hold).
///
/// The guide asks for identical certificate configuration on both appliances of a failover
/// pair; this is the one comparison behind the failover plan's refusal, the live audit rule
/// `pair_certificates_differ` and [`check_certificate_pair`]. Digests from outside are
/// hostile input: one that is not 64 hex digits (colons and case aside) makes the answer
/// [`LeafComparison::Unknown`], never a false "identical".
///
/// ```
/// use bt_dr_core::certificate::{LeafComparison, compare_leaf_digests};
/// let a = "ab".repeat(32);
/// let upper = "AB:".repeat(31) + "AB";
/// assert_eq!(compare_leaf_digests(Some(&a), Some(&upper)), LeafComparison::Identical);
/// assert_eq!(compare_leaf_digests(Some(&a), Some(&"cd".repeat(32))), LeafComparison::Different);
/// assert_eq!(compare_leaf_digests(Some(&a), None), LeafComparison::Unknown);
/// assert_eq!(compare_leaf_digests(Some("ab"), Some("ab")), LeafComparison::Unknown);
/// ```
pub fn compare_leaf_digests(a: Option<&str>, b: Option<&str>) -> LeafComparison {
    match (a.and_then(normalised_digest), b.and_then(normalised_digest)) {
        (Some(a), Some(b)) if a == b => LeafComparison::Identical,
        (Some(_), Some(_)) => LeafComparison::Different,
        _ => LeafComparison::Unknown,
    }
}

/// At most the first `n` characters of `s` (never splits a character).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Compares the bundles of the two appliances of a failover pair.
///
/// Never panics, whatever the reports hold: an out-of-range `leaf` counts as no leaf and an
/// out-of-range `chain` index is skipped. Bindings reject such reports first with
/// [`BundleReport::check_consistent`].
pub fn check_certificate_pair(primary: &BundleReport, backup: &BundleReport) -> PairReport {
    let mut findings = Vec::new();
    let (a, b) = (primary.leaf_cert(), backup.leaf_cert());
    let identical =
        compare_leaf_digests(a.map(|c| c.sha256.as_str()), b.map(|c| c.sha256.as_str()))
            == LeafComparison::Identical;
    if !identical {
        let desc = |c: Option<&CertInfo>| {
            c.map(|c| {
                format!(
                    "`{}` (serial {}, sha256 {}…)",
                    c.issued_to,
                    c.serial,
                    prefix(&c.sha256, 12)
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
            .filter_map(|i| r.certificates.get(*i).map(|c| c.sha256.clone()))
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
        usable: identical && primary.is_usable() && backup.is_usable(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(leaf: Option<usize>, sha: &str) -> BundleReport {
        serde_json::from_value(serde_json::json!({
            "certificates": [{
                "subject": "CN=a", "issuer": "CN=a", "issued_to": "a", "issued_by": "a",
                "dns_names": [], "ip_addresses": [],
                "not_before": "2020-01-01T00:00:00Z", "not_after": "2030-01-01T00:00:00Z",
                "serial": "01", "sha256": sha, "is_ca": false, "key_algorithm": "rsa",
                "key_bits": 2048, "class": "root", "friendly_name": null
            }],
            "leaf": leaf, "chain": [0, 7], "has_private_key": false,
            "key_matches_leaf": null, "findings": []
        }))
        .unwrap_or_else(|e| panic!("test report: {e}"))
    }

    #[test]
    fn hostile_reports_never_panic() {
        for (leaf, sha) in [(Some(5), "ab"), (Some(0), "é"), (Some(0), ""), (None, "x")] {
            let a = report(leaf, sha);
            let b = report(Some(0), &"a".repeat(64));
            let _ = check_certificate_pair(&a, &b);
            let _ = check_certificate_pair(&b, &a);
            assert!(a.check_consistent("primary").is_err());
        }
        assert_eq!(prefix("ééé", 2), "éé");
        assert_eq!(prefix("ab", 12), "ab");
    }

    #[test]
    fn the_pair_is_usable_only_when_both_bundles_are_and_the_leaves_match() {
        let sha = "a".repeat(64);
        let mut ok = report(Some(0), &sha);
        ok.chain = vec![0];
        ok.has_private_key = true;
        ok.key_matches_leaf = Some(true);
        assert!(ok.is_usable(), "{:?}", ok.findings);
        assert!(check_certificate_pair(&ok, &ok.clone()).usable);

        let other = {
            let mut r = ok.clone();
            r.certificates[0].sha256 = "b".repeat(64);
            r
        };
        let pair = check_certificate_pair(&ok, &other);
        assert!(!pair.identical && !pair.usable);

        let mut broken = ok.clone();
        broken.findings.push(Finding::new(
            "key_missing",
            Severity::Error,
            "bt-b",
            "no private key",
        ));
        assert!(!broken.is_usable());
        let pair = check_certificate_pair(&ok, &broken);
        assert!(
            pair.identical && !pair.usable,
            "identical leaves, unusable bundle"
        );
    }
}
