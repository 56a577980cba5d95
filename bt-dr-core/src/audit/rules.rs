//! The readiness rules. Each function looks at one thing and says what is wrong and what to do.

use time::{Duration, OffsetDateTime};

use super::live::SiteLive;
use crate::store::SetSummary;
use crate::{
    ApplianceKind, FailoverRole, Finding, RestoreCompatibility, RoutingMethod, Severity, Site,
    UpgradeTable, check_restore,
};

use super::AuditOptions;

pub(super) struct Ctx<'a> {
    pub site: &'a Site,
    pub sets: &'a [SetSummary],
    pub has_checkpoint: bool,
    pub live: Option<&'a SiteLive>,
    pub table: &'a UpgradeTable,
    pub opts: &'a AuditOptions,
    pub now: OffsetDateTime,
}

impl Ctx<'_> {
    fn latest(&self) -> Option<&SetSummary> {
        self.sets.first()
    }
    fn live_version(&self) -> crate::ProductVersion {
        self.live
            .and_then(|l| {
                l.appliances
                    .iter()
                    .find_map(|a| a.health.as_ref().map(|h| h.version.without_build()))
            })
            .unwrap_or_else(|| self.site.version.clone())
    }
}

fn f(
    id: &str,
    sev: Severity,
    subject: impl Into<String>,
    msg: impl Into<String>,
    fix: &str,
) -> Finding {
    Finding::new(id, sev, subject, msg).with_remediation(fix)
}

pub(super) fn backups(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let site = &c.site.name;
    let Some(latest) = c.latest() else {
        out.push(f(
            "no_backup",
            Severity::Critical,
            site,
            "the store holds no backup set for this site",
            "Run a backup set now and schedule it nightly.",
        ));
        return;
    };
    let age = c.now - latest.created_at;
    if age > Duration::hours(i64::from(c.opts.max_backup_age_hours)) {
        out.push(f(
            "backup_stale",
            Severity::Error,
            site,
            format!(
                "the newest backup set ({}) is {} hours old (limit {})",
                latest.id,
                age.whole_hours(),
                c.opts.max_backup_age_hours
            ),
            "Check the nightly job; run a backup set now.",
        ));
    }
    if latest.manifest.partial || latest.manifest.failed_parts().next().is_some() {
        let failed: Vec<String> = latest
            .manifest
            .failed_parts()
            .map(|p| match &p.error {
                Some(e) => format!("{} ({})", p.part.as_str(), e.message),
                None => p.part.as_str().to_string(),
            })
            .collect();
        out.push(f(
            "backup_partial",
            Severity::Error,
            site,
            format!(
                "the newest backup set ({}) is partial: its NSB was kept, but {} failed",
                latest.id,
                failed.join("; ")
            ),
            "Fix what failed (see the set's manifest) and run a backup set again; retention never counts a partial set as the newest verified one.",
        ));
    }
    let current = c.live_version();
    if !c.sets.iter().any(|s| s.manifest.nsb.version == current) {
        out.push(f(
            "no_backup_at_current_version",
            Severity::Warning,
            site,
            format!(
                "no backup was taken at the site's current version {} (newest is from {})",
                current.release(),
                latest.manifest.nsb.version.release()
            ),
            "Take a backup now; take one before every update too.",
        ));
    }
    let check = check_restore(
        &latest.manifest.nsb.version,
        &current,
        c.table,
        Some(latest.manifest.product),
        Some(c.site.product),
    );
    match check.compatibility {
        RestoreCompatibility::Refused => out.push(f(
            "backup_restore_refused",
            Severity::Critical,
            site,
            format!("the newest backup could not be restored: {}", check.reason),
            "Take a new backup on the current version.",
        )),
        RestoreCompatibility::Untested => out.push(f(
            "backup_restore_untested",
            Severity::Warning,
            site,
            format!("restoring the newest backup is untested: {}", check.reason),
            "Take a new backup on the current version.",
        )),
        RestoreCompatibility::Supported => {}
    }
    if !latest.manifest.nsb.password_protected {
        out.push(f(
            "nsb_without_password",
            Severity::Warning,
            site,
            format!(
                "the newest NSB ({}) was downloaded without a backup password: anyone holding the file can restore the site's users, settings and keys",
                latest.manifest.nsb.file
            ),
            "Set a backup password on the nightly job. Keep the password in your password vault, apart from the backup store: an NSB whose password is lost cannot be restored.",
        ));
    }
    if c.site.appliances.iter().all(|a| a.kind.is_managed()) {
        return;
    }
    match &latest.manifest.vault_key {
        None => out.push(f("vault_key_missing", Severity::Error, site, "the newest set has no Vault encryption key record; Vault credentials in the NSB cannot be decrypted without it", "Download the key (password protected) from /login > Management > Software and add it to the backup set.")),
        Some(v) if !v.password_protected => out.push(f("vault_key_unprotected", Severity::Error, site, "the Vault encryption key was saved without a password", "Download it again with a password and delete the unprotected copy.")),
        Some(v) if !v.pairs_with(site, latest.created_at.date()) => out.push(f(
            "vault_key_not_same_day",
            Severity::Warning,
            site,
            format!(
                "the Vault key in the newest set was exported on {}, the backup taken on {}: if the key changed in between, the NSB's Vault credentials will not decrypt",
                v.date,
                latest.created_at.date()
            ),
            "Download the Vault key on the day of the backup (the nightly job can pick up a fresh export).",
        )),
        _ => {}
    }
}

pub(super) fn certificates(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let site = &c.site.name;
    if c.site
        .appliances
        .iter()
        .all(|a| a.kind == ApplianceKind::Hosted)
    {
        return;
    }
    let Some(latest) = c.latest() else { return };
    let Some(cert) = &latest.manifest.certificate else {
        out.push(f("certificate_missing", Severity::Error, site, "the newest set holds no certificate bundle", "Export the site certificate with key and chain as a passphrase-protected p12 and add it to the backup set."));
        return;
    };
    // Expiry is judged below against the audit's own clock and horizon, not the check's.
    for x in cert.findings.iter().filter(|x| {
        x.severity >= Severity::Warning && !matches!(x.id.as_str(), "expired" | "expiring_soon")
    }) {
        let id = if x.severity >= Severity::Error {
            "certificate_invalid"
        } else {
            "certificate_warning"
        };
        out.push(f(
            id,
            x.severity,
            site,
            format!("certificate bundle {} ({}): {}", cert.file, x.id, x.message),
            x.remediation
                .as_deref()
                .unwrap_or("Export a complete bundle again."),
        ));
    }
    if let Some(na) = cert.leaf_not_after {
        if na < c.now {
            out.push(f(
                "certificate_expired",
                Severity::Critical,
                site,
                format!("the site certificate expired on {}", na.date()),
                "Renew the certificate and import it on every appliance.",
            ));
        } else if na - c.now <= Duration::days(c.opts.certificate_horizon_days) {
            out.push(f(
                "certificate_expiring",
                Severity::Warning,
                site,
                format!(
                    "the site certificate expires on {} ({} days)",
                    na.date(),
                    (na - c.now).whole_days()
                ),
                "Renew before expiry and import on both appliances.",
            ));
        }
    }
}

pub(super) fn pair_certificates(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let (Some(pair), Some(live)) = (&c.site.failover, c.live) else {
        return;
    };
    let a = live
        .appliance(&pair.primary)
        .and_then(|a| a.served_cert_sha256.as_ref());
    let b = live
        .appliance(&pair.backup)
        .and_then(|a| a.served_cert_sha256.as_ref());
    if let (Some(a), Some(b)) = (a, b)
        && a != b
    {
        out.push(f(
            "pair_certificates_differ",
            Severity::Error,
            &c.site.name,
            format!(
                "{} and {} serve different certificates",
                pair.primary, pair.backup
            ),
            "Export the primary's certificate (key and chain) and import it on the backup.",
        ));
    }
}

pub(super) fn appliance_records(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(latest) = c.latest() else { return };
    for a in c
        .site
        .appliances
        .iter()
        .filter(|a| a.kind.has_network_settings())
    {
        let rec = latest
            .manifest
            .appliance_records
            .iter()
            .filter(|r| r.hostname.eq_ignore_ascii_case(&a.hostname))
            .max_by_key(|r| r.system_time);
        match rec {
            None => out.push(f("appliance_record_missing", Severity::Error, &a.hostname, "no /appliance settings record in the newest set", "Record the appliance's network, routes, SNMP, TLS, syslog, SMTP and login agreement settings.")),
            Some(r) => {
                if let Ok(v) = r.appliance_version.parse::<crate::ProductVersion>()
                    && v < c.live_version() {
                        out.push(f("appliance_record_outdated", Severity::Warning, &a.hostname, format!("the /appliance record was taken at version {} but the site now runs {}", v.release(), c.live_version().release()), "Record the /appliance settings again after the update."));
                    }
            }
        }
    }
}

pub(super) fn failover_live(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(live) = c.live else { return };
    for a in &live.appliances {
        if let Some(e) = &a.error {
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("unknown error");
            // Only a failure to reach the appliance at all says it is down; a TLS, account or
            // parse failure says nothing about its state (the failover plan makes the same call).
            let kind = e.get("kind").and_then(|k| k.as_str());
            if matches!(kind, Some("network" | "timeout")) {
                out.push(f(
                    "appliance_unreachable",
                    Severity::Error,
                    &a.hostname,
                    format!("no health answer: {message}"),
                    "Check the appliance and its network path.",
                ));
            } else {
                out.push(f(
                    "appliance_state_unknown",
                    Severity::Error,
                    &a.hostname,
                    format!("the appliance answers but its state cannot be read: {message}"),
                    "Check the certificate it serves against the client's CA or pin, and the API account and its permissions.",
                ));
            }
        } else if let Some(h) = &a.health
            && !h.success
        {
            out.push(f(
                "appliance_unhealthy",
                Severity::Error,
                &a.hostname,
                format!(
                    "the appliance reports a problem: {}",
                    h.error_message.as_deref().unwrap_or("no detail")
                ),
                "Look at /appliance Status; plan a failover if the primary is affected.",
            ));
        }
    }
    let Some(pair) = &c.site.failover else { return };
    let roles: Vec<(&str, FailoverRole)> = [&pair.primary, &pair.backup]
        .iter()
        .filter_map(|h| {
            live.appliance(h)
                .and_then(|a| a.health.as_ref())
                .map(|x| (h.as_str(), x.failover_role))
        })
        .collect();
    if roles.len() == 2 {
        match (roles[0].1, roles[1].1) {
            (FailoverRole::Primary, FailoverRole::Primary) => out.push(f("split_brain", Severity::Critical, &c.site.name, "both appliances claim the primary role", "Demote the one not receiving traffic with set_failover_role(backup, force) and resync.")),
            (FailoverRole::Backup, FailoverRole::Backup) => out.push(f("both_backup", Severity::Error, &c.site.name, "both appliances are backup: nobody serves the site (normal only for seconds during a swap)", "If it persists, promote the intended primary with set_failover_role(primary).")),
            _ => {}
        }
    }
    let backup_live = roles
        .iter()
        .find(|(_, r)| *r == FailoverRole::Backup)
        .and_then(|(h, _)| live.appliance(h))
        .and_then(|a| a.health.as_ref());
    if let Some(h) = backup_live {
        let limit = c
            .opts
            .max_sync_age_hours
            .map(|h| Duration::hours(i64::from(h)))
            .unwrap_or_else(|| {
                Duration::seconds((pair.auto_failover.data_sync_interval_secs * 2).max(3600) as i64)
            });
        match (h.last_data_sync_time, h.last_data_sync_status.as_deref()) {
            (None, _) => out.push(f(
                "sync_never",
                Severity::Error,
                &h.hostname,
                "the backup reports no data sync",
                "Enable backup operations on the backup and press Sync Now.",
            )),
            (Some(t), status) => {
                if c.now - t > limit {
                    out.push(f(
                        "sync_stale",
                        Severity::Error,
                        &h.hostname,
                        format!(
                            "the last data sync was {} hours ago",
                            (c.now - t).whole_hours()
                        ),
                        "Check failover connectivity and run Sync Now.",
                    ));
                }
                if let Some(s) = status.filter(|s| !s.eq_ignore_ascii_case("success")) {
                    out.push(f(
                        "sync_failed",
                        Severity::Error,
                        &h.hostname,
                        format!("the last data sync ended with `{s}`"),
                        "Check the failover status history in /login > Management > Failover.",
                    ));
                }
            }
        }
    }
}

pub(super) fn topology(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let site = &c.site.name;
    if let Some(pair) = &c.site.failover {
        if pair.auto_failover.enabled && pair.auto_failover.connectivity_test_ips.is_empty() {
            out.push(f("auto_failover_without_test_ips", Severity::Error, site, "automatic failover is on but no network connectivity test IPs are set; an isolated backup could promote itself", "Add two or more always-reachable IPs to the backup's connectivity test list."));
        }
        if pair.routing == RoutingMethod::SharedIp {
            for h in [&pair.primary, &pair.backup] {
                if let Some(a) = c.site.appliance(h).filter(|a| !a.kind.supports_shared_ip()) {
                    out.push(f(
                        "shared_ip_unsupported",
                        Severity::Error,
                        &a.hostname,
                        format!("shared-IP failover is not supported on {}", a.kind),
                        "Use DNS swing or NAT swing for this pair.",
                    ));
                }
            }
        }
    }
    if let Some(spare) = &c.site.cold_spare
        && spare.same_switch
    {
        out.push(f("cold_spare_same_switch", Severity::Warning, &spare.hostname, "the cold spare sits on the same switch as the appliance it replaces: taking over the IP needs a switch reboot", "Plan the switch reboot in the runbook, or move the spare to another switch."));
    }
    if let (Some(atlas), Some(live)) = (&c.site.atlas, c.live) {
        let views: Vec<_> = live
            .appliances
            .iter()
            .filter_map(|a| a.appliances.as_ref())
            .flatten()
            .collect();
        for node in &atlas.traffic_nodes {
            if let Some(v) = views.iter().find(|v| {
                v.public_hostname.eq_ignore_ascii_case(&node.hostname)
                    || v.name.eq_ignore_ascii_case(&node.hostname)
            }) && !v.accepting_connections
            {
                out.push(f(
                    "traffic_node_not_accepting",
                    Severity::Warning,
                    &node.hostname,
                    "the traffic node does not accept new client connections",
                    "Check the node in /login > Management > Cluster; sync it from the primary.",
                ));
            }
        }
    }
}

pub(super) fn recordings(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    if c.site
        .appliances
        .iter()
        .all(|a| a.kind == ApplianceKind::Hosted)
    {
        return;
    }
    if !c.has_checkpoint && !c.sets.iter().any(|s| s.manifest.recordings.is_some()) {
        out.push(f(
            "recordings_never_archived",
            Severity::Warning,
            &c.site.name,
            "session recordings have never been downloaded; the NSB does not hold them",
            "Run backup sets with recordings enabled (needs perm_reporting_support).",
        ));
    }
}
