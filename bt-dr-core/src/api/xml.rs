//! Command and Reporting API XML, parsed without regard to namespace: old appliances use
//! `bomgar.com` URIs, newer ones `beyondtrust.com`, and prefixes vary.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::appliance::{ClusterRole, FailoverRole};
use crate::model::version::ProductVersion;
use crate::support::error::{Error, Result};

/// Local name of the document's root element (prefix stripped).
pub(crate) fn root_name(xml: &str) -> Result<String> {
    let mut r = quick_xml::Reader::from_str(xml);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Ok(e.local_name().as_ref().to_string());
            }
            Ok(Event::Eof) => {
                return Err(Error::parse(
                    "appliance XML",
                    "the response has no root element",
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(Error::parse("appliance XML", format!("malformed XML: {e}"))),
        }
    }
}

/// If `xml` is an `<error>` document (or its root holds an `<error>` child), the message —
/// redacted and bounded (see [`super::transport::redact`]), since it ends up in errors.
pub(crate) fn error_message(xml: &str) -> Option<String> {
    raw_error_message(xml).map(|m| super::transport::redact(&m))
}

fn raw_error_message(xml: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Root {
        #[serde(default)]
        error: Option<String>,
    }
    match root_name(xml).ok()?.as_str() {
        "error" => {
            #[derive(Deserialize)]
            struct E {
                #[serde(rename = "$text", default)]
                text: String,
            }
            let e: E = quick_xml::de::from_str(xml).ok()?;
            Some(e.text.trim().to_string())
        }
        _ => quick_xml::de::from_str::<Root>(xml)
            .ok()
            .and_then(|r| r.error)
            .map(|s| s.trim().to_string()),
    }
}

pub(crate) fn from_xml<'de, T: Deserialize<'de>>(xml: &'de str, expected_root: &str) -> Result<T> {
    let root = root_name(xml)?;
    if root == "error" {
        return Err(Error::Api {
            status: None,
            message: error_message(xml).unwrap_or_default(),
        });
    }
    if root != expected_root {
        return Err(Error::parse(
            "appliance XML",
            format!("expected a <{expected_root}> document, got <{root}>"),
        ));
    }
    quick_xml::de::from_str(xml)
        .map_err(|e| Error::parse(format!("<{expected_root}> response"), e.to_string()))
}

pub(crate) fn parse_bool(s: &str) -> bool {
    matches!(s.trim(), "1" | "true" | "yes")
}

#[derive(Deserialize)]
struct TextWithAttr {
    #[serde(rename = "@ts", default)]
    ts: Option<i64>,
    #[serde(rename = "@timestamp", default)]
    timestamp: Option<i64>,
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(rename = "$text", default)]
    text: String,
}

impl TextWithAttr {
    fn unix(&self) -> Option<i64> {
        self.ts.or(self.timestamp)
    }
    fn time(&self) -> Option<OffsetDateTime> {
        self.unix()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .or_else(|| parse_iso(self.text.trim()))
    }
}

/// The appliance writes ISO 8601 with offsets like `+0000` (no colon), which RFC 3339 rejects.
fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t);
    }
    // 2019-10-07T00:32:50.877+0000 → insert the colon in the offset. The text comes from the
    // appliance: every cut is checked to fall on a character boundary (`get` returns `None`
    // otherwise), so a multi-byte character anywhere cannot panic.
    let cut = s.len().checked_sub(5).filter(|&c| c > 0)?;
    let head = s.get(..cut)?;
    let off = s.get(cut..)?;
    let (sign, digits) = off.split_at_checked(1)?;
    if matches!(sign, "+" | "-") && digits.bytes().all(|b| b.is_ascii_digit()) {
        let (hh, mm) = digits.split_at_checked(2)?;
        let fixed = format!("{head}{sign}{hh}:{mm}");
        return OffsetDateTime::parse(&fixed, &Rfc3339).ok();
    }
    None
}

/// `check_health` of one appliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Health {
    /// Appliance GUID.
    pub appliance_id: String,
    /// Appliance hostname.
    pub hostname: String,
    /// Version with build.
    pub version: ProductVersion,
    /// The appliance considers itself healthy.
    pub success: bool,
    /// The problem, when not healthy.
    pub error_message: Option<String>,
    /// Current failover role.
    pub failover_role: FailoverRole,
    /// Shared IPs enabled on this appliance.
    pub enabled_shared_ips: Vec<String>,
    /// Last primary/backup data sync (absent without failover).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub last_data_sync_time: Option<OffsetDateTime>,
    /// Status of the last data sync.
    pub last_data_sync_status: Option<String>,
}

impl Health {
    /// Parses a `check_health` response body, whichever namespace (or prefix) the appliance
    /// uses — for example one saved by a monitoring script.
    ///
    /// ```
    /// let xml = r#"<health_check xmlns="https://www.beyondtrust.com/namespaces/API/command">
    ///   <appliance id="0123456789abcdef0123456789abcdef">bt-a.example.com</appliance>
    ///   <version>24.1.2 (37380-5f3c2a9e)</version><success>1</success>
    ///   <failover_role>backup</failover_role></health_check>"#;
    /// let h = bt_dr_core::api::Health::from_xml(xml).unwrap();
    /// assert_eq!(h.hostname, "bt-a.example.com");
    /// assert!(h.success);
    /// assert!(bt_dr_core::api::Health::from_xml("<error>denied</error>").is_err());
    /// ```
    pub fn from_xml(xml: &str) -> Result<Health> {
        parse_health(xml)
    }
}

pub(crate) fn parse_health(xml: &str) -> Result<Health> {
    #[derive(Deserialize)]
    struct Ips {
        #[serde(default)]
        ip: Vec<String>,
    }
    #[derive(Deserialize)]
    struct H {
        appliance: TextWithAttr,
        version: String,
        success: String,
        #[serde(default)]
        error_message: Option<String>,
        #[serde(default)]
        failover_role: Option<String>,
        #[serde(default)]
        enabled_shared_ips: Option<Ips>,
        #[serde(default)]
        last_data_sync_time: Option<TextWithAttr>,
        #[serde(default)]
        last_data_sync_status: Option<String>,
    }
    let h: H = from_xml(xml, "health_check")?;
    Ok(Health {
        appliance_id: h.appliance.id.clone().unwrap_or_default(),
        hostname: h.appliance.text.trim().to_string(),
        version: h.version.trim().parse()?,
        success: parse_bool(&h.success),
        error_message: h
            .error_message
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        failover_role: h
            .failover_role
            .as_deref()
            .map(str::parse)
            .transpose()?
            .unwrap_or_default(),
        enabled_shared_ips: h
            .enabled_shared_ips
            .map(|i| i.ip.into_iter().map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        last_data_sync_time: h.last_data_sync_time.as_ref().and_then(TextWithAttr::time),
        last_data_sync_status: h.last_data_sync_status.map(|s| s.trim().to_string()),
    })
}

/// Command API access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommandAccess {
    /// No access.
    #[default]
    Deny,
    /// Reads (health, appliances, clients).
    ReadOnly,
    /// Reads and changes (failover role).
    FullAccess,
}

/// The calling account's permissions from `get_api_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Permissions {
    /// `perm_command`.
    pub command: CommandAccess,
    /// `perm_backup`.
    pub backup: bool,
    /// `perm_reporting_support` (or PRA's `perm_reporting`): session reports and recordings.
    pub reporting_support: bool,
    /// `perm_reporting_archive`.
    pub reporting_archive: bool,
    /// `perm_vault_backup`.
    pub vault_backup: bool,
    /// `perm_configuration`.
    pub configuration: bool,
    /// `perm_configuration_vault_account` (also read from the misspelt `perm_configuration_vault_acount`).
    pub configuration_vault_account: bool,
    /// Every permission as the appliance named it.
    pub raw: BTreeMap<String, String>,
}

/// `get_api_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiInfo {
    /// API version, e.g. `1.19.0`.
    pub api_version: String,
    /// Company API name (RS).
    pub company_name: Option<String>,
    /// Appliance clock, UNIX seconds (for skew checks).
    pub timestamp: Option<i64>,
    /// Permissions.
    pub permissions: Permissions,
}

impl ApiInfo {
    /// The permission `operation` needs that this account lacks, if any.
    pub fn missing_permission(&self, operation: &str) -> Option<&'static str> {
        let p = &self.permissions;
        let need = super::required_permission(operation)?;
        let ok = match need {
            "perm_command" if operation == "set_failover_role" => {
                p.command == CommandAccess::FullAccess
            }
            "perm_command" => p.command != CommandAccess::Deny,
            "perm_backup" => p.backup,
            "perm_reporting_support" => p.reporting_support,
            "perm_reporting_archive" => p.reporting_archive,
            _ => true,
        };
        (!ok).then_some(need)
    }
}

pub(crate) fn parse_api_info(xml: &str) -> Result<ApiInfo> {
    #[derive(Deserialize)]
    struct Perms {
        #[serde(default)]
        permission: Vec<Perm>,
    }
    #[derive(Deserialize)]
    struct Perm {
        #[serde(rename = "@name")]
        name: String,
        #[serde(rename = "$text", default)]
        value: String,
    }
    #[derive(Deserialize)]
    struct A {
        api_version: String,
        #[serde(default)]
        company_name: Option<String>,
        #[serde(default)]
        timestamp: Option<String>,
        #[serde(default)]
        permissions: Option<Perms>,
    }
    let a: A = from_xml(xml, "api_information")?;
    let raw: BTreeMap<String, String> = a
        .permissions
        .map(|p| {
            p.permission
                .into_iter()
                .map(|p| (p.name.trim().to_string(), p.value.trim().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let flag = |names: &[&str]| {
        names
            .iter()
            .any(|n| raw.get(*n).is_some_and(|v| parse_bool(v)))
    };
    let command = match raw.get("perm_command").map(String::as_str) {
        Some("full_access") => CommandAccess::FullAccess,
        Some("read_only") => CommandAccess::ReadOnly,
        _ => CommandAccess::Deny,
    };
    let permissions = Permissions {
        command,
        backup: flag(&["perm_backup"]),
        reporting_support: flag(&["perm_reporting_support", "perm_reporting"]),
        reporting_archive: flag(&["perm_reporting_archive"]),
        vault_backup: flag(&["perm_vault_backup"]),
        configuration: flag(&["perm_configuration"]),
        configuration_vault_account: flag(&[
            "perm_configuration_vault_account",
            "perm_configuration_vault_acount",
        ]),
        raw,
    };
    Ok(ApiInfo {
        api_version: a.api_version.trim().to_string(),
        company_name: a.company_name.map(|s| s.trim().to_string()),
        timestamp: a.timestamp.and_then(|t| t.trim().parse().ok()),
        permissions,
    })
}

/// One appliance of `get_appliances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApplianceInfo {
    /// GUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Public hostname.
    pub public_hostname: String,
    /// Atlas role.
    pub cluster_role: ClusterRole,
    /// Failover role.
    pub failover_role: FailoverRole,
    /// Accepts new client connections.
    pub accepting_connections: bool,
    /// Seconds from UTC.
    pub timezone_offset: Option<i64>,
}

pub(crate) fn parse_appliances(xml: &str) -> Result<Vec<ApplianceInfo>> {
    #[derive(Deserialize)]
    struct Ap {
        #[serde(rename = "@id", default)]
        id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        public_hostname: String,
        #[serde(default)]
        cluster_role: Option<String>,
        #[serde(default)]
        failover_role: Option<String>,
        #[serde(default)]
        accepting_connections: Option<String>,
        #[serde(default)]
        timezone_offset: Option<String>,
    }
    #[derive(Deserialize)]
    struct Aps {
        #[serde(default)]
        appliance: Vec<Ap>,
        #[serde(default)]
        error: Option<String>,
    }
    let a: Aps = from_xml(xml, "appliances")?;
    if let Some(e) = a.error {
        return Err(Error::Api {
            status: None,
            message: e.trim().to_string(),
        });
    }
    a.appliance
        .into_iter()
        .map(|x| {
            Ok(ApplianceInfo {
                id: x.id,
                name: x.name.trim().to_string(),
                public_hostname: x.public_hostname.trim().to_string(),
                cluster_role: x
                    .cluster_role
                    .as_deref()
                    .map(str::parse)
                    .transpose()?
                    .unwrap_or_default(),
                failover_role: x
                    .failover_role
                    .as_deref()
                    .map(str::parse)
                    .transpose()?
                    .unwrap_or_default(),
                accepting_connections: x.accepting_connections.as_deref().is_none_or(parse_bool),
                timezone_offset: x.timezone_offset.and_then(|t| t.trim().parse().ok()),
            })
        })
        .collect()
}

/// A client connected to the appliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConnectedClient {
    /// Client id.
    pub id: String,
    /// `representative`, `support_customer`, `presentation_attendee`, `push_agent`, ….
    pub client_type: String,
}

pub(crate) fn parse_connected_clients(xml: &str) -> Result<Vec<ConnectedClient>> {
    #[derive(Deserialize)]
    struct C {
        #[serde(rename = "@id", default)]
        id: String,
        #[serde(rename = "@type", default)]
        client_type: String,
    }
    #[derive(Deserialize)]
    struct L {
        #[serde(default)]
        connected_client: Vec<C>,
    }
    let l: L = from_xml(xml, "connected_client_list")?;
    Ok(l.connected_client
        .into_iter()
        .map(|c| ConnectedClient {
            id: c.id,
            client_type: c.client_type,
        })
        .collect())
}

/// What `set_failover_role` answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoleChange {
    /// The appliance's success message.
    pub message: String,
    /// A data sync started first; the role changes when it completes.
    pub sync_started: bool,
}

pub(crate) fn parse_role_change(xml: &str) -> Result<RoleChange> {
    #[derive(Deserialize)]
    struct S {
        #[serde(rename = "$text", default)]
        text: String,
    }
    let s: S = from_xml(xml, "success")?;
    let message = s.text.trim().to_string();
    let sync_started = message.to_ascii_lowercase().contains("data sync");
    Ok(RoleChange {
        message,
        sync_started,
    })
}

/// A session from a listing or report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Session {
    /// Session id.
    pub lsid: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub start_time: Option<OffsetDateTime>,
    /// End (absent while in progress).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub end_time: Option<OffsetDateTime>,
    /// Duration as reported.
    pub duration: Option<String>,
    /// Session type.
    pub session_type: Option<String>,
    /// Public site.
    pub public_site: Option<String>,
    /// Primary customer.
    pub primary_customer: Option<String>,
    /// Primary representative / user.
    pub primary_rep: Option<String>,
    /// Where the recording downloads from, when there is one.
    pub recording_url: Option<String>,
}

pub(crate) fn parse_sessions(xml: &str) -> Result<Vec<Session>> {
    #[derive(Deserialize)]
    struct S {
        #[serde(rename = "@lsid")]
        lsid: String,
        #[serde(default)]
        start_time: Option<TextWithAttr>,
        #[serde(default)]
        end_time: Option<TextWithAttr>,
        #[serde(default)]
        duration: Option<String>,
        #[serde(default)]
        session_type: Option<String>,
        #[serde(default)]
        public_site: Option<TextWithAttr>,
        #[serde(default)]
        primary_customer: Option<TextWithAttr>,
        #[serde(default)]
        primary_rep: Option<TextWithAttr>,
        #[serde(default)]
        session_recording_download_url: Option<String>,
    }
    #[derive(Deserialize)]
    struct L {
        #[serde(default)]
        session: Vec<S>,
    }
    let l: L = from_xml(xml, "session_list")?;
    let text = |t: Option<TextWithAttr>| {
        t.map(|t| t.text.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    Ok(l.session
        .into_iter()
        .map(|s| Session {
            lsid: s.lsid.trim().to_string(),
            start_time: s.start_time.as_ref().and_then(TextWithAttr::time),
            end_time: s.end_time.as_ref().and_then(TextWithAttr::time),
            duration: s.duration.map(|d| d.trim().to_string()),
            session_type: s.session_type.map(|d| d.trim().to_string()),
            public_site: text(s.public_site),
            primary_customer: text(s.primary_customer),
            primary_rep: text(s.primary_rep),
            recording_url: s
                .session_recording_download_url
                .map(|d| d.trim().to_string())
                .filter(|s| !s.is_empty()),
        })
        .collect())
}

/// Kind of archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ArchiveKind {
    /// 30-minute state snapshot.
    State,
    /// 10-minute event span.
    Event,
}

impl ArchiveKind {
    /// API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveKind::State => "state",
            ArchiveKind::Event => "event",
        }
    }
}

/// One archive of `ArchiveListing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArchiveEntry {
    /// State or event.
    pub kind: ArchiveKind,
    /// Per-day index (from 1).
    pub index: u32,
    /// State archive time, or event archive start.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub start: Option<OffsetDateTime>,
    /// Event archive end.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", extend("format" = "date-time")))]
    pub end: Option<OffsetDateTime>,
}

pub(crate) fn parse_archives(xml: &str) -> Result<Vec<ArchiveEntry>> {
    if root_name(xml)? == "error" {
        let msg = error_message(xml).unwrap_or_default();
        // "No archives found" is an empty day, not a failure.
        if msg.to_ascii_lowercase().contains("no archives") {
            return Ok(Vec::new());
        }
        return Err(Error::Api {
            status: None,
            message: msg,
        });
    }
    #[derive(Deserialize)]
    struct St {
        #[serde(default)]
        time: Option<TextWithAttr>,
        index: String,
    }
    #[derive(Deserialize)]
    struct Ev {
        #[serde(default)]
        start_time: Option<TextWithAttr>,
        #[serde(default)]
        end_time: Option<TextWithAttr>,
        index: String,
    }
    #[derive(Deserialize)]
    struct A {
        #[serde(default)]
        state_archive: Vec<St>,
        #[serde(default)]
        event_archive: Vec<Ev>,
    }
    let a: A = from_xml(xml, "archives")?;
    let idx = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| Error::parse("ArchiveListing", format!("index `{s}` is not a number")))
    };
    let mut out = Vec::new();
    for s in a.state_archive {
        out.push(ArchiveEntry {
            kind: ArchiveKind::State,
            index: idx(&s.index)?,
            start: s.time.as_ref().and_then(TextWithAttr::time),
            end: None,
        });
    }
    for e in a.event_archive {
        out.push(ArchiveEntry {
            kind: ArchiveKind::Event,
            index: idx(&e.index)?,
            start: e.start_time.as_ref().and_then(TextWithAttr::time),
            end: e.end_time.as_ref().and_then(TextWithAttr::time),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>

<health_check xmlns="http://www.bomgar.com/namespaces/API/command"><appliance id="0123456789abcdef0123456789abcdef">bt-a.example.com</appliance><version>19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)</version><success>1</success><failover_role>none</failover_role></health_check>"#;

    #[test]
    fn health_in_old_new_and_prefixed_namespaces() {
        let h = parse_health(OLD).unwrap();
        assert_eq!(h.hostname, "bt-a.example.com");
        assert_eq!(h.version.release(), "19.1.8");
        assert!(h.success && h.last_data_sync_time.is_none());
        let new = OLD.replace("http://www.bomgar.com", "https://www.beyondtrust.com");
        assert_eq!(parse_health(&new).unwrap(), h);
        let prefixed = r#"<ns:health_check xmlns:ns="https://www.beyondtrust.com/namespaces/API/command"><ns:appliance id="x"> h </ns:appliance><ns:version>24.1.2</ns:version><ns:success>0</ns:success><ns:error_message>disk</ns:error_message><ns:failover_role>backup</ns:failover_role><ns:enabled_shared_ips><ns:ip>10.0.0.9</ns:ip></ns:enabled_shared_ips><ns:last_data_sync_time>2019-10-07T00:32:50.877+0000</ns:last_data_sync_time><ns:last_data_sync_status>success</ns:last_data_sync_status></ns:health_check>"#;
        let h = parse_health(prefixed).unwrap();
        assert_eq!(h.hostname, "h");
        assert!(!h.success);
        assert_eq!(h.error_message.as_deref(), Some("disk"));
        assert_eq!(h.failover_role, FailoverRole::Backup);
        assert_eq!(h.enabled_shared_ips, ["10.0.0.9"]);
        assert_eq!(h.last_data_sync_time.unwrap().unix_timestamp(), 1570408370);
    }

    #[test]
    fn error_documents_become_api_errors() {
        let e = parse_health(
            r#"<error xmlns="http://www.bomgar.com/namespaces/API/command">Login failed</error>"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::Api { message, .. } if message == "Login failed"),
            "{e}"
        );
        let e = parse_health("<health_check><appliance").unwrap_err();
        assert_eq!(e.kind(), crate::support::error::ErrorKind::Parse);
    }

    #[test]
    fn api_info_accepts_both_spellings() {
        let xml = r#"<api_information><api_version>1.19.0</api_version><timestamp>1574638362</timestamp><permissions><permission name="perm_command">read_only</permission><permission name="perm_backup">1</permission><permission name="perm_configuration_vault_acount">1</permission></permissions></api_information>"#;
        let a = parse_api_info(xml).unwrap();
        assert_eq!(a.permissions.command, CommandAccess::ReadOnly);
        assert!(a.permissions.backup && a.permissions.configuration_vault_account);
        assert_eq!(
            a.missing_permission("set_failover_role"),
            Some("perm_command")
        );
        assert_eq!(a.missing_permission("check_health"), None);
        assert_eq!(
            a.missing_permission("download_recording"),
            Some("perm_reporting_support")
        );
    }

    #[test]
    fn multi_byte_characters_at_cut_points_never_panic() {
        // Every position of a multi-byte character around the offset cut (len - 5) and the
        // sign/hour/minute cuts, in 2-, 3- and 4-byte forms.
        let base = "2019-10-07T00:32:50.877+0000";
        for ch in ["é", "€", "𝄞"] {
            for i in 0..=base.len() {
                let mut s = base.to_string();
                s.insert_str(i, ch);
                let _ = parse_iso(&s);
            }
            for tail in ["+000", "+00", "+0", "+", ""] {
                let _ = parse_iso(&format!("{ch}{tail}"));
                let _ = parse_iso(&format!("2019{ch}{tail}"));
            }
            let _ = parse_iso(&format!("{ch}{ch}{ch}"));
        }
        assert_eq!(
            parse_iso(base).map(|t| t.unix_timestamp()),
            Some(1570408370)
        );
        assert_eq!(parse_iso("2019-10-07T00:32:50.877+00€0"), None);
        // Through a whole document: a timestamp field ending in multi-byte characters.
        for text in ["2019-10-07T00:32:50.877+€", "é€𝄞+0000", "€€€€€"] {
            let xml = format!(
                "<health_check><appliance id=\"x\">h</appliance><version>24.1.2</version><success>1</success><last_data_sync_time>{text}</last_data_sync_time></health_check>"
            );
            let h = parse_health(&xml).unwrap();
            assert_eq!(h.last_data_sync_time, None);
        }
        // Attribute timestamps out of range are absent, not a panic.
        let xml = r#"<health_check><appliance id="x">h</appliance><version>24.1.2</version><success>1</success><last_data_sync_time ts="9223372036854775807"/></health_check>"#;
        assert_eq!(parse_health(xml).unwrap().last_data_sync_time, None);
    }

    #[test]
    fn error_messages_are_redacted_and_bounded() {
        let xml = format!(
            "<error>Denied for Authorization: Bearer abcdefghij0123456789abcdefghij {}</error>",
            "x".repeat(5000)
        );
        let m = error_message(&xml).unwrap();
        assert!(!m.contains("abcdefghij0123456789"), "{m}");
        assert!(m.chars().count() <= super::super::transport::MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn no_archives_is_empty() {
        let xml = r#"<error xmlns="http://www.bomgar.com/namespaces/API/reporting">No archives found for the given search criteria.</error>"#;
        assert!(parse_archives(xml).unwrap().is_empty());
    }
}
