//! The one error type of bt-dr, with stable kinds that every binding maps 1:1.
//!
//! Bindings never invent their own failure classes: Python raises the subclass of
//! `bt_dr.BtDrError` named by [`ErrorKind::python_class`], Node sets `error.code` to
//! [`ErrorKind::code`], and C returns [`ErrorKind::status`]. Messages are built by
//! bt-dr itself and never contain a secret (client secret, token, passwords).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Result alias used throughout bt-dr.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable class of an [`Error`]. New kinds may be added; existing codes never change.
///
/// ```
/// use bt_dr_core::ErrorKind;
/// assert_eq!(ErrorKind::WrongPassphrase.code(), "BT_DR_WRONG_PASSPHRASE");
/// assert_eq!(ErrorKind::WrongPassphrase.status(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A caller-supplied value is out of range or inconsistent.
    InvalidInput,
    /// A file or response could not be parsed (location attached when known).
    Parse,
    /// Reading or writing a local file failed.
    Io,
    /// A certificate bundle is unusable (corrupt, not PKCS#12, unsupported).
    Certificate,
    /// The passphrase or password did not open the file.
    WrongPassphrase,
    /// A backup cannot be restored onto the target site's version.
    VersionIncompatible,
    /// Data on disk or on the wire does not match what was promised (size, hash, content type).
    Integrity,
    /// The appliance rejected the OAuth credentials or token.
    Auth,
    /// The API account lacks the permission an operation needs.
    PermissionDenied,
    /// The appliance kept answering "too many requests" past the retry budget.
    RateLimited,
    /// The appliance answered with an API error (`<error>` body or unexpected status).
    Api,
    /// TLS set-up or verification failed (unknown CA, pin mismatch, plain http refused).
    Tls,
    /// The appliance could not be reached (connect, reset, DNS).
    Network,
    /// An operation exceeded its time budget.
    Timeout,
    /// The caller cancelled the operation.
    Cancelled,
    /// A safety rule refused an action (e.g. promoting a backup while the primary is healthy).
    Refused,
    /// A named thing (site, appliance, backup set, session) does not exist.
    NotFound,
    /// A defect inside bt-dr (a caught panic). Never caused by input; please report it.
    Internal,
}

/// One entry of [`ErrorKind::catalog`]: a kind (serialized as its snake-case name, the same
/// as [`ErrorKind::as_str`]) and its stable `BT_DR_*` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorKindInfo {
    /// The kind, e.g. `"permission_denied"`.
    pub kind: ErrorKind,
    /// Its stable code, e.g. `"BT_DR_PERMISSION_DENIED"` (Node's `error.code`).
    pub code: &'static str,
}

impl ErrorKind {
    /// Every kind, in status-code order (bindings iterate this for parity tests).
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::InvalidInput,
        ErrorKind::Parse,
        ErrorKind::Io,
        ErrorKind::Certificate,
        ErrorKind::WrongPassphrase,
        ErrorKind::VersionIncompatible,
        ErrorKind::Integrity,
        ErrorKind::Auth,
        ErrorKind::PermissionDenied,
        ErrorKind::RateLimited,
        ErrorKind::Api,
        ErrorKind::Tls,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Cancelled,
        ErrorKind::Refused,
        ErrorKind::NotFound,
        ErrorKind::Internal,
    ];

    /// Every kind with its stable code, in status-code order: the list bindings hand out
    /// (Node `errorKinds()`), serialized as `[{"kind": "invalid_input", "code": "BT_DR_INVALID_INPUT"}, …]`.
    ///
    /// ```
    /// let all = bt_dr_core::ErrorKind::catalog();
    /// assert_eq!(all.len(), bt_dr_core::ErrorKind::ALL.len());
    /// assert_eq!(all[0].code, "BT_DR_INVALID_INPUT");
    /// ```
    pub fn catalog() -> Vec<ErrorKindInfo> {
        Self::ALL
            .iter()
            .map(|&kind| ErrorKindInfo {
                kind,
                code: kind.code(),
            })
            .collect()
    }

    /// Snake-case name, e.g. `"permission_denied"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Parse => "parse",
            ErrorKind::Io => "io",
            ErrorKind::Certificate => "certificate",
            ErrorKind::WrongPassphrase => "wrong_passphrase",
            ErrorKind::VersionIncompatible => "version_incompatible",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Auth => "auth",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Api => "api",
            ErrorKind::Tls => "tls",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Refused => "refused",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Internal => "internal",
        }
    }

    /// Node `error.code` string, e.g. `"BT_DR_PERMISSION_DENIED"`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "BT_DR_INVALID_INPUT",
            ErrorKind::Parse => "BT_DR_PARSE",
            ErrorKind::Io => "BT_DR_IO",
            ErrorKind::Certificate => "BT_DR_CERTIFICATE",
            ErrorKind::WrongPassphrase => "BT_DR_WRONG_PASSPHRASE",
            ErrorKind::VersionIncompatible => "BT_DR_VERSION_INCOMPATIBLE",
            ErrorKind::Integrity => "BT_DR_INTEGRITY",
            ErrorKind::Auth => "BT_DR_AUTH",
            ErrorKind::PermissionDenied => "BT_DR_PERMISSION_DENIED",
            ErrorKind::RateLimited => "BT_DR_RATE_LIMITED",
            ErrorKind::Api => "BT_DR_API",
            ErrorKind::Tls => "BT_DR_TLS",
            ErrorKind::Network => "BT_DR_NETWORK",
            ErrorKind::Timeout => "BT_DR_TIMEOUT",
            ErrorKind::Cancelled => "BT_DR_CANCELLED",
            ErrorKind::Refused => "BT_DR_REFUSED",
            ErrorKind::NotFound => "BT_DR_NOT_FOUND",
            ErrorKind::Internal => "BT_DR_INTERNAL",
        }
    }

    /// C status code (`bt_dr_status`); 0 is success, so kinds start at 1.
    pub fn status(self) -> i32 {
        match self {
            ErrorKind::InvalidInput => 1,
            ErrorKind::Parse => 2,
            ErrorKind::Io => 3,
            ErrorKind::Certificate => 4,
            ErrorKind::Auth => 5,
            ErrorKind::PermissionDenied => 6,
            ErrorKind::RateLimited => 7,
            ErrorKind::WrongPassphrase => 8,
            ErrorKind::VersionIncompatible => 9,
            ErrorKind::Integrity => 10,
            ErrorKind::Api => 11,
            ErrorKind::Tls => 12,
            ErrorKind::Network => 13,
            ErrorKind::Timeout => 14,
            ErrorKind::Cancelled => 15,
            ErrorKind::Refused => 16,
            ErrorKind::NotFound => 17,
            ErrorKind::Internal => 18,
        }
    }

    /// Name of the Python exception class for this kind.
    pub fn python_class(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::Parse => "ParseError",
            ErrorKind::Io => "IoError",
            ErrorKind::Certificate => "CertificateError",
            ErrorKind::WrongPassphrase => "WrongPassphrase",
            ErrorKind::VersionIncompatible => "VersionIncompatible",
            ErrorKind::Integrity => "IntegrityError",
            ErrorKind::Auth => "AuthError",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Api => "ApiError",
            ErrorKind::Tls => "TlsError",
            ErrorKind::Network => "NetworkError",
            ErrorKind::Timeout => "TimeoutError",
            ErrorKind::Cancelled => "Cancelled",
            ErrorKind::Refused => "Refused",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Internal => "InternalError",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a file a parse error happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    /// The file, when the input came from one.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
    pub file: Option<PathBuf>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}", p.display())?,
            None => f.write_str("<input>")?,
        }
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}

/// Every failure bt-dr reports. Match on [`Error::kind`] for a stable class; the variant
/// fields carry the structured details bindings expose.
///
/// ```
/// use bt_dr_core::{Error, ErrorKind};
/// let e = Error::invalid_input("site.fqdn", "must not be empty");
/// assert_eq!(e.kind(), ErrorKind::InvalidInput);
/// assert_eq!(e.to_string(), "invalid input: site.fqdn: must not be empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::InvalidInput`].
    #[error("invalid input: {field}: {reason}")]
    InvalidInput {
        /// The offending field or argument.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// See [`ErrorKind::Parse`].
    #[error("cannot parse {what}{}{}: {reason}", location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default(), field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    Parse {
        /// What was being parsed.
        what: String,
        /// File, line and column, when known.
        location: Option<Box<Location>>,
        /// Field path inside the document, when known.
        field: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// See [`ErrorKind::Io`].
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What bt-dr was doing (`reading`, `renaming into place`, …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// See [`ErrorKind::Certificate`].
    #[error("certificate bundle: {reason}")]
    Certificate {
        /// What is wrong with the bundle.
        reason: String,
    },
    /// See [`ErrorKind::WrongPassphrase`].
    #[error("wrong passphrase for {what}")]
    WrongPassphrase {
        /// What could not be opened.
        what: String,
    },
    /// See [`ErrorKind::VersionIncompatible`].
    #[error("backup version {backup} cannot be restored onto site version {site}: {reason}")]
    VersionIncompatible {
        /// Version of the backup.
        backup: String,
        /// Version of the target site.
        site: String,
        /// Why it is refused.
        reason: String,
    },
    /// See [`ErrorKind::Integrity`].
    #[error("integrity check failed for {subject}: {reason}")]
    Integrity {
        /// The file or transfer.
        subject: String,
        /// What does not match.
        reason: String,
    },
    /// See [`ErrorKind::Auth`].
    #[error("authentication failed: {reason}")]
    Auth {
        /// Why the appliance refused.
        reason: String,
    },
    /// See [`ErrorKind::PermissionDenied`].
    #[error("permission denied: {operation} needs API permission `{permission}`")]
    PermissionDenied {
        /// The operation that was refused.
        operation: String,
        /// The API permission it needs.
        permission: String,
    },
    /// See [`ErrorKind::RateLimited`].
    #[error("rate limited by the appliance{}", retry_after.map(|d| format!(" (retry after {} ms)", d.as_millis())).unwrap_or_default())]
    RateLimited {
        /// The wait the appliance asked for last.
        retry_after: Option<Duration>,
    },
    /// See [`ErrorKind::Api`].
    #[error("appliance API error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// HTTP status, when not 200.
        status: Option<u16>,
        /// The appliance's own message (from `<error>` or the JSON `message`).
        message: String,
    },
    /// See [`ErrorKind::Tls`].
    #[error("TLS: {reason}")]
    Tls {
        /// What failed.
        reason: String,
    },
    /// See [`ErrorKind::Network`].
    #[error("network: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// See [`ErrorKind::Timeout`].
    #[error("timed out: {operation}")]
    Timeout {
        /// The operation that ran out of time.
        operation: String,
    },
    /// See [`ErrorKind::Cancelled`].
    #[error("cancelled: {operation}")]
    Cancelled {
        /// The operation that was cancelled.
        operation: String,
    },
    /// See [`ErrorKind::Refused`].
    #[error("refused: {reason}")]
    Refused {
        /// The safety rule that refused.
        reason: String,
    },
    /// See [`ErrorKind::NotFound`].
    #[error("not found: {what}")]
    NotFound {
        /// What is missing.
        what: String,
    },
    /// See [`ErrorKind::Internal`].
    #[error("internal error in bt-dr (please report it): {reason}")]
    Internal {
        /// What went wrong, e.g. the panic message.
        reason: String,
    },
}

impl Error {
    /// The stable class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Parse { .. } => ErrorKind::Parse,
            Error::Io { .. } => ErrorKind::Io,
            Error::Certificate { .. } => ErrorKind::Certificate,
            Error::WrongPassphrase { .. } => ErrorKind::WrongPassphrase,
            Error::VersionIncompatible { .. } => ErrorKind::VersionIncompatible,
            Error::Integrity { .. } => ErrorKind::Integrity,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Api { .. } => ErrorKind::Api,
            Error::Tls { .. } => ErrorKind::Tls,
            Error::Network { .. } => ErrorKind::Network,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::Refused { .. } => ErrorKind::Refused,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Structured details as JSON (kind, message and the variant's fields), for bindings.
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        let mut v = match self {
            Error::InvalidInput { field, .. } => json!({ "field": field }),
            Error::Parse {
                what,
                location,
                field,
                ..
            } => json!({
                "what": what,
                "file": location.as_ref().and_then(|l| l.file.as_ref()).map(|p| p.display().to_string()),
                "line": location.as_ref().and_then(|l| l.line),
                "column": location.as_ref().and_then(|l| l.column),
                "field": field,
            }),
            Error::Io { path, .. } => json!({ "path": path.display().to_string() }),
            Error::VersionIncompatible { backup, site, .. } => {
                json!({ "backup_version": backup, "site_version": site })
            }
            Error::Integrity { subject, .. } => json!({ "subject": subject }),
            Error::PermissionDenied {
                operation,
                permission,
            } => {
                json!({ "operation": operation, "permission": permission })
            }
            Error::RateLimited { retry_after } => {
                json!({ "retry_after_ms": retry_after.map(|d| d.as_millis() as u64) })
            }
            Error::Api { status, message } => {
                json!({ "http_status": status, "appliance_message": message })
            }
            _ => json!({}),
        };
        if let Some(obj) = v.as_object_mut() {
            obj.insert("kind".into(), self.kind().as_str().into());
            obj.insert("message".into(), self.to_string().into());
        }
        v
    }

    /// The error as data, for results that carry a failure inside them (a failed part of a
    /// backup set, a failed site of a job).
    pub fn report(&self) -> ErrorReport {
        ErrorReport {
            kind: self.kind(),
            code: self.kind().code().to_string(),
            message: self.to_string(),
            details: self.details(),
        }
    }

    /// An [`Error::Internal`] from a caught panic payload (what `catch_unwind` returns).
    /// Bindings use it at their boundary so a defect arrives as a normal error.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
    /// let e = bt_dr_core::Error::from_panic(payload.as_ref());
    /// assert_eq!(e.kind(), bt_dr_core::ErrorKind::Internal);
    /// assert!(e.to_string().contains("boom"));
    /// ```
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let reason = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Error::Internal { reason }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for a [`Error::Parse`] without location.
    pub fn parse(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Parse {
            what: what.into(),
            location: None,
            field: None,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// An error kept as data inside a result: the failed part of a backup set, the failed site of a
/// job. The same fields every binding shows for a raised error.
///
/// ```
/// let r = bt_dr_core::Error::NotFound { what: "set x".into() }.report();
/// assert_eq!(r.code, "BT_DR_NOT_FOUND");
/// assert_eq!(r.details["kind"], "not_found");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorReport {
    /// Stable kind.
    pub kind: ErrorKind,
    /// Stable code (`BT_DR_*`).
    pub code: String,
    /// Human message (never holds a secret).
    pub message: String,
    /// Structured details, as [`Error::details`].
    #[cfg_attr(
        feature = "schema",
        schemars(with = "serde_json::Map<String, serde_json::Value>")
    )]
    pub details: serde_json::Value,
}

impl ErrorReport {
    /// Reads an error kept in a result written by any version of bt-dr: an [`ErrorReport`],
    /// the details object older results kept (`{"kind", "message", …}`, as
    /// [`Error::details`] returns it), a bare message string (older failover plans), or null.
    /// A kind this version does not know, or no kind at all, reads as [`ErrorKind::Api`]
    /// (the error came from outside), so an old file never fails to load over its errors.
    /// For `#[serde(deserialize_with = "…")]` on `Option<ErrorReport>` fields.
    pub fn deserialize_lenient<'de, D>(d: D) -> std::result::Result<Option<Self>, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Report(ErrorReport),
            Text(String),
            Details(serde_json::Value),
        }
        Ok(match Option::<Either>::deserialize(d)? {
            None => None,
            Some(Either::Report(r)) => Some(r),
            Some(Either::Text(message)) => Some(ErrorReport {
                kind: ErrorKind::Api,
                code: ErrorKind::Api.code().to_string(),
                details: serde_json::json!({ "kind": "api", "message": message }),
                message,
            }),
            Some(Either::Details(details)) => {
                let kind = details
                    .get("kind")
                    .and_then(|k| ErrorKind::deserialize(k).ok())
                    .unwrap_or(ErrorKind::Api);
                let message = details
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("unknown error")
                    .to_string();
                Some(ErrorReport {
                    kind,
                    code: kind.code().to_string(),
                    message,
                    details,
                })
            }
        })
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_serializes_every_kind_by_its_name_and_code() {
        let json = serde_json::to_value(ErrorKind::catalog()).unwrap();
        let entries = json.as_array().unwrap();
        assert_eq!(entries.len(), ErrorKind::ALL.len());
        for (entry, kind) in entries.iter().zip(ErrorKind::ALL) {
            assert_eq!(entry["kind"], kind.as_str());
            assert_eq!(entry["code"], kind.code());
            assert_eq!(entry.as_object().unwrap().len(), 2);
        }
    }
}
