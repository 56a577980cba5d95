//! Streaming a file from the appliance to disk: hashed as it arrives, checked against
//! `Content-Length`, refused when it is an HTML page or an XML `<error>`, fsynced and renamed
//! only when complete. Hashing and writing run on a thread of their own ([`super::file_sink`]),
//! and memory stays at a few network chunks whatever the size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::TransferOptions;
use super::file_sink::FileSink;
use super::transport::map_reqwest;
use crate::Error;

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

/// The last path component of a proposed name, or `None` when it is not safe to use.
pub fn sanitize_file_name(proposed: &str) -> Option<String> {
    let base = proposed.rsplit(['/', '\\']).next()?.trim();
    if base.is_empty()
        || base == "."
        || base == ".."
        || base.contains("..")
        || base.starts_with('.')
        || base.chars().any(|c| c.is_control())
        || base.len() > 200
    {
        return None;
    }
    Some(base.to_string())
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

enum Sniff {
    Html,
    Xml,
    Data,
}

fn sniff(head: &[u8], content_type: &str) -> Sniff {
    let text = String::from_utf8_lossy(&head[..head.len().min(256)])
        .trim_start()
        .to_ascii_lowercase();
    if content_type.contains("text/html")
        || text.starts_with("<!doctype html")
        || text.starts_with("<html")
    {
        Sniff::Html
    } else if text.starts_with("<?xml")
        || text.starts_with("<error")
        || (content_type.contains("xml") && text.starts_with('<'))
    {
        Sniff::Xml
    } else {
        Sniff::Data
    }
}

pub(crate) async fn stream_to_dir(
    resp: reqwest::Response,
    dir: &Path,
    fallback_name: &str,
    kind: DownloadKind,
    opts: &TransferOptions,
    op: &str,
) -> std::result::Result<(DownloadedFile, Option<String>), StreamError> {
    let total = resp.content_length();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let proposed = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(content_disposition_name);
    let safe = proposed.as_deref().and_then(sanitize_file_name);
    if let (Some(p), None) = (&proposed, &safe) {
        tracing::warn!(
            op,
            "ignoring unsafe file name proposed by the appliance: {:?}",
            p.escape_debug().to_string()
        );
    }
    let name = match kind {
        // Backups keep the appliance's name when it is safe; recordings and archives use ours,
        // which the backup store's incremental checkpoint relies on.
        DownloadKind::Backup => safe.clone().unwrap_or_else(|| fallback_name.to_string()),
        DownloadKind::Recording => {
            let ext = safe
                .as_deref()
                .and_then(|s| s.rsplit_once('.').map(|(_, e)| e.to_string()))
                .filter(|e| e.len() <= 8 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
                .unwrap_or_else(|| "rec".into());
            format!("{}.{ext}", fallback_name.trim_end_matches(".rec"))
        }
        DownloadKind::Archive => fallback_name.to_string(),
    };

    let mut stream = resp.bytes_stream();
    // Look at the start before creating any file: an error page must never become a backup.
    let mut head: Vec<u8> = Vec::new();
    while head.len() < 512 {
        match stream.next().await {
            Some(Ok(b)) => head.extend_from_slice(&b),
            Some(Err(e)) => return Err(broke(e, head.len() as u64, op)),
            None => break,
        }
    }
    match sniff(&head, &content_type) {
        Sniff::Html => {
            return Err(StreamError::Fatal(Error::Integrity {
                subject: op.to_string(),
                reason: "the appliance sent an HTML page instead of the file (login page or proxy error?)".into(),
            }));
        }
        Sniff::Xml => {
            let mut body = head;
            while body.len() < 1 << 20 {
                match stream.next().await {
                    Some(Ok(b)) => body.extend_from_slice(&b),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&body);
            let message = super::xml::error_message(&text)
                .unwrap_or_else(|| "the appliance sent XML instead of the file".into());
            if kind == DownloadKind::Archive && message.to_ascii_lowercase().contains("no archives")
            {
                return Err(StreamError::Fatal(Error::NotFound {
                    what: format!("archive ({message})"),
                }));
            }
            return Err(StreamError::Fatal(Error::Api {
                status: None,
                message,
            }));
        }
        Sniff::Data => {}
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
            let landed = sink.commit().await?;
            Ok((
                DownloadedFile {
                    path: landed.path,
                    file_name: name,
                    size,
                    sha256: landed.sha256,
                },
                safe,
            ))
        }
        Err(e) => {
            // Wait for the temporary file to be gone before the caller hears of the failure.
            sink.abort().await;
            Err(e)
        }
    }
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
