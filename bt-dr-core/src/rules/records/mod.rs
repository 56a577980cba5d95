//! Records of what the NSB backup does not hold: `/appliance` settings and the Vault key.

mod appliance_record;
mod vault_key;

pub use appliance_record::{
    AdminRestrictions, ApplianceIdentity, ApplianceRecord, ApplianceRecordView, Interface,
    LoginAgreement, Smtp, Snmp, StaticRoute, Syslog, TlsSettings,
};
pub use vault_key::{VaultKeyRecord, VaultKeyRecordView, vault_key_pairs_with};
