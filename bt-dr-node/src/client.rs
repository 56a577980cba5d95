//! The appliance API client: the core's async [`bt_dr_core::api::Client`] driven on napi's
//! tokio runtime. Every call returns a Promise; downloads report progress through a
//! ThreadsafeFunction and stop when their [`CancelToken`] is cancelled (the core then removes
//! the partial file).

use std::sync::Arc;
use std::time::Duration;

use bt_dr_core::api::{
    self, ArchiveKind, BackupOptions, ReportKind, RetryPolicy, ThrottledProgress, TimeWindow,
    TransferOptions,
};
use bt_dr_core::{FailoverRole, Product, SecretString};
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{Buffer, Either, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{date_input, enum_input, input, js_error, out, promise};

/// Retry bounds of a client (milliseconds for durations). Unset fields keep the core defaults.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Default)]
pub struct RetryOptions {
    /// Attempts for an idempotent read that fails with a connect error or 5xx (first included).
    pub max_attempts: Option<u32>,
    /// First backoff.
    pub initial_backoff_ms: Option<u32>,
    /// Largest backoff between attempts.
    pub max_backoff_ms: Option<u32>,
    /// No retry starts after this much time.
    pub max_total_ms: Option<u32>,
    /// How many "too many requests" answers to wait out before failing with `BT_DR_RATE_LIMITED`.
    pub max_rate_limit_waits: Option<u32>,
    /// Cap on a single `Retry-After` wait.
    pub max_retry_after_ms: Option<u32>,
}

/// How to reach one appliance. The client secret is handed to the core and never read back.
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
    /// `https://host[:port]`.
    pub base_url: String,
    /// OAuth client id of the API account.
    pub client_id: String,
    /// OAuth client secret of the API account.
    pub client_secret: String,
    /// Extra trusted CA certificates (PEM text or bytes), added to the system roots.
    pub ca_pem: Option<Either<String, Buffer>>,
    /// Trust only `caPem`, not the system roots.
    pub only_extra_ca: Option<bool>,
    /// SHA-256 of the server certificate (hex, colons allowed).
    pub pin_sha256: Option<String>,
    /// DANGEROUS: accept any server certificate (a pin still applies).
    pub danger_accept_invalid_certs: Option<bool>,
    /// DANGEROUS: allow `http://` URLs.
    pub danger_allow_http: Option<bool>,
    /// TCP+TLS connect timeout.
    pub connect_timeout_ms: Option<u32>,
    /// Longest silence while reading a response.
    pub read_timeout_ms: Option<u32>,
    /// Whole-request timeout for non-download calls.
    pub request_timeout_ms: Option<u32>,
    /// Client-side request rate per API account.
    pub rate_limit_per_second: Option<u32>,
    /// Retry bounds.
    pub retry: Option<RetryOptions>,
    /// Site name used in backup file names when the appliance sends none.
    pub site_name: Option<String>,
    /// `"rs"` or `"pra"` (default `"rs"`).
    pub product: Option<String>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// Bytes done so far and the total when the appliance announced it.
#[napi(object)]
#[derive(Debug, Clone, Copy)]
pub struct ProgressEvent {
    /// Bytes received so far.
    pub done: f64,
    /// Announced size, if any.
    pub total: Option<f64>,
}

/// The JavaScript progress callback, called on the JavaScript thread.
pub type ProgressFn =
    ThreadsafeFunction<ProgressEvent, Unknown<'static>, ProgressEvent, Status, false>;

/// A cancellation flag for one or more transfers (set from an `AbortSignal` by `index.js`).
#[napi]
#[derive(Debug, Default)]
pub struct CancelToken {
    inner: api::CancelToken,
}

#[napi]
impl CancelToken {
    /// A fresh, unset token.
    #[napi(catch_unwind, constructor)]
    pub fn new(env: Env) -> napi::Result<Self> {
        crate::convert::guard(&env, || Ok(Self::default()))
    }
    /// Asks every transfer holding this token to stop; each removes its partial file.
    #[napi(catch_unwind)]
    pub fn cancel(&self, env: Env) -> napi::Result<()> {
        crate::convert::guard(&env, || {
            self.inner.cancel();
            Ok(())
        })
    }
    /// Whether `cancel()` was called.
    #[napi(catch_unwind, getter)]
    pub fn is_cancelled(&self, env: Env) -> napi::Result<bool> {
        crate::convert::guard(&env, || Ok(self.inner.is_cancelled()))
    }
}

impl CancelToken {
    /// The core token (shared: cancelling either cancels both).
    pub(crate) fn core(&self) -> api::CancelToken {
        self.inner.clone()
    }
}

/// The progress of one transfer as the core paces it ([`ThrottledProgress`] at
/// [`api::DEFAULT_PROGRESS_INTERVAL`]), so a fast download does not flood the JavaScript thread, and
/// the cancellation token. Call [`Transfer::finish`] once the transfer is over: it passes on the
/// final count when pacing held it back (a download of unannounced size).
pub(crate) struct Transfer {
    throttle: Option<Arc<ThrottledProgress>>,
    cancel: Option<api::CancelToken>,
}

impl Transfer {
    /// Paces `f` (when given) and keeps `cancel`.
    pub(crate) fn new(
        f: Option<impl Fn(u64, Option<u64>) + Send + Sync + 'static>,
        cancel: Option<&CancelToken>,
    ) -> Self {
        Self {
            throttle: f.map(ThrottledProgress::with_default_interval),
            cancel: cancel.map(CancelToken::core),
        }
    }

    /// The core progress callback (shares the pacing with [`Transfer::finish`]).
    pub(crate) fn progress(&self) -> Option<api::Progress> {
        self.throttle.as_ref().map(ThrottledProgress::progress)
    }

    /// The core options of the transfer.
    pub(crate) fn options(&self) -> TransferOptions {
        TransferOptions {
            progress: self.progress(),
            cancel: self.cancel.clone(),
        }
    }

    /// The cancellation token, for options that take it apart from progress.
    pub(crate) fn cancel(&self) -> Option<api::CancelToken> {
        self.cancel.clone()
    }

    /// Passes on a held-back final count (see [`ThrottledProgress::finish`]).
    pub(crate) fn finish(&self) {
        if let Some(t) = &self.throttle {
            t.finish();
        }
    }
}

/// The transfer state of a JavaScript progress callback (called on the JavaScript thread).
pub(crate) fn transfer(cb: Option<ProgressFn>, cancel: Option<&CancelToken>) -> Transfer {
    Transfer::new(
        cb.map(|cb| {
            move |done: u64, total: Option<u64>| {
                cb.call(
                    ProgressEvent {
                        done: done as f64,
                        total: total.map(|t| t as f64),
                    },
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }
        }),
        cancel,
    )
}

/// The one time window of a session listing: the core's own serde shape of [`TimeWindow`]
/// (`{type: "start_date", date: "YYYY-MM-DD", days}`, `{type: "lsid", lsid}`, …), read through
/// serde_json so its dates take their human-readable `YYYY-MM-DD` form.
fn window_input(v: Value) -> bt_dr_core::Result<TimeWindow> {
    input("window", v)
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(u64::from(v))
}

fn build(o: ClientOptions) -> bt_dr_core::Result<api::Client> {
    let retry = o.retry.map(|r| {
        let mut p = RetryPolicy::default();
        if let Some(x) = r.max_attempts {
            p.max_attempts = x;
        }
        if let Some(x) = r.initial_backoff_ms {
            p.initial_backoff = ms(x);
        }
        if let Some(x) = r.max_backoff_ms {
            p.max_backoff = ms(x);
        }
        if let Some(x) = r.max_total_ms {
            p.max_total = ms(x);
        }
        if let Some(x) = r.max_rate_limit_waits {
            p.max_rate_limit_waits = x;
        }
        if let Some(x) = r.max_retry_after_ms {
            p.max_retry_after = ms(x);
        }
        p
    });
    // Field by field into the core's options; the core applies them to the builder.
    let options = api::ClientOptions {
        extra_ca_pem: o.ca_pem.map(|ca| match ca {
            Either::A(s) => s.into_bytes(),
            Either::B(buf) => buf.to_vec(),
        }),
        only_extra_ca: o.only_extra_ca,
        pin_sha256: o.pin_sha256,
        danger_accept_invalid_certs: o.danger_accept_invalid_certs,
        danger_allow_http: o.danger_allow_http,
        connect_timeout: o.connect_timeout_ms.map(ms),
        read_timeout: o.read_timeout_ms.map(ms),
        request_timeout: o.request_timeout_ms.map(ms),
        rate_limit_per_second: o.rate_limit_per_second,
        retry,
        site_name: o.site_name,
        product: o
            .product
            .as_deref()
            .map(str::parse::<Product>)
            .transpose()?,
    };
    api::Client::builder(&o.base_url)
        .credentials(&o.client_id, SecretString::from(o.client_secret))
        .options(&options)
        .build()
}

/// A client for one appliance's web APIs (OAuth, command, backup, reporting).
#[napi]
pub struct Client {
    inner: api::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The core client (a cheap clone sharing the token cache).
    pub(crate) fn core(&self) -> api::Client {
        self.inner.clone()
    }
}

#[napi]
impl Client {
    /// Validates the options and builds the client (throws `BT_DR_INVALID_INPUT` / `BT_DR_TLS`).
    #[napi(catch_unwind, constructor)]
    pub fn new(env: Env, options: ClientOptions) -> napi::Result<Self> {
        crate::convert::guard(&env, || {
            build(options)
                .map(|inner| Self { inner })
                .map_err(|e| js_error(&env, &e))
        })
    }

    /// The base URL.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self, env: Env) -> napi::Result<String> {
        crate::convert::guard(&env, || Ok(self.inner.base_url().to_string()))
    }

    /// The appliance host.
    #[napi(catch_unwind, getter)]
    pub fn host(&self, env: Env) -> napi::Result<String> {
        crate::convert::guard(&env, || Ok(self.inner.host().to_string()))
    }

    /// `"rs"` or `"pra"`.
    #[napi(catch_unwind, getter)]
    pub fn product(&self, env: Env) -> napi::Result<String> {
        crate::convert::guard(&env, || Ok(self.inner.product().as_str().to_string()))
    }

    /// SHA-256 (lowercase hex) of the leaf certificate the appliance presented in this client's
    /// most recent TLS handshake (trusted or not); `null` before the first connection.
    #[napi(catch_unwind, getter)]
    pub fn served_leaf_sha256(&self, env: Env) -> napi::Result<Option<String>> {
        crate::convert::guard(&env, || Ok(self.inner.served_leaf_sha256()))
    }

    /// `check_health`: version, failover role, last data sync.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn check_health<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.check_health().await?) })
        })
    }

    /// `probe_health`: the unauthenticated `/check_health` probe.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn probe_health<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.probe_health().await?) })
        })
    }

    /// `get_api_info`: API version and the account's permissions.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_api_info<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.get_api_info().await?) })
        })
    }

    /// `get_appliances`: the pair or cluster as the appliance sees it.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_appliances<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.get_appliances().await?) })
        })
    }

    /// `get_connected_clients`: who a planned failover would disconnect.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_connected_clients<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.get_connected_clients().await?) })
        })
    }

    /// `set_failover_role`: `role` is `"primary"` or `"backup"`.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn set_failover_role<'e>(
        &self,
        env: &'e Env,
        role: String,
        data_sync_first: Option<bool>,
        force: Option<bool>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move {
                let role: FailoverRole = role.parse()?;
                out(&c
                    .set_failover_role(
                        role,
                        data_sync_first.unwrap_or(false),
                        force.unwrap_or(false),
                    )
                    .await?)
            })
        })
    }

    /// `download_backup`: streams the NSB into `dir` with SHA-256 and a sidecar.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn download_backup<'e>(
        &self,
        env: &'e Env,
        dir: String,
        password: Option<String>,
        #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
        on_progress: Option<ProgressFn>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            let t = transfer(on_progress, cancel);
            let opts = BackupOptions {
                password: password.map(SecretString::from),
                progress: t.progress(),
                cancel: t.cancel(),
            };
            promise(env, async move {
                let r = c.download_backup(&dir, opts).await;
                t.finish();
                out(&r?)
            })
        })
    }

    /// `list_sessions`: sessions in one time window.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn list_sessions<'e>(
        &self,
        env: &'e Env,
        window: Value,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move {
                let w = window_input(window)?;
                out(&c.list_sessions(&w).await?)
            })
        })
    }

    /// `get_session`: the session report of one `lsid`.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_session<'e>(
        &self,
        env: &'e Env,
        lsid: String,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move { out(&c.get_session(&lsid).await?) })
        })
    }

    /// `download_recording`: streams a session recording into `dir`.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn download_recording<'e>(
        &self,
        env: &'e Env,
        lsid: String,
        dir: String,
        #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
        on_progress: Option<ProgressFn>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            let t = transfer(on_progress, cancel);
            promise(env, async move {
                let r = c.download_recording(&lsid, &dir, t.options()).await;
                t.finish();
                out(&r?)
            })
        })
    }

    /// `download_report`: saves one piece of Reporting API data into `dir` under a name the
    /// core chooses — a recording of any kind or a session report for `{type: "lsid"}`, exit
    /// surveys for a time window. `kind` is the core's snake_case report kind.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn download_report<'e>(
        &self,
        env: &'e Env,
        kind: String,
        window: Value,
        dir: String,
        #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
        on_progress: Option<ProgressFn>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            let t = transfer(on_progress, cancel);
            promise(env, async move {
                let kind: ReportKind = kind.parse()?;
                let w = window_input(window)?;
                let r = c.download_report(kind, &w, &dir, t.options()).await;
                t.finish();
                out(&r?)
            })
        })
    }

    /// `list_archives`: the `ArchiveListing` of a day (`YYYY-MM-DD`).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn list_archives<'e>(
        &self,
        env: &'e Env,
        date: String,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            promise(env, async move {
                let d = date_input("date", &date)?;
                out(&c.list_archives(d).await?)
            })
        })
    }

    /// `download_archive`: streams one archive (`"state"` or `"event"`) into `dir`, kept gzip.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    #[allow(clippy::too_many_arguments)]
    pub fn download_archive<'e>(
        &self,
        env: &'e Env,
        kind: String,
        date: String,
        index: u32,
        dir: String,
        #[napi(ts_arg_type = "((event: ProgressEvent) => void) | undefined | null")]
        on_progress: Option<ProgressFn>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        crate::convert::guard(env, || {
            let c = self.inner.clone();
            let t = transfer(on_progress, cancel);
            promise(env, async move {
                let kind: ArchiveKind = enum_input("kind", &kind)?;
                let d = date_input("date", &date)?;
                let r = c.download_archive(kind, d, index, &dir, t.options()).await;
                t.finish();
                out(&r?)
            })
        })
    }
}
