//! Retention with restic's `forget` semantics: the rules are a union, and "daily N" keeps the
//! newest set of each of the last N days that have a set. The newest verified set of a site is
//! never removed, whatever the policy says, and neither is the newest verified set of each of
//! the last few product versions: restores are supported only along upgrade paths, so a set from
//! before an update is what a failed update goes back to.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::model::version::ProductVersion;
use crate::support::error::{Error, Result};

/// Which sets to keep. Every rule keeps sets; a set any rule keeps is kept.
///
/// ```
/// use bt_dr_core::RetentionPolicy;
/// let p = RetentionPolicy { keep_daily: Some(7), keep_weekly: Some(4), ..Default::default() };
/// assert!(!p.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// The newest N sets.
    #[serde(default)]
    pub keep_last: Option<u32>,
    /// The newest set of each of the last N hours that have one.
    #[serde(default)]
    pub keep_hourly: Option<u32>,
    /// The newest set of each of the last N days that have one.
    #[serde(default)]
    pub keep_daily: Option<u32>,
    /// The newest set of each of the last N ISO weeks that have one.
    #[serde(default)]
    pub keep_weekly: Option<u32>,
    /// The newest set of each of the last N months that have one.
    #[serde(default)]
    pub keep_monthly: Option<u32>,
    /// The newest set of each of the last N years that have one.
    #[serde(default)]
    pub keep_yearly: Option<u32>,
    /// Every set younger than this many hours, counted back from the newest set.
    #[serde(default)]
    pub keep_within_hours: Option<u32>,
    /// A set whose NSB is smaller than this many bytes is never "verified" and never the
    /// protected newest verified set (default [`DEFAULT_MIN_NSB_BYTES`]). Not a keep rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_nsb_bytes: Option<u64>,
    /// On top of the rules above, the newest set that counts as verified of each of the last N
    /// product versions (`X.Y.Z`, newest first) that have a set. Unset means
    /// [`DEFAULT_KEEP_VERSIONS`]; `Some(0)` switches it off. It always applies, so it does not
    /// make an otherwise empty policy acceptable (see [`RetentionPolicy::is_empty`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_versions: Option<u32>,
}

/// How many product versions keep a set when [`RetentionPolicy::keep_versions`] is unset: the
/// current one and the one before it. The vendor asks for a backup before every update, and an
/// update that goes wrong is undone by restoring that backup on the version it came from.
pub const DEFAULT_KEEP_VERSIONS: u32 = 2;

/// The default retention floor: 16 KiB.
///
/// An NSB holds the site's configuration database, users, certificates and settings; even a
/// fresh site's is far larger. What a misbehaving appliance or proxy answers instead — an error
/// page, a JSON error envelope, a login page — is a few hundred bytes to a few kilobytes. If
/// such a file ever got past the download's content checks and became a set, counting it as
/// "the newest verified set" would let retention remove the real backups; below this floor it
/// never counts.
pub const DEFAULT_MIN_NSB_BYTES: u64 = 16 * 1024;

fn default_min_nsb_bytes() -> u64 {
    DEFAULT_MIN_NSB_BYTES
}

impl RetentionPolicy {
    /// No keep rule set (such a policy is refused: it would remove everything). The floor and
    /// the version rule do not count: they apply to every policy.
    pub fn is_empty(&self) -> bool {
        Self {
            min_nsb_bytes: None,
            keep_versions: None,
            ..self.clone()
        } == Self::default()
    }

    /// How many product versions keep their newest verified set (see
    /// [`RetentionPolicy::keep_versions`]).
    pub fn keep_versions(&self) -> u32 {
        self.keep_versions.unwrap_or(DEFAULT_KEEP_VERSIONS)
    }

    /// The retention floor in bytes (see [`RetentionPolicy::min_nsb_bytes`]).
    pub fn min_nsb_bytes(&self) -> u64 {
        self.min_nsb_bytes.unwrap_or(DEFAULT_MIN_NSB_BYTES)
    }
}

/// A set as retention sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionCandidate {
    /// Set id.
    pub id: String,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub created_at: OffsetDateTime,
    /// Whether it verified (None: not checked).
    pub verified: Option<bool>,
    /// Why it can never be the protected newest verified set, whatever it hashes to: partial,
    /// NSB below the floor, no NSB (see [`crate::dr::manifest::Manifest::not_verifiable`]). None: it may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_verifiable: Option<String>,
    /// The product version its NSB was taken at (the store fills it from the manifest). A set
    /// without one takes no part in the version rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ProductVersion>,
}

impl RetentionCandidate {
    /// It verified and nothing rules it out as the protected set.
    pub fn counts_as_verified(&self) -> bool {
        self.verified == Some(true) && self.not_verifiable.is_none()
    }
}

/// Index of the protected set in newest-first `sorted`: the newest set that counts as verified;
/// when none does, the newest set that is not ruled out (partial, too small), else the newest.
pub(crate) fn protected_index(sorted: &[&RetentionCandidate]) -> Option<usize> {
    sorted
        .iter()
        .position(|s| s.counts_as_verified())
        .or_else(|| sorted.iter().position(|s| s.not_verifiable.is_none()))
        .or(if sorted.is_empty() { None } else { Some(0) })
}

/// The distinct releases (`X.Y.Z`) of newest-first `sorted`, highest first, at most `n`.
pub(crate) fn newest_releases(sorted: &[&RetentionCandidate], n: u32) -> Vec<ProductVersion> {
    let mut releases: Vec<ProductVersion> = sorted
        .iter()
        .filter_map(|s| s.version.as_ref().map(ProductVersion::without_build))
        .collect();
    releases.sort_by(|a, b| b.cmp(a));
    releases.dedup();
    releases.truncate(n as usize);
    releases
}

/// For each of the `n` highest releases in newest-first `sorted`: the index of the set kept for
/// it, the release, and whether that set counts as verified. The set is chosen among the
/// release's sets as the protected set is among all (newest verified, else the newest not ruled
/// out, else the newest), so a release whose sets all failed still keeps one.
fn version_keepers(sorted: &[&RetentionCandidate], n: u32) -> Vec<(usize, String, bool)> {
    newest_releases(sorted, n)
        .into_iter()
        .filter_map(|release| {
            let members: Vec<usize> = (0..sorted.len())
                .filter(|&i| sorted[i].version.as_ref() == Some(&release))
                .collect();
            let group: Vec<&RetentionCandidate> = members.iter().map(|&i| sorted[i]).collect();
            let at = protected_index(&group)?;
            Some((
                members[at],
                release.release(),
                group[at].counts_as_verified(),
            ))
        })
        .collect()
}

/// A kept set and every reason it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeptSet {
    /// Set id.
    pub id: String,
    /// Reasons, e.g. `daily (2026-11-20)`, `last 3`, `version 24.1.2`, `newest verified set`.
    pub reasons: Vec<String>,
}

/// What a policy would keep and remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionPlan {
    /// Site.
    pub site: String,
    /// Kept sets, newest first.
    pub keep: Vec<KeptSet>,
    /// Ids to remove, newest first.
    pub remove: Vec<String>,
    /// The retention floor the plan was made with; applying re-checks with it.
    #[serde(default = "default_min_nsb_bytes")]
    pub min_nsb_bytes: u64,
}

/// Plans retention for `sets` (any order). `verified` marks decide the protected newest
/// verified set; when none is marked verified, the newest set is protected instead.
pub fn plan_retention(
    site: &str,
    sets: &[RetentionCandidate],
    policy: &RetentionPolicy,
) -> Result<RetentionPlan> {
    if policy.is_empty() {
        return Err(Error::invalid_input(
            "retention policy",
            "no rule is set; it would remove every set",
        ));
    }
    let mut sorted: Vec<&RetentionCandidate> = sets.iter().collect();
    sorted.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let mut reasons: Vec<Vec<String>> = vec![Vec::new(); sorted.len()];

    if let Some(n) = policy.keep_last {
        for (i, r) in reasons.iter_mut().enumerate().take(n as usize) {
            let _ = i;
            r.push(format!("last {n}"));
        }
    }
    let utc = |t: OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
    type Bucket = fn(OffsetDateTime) -> String;
    let rules: [(Option<u32>, &str, Bucket); 5] = [
        (policy.keep_hourly, "hourly", |t| {
            format!("{} {:02}h", t.date(), t.hour())
        }),
        (policy.keep_daily, "daily", |t| t.date().to_string()),
        (policy.keep_weekly, "weekly", |t| {
            let (y, w, _) = t.to_iso_week_date();
            format!("{y}-W{w:02}")
        }),
        (policy.keep_monthly, "monthly", |t| {
            format!("{}-{:02}", t.year(), t.month() as u8)
        }),
        (policy.keep_yearly, "yearly", |t| t.year().to_string()),
    ];
    for (n, label, bucket) in rules {
        let Some(mut left) = n else { continue };
        let mut last: Option<String> = None;
        for (i, s) in sorted.iter().enumerate() {
            if left == 0 {
                break;
            }
            let b = bucket(utc(s.created_at));
            if last.as_ref() != Some(&b) {
                reasons[i].push(format!("{label} ({b})"));
                last = Some(b);
                left -= 1;
            }
        }
    }
    if let (Some(h), Some(newest)) = (policy.keep_within_hours, sorted.first()) {
        let cutoff = newest.created_at - Duration::hours(i64::from(h));
        for (i, s) in sorted.iter().enumerate() {
            if s.created_at >= cutoff {
                reasons[i].push(format!("within {h}h of the newest set"));
            }
        }
    }
    for (i, release, verified) in version_keepers(&sorted, policy.keep_versions()) {
        reasons[i].push(if verified {
            format!("version {release}")
        } else {
            format!("version {release} (none verified)")
        });
    }
    if let Some(p) = protected_index(&sorted) {
        let why = if sorted[p].counts_as_verified() {
            "newest verified set"
        } else {
            "newest set (none verified)"
        };
        reasons[p].push(why.to_string());
    }
    let mut plan = RetentionPlan {
        site: site.to_string(),
        keep: Vec::new(),
        remove: Vec::new(),
        min_nsb_bytes: policy.min_nsb_bytes(),
    };
    for (s, r) in sorted.iter().zip(reasons) {
        if r.is_empty() {
            plan.remove.push(s.id.clone());
        } else {
            plan.keep.push(KeptSet {
                id: s.id.clone(),
                reasons: r,
            });
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn set(id: &str, t: OffsetDateTime) -> RetentionCandidate {
        RetentionCandidate {
            id: id.into(),
            created_at: t,
            verified: Some(true),
            not_verifiable: None,
            version: None,
        }
    }

    fn at(id: &str, t: OffsetDateTime, version: &str) -> RetentionCandidate {
        RetentionCandidate {
            version: Some(version.parse().unwrap()),
            ..set(id, t)
        }
    }

    fn last_one() -> RetentionPolicy {
        RetentionPolicy {
            keep_last: Some(1),
            ..Default::default()
        }
    }

    fn kept(p: &RetentionPlan) -> Vec<&str> {
        p.keep.iter().map(|k| k.id.as_str()).collect()
    }

    fn reasons<'a>(p: &'a RetentionPlan, id: &str) -> &'a [String] {
        &p.keep.iter().find(|k| k.id == id).unwrap().reasons
    }

    #[test]
    fn the_newest_verified_set_of_each_of_the_last_two_versions_is_kept_by_default() {
        let sets = vec![
            at("c2", datetime!(2026-11-20 02:00 UTC), "24.3.0"),
            at("c1", datetime!(2026-11-19 02:00 UTC), "24.3.0"),
            at("b2", datetime!(2026-11-18 02:00 UTC), "24.1.2"),
            at("b1", datetime!(2026-11-17 02:00 UTC), "24.1.2"),
            at("a1", datetime!(2026-11-16 02:00 UTC), "23.2.1"),
        ];
        let p = plan_retention("s", &sets, &last_one()).unwrap();
        assert_eq!(kept(&p), ["c2", "b2"]);
        assert_eq!(p.remove, ["c1", "b1", "a1"]);
        assert!(reasons(&p, "b2").contains(&"version 24.1.2".to_string()));
        assert!(reasons(&p, "c2").contains(&"version 24.3.0".to_string()));
    }

    #[test]
    fn versions_are_ordered_by_release_not_by_when_a_set_was_taken() {
        // A site restored onto an older release after a failed update: the highest release
        // still counts as one of the last two.
        let sets = vec![
            at("after-rollback", datetime!(2026-11-20 02:00 UTC), "24.1.2"),
            at("failed-update", datetime!(2026-11-19 02:00 UTC), "24.3.0"),
            at("old", datetime!(2026-11-18 02:00 UTC), "23.2.1"),
        ];
        let p = plan_retention("s", &sets, &last_one()).unwrap();
        assert_eq!(kept(&p), ["after-rollback", "failed-update"]);
        assert_eq!(p.remove, ["old"]);
    }

    #[test]
    fn a_version_keeps_its_newest_verified_set_not_its_newest() {
        let mut sets = vec![
            at("new", datetime!(2026-11-20 02:00 UTC), "24.3.0"),
            at("old-broken", datetime!(2026-11-18 02:00 UTC), "24.1.2"),
            at("old-good", datetime!(2026-11-17 02:00 UTC), "24.1.2"),
            at("old-older", datetime!(2026-11-16 02:00 UTC), "24.1.2"),
        ];
        sets[1].verified = Some(false);
        let p = plan_retention("s", &sets, &last_one()).unwrap();
        assert_eq!(kept(&p), ["new", "old-good"]);
        assert!(reasons(&p, "old-good").contains(&"version 24.1.2".to_string()));
        // No set of the version verifies: its newest one that is not ruled out stays, marked.
        sets[2].verified = Some(false);
        sets[3].not_verifiable = Some("partial".into());
        let p = plan_retention("s", &sets, &last_one()).unwrap();
        assert_eq!(kept(&p), ["new", "old-broken"]);
        assert!(reasons(&p, "old-broken").contains(&"version 24.1.2 (none verified)".to_string()));
    }

    #[test]
    fn keep_versions_counts_and_switches_off_and_is_no_keep_rule_alone() {
        let sets = vec![
            at("c", datetime!(2026-11-20 02:00 UTC), "24.3.0"),
            at("b", datetime!(2026-11-19 02:00 UTC), "24.1.2"),
            at("a", datetime!(2026-11-18 02:00 UTC), "23.2.1"),
            set("unknown", datetime!(2026-11-17 02:00 UTC)),
        ];
        let three = RetentionPolicy {
            keep_versions: Some(3),
            ..last_one()
        };
        assert_eq!(
            kept(&plan_retention("s", &sets, &three).unwrap()),
            ["c", "b", "a"]
        );
        let off = RetentionPolicy {
            keep_versions: Some(0),
            ..last_one()
        };
        let p = plan_retention("s", &sets, &off).unwrap();
        assert_eq!(kept(&p), ["c"]);
        assert_eq!(p.remove, ["b", "a", "unknown"]);
        let only_versions = RetentionPolicy {
            keep_versions: Some(5),
            ..Default::default()
        };
        assert!(only_versions.is_empty());
        assert!(plan_retention("s", &sets, &only_versions).is_err());
        // The builds a check_health version carries do not make two releases of one.
        let mut built = sets.clone();
        built[1].version = Some(
            "24.3.0 (37380-749b17ca33d2475427428f263608ae98d69f7a35)"
                .parse()
                .unwrap(),
        );
        let p = plan_retention("s", &built, &last_one()).unwrap();
        assert_eq!(kept(&p), ["c", "a"]);
    }

    #[test]
    fn keep_versions_round_trips_and_old_json_still_reads() {
        let p: RetentionPolicy = serde_json::from_str(r#"{"keep_last": 3}"#).unwrap();
        assert_eq!(
            (p.keep_versions, p.keep_versions()),
            (None, DEFAULT_KEEP_VERSIONS)
        );
        assert!(!serde_json::to_string(&p).unwrap().contains("keep_versions"));
        let p: RetentionPolicy =
            serde_json::from_str(r#"{"keep_last": 3, "keep_versions": 0}"#).unwrap();
        assert_eq!(p.keep_versions(), 0);
        let c: RetentionCandidate = serde_json::from_str(
            r#"{"id": "x", "created_at": "2026-11-20T02:00:00Z", "verified": true}"#,
        )
        .unwrap();
        assert_eq!(c.version, None);
        let c = at("y", datetime!(2026-11-20 02:00 UTC), "24.1.2");
        let back: RetentionCandidate =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn daily_keeps_newest_of_each_day_that_has_one() {
        let sets = vec![
            set("d1-late", datetime!(2026-11-20 22:00 UTC)),
            set("d1-early", datetime!(2026-11-20 02:00 UTC)),
            // 2026-11-19 has no set: "last 3 days that have one" reaches further back.
            set("d3", datetime!(2026-11-18 02:00 UTC)),
            set("d4", datetime!(2026-11-17 02:00 UTC)),
            set("d5", datetime!(2026-11-16 02:00 UTC)),
        ];
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_daily: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
        let kept: Vec<_> = p.keep.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(kept, ["d1-late", "d3", "d4"]);
        assert_eq!(p.remove, ["d1-early", "d5"]);
    }

    #[test]
    fn rules_are_a_union_with_reasons() {
        let sets = vec![
            set("a", datetime!(2026-11-20 02:00 UTC)),
            set("b", datetime!(2026-11-19 02:00 UTC)),
            set("c", datetime!(2026-10-31 02:00 UTC)),
            set("d", datetime!(2026-10-01 02:00 UTC)),
        ];
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_last: Some(1),
                keep_monthly: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        let a = &p.keep[0];
        assert_eq!(a.id, "a");
        assert!(
            a.reasons.iter().any(|r| r == "last 1")
                && a.reasons.iter().any(|r| r.starts_with("monthly"))
        );
        assert_eq!(
            p.keep.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(p.remove, ["b", "d"]);
    }

    #[test]
    fn newest_verified_set_survives_any_policy() {
        let mut sets = vec![
            set("new-broken", datetime!(2026-11-20 02:00 UTC)),
            set("old-good", datetime!(2026-01-01 02:00 UTC)),
        ];
        sets[0].verified = Some(false);
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(p.remove.is_empty());
        assert!(
            p.keep[1]
                .reasons
                .contains(&"newest verified set".to_string())
        );
    }

    #[test]
    fn within_counts_back_from_the_newest_set_and_empty_policy_is_refused() {
        let sets = vec![
            set("a", datetime!(2026-11-20 02:00 UTC)),
            set("b", datetime!(2026-11-19 03:00 UTC)),
            set("c", datetime!(2026-11-18 01:00 UTC)),
        ];
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_within_hours: Some(24),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.remove, ["c"]);
        assert!(plan_retention("s", &sets, &RetentionPolicy::default()).is_err());
        let floor_only = RetentionPolicy {
            min_nsb_bytes: Some(1),
            ..Default::default()
        };
        assert!(floor_only.is_empty());
        assert!(plan_retention("s", &sets, &floor_only).is_err());
    }

    #[test]
    fn a_ruled_out_newer_set_is_never_the_protected_one() {
        let mut sets = vec![
            set("bogus", datetime!(2026-11-20 02:00 UTC)),
            set("real", datetime!(2026-11-19 02:00 UTC)),
        ];
        sets[0].not_verifiable = Some("the NSB is 40 bytes".into());
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(p.remove.is_empty(), "{p:?}");
        assert!(
            p.keep[1]
                .reasons
                .contains(&"newest verified set".to_string())
        );
        // Nothing verified: the newest set that is not ruled out is protected.
        sets[1].verified = None;
        let p = plan_retention(
            "s",
            &sets,
            &RetentionPolicy {
                keep_last: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(p.remove.is_empty(), "{p:?}");
    }
}
