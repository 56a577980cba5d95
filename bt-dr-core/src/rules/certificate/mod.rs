//! Certificate bundles exported from `/appliance`: open, classify, check, compare.

mod bundle;
mod check;
mod key;
mod names;
mod pair;
mod pfx;
mod verified;

pub use bundle::{CertClass, CertInfo, OpenedBundle, open_bundle, parse_certificate};
pub use check::{BundleCheckOptions, BundleReport, BundleReportView, check_certificate_bundle};
pub use key::key_matches_certificate;
pub use names::{is_fqdn, name_matches};
pub use pair::{LeafComparison, PairReport, check_certificate_pair, compare_leaf_digests};
