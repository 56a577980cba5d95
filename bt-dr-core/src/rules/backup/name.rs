//! Default NSB backup file names: `bomgar-<version>-<site>-<date>-<id>.nsb`.
//!
//! The appliance's exact separator layout is not published, so parsing is anchored at both
//! ends (version after the prefix, id at the end, the date just before the id) and every
//! reading that fits is collected: more than one is reported as ambiguous instead of guessed.
//! The accepted date forms differ in the length of their last `-`-separated token, so today
//! no two of them can match the same name; the check guards future forms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month, Time};

use crate::model::version::ProductVersion;
use crate::support::error::{Error, Result};

/// A parsed default backup file name.
///
/// ```
/// use bt_dr_core::BackupName;
/// let n: BackupName = "bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb".parse().unwrap();
/// assert_eq!(n.version.release(), "24.1.2");
/// assert_eq!(n.site, "support-eu.example");
/// assert_eq!(n.date.to_string(), "2026-11-20");
/// assert_eq!(n.id, "5f3a9c01");
/// // Formatting uses the compact date form; it parses back to the same value.
/// assert_eq!(n.to_string(), "bomgar-24.1.2-support-eu.example-20261120-5f3a9c01.nsb");
/// assert_eq!(n.to_string().parse::<BackupName>().unwrap(), n);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupName {
    /// Product release version the backup was taken from.
    pub version: ProductVersion,
    /// Site name.
    pub site: String,
    /// Download date.
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date")))]
    pub date: Date,
    /// Download time, when the name carries one.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "time")))]
    pub time: Option<Time>,
    /// Unique id of the backup (alphanumeric, or a hyphenated UUID).
    pub id: String,
}

/// A backup name taken apart, as bindings show it (see [`BackupName::view`]): the file name
/// and every part as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupNameView {
    /// The file name.
    pub file_name: String,
    /// Version, `X.Y.Z`.
    pub version: String,
    /// Site name.
    pub site: String,
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// Time, `HH:MM:SS`, when the name carries one.
    pub time: Option<String>,
    /// Unique id.
    pub id: String,
}

impl BackupName {
    /// The one JSON view every binding returns from `parse_backup_name`.
    ///
    /// ```
    /// let n: bt_dr_core::BackupName = "bomgar-24.1.2-support-2026-11-20-ab12.nsb".parse().unwrap();
    /// let v = n.view();
    /// assert_eq!((v.date.as_str(), v.version.as_str()), ("2026-11-20", "24.1.2"));
    /// ```
    pub fn view(&self) -> BackupNameView {
        BackupNameView {
            file_name: self.to_string(),
            version: self.version.to_string(),
            site: self.site.clone(),
            date: crate::support::dates::format_date(self.date),
            time: self.time.map(crate::support::dates::format_time),
            id: self.id.clone(),
        }
    }
}

const PREFIX: &str = "bomgar-";
const EXT: &str = ".nsb";

impl BackupName {
    /// Builds a name, checking each part can be parsed back unambiguously.
    pub fn new(
        version: ProductVersion,
        site: &str,
        date: Date,
        time: Option<Time>,
        id: &str,
    ) -> Result<Self> {
        let n = BackupName {
            version: version.without_build(),
            site: site.to_string(),
            date,
            time: time.map(|t| t.replace_nanosecond(0).unwrap_or(t)),
            id: id.to_string(),
        };
        crate::model::site::validate_site_name(site, "backup_name.site")?;
        if !is_simple_id(id) && !is_uuid(id) {
            return Err(Error::invalid_input(
                "backup_name.id",
                format!("`{id}` must be alphanumeric or a UUID"),
            ));
        }
        let back: BackupName = n.to_string().parse()?;
        if back != n {
            return Err(Error::invalid_input(
                "backup_name",
                format!("`{n}` would not parse back to the same parts"),
            ));
        }
        Ok(n)
    }
}

impl fmt::Display for BackupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}-{}-{:04}{:02}{:02}",
            self.version.release(),
            self.site,
            self.date.year(),
            self.date.month() as u8,
            self.date.day()
        )?;
        if let Some(t) = self.time {
            write!(f, "T{:02}{:02}{:02}", t.hour(), t.minute(), t.second())?;
        }
        write!(f, "-{}{EXT}", self.id)
    }
}

fn is_simple_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn make_date(y: u32, m: u32, d: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

fn make_time(h: u32, m: u32, s: u32) -> Option<Time> {
    Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(s).ok()?,
    )
    .ok()
}

/// The date forms accepted at the end of the middle part, with how many `-`-separated tokens each takes.
fn date_readings(tokens: &[&str]) -> Vec<(usize, Date, Option<Time>)> {
    let mut out = Vec::new();
    let n = tokens.len();
    let last = |k: usize| -> Option<&[&str]> { (n >= k).then(|| &tokens[n - k..]) };
    // YYYYMMDD, YYYYMMDDTHHMMSS, YYYYMMDDHHMMSS
    if let Some([t]) = last(1) {
        let (d, tm) = match t.split_once(['T', 't']) {
            Some((d, tm)) => (d, Some(tm)),
            None if t.len() == 14 && t.is_ascii() => (&t[..8], Some(&t[8..])),
            None => (*t, None),
        };
        if let (Some(y), Some(m), Some(dd)) = (
            digits(d.get(0..4).unwrap_or(""), 4),
            digits(d.get(4..6).unwrap_or(""), 2),
            digits(d.get(6..).unwrap_or(""), 2),
        ) && let Some(date) = make_date(y, m, dd)
        {
            match tm {
                None => out.push((1, date, None)),
                Some(tm) => {
                    if let (Some(h), Some(mi), Some(s)) = (
                        digits(tm.get(0..2).unwrap_or(""), 2),
                        digits(tm.get(2..4).unwrap_or(""), 2),
                        digits(tm.get(4..).unwrap_or(""), 2),
                    ) && let Some(time) = make_time(h, mi, s)
                    {
                        out.push((1, date, Some(time)));
                    }
                }
            }
        }
    }
    // YYYYMMDD-HHMMSS
    if let Some([d, tm]) = last(2)
        && let (Some(y), Some(m), Some(dd), Some(h), Some(mi), Some(s)) = (
            digits(d.get(0..4).unwrap_or(""), 4),
            digits(d.get(4..6).unwrap_or(""), 2),
            digits(d.get(6..).unwrap_or(""), 2),
            digits(tm.get(0..2).unwrap_or(""), 2),
            digits(tm.get(2..4).unwrap_or(""), 2),
            digits(tm.get(4..).unwrap_or(""), 2),
        )
        && let (Some(date), Some(time)) = (make_date(y, m, dd), make_time(h, mi, s))
    {
        out.push((2, date, Some(time)));
    }
    // YYYY-MM-DD
    if let Some([y, m, d]) = last(3)
        && let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2))
        && let Some(date) = make_date(y, m, d)
    {
        out.push((3, date, None));
    }
    // YYYY-MM-DD-HHMMSS and YYYY-MM-DDTHHMMSS / YYYY-MM-DDTHH:MM:SS style with the time in the last token
    if let Some([y, m, dt]) = last(3)
        && let Some((d, tm)) = dt.split_once(['T', 't'])
    {
        let tm: String = tm.chars().filter(|c| *c != ':').collect();
        if let (Some(y), Some(m), Some(d), Some(h), Some(mi), Some(s)) = (
            digits(y, 4),
            digits(m, 2),
            digits(d, 2),
            digits(tm.get(0..2).unwrap_or(""), 2),
            digits(tm.get(2..4).unwrap_or(""), 2),
            digits(tm.get(4..).unwrap_or(""), 2),
        ) && let (Some(date), Some(time)) = (make_date(y, m, d), make_time(h, mi, s))
        {
            out.push((3, date, Some(time)));
        }
    }
    if let Some([y, m, d, tm]) = last(4)
        && let (Some(y), Some(m), Some(d), Some(h), Some(mi), Some(s)) = (
            digits(y, 4),
            digits(m, 2),
            digits(d, 2),
            digits(tm.get(0..2).unwrap_or(""), 2),
            digits(tm.get(2..4).unwrap_or(""), 2),
            digits(tm.get(4..).unwrap_or(""), 2),
        )
        && let (Some(date), Some(time)) = (make_date(y, m, d), make_time(h, mi, s))
    {
        out.push((4, date, Some(time)));
    }
    out
}

impl FromStr for BackupName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: String| Error::parse("backup file name", format!("`{s}`: {reason}"));
        if s.contains(['/', '\\']) {
            return Err(bad("is a path, not a file name".into()));
        }
        let stem = s
            .strip_suffix(EXT)
            .or_else(|| s.strip_suffix(".NSB"))
            .ok_or_else(|| bad("extension must be .nsb".into()))?;
        let rest = stem
            .strip_prefix(PREFIX)
            .or_else(|| stem.strip_prefix("BOMGAR-"))
            .ok_or_else(|| bad("must begin with `bomgar-`".into()))?;
        let (version_str, rest) = rest
            .split_once('-')
            .ok_or_else(|| bad("no `-` after the version".into()))?;
        let version: ProductVersion = version_str.parse().map_err(|_| {
            bad(format!(
                "`{version_str}` after `bomgar-` is not a version X.Y.Z"
            ))
        })?;

        let tokens: Vec<&str> = rest.split('-').collect();
        // Id readings: the last token, or the last five when they form a UUID.
        let mut id_readings: Vec<(usize, String)> = Vec::new();
        if let Some(last) = tokens.last()
            && is_simple_id(last)
        {
            id_readings.push((1, (*last).to_string()));
        }
        if tokens.len() >= 5 {
            let cand = tokens[tokens.len() - 5..].join("-");
            if is_uuid(&cand) {
                id_readings.push((5, cand));
            }
        }
        if id_readings.is_empty() {
            return Err(bad(
                "no backup id (letters/digits or a UUID) before `.nsb`".into()
            ));
        }

        let mut readings: Vec<BackupName> = Vec::new();
        let mut date_seen = false;
        for (id_len, id) in &id_readings {
            let middle = &tokens[..tokens.len() - id_len];
            for (date_len, date, time) in date_readings(middle) {
                date_seen = true;
                let site_tokens = &middle[..middle.len() - date_len];
                if site_tokens.is_empty() {
                    continue;
                }
                let site = site_tokens.join("-");
                if crate::model::site::validate_site_name(&site, "site").is_err() {
                    continue;
                }
                let cand = BackupName {
                    version: version.clone(),
                    site,
                    date,
                    time,
                    id: id.clone(),
                };
                if !readings.contains(&cand) {
                    readings.push(cand);
                }
            }
        }
        match readings.len() {
            1 => Ok(readings.remove(0)),
            0 if !date_seen => Err(bad(
                "no valid date (YYYY-MM-DD or YYYYMMDD, optionally with a time) before the backup id".into(),
            )),
            0 => Err(bad("no site name between the version and the date".into())),
            _ => Err(bad(format!(
                "ambiguous: it reads as {}",
                readings
                    .iter()
                    .map(|r| format!("site `{}` date {} id `{}`", r.site, r.date, r.id))
                    .collect::<Vec<_>>()
                    .join(" or as ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<BackupName> {
        s.parse()
    }

    #[test]
    fn accepts_the_date_forms() {
        for (name, date, time) in [
            (
                "bomgar-24.1.2-support-20261120-ab12.nsb",
                "2026-11-20",
                None,
            ),
            (
                "bomgar-24.1.2-support-2026-11-20-ab12.nsb",
                "2026-11-20",
                None,
            ),
            (
                "bomgar-24.1.2-support-20261120T235901-ab12.nsb",
                "2026-11-20",
                Some((23, 59, 1)),
            ),
            (
                "bomgar-24.1.2-support-20261120-235901-ab12.nsb",
                "2026-11-20",
                Some((23, 59, 1)),
            ),
            (
                "bomgar-24.1.2-support-2026-11-20-235901-ab12.nsb",
                "2026-11-20",
                Some((23, 59, 1)),
            ),
            (
                "bomgar-24.1.2-support-2026-11-20T23:59:01-ab12.nsb",
                "2026-11-20",
                Some((23, 59, 1)),
            ),
        ] {
            let n = p(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(n.site, "support", "{name}");
            assert_eq!(n.date.to_string(), date, "{name}");
            assert_eq!(
                n.time.map(|t| (t.hour(), t.minute(), t.second())),
                time,
                "{name}"
            );
            assert_eq!(n.id, "ab12");
        }
    }

    #[test]
    fn site_names_with_hyphens_dots_and_digits() {
        let n = p("bomgar-23.2.1-eu-west.support-2-2025-01-31-ffff.nsb").unwrap();
        assert_eq!(n.site, "eu-west.support-2");
        let n = p("bomgar-23.2.1-site-20240101-20250101-ffff.nsb").unwrap();
        assert_eq!(n.site, "site-20240101");
        assert_eq!(n.date.to_string(), "2025-01-01");
    }

    #[test]
    fn uuid_ids() {
        let n = p("bomgar-23.2.1-site-20250101-0f8fad5b-d9cb-469f-a165-70867728950e.nsb").unwrap();
        assert_eq!(n.id, "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(n.site, "site");
    }

    #[test]
    fn compact_timestamp_and_uuid_never_collide() {
        // A UUID id whose first group looks like a date must still read as one id.
        let n = p("bomgar-1.2.3-x-2025-01-02-20250103-0000-0000-0000-000000000000.nsb").unwrap();
        assert_eq!(n.id, "20250103-0000-0000-0000-000000000000");
        assert_eq!(n.date.to_string(), "2025-01-02");
        let n = p("bomgar-1.2.3-x-20250102235959-ab.nsb").unwrap();
        assert_eq!(n.time.map(|t| t.hour()), Some(23));
    }

    #[test]
    fn malformed_names_say_what_is_wrong() {
        for (name, needle) in [
            ("bomgar-24.1.2-support-20261120-ab12.zip", "extension"),
            ("backup-24.1.2-support-20261120-ab12.nsb", "bomgar-"),
            ("bomgar-24.1-support-20261120-ab12.nsb", "version"),
            ("bomgar-24.1.2-support-20261340-ab12.nsb", "date"),
            ("bomgar-24.1.2-support-ab12.nsb", "date"),
            ("bomgar-24.1.2-20261120-ab12.nsb", "site"),
            ("bomgar-24.1.2-support-20261120-.nsb", "id"),
            ("../bomgar-24.1.2-support-20261120-ab12.nsb", "path"),
            ("bomgar-24.1.2-support-2026-02-30-ab12.nsb", "date"),
        ] {
            let e = p(name).unwrap_err();
            assert_eq!(e.kind(), crate::support::error::ErrorKind::Parse);
            assert!(e.to_string().contains(needle), "{name}: {e}");
        }
    }

    fn site_strategy() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9._-]{0,20}[a-z0-9]".prop_filter("no ..", |s| !s.contains(".."))
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            site in site_strategy(),
            major in 10u64..40, minor in 0u64..5, patch in 0u64..20,
            days in 0i64..20000,
            secs in proptest::option::of(0u32..86400),
            id in "[a-f0-9]{4,16}",
        ) {
            let date = Date::from_calendar_date(2000, Month::January, 1).unwrap() + time::Duration::days(days);
            let time = secs.map(|s| Time::from_hms((s / 3600) as u8, (s / 60 % 60) as u8, (s % 60) as u8).unwrap());
            let n = BackupName::new(ProductVersion::new(major, minor, patch), &site, date, time, &id).unwrap();
            let back: BackupName = n.to_string().parse().unwrap();
            prop_assert_eq!(back, n);
        }
    }
}
