//! The Vault encryption key: the NSB carries Vault credentials only in encrypted form, so a
//! restore without the matching key loses every stored credential.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::rules::finding::{Finding, Severity};
use crate::support::error::{Error, Result};

/// What bt-dr keeps about a downloaded Vault encryption key (never the key itself in clear).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let key = dir.path().join("vault.key");
/// std::fs::write(&key, b"opaque key bytes").unwrap();
/// let d = time::macros::date!(2026-11-20);
/// let r = bt_dr_core::VaultKeyRecord::from_file(&key, "support", d, false).unwrap();
/// assert_eq!(r.findings()[0].id, "vault_key_unprotected");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VaultKeyRecord {
    /// Site the key belongs to.
    pub site: String,
    /// Day the key was exported from the appliance (given, or its file's modification day);
    /// it pairs with the backup of the same day.
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date")))]
    pub date: Date,
    /// File name of the key file.
    pub file_name: String,
    /// SHA-256 of the key file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The key was downloaded with a password (the vendor requires one).
    pub password_protected: bool,
    /// When the record was made.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub recorded_at: OffsetDateTime,
}

/// The pairing rule for Vault keys: a key restores the Vault of a backup only when it was
/// exported from the same site on the day of that backup (a key rotated later cannot decrypt
/// an older backup's Vault, and an older key cannot decrypt a newer one).
///
/// ```
/// use time::macros::date;
/// use bt_dr_core::records::vault_key_pairs_with;
/// assert!(vault_key_pairs_with("support", date!(2026-11-20), "support", date!(2026-11-20)));
/// assert!(!vault_key_pairs_with("support", date!(2026-11-19), "support", date!(2026-11-20)));
/// assert!(!vault_key_pairs_with("eu", date!(2026-11-20), "support", date!(2026-11-20)));
/// ```
pub fn vault_key_pairs_with(key_site: &str, key_date: Date, site: &str, backup_date: Date) -> bool {
    key_site == site && key_date == backup_date
}

impl VaultKeyRecord {
    /// Hashes the key file and records it. `password_protected` is what the operator set when
    /// downloading; the key file format is not published, so bt-dr cannot read it from the file.
    pub fn from_file(
        path: impl AsRef<Path>,
        site: &str,
        date: Date,
        password_protected: bool,
    ) -> Result<Self> {
        let path = path.as_ref();
        crate::model::site::validate_site_name(site, "vault_key.site")?;
        let (sha256, size) = crate::support::hash::sha256_file(path)?;
        if size == 0 {
            return Err(Error::Integrity {
                subject: path.display().to_string(),
                reason: "the Vault key file is empty".into(),
            });
        }
        Ok(Self {
            site: site.to_string(),
            date,
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256,
            size,
            password_protected,
            recorded_at: OffsetDateTime::now_utc(),
        })
    }

    /// Whether this key pairs with a backup of `site` taken on `backup_date` (see
    /// [`vault_key_pairs_with`]).
    pub fn pairs_with(&self, site: &str, backup_date: Date) -> bool {
        vault_key_pairs_with(&self.site, self.date, site, backup_date)
    }

    /// The one JSON view every binding returns from `vault_key_record`: the record's fields
    /// with its findings alongside.
    pub fn view(&self) -> VaultKeyRecordView<'_> {
        VaultKeyRecordView {
            record: self,
            findings: self.findings(),
        }
    }

    /// Findings about the key itself.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if !self.password_protected {
            out.push(
                Finding::new("vault_key_unprotected", Severity::Error, &self.site, "the Vault encryption key was saved without a password")
                    .with_remediation("Download the key again from /login > Management > Software with a password, and delete the unprotected copy."),
            );
        }
        out
    }
}

/// A Vault key record and its findings (see [`VaultKeyRecord::view`]).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VaultKeyRecordView<'a> {
    /// The record.
    #[serde(flatten)]
    pub record: &'a VaultKeyRecord,
    /// What is wrong with how the key was kept.
    pub findings: Vec<Finding>,
}
