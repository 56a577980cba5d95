//! Calendar dates and times of day in the one spelling every binding takes and returns:
//! `YYYY-MM-DD` and `HH:MM:SS`. (The core's serde form of a bare `time::Date` is a tuple, which
//! no user of the bindings should have to read.)

use time::{Date, Time};

use crate::support::error::{Error, Result};

/// Parses `YYYY-MM-DD`; the error names `field`.
///
/// ```
/// let d = bt_dr_core::dates::parse_date(" 2026-11-20 ", "date").unwrap();
/// assert_eq!(bt_dr_core::dates::format_date(d), "2026-11-20");
/// let e = bt_dr_core::dates::parse_date("20/11/2026", "date").unwrap_err();
/// assert_eq!(e.kind(), bt_dr_core::ErrorKind::InvalidInput);
/// ```
pub fn parse_date(text: &str, field: &str) -> Result<Date> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| Error::invalid_input(field, format!("`{text}` is not a YYYY-MM-DD date: {e}")))
}

/// `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Parses `HH:MM:SS`; the error names `field`.
///
/// ```
/// let t = bt_dr_core::dates::parse_time("01:02:03", "time").unwrap();
/// assert_eq!(bt_dr_core::dates::format_time(t), "01:02:03");
/// assert!(bt_dr_core::dates::parse_time("01:02", "time").is_err());
/// ```
pub fn parse_time(text: &str, field: &str) -> Result<Time> {
    Time::parse(
        text.trim(),
        time::macros::format_description!("[hour]:[minute]:[second]"),
    )
    .map_err(|e| Error::invalid_input(field, format!("`{text}` is not an HH:MM:SS time: {e}")))
}

/// `HH:MM:SS`.
pub fn format_time(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}
