//! The readiness audit: what would go wrong if a site had to be recovered tonight.
//!
//! Rules (id → what fires it):
//!
//! | id | severity | fires when |
//! |---|---|---|
//! | `no_backup` | critical | the store has no set for the site |
//! | `backup_stale` | error | the newest set is older than `max_backup_age_hours` (inventory thresholds, 26 h) |
//! | `backup_partial` | error | a part of the newest set (recordings, certificate, records, Vault key) failed; its NSB was kept |
//! | `no_backup_at_current_version` | warning | no set was taken at the site's current version |
//! | `no_backup_before_current_version` | warning | the site is known to have run an older release (the inventory lists one, an appliance reports one, or an `/appliance` record in a set was taken at one), yet no set's NSB is older than the current version: nothing to go back to if the update must be undone. Without such a sign the site may never have been updated, and the rule stays quiet |
//! | `backup_restore_refused` / `_untested` | critical / warning | the newest NSB would be refused / untested on the current version |
//! | `vault_key_missing` / `vault_key_unprotected` | error | no Vault key record, or it was saved without password |
//! | `nsb_without_password` | warning | the newest NSB was downloaded without a backup password |
//! | `vault_key_not_same_day` | warning | the Vault key kept with the newest set was exported on another day than the backup |
//! | `certificate_missing` / `_invalid` / `_warning` / `_expired` / `_expiring` | error / ≥error / warning / critical / warning | the bundle in the newest set (`_warning`: e.g. a self-signed certificate in use, an appliance hostname the certificate does not cover). Not asked of a hosted site, nor of a Cloud site unless it is marked `custom_certificate` (BeyondTrust provides its default certificate) |
//! | `tls_settings_missing` | error | the site is marked `custom_tls` but the newest set holds no `/appliance` record with SSL/TLS settings for an appliance (Cloud included) |
//! | `pair_certificates_differ` | error | the two appliances of a pair serve different certificates (live) |
//! | `appliance_record_missing` / `_outdated` | error / warning | no `/appliance` record for an appliance, or taken before the current version |
//! | `appliance_unreachable` / `appliance_state_unknown` / `appliance_unhealthy` | error | live health failed at network level / failed otherwise (TLS, pin, account, parse) / reports a problem |
//! | `split_brain` / `both_backup` | critical / error | both appliances primary / both backup (live) |
//! | `sync_never` / `sync_stale` / `sync_failed` | error | the backup's last data sync (live); stale after `sync_stale_factor` (2) sync intervals, at least `sync_stale_min_hours` (1) |
//! | `auto_failover_without_test_ips` / `_few_test_ips` | error / warning | automatic failover with no connectivity test IPs / fewer than `min_connectivity_test_ips` (2) |
//! | `shared_ip_unsupported` | error | shared-IP routing on AWS or a managed appliance |
//! | `cold_spare_same_switch` | warning | the spare shares the switch (needs a reboot after IP takeover) |
//! | `traffic_node_not_accepting` | warning | an Atlas traffic node refuses new connections (live) |
//! | `traffic_node_not_in_cluster` / `traffic_node_wrong_role` / `cluster_node_not_in_inventory` | error / warning / warning | the cluster's `get_appliances` (live) leaves out a traffic node the inventory names / lists it in another role / lists one the inventory does not name (the rule [`crate::dr::atlas::check_atlas_cluster`] applies too) |
//! | `recordings_never_archived` | warning | no recordings were ever downloaded for the site |

mod live;
mod rules;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use live::{ApplianceLive, DEFAULT_SWEEP_CONCURRENCY, SiteLive, collect_live, health_sweep};

use crate::dr::store::BackupStore;
use crate::model::inventory::Inventory;
use crate::model::inventory::Thresholds;
use crate::rules::backup::UpgradeTable;
use crate::rules::finding::{Finding, Severity};
use crate::support::error::Result;

/// Per-call overrides of the audit's limits. A value left `None` comes from the inventory's
/// [`Thresholds`] (whose defaults are bt-dr's documented choices),
/// so a fleet's limits live in its inventory and a caller overrides only what it must.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditOptions {
    /// Newest backup older than this many hours is stale (None: the inventory's
    /// `thresholds.max_backup_age_hours`).
    #[serde(default)]
    pub max_backup_age_hours: Option<u32>,
    /// A data sync older than this many hours is stale (None: the inventory's
    /// `sync_stale_factor` times the pair's sync interval, at least `sync_stale_min_hours`).
    #[serde(default)]
    pub max_sync_age_hours: Option<u32>,
    /// Warn when the certificate expires within this many days (None: the inventory's
    /// `thresholds.certificate_horizon_days`).
    #[serde(default)]
    pub certificate_horizon_days: Option<i64>,
    /// Judge at this instant (default now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub now: Option<OffsetDateTime>,
}

impl AuditOptions {
    /// The fields [`AuditOptions::from_json`] accepts (a test keeps it equal to the struct's).
    const FIELDS: [&'static str; 4] = [
        "max_backup_age_hours",
        "max_sync_age_hours",
        "certificate_horizon_days",
        "now",
    ];

    /// The options from a binding's JSON: `null` is the defaults (every limit from the
    /// inventory); `now` is RFC 3339. An unknown field or a value of the wrong type is
    /// [`Error::InvalidInput`](crate::support::error::Error::InvalidInput) on `audit options`,
    /// whose message never quotes a value. (Deserializing [`AuditOptions`] directly stays
    /// lenient about unknown fields, as it always was.)
    ///
    /// ```
    /// use bt_dr_core::AuditOptions;
    /// let o = AuditOptions::from_json(serde_json::json!({"max_backup_age_hours": 48}))?;
    /// assert_eq!(o.max_backup_age_hours, Some(48));
    /// assert_eq!(AuditOptions::from_json(serde_json::Value::Null)?, AuditOptions::default());
    /// assert!(AuditOptions::from_json(serde_json::json!({"max_backup_age": 48})).is_err());
    /// # Ok::<(), bt_dr_core::Error>(())
    /// ```
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        // The struct itself accepts unknown fields (bindings have always passed dicts through
        // it), so the strict check is made here, on the keys, before anything is parsed.
        if let Some(map) = value.as_object()
            && let Some(unknown) = map.keys().find(|k| !Self::FIELDS.contains(&k.as_str()))
        {
            return Err(crate::support::error::Error::invalid_input(
                "audit options",
                format!("unknown field `{unknown}`"),
            ));
        }
        crate::support::document::options_from_json(value, "audit options")
    }

    /// The limits the audit applies: `base` (normally the inventory's) with this call's
    /// overrides on top. `max_sync_age_hours` has no counterpart in [`Thresholds`] and is read
    /// from the options directly.
    pub fn effective(&self, base: &Thresholds) -> Thresholds {
        let mut t = base.clone();
        if let Some(h) = self.max_backup_age_hours {
            t.max_backup_age_hours = h;
        }
        if let Some(d) = self.certificate_horizon_days {
            t.certificate_horizon_days = u32::try_from(d.max(0)).unwrap_or(u32::MAX);
        }
        t
    }
}

/// A finding with the site it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditFinding {
    /// Site name.
    pub site: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditSummary {
    /// Critical findings.
    pub critical: usize,
    /// Errors.
    pub error: usize,
    /// Warnings.
    pub warning: usize,
    /// Infos.
    pub info: usize,
}

/// Schema id of [`AuditReport`] JSON.
pub const AUDIT_SCHEMA: &str = "bt-dr.audit/1";

/// The audit result. Its JSON form (`schema` = `bt-dr.audit/1`) is stable:
/// `{schema, generated_at, sites: [..], summary: {critical,error,warning,info},
/// findings: [{site, id, severity, subject, message, remediation}]}`, findings most severe first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditReport {
    /// Always [`AUDIT_SCHEMA`].
    pub schema: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub generated_at: OffsetDateTime,
    /// Sites audited.
    pub sites: Vec<String>,
    /// Counts.
    pub summary: AuditSummary,
    /// Findings, most severe first.
    pub findings: Vec<AuditFinding>,
}

impl AuditReport {
    /// The most severe finding.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity).max()
    }
    /// The one JSON view every binding returns: the report with `worst` alongside. Reading
    /// the view back as an [`AuditReport`] (for Markdown) ignores `worst`.
    pub fn view(&self) -> AuditReportView<'_> {
        AuditReportView {
            report: self,
            worst: self.worst(),
        }
    }
    /// Findings with this id.
    pub fn with_id<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a AuditFinding> + 'a {
        self.findings.iter().filter(move |f| f.finding.id == id)
    }
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
    /// A Markdown report grouped by site.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "# bt-dr readiness audit\n\nGenerated {} — {} critical, {} error, {} warning, {} info.\n",
            self.generated_at.date(),
            self.summary.critical,
            self.summary.error,
            self.summary.warning,
            self.summary.info
        );
        for site in &self.sites {
            s += &format!("\n## {site}\n\n");
            let fs: Vec<_> = self.findings.iter().filter(|f| &f.site == site).collect();
            if fs.is_empty() {
                s += "Ready: no findings.\n";
                continue;
            }
            s += "| severity | rule | subject | finding | what to do |\n|---|---|---|---|---|\n";
            for f in fs {
                let esc = |t: &str| t.replace('|', "\\|").replace('\n', " ");
                s += &format!(
                    "| {} | `{}` | {} | {} | {} |\n",
                    f.finding.severity,
                    f.finding.id,
                    esc(&f.finding.subject),
                    esc(&f.finding.message),
                    esc(f.finding.remediation.as_deref().unwrap_or(""))
                );
            }
        }
        s
    }
}

/// What the audit looks at.
#[derive(Debug, Clone, Copy)]
pub struct AuditInput<'a> {
    /// The fleet.
    pub inventory: &'a Inventory,
    /// The backup store (backup, certificate, record and key rules are skipped without it).
    pub store: Option<&'a BackupStore>,
    /// Live state per site (live rules are skipped for sites without it).
    pub live: &'a [SiteLive],
    /// Supported-upgrade table for restore checks.
    pub upgrade_table: &'a UpgradeTable,
    /// Overrides of the inventory's thresholds, and the clock.
    pub options: &'a AuditOptions,
}

/// An audit report and its worst severity (see [`AuditReport::view`]).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditReportView<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: &'a AuditReport,
    /// The worst severity found (None: no finding).
    pub worst: Option<Severity>,
}

/// Runs every rule over every site.
pub fn audit(input: AuditInput<'_>) -> Result<AuditReport> {
    let now = input.options.now.unwrap_or_else(OffsetDateTime::now_utc);
    let limits = input.options.effective(&input.inventory.thresholds);
    let mut findings = Vec::new();
    for site in &input.inventory.sites {
        let sets = match input.store {
            Some(st) => st.list_sets(&site.name)?,
            None => Vec::new(),
        };
        let has_checkpoint = match input.store {
            Some(st) => st.checkpoint(&site.name)?.recordings_until.is_some(),
            None => false,
        };
        let ctx = rules::Ctx {
            site,
            sets: &sets,
            has_checkpoint,
            live: input.live.iter().find(|l| l.site == site.name),
            table: input.upgrade_table,
            opts: input.options,
            limits: &limits,
            now,
        };
        let mut out = Vec::new();
        if input.store.is_some() {
            rules::backups(&ctx, &mut out);
            rules::certificates(&ctx, &mut out);
            rules::appliance_records(&ctx, &mut out);
            rules::recordings(&ctx, &mut out);
        }
        rules::pair_certificates(&ctx, &mut out);
        rules::failover_live(&ctx, &mut out);
        rules::topology(&ctx, &mut out);
        findings.extend(out.into_iter().map(|finding| AuditFinding {
            site: site.name.clone(),
            finding,
        }));
    }
    findings.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.site.cmp(&b.site))
    });
    let mut summary = AuditSummary::default();
    for f in &findings {
        match f.finding.severity {
            Severity::Critical => summary.critical += 1,
            Severity::Error => summary.error += 1,
            Severity::Warning => summary.warning += 1,
            Severity::Info => summary.info += 1,
        }
    }
    Ok(AuditReport {
        schema: AUDIT_SCHEMA.into(),
        generated_at: now,
        sites: input
            .inventory
            .sites
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        summary,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::error::ErrorKind;

    #[test]
    fn from_json_knows_every_field_and_never_echoes_a_value() {
        // FIELDS must follow the struct: every serialized key is accepted, nothing else.
        let v = serde_json::to_value(AuditOptions::default()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut fields = AuditOptions::FIELDS.to_vec();
        keys.sort();
        fields.sort();
        assert_eq!(keys, fields);

        let o = AuditOptions::from_json(serde_json::json!({
            "max_sync_age_hours": 3, "now": "2026-01-02T03:04:05Z"
        }))
        .unwrap();
        assert_eq!(o.max_sync_age_hours, Some(3));
        assert!(o.now.is_some());

        let e = AuditOptions::from_json(serde_json::json!({"nwo": "s3cr3t-value"})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("nwo") && !e.to_string().contains("s3cr3t"));

        let e = AuditOptions::from_json(serde_json::json!({"max_backup_age_hours": "s3cr3t"}))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(AuditOptions::from_json(serde_json::json!([1])).is_err());
    }
}
