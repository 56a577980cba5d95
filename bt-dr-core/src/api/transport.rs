//! One request to the appliance, with the rules every call shares: client-side rate limit per
//! API account, OAuth token reuse and one re-token on rejection, bounded retries for reads,
//! `Retry-After` on 429, and error mapping that never carries a secret.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use crate::support::error::Error;

/// Retry bounds.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for an idempotent read that fails with a connect error or 5xx (first try included).
    pub max_attempts: u32,
    /// First backoff.
    pub initial_backoff: Duration,
    /// Largest backoff between attempts.
    pub max_backoff: Duration,
    /// No retry starts after this much time has gone by.
    pub max_total: Duration,
    /// How many 429 answers to wait out before giving up.
    pub max_rate_limit_waits: u32,
    /// Longest single `Retry-After` wait: an appliance asking for longer is waited out this
    /// long, then asked again (at most `max_rate_limit_waits` times; then
    /// [`crate::support::error::Error::RateLimited`] carrying its last wait, clamped to a day).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_total: Duration::from_secs(60),
            max_rate_limit_waits: 6,
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build()
    }
}

/// The limiter shared by every client of this process that uses the same API account, since the
/// appliance counts requests per account, not per connection.
pub(crate) fn account_limiter(client_id: &str, per_second: u32) -> Arc<DefaultDirectRateLimiter> {
    type Limiters = Mutex<HashMap<(String, u32), Arc<DefaultDirectRateLimiter>>>;
    static LIMITERS: OnceLock<Limiters> = OnceLock::new();
    let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let mut map = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry((client_id.to_string(), per_second.get()))
        .or_insert_with(|| Arc::new(RateLimiter::direct(Quota::per_second(per_second))))
        .clone()
}

/// A request that did not get an answer.
pub(crate) struct SendFailure {
    /// The error, already mapped (never carries a secret).
    pub(crate) err: Error,
    /// Whether repeating the request is safe: a read, or a write that never reached the
    /// appliance (connect phase).
    pub(crate) retryable: bool,
}

/// What the caller made of an answer that was neither rate limited nor unanswered.
pub(crate) enum Flow<T> {
    /// The result.
    Done(T),
    /// Send again at once, without a backoff (a rejected token was dropped; the next attempt
    /// takes a fresh one).
    Again,
    /// A server error worth another try: repeated after a backoff while the policy allows,
    /// else this error is returned.
    RetryOr(Error),
}

/// The one retry and rate-limit loop every request to the appliance runs through (the token
/// request and every authenticated call), so the bounds of [`RetryPolicy`] mean the same
/// everywhere.
///
/// Each round waits for the account's rate limiter, then `send`s. An unanswered request is
/// repeated after a backoff when [`SendFailure::retryable`] and the policy's `max_total` is
/// not spent. An exhausted rate limit (429 or a rate-limit error document) is waited out —
/// `Retry-After`, else the next backoff, at most `max_retry_after` — up to
/// `max_rate_limit_waits` times, then [`Error::RateLimited`]. Every other answer goes to
/// `handle` with the context `send` returned with it (e.g. the token's generation), whose
/// [`Flow`] decides the rest.
pub(crate) async fn with_retries<T, C, S, SF, H, HF>(
    policy: &RetryPolicy,
    limiter: &DefaultDirectRateLimiter,
    op: &str,
    mut send: S,
    mut handle: H,
) -> Result<T, Error>
where
    S: FnMut() -> SF,
    SF: Future<Output = Result<(reqwest::Response, C), SendFailure>>,
    H: FnMut(reqwest::Response, C) -> HF,
    HF: Future<Output = Result<Flow<T>, Error>>,
{
    let mut delays = policy.delays();
    let started = Instant::now();
    let mut rate_limit_waits = 0;
    // The next backoff, unless it would start a retry after `max_total` has gone by.
    let next_delay = |delays: &mut dyn Iterator<Item = Duration>| {
        delays
            .next()
            .filter(|d| started.elapsed().saturating_add(*d) < policy.max_total)
    };
    loop {
        limiter.until_ready().await;
        let (resp, ctx) = match send().await {
            Ok(answered) => answered,
            Err(SendFailure { err, retryable }) => {
                if retryable && let Some(d) = next_delay(&mut delays) {
                    tracing::debug!(
                        op,
                        delay_ms = d.as_millis() as u64,
                        "retrying after {}",
                        err.kind()
                    );
                    tokio::time::sleep(d).await;
                    continue;
                }
                return Err(err);
            }
        };
        if rate_limit_exhausted(&resp) {
            rate_limit_waits += 1;
            let wait = retry_after(&resp);
            if rate_limit_waits > policy.max_rate_limit_waits {
                return Err(Error::RateLimited { retry_after: wait });
            }
            let d = wait
                .unwrap_or_else(|| delays.next().unwrap_or(policy.max_backoff))
                .min(policy.max_retry_after);
            tracing::debug!(op, wait_ms = d.as_millis() as u64, "rate limited");
            tokio::time::sleep(d).await;
            continue;
        }
        match handle(resp, ctx).await? {
            Flow::Done(t) => return Ok(t),
            Flow::Again => continue,
            Flow::RetryOr(err) => {
                if let Some(d) = next_delay(&mut delays) {
                    tracing::debug!(op, "retrying after {}", err.kind());
                    tokio::time::sleep(d).await;
                    continue;
                }
                return Err(err);
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct CachedToken {
    pub(crate) value: SecretString,
    pub(crate) refresh_at: Instant,
    pub(crate) generation: u64,
}

/// What a call sends. `Debug` never shows the JSON body (it carries the backup password).
#[derive(Clone)]
pub(crate) struct Call {
    pub(crate) op: &'static str,
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) json_body: Option<serde_json::Value>,
    /// Safe to repeat after a connect error or 5xx.
    pub(crate) idempotent: bool,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("op", &self.op)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("json_body", &self.json_body.as_ref().map(|_| "[REDACTED]"))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

impl Call {
    pub(crate) fn get(op: &'static str, path: &'static str, query: Vec<(String, String)>) -> Self {
        Self {
            op,
            method: Method::GET,
            path,
            query,
            json_body: None,
            idempotent: true,
        }
    }
}

fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|i| i.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        let s = err.to_string();
        if s.contains("certificate") || s.contains("pin mismatch") || s.contains("handshake") {
            return true;
        }
        cur = err.source();
    }
    false
}

fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p: &String| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Maps a reqwest failure; the URL is dropped (it never holds secrets, but it is noise).
pub(crate) fn map_reqwest(e: reqwest::Error, op: &str) -> Error {
    let e = e.without_url();
    if e.is_timeout() {
        return Error::Timeout {
            operation: op.to_string(),
        };
    }
    if is_tls(&e) {
        return Error::Tls {
            reason: chain_text(&e),
        };
    }
    Error::Network {
        reason: format!("{op}: {}", chain_text(&e)),
    }
}

/// Longest wait, lifetime or delay taken from a number the appliance sent; larger values are
/// clamped to it, so no server number can overflow a `Duration` or an `Instant`.
pub(crate) const MAX_SERVER_WAIT: Duration = Duration::from_secs(86_400);

/// A `Retry-After` header: delta seconds (fractions accepted), clamped to [`MAX_SERVER_WAIT`].
/// Negative, NaN, non-numeric and HTTP-date values count as absent (the appliance sends
/// seconds; a date from a proxy is not worth trusting the clocks for).
pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    parse_retry_after(
        resp.headers()
            .get(reqwest::header::RETRY_AFTER)?
            .to_str()
            .ok()?,
    )
}

pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() || v.len() > 64 {
        return None;
    }
    let secs = v.parse::<f64>().ok()?;
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    let secs = secs.min(MAX_SERVER_WAIT.as_secs_f64());
    Duration::try_from_secs_f64(secs).ok()
}

/// Reads at most `cap` bytes of a body; the flag says whether more was left unread.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> reqwest::Result<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap.saturating_sub(out.len());
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}

/// Longest appliance message an error carries (characters, after redaction).
pub(crate) const MAX_MESSAGE_CHARS: usize = 200;

/// Words after which the next word is a credential (`Bearer x`, `password=x`, `"token": "x"`).
fn is_secret_key(word: &str) -> bool {
    let w = word
        .trim_matches(|c| matches!(c, '-' | '_' | '.'))
        .to_ascii_lowercase();
    matches!(
        w.as_str(),
        "bearer"
            | "basic"
            | "authorization"
            | "proxy-authorization"
            | "token"
            | "secret"
            | "password"
            | "passwd"
            | "pwd"
            | "passphrase"
            | "apikey"
            | "api_key"
            | "x-api-key"
            | "cookie"
            | "set-cookie"
            | "sessionid"
            | "session_id"
    ) || w.ends_with("_token")
        || w.ends_with("-token")
        || w.ends_with("_secret")
        || w.ends_with("-secret")
        || w.ends_with("password")
}

/// A run of characters that can be part of a token (base64, base64url, hex, JWT).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '_' | '-' | '.' | '~')
}

/// Long and mixed letters/digits: a token, a key, a hash, base64 or hex data.
fn looks_like_token(w: &str) -> bool {
    w.len() >= 20
        && w.bytes().any(|b| b.is_ascii_digit())
        && w.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Text from the appliance made fit for an error message: control characters become spaces,
/// credentials (`Bearer …`, `Basic …`, values of `access_token`, `client_secret`, `password`,
/// … keys) and anything that looks like a token (20+ characters mixing letters and digits)
/// become `[REDACTED]`, and the result is at most [`MAX_MESSAGE_CHARS`] characters.
///
/// ```text
/// Authorization: Bearer abc  →  Authorization: [REDACTED] [REDACTED]
/// ```
pub(crate) fn redact(text: &str) -> String {
    // Look at a bounded prefix only, and never end it inside a word: a token cut in half
    // would no longer look like one.
    let mut input: String = text.chars().take(4096).collect();
    if input.len() < text.len()
        && let Some(cut) = input.rfind(|c: char| !is_token_char(c))
    {
        input.truncate(cut);
    }
    let mut out = String::with_capacity(input.len().min(1024));
    let mut pending_key: Option<bool> = None; // Some(is_auth_scheme) after a key word
    let mut redact_next = false;
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_token_char(c) {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if !is_token_char(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            let scheme = matches!(word.to_ascii_lowercase().as_str(), "bearer" | "basic");
            if redact_next || looks_like_token(&word) {
                out.push_str("[REDACTED]");
                redact_next = false;
                // `Authorization: Bearer x`: the scheme was the value; the token follows.
                pending_key = scheme.then_some(true);
            } else {
                out.push_str(&word);
                pending_key = is_secret_key(&word).then_some(scheme);
            }
        } else {
            let mut sep = String::new();
            while let Some(&c) = chars.peek() {
                if is_token_char(c) {
                    break;
                }
                sep.push(if c.is_control() { ' ' } else { c });
                chars.next();
            }
            if let Some(scheme) = pending_key.take() {
                redact_next = scheme || sep.contains(['=', ':']);
            }
            out.push_str(&sep);
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    bounded(&collapsed, MAX_MESSAGE_CHARS)
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    let mut it = s.chars();
    let head: String = it.by_ref().take(max).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_utf8_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b)
}

/// The message of a JSON error envelope (`{"error": "...", "message": "..."}`, OAuth's
/// `error_description`, problem+json's `title`/`detail`, `{"error": {"message": ...}}`),
/// redacted and bounded; `None` when the body is not such an envelope.
pub(crate) fn json_error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(strip_utf8_bom(body)).ok()?;
    let obj = v.as_object()?;
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) => Some(bounded(s.trim(), 500)),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Object(o) => o
                .get("message")
                .or_else(|| o.get("code"))
                .and_then(|m| m.as_str())
                .map(|s| bounded(s.trim(), 500)),
            _ => None,
        }
    };
    let code = text(obj.get("error"))
        .or_else(|| text(obj.get("code")))
        .or_else(|| text(obj.get("title")));
    let detail = ["error_description", "message", "detail"]
        .iter()
        .find_map(|k| text(obj.get(*k)));
    let joined = match (code, detail) {
        (Some(c), Some(d)) if c != d => format!("{c}: {d}"),
        (Some(c), _) => c,
        (None, Some(d)) => d,
        (None, None) => return None,
    };
    let r = redact(&joined);
    (!r.is_empty()).then_some(r)
}

/// What an error answer says, fit for an error message: the appliance's message from an XML
/// `<error>` or a JSON error envelope (redacted, bounded), else only what it was — never the
/// raw body, which may echo request headers (a proxy's debug page) and so the bearer token.
pub(crate) fn describe_body(status: Option<u16>, content_type: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(strip_utf8_bom(body));
    let t = text.trim_start();
    let parsed = if t.starts_with('<') {
        super::xml::error_message(t).filter(|m| !m.is_empty())
    } else if t.starts_with('{') {
        json_error_message(t.as_bytes())
    } else {
        None
    };
    if let Some(m) = parsed {
        return m;
    }
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let ct = if ct.is_empty() {
        "no content type".to_string()
    } else {
        redact(ct)
    };
    let status = status.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
    format!(
        "{status}{ct}, {} bytes (not an API error document; body not shown)",
        body.len()
    )
}

pub(crate) fn rate_limit_exhausted(resp: &reqwest::Response) -> bool {
    resp.status() == StatusCode::TOO_MANY_REQUESTS
        || (!resp.status().is_success()
            && resp
                .headers()
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .is_some_and(|n| n < 1))
}

pub(crate) fn bearer(token: &SecretString) -> String {
    format!("Bearer {}", token.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_clamped_and_never_panics() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("1e20"), Some(MAX_SERVER_WAIT));
        assert_eq!(parse_retry_after("inf"), Some(MAX_SERVER_WAIT));
        assert_eq!(parse_retry_after("1e400"), Some(MAX_SERVER_WAIT));
        for v in [
            "-5",
            "-inf",
            "NaN",
            "",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "0x10",
            &"9".repeat(100),
        ] {
            assert_eq!(parse_retry_after(v), None, "{v}");
        }
    }

    #[test]
    fn redaction_removes_credentials_and_tokens() {
        let tok = "Zq8xW3aB7cD9eF1gH2iJ3kL4mN5oP6qR7sT8uV9w";
        for text in [
            format!("authorization: Bearer {tok}"),
            format!("{{\"Authorization\":\"Bearer {tok}\"}}"),
            format!("access_token={tok}&x=1"),
            format!("GET /x HTTP/1.1\r\nAuthorization: bearer {tok}\r\n"),
            format!("token {tok}"),
        ] {
            let r = redact(&text);
            assert!(!r.contains(tok) && !r.contains(&tok[..12]), "{text} -> {r}");
            assert!(r.contains("[REDACTED]"), "{r}");
        }
        assert_eq!(redact("password=hunter2, ok"), "password=[REDACTED], ok");
        assert_eq!(
            redact("\"client_secret\": \"s3\""),
            "\"client_secret\": \"[REDACTED]\""
        );
        assert_eq!(redact("Basic dXNlcjpwYXNz"), "Basic [REDACTED]");
        // Ordinary messages stay readable.
        assert_eq!(
            redact("Backup failed: disk full"),
            "Backup failed: disk full"
        );
        assert_eq!(redact("The token has expired"), "The token has expired");
        assert_eq!(redact("a\u{0}b\nc"), "a b c");
        let long = "é".repeat(1000);
        assert_eq!(redact(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn error_bodies_are_described_never_echoed() {
        let m = describe_body(
            Some(403),
            "application/json",
            br#"{"error":"access_denied","message":"The resource owner denied the request."}"#,
        );
        assert_eq!(m, "access_denied: The resource owner denied the request.");
        let m = describe_body(
            Some(400),
            "application/problem+json",
            br#"{"type":"about:blank","title":"Bad Request","detail":"lsid is unknown"}"#,
        );
        assert_eq!(m, "Bad Request: lsid is unknown");
        let m = describe_body(
            Some(200),
            "text/xml",
            "\u{feff}<error>Login failed</error>".as_bytes(),
        );
        assert_eq!(m, "Login failed");
        let echo = b"GET /api/backup HTTP/1.1\nauthorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\n";
        let m = describe_body(Some(502), "text/plain; charset=utf-8", echo);
        assert_eq!(
            m,
            format!(
                "HTTP 502, text/plain, {} bytes (not an API error document; body not shown)",
                echo.len()
            )
        );
        assert_eq!(json_error_message(b"[1,2]"), None);
        assert_eq!(json_error_message(b"{\"ok\":true}"), None);
        assert_eq!(
            json_error_message(br#"{"error":{"message":"nope","code":7}}"#).as_deref(),
            Some("nope")
        );
    }

    #[test]
    fn call_debug_hides_the_body() {
        let mut c = Call::get("download_backup", "/api/backup", vec![]);
        c.json_body = Some(serde_json::json!({ "password": "NSB-pass-Kx91" }));
        let d = format!("{c:?}");
        assert!(
            !d.contains("NSB-pass-Kx91") && d.contains("[REDACTED]"),
            "{d}"
        );
    }
}
