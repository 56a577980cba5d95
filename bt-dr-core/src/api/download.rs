//! Streaming a file from the appliance to disk: hashed as it arrives, checked against
//! `Content-Length`, refused when it is not the file (HTML, XML, JSON or text, by content type
//! or by its first bytes after a byte-order mark), fsynced and moved under a name bt-dr
//! chooses — never replacing an existing file — only when complete. Hashing and writing run on a thread of their own ([`super::file_sink`]),
//! and memory stays at a few network chunks whatever the size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::TransferOptions;
use super::client::BackupSidecar;
use super::file_sink::{CompanionWriter, FileSink};
use super::transport::map_reqwest;
use crate::support::error::Error;

/// Progress callback: bytes done, total when the appliance announced it.
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// A file that landed under its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadedFile {
    /// Full path.
    pub path: PathBuf,
    /// File name.
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownloadKind {
    Backup,
    Recording,
    Archive,
}

pub(crate) enum StreamError {
    /// The transfer broke off; starting again may work.
    Retryable(Error),
    /// Starting again would give the same answer.
    Fatal(Error),
}

impl From<Error> for StreamError {
    fn from(e: Error) -> Self {
        StreamError::Fatal(e)
    }
}

/// Names bt-dr itself writes next to downloads, in backup sets and in the store. A name the
/// appliance proposes is never one of them (compared without regard to case).
const RESERVED_NAMES: [&str; 8] = [
    "manifest.json",
    "checkpoint.json",
    "vault-key.json",
    "recordings",
    "certificates",
    "appliance",
    "vault",
    "sets",
];

/// Device names Windows reserves whatever the extension (`NUL.nsb` is the null device).
pub(crate) fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    matches!(
        stem.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit())
}

/// Characters that make a name lie about itself on screen (bidi overrides, zero-width).
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The last path component of a proposed name, or `None` when it is not safe to use.
///
/// Invariant (the name is used as one component under a folder bt-dr chose): the result is a
/// single path component, never empty, `.` or `..`, never hidden (leading `.`) or option-like
/// (leading `-`), holds no control, bidi-override or zero-width character nor any of
/// `<>:"|?*`, does not end in a dot or space, is at most 200 bytes, and is none of the names
/// bt-dr writes (`manifest.json`, `checkpoint.json`, `vault-key.json`, any `*.bt-dr.json`
/// sidecar, the set's folder names) nor a Windows device name.
///
/// ```
/// use bt_dr_core::api::sanitize_file_name;
/// assert_eq!(sanitize_file_name("../../etc/x.nsb").as_deref(), Some("x.nsb"));
/// assert_eq!(sanitize_file_name("manifest.json"), None);
/// assert_eq!(sanitize_file_name("a.nsb.bt-dr.json"), None);
/// assert_eq!(sanitize_file_name("..."), None);
/// ```
pub fn sanitize_file_name(proposed: &str) -> Option<String> {
    let base = proposed.rsplit(['/', '\\']).next()?.trim();
    let lower = base.to_lowercase();
    if base.is_empty()
        || base.len() > 200
        || base.contains("..")
        || base.starts_with(['.', '-'])
        || base.ends_with(['.', ' '])
        || base
            .chars()
            .any(|c| c.is_control() || is_deceptive(c) || "<>:\"|?*".contains(c))
        || RESERVED_NAMES.contains(&lower.as_str())
        || lower.ends_with(super::client::SIDECAR_SUFFIX)
        || is_windows_device(base)
    {
        return None;
    }
    Some(base.to_string())
}

/// The appliance's proposal as it may be shown and stored: escaped, at most 255 characters.
fn escaped_proposal(p: &str) -> String {
    super::transport::bounded(&p.escape_debug().to_string(), 255)
}

/// The file name a backup is saved under: the appliance's proposal when it is a safe, real NSB
/// backup name (`bomgar-<version>-<site>-<date>-<id>.nsb`, see [`crate::rules::backup::BackupName`]), else
/// ours. Either way it ends in `.nsb`, so it can never be a name the set or store writes.
fn backup_file_name(proposed: Option<&str>, fallback: &str) -> String {
    proposed
        .and_then(sanitize_file_name)
        .filter(|n| n.parse::<crate::rules::backup::BackupName>().is_ok())
        .unwrap_or_else(|| fallback.to_string())
}

/// Extensions a recording may keep from the appliance's proposal; anything else becomes `.rec`.
const RECORDING_EXTENSIONS: [&str; 11] = [
    "flv", "mp4", "webm", "mkv", "avi", "mov", "m4v", "ogv", "rec", "bin", "zip",
];

/// `filename` (or RFC 5987 `filename*`) of a Content-Disposition header.
pub(crate) fn content_disposition_name(h: &str) -> Option<String> {
    let mut plain = None;
    for part in h.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.trim_matches('"');
            let enc = v.splitn(3, '\'').nth(2).unwrap_or(v);
            let decoded =
                url::form_urlencoded::parse(format!("x={}", enc.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned());
            if decoded.is_some() {
                return decoded;
            }
        } else if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim().trim_matches('"').to_string());
        }
    }
    plain
}

/// What the start of an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniff {
    Html,
    Xml,
    Json,
    Text,
    Data,
}

impl Sniff {
    fn what(self) -> &'static str {
        match self {
            Sniff::Html => "an HTML page (login page or proxy error?)",
            Sniff::Xml => "an XML document",
            Sniff::Json => "a JSON document",
            Sniff::Text => "text",
            Sniff::Data => "data",
        }
    }
}

/// The first characters after a byte-order mark (UTF-8, UTF-16 LE/BE) and whitespace,
/// lowercased; `None` when the head holds nothing else.
fn significant_start(head: &[u8]) -> Option<String> {
    let decoded: String = if let Some(rest) = head.strip_prefix(&[0xFF, 0xFE]) {
        char::decode_utf16(
            rest.chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
    } else if let Some(rest) = head.strip_prefix(&[0xFE, 0xFF]) {
        char::decode_utf16(
            rest.chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
    } else {
        String::from_utf8_lossy(super::transport::strip_utf8_bom(head)).into_owned()
    };
    let t = decoded.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    (!t.is_empty()).then(|| t.chars().take(32).collect::<String>().to_lowercase())
}

/// Bytes looked at before anything is written.
const SNIFF_MIN: usize = 512;
/// How far past leading whitespace the sniffer reads before calling the answer data.
const SNIFF_MAX: usize = 64 << 10;

/// Whether the head reads as text (UTF-8, or UTF-16 after its byte-order mark): no invalid
/// sequence except one cut off at the end, no control character but whitespace. A real backup
/// is binary and fails this within a few bytes; an error page passes.
pub(crate) fn looks_like_text(head: &[u8]) -> bool {
    let printable = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c');
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        char::decode_utf16(rest.chunks_exact(2).map(|p| from([p[0], p[1]])))
            .all(|c| c.is_ok_and(printable))
    };
    if let Some(rest) = head.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = head.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes);
    }
    let bytes = super::transport::strip_utf8_bom(head);
    let valid = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        // Cut in the middle of a character at the end of the head: judge what came before.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid.chars().all(printable)
}

/// Whether a content type says "binary data" (`application/octet-stream`, `application/x-*`,
/// zip, gzip).
pub(crate) fn labelled_binary(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/octet-stream"
        || media.starts_with("application/x-")
        || matches!(media.as_str(), "application/zip" | "application/gzip")
}

/// Classifies an answer by its content type and its first bytes. Anything that is markup
/// (`<`), JSON (`{`, `[`) — after an optional byte-order mark and whitespace — or labelled as
/// HTML, XML, JSON (`application/json`, `+json`, problem+json) or any `text/*`, is not a file.
/// `complete` says the head is the whole body (then a body of only whitespace is text too).
pub(crate) fn sniff(head: &[u8], content_type: &str, complete: bool) -> Sniff {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let by_type = match media.as_str() {
        "text/html" | "application/xhtml+xml" => Some(Sniff::Html),
        m if m.ends_with("/json") || m.ends_with("+json") => Some(Sniff::Json),
        m if m.ends_with("/xml") || m.ends_with("+xml") => Some(Sniff::Xml),
        m if m.starts_with("text/") => Some(Sniff::Text),
        _ => None,
    };
    let by_body = match significant_start(head) {
        Some(t) if t.starts_with('<') => Some(
            if [
                "<!doctype html",
                "<html",
                "<head",
                "<body",
                "<!--",
                "<meta",
                "<title",
            ]
            .iter()
            .any(|p| t.starts_with(p))
            {
                Sniff::Html
            } else {
                Sniff::Xml
            },
        ),
        Some(t) if t.starts_with(['{', '[']) => Some(Sniff::Json),
        Some(_) => None,
        None if !head.is_empty() && complete => Some(Sniff::Text),
        None => None,
    };
    // Labelled as binary, the body decides only when it reads as text: a backup whose first
    // byte happens to be `<`, `{` or `[` is still a backup.
    let by_body = by_body.filter(|_| !labelled_binary(content_type) || looks_like_text(head));
    by_body.or(by_type).unwrap_or(Sniff::Data)
}

/// A file fetched into its folder, with what the appliance proposed to call it.
pub(crate) struct Fetched {
    pub file: DownloadedFile,
    /// The appliance's proposed name, escaped (see [`BackupSidecar::appliance_file_name`]).
    pub proposal: Option<String>,
    /// Where the sidecar landed, when one was asked for.
    pub sidecar_path: Option<PathBuf>,
}

/// Streams a response into `dir`. With a `sidecar` template (backups), the sidecar is completed
/// with the file's final name, size and hash and written *before* the file takes its name, so
/// a crash never leaves a backup without its metadata.
pub(crate) async fn stream_to_dir(
    resp: reqwest::Response,
    dir: &Path,
    fallback_name: &str,
    kind: DownloadKind,
    sidecar: Option<&BackupSidecar>,
    opts: &TransferOptions,
    op: &str,
) -> std::result::Result<Fetched, StreamError> {
    let total = resp.content_length();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
        .unwrap_or_default();
    let proposed = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .and_then(|h| content_disposition_name(&h));
    let name = match kind {
        // Backups: bt-dr decides. The appliance's name is kept only when it is a real NSB name;
        // it is recorded in the sidecar either way.
        DownloadKind::Backup => {
            let name = backup_file_name(proposed.as_deref(), fallback_name);
            if let Some(p) = &proposed
                && name == fallback_name
            {
                tracing::warn!(
                    op,
                    "not using the file name proposed by the appliance ({}): not a safe NSB backup name",
                    escaped_proposal(p)
                );
            }
            name
        }
        // Recordings and archives use ours, which the backup store's incremental checkpoint
        // relies on; a recording keeps a known video extension.
        DownloadKind::Recording => {
            let ext = proposed
                .as_deref()
                .and_then(sanitize_file_name)
                .and_then(|s| s.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
                .filter(|e| RECORDING_EXTENSIONS.contains(&e.as_str()))
                .unwrap_or_else(|| "rec".into());
            format!("{}.{ext}", fallback_name.trim_end_matches(".rec"))
        }
        DownloadKind::Archive => fallback_name.to_string(),
    };
    let proposal = proposed.as_deref().map(escaped_proposal);

    let mut stream = resp.bytes_stream();
    // Look at the start before creating any file: an error page must never become a backup.
    let mut head: Vec<u8> = Vec::new();
    let mut complete = false;
    // At least 512 bytes, and past any leading whitespace (an error page may start with blank
    // lines), up to a bound.
    while head.len() < SNIFF_MIN || (significant_start(&head).is_none() && head.len() < SNIFF_MAX) {
        match stream.next().await {
            Some(Ok(b)) => head.extend_from_slice(&b),
            Some(Err(e)) => return Err(broke(e, head.len() as u64, op)),
            None => {
                complete = true;
                break;
            }
        }
    }
    let verdict = sniff(&head, &content_type, complete);
    if verdict != Sniff::Data {
        return Err(StreamError::Fatal(
            refuse(verdict, head, &mut stream, &content_type, kind, op).await,
        ));
    }
    if kind == DownloadKind::Archive && !head.starts_with(&[0x1f, 0x8b]) {
        return Err(StreamError::Fatal(Error::Integrity {
            subject: name,
            reason: "the archive is not gzip data".into(),
        }));
    }

    let dest = dir.join(&name);
    let mut sink = FileSink::start(&dest)?;
    match receive_into(&mut sink, head, &mut stream, total, &name, opts, op).await {
        Ok(size) => {
            let companion = sidecar.map(|t| sidecar_writer(t.clone(), size, proposal.clone()));
            let landed = sink.commit(companion).await?;
            Ok(Fetched {
                file: DownloadedFile {
                    file_name: file_name_of(&landed.path).unwrap_or(name),
                    path: landed.path,
                    size,
                    sha256: landed.sha256,
                },
                proposal,
                sidecar_path: landed.companion,
            })
        }
        Err(e) => {
            // Wait for the temporary file to be gone before the caller hears of the failure.
            sink.abort().await;
            Err(e)
        }
    }
}

/// The error for an answer that is not the file. Always [`Error::Integrity`] (the download
/// did not deliver the file; nothing was written), carrying the appliance's message when the
/// answer is an XML `<error>` or a JSON error envelope — redacted and bounded. The exceptions:
/// an archive answered by "No archives found" and a recording answered by "No recording found"
/// are [`Error::NotFound`].
async fn refuse(
    verdict: Sniff,
    head: Vec<u8>,
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    content_type: &str,
    kind: DownloadKind,
    op: &str,
) -> Error {
    let mut body = head;
    if matches!(verdict, Sniff::Xml | Sniff::Json) {
        // Enough to read an error envelope; never the whole of whatever this is.
        while body.len() < 64 << 10 {
            match stream.next().await {
                Some(Ok(b)) => body.extend_from_slice(&b),
                _ => break,
            }
        }
        body.truncate(64 << 10);
    }
    let message = match verdict {
        Sniff::Xml => super::xml::error_message(&String::from_utf8_lossy(
            super::transport::strip_utf8_bom(&body),
        )),
        Sniff::Json => super::transport::json_error_message(&body),
        _ => None,
    }
    .filter(|m| !m.is_empty());
    // "Nothing there" answers: nothing is lost by taking them at their word, since no file
    // is written either way and the run goes on.
    if let Some(m) = &message {
        let m_lower = m.to_ascii_lowercase();
        let what = match kind {
            DownloadKind::Archive if m_lower.contains("no archives") => Some("archive"),
            DownloadKind::Recording if m_lower.contains("no recording") => Some("recording"),
            _ => None,
        };
        if let Some(what) = what {
            return Error::NotFound {
                what: format!("{what} ({m})"),
            };
        }
    }
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let labelled = if ct.is_empty() {
        String::new()
    } else {
        format!(" ({})", super::transport::redact(ct))
    };
    Error::Integrity {
        subject: op.to_string(),
        reason: match message {
            Some(m) => format!(
                "the appliance sent an error{labelled} instead of the file, nothing was saved: {m}"
            ),
            None => format!(
                "the appliance sent {}{labelled} instead of the file, nothing was saved",
                verdict.what()
            ),
        },
    }
}

fn file_name_of(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Writes `<candidate>.bt-dr.json` for the name the backup is about to take; `None` when that
/// sidecar name is taken (the candidate is skipped).
fn sidecar_writer(template: BackupSidecar, size: u64, proposal: Option<String>) -> CompanionWriter {
    Box::new(move |candidate: &Path, sha256: &str| {
        let record = template.clone().completed(
            file_name_of(candidate).unwrap_or_default(),
            size,
            sha256,
            proposal.clone(),
        );
        let dest = crate::support::fsutil::with_suffix(candidate, super::client::SIDECAR_SUFFIX);
        match crate::support::fsutil::write_json_new_atomic(&dest, &record) {
            Ok(p) => Ok(Some(p)),
            Err(e) if crate::support::fsutil::is_name_taken(&e) => Ok(None),
            Err(e) => Err(e),
        }
    })
}

/// Feeds the body to the sink, checking it against `Content-Length` and the cancel token.
/// Returns the number of bytes received.
async fn receive_into(
    sink: &mut FileSink,
    head: Vec<u8>,
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    total: Option<u64>,
    name: &str,
    opts: &TransferOptions,
    op: &str,
) -> std::result::Result<u64, StreamError> {
    let cancelled = || opts.cancel.as_ref().is_some_and(|c| c.is_cancelled());
    let mut done = head.len() as u64;
    sink.push(head.into()).await?;
    if let Some(p) = &opts.progress {
        p(done, total);
    }
    while let Some(chunk) = stream.next().await {
        if cancelled() {
            return Err(StreamError::Fatal(Error::Cancelled {
                operation: op.to_string(),
            }));
        }
        let chunk = chunk.map_err(|e| broke(e, done, op))?;
        done += chunk.len() as u64;
        if total.is_some_and(|t| done > t) {
            return Err(StreamError::Fatal(Error::Integrity {
                subject: name.to_string(),
                reason: format!(
                    "more bytes than the announced Content-Length ({done} > {})",
                    total.unwrap_or(0)
                ),
            }));
        }
        sink.push(chunk).await?;
        if let Some(p) = &opts.progress {
            p(done, total);
        }
    }
    if cancelled() {
        return Err(StreamError::Fatal(Error::Cancelled {
            operation: op.to_string(),
        }));
    }
    if let Some(t) = total
        && done != t
    {
        return Err(StreamError::Retryable(Error::Integrity {
            subject: name.to_string(),
            reason: format!("truncated: received {done} of {t} bytes"),
        }));
    }
    if done == 0 {
        return Err(StreamError::Fatal(Error::Integrity {
            subject: name.to_string(),
            reason: "the appliance sent an empty file".into(),
        }));
    }
    Ok(done)
}

fn broke(e: reqwest::Error, done: u64, op: &str) -> StreamError {
    let inner = map_reqwest(e, op);
    StreamError::Retryable(Error::Network {
        reason: format!("{op}: connection lost after {done} bytes ({inner})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_names() {
        assert_eq!(
            sanitize_file_name("bomgar-1.2.3-x-20250101-ab.nsb").as_deref(),
            Some("bomgar-1.2.3-x-20250101-ab.nsb")
        );
        assert_eq!(
            sanitize_file_name("../../etc/evil.nsb").as_deref(),
            Some("evil.nsb")
        );
        assert_eq!(
            sanitize_file_name("..\\..\\evil.nsb").as_deref(),
            Some("evil.nsb")
        );
        assert_eq!(sanitize_file_name(".."), None);
        assert_eq!(sanitize_file_name("a\u{7}b.nsb"), None);
        assert_eq!(sanitize_file_name(".hidden"), None);
        assert_eq!(sanitize_file_name("dir/"), None);
        for bad in [
            "manifest.json",
            "MANIFEST.JSON",
            "checkpoint.json",
            "vault-key.json",
            "x.nsb.bt-dr.json",
            "recordings",
            "NUL.nsb",
            "com1",
            "lpt9.txt",
            "-rf",
            "a:b.nsb",
            "a?.nsb",
            "trailing.",
            "trailing. ",
            "bidi\u{202E}bsn.exe",
            "zero\u{200B}width",
            ".",
            "...",
            "",
            "   ",
        ] {
            assert_eq!(sanitize_file_name(bad), None, "{bad:?}");
        }
        assert_eq!(
            sanitize_file_name("été €.nsb").as_deref(),
            Some("été €.nsb")
        );
    }

    /// The fuzzing invariant, over a few thousand generated names.
    #[test]
    fn sanitized_names_are_one_safe_component() {
        let parts = [
            "",
            ".",
            "..",
            "/",
            "\\",
            "a",
            "é",
            "€",
            "\u{0}",
            "\n",
            " ",
            "-",
            "manifest.json",
            ".bt-dr.json",
            "nsb",
            "NUL",
            "😀",
            "\u{202E}",
            ":",
            "x.nsb",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let p = format!("{a}{b}{c}");
                    if let Some(n) = sanitize_file_name(&p) {
                        let path = std::path::Path::new(&n);
                        assert_eq!(path.components().count(), 1, "{p:?} -> {n:?}");
                        assert!(
                            matches!(
                                path.components().next(),
                                Some(std::path::Component::Normal(_))
                            ),
                            "{p:?} -> {n:?}"
                        );
                        assert!(!n.starts_with('.') && !n.contains(['/', '\\']), "{n:?}");
                        assert!(!n.to_lowercase().ends_with(".bt-dr.json"), "{n:?}");
                        assert!(
                            !RESERVED_NAMES.contains(&n.to_lowercase().as_str()),
                            "{n:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn backups_keep_only_real_nsb_names() {
        let fb = "bomgar-24.1.2-support-20261202T010203-ab12cd34.nsb";
        let real = "bomgar-24.1.2-support-20261202-5f3a9c01.nsb";
        assert_eq!(backup_file_name(Some(real), fb), real);
        assert_eq!(backup_file_name(Some(&format!("../../{real}")), fb), real);
        for p in [
            "manifest.json",
            "evil.nsb",
            "../../etc/evil.nsb",
            "bomgar-24.1.2-support-20261202-5f3a9c01.nsb.bt-dr.json",
            "bomgar-x-support-20261202-5f3a9c01.nsb",
            "checkpoint.json",
        ] {
            assert_eq!(backup_file_name(Some(p), fb), fb, "{p}");
        }
        assert_eq!(backup_file_name(None, fb), fb);
        assert_eq!(escaped_proposal("a\nb\"c"), "a\\nb\\\"c");
        assert_eq!(escaped_proposal(&"x".repeat(1000)).chars().count(), 256);
    }

    #[test]
    fn sniffing_refuses_everything_that_is_not_a_file() {
        use Sniff::*;
        let cases: &[(&[u8], &str, Sniff)] = &[
            (b"BTNSB\0\0\x01rest", "application/octet-stream", Data),
            (b"\x1f\x8b\x08", "application/x-gzip", Data),
            (b"FLV\x01", "", Data),
            (b"BTNSB\0\0\x01", "text/plain", Text),
            (b"BTNSB", "application/json", Json),
            (b"BTNSB", "application/problem+json; charset=utf-8", Json),
            (b"BTNSB", "application/vnd.api+json", Json),
            (b"BTNSB", "text/html", Html),
            (b"BTNSB", "text/xml", Xml),
            (b"BTNSB", "application/xml", Xml),
            (b"BTNSB", "TEXT/CSV", Text),
            (
                br#"{"error":"access_denied"}"#,
                "application/octet-stream",
                Json,
            ),
            (b"  \r\n [1,2]", "", Json),
            (
                b"\xEF\xBB\xBF<!DOCTYPE html><html>",
                "application/octet-stream",
                Html,
            ),
            (b"\xEF\xBB\xBF \n<html>", "", Html),
            (b"\xEF\xBB\xBF{\"a\":1}", "", Json),
            (b"<?xml version=\"1.0\"?><error>x</error>", "", Xml),
            (b"<error>x</error>", "application/octet-stream", Xml),
            (b"\t<svg/>", "", Xml),
            (b"\xFF\xFE<\0h\0t\0m\0l\0>\0", "", Html),
            (b"\xFE\xFF\0 \0{\0}", "", Json),
            (b"\xFF\xFE \0[\0", "", Json),
            (b"   \n", "", Text),
            (b"\xEF\xBB\xBF", "", Text),
            // Labelled binary and not text: a backup whose first byte happens to be markup or
            // JSON punctuation is still a backup.
            (b"{\x00\x9c\xff\x13binary", "application/octet-stream", Data),
            (b"<\x00\x01\x02\xfe", "application/octet-stream", Data),
            (b" [\x80\x81\x82", "application/x-bomgar-backup", Data),
            // Unlabelled, the first byte decides.
            (b"{\x00\x9c\xff", "", Json),
            // Text cut in the middle of a character at the end of the head is still text.
            (b"{\"error\": \"caf\xC3", "application/octet-stream", Json),
        ];
        for (head, ct, want) in cases {
            assert_eq!(
                sniff(head, ct, true),
                *want,
                "{:?} {ct}",
                String::from_utf8_lossy(head)
            );
        }
        // A head that is not yet the whole body and holds only whitespace is undecided: data
        // follows.
        assert_eq!(sniff(b"   ", "", false), Data);
    }

    #[test]
    fn parses_content_disposition() {
        assert_eq!(
            content_disposition_name("attachment; filename=\"a b.nsb\"").as_deref(),
            Some("a b.nsb")
        );
        assert_eq!(
            content_disposition_name("attachment; filename*=UTF-8''x%2F..%2Fy.nsb").as_deref(),
            Some("x/../y.nsb")
        );
        assert_eq!(content_disposition_name("attachment"), None);
    }
}
