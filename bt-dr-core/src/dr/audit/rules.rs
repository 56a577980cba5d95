//! The readiness rules. Each function looks at one thing and says what is wrong and what to do.

use time::{Duration, OffsetDateTime};

use std::path::Path;

use super::live::SiteLive;
use crate::dr::manifest::FileKind;
use crate::dr::store::SetSummary;
use crate::model::appliance::{ApplianceKind, FailoverRole};
use crate::model::inventory::Thresholds;
use crate::model::site::{RoutingMethod, Site};
use crate::model::version::ProductVersion;
use crate::rules::backup::{RestoreCompatibility, UpgradeTable, check_restore};
use crate::rules::finding::{Finding, Severity};
use crate::rules::records::ApplianceRecord;
use crate::support::error::ErrorKind;

use super::AuditOptions;

pub(super) struct Ctx<'a> {
    pub site: &'a Site,
    pub sets: &'a [SetSummary],
    pub has_checkpoint: bool,
    pub live: Option<&'a SiteLive>,
    pub table: &'a UpgradeTable,
    pub opts: &'a AuditOptions,
    /// The inventory's thresholds with the caller's overrides applied.
    pub limits: &'a Thresholds,
    pub now: OffsetDateTime,
}

impl Ctx<'_> {
    fn latest(&self) -> Option<&SetSummary> {
        self.sets.first()
    }
    fn live_version(&self) -> crate::model::version::ProductVersion {
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
    let max_age = c.limits.max_backup_age_hours;
    if age > Duration::hours(i64::from(max_age)) {
        out.push(f(
            "backup_stale",
            Severity::Error,
            site,
            format!(
                "the newest backup set ({}) is {} hours old (limit {})",
                latest.id,
                age.whole_hours(),
                max_age
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
    if !c.sets.iter().any(|s| s.manifest.nsb.version < current)
        && let Some((older, evidence)) = older_release_seen(c, &current)
    {
        out.push(f(
            "no_backup_before_current_version",
            Severity::Warning,
            site,
            format!(
                "the site ran {} before {} ({evidence}), but no backup set in the store is older than {}: if the update has to be undone, there is no backup of the earlier version to go back to",
                older.release(),
                current.release(),
                current.release()
            ),
            "Keep a set from before every update: leave the retention policy's keep_versions on (default 2: it keeps the newest verified set of each of the last two versions), and take a backup set right before the next update.",
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
    if !c.site.certificate_backup_needed() {
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
        } else if na - c.now <= Duration::days(i64::from(c.limits.certificate_horizon_days)) {
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
    if crate::rules::certificate::compare_leaf_digests(a.map(String::as_str), b.map(String::as_str))
        == crate::rules::certificate::LeafComparison::Different
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
    tls_settings(c, latest, out);
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
                if let Ok(v) = r.appliance_version.parse::<crate::model::version::ProductVersion>()
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
            let message = &e.message;
            // Only a failure to reach the appliance at all says it is down; a TLS, account or
            // parse failure says nothing about its state (the failover plan makes the same call).
            if matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) {
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
                let d = c
                    .limits
                    .sync_stale_after(pair.auto_failover.data_sync_interval_secs);
                Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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
        let ips = pair.auto_failover.connectivity_test_ips.len();
        let want = c.limits.min_connectivity_test_ips as usize;
        if pair.auto_failover.enabled && ips == 0 {
            out.push(f("auto_failover_without_test_ips", Severity::Error, site, "automatic failover is on but no network connectivity test IPs are set; an isolated backup could promote itself", &format!("Add {want} or more always-reachable IPs, in different parts of the network, to the backup's connectivity test list.")));
        } else if pair.auto_failover.enabled && ips < want {
            out.push(f(
                "auto_failover_few_test_ips",
                Severity::Warning,
                site,
                format!(
                    "automatic failover tests only {ips} connectivity IP{} (bt-dr's threshold is {want}): one address the backup still reaches while cut off from the primary lets it promote itself",
                    if ips == 1 { "" } else { "s" }
                ),
                "Add always-reachable IPs in different parts of the network (not the backup's own gateway) until the threshold is met, or lower thresholds.min_connectivity_test_ips in the inventory.",
            ));
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
    if let (Some(_), Some(live)) = (&c.site.atlas, c.live) {
        let views: Vec<crate::api::ApplianceInfo> = live
            .appliances
            .iter()
            .filter_map(|a| a.appliances.as_ref())
            .flatten()
            .cloned()
            .collect();
        // No appliance answered get_appliances: membership is unknown, not wrong.
        if !views.is_empty() {
            out.extend(crate::dr::atlas::membership_findings(c.site, &views));
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
    use crate::api::ReportKind;
    use crate::dr::manifest::ReportingStatus;
    if c.has_checkpoint && c.sets.is_empty() {
        // Data was taken once and the sets are gone: the archive may hold it; nothing to judge.
        return;
    }
    let mut archived = std::collections::BTreeSet::new();
    for r in c.sets.iter().filter_map(|s| s.manifest.recordings.as_ref()) {
        if r.kinds.is_empty() {
            // A set from before every kind was taken: it took screen recordings.
            archived.insert(ReportKind::SessionRecording);
        }
        archived.extend(
            r.kinds
                .iter()
                .filter(|k| k.status == ReportingStatus::Ok)
                .map(|k| k.kind),
        );
    }
    let never: Vec<&str> = ReportKind::for_product(c.site.product)
        .filter(|k| !archived.contains(k))
        .map(ReportKind::as_str)
        .collect();
    if !never.is_empty() {
        out.push(f(
            "recordings_never_archived",
            Severity::Warning,
            &c.site.name,
            format!(
                "never archived by any backup set: {}; the NSB does not hold them",
                never.join(", ")
            ),
            "Run backup sets with reporting enabled for every kind; the API account needs \
             perm_reporting_support (and perm_reporting_presentation where the appliance lists it).",
        ));
    }
}

/// Why the site is known to have run a release older than `current`, if it is: the inventory
/// still lists one, an appliance reports one, or an `/appliance` record kept in a set was taken
/// at one. Without such a sign the site may never have been updated, and a store holding only
/// current-version sets is simply all there is.
fn older_release_seen(c: &Ctx<'_>, current: &ProductVersion) -> Option<(ProductVersion, String)> {
    if c.site.version < *current {
        return Some((
            c.site.version.without_build(),
            format!("the inventory lists {}", c.site.version.release()),
        ));
    }
    if let Some(live) = c.live {
        for a in &live.appliances {
            if let Some(h) = &a.health
                && h.version < *current
            {
                return Some((
                    h.version.without_build(),
                    format!("{} reports {}", a.hostname, h.version.release()),
                ));
            }
        }
    }
    for s in c.sets {
        for r in &s.manifest.appliance_records {
            if let Ok(v) = r.appliance_version.parse::<ProductVersion>()
                && v < *current
            {
                return Some((
                    v.without_build(),
                    format!(
                        "the /appliance record of {} in set {} was taken at {}",
                        r.hostname,
                        s.id,
                        v.release()
                    ),
                ));
            }
        }
    }
    None
}

/// The `/appliance` record files of a set are read at most this large; a record is a few KiB.
const MAX_RECORD_BYTES: u64 = 1 << 20;

/// What the newest set holds of an appliance's SSL/TLS settings.
enum TlsRecord {
    /// A record of the appliance with protocols or ciphers.
    Recorded,
    /// No record of the appliance.
    NoRecord,
    /// A record, but without SSL/TLS settings.
    NoTlsSection,
    /// A record file could not be read (why).
    Unreadable(String),
}

/// Reads the `/appliance` records listed in `set`'s manifest (paths inside the set only, no
/// symbolic link followed) and says what they hold of `host`'s SSL/TLS settings.
fn recorded_tls(set: &SetSummary, host: &str) -> TlsRecord {
    let mut seen_record = false;
    let mut unreadable = None;
    for file in set.manifest.files_of(FileKind::ApplianceRecord) {
        let rel = file.path.as_str();
        let inside = !rel.is_empty()
            && !rel.starts_with(['/', '\\'])
            && !Path::new(rel).is_absolute()
            && rel
                .split(['/', '\\'])
                .all(|part| !part.is_empty() && part != "..");
        if !inside {
            unreadable.get_or_insert_with(|| format!("{rel}: the path leaves the set"));
            continue;
        }
        let mut p = set.path.clone();
        let mut linked = false;
        for part in rel.split(['/', '\\']) {
            p.push(part);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                linked = true;
                break;
            }
        }
        match std::fs::symlink_metadata(&p) {
            _ if linked => {
                unreadable.get_or_insert_with(|| format!("{rel}: a symbolic link is not followed"));
                continue;
            }
            Ok(m) if m.is_file() && m.len() <= MAX_RECORD_BYTES => {}
            Ok(_) => {
                unreadable.get_or_insert_with(|| format!("{rel}: not a record file"));
                continue;
            }
            Err(e) => {
                unreadable.get_or_insert_with(|| format!("{rel}: {e}"));
                continue;
            }
        }
        match ApplianceRecord::load(&p) {
            Ok(r) if r.identity.hostname.eq_ignore_ascii_case(host) => {
                seen_record = true;
                if r.tls
                    .as_ref()
                    .is_some_and(|t| !t.protocols.is_empty() || !t.ciphers.is_empty())
                {
                    return TlsRecord::Recorded;
                }
            }
            Ok(_) => {}
            Err(e) => {
                unreadable.get_or_insert_with(|| format!("{rel}: {e}"));
            }
        }
    }
    match (seen_record, unreadable) {
        (true, _) => TlsRecord::NoTlsSection,
        (false, Some(why)) => TlsRecord::Unreadable(why),
        (false, None) => TlsRecord::NoRecord,
    }
}

/// A site marked `custom_tls` needs its SSL/TLS settings in the newest set, Cloud sites
/// included (whose other `/appliance` settings BeyondTrust manages). A missing record of an
/// appliance that has network settings is already `appliance_record_missing`.
fn tls_settings(c: &Ctx<'_>, latest: &SetSummary, out: &mut Vec<Finding>) {
    if !c.site.custom_tls {
        return;
    }
    for a in c
        .site
        .appliances
        .iter()
        .filter(|a| a.kind != ApplianceKind::Hosted)
    {
        let why = match recorded_tls(latest, &a.hostname) {
            TlsRecord::Recorded => continue,
            TlsRecord::NoRecord if a.kind.has_network_settings() => continue,
            TlsRecord::NoRecord => "the newest set holds no /appliance record of it".to_string(),
            TlsRecord::NoTlsSection => {
                "its /appliance record in the newest set has no SSL/TLS settings".to_string()
            }
            TlsRecord::Unreadable(e) => format!("its /appliance record cannot be read ({e})"),
        };
        out.push(f(
            "tls_settings_missing",
            Severity::Error,
            &a.hostname,
            format!("the site's SSL/TLS configuration is customised, but {why}"),
            "Record Security > SSL/TLS Configuration (protocols and ciphers) in the appliance's /appliance record and add it to the backup set.",
        ));
    }
}
