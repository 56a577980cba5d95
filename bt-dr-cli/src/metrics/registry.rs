//! A snapshot as Prometheus families, encoded by prometheus-client.
//!
//! Help texts carry no final period: the encoder adds one.
//!
//! Every value is a gauge, so the text is also valid for the Prometheus 0.0.4 parser that
//! node_exporter's textfile collector and `promtool check metrics` use (OpenMetrics counters
//! and info families are not). The server's own counters ([`ServerCounters`]) are added only
//! to what `serve` answers, which is OpenMetrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use time::OffsetDateTime;

use super::collect::Snapshot;

type G = Gauge<f64, std::sync::atomic::AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SiteL {
    site: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApplianceL {
    site: String,
    appliance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleL {
    site: String,
    appliance: String,
    role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoL {
    site: String,
    appliance: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorKindL {
    site: String,
    appliance: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BundleL {
    site: String,
    bundle: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingL {
    site: String,
    severity: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityL {
    site: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageL {
    site: String,
    stage: String,
}

/// Counters a long-running server keeps across collections.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerCounters {
    /// Collections made.
    pub refreshes: u64,
    /// Collections that had at least one error.
    pub refresh_errors: u64,
    /// Age of the snapshot served, in seconds.
    pub cache_age_seconds: f64,
}

fn ts(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

fn b(v: bool) -> f64 {
    if v { 1.0 } else { 0.0 }
}

/// The OpenMetrics text of `snap` — only `site`'s series when given — with the server's
/// counters when given.
pub fn render(snap: &Snapshot, site: Option<&str>, server: Option<ServerCounters>) -> String {
    let mut reg = Registry::with_prefix("bt_dr");

    macro_rules! family {
        ($name:expr, $help:expr, $l:ty) => {{
            let f = Family::<$l, G>::default();
            reg.register($name, $help, f.clone());
            f
        }};
        ($name:expr, $help:expr, $l:ty, $unit:expr) => {{
            let f = Family::<$l, G>::default();
            reg.register_with_unit($name, $help, $unit, f.clone());
            f
        }};
    }

    let up = family!(
        "appliance_up",
        "1 when the appliance answered check_health in the last collection",
        ApplianceL
    );
    let healthy = family!(
        "appliance_healthy",
        "1 when the appliance answered and reports itself healthy",
        ApplianceL
    );
    let role = family!(
        "appliance_failover_role",
        "The appliance's failover role: 1 for the role it reports, 0 for the others (none, primary, backup)",
        RoleL
    );
    let info = family!(
        "appliance_info",
        "Always 1: the version the appliance reports",
        InfoL
    );
    let err = family!(
        "appliance_health_error",
        "1 when check_health failed, labelled with the bt-dr error kind (network, timeout, tls, auth, ...)",
        ErrorKindL
    );
    let sync_ts = family!(
        "appliance_data_sync_last_timestamp",
        "When the appliance's last primary/backup data sync happened (UNIX time)",
        ApplianceL,
        Unit::Seconds
    );
    let sync_age = family!(
        "appliance_data_sync_age",
        "Seconds from the appliance's last data sync to the collection",
        ApplianceL,
        Unit::Seconds
    );
    let sync_ok = family!(
        "appliance_data_sync_success",
        "1 when the appliance's last data sync status is success, 0 for any other status",
        ApplianceL
    );
    let cert = family!(
        "appliance_certificate_not_after_timestamp",
        "notAfter of the leaf certificate the appliance served (UNIX time)",
        ApplianceL,
        Unit::Seconds
    );
    let split = family!(
        "site_split_brain",
        "1 when the audit's split_brain rule fires: both appliances of the pair report the primary role",
        SiteL
    );
    let sets = family!(
        "backup_sets",
        "Readable backup sets of the site in the store",
        SiteL
    );
    let last = family!(
        "backup_last_timestamp",
        "Creation time of the site's newest backup set (UNIX time)",
        SiteL,
        Unit::Seconds
    );
    let age = family!(
        "backup_age",
        "Seconds from the newest backup set's creation to the collection",
        SiteL,
        Unit::Seconds
    );
    let verified = family!(
        "backup_verified",
        "1 when every file of the newest backup set hashes to its manifest",
        SiteL
    );
    let partial = family!(
        "backup_partial",
        "1 when a part of the newest backup set failed (its NSB was kept)",
        SiteL
    );
    let size = family!(
        "backup_size",
        "Bytes of every file of the newest backup set",
        SiteL,
        Unit::Bytes
    );
    let bundle = family!(
        "backup_certificate_not_after_timestamp",
        "notAfter of the leaf of the certificate bundle kept with the newest backup set (UNIX time)",
        BundleL,
        Unit::Seconds
    );
    let findings = family!(
        "audit_findings",
        "Findings of the readiness audit by severity and rule id",
        FindingL
    );
    let by_severity = family!(
        "audit_findings_by_severity",
        "Findings of the readiness audit per severity (every severity present, 0 when none)",
        SeverityL
    );
    let errors = family!(
        "collection_errors",
        "Errors of the last collection by stage (client, appliance, store, verify, audit)",
        StageL
    );

    let selected = snap
        .sites
        .iter()
        .filter(|s| site.is_none_or(|n| s.site == n));
    for s in selected {
        let sl = SiteL {
            site: s.site.clone(),
        };
        for a in &s.appliances {
            let al = ApplianceL {
                site: s.site.clone(),
                appliance: a.hostname.clone(),
            };
            up.get_or_create(&al).set(b(a.up));
            healthy.get_or_create(&al).set(b(a.healthy));
            if let Some(r) = a.role {
                for name in ["none", "primary", "backup"] {
                    let l = RoleL {
                        site: s.site.clone(),
                        appliance: a.hostname.clone(),
                        role: name.into(),
                    };
                    role.get_or_create(&l).set(b(r.as_str() == name));
                }
            }
            if let Some(v) = &a.version {
                let l = InfoL {
                    site: s.site.clone(),
                    appliance: a.hostname.clone(),
                    version: v.clone(),
                };
                info.get_or_create(&l).set(1.0);
            }
            if let Some(k) = a.error_kind {
                let l = ErrorKindL {
                    site: s.site.clone(),
                    appliance: a.hostname.clone(),
                    kind: k.as_str().into(),
                };
                err.get_or_create(&l).set(1.0);
            }
            if let Some(t) = a.sync_time {
                sync_ts.get_or_create(&al).set(ts(t));
                sync_age
                    .get_or_create(&al)
                    .set(ts(snap.collected_at) - ts(t));
            }
            if let Some(ok) = a.sync_success {
                sync_ok.get_or_create(&al).set(b(ok));
            }
            if let Some(t) = a.cert_not_after {
                cert.get_or_create(&al).set(ts(t));
            }
        }
        if let Some(sb) = s.split_brain {
            split.get_or_create(&sl).set(b(sb));
        }
        if let Some(n) = s.backup_sets {
            sets.get_or_create(&sl).set(n as f64);
        }
        if let Some(bk) = &s.backup {
            last.get_or_create(&sl).set(ts(bk.created_at));
            age.get_or_create(&sl)
                .set(ts(snap.collected_at) - ts(bk.created_at));
            partial.get_or_create(&sl).set(b(bk.partial));
            size.get_or_create(&sl).set(bk.size_bytes as f64);
            if let Some(v) = bk.verified {
                verified.get_or_create(&sl).set(b(v));
            }
            if let Some((file, Some(na))) = &bk.certificate {
                let l = BundleL {
                    site: s.site.clone(),
                    bundle: file.clone(),
                };
                bundle.get_or_create(&l).set(ts(*na));
            }
        }
        if let Some(fs) = &s.findings {
            for ((sev, rule), n) in fs {
                let l = FindingL {
                    site: s.site.clone(),
                    severity: sev.as_str().into(),
                    rule: rule.clone(),
                };
                findings.get_or_create(&l).set(*n as f64);
            }
            for sev in ["critical", "error", "warning", "info"] {
                let n: u64 = fs
                    .iter()
                    .filter(|((s2, _), _)| s2.as_str() == sev)
                    .map(|(_, n)| n)
                    .sum();
                let l = SeverityL {
                    site: s.site.clone(),
                    severity: sev.into(),
                };
                by_severity.get_or_create(&l).set(n as f64);
            }
        }
        for (stage, n) in &s.errors {
            let l = StageL {
                site: s.site.clone(),
                stage: (*stage).into(),
            };
            errors.get_or_create(&l).set(*n as f64);
        }
    }

    let dur = G::default();
    dur.set(snap.duration.as_secs_f64());
    reg.register_with_unit(
        "collection_duration",
        "How long the last collection took",
        Unit::Seconds,
        dur,
    );
    let at = G::default();
    at.set(ts(snap.collected_at));
    reg.register_with_unit(
        "collection_timestamp",
        "When the last collection finished (UNIX time)",
        Unit::Seconds,
        at,
    );

    if let Some(c) = server {
        let refreshes = Counter::<u64>::default();
        refreshes.inc_by(c.refreshes);
        reg.register("refreshes", "Collections this server made", refreshes);
        let failed = Counter::<u64>::default();
        failed.inc_by(c.refresh_errors);
        reg.register(
            "refresh_errors",
            "Collections of this server that had at least one error",
            failed,
        );
        let cache_age = G::default();
        cache_age.set(c.cache_age_seconds);
        reg.register_with_unit(
            "cache_age",
            "Age of the collection this answer comes from",
            Unit::Seconds,
            cache_age,
        );
    }

    let mut out = String::new();
    // Writing into a String cannot fail; the encoder only returns fmt::Error from the writer.
    encode(&mut out, &reg).expect("encoding into a String");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use bt_dr_core::{ErrorKind, FailoverRole, Severity};
    use time::macros::datetime;

    use super::*;
    use crate::metrics::collect::{ApplianceSnapshot, BackupSnapshot, STAGES, SiteSnapshot};

    /// A snapshot with every optional value present, so every family has a series.
    fn full() -> Snapshot {
        let appliance = |h: &str, up: bool| ApplianceSnapshot {
            hostname: h.into(),
            up,
            healthy: up,
            role: up.then_some(FailoverRole::Primary),
            version: up.then(|| "24.1.2 (37380-abc)".into()),
            sync_time: Some(datetime!(2026-12-01 23:00 UTC)),
            sync_success: Some(true),
            cert_not_after: Some(datetime!(2027-06-01 00:00 UTC)),
            error_kind: (!up).then_some(ErrorKind::Network),
        };
        Snapshot {
            collected_at: datetime!(2026-12-02 00:00 UTC),
            duration: Duration::from_millis(1500),
            sites: vec![
                SiteSnapshot {
                    site: "support".into(),
                    appliances: vec![
                        appliance("a.example.com", true),
                        appliance("b.example.com", false),
                    ],
                    split_brain: Some(false),
                    backup_sets: Some(3),
                    backup: Some(BackupSnapshot {
                        id: "20261201T020000Z".into(),
                        created_at: datetime!(2026-12-01 02:00 UTC),
                        partial: false,
                        verified: Some(true),
                        size_bytes: 1 << 30,
                        certificate: Some((
                            "site.p12".into(),
                            Some(datetime!(2027-01-01 00:00 UTC)),
                        )),
                    }),
                    findings: Some(BTreeMap::from([(
                        (Severity::Critical, "split_brain".into()),
                        1,
                    )])),
                    errors: STAGES.iter().map(|s| (*s, 0)).collect(),
                },
                SiteSnapshot {
                    site: "pra".into(),
                    appliances: vec![],
                    split_brain: None,
                    backup_sets: None,
                    backup: None,
                    findings: None,
                    errors: STAGES
                        .iter()
                        .map(|s| (*s, u64::from(*s == "audit")))
                        .collect(),
                },
            ],
        }
    }

    fn families(text: &str) -> BTreeSet<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| {
                let (name, kind) = l.split_once(' ').unwrap();
                if kind == "counter" {
                    format!("{name}_total")
                } else {
                    name.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn every_series_the_examples_use_exists() {
        let text = render(&full(), None, Some(ServerCounters::default()));
        let have = families(&text);
        let examples = [
            include_str!("../../../examples/monitoring/bt-dr.rules.yml"),
            include_str!("../../../examples/monitoring/bt-dr.rules.test.yml"),
            include_str!("../../../examples/monitoring/grafana-dashboard.json"),
        ];
        let mut used = BTreeSet::new();
        for e in examples {
            let mut rest = e;
            while let Some(i) = rest.find("bt_dr_") {
                let tail = &rest[i..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                used.insert(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
        assert!(used.len() > 15, "{used:?}");
        let missing: Vec<_> = used.difference(&have).collect();
        assert!(
            missing.is_empty(),
            "used by the examples but not exported: {missing:?}"
        );
    }

    #[test]
    fn values_labels_and_the_site_filter() {
        let snap = full();
        let text = render(&snap, None, None);
        assert!(
            text.contains("bt_dr_appliance_up{site=\"support\",appliance=\"b.example.com\"} 0.0\n")
        );
        assert!(text.contains(
            "bt_dr_appliance_health_error{site=\"support\",appliance=\"b.example.com\",kind=\"network\"} 1.0\n"
        ));
        assert!(text.contains("bt_dr_backup_size_bytes{site=\"support\"} 1073741824.0\n"));
        // 2026-12-01 02:00 to 2026-12-02 00:00.
        assert!(text.contains("bt_dr_backup_age_seconds{site=\"support\"} 79200.0\n"));
        assert!(text.contains("bt_dr_collection_errors{site=\"pra\",stage=\"audit\"} 1.0\n"));
        assert!(text.contains("bt_dr_collection_duration_seconds 1.5\n"));
        // No server: no counters (the textfile must parse as Prometheus 0.0.4 text).
        assert!(!text.contains("counter"));
        // A site without a pair has no split-brain series; one without findings no findings.
        assert!(!text.contains("bt_dr_site_split_brain{site=\"pra\"}"));
        assert!(!text.contains("bt_dr_audit_findings_by_severity{site=\"pra\""));

        let probe = render(&snap, Some("pra"), None);
        assert!(!probe.contains("site=\"support\""));
        assert!(probe.contains("bt_dr_collection_errors{site=\"pra\",stage=\"audit\"} 1.0\n"));
        assert!(probe.contains("bt_dr_collection_timestamp_seconds "));
        assert!(probe.ends_with("# EOF\n"));
    }
}
