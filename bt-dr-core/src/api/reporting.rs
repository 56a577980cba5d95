//! Reporting API parameters. The appliance wants exactly one time window per report, so the
//! window is an enum: a request with two windows, or none, cannot be written.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// The one time window (or session selection) of a session report.
///
/// ```
/// use bt_dr_core::api::TimeWindow;
/// let w = TimeWindow::last_seconds(time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(), 3600);
/// assert_eq!(w.params(), vec![("start_time".to_string(), "1699996400".to_string()), ("duration".to_string(), "3600".to_string())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimeWindow {
    /// Sessions that began on or after `date`, for `days` days (0 = until now).
    StartDate {
        /// First day.
        date: Date,
        /// Number of days.
        days: u32,
    },
    /// Sessions that began at or after `unix`, for `seconds` (0 = until now).
    StartTime {
        /// Start, UNIX seconds.
        unix: i64,
        /// Length in seconds.
        seconds: u64,
    },
    /// Closed sessions that ended on or after `date`, for `days` days.
    EndDate {
        /// First day.
        date: Date,
        /// Number of days.
        days: u32,
    },
    /// Closed sessions that ended at or after `unix`, for `seconds`.
    EndTime {
        /// Start, UNIX seconds.
        unix: i64,
        /// Length in seconds.
        seconds: u64,
    },
    /// One session.
    Lsid {
        /// Session id.
        lsid: String,
    },
    /// Several sessions.
    Lsids {
        /// Session ids.
        lsids: Vec<String>,
    },
}

impl TimeWindow {
    /// Sessions started in the `seconds` before `now`.
    pub fn last_seconds(now: OffsetDateTime, seconds: u64) -> Self {
        TimeWindow::StartTime {
            unix: now
                .unix_timestamp()
                .saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX)),
            seconds,
        }
    }

    /// Sessions started since `unix` up to now.
    pub fn since(unix: i64) -> Self {
        TimeWindow::StartTime { unix, seconds: 0 }
    }

    /// Query parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        let p =
            |a: &str, b: String, c: &str, d: String| vec![(a.to_string(), b), (c.to_string(), d)];
        match self {
            TimeWindow::StartDate { date, days } => {
                p("start_date", date.to_string(), "duration", days.to_string())
            }
            TimeWindow::StartTime { unix, seconds } => p(
                "start_time",
                unix.to_string(),
                "duration",
                seconds.to_string(),
            ),
            TimeWindow::EndDate { date, days } => {
                p("end_date", date.to_string(), "duration", days.to_string())
            }
            TimeWindow::EndTime { unix, seconds } => p(
                "end_time",
                unix.to_string(),
                "duration",
                seconds.to_string(),
            ),
            TimeWindow::Lsid { lsid } => vec![("lsid".into(), lsid.clone())],
            TimeWindow::Lsids { lsids } => vec![("lsids".into(), lsids.join(","))],
        }
    }
}
