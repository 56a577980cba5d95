//! Streaming a file from the appliance to disk: hashed as it arrives, checked against
//! `Content-Length`, refused when it is not the file (HTML, XML, JSON or text, by content type
//! or by its first bytes after a byte-order mark), fsynced and moved under the name the
//! naming rules ([`crate::rules::backup::backup_file_name`] and its siblings) choose — never replacing an existing file — only when complete. Hashing and writing run on a thread of their own ([`super::file_sink`]),
//! and memory stays at a few network chunks whatever the size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::TransferOptions;
use super::client::BackupSidecar;
use super::file_sink::{CompanionWriter, FileSink};
use super::transport::map_reqwest;
use crate::rules::backup as file_names;
use crate::support::error::Error;

/// Progress callback: bytes done, total when the appliance announced it.
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// A file that landed under its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DownloadedFile {
    /// Full path.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "path")))]
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

/// The appliance's proposal as it may be shown and stored: escaped, at most 255 characters.
fn escaped_proposal(p: &str) -> String {
    super::transport::bounded(&p.escape_debug().to_string(), 255)
}

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
    /// The sidecar's hash and size, as written.
    pub sidecar_digest: Option<SidecarDigest>,
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
            let name = file_names::backup_file_name(proposed.as_deref(), fallback_name);
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
            file_names::recording_file_name(proposed.as_deref(), fallback_name)
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
            let written = Arc::new(std::sync::Mutex::new(None));
            let companion =
                sidecar.map(|t| sidecar_writer(t.clone(), size, proposal.clone(), written.clone()));
            let landed = sink.commit(companion).await?;
            let sidecar_digest = written.lock().unwrap_or_else(|e| e.into_inner()).take();
            Ok(Fetched {
                file: DownloadedFile {
                    file_name: file_name_of(&landed.path).unwrap_or(name),
                    path: landed.path,
                    size,
                    sha256: landed.sha256,
                },
                proposal,
                sidecar_path: landed.companion,
                sidecar_digest,
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
fn sidecar_writer(
    template: BackupSidecar,
    size: u64,
    proposal: Option<String>,
    written: Arc<std::sync::Mutex<Option<SidecarDigest>>>,
) -> CompanionWriter {
    Box::new(move |candidate: &Path, sha256: &str| {
        let record = template.clone().completed(
            file_name_of(candidate).unwrap_or_default(),
            size,
            sha256,
            proposal.clone(),
        );
        let dest = crate::support::fsutil::with_suffix(candidate, super::client::SIDECAR_SUFFIX);
        let mut bytes = serde_json::to_vec_pretty(&record)
            .map_err(|e| Error::invalid_input("sidecar", e.to_string()))?;
        bytes.push(b'\n');
        match crate::support::fsutil::write_new_atomic(&dest, &bytes) {
            Ok(p) => {
                // The set lists the sidecar with its hash: taken from the bytes written here,
                // so nothing reads the file back.
                let digest = SidecarDigest {
                    sha256: crate::support::hash::sha256_hex(&bytes),
                    size: bytes.len() as u64,
                };
                *written.lock().unwrap_or_else(|e| e.into_inner()) = Some(digest);
                Ok(Some(p))
            }
            Err(e) if crate::support::fsutil::is_name_taken(&e) => Ok(None),
            Err(e) => Err(e),
        }
    })
}

/// The SHA-256 and size of a sidecar as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SidecarDigest {
    pub sha256: String,
    pub size: u64,
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
    fn the_proposal_is_escaped_and_bounded() {
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
