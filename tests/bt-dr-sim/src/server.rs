//! The HTTPS front: accept loop, one request per connection, auth, rate limiting, routing and
//! wire-level fault injection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::state::{FaultPlan, RateOutcome, SiteState, lock};
use crate::{Account, Endpoint, Fault, backup, command, reporting, xml};

/// Error type of response bodies (a concrete type keeps hyper's `Send` checks simple).
#[derive(Debug)]
pub(crate) struct BodyError(pub &'static str);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BodyError {}

pub(crate) type RespBody = UnsyncBoxBody<Bytes, BodyError>;

/// Largest request body read (form parameters or a backup password).
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// What a handler produces before fault shaping and common headers.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub kind: Kind,
    pub headers: Vec<(&'static str, String)>,
    pub body: Payload,
    /// Remaining hourly quota of the calling account, once known.
    pub rate_remaining: Option<u64>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Xml,
    Json,
    Binary,
    Gzip,
    Text,
    Html,
    /// The `Content-Type` (if any) is among the reply's headers (the `Answer` fault).
    Raw,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Raw => "",
            Kind::Xml => "text/xml; charset=UTF-8",
            Kind::Json => "application/json",
            Kind::Binary => "application/octet-stream",
            Kind::Gzip => "application/x-gzip",
            Kind::Text => "text/plain; charset=UTF-8",
            Kind::Html => "text/html; charset=UTF-8",
        }
    }
}

pub(crate) enum Payload {
    Full(Bytes),
    Stream {
        len: u64,
        stream: BoxStream<'static, Result<Bytes, BodyError>>,
    },
}

impl Reply {
    pub fn new(status: StatusCode, kind: Kind, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            kind,
            headers: Vec::new(),
            body: Payload::Full(body.into()),
            rate_remaining: None,
        }
    }

    pub fn xml(body: String) -> Self {
        Reply::new(StatusCode::OK, Kind::Xml, body)
    }

    pub fn xml_error(status: StatusCode, ns: &str, message: &str) -> Self {
        Reply::new(status, Kind::Xml, xml::error_doc(ns, message))
    }

    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Reply::new(status, Kind::Json, value.to_string())
    }

    pub fn stream(
        kind: Kind,
        len: u64,
        stream: BoxStream<'static, Result<Bytes, BodyError>>,
    ) -> Self {
        Reply {
            status: StatusCode::OK,
            kind,
            headers: Vec::new(),
            body: Payload::Stream { len, stream },
            rate_remaining: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Request parameters from the query string and a form body, query first.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    fn extend_from_form(&mut self, data: &[u8]) {
        self.0
            .extend(url::form_urlencoded::parse(data).into_owned());
    }

    #[cfg(test)]
    pub fn extend_for_test(&mut self, query: &str) {
        self.extend_from_form(query.as_bytes());
    }
}

/// The parts of a request the handlers need, with the body already read.
pub(crate) struct Req {
    pub method: Method,
    pub headers: hyper::HeaderMap,
    pub params: Params,
    pub body: Bytes,
    /// `https://<host>` as the client addressed this appliance.
    pub base_url: String,
}

/// Marker error that makes hyper drop the connection without answering.
#[derive(Debug)]
struct ResetRequested;

impl std::fmt::Display for ResetRequested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ResetRequested {}

/// TLS stream wrapper that turns the final close into a TCP RST when a reset fault fired.
struct ConnIo {
    inner: TlsStream<TcpStream>,
    reset: Arc<AtomicBool>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.get_ref().0.set_zero_linger();
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    site: Arc<SiteState>,
    idx: usize,
    acceptor: TlsAcceptor,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if site.appliances[idx].is_down() {
            // Unreachable appliance: the client sees its connection reset straight away.
            let _ = stream.set_zero_linger();
            drop(stream);
            continue;
        }
        let site = site.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(serve_connection(stream, site, idx, acceptor));
    }
}

async fn serve_connection(
    stream: TcpStream,
    site: Arc<SiteState>,
    idx: usize,
    acceptor: TlsAcceptor,
) {
    let _ = stream.set_nodelay(true);
    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ConnIo {
        inner: tls,
        reset: reset.clone(),
    });
    let service = hyper::service::service_fn(move |req| {
        let site = site.clone();
        let reset = reset.clone();
        async move { handle(site, idx, reset, req).await }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

fn classify(path: &str) -> Endpoint {
    match path {
        "/oauth2/token" => Endpoint::Token,
        "/api/backup" => Endpoint::Backup,
        "/api/command" => Endpoint::Command,
        "/api/reporting" => Endpoint::Reporting,
        "/check_health" => Endpoint::Probe,
        _ => Endpoint::Any,
    }
}

async fn handle(
    site: Arc<SiteState>,
    idx: usize,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ResetRequested> {
    let app = site.appliances[idx].clone();
    let path = req.uri().path().to_string();
    let endpoint = classify(&path);
    app.count(endpoint);
    if !site.cfg.latency.is_zero() {
        tokio::time::sleep(site.cfg.latency).await;
    }
    let plan = app.take_faults(endpoint);
    if plan.reset {
        reset.store(true, Ordering::SeqCst);
        return Err(ResetRequested);
    }
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if plan.expire_tokens || matches!(plan.replace, Some(Fault::RejectTokens { .. })) {
        lock(&site.auth).revoke_all();
    }
    let is_api = path.starts_with("/api/");
    let reply = match &plan.replace {
        Some(Fault::EchoHeaders { status }) => echo_request(*status, req).await,
        Some(fault) => fault_reply(&site, endpoint, fault),
        None => route(&site, idx, endpoint, req).await,
    };
    let add_rate_headers = is_api
        && !matches!(
            plan.replace,
            Some(Fault::ServerError(_))
                | Some(Fault::HtmlPage)
                | Some(Fault::Answer { .. })
                | Some(Fault::EchoHeaders { .. })
        );
    Ok(finish(&site, reply, &plan, add_rate_headers))
}

async fn route(
    site: &Arc<SiteState>,
    idx: usize,
    endpoint: Endpoint,
    req: Request<Incoming>,
) -> Reply {
    let req = match read_request(site, idx, req).await {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    match endpoint {
        Endpoint::Token => token(site, &req),
        Endpoint::Probe => probe(site, idx),
        Endpoint::Backup | Endpoint::Command | Endpoint::Reporting => {
            api(site, idx, endpoint, &req)
        }
        Endpoint::Any => Reply::new(
            StatusCode::NOT_FOUND,
            Kind::Html,
            "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n",
        ),
    }
}

async fn read_request(site: &SiteState, idx: usize, req: Request<Incoming>) -> Result<Req, Reply> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Err(Reply::new(
                StatusCode::BAD_REQUEST,
                Kind::Text,
                "Request body could not be read\n",
            ));
        }
    };
    let mut params = Params::default();
    if let Some(q) = parts.uri.query() {
        params.extend_from_form(q.as_bytes());
    }
    let content_type = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded")
        || (content_type.is_empty() && !body.is_empty() && !body.starts_with(b"{"))
    {
        params.extend_from_form(&body);
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| format!("127.0.0.1:{}", site.appliances[idx].port));
    Ok(Req {
        method: parts.method,
        headers: parts.headers,
        params,
        body,
        base_url: format!("https://{host}"),
    })
}

fn json_error(status: StatusCode, error: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &serde_json::json!({ "error": error, "message": message }),
    )
}

fn status_or(code: u16, fallback: StatusCode) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(fallback)
}

/// `POST /oauth2/token`, client-credentials grant.
fn token(site: &SiteState, req: &Req) -> Reply {
    if req.method != Method::POST {
        return json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "The token endpoint only accepts POST.",
        )
        .header("Allow", "POST");
    }
    let json: Option<serde_json::Value> = if req.body.starts_with(b"{") {
        serde_json::from_slice(&req.body).ok()
    } else {
        None
    };
    let field = |name: &str| -> Option<String> {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| req.params.get(name).map(str::to_string))
    };
    let grant_type = field("grant_type");
    // Basic credentials should be form-encoded before base64 (RFC 6749 2.3.1); accept both forms.
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let Some((id, secret)) = basic_credentials(&req.headers) {
        let decoded = (percent_decode(&id), percent_decode(&secret));
        candidates.push((id, secret));
        if decoded != candidates[0] {
            candidates.push(decoded);
        }
    }
    if let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) {
        candidates.push((id, secret));
    }
    if candidates.is_empty() {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: no client credentials were supplied.",
        )
        .header("WWW-Authenticate", "Basic realm=\"oauth2\"");
    }
    match grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only the client_credentials grant type is supported.",
            );
        }
        None => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The grant_type parameter is missing.",
            );
        }
    }
    let mut auth = lock(&site.auth);
    let Some(idx) = candidates
        .iter()
        .find_map(|(id, secret)| auth.authenticate(id, secret))
    else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        )
        .header("WWW-Authenticate", "Basic realm=\"oauth2\"");
    };
    let lifetime = site.cfg.token_lifetime_secs;
    let value = auth.issue(idx, Duration::from_secs(lifetime));
    Reply::json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": lifetime,
        }),
    )
    .header("Pragma", "no-cache")
}

fn basic_credentials(headers: &hyper::HeaderMap) -> Option<(String, String)> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(rest.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Decodes `%XX` escapes and `+` as in form encoding; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bearer(headers: &hyper::HeaderMap) -> Option<&str> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// Standard-alphabet base64 with optional padding.
pub(crate) fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in input.bytes().take_while(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Unauthenticated load-balancer probe.
fn probe(site: &SiteState, idx: usize) -> Reply {
    let (ok, message) = lock(&site.appliances[idx].health).clone();
    if ok {
        Reply::new(StatusCode::OK, Kind::Text, "OK\n")
    } else {
        let text = format!(
            "Health check failed: {}\n",
            message.unwrap_or_else(|| "appliance unhealthy".to_string())
        );
        Reply::new(StatusCode::INTERNAL_SERVER_ERROR, Kind::Text, text)
    }
}

fn access_denied(site: &SiteState) -> Reply {
    json_error(
        status_or(site.cfg.invalid_token_status, StatusCode::UNAUTHORIZED),
        "access_denied",
        "The resource owner or authorization server denied the request.",
    )
}

fn rate_limited_reply(site: &SiteState, retry_after: Option<u64>) -> Reply {
    let mut reply = json_error(
        status_or(site.cfg.rate_limit_status, StatusCode::TOO_MANY_REQUESTS),
        "rate_limit_exceeded",
        "API request rate limit exceeded for this API account.",
    );
    reply.rate_remaining = Some(0);
    if let Some(secs) = retry_after {
        reply = reply.header("Retry-After", secs.to_string());
    }
    reply
}

/// Authenticated `/api/*`: bearer token, rate limit, then the endpoint handler.
fn api(site: &Arc<SiteState>, idx: usize, endpoint: Endpoint, req: &Req) -> Reply {
    let account: Account;
    let remaining;
    {
        let mut auth = lock(&site.auth);
        let Some(acct_idx) = bearer(&req.headers).and_then(|t| auth.validate(t)) else {
            return access_denied(site);
        };
        match auth.charge(
            acct_idx,
            site.cfg.rate_limit_per_second,
            site.cfg.rate_limit_per_hour,
        ) {
            RateOutcome::Allowed { remaining: r } => remaining = r,
            RateOutcome::Limited => {
                drop(auth);
                return rate_limited_reply(site, site.cfg.send_retry_after.then_some(1));
            }
        }
        let Some(acct) = auth.account(acct_idx) else {
            return access_denied(site);
        };
        account = acct.clone();
    }
    let mut reply = match endpoint {
        Endpoint::Command => command::handle(site, idx, &account, &req.params),
        Endpoint::Reporting => reporting::handle(site, &account, &req.params, &req.base_url),
        _ => backup_download(site, &account, req),
    };
    if reply.rate_remaining.is_none() {
        reply.rate_remaining = Some(remaining);
    }
    reply
}

/// `/api/backup`.
fn backup_download(site: &SiteState, account: &Account, req: &Req) -> Reply {
    let ns = site.cfg.namespace.command_uri();
    if !account.perm_backup {
        return Reply::xml_error(
            StatusCode::FORBIDDEN,
            ns,
            "This API account is not allowed to use the Backup API (perm_backup).",
        );
    }
    if let Some(expected) = &site.cfg.backup_password {
        let from_json = serde_json::from_slice::<serde_json::Value>(&req.body)
            .ok()
            .and_then(|j| {
                j.get("password")
                    .and_then(|p| p.as_str())
                    .map(str::to_string)
            });
        let given = from_json.or_else(|| req.params.get("password").map(str::to_string));
        if given.as_deref() != Some(expected.as_str()) {
            return Reply::xml_error(StatusCode::FORBIDDEN, ns, "Invalid backup password");
        }
    }
    let cfg = &site.cfg;
    let mut reply = Reply::stream(
        Kind::Binary,
        cfg.backup_size,
        backup::backup_gen(cfg).into_stream(),
    );
    if cfg.content_disposition {
        let now = crate::state::now_unix();
        let site_label = cfg.site_hostname.split('.').next().unwrap_or("site");
        let name = cfg
            .backup_name_template
            .replace("{version}", &cfg.version)
            .replace("{site}", site_label)
            .replace("{date}", &xml::compact_date(now))
            .replace("{product}", cfg.product.as_str())
            .replace("{id}", &site.next_backup_id());
        reply = reply.header(
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", name.replace('"', "")),
        );
    }
    reply
}

const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Login</title></head>\n<body><form method=\"post\" action=\"/login\">\n<label>Username <input name=\"username\"></label>\n<label>Password <input type=\"password\" name=\"password\"></label>\n<button type=\"submit\">Log In</button>\n</form></body></html>\n";

/// [`Fault::EchoHeaders`]: a `text/plain` error echoing the request line, every request header
/// (`Authorization: Bearer …` included) and the request body (the JSON of `POST /api/backup`
/// carries the backup password; a token request carries the client secret) — a debugging
/// proxy that leaks credentials.
async fn echo_request(status: u16, req: Request<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let mut text = format!(
        "Upstream error. The request as this proxy received it:\n{} {} HTTP/1.1\n",
        parts.method, parts.uri
    );
    for (name, value) in &parts.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push('\n');
    match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => text.push_str(&String::from_utf8_lossy(&collected.to_bytes())),
        Err(_) => text.push_str("(request body could not be read)"),
    }
    Reply::new(status_or(status, StatusCode::BAD_GATEWAY), Kind::Text, text)
}

fn fault_reply(site: &SiteState, endpoint: Endpoint, fault: &Fault) -> Reply {
    let ns = if endpoint == Endpoint::Reporting {
        site.cfg.namespace.reporting_uri()
    } else {
        site.cfg.namespace.command_uri()
    };
    match fault {
        Fault::ServerError(code) => {
            let status = status_or(*code, StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Error");
            Reply::new(
                status,
                Kind::Html,
                format!(
                    "<html><head><title>{} {reason}</title></head><body><h1>{reason}</h1></body></html>\n",
                    status.as_u16()
                ),
            )
        }
        Fault::RateLimited { retry_after_secs } => rate_limited_reply(site, *retry_after_secs),
        Fault::HtmlPage => Reply::new(StatusCode::OK, Kind::Html, LOGIN_PAGE),
        Fault::XmlError(message) => Reply::xml_error(StatusCode::OK, ns, message),
        Fault::Answer {
            status,
            content_type,
            body,
        } => {
            let reply = Reply::new(
                status_or(*status, StatusCode::INTERNAL_SERVER_ERROR),
                Kind::Raw,
                body.clone(),
            );
            if content_type.is_empty() {
                reply
            } else {
                reply.header("Content-Type", content_type.clone())
            }
        }
        Fault::RejectTokens { status } => json_error(
            status_or(*status, StatusCode::FORBIDDEN),
            "access_denied",
            "The access token was rejected.",
        ),
        _ => Reply::new(
            StatusCode::OK,
            Kind::Xml,
            format!(
                "{}<health_check xmlns=\"{ns}\">\n\t<appliance id=\"0f3a\">bt-a.exa",
                xml::PROLOG
            ),
        ),
    }
}

/// Applies common headers and the body-shaping faults, and builds the hyper response.
fn finish(
    site: &SiteState,
    reply: Reply,
    plan: &FaultPlan,
    add_rate_headers: bool,
) -> Response<RespBody> {
    let Reply {
        status,
        kind,
        headers,
        body,
        rate_remaining,
    } = reply;
    let content_type = if plan.wrong_content_type {
        if kind == Kind::Xml {
            "application/json"
        } else {
            "text/plain"
        }
    } else {
        kind.content_type()
    };
    let (len, stream) = match body {
        Payload::Full(bytes) => (
            bytes.len() as u64,
            futures_util::stream::once(async move { Ok::<_, BodyError>(bytes) }).boxed(),
        ),
        Payload::Stream { len, stream } => (len, stream),
    };
    let stream = if plan.slow.is_some() || plan.truncate.is_some() {
        shape(stream, plan.slow, plan.truncate)
    } else {
        stream
    };

    let mut builder = Response::builder().status(status);
    let mut push = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder = std::mem::take(&mut builder).header(n, v);
        }
    };
    push("Server", "Apache");
    push("Connection", "close");
    push(
        "Cache-Control",
        "must-revalidate, no-cache, no-store, post-check=0, pre-check=0, private",
    );
    push("X-Frame-Options", "SAMEORIGIN");
    push(
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    );
    if !content_type.is_empty() {
        push("Content-Type", content_type);
    }
    push("Content-Length", &len.to_string());
    let limit = site.cfg.rate_limit_per_hour;
    if add_rate_headers && limit > 0 {
        push("X-RateLimit-Limit", &limit.to_string());
    }
    // A rate-limited answer always says 0 remaining, even where the hourly cap is disabled.
    let remaining = match rate_remaining {
        Some(0) => Some(0),
        _ if !add_rate_headers || limit == 0 => None,
        r => Some(r.unwrap_or(u64::from(limit)).min(u64::from(limit))),
    };
    if let Some(remaining) = remaining {
        push("X-RateLimit-Remaining", &remaining.to_string());
    }
    for (name, value) in &headers {
        if plan.filename.is_some() && name.eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        push(name, value);
    }
    if let Some(name) = &plan.filename {
        push(
            "Content-Disposition",
            &format!("attachment; filename=\"{name}\""),
        );
    }
    let body: RespBody = if len == 0 && plan.truncate.is_none() && plan.slow.is_none() {
        Full::new(Bytes::new()).map_err(never).boxed_unsync()
    } else {
        StreamBody::new(stream.map(frame)).boxed_unsync()
    };
    let mut resp = builder.body(body).unwrap_or_else(|_| {
        let mut resp = Response::new(
            Full::new(Bytes::from_static(b"internal error\n"))
                .map_err(never)
                .boxed_unsync(),
        );
        *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        resp
    });
    // `Header` faults: set last, replacing whatever the answer had. Framing headers stay ours.
    for (name, value) in &plan.headers {
        let framing = ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| name.eq_ignore_ascii_case(f));
        if let (false, Ok(n), Ok(v)) = (
            framing,
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

fn never(e: std::convert::Infallible) -> BodyError {
    match e {}
}

fn frame(r: Result<Bytes, BodyError>) -> Result<Frame<Bytes>, BodyError> {
    r.map(Frame::data)
}

/// Re-chunks a body stream to honour `SlowBody` and `TruncateAt`.
fn shape(
    inner: BoxStream<'static, Result<Bytes, BodyError>>,
    slow: Option<u64>,
    truncate: Option<u64>,
) -> BoxStream<'static, Result<Bytes, BodyError>> {
    struct St {
        inner: BoxStream<'static, Result<Bytes, BodyError>>,
        buf: Bytes,
        sent: u64,
        done: bool,
    }
    let st = St {
        inner,
        buf: Bytes::new(),
        sent: 0,
        done: false,
    };
    futures_util::stream::unfold(st, move |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            if let Some(limit) = truncate
                && st.sent >= limit
            {
                st.done = true;
                // Give hyper a moment to flush what was written before the connection is cut.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Some((Err(BodyError("body truncated by fault injection")), st));
            }
            if st.buf.is_empty() {
                match st.inner.next().await {
                    None => return None,
                    Some(Err(e)) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                    Some(Ok(b)) => {
                        st.buf = b;
                        continue;
                    }
                }
            }
            let mut n = st.buf.len() as u64;
            if let Some(limit) = truncate {
                n = n.min(limit - st.sent);
            }
            if let Some(bps) = slow {
                n = n.min((bps / 10).clamp(1, 64 * 1024));
            }
            let chunk = st.buf.split_to(n as usize);
            if let Some(bps) = slow {
                tokio::time::sleep(Duration::from_secs_f64(n as f64 / bps.max(1) as f64)).await;
            }
            st.sent += n;
            return Some((Ok(chunk), st));
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("YWJjOmRlZg==").as_deref(),
            Some(&b"abc:def"[..])
        );
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("Y*"), None);
        assert_eq!(percent_decode("a%2Bb+c%zz%4"), "a+b c%zz%4");
    }
}
