//! The certificate bundle check: classes, chain, key, names, dates and key strength.

use ::time::{Duration, OffsetDateTime};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::bundle::{CertClass, CertInfo, OpenedBundle, open_bundle};
use super::key::key_matches_spki;
use super::names::name_matches;
use crate::model::inventory::Thresholds;
use crate::rules::finding::{Finding, Severity};
use crate::support::error::Result;

/// What to check a bundle against. The expiry horizon and the RSA minimum default to
/// [`Thresholds`]' values; [`BundleCheckOptions::with_thresholds`] takes an inventory's.
///
/// ```
/// use bt_dr_core::BundleCheckOptions;
/// let o = BundleCheckOptions::for_site("support.example.com")
///     .with_appliances(["bt-a.example.com", "bt-b.example.com"]);
/// assert_eq!(o.expiry_horizon_days, 30);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BundleCheckOptions {
    /// The site's public FQDN, which the leaf must cover.
    pub site_fqdn: Option<String>,
    /// Appliance hostnames the leaf should also cover (failover pairs serve under both).
    #[serde(default)]
    pub appliance_hostnames: Vec<String>,
    /// Warn when a certificate expires within this many days (default
    /// [`Thresholds::certificate_horizon_days`], where the reason for it is given).
    #[serde(default = "default_horizon")]
    pub expiry_horizon_days: i64,
    /// Smallest acceptable RSA key in bits (default [`Thresholds::min_rsa_bits`]).
    #[serde(default = "default_min_rsa")]
    pub min_rsa_bits: usize,
    /// The instant to judge validity at (defaults to now; fixed in tests and audits).
    #[serde(default, with = "::time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub now: Option<OffsetDateTime>,
}

fn default_horizon() -> i64 {
    i64::from(Thresholds::default().certificate_horizon_days)
}
fn default_min_rsa() -> usize {
    Thresholds::default().min_rsa_bits as usize
}

impl Default for BundleCheckOptions {
    fn default() -> Self {
        Self {
            site_fqdn: None,
            appliance_hostnames: Vec::new(),
            expiry_horizon_days: default_horizon(),
            min_rsa_bits: default_min_rsa(),
            now: None,
        }
    }
}

impl BundleCheckOptions {
    /// Options for a site FQDN.
    pub fn for_site(fqdn: &str) -> Self {
        Self {
            site_fqdn: Some(fqdn.to_string()),
            ..Self::default()
        }
    }
    /// Adds appliance hostnames.
    pub fn with_appliances<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.appliance_hostnames
            .extend(hosts.into_iter().map(Into::into));
        self
    }
    /// Takes the expiry horizon and RSA minimum from an inventory's thresholds.
    pub fn with_thresholds(mut self, t: &Thresholds) -> Self {
        self.expiry_horizon_days = i64::from(t.certificate_horizon_days);
        self.min_rsa_bits = t.min_rsa_bits as usize;
        self
    }
    /// Judges validity at `now`.
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// The result of checking one bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BundleReport {
    /// Every certificate in the bundle, in stored order.
    pub certificates: Vec<CertInfo>,
    /// Index of the leaf (the certificate the key belongs to, else the FQDN certificate).
    pub leaf: Option<usize>,
    /// Indices from the leaf up to the root, as far as issuers are present and signatures verify.
    pub chain: Vec<usize>,
    /// A private key is present.
    pub has_private_key: bool,
    /// The key belongs to the leaf (`None` when there is no key or it cannot be compared).
    pub key_matches_leaf: Option<bool>,
    /// Problems found, most severe first.
    pub findings: Vec<Finding>,
}

impl BundleReport {
    /// The leaf certificate.
    pub fn leaf_cert(&self) -> Option<&CertInfo> {
        // A report can come from a caller (deserialised): an out-of-range index is no leaf.
        self.leaf.and_then(|i| self.certificates.get(i))
    }
    /// The most severe finding.
    pub fn worst(&self) -> Option<Severity> {
        crate::rules::finding::worst(&self.findings)
    }
    /// No finding at error level or above.
    pub fn is_usable(&self) -> bool {
        self.worst().is_none_or(|s| s < Severity::Error)
    }
    /// The one JSON view every binding returns: the report with its verdict (`usable`,
    /// `worst`) alongside. Reading the view back as a [`BundleReport`] ignores the verdict.
    pub fn view(&self) -> BundleReportView<'_> {
        BundleReportView {
            report: self,
            usable: self.is_usable(),
            worst: self.worst(),
        }
    }
}

/// A bundle report and its verdict (see [`BundleReport::view`]).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BundleReportView<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: &'a BundleReport,
    /// No finding at error level or above.
    pub usable: bool,
    /// The worst severity found.
    pub worst: Option<Severity>,
}

/// Whether `parsed[child]` carries a valid signature by `parsed[issuer]`'s key (a pair this
/// process verified before is not verified again: see `verified.rs`).
fn verifies(
    certs: &[CertInfo],
    parsed: &[Option<X509Certificate<'_>>],
    child: usize,
    issuer: usize,
) -> bool {
    let (Some(c), Some(i)) = (&parsed[child], &parsed[issuer]) else {
        return false;
    };
    super::verified::signed_by(&certs[child].sha256, &certs[issuer].sha256, || {
        c.verify_signature(Some(i.public_key())).is_ok()
    })
}

fn covered(leaf: &CertInfo, host: &str) -> bool {
    // Alternative names decide when present; the common name only counts without them.
    if leaf.dns_names.is_empty() {
        name_matches(&leaf.issued_to, host)
    } else {
        leaf.dns_names.iter().any(|n| name_matches(n, host))
    }
}

/// Opens `bytes` with `passphrase` and checks it against `opts`.
///
/// ```no_run
/// use bt_dr_core::{check_certificate_bundle, BundleCheckOptions, SecretString};
/// let bytes = std::fs::read("support.p12").unwrap();
/// let report = check_certificate_bundle(&bytes, &SecretString::from("passphrase"),
///     &BundleCheckOptions::for_site("support.example.com")).unwrap();
/// for f in &report.findings { println!("{} {}: {}", f.severity, f.id, f.message); }
/// ```
pub fn check_certificate_bundle(
    bytes: &[u8],
    passphrase: &SecretString,
    opts: &BundleCheckOptions,
) -> Result<BundleReport> {
    let mut opened = open_bundle(bytes, passphrase)?;
    let now = opts.now.unwrap_or_else(OffsetDateTime::now_utc);
    let certs = std::mem::take(&mut opened.certs);
    // Parsed once: the chain walk and the key match each look at several certificates.
    let parsed: Vec<Option<X509Certificate<'_>>> = certs
        .iter()
        .map(|c| X509Certificate::from_der(c.der()).ok().map(|(_, x)| x))
        .collect();
    let key_der = opened.key_der();
    let mut findings = Vec::new();
    protection_findings(&opened, &certs, &mut findings);
    let (leaf, key_match) = find_leaf(&certs, &parsed, key_der);
    key_findings(&opened, &certs, leaf, key_match, &mut findings);
    let chain = walk_chain(&certs, &parsed, leaf, &mut findings);
    stray_findings(&certs, leaf, &chain, &mut findings);
    if let Some(l) = leaf {
        leaf_findings(&certs[l], opts, &mut findings);
    }
    expiry_findings(&certs, &chain, now, opts.expiry_horizon_days, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(BundleReport {
        certificates: certs,
        leaf,
        chain,
        has_private_key: key_der.is_some(),
        key_matches_leaf: key_match,
        findings,
    })
}

/// The finding's subject for a certificate: whom it was issued to.
fn name(c: &CertInfo) -> String {
    c.issued_to.clone()
}

/// Step 1: how the file protects the key (passphrase, encrypted key bag), and whether it
/// holds any certificate at all.
fn protection_findings(opened: &OpenedBundle, certs: &[CertInfo], findings: &mut Vec<Finding>) {
    if opened.empty_passphrase {
        findings.push(
            Finding::new("no_passphrase", Severity::Error, "bundle", "the bundle is not protected by a passphrase")
                .with_remediation("Export the certificate again from /appliance with a strong passphrase; whoever holds the file holds the site's identity."),
        );
    }
    if opened.unencrypted_key_bags > 0 && !opened.empty_passphrase {
        findings.push(
            Finding::new(
                "private_key_unencrypted",
                Severity::Error,
                "bundle",
                "the private key is stored unencrypted (a plain keyBag) although the file has a passphrase; anyone holding the file holds the key",
            )
            .with_remediation("Export again with the private key encrypted (OpenSSL: never `-keypbe NONE`) and delete the unencrypted copy."),
        );
    }
    if certs.is_empty() {
        findings.push(Finding::new(
            "no_certificate",
            Severity::Error,
            "bundle",
            "the bundle holds no certificate",
        ));
    }
}

/// Step 2: the leaf — the certificate the key belongs to, else the one issued to an FQDN —
/// and whether the key matches it (None: no key, or the key type could not be compared).
fn find_leaf(
    certs: &[CertInfo],
    parsed: &[Option<X509Certificate<'_>>],
    key_der: Option<&[u8]>,
) -> (Option<usize>, Option<bool>) {
    let key_matches = |key: &[u8], i: usize| {
        parsed[i]
            .as_ref()
            .and_then(|x| key_matches_spki(key, x.public_key()))
    };
    let mut key_match = None;
    let mut leaf = None;
    if let Some(key) = key_der {
        for i in 0..certs.len() {
            if key_matches(key, i) == Some(true) {
                leaf = Some(i);
                key_match = Some(true);
                break;
            }
        }
    }
    if leaf.is_none() {
        leaf = certs
            .iter()
            .position(|c| {
                matches!(c.class, CertClass::CaSigned | CertClass::SelfSigned) && !c.is_ca
            })
            .or_else(|| {
                certs
                    .iter()
                    .position(|c| matches!(c.class, CertClass::CaSigned | CertClass::SelfSigned))
            });
        if let (Some(key), Some(i)) = (key_der, leaf) {
            key_match = key_matches(key, i);
        }
    }
    (leaf, key_match)
}

/// Step 3: the private key — missing, not the leaf's, not comparable, or more than one.
fn key_findings(
    opened: &OpenedBundle,
    certs: &[CertInfo],
    leaf: Option<usize>,
    key_match: Option<bool>,
    findings: &mut Vec<Finding>,
) {
    let key_der = opened.key_der();
    match (key_der, key_match) {
        (None, _) => findings.push(
            Finding::new(
                "no_private_key",
                Severity::Error,
                "bundle",
                "the bundle holds no private key; the appliance cannot serve with it",
            )
            .with_remediation("Export again with Include Private Key ticked."),
        ),
        (Some(_), Some(false)) => findings.push(
            Finding::new(
                "key_mismatch",
                Severity::Error,
                leaf.map(|i| name(&certs[i]))
                    .unwrap_or_else(|| "bundle".into()),
                "the private key does not belong to the site certificate",
            )
            .with_remediation(
                "Export the certificate that is bound to the appliance's IP, with its own key.",
            ),
        ),
        (Some(_), None) if leaf.is_some() => findings.push(Finding::new(
            "key_unverified",
            Severity::Warning,
            "bundle",
            "the private key type could not be compared with the certificate",
        )),
        _ => {}
    }
    if opened.key_count > 1 {
        findings.push(Finding::new(
            "multiple_keys",
            Severity::Info,
            "bundle",
            format!("the bundle holds {} private keys", opened.key_count),
        ));
    }
}

/// Step 4: the chain from the leaf upwards — issuer by name, accepted only if its signature
/// verifies — reporting a bad signature or a missing intermediate/root. Empty without a leaf.
fn walk_chain(
    certs: &[CertInfo],
    parsed: &[Option<X509Certificate<'_>>],
    leaf: Option<usize>,
    findings: &mut Vec<Finding>,
) -> Vec<usize> {
    let mut chain = Vec::new();
    if let Some(l) = leaf {
        chain.push(l);
        let mut cur = l;
        loop {
            let c = &certs[cur];
            if c.self_issued() {
                if !verifies(certs, parsed, cur, cur) {
                    findings.push(Finding::new(
                        "bad_signature",
                        Severity::Error,
                        name(c),
                        "the self-signed certificate's signature does not verify",
                    ));
                }
                break;
            }
            let candidates: Vec<usize> = (0..certs.len())
                .filter(|&j| j != cur && !chain.contains(&j) && certs[j].subject == c.issuer)
                .collect();
            match candidates
                .iter()
                .find(|&&j| verifies(certs, parsed, cur, j))
            {
                Some(&j) => {
                    chain.push(j);
                    cur = j;
                }
                None if !candidates.is_empty() => {
                    findings.push(
                        Finding::new(
                            "bad_signature",
                            Severity::Error,
                            name(c),
                            format!(
                                "`{}` is present but did not sign `{}`",
                                c.issued_by, c.issued_to
                            ),
                        )
                        .with_remediation("Obtain the correct issuing certificate from the CA."),
                    );
                    break;
                }
                None => {
                    let root_present = certs.iter().any(|x| x.class == CertClass::Root);
                    let (id, what) = if c.is_ca && !root_present {
                        ("missing_root", "root")
                    } else {
                        ("missing_intermediate", "intermediate")
                    };
                    findings.push(
                        Finding::new(id, Severity::Error, name(c), format!("the {what} certificate `{}` that issued `{}` is not in the bundle", c.issued_by, c.issued_to))
                            .with_remediation("Get the missing certificate from the CA and export the bundle with Include Certificate Chain."),
                    );
                    break;
                }
            }
        }
    }
    chain
}

/// Step 5: certificates that do not belong — more than one root, or off the leaf's chain.
fn stray_findings(
    certs: &[CertInfo],
    leaf: Option<usize>,
    chain: &[usize],
    findings: &mut Vec<Finding>,
) {
    let roots: Vec<&CertInfo> = certs
        .iter()
        .filter(|c| c.class == CertClass::Root)
        .collect();
    if roots.len() > 1 {
        findings.push(
            Finding::new(
                "multiple_roots",
                Severity::Error,
                "bundle",
                format!("the bundle holds {} root certificates ({}); a CA-signed certificate has exactly one", roots.len(), roots.iter().map(|r| r.issued_to.as_str()).collect::<Vec<_>>().join(", ")),
            )
            .with_remediation("Remove the root that is not on the certificate's chain."),
        );
    }
    for (i, c) in certs.iter().enumerate() {
        if leaf.is_some() && !chain.contains(&i) && c.class != CertClass::Root {
            findings.push(Finding::new(
                "unrelated_certificate",
                Severity::Info,
                name(c),
                "this certificate is not on the site certificate's chain",
            ));
        }
    }
}

/// Step 6: the leaf itself — self-signed, names it must cover, key strength.
fn leaf_findings(lc: &CertInfo, opts: &BundleCheckOptions, findings: &mut Vec<Finding>) {
    if lc.class == CertClass::SelfSigned {
        findings.push(
            Finding::new("self_signed_in_use", Severity::Warning, name(lc), "the site uses a self-signed certificate, meant only until a CA-signed one is installed")
                .with_remediation("Install a CA-signed certificate that covers the site and appliance hostnames."),
        );
    }
    if let Some(fqdn) = &opts.site_fqdn
        && !covered(lc, fqdn)
    {
        findings.push(
            Finding::new(
                "site_fqdn_not_covered",
                Severity::Error,
                name(lc),
                format!("the certificate does not cover the site name `{fqdn}`"),
            )
            .with_remediation(
                "Reissue the certificate with the site FQDN among its alternative names.",
            ),
        );
    }
    for h in &opts.appliance_hostnames {
        if !covered(lc, h) {
            findings.push(
                Finding::new("hostname_not_covered", Severity::Warning, name(lc), format!("the certificate does not cover appliance hostname `{h}`"))
                    .with_remediation("Reissue with every appliance hostname (or a wildcard) among the alternative names."),
            );
        }
    }
    if lc.key_algorithm == "rsa" && lc.key_bits < opts.min_rsa_bits {
        findings.push(
            Finding::new(
                "weak_key",
                Severity::Error,
                name(lc),
                format!(
                    "RSA key of {} bits is below {}",
                    lc.key_bits, opts.min_rsa_bits
                ),
            )
            .with_remediation(format!(
                "Reissue with an RSA key of at least {} bits or an EC P-256/P-384 key.",
                opts.min_rsa_bits.max(2048)
            )),
        );
    }
}

/// Step 7: dates of every certificate on the chain (of all of them without a chain):
/// expired, not yet valid, or expiring within the horizon.
fn expiry_findings(
    certs: &[CertInfo],
    chain: &[usize],
    now: OffsetDateTime,
    expiry_horizon_days: i64,
    findings: &mut Vec<Finding>,
) {
    let horizon = Duration::days(expiry_horizon_days);
    let dated: Vec<usize> = if chain.is_empty() {
        (0..certs.len()).collect()
    } else {
        chain.to_vec()
    };
    for i in dated {
        let c = &certs[i];
        let fmt = |t: OffsetDateTime| t.date().to_string();
        if c.not_after < now {
            findings.push(
                Finding::new(
                    "expired",
                    Severity::Critical,
                    name(c),
                    format!("expired on {}", fmt(c.not_after)),
                )
                .with_remediation(
                    "Renew the certificate and import it on every appliance of the site.",
                ),
            );
        } else if c.not_before > now {
            findings.push(Finding::new(
                "not_yet_valid",
                Severity::Error,
                name(c),
                format!("not valid before {}", fmt(c.not_before)),
            ));
        } else if c.not_after - now <= horizon {
            findings.push(
                Finding::new(
                    "expiring_soon",
                    Severity::Warning,
                    name(c),
                    format!(
                        "expires on {} ({} days left)",
                        fmt(c.not_after),
                        (c.not_after - now).whole_days()
                    ),
                )
                .with_remediation(
                    "Renew before expiry and import the renewed bundle on both appliances.",
                ),
            );
        }
    }
}
