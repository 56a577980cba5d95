//! `/api/reporting`: session listings and reports, every kind of recording, exit surveys, and
//! RS archives.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::StatusCode;

use crate::server::{Kind, Params, Reply};
use crate::state::{SessionInfo, SiteState, now_unix};
use crate::xml::{PROLOG, esc, hms, iso_secs, parse_date};
use crate::{Account, Product, backup};

const NO_ARCHIVES: &str = "No archives found for the given search criteria.";
const DAY: i64 = 86_400;

/// What a report type asks for.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Report {
    Listing,
    Session,
    /// A recording of one session.
    Recording(Rec),
    PresentationListing,
    CustomerSurvey,
    RepSurvey,
}

/// The recordings a session can have.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Rec {
    Screen,
    ShowMyScreen,
    CommandShell,
    Presentation,
}

impl Rec {
    fn has(self, s: &SessionInfo, product: Product) -> bool {
        match self {
            Rec::Screen => s.has_recording() && !s.is_presentation(product),
            Rec::ShowMyScreen => s.has_show_my_screen(product) && !s.is_presentation(product),
            Rec::CommandShell => s.has_shell() && !s.is_presentation(product),
            Rec::Presentation => s.is_presentation(product),
        }
    }
    fn label(self) -> &'static str {
        match self {
            Rec::Screen => "session",
            Rec::ShowMyScreen => "show_my_screen",
            Rec::CommandShell => "command_shell",
            Rec::Presentation => "presentation",
        }
    }
}

/// Report types per product, as the vendor documents them (RS names sessions "support", PRA
/// "access"; only RS has Show My Screen, presentations and exit surveys).
fn report_types(product: Product) -> &'static [(&'static str, Report)] {
    match product {
        Product::Rs => &[
            ("SupportSessionListing", Report::Listing),
            ("SupportSession", Report::Session),
            ("SupportSessionRecording", Report::Recording(Rec::Screen)),
            (
                "ShowMyScreenRecording",
                Report::Recording(Rec::ShowMyScreen),
            ),
            (
                "CommandShellRecording",
                Report::Recording(Rec::CommandShell),
            ),
            ("PresentationSessionListing", Report::PresentationListing),
            (
                "PresentationSessionRecording",
                Report::Recording(Rec::Presentation),
            ),
            ("SupportCustExitSurvey", Report::CustomerSurvey),
            ("SupportRepExitSurvey", Report::RepSurvey),
        ],
        Product::Pra => &[
            ("AccessSessionListing", Report::Listing),
            ("AccessSession", Report::Session),
            ("AccessSessionRecording", Report::Recording(Rec::Screen)),
            (
                "CommandShellRecording",
                Report::Recording(Rec::CommandShell),
            ),
        ],
    }
}

pub(crate) fn handle(
    site: &SiteState,
    account: &Account,
    params: &Params,
    base_url: &str,
) -> Reply {
    let cfg = &site.cfg;
    let ns = cfg.namespace.reporting_uri();
    let Some(report) = params.get("generate_report").filter(|r| !r.is_empty()) else {
        return Reply::xml_error(
            StatusCode::OK,
            ns,
            "Missing required parameter: generate_report.",
        );
    };
    let is_archive = report == "ArchiveListing" || report == "Archive";
    if is_archive && cfg.product == Product::Rs {
        if !account.perm_reporting_archive {
            return Reply::xml_error(
                StatusCode::FORBIDDEN,
                ns,
                "This API account is not allowed to download archive reports (perm_reporting_archive).",
            );
        }
        return if report == "ArchiveListing" {
            archive_listing(site, params)
        } else {
            archive(site, params)
        };
    }
    let mine = report_types(cfg.product);
    let Some(&(_, kind)) = mine.iter().find(|(name, _)| *name == report) else {
        let other = report_types(match cfg.product {
            Product::Rs => Product::Pra,
            Product::Pra => Product::Rs,
        });
        let known_elsewhere = is_archive || other.iter().any(|(name, _)| *name == report);
        let message = if known_elsewhere {
            format!(
                "Invalid report type: {report} is not available on this product; use {}.",
                mine.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )
        } else {
            format!("Invalid report type: {report}.")
        };
        return Reply::xml_error(StatusCode::OK, ns, &message);
    };
    let presentation = matches!(
        kind,
        Report::PresentationListing | Report::Recording(Rec::Presentation)
    );
    let (allowed, perm) = if presentation {
        (
            account.perm_reporting_presentation,
            "perm_reporting_presentation",
        )
    } else {
        (account.perm_reporting_support, "perm_reporting_support")
    };
    if !allowed {
        return Reply::xml_error(
            StatusCode::FORBIDDEN,
            ns,
            &format!(
                "This API account is not allowed to run this report or download its recordings ({perm})."
            ),
        );
    }
    let product = cfg.product;
    if let Report::Recording(rec) = kind {
        return recording(site, params, rec);
    }
    let now = now_unix();
    let window = match parse_window(params, kind == Report::Session, now) {
        Ok(w) => w,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let all = site.sessions();
    let sessions: Vec<&SessionInfo> = all
        .iter()
        .filter(|s| window.matches(s))
        .filter(|s| s.is_presentation(product) == (kind == Report::PresentationListing))
        .collect();
    match kind {
        Report::Listing | Report::PresentationListing => listing_xml(ns, &sessions),
        Report::Session => session_xml(ns, &sessions, base_url, mine, product),
        _ => survey_xml(ns, &sessions, kind == Report::CustomerSurvey),
    }
}

/// The time window (or explicit session ids) a report covers.
#[derive(Debug, PartialEq)]
enum Window {
    Starting { from: i64, to: i64 },
    Ending { from: i64, to: i64 },
    Ids(Vec<String>),
}

impl Window {
    fn matches(&self, s: &SessionInfo) -> bool {
        match self {
            Window::Starting { from, to } => s.start >= *from && s.start <= *to,
            Window::Ending { from, to } => s.end >= *from && s.end <= *to,
            Window::Ids(ids) => ids.iter().any(|id| id == &s.lsid),
        }
    }
}

const WINDOW_KEYS: [&str; 6] = [
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "lsid",
    "lsids",
];

/// Exactly one of the window parameters; `*_date` take `duration` in days, `*_time` in seconds,
/// and a duration of 0 means "up to now".
fn parse_window(params: &Params, allow_lsids: bool, now: i64) -> Result<Window, String> {
    if !allow_lsids && params.has("lsids") {
        return Err("Parameter lsids is only accepted by the session report.".to_string());
    }
    let given: Vec<&str> = WINDOW_KEYS
        .iter()
        .copied()
        .filter(|k| params.has(k))
        .collect();
    let key = match given.as_slice() {
        [] => {
            return Err(format!(
                "Missing time window: give exactly one of {} (dates and times together with duration).",
                WINDOW_KEYS[..if allow_lsids { 6 } else { 5 }].join(", ")
            ));
        }
        [one] => *one,
        many => {
            return Err(format!(
                "Conflicting time window parameters: {}; give exactly one.",
                many.join(", ")
            ));
        }
    };
    let value = params.get(key).unwrap_or("").trim();
    if key == "lsid" || key == "lsids" {
        if params.has("duration") {
            return Err(format!("Parameter duration cannot be combined with {key}."));
        }
        let ids: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if ids.is_empty() || (key == "lsid" && ids.len() != 1) {
            return Err(format!("Invalid value for parameter {key}: {value:?}."));
        }
        return Ok(Window::Ids(ids));
    }
    let Some(duration) = params.get("duration") else {
        return Err(format!(
            "Missing required parameter duration (used with {key})."
        ));
    };
    let duration: i64 = duration.trim().parse().ok().filter(|d| *d >= 0).ok_or_else(|| {
        format!("Invalid value for parameter duration: {duration:?}; expected a non-negative integer.")
    })?;
    let from = if key.ends_with("_date") {
        parse_date(value).ok_or_else(|| {
            format!("Invalid value for parameter {key}: {value:?}; expected YYYY-MM-DD.")
        })?
    } else {
        value
            .parse::<i64>()
            .ok()
            .filter(|t| *t >= 0)
            .ok_or_else(|| {
                format!("Invalid value for parameter {key}: {value:?}; expected a UNIX timestamp.")
            })?
    };
    let unit = if key.ends_with("_date") { DAY } else { 1 };
    let to = if duration == 0 {
        now
    } else {
        from.saturating_add(duration.saturating_mul(unit))
    };
    Ok(if key.starts_with("start") {
        Window::Starting { from, to }
    } else {
        Window::Ending { from, to }
    })
}

fn times_xml(indent: &str, s: &SessionInfo) -> String {
    format!(
        "{indent}<start_time timestamp=\"{}\">{}</start_time>\n{indent}<end_time timestamp=\"{}\">{}</end_time>\n",
        s.start,
        iso_secs(s.start),
        s.end,
        iso_secs(s.end)
    )
}

fn listing_xml(ns: &str, sessions: &[&SessionInfo]) -> Reply {
    let mut x = format!("{PROLOG}<session_list xmlns=\"{}\">\n", esc(ns));
    for s in sessions {
        x += &format!("\t<session lsid=\"{}\">\n", esc(&s.lsid));
        x += &times_xml("\t\t", s);
        x += &format!("\t\t<duration>{}</duration>\n", s.end - s.start);
        x += "\t</session>\n";
    }
    x += "</session_list>\n";
    Reply::xml(x)
}

fn session_xml(
    ns: &str,
    sessions: &[&SessionInfo],
    base_url: &str,
    types: &[(&str, Report)],
    product: Product,
) -> Reply {
    let mut x = format!("{PROLOG}<session_list xmlns=\"{}\">\n", esc(ns));
    for s in sessions {
        let n = s.number;
        x += &format!("\t<session lsid=\"{}\">\n", esc(&s.lsid));
        x += &times_xml("\t\t", s);
        x += &format!("\t\t<duration>{}</duration>\n", hms(s.end - s.start));
        x += "\t\t<public_site id=\"1\">Default</public_site>\n";
        x += "\t\t<session_type>support</session_type>\n";
        x += &format!("\t\t<primary_customer gsnumber=\"1\">Customer {n}</primary_customer>\n");
        x += &format!("\t\t<primary_rep gsnumber=\"2\" id=\"1\">Rep {n}</primary_rep>\n");
        for (name, kind) in types {
            let Report::Recording(rec) = kind else {
                continue;
            };
            if !rec.has(s, product) || *rec == Rec::Presentation {
                continue;
            }
            let url = format!(
                "{base_url}/api/reporting?generate_report={name}&lsid={}",
                s.lsid
            );
            x += &format!(
                "\t\t<{0}_recording_download_url>{1}</{0}_recording_download_url>\n",
                rec.label(),
                esc(&url)
            );
        }
        x += "\t</session>\n";
    }
    x += "</session_list>\n";
    Reply::xml(x)
}

/// Exit surveys of the sessions in the window: one `<exit_survey>` per session.
fn survey_xml(ns: &str, sessions: &[&SessionInfo], customer: bool) -> Reply {
    let root = if customer {
        "customer_exit_survey_list"
    } else {
        "rep_exit_survey_list"
    };
    let mut x = format!("{PROLOG}<{root} xmlns=\"{}\">\n", esc(ns));
    for s in sessions {
        x += &format!("\t<exit_survey lsid=\"{}\">\n", esc(&s.lsid));
        x += &format!(
            "\t\t<question id=\"1\">Was the problem solved?</question>\n\t\t<answer>{}</answer>\n",
            if s.number % 2 == 0 { "yes" } else { "no" }
        );
        x += "\t</exit_survey>\n";
    }
    x += &format!("</{root}>\n");
    Reply::xml(x)
}

fn recording(site: &SiteState, params: &Params, rec: Rec) -> Reply {
    let ns = site.cfg.namespace.reporting_uri();
    let Some(lsid) = params.get("lsid").filter(|l| !l.is_empty()) else {
        return Reply::xml_error(StatusCode::OK, ns, "Missing required parameter: lsid.");
    };
    let sessions = site.sessions();
    let Some(session) = sessions
        .iter()
        .find(|s| s.lsid == lsid && rec.has(s, site.cfg.product))
    else {
        return Reply::xml_error(
            StatusCode::OK,
            ns,
            &format!("No recording found for session {lsid}."),
        );
    };
    // Each kind has its own bytes, so a recording filed under the wrong kind would not verify.
    let key = match rec {
        Rec::Screen => session.lsid.clone(),
        other => format!("{}:{}", other.label(), session.lsid),
    };
    Reply::stream(
        Kind::Binary,
        site.cfg.recording_size,
        backup::recording_gen(&site.cfg, &key).into_stream(),
    )
    .header(
        "Content-Disposition",
        format!("attachment; filename=\"{}.flv\"", session.lsid),
    )
}

fn archive_day(params: &Params) -> Result<i64, String> {
    let Some(date) = params.get("date") else {
        return Err("Missing required parameter: date (YYYY-MM-DD).".to_string());
    };
    let day = parse_date(date.trim()).ok_or_else(|| {
        format!("Invalid value for parameter date: {date:?}; expected YYYY-MM-DD.")
    })?;
    let today = now_unix().div_euclid(DAY) * DAY;
    if day > today || day < today - 6 * DAY {
        return Err(NO_ARCHIVES.to_string());
    }
    Ok(day)
}

/// (index, time) of the state archives and (index, start, end) of the event archives of a day.
fn state_archives(day: i64) -> [(u32, i64); 2] {
    [(1, day), (2, day + 1800)]
}

fn event_archives(day: i64) -> [(u32, i64, i64); 2] {
    [(1, day, day + 600), (2, day + 600, day + 1200)]
}

fn archive_listing(site: &SiteState, params: &Params) -> Reply {
    let ns = site.cfg.namespace.reporting_uri();
    let day = match archive_day(params) {
        Ok(d) => d,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let mut x = format!("{PROLOG}<archives xmlns=\"{}\">\n", esc(ns));
    for (index, t) in state_archives(day) {
        x += "\t<state_archive>\n";
        x += &format!("\t\t<time timestamp=\"{t}\">{}</time>\n", iso_secs(t));
        x += &format!("\t\t<index>{index}</index>\n");
        x += "\t</state_archive>\n";
    }
    for (index, start, end) in event_archives(day) {
        x += "\t<event_archive>\n";
        x += &format!(
            "\t\t<start_time timestamp=\"{start}\">{}</start_time>\n",
            iso_secs(start)
        );
        x += &format!(
            "\t\t<end_time timestamp=\"{end}\">{}</end_time>\n",
            iso_secs(end)
        );
        x += &format!("\t\t<index>{index}</index>\n");
        x += "\t</event_archive>\n";
    }
    x += "</archives>\n";
    Reply::xml(x)
}

fn archive(site: &SiteState, params: &Params) -> Reply {
    let ns = site.cfg.namespace.reporting_uri();
    let kind = match params.get("type") {
        Some("state") => "state",
        Some("event") => "event",
        Some(other) => {
            return Reply::xml_error(
                StatusCode::OK,
                ns,
                &format!("Invalid value for parameter type: {other:?}; expected state or event."),
            );
        }
        None => {
            return Reply::xml_error(
                StatusCode::OK,
                ns,
                "Missing required parameter: type (state or event).",
            );
        }
    };
    let day = match archive_day(params) {
        Ok(d) => d,
        Err(e) => return Reply::xml_error(StatusCode::OK, ns, &e),
    };
    let index: Option<u32> = params.get("index").and_then(|i| i.trim().parse().ok());
    let Some(index) = index else {
        return Reply::xml_error(
            StatusCode::OK,
            ns,
            "Missing or invalid parameter: index (a positive integer from ArchiveListing).",
        );
    };
    let doc = if kind == "state" {
        let Some((_, t)) = state_archives(day).into_iter().find(|(i, _)| *i == index) else {
            return Reply::xml_error(StatusCode::OK, ns, NO_ARCHIVES);
        };
        state_json(site, t)
    } else {
        let Some((_, start, end)) = event_archives(day)
            .into_iter()
            .find(|(i, _, _)| *i == index)
        else {
            return Reply::xml_error(StatusCode::OK, ns, NO_ARCHIVES);
        };
        event_lines(site, start, end)
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    let compressed = gz.write_all(doc.as_bytes()).and_then(|()| gz.finish());
    match compressed {
        Ok(bytes) => Reply::new(StatusCode::OK, Kind::Gzip, bytes).header(
            "Content-Disposition",
            format!(
                "attachment; filename=\"{kind}-archive-{}-{index}.json.gz\"",
                day
            ),
        ),
        Err(_) => Reply::xml_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ns,
            "The archive could not be produced.",
        ),
    }
}

fn state_json(site: &SiteState, t: i64) -> String {
    let mut reps = serde_json::Map::new();
    let mut sessions = serde_json::Map::new();
    for s in &site.sessions() {
        reps.insert(
            s.number.to_string(),
            serde_json::json!({ "id": s.number, "display_name": format!("Rep {}", s.number) }),
        );
        sessions.insert(
            s.lsid.clone(),
            serde_json::json!({ "lsid": s.lsid, "start_time": s.start, "end_time": s.end }),
        );
    }
    serde_json::json!({
        "timestamp": t,
        "customer_client": serde_json::Value::Null,
        "representative": reps,
        "support_session": sessions,
        "representative_support_session": serde_json::Value::Null,
    })
    .to_string()
}

fn event_lines(site: &SiteState, start: i64, end: i64) -> String {
    let mut out = String::new();
    for (i, s) in site.sessions().iter().enumerate() {
        let t = start + (i as i64 * 37) % (end - start).max(1);
        for (offset, event) in [(0, "session_start"), (5, "session_end")] {
            out += &serde_json::json!({
                "timestamp": t + offset,
                "event_type": event,
                "lsid": s.lsid,
            })
            .to_string();
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        let mut p = Params::default();
        p.extend_for_test(q);
        p
    }

    #[test]
    fn window_rules() {
        let now = 1_700_000_000;
        assert_eq!(
            parse_window(&params("start_time=100&duration=50"), false, now),
            Ok(Window::Starting { from: 100, to: 150 })
        );
        assert_eq!(
            parse_window(&params("end_date=2023-11-14&duration=1"), false, now),
            Ok(Window::Ending {
                from: 1_699_920_000,
                to: 1_700_006_400
            })
        );
        assert_eq!(
            parse_window(&params("start_time=100&duration=0"), false, now),
            Ok(Window::Starting { from: 100, to: now })
        );
        assert!(parse_window(&params("start_time=100"), false, now).is_err());
        assert!(parse_window(&params("duration=5"), false, now).is_err());
        assert!(parse_window(&params("start_time=1&end_time=2&duration=5"), false, now).is_err());
        assert!(parse_window(&params("lsids=a,b"), false, now).is_err());
        assert!(parse_window(&params("lsids=a,b"), true, now).is_ok());
        assert!(parse_window(&params("lsid=a&duration=1"), true, now).is_err());
        assert!(parse_window(&params("start_date=2023-1-1x&duration=1"), false, now).is_err());
        assert!(parse_window(&params("start_time=1&duration=-1"), false, now).is_err());
    }
}
