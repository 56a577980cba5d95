//! A typed record of an appliance's `/appliance` settings, in place of the screenshots the
//! vendor asks for: the NSB does not carry any of this, and a rebuilt appliance needs it first.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::support::document::{Format, load_document, parse_document};
use crate::support::error::{Error, Result};

/// Identity from the `/appliance` Status page at the time of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplianceIdentity {
    /// Appliance hostname.
    pub hostname: String,
    /// Appliance (product) version.
    pub appliance_version: String,
    /// Serial number.
    pub serial: String,
    /// Base software version.
    pub base_version: String,
    /// System time shown on the Status page.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub system_time: OffsetDateTime,
}

/// One network interface of Networking > IP Configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// Interface name (e.g. `eth0`).
    pub name: String,
    /// Addresses in CIDR form, e.g. `10.0.0.5/24`.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Default gateway.
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    /// DNS servers.
    #[serde(default)]
    pub dns_servers: Vec<IpAddr>,
}

/// A static route (Networking > Static Routes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StaticRoute {
    /// Destination network in CIDR form.
    pub destination: String,
    /// Next hop.
    pub gateway: IpAddr,
    /// Interface, if pinned.
    #[serde(default)]
    pub interface: Option<String>,
}

/// SNMP settings (Networking > SNMP). Community strings are secrets and are not recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Snmp {
    /// Enabled.
    pub enabled: bool,
    /// Protocol version (`v2c`, `v3`).
    #[serde(default)]
    pub version: Option<String>,
    /// Hosts allowed to query.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// SSL/TLS configuration (Security > SSL/TLS Configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Enabled protocol versions.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Enabled cipher suites, in order.
    #[serde(default)]
    pub ciphers: Vec<String>,
}

/// Appliance administration restrictions (Security > Appliance Administration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdminRestrictions {
    /// Networks allowed to reach /appliance.
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    /// Ports and other restrictions, as free text.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Syslog forwarding (Security > Appliance Administration > Syslog).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Syslog {
    /// Enabled.
    pub enabled: bool,
    /// Server hostname or IP.
    #[serde(default)]
    pub host: Option<String>,
    /// Port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Message format the server expects.
    #[serde(default)]
    pub format: Option<String>,
}

/// The /appliance prerequisite login agreement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginAgreement {
    /// Enabled.
    pub enabled: bool,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Full text.
    #[serde(default)]
    pub text: Option<String>,
}

/// /appliance email (used for certificate expiry reminders). The SMTP password is not recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// SMTP server.
    #[serde(default)]
    pub server: Option<String>,
    /// Port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Sender address.
    #[serde(default)]
    pub from: Option<String>,
    /// Whether certificate expiry reminders are sent.
    #[serde(default)]
    pub certificate_reminders: bool,
    /// Reminder recipients.
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// Everything of `/appliance` a rebuilt appliance needs.
///
/// ```
/// use bt_dr_core::ApplianceRecord;
/// let r = ApplianceRecord::from_toml_str(r#"
///     [identity]
///     hostname = "bt-a.example.com"
///     appliance_version = "24.1.2"
///     serial = "B300-0042"
///     base_version = "7.2.1"
///     system_time = "2026-11-20T02:00:00Z"
///     [[ip_configuration]]
///     name = "eth0"
///     addresses = ["10.0.0.5/24"]
///     gateway = "10.0.0.1"
/// "#).unwrap();
/// assert_eq!(r.file_name(), "appliance-bt-a.example.com-v24.1.2-sn-B300-0042-base-7.2.1-20261120T020000Z.json");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplianceRecord {
    /// Identity from the Status page.
    pub identity: ApplianceIdentity,
    /// Networking > IP Configuration.
    #[serde(default)]
    pub ip_configuration: Vec<Interface>,
    /// Networking > Static Routes.
    #[serde(default)]
    pub static_routes: Vec<StaticRoute>,
    /// Networking > SNMP.
    #[serde(default)]
    pub snmp: Option<Snmp>,
    /// Security > SSL/TLS Configuration.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// Security > Appliance Administration.
    #[serde(default)]
    pub administration: Option<AdminRestrictions>,
    /// Syslog.
    #[serde(default)]
    pub syslog: Option<Syslog>,
    /// Prerequisite login agreement.
    #[serde(default)]
    pub login_agreement: Option<LoginAgreement>,
    /// Security > Email Configuration.
    #[serde(default)]
    pub smtp: Option<Smtp>,
}

/// The one JSON shape every binding returns for an `/appliance` record: the record's own fields
/// with its identifying `file_name` beside them. [`ApplianceRecord::from_view_json`] reads it
/// (or a bare record) back.
///
/// ```
/// # let r = bt_dr_core::ApplianceRecord::from_toml_str(r#"
/// #     [identity]
/// #     hostname = "bt-a.example.com"
/// #     appliance_version = "24.1.2"
/// #     serial = "B300-0042"
/// #     base_version = "7.2.1"
/// #     system_time = "2026-11-20T02:00:00Z"
/// #     [[ip_configuration]]
/// #     name = "eth0"
/// #     addresses = ["10.0.0.5/24"]
/// #     gateway = "10.0.0.1"
/// # "#)?;
/// let v = serde_json::to_value(r.view()).unwrap();
/// assert_eq!(v["identity"]["serial"], "B300-0042");
/// assert_eq!(v["file_name"], r.file_name());
/// assert_eq!(bt_dr_core::ApplianceRecord::from_view_json(v)?, r);
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ApplianceRecordView<'a> {
    /// The record's fields.
    #[serde(flatten)]
    pub record: &'a ApplianceRecord,
    /// [`ApplianceRecord::file_name`].
    pub file_name: String,
}

fn safe_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl ApplianceRecord {
    /// Parses and validates TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let r: Self = parse_document(text, Format::Toml, "appliance record", None)?;
        r.validate()?;
        Ok(r)
    }
    /// Parses and validates JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let r: Self = parse_document(text, Format::Json, "appliance record", None)?;
        r.validate()?;
        Ok(r)
    }
    /// The JSON view bindings return: the record with its `file_name`.
    pub fn view(&self) -> ApplianceRecordView<'_> {
        ApplianceRecordView {
            record: self,
            file_name: self.file_name(),
        }
    }

    /// A record as a binding receives it back: a bare record or its [`ApplianceRecord::view`]
    /// (the derived `file_name` is dropped; it is always recomputed). Any other unknown key is
    /// [`crate::Error::InvalidInput`]. Not validated: call [`ApplianceRecord::validate`].
    pub fn from_view_json(mut value: serde_json::Value) -> Result<Self> {
        if let Some(map) = value.as_object_mut() {
            map.remove("file_name");
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let field = e.path().to_string();
            crate::support::error::Error::invalid_input(
                if field == "." {
                    "appliance record".to_string()
                } else {
                    field
                },
                e.inner().to_string(),
            )
        })
    }

    /// Loads and validates a record file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let r: Self = load_document(path.as_ref(), "appliance record")?;
        r.validate()?;
        Ok(r)
    }

    /// The identifying file name: hostname, appliance version, serial, base version, system time.
    pub fn file_name(&self) -> String {
        let i = &self.identity;
        format!(
            "appliance-{}-v{}-sn-{}-base-{}-{}.json",
            safe_part(&i.hostname),
            safe_part(&i.appliance_version),
            safe_part(&i.serial),
            safe_part(&i.base_version),
            crate::support::fsutil::utc_stamp(i.system_time)
        )
    }

    /// Checks what a recovery depends on.
    pub fn validate(&self) -> Result<()> {
        let i = &self.identity;
        for (field, v) in [
            ("identity.hostname", &i.hostname),
            ("identity.appliance_version", &i.appliance_version),
            ("identity.serial", &i.serial),
            ("identity.base_version", &i.base_version),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid_input(
                    field,
                    "is required to identify the record",
                ));
            }
        }
        for (n, iface) in self.ip_configuration.iter().enumerate() {
            for a in &iface.addresses {
                check_cidr(a, &format!("ip_configuration[{n}].addresses"))?;
            }
        }
        for (n, r) in self.static_routes.iter().enumerate() {
            check_cidr(&r.destination, &format!("static_routes[{n}].destination"))?;
        }
        if let Some(s) = &self.syslog
            && s.enabled
            && s.host.as_deref().is_none_or(|h| h.trim().is_empty())
        {
            return Err(Error::invalid_input(
                "syslog.host",
                "syslog is enabled but no server host is recorded",
            ));
        }
        if let Some(m) = &self.smtp
            && m.certificate_reminders
        {
            if m.server.as_deref().is_none_or(|h| h.trim().is_empty()) {
                return Err(Error::invalid_input(
                    "smtp.server",
                    "certificate reminders are on but no SMTP server is recorded",
                ));
            }
            if m.recipients.is_empty() {
                return Err(Error::invalid_input(
                    "smtp.recipients",
                    "certificate reminders are on but nobody receives them",
                ));
            }
        }
        if let Some(a) = &self.login_agreement
            && a.enabled
            && a.text.as_deref().is_none_or(|t| t.trim().is_empty())
        {
            return Err(Error::invalid_input(
                "login_agreement.text",
                "the agreement is enabled but its text is not recorded",
            ));
        }
        if let Some(s) = &self.snmp
            && s.enabled
            && s.version.is_none()
        {
            return Err(Error::invalid_input(
                "snmp.version",
                "SNMP is enabled but its version is not recorded",
            ));
        }
        Ok(())
    }

    /// Validates and writes the record as JSON into `dir` under [`ApplianceRecord::file_name`].
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<PathBuf> {
        self.validate()?;
        crate::support::fsutil::write_json_atomic(dir.as_ref().join(self.file_name()), self)
    }
}

fn check_cidr(s: &str, field: &str) -> Result<()> {
    let (ip, len) = s.split_once('/').ok_or_else(|| {
        Error::invalid_input(field, format!("`{s}` is not in CIDR form (address/prefix)"))
    })?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| Error::invalid_input(field, format!("`{ip}` is not an IP address")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(l) if l <= max => Ok(()),
        _ => Err(Error::invalid_input(
            field,
            format!("prefix `{len}` is not 0..={max}"),
        )),
    }
}
