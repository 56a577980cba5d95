//! Reporting API parameters. The appliance wants exactly one time window per report, so the
//! window is an enum: a request with two windows, or none, cannot be written.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::model::product::Product;

/// The one time window (or session selection) of a session report.
///
/// ```
/// use bt_dr_core::api::TimeWindow;
/// let w = TimeWindow::last_seconds(time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(), 3600);
/// assert_eq!(w.params(), vec![("start_time".to_string(), "1699996400".to_string()), ("duration".to_string(), "3600".to_string())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeWindow {
    /// Sessions that began on or after `date`, for `days` days (0 = until now).
    StartDate {
        /// First day.
        #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date")))]
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
        #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date")))]
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

/// A kind of data the Reporting API hands out that the NSB does not hold (or holds only as a
/// log), and that a backup set therefore archives itself.
///
/// Per-session kinds are fetched by `lsid`; exit surveys by time window. Which kinds a product
/// has, the report type names and the permission each needs live here and nowhere else.
///
/// ```
/// use bt_dr_core::{Product, api::ReportKind};
/// assert_eq!(ReportKind::SessionRecording.report_type(Product::Pra), Some("AccessSessionRecording"));
/// assert_eq!(ReportKind::PresentationRecording.report_type(Product::Pra), None);
/// assert_eq!("command_shell_recording".parse::<ReportKind>().unwrap(), ReportKind::CommandShellRecording);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The session report (XML) of one session: who, when, chat and event log.
    SessionReport,
    /// The screen recording of a session.
    SessionRecording,
    /// The Show My Screen recording of a session (RS).
    ShowMyScreenRecording,
    /// The command shell recording of a session.
    CommandShellRecording,
    /// The recording of a presentation (RS).
    PresentationRecording,
    /// Customer exit surveys of a time window (RS).
    CustomerExitSurvey,
    /// Representative exit surveys of a time window (RS).
    RepExitSurvey,
}

impl ReportKind {
    /// Every kind, in the order a backup set takes them.
    pub const ALL: [ReportKind; 7] = [
        ReportKind::SessionReport,
        ReportKind::SessionRecording,
        ReportKind::ShowMyScreenRecording,
        ReportKind::CommandShellRecording,
        ReportKind::PresentationRecording,
        ReportKind::CustomerExitSurvey,
        ReportKind::RepExitSurvey,
    ];

    /// Snake-case name (also the archive folder name).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::SessionReport => "session_report",
            ReportKind::SessionRecording => "session_recording",
            ReportKind::ShowMyScreenRecording => "show_my_screen_recording",
            ReportKind::CommandShellRecording => "command_shell_recording",
            ReportKind::PresentationRecording => "presentation_recording",
            ReportKind::CustomerExitSurvey => "customer_exit_survey",
            ReportKind::RepExitSurvey => "rep_exit_survey",
        }
    }

    /// The kinds `product` has.
    pub fn for_product(product: Product) -> impl Iterator<Item = ReportKind> {
        Self::ALL
            .into_iter()
            .filter(move |k| k.report_type(product).is_some())
    }

    /// The `generate_report` value on `product`, or None when the product has no such data.
    pub fn report_type(self, product: Product) -> Option<&'static str> {
        let rs = product == Product::Rs;
        Some(match self {
            ReportKind::SessionReport => product.session_report(),
            ReportKind::SessionRecording => product.session_recording_report(),
            ReportKind::CommandShellRecording => "CommandShellRecording",
            ReportKind::ShowMyScreenRecording if rs => "ShowMyScreenRecording",
            ReportKind::PresentationRecording if rs => "PresentationSessionRecording",
            ReportKind::CustomerExitSurvey if rs => "SupportCustExitSurvey",
            ReportKind::RepExitSurvey if rs => "SupportRepExitSurvey",
            _ => return None,
        })
    }

    /// Fetched per session (by `lsid`); otherwise by time window.
    pub fn per_session(self) -> bool {
        !matches!(
            self,
            ReportKind::CustomerExitSurvey | ReportKind::RepExitSurvey
        )
    }

    /// A recording (streamed binary), as opposed to an XML report.
    pub fn is_recording(self) -> bool {
        matches!(
            self,
            ReportKind::SessionRecording
                | ReportKind::ShowMyScreenRecording
                | ReportKind::CommandShellRecording
                | ReportKind::PresentationRecording
        )
    }

    /// Presentation data, listed by its own report rather than the session listing.
    pub fn is_presentation(self) -> bool {
        self == ReportKind::PresentationRecording
    }

    /// The permission the account needs for this kind.
    pub fn permission(self) -> &'static str {
        if self.is_presentation() {
            "perm_reporting_presentation"
        } else {
            "perm_reporting_support"
        }
    }

    /// Whether `permissions` allow this kind: `Some(false)` when the account is known to lack
    /// it. Presentation data needs `perm_reporting_presentation` where the appliance lists that
    /// permission; newer appliances no longer list it and cover presentations by
    /// `perm_reporting_support`, so its absence falls back to that one.
    pub fn allowed_by(self, permissions: &super::Permissions) -> bool {
        if self.is_presentation()
            && let Some(v) = permissions.raw.get("perm_reporting_presentation")
        {
            return super::xml::parse_bool(v);
        }
        permissions.reporting_support
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ReportKind {
    type Err = crate::support::error::Error;
    fn from_str(s: &str) -> crate::support::error::Result<Self> {
        ReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                crate::support::error::Error::invalid_input(
                    "report kind",
                    format!(
                        "`{s}` is not one of {}",
                        ReportKind::ALL.map(ReportKind::as_str).join(", ")
                    ),
                )
            })
    }
}
