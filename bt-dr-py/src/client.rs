//! The appliance API client. Every network call runs on the core's [`BlockingClient`] with the
//! GIL released, so Python threads overlap; a watcher re-acquires the GIL every 100 ms to let
//! Ctrl-C (`KeyboardInterrupt`) through, and downloads also cancel through the core's
//! [`CancelToken`] from their progress hook, so no partial file is left behind.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bt_dr_core::api::{
    ArchiveKind, BackupOptions, BlockingClient, CancelToken, Client, ClientBuilder,
    DEFAULT_PROGRESS_INTERVAL, Progress, ReportKind, RetryPolicy, ThrottledProgress,
    TransferOptions,
};
use bt_dr_core::{Error, FailoverRole, SecretString};
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{from_json, parse_date, py_to_json, to_py};
use crate::errors::py_result;
use crate::ops::{product_of, window_from};

/// How often a blocked call looks for a pending signal (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(100);
/// How long a cancelled operation may take to clean up after itself.
pub const CANCEL_GRACE: Duration = Duration::from_secs(3);

async fn watch_signals() -> PyErr {
    loop {
        tokio::time::sleep(SIGNAL_POLL).await;
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            return e;
        }
    }
}

/// Runs a core future with the GIL released, interruptible by signals. Dropping the future on
/// interrupt is safe: the core writes files under temporary names that vanish on drop.
pub fn run_blocking<T, Fut>(py: Python<'_>, bc: &BlockingClient, fut: Fut) -> PyResult<T>
where
    T: Send,
    Fut: Future<Output = bt_dr_core::Result<T>> + Send,
{
    run_cancellable(py, bc, None, fut)
}

/// Like [`run_blocking`]; on a signal the `cancel` token is set first and the core gets
/// [`CANCEL_GRACE`] to stop and clean up by itself before the future is dropped.
pub fn run_cancellable<T, Fut>(
    py: Python<'_>,
    bc: &BlockingClient,
    cancel: Option<CancelToken>,
    fut: Fut,
) -> PyResult<T>
where
    T: Send,
    Fut: Future<Output = bt_dr_core::Result<T>> + Send,
{
    let out = py.detach(|| {
        bc.block_on(async move {
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => Ok(r),
                e = watch_signals() => {
                    if let Some(token) = cancel {
                        token.cancel();
                        let _ = tokio::time::timeout(CANCEL_GRACE, &mut fut).await;
                    }
                    Err(e)
                }
            }
        })
    });
    match out {
        Ok(r) => py_result(r),
        Err(e) => Err(e),
    }
}

/// The Python end of a progress hook: the user's callback, the transfer's cancel token and
/// the exception that stopped it. Throttling is not decided here: the core's
/// [`ThrottledProgress`] decides which events reach [`Sink::call`].
#[derive(Debug)]
struct Sink {
    callback: Option<Py<PyAny>>,
    cancel: CancelToken,
    failure: Mutex<Option<PyErr>>,
    /// The last `(done, total)` handed to the callback (None: none yet), so that
    /// [`ProgressHook::finish`] can tell whether the final count was seen.
    last: Mutex<Option<(u64, Option<u64>)>>,
}

impl Sink {
    /// Calls the callback and checks for signals; an exception from either is kept and
    /// cancels the transfer (the core then cleans up and the exception is re-raised).
    fn call(&self, done: u64, total: Option<u64>) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((done, total));
        Python::attach(|py| {
            let r = match &self.callback {
                Some(cb) => cb.call1(py, (done, total)).map(|_| ()),
                None => Ok(()),
            }
            .and_then(|_| py.check_signals());
            if let Err(e) = r {
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                self.cancel.cancel();
            }
        });
    }

    /// The exception that stopped the transfer, if any (taken: it is raised once).
    fn take_failure(&self) -> Option<PyErr> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Calls the user's progress callback at the core's pace ([`DEFAULT_PROGRESS_INTERVAL`]) and
/// checks for signals; an exception from either cancels the transfer and is re-raised when the
/// core has cleaned up.
#[derive(Debug)]
pub struct ProgressHook {
    sink: Arc<Sink>,
    throttle: Arc<ThrottledProgress>,
}

impl ProgressHook {
    /// A hook around an optional Python callable `(done, total) -> None`.
    pub fn new(callback: Option<Py<PyAny>>) -> Arc<Self> {
        let sink = Arc::new(Sink {
            callback,
            cancel: CancelToken::new(),
            failure: Mutex::new(None),
            last: Mutex::new(None),
        });
        let to = sink.clone();
        let throttle = ThrottledProgress::new(DEFAULT_PROGRESS_INTERVAL, move |done, total| {
            to.call(done, total)
        });
        Arc::new(Self { sink, throttle })
    }

    /// The token the core watches.
    pub fn token(&self) -> CancelToken {
        self.sink.cancel.clone()
    }

    /// Progress and cancel of a transfer, both through this hook.
    pub fn transfer(self: &Arc<Self>) -> TransferOptions {
        TransferOptions {
            progress: Some(self.progress()),
            cancel: Some(self.token()),
        }
    }

    /// The core-side progress callback (throttled by the core; silent once cancelled, so a
    /// failed callback is not called again while the core stops).
    pub fn progress(self: &Arc<Self>) -> Progress {
        let sink = self.sink.clone();
        let throttle = self.throttle.clone();
        Arc::new(move |done, total| {
            if !sink.cancel.is_cancelled() {
                throttle.report(done, total);
            }
        })
    }

    /// Runs `fut` (which uses this hook's progress and token) and finishes with [`Self::finish`].
    pub fn run<T, Fut>(
        &self,
        py: Python<'_>,
        bc: &BlockingClient,
        fut: Fut,
        size_of: impl Fn(&T) -> u64,
    ) -> PyResult<T>
    where
        T: Send,
        Fut: Future<Output = bt_dr_core::Result<T>> + Send,
    {
        let r = run_cancellable(py, bc, Some(self.token()), fut);
        self.finish(r, size_of)
    }

    /// After the transfer: the exception that stopped it, else the core's result; on success
    /// the callback sees the final byte count once: the event throttling held back, or the
    /// result's size when no event carried it.
    pub fn finish<T>(&self, r: PyResult<T>, size_of: impl Fn(&T) -> u64) -> PyResult<T> {
        if let Some(e) = self.sink.take_failure() {
            return Err(e);
        }
        let v = r?;
        if self.sink.callback.is_some() {
            self.throttle.finish();
            let size = size_of(&v);
            let last = *self.sink.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.map(|(done, _)| done) != Some(size) {
                let total = last.and_then(|(_, t)| t).or(Some(size));
                self.sink.call(size, total);
            }
            if let Some(e) = self.sink.take_failure() {
                return Err(e);
            }
        }
        Ok(v)
    }
}

fn secs(v: &Value, k: &str) -> PyResult<Option<Duration>> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_f64() {
            Some(s) if s >= 0.0 && s.is_finite() => Ok(Some(Duration::from_secs_f64(s))),
            _ => py_result(Err(Error::invalid_input(
                format!("retry.{k}"),
                "must be a non-negative number of seconds",
            ))),
        },
    }
}

fn retry_policy(obj: &Bound<'_, PyAny>) -> PyResult<RetryPolicy> {
    let v = py_to_json(obj)?;
    let mut p = RetryPolicy::default();
    if let Some(n) = v.get("max_attempts").and_then(Value::as_u64) {
        p.max_attempts = n as u32;
    }
    if let Some(n) = v.get("max_rate_limit_waits").and_then(Value::as_u64) {
        p.max_rate_limit_waits = n as u32;
    }
    if let Some(d) = secs(&v, "initial_backoff")? {
        p.initial_backoff = d;
    }
    if let Some(d) = secs(&v, "max_backoff")? {
        p.max_backoff = d;
    }
    if let Some(d) = secs(&v, "max_total")? {
        p.max_total = d;
    }
    if let Some(d) = secs(&v, "max_retry_after")? {
        p.max_retry_after = d;
    }
    Ok(p)
}

/// The native client behind `bt_dr.Client`. Holds no secret in anything Python can read.
#[derive(Debug)]
#[pyclass(module = "bt_dr._native", frozen)]
pub struct NativeClient {
    inner: Mutex<Option<BlockingClient>>,
    base_url: String,
    host: String,
    client_id: String,
    product: &'static str,
}

impl NativeClient {
    /// The live client, or `InvalidInput` once closed.
    pub fn live(&self) -> PyResult<BlockingClient> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| crate::errors::to_pyerr(Error::invalid_input("client", "is closed")))
    }

    fn call<'py, T, F, Fut>(&self, py: Python<'py>, f: F) -> PyResult<Bound<'py, PyAny>>
    where
        T: serde::Serialize + Send,
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = bt_dr_core::Result<T>> + Send,
    {
        let bc = self.live()?;
        let v = run_blocking(py, &bc, f(bc.client().clone()))?;
        to_py(py, &v)
    }
}

#[pymethods]
impl NativeClient {
    /// Builds and validates a client (no network traffic yet).
    /// A client for `base_url`, or for appliance `hostname` of inventory `site`: then the core
    /// presets URL, site name, product, CA file, pin and credentials from the site's `api`
    /// section (`ClientBuilder::for_appliance`), and values given here win.
    #[new]
    #[pyo3(signature = (base_url=None, client_id=None, client_secret=None, *, site=None,
        hostname=None, ca_pem=None, only_extra_ca=false, pin_sha256=None,
        danger_accept_invalid_certs=false, danger_allow_http=false, connect_timeout=None,
        read_timeout=None, request_timeout=None, rate_limit_per_second=None, site_name=None,
        product=None, retry=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        base_url: Option<&str>,
        client_id: Option<&str>,
        client_secret: Option<String>,
        site: Option<&Bound<'_, PyAny>>,
        hostname: Option<&str>,
        ca_pem: Option<Vec<u8>>,
        only_extra_ca: bool,
        pin_sha256: Option<&str>,
        danger_accept_invalid_certs: bool,
        danger_allow_http: bool,
        connect_timeout: Option<f64>,
        read_timeout: Option<f64>,
        request_timeout: Option<f64>,
        rate_limit_per_second: Option<u32>,
        site_name: Option<&str>,
        product: Option<&str>,
        retry: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        crate::errors::guard(|| {
            let mut b = match (base_url, site, hostname) {
                (Some(url), None, None) => Client::builder(url),
                (None, Some(site), Some(hostname)) => {
                    let site: bt_dr_core::Site = crate::convert::from_py(site, "site")?;
                    let appliance = site.appliance(hostname).ok_or_else(|| {
                        crate::errors::to_pyerr(Error::NotFound {
                            what: format!("appliance {hostname} in site {}", site.name),
                        })
                    })?;
                    py_result(ClientBuilder::for_appliance(&site, appliance))?
                }
                _ => {
                    return py_result(Err(Error::invalid_input(
                        "base_url",
                        "give either base_url, or site and hostname",
                    )));
                }
            };
            if let Some(id) = client_id {
                b = b.client_id(id);
            }
            if let Some(secret) = client_secret {
                b = b.client_secret(SecretString::from(secret));
            }
            let dur = |s: Option<f64>, field: &str| -> PyResult<Option<Duration>> {
                match s {
                    None => Ok(None),
                    Some(x) if x > 0.0 && x.is_finite() => Ok(Some(Duration::from_secs_f64(x))),
                    Some(_) => py_result(Err(Error::invalid_input(
                        field,
                        "must be a positive number of seconds",
                    ))),
                }
            };
            // Argument by argument into the core's options; the core applies them.
            let options = bt_dr_core::api::ClientOptions {
                extra_ca_pem: ca_pem,
                only_extra_ca: only_extra_ca.then_some(true),
                pin_sha256: pin_sha256.map(str::to_string),
                danger_accept_invalid_certs: Some(danger_accept_invalid_certs),
                danger_allow_http: Some(danger_allow_http),
                connect_timeout: dur(connect_timeout, "connect_timeout")?,
                read_timeout: dur(read_timeout, "read_timeout")?,
                request_timeout: dur(request_timeout, "request_timeout")?,
                rate_limit_per_second,
                retry: retry
                    .filter(|r| !r.is_none())
                    .map(retry_policy)
                    .transpose()?,
                site_name: site_name.map(str::to_string),
                product: product.map(product_of).transpose()?,
            };
            b = b.options(&options);
            let client = py_result(b.build())?;
            let bc = py_result(BlockingClient::new(client))?;
            let c = bc.client();
            Ok(NativeClient {
                base_url: c.base_url().to_string(),
                host: c.host().to_string(),
                client_id: c.client_id().to_string(),
                product: c.product().as_str(),
                inner: Mutex::new(Some(bc)),
            })
        })
    }

    /// Base URL.
    #[getter]
    fn base_url(&self) -> PyResult<&str> {
        crate::errors::guard(|| Ok(self.base_url.as_str()))
    }
    /// Appliance host.
    #[getter]
    fn host(&self) -> PyResult<&str> {
        crate::errors::guard(|| Ok(self.host.as_str()))
    }
    /// OAuth client id (not secret).
    #[getter]
    fn client_id(&self) -> PyResult<&str> {
        crate::errors::guard(|| Ok(self.client_id.as_str()))
    }
    /// `rs` or `pra`.
    #[getter]
    fn product(&self) -> PyResult<&str> {
        crate::errors::guard(|| Ok(self.product))
    }
    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        crate::errors::guard(|| {
            Ok(self
                .inner
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none())
        })
    }

    /// Releases the client's runtime and connections; later calls raise `InvalidInput`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        crate::errors::guard(|| {
            let taken = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
            py.detach(move || drop(taken));
            Ok(())
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        crate::errors::guard(|| {
            Ok(format!(
                "NativeClient(base_url={:?}, client_id={:?})",
                self.base_url, self.client_id
            ))
        })
    }

    /// Authenticated check_health.
    fn check_health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, |c| async move { c.check_health().await }))
    }
    /// Unauthenticated /check_health probe.
    fn probe_health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, |c| async move { c.probe_health().await }))
    }
    /// API version and permissions.
    fn get_api_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, |c| async move { c.get_api_info().await }))
    }
    /// Appliances of the pair or cluster.
    fn get_appliances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, |c| async move { c.get_appliances().await }))
    }
    /// Connected clients.
    fn get_connected_clients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, |c| async move { c.get_connected_clients().await }))
    }
    /// Changes the failover role.
    #[pyo3(signature = (role, data_sync_first=false, force=false))]
    fn set_failover_role<'py>(
        &self,
        py: Python<'py>,
        role: &str,
        data_sync_first: bool,
        force: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let role: FailoverRole = py_result(role.parse())?;
            self.call(py, move |c| async move {
                c.set_failover_role(role, data_sync_first, force).await
            })
        })
    }
    /// Sessions in a window (dict from `TimeWindow`).
    fn list_sessions<'py>(
        &self,
        py: Python<'py>,
        window: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let w = window_from(window)?;
            self.call(py, move |c| async move { c.list_sessions(&w).await })
        })
    }
    /// One session report.
    fn get_session<'py>(&self, py: Python<'py>, lsid: String) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| self.call(py, move |c| async move { c.get_session(&lsid).await }))
    }
    /// ArchiveListing for a day (`YYYY-MM-DD`).
    fn list_archives<'py>(&self, py: Python<'py>, date: &str) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let d = parse_date(date, "date")?;
            self.call(py, move |c| async move { c.list_archives(d).await })
        })
    }

    /// Streams the NSB backup into `dir` (temporary name until complete) with a sidecar.
    #[pyo3(signature = (dir, password=None, progress=None))]
    fn download_backup<'py>(
        &self,
        py: Python<'py>,
        dir: PathBuf,
        password: Option<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let bc = self.live()?;
            let hook = ProgressHook::new(progress);
            let opts = BackupOptions {
                password: password.map(SecretString::from),
                progress: Some(hook.progress()),
                cancel: Some(hook.token()),
            };
            let c = bc.client().clone();
            let v = hook.run(
                py,
                &bc,
                async move { c.download_backup(&dir, opts).await },
                |d| d.file.size,
            )?;
            to_py(py, &v)
        })
    }

    /// Streams a session recording into `dir`.
    #[pyo3(signature = (lsid, dir, progress=None))]
    fn download_recording<'py>(
        &self,
        py: Python<'py>,
        lsid: String,
        dir: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let bc = self.live()?;
            let hook = ProgressHook::new(progress);
            let opts = hook.transfer();
            let c = bc.client().clone();
            let v = hook.run(
                py,
                &bc,
                async move { c.download_recording(&lsid, &dir, opts).await },
                |f| f.size,
            )?;
            to_py(py, &v)
        })
    }

    /// Saves one piece of Reporting API data of `kind` (snake-case `ReportKind`) into `dir`:
    /// per-session kinds for an `lsid` window, exit surveys for a time window.
    #[pyo3(signature = (kind, window, dir, progress=None))]
    fn download_report<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        window: &Bound<'py, PyAny>,
        dir: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let kind: ReportKind = py_result(kind.parse())?;
            let w = window_from(window)?;
            let bc = self.live()?;
            let hook = ProgressHook::new(progress);
            let opts = hook.transfer();
            let c = bc.client().clone();
            let v = hook.run(
                py,
                &bc,
                async move { c.download_report(kind, &w, &dir, opts).await },
                |f| f.size,
            )?;
            to_py(py, &v)
        })
    }

    /// SHA-256 (hex) of the leaf certificate the appliance presented in this client's most
    /// recent TLS handshake; None before the first connection and over plain http.
    fn served_leaf_sha256(&self) -> PyResult<Option<String>> {
        crate::errors::guard(|| Ok(self.live()?.client().served_leaf_sha256()))
    }

    /// Streams one Archive (gzip) into `dir`.
    #[pyo3(signature = (kind, date, index, dir, progress=None))]
    fn download_archive<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        date: &str,
        index: u32,
        dir: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guard(|| {
            let kind: ArchiveKind = from_json(Value::String(kind.to_string()), "kind")?;
            let d = parse_date(date, "date")?;
            let bc = self.live()?;
            let hook = ProgressHook::new(progress);
            let opts = hook.transfer();
            let c = bc.client().clone();
            let v = hook.run(
                py,
                &bc,
                async move { c.download_archive(kind, d, index, &dir, opts).await },
                |f| f.size,
            )?;
            to_py(py, &v)
        })
    }
}
