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

use crate::Error;

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
    /// Cap on a single `Retry-After` wait.
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

#[derive(Debug)]
pub(crate) struct CachedToken {
    pub(crate) value: SecretString,
    pub(crate) refresh_at: Instant,
    pub(crate) generation: u64,
}

/// What a call sends.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) op: &'static str,
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) json_body: Option<serde_json::Value>,
    /// Safe to repeat after a connect error or 5xx.
    pub(crate) idempotent: bool,
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

/// Seconds of a `Retry-After` header (delta form only; the appliance does not send dates).
pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
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
