//! Small helpers to write the appliance's XML by hand (no serializer: the exact shape matters).

use time::OffsetDateTime;
use time::macros::format_description;

/// Every XML answer starts with this declaration followed by a blank line.
pub(crate) const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n";

/// Escapes text and attribute content.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole document whose root is `<error>` in namespace `ns`.
pub(crate) fn error_doc(ns: &str, message: &str) -> String {
    format!(
        "{PROLOG}<error xmlns=\"{}\">{}</error>\n",
        esc(ns),
        esc(message)
    )
}

/// A whole document whose root is `<success>` in namespace `ns`.
pub(crate) fn success_doc(ns: &str, message: &str) -> String {
    format!(
        "{PROLOG}<success xmlns=\"{}\">{}</success>\n",
        esc(ns),
        esc(message)
    )
}

/// `2019-10-07T00:32:50.877+0000`, the style of `last_data_sync_time`.
pub(crate) fn iso_millis(unix_ms: i64) -> String {
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000+0000".to_string())
}

/// `2019-10-07T00:32:50+00:00`, used in reports.
pub(crate) fn iso_secs(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00+00:00".to_string())
}

/// `YYYYMMDD` in UTC.
pub(crate) fn compact_date(unix: i64) -> String {
    let fmt = format_description!("[year][month][day]");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "19700101".to_string())
}

/// Parses `YYYY-MM-DD` to the unix time of that day's midnight UTC.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let fmt = format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(s, &fmt).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// `HH:MM:SS` for a duration in seconds.
pub(crate) fn hms(secs: i64) -> String {
    let secs = secs.max(0);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            iso_millis(1_570_408_370_877),
            "2019-10-07T00:32:50.877+0000"
        );
        assert_eq!(iso_secs(1_570_408_370), "2019-10-07T00:32:50+00:00");
        assert_eq!(compact_date(1_570_408_370), "20191007");
        assert_eq!(parse_date("2019-10-07"), Some(1_570_406_400));
        assert_eq!(parse_date("2019-13-07"), None);
        assert_eq!(hms(3725), "01:02:05");
        assert_eq!(esc("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
