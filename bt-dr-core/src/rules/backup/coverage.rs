//! What an NSB site backup holds, and — more important at 3 a.m. — what it does not.

use serde::Serialize;

use crate::api::ReportKind;
use crate::model::product::Product;

/// One piece of site data and whether the NSB carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoverageItem {
    /// Stable identifier (snake case).
    pub id: &'static str,
    /// Human label.
    pub label: &'static str,
    /// Extra condition, e.g. the file-store limits.
    pub note: Option<&'static str>,
}

/// Something the NSB leaves out, with how to keep it instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ExcludedItem {
    /// Stable identifier (snake case).
    pub id: &'static str,
    /// Human label.
    pub label: &'static str,
    /// How to save it separately.
    pub save_instead: &'static str,
    /// The bt-dr operation that saves or records it, when there is one.
    pub bt_dr_operation: Option<&'static str>,
    /// The Reporting API kinds that hold it (a backup set archives them).
    pub report_kinds: &'static [ReportKind],
}

/// The contents of an NSB backup for a product and history choice.
///
/// ```
/// use bt_dr_core::{nsb_coverage, Product};
/// let c = nsb_coverage(Product::Pra, false);
/// assert!(c.excluded.iter().any(|e| e.id == "vault_encryption_key"));
/// assert!(!c.included.iter().any(|i| i.id == "logged_session_data"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NsbCoverage {
    /// Product the coverage is for.
    pub product: Product,
    /// Whether "include logged history" was ticked.
    pub include_logged_history: bool,
    /// What the NSB holds.
    pub included: Vec<CoverageItem>,
    /// What it does not hold, with where to save it.
    pub excluded: Vec<ExcludedItem>,
}

const fn item(id: &'static str, label: &'static str) -> CoverageItem {
    CoverageItem {
        id,
        label,
        note: None,
    }
}

/// Lists what an NSB backup of `product` includes and excludes.
pub fn nsb_coverage(product: Product, include_logged_history: bool) -> NsbCoverage {
    let mut included = vec![
        item("local_user_accounts", "Local user accounts"),
        item("security_providers", "Security provider configuration"),
        item("group_policies", "Group policy configuration"),
        item("jumpoints", "Jumpoint configuration"),
        item("jump_clients", "Jump Client configuration"),
        item("teams", "Team configuration"),
        item("languages", "Language configuration"),
        item("security", "Security configuration"),
        item(
            "inter_appliance_psk",
            "Inter-appliance communication pre-shared key",
        ),
        item("failover_configuration", "Failover configuration"),
        item("outbound_events", "Outbound event configuration"),
        item("kerberos_keytab", "Kerberos keytab"),
        item(
            "vault_credentials_encrypted",
            "Vault credentials (encrypted; useless without the Vault encryption key)",
        ),
    ];
    if product == Product::Rs {
        included.extend([
            item("canned_messages", "Canned messages configuration"),
            item("client_branding", "Client branding and messaging"),
            item("exit_surveys", "Exit survey configuration"),
            item("public_sites", "Public site configuration"),
            CoverageItem {
                id: "file_store_partial",
                label: "File store",
                note: Some("only the first 50 files, each up to 200 KB"),
            },
            item("presentations", "Created and scheduled presentations"),
        ]);
    }
    if include_logged_history {
        included.push(item("logged_session_data", "Logged session data"));
        if product == Product::Rs {
            included.push(item(
                "logged_presentations",
                "Logged presentation information",
            ));
            included.push(item("logged_license_usage", "Logged license usage"));
        }
        included.push(item(
            "logged_team_information",
            "Logged support team information",
        ));
    }

    let mut excluded = vec![
        ExcludedItem {
            id: "session_recordings",
            label: "Session recordings",
            save_instead: "Download them through the Reporting API after each session window",
            bt_dr_operation: Some("run_backup_set"),
            report_kinds: &[ReportKind::SessionRecording],
        },
        ExcludedItem {
            id: "command_shell_recordings",
            label: "Command shell recordings",
            save_instead: "Download them through the Reporting API (CommandShellRecording)",
            bt_dr_operation: Some("run_backup_set"),
            report_kinds: &[ReportKind::CommandShellRecording],
        },
    ];
    if product == Product::Rs {
        excluded.extend([
            ExcludedItem {
                id: "presentation_recordings",
                label: "Presentation recordings",
                save_instead: "Download them through the Reporting API (PresentationSessionRecording)",
                bt_dr_operation: Some("run_backup_set"),
                report_kinds: &[ReportKind::PresentationRecording],
            },
            ExcludedItem {
                id: "show_my_screen_recordings",
                label: "Show My Screen recordings",
                save_instead: "Download them through the Reporting API (ShowMyScreenRecording)",
                bt_dr_operation: Some("run_backup_set"),
                report_kinds: &[ReportKind::ShowMyScreenRecording],
            },
            ExcludedItem {
                id: "file_store_large_files",
                label: "File store files larger than 200 KB",
                save_instead: "Copy them out of /login > Public Portals > File Store and keep them with the backup set",
                bt_dr_operation: None,
                report_kinds: &[],
            },
            ExcludedItem {
                id: "file_store_beyond_50",
                label: "File store files beyond the first 50",
                save_instead: "Copy them out of the file store and keep them with the backup set",
                bt_dr_operation: None,
                report_kinds: &[],
            },
        ]);
    }
    excluded.extend([
        ExcludedItem {
            id: "appliance_settings",
            label: "Everything under /appliance (network, routes, SNMP, TLS, syslog, SMTP, login agreement)",
            save_instead: "Record each appliance's /appliance settings, named after its version, serial, base version and system time",
            bt_dr_operation: Some("appliance_record"),
            report_kinds: &[],
        },
        ExcludedItem {
            id: "vault_encryption_key",
            label: "Vault encryption key",
            save_instead: "Download it, password protected, from /login > Management > Software and keep it with the same day's backup",
            bt_dr_operation: Some("vault_key_record"),
            report_kinds: &[],
        },
        ExcludedItem {
            id: "certificates",
            label: "SSL certificates with private key and chain",
            save_instead: "Export a passphrase-protected p12 (certificate, key and chain) from /appliance > Security > Certificates",
            bt_dr_operation: Some("check_certificate_bundle"),
            report_kinds: &[],
        },
    ]);
    if !include_logged_history {
        excluded.push(ExcludedItem {
            id: "logged_history",
            label: "Logged session history",
            save_instead: "Take the backup with logged history included, or keep session reports and exit surveys from the Reporting API (backup sets archive them)",
            bt_dr_operation: Some("run_backup_set"),
            report_kinds: &[
                ReportKind::SessionReport,
                ReportKind::CustomerExitSurvey,
                ReportKind::RepExitSurvey,
            ],
        });
    }
    NsbCoverage {
        product,
        include_logged_history,
        included,
        excluded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(c: &NsbCoverage) -> (Vec<&'static str>, Vec<&'static str>) {
        (
            c.included.iter().map(|i| i.id).collect(),
            c.excluded.iter().map(|i| i.id).collect(),
        )
    }

    #[test]
    fn never_includes_recordings_appliance_key_or_certificates() {
        for p in [Product::Rs, Product::Pra] {
            for h in [false, true] {
                let (inc, exc) = ids(&nsb_coverage(p, h));
                for must in [
                    "session_recordings",
                    "command_shell_recordings",
                    "appliance_settings",
                    "vault_encryption_key",
                    "certificates",
                ] {
                    assert!(exc.contains(&must), "{p} {h} {must}");
                    assert!(!inc.contains(&must));
                }
                assert!(
                    inc.contains(&"kerberos_keytab") && inc.contains(&"failover_configuration")
                );
            }
        }
    }

    #[test]
    fn rs_has_its_extra_items_and_file_store_limits() {
        let (inc, exc) = ids(&nsb_coverage(Product::Rs, false));
        for x in [
            "canned_messages",
            "client_branding",
            "exit_surveys",
            "public_sites",
            "file_store_partial",
            "presentations",
        ] {
            assert!(inc.contains(&x), "{x}");
        }
        assert!(
            exc.contains(&"file_store_large_files")
                && exc.contains(&"file_store_beyond_50")
                && exc.contains(&"presentation_recordings")
        );
        let (inc, exc) = ids(&nsb_coverage(Product::Pra, false));
        assert!(!inc.contains(&"canned_messages") && !exc.contains(&"file_store_large_files"));
    }

    #[test]
    fn every_named_operation_exists() {
        for p in [Product::Rs, Product::Pra] {
            for h in [false, true] {
                for e in nsb_coverage(p, h).excluded {
                    if let Some(op) = e.bt_dr_operation {
                        assert!(
                            crate::support::operations::OPERATIONS
                                .iter()
                                .any(|o| o.name == op),
                            "{} names `{op}`, which is not an operation",
                            e.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn logged_history_moves_items() {
        let (inc, exc) = ids(&nsb_coverage(Product::Rs, true));
        assert!(inc.contains(&"logged_session_data") && inc.contains(&"logged_license_usage"));
        assert!(!exc.contains(&"logged_history"));
        let (inc, exc) = ids(&nsb_coverage(Product::Pra, true));
        assert!(inc.contains(&"logged_session_data") && !inc.contains(&"logged_license_usage"));
        let (_, exc_no) = ids(&nsb_coverage(Product::Pra, false));
        assert!(exc_no.contains(&"logged_history") && !exc.contains(&"logged_history"));
    }
}
