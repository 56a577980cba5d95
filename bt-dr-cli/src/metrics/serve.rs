//! `bt-dr metrics serve`: `/metrics` and a blackbox-style `/probe?site=NAME` over HTTP/1.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bt_dr_core::Error;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::cache::Cache;
use super::registry::render;
use crate::exit::{CliError, CliResult, Exit};

/// The content type prometheus-client's encoder produces.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long connections still open at shutdown get to finish their answer.
const DRAIN: Duration = Duration::from_secs(5);

/// Binds `listen` (a failure is a typed network error naming the address), prints the address
/// taken on stdout, and serves until SIGTERM or Ctrl-C; then stops accepting, lets open
/// connections finish (at most [`DRAIN`]) and returns.
pub async fn serve(listen: &str, cache: Arc<Cache>) -> CliResult {
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            CliError::Usage(format!(
                "--listen {listen:?}: not an address like 127.0.0.1:9771 ({e})"
            ))
        } else {
            CliError::Core(Error::Network {
                reason: format!("cannot listen on {listen}: {e}"),
            })
        }
    })?;
    let local = listener.local_addr().map_err(|e| Error::Network {
        reason: format!("cannot read the address bound for {listen}: {e}"),
    })?;
    // The one line a supervisor or test reads to learn the port taken with `:0`.
    println!("listening on http://{local}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(x) => x,
                    // Out of file descriptors and the like: back off rather than spin.
                    Err(e) => {
                        eprintln!("bt-dr metrics: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let cache = Arc::clone(&cache);
                let mut stop = stop_rx.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let cache = Arc::clone(&cache);
                        async move { Ok::<_, Infallible>(answer(req, &cache).await) }
                    });
                    // A client that never finishes its request head must not hold a task.
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
                // Reap finished connections so the set does not grow with every scrape.
                while conns.try_join_next().is_some() {}
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    conns.abort_all();
    Ok(Exit::Ok)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.into())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The `site` parameter of a query string. Site names are letters, digits, `-`, `_` and `.`
/// (the inventory refuses others), so no percent-decoding can make an unknown name known.
fn site_param(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "site")
        .map(|(_, v)| v)
}

async fn answer(req: Request<Incoming>, cache: &Arc<Cache>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let site = match req.uri().path() {
        "/metrics" => None,
        "/probe" => match site_param(req.uri().query()) {
            None | Some("") => return text(StatusCode::BAD_REQUEST, "missing ?site=NAME\n"),
            Some(s) if !cache.collector().has_site(s) => {
                let shown: String = s.chars().take(100).collect();
                return text(StatusCode::NOT_FOUND, format!("unknown site {shown:?}\n"));
            }
            Some(s) => Some(s.to_string()),
        },
        "/" => {
            return text(
                StatusCode::OK,
                "bt-dr metrics\n/metrics: every site\n/probe?site=NAME: one site\n",
            );
        }
        _ => {
            return text(
                StatusCode::NOT_FOUND,
                "not found: try /metrics or /probe?site=NAME\n",
            );
        }
    };
    let Some((snap, counters)) = cache.get().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    };
    let body = render(&snap, site.as_deref(), Some(counters));
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(OPENMETRICS),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::site_param;

    #[test]
    fn site_parameter() {
        assert_eq!(site_param(Some("site=a")), Some("a"));
        assert_eq!(site_param(Some("x=1&site=b.c&y")), Some("b.c"));
        assert_eq!(site_param(Some("sites=a")), None);
        assert_eq!(site_param(None), None);
    }
}
