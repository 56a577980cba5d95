//! Plain-HTTP control API on loopback, so tests in other languages that run the `bt-dr-sim`
//! binary as a subprocess can take appliances down, arm faults and read counters.
//!
//! Routes (JSON bodies, `{i}` = appliance index 0 or 1):
//! `POST /appliances/{i}/down` `{"down":true}`,
//! `POST /appliances/{i}/fault` `{"endpoint":"backup","fault":"truncate_at","value":1000,"times":1}`,
//! `POST /appliances/{i}/clear_faults`,
//! `POST /appliances/{i}/health` `{"success":false,"error_message":"disk"}`,
//! `POST /appliances/{i}/role` `{"role":"primary"}`,
//! `POST /appliances/{i}/last_sync` `{"unix":123,"status":"failed"}`,
//! `POST /appliances/{i}/connected_clients` `{"counts":[2,3]}` (one count per listing, the last
//! one stays; at most 100 000 clients),
//! `POST /appliances/{i}/cluster` `{"member":false,"accepting":true}` (either key optional),
//! `POST /appliances/{i}/version` `{"version":"24.1.1"}` (`null`: the site's),
//! `POST /appliances/{i}/take_site_address` (swing the site address to this appliance, as a
//! DNS or NAT swing does),
//! `GET /state`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Endpoint, FailoverRole, Fault, SimAppliance};

/// A running control server; dropping it stops accepting new connections.
#[derive(Debug)]
pub struct ControlServer {
    addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ControlServer {
    /// Binds `127.0.0.1:port` (0 = any free port) and serves the control routes for `appliances`.
    pub async fn start(appliances: Vec<SimAppliance>, port: u16) -> std::io::Result<ControlServer> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    r = listener.accept() => r,
                    _ = shutdown_rx.changed() => break,
                };
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let appliances = appliances.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let appliances = appliances.clone();
                        async move { Ok::<_, Infallible>(handle(&appliances, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(ControlServer {
            addr,
            shutdown_tx,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops accepting connections.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

fn reply(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn bad(message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(StatusCode::BAD_REQUEST, &json!({ "error": message.into() }))
}

async fn handle(appliances: &[SimAppliance], req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return bad("request body could not be read"),
    };
    let json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return bad(format!("invalid JSON body: {e}")),
        }
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::GET, ["state"]) => reply(StatusCode::OK, &state_json(appliances)),
        (Method::POST, ["appliances", index, action]) => {
            let Some(app) = index.parse::<usize>().ok().and_then(|i| appliances.get(i)) else {
                return reply(
                    StatusCode::NOT_FOUND,
                    &json!({ "error": format!("no appliance {index}") }),
                );
            };
            match apply(app, action, &json) {
                Ok(()) => reply(StatusCode::OK, &json!({ "ok": true })),
                Err(e) if e == "unknown action" => {
                    reply(StatusCode::NOT_FOUND, &json!({ "error": e }))
                }
                Err(e) => bad(e),
            }
        }
        _ => reply(StatusCode::NOT_FOUND, &json!({ "error": "no such route" })),
    }
}

fn apply(app: &SimAppliance, action: &str, body: &Value) -> Result<(), String> {
    match action {
        "down" => {
            let down = body
                .get("down")
                .and_then(Value::as_bool)
                .ok_or("expected {\"down\": bool}")?;
            app.set_down(down);
        }
        "fault" => {
            let (endpoint, fault, times) = parse_fault(body)?;
            app.set_fault(endpoint, fault, times);
        }
        "clear_faults" => app.clear_faults(),
        "take_site_address" => app.take_site_address(),
        "add_sessions" => {
            let n = body
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("expected {\"count\": integer}")?;
            app.add_sessions(n);
        }
        "health" => {
            let success = body
                .get("success")
                .and_then(Value::as_bool)
                .ok_or("expected {\"success\": bool, \"error_message\": string?}")?;
            app.set_health(success, body.get("error_message").and_then(Value::as_str));
        }
        "role" => {
            let role = body
                .get("role")
                .and_then(Value::as_str)
                .and_then(FailoverRole::parse)
                .ok_or("expected {\"role\": \"primary\"|\"backup\"|\"none\"}")?;
            app.set_failover_role(role);
        }
        "connected_clients" => {
            let counts = body
                .get("counts")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
                        .collect::<Option<Vec<u32>>>()
                })
                .filter(|c| c.iter().all(|&n| n <= 100_000))
                .ok_or("expected {\"counts\": [integer 0..=100000, ...]}")?;
            app.set_connected_clients(&counts);
        }
        "cluster" => {
            let flag = |k: &str| match body.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_bool()
                    .map(Some)
                    .ok_or(format!("\"{k}\" must be a boolean")),
            };
            if let Some(m) = flag("member")? {
                app.set_cluster_member(m);
            }
            if let Some(a) = flag("accepting")? {
                app.set_accepting_connections(a);
            }
        }
        "version" => match body.get("version") {
            None | Some(Value::Null) => app.set_version(None),
            Some(Value::String(v)) if !v.trim().is_empty() => app.set_version(Some(v)),
            Some(_) => return Err("expected {\"version\": \"X.Y.Z\" | null}".to_string()),
        },
        "last_sync" => {
            let unix = body
                .get("unix")
                .and_then(Value::as_i64)
                .ok_or("expected {\"unix\": integer, \"status\": string}")?;
            let status = body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("success");
            app.set_last_sync(unix, status);
        }
        _ => return Err("unknown action".to_string()),
    }
    Ok(())
}

/// Parses a control-API fault description:
/// `{"endpoint": "<token|backup|command|reporting|probe|any>", "fault": "<snake_case>", "value": .., "times": n|null}`.
/// `value` is milliseconds for `delay`, bytes/s for `slow_body`, bytes for `truncate_at`, the status
/// for `server_error` (default 500), `Retry-After` seconds for `rate_limited` (optional), the
/// message for `xml_error`, the status for `reject_tokens` (default 403) and `echo_headers`
/// (default 502), the file name for `filename`, `{"name": .., "value": ..}` for `header`, and
/// `{"status": 200, "content_type": "application/json", "body": "..."}` for `answer` (`body` is
/// text; `body_base64` gives raw bytes instead, e.g. a UTF-16 page; all three keys optional:
/// 200, no content type, empty body).
pub fn parse_fault(body: &Value) -> Result<(Endpoint, Fault, Option<u32>), String> {
    let endpoint = match body.get("endpoint").and_then(Value::as_str) {
        None => Endpoint::Any,
        Some(e) => Endpoint::parse(e).ok_or_else(|| format!("unknown endpoint {e:?}"))?,
    };
    let name = body
        .get("fault")
        .and_then(Value::as_str)
        .ok_or("missing \"fault\"")?;
    let value = body.get("value").filter(|v| !v.is_null());
    let number = |what: &str| -> Result<u64, String> {
        value
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("fault {name} needs a numeric \"value\" ({what})"))
    };
    let fault = match name {
        "delay" => Fault::Delay(Duration::from_millis(number("milliseconds")?)),
        "slow_body" => Fault::SlowBody {
            bytes_per_sec: number("bytes per second")?,
        },
        "truncate_at" => Fault::TruncateAt(number("bytes")?),
        "reset_connection" => Fault::ResetConnection,
        "server_error" => {
            let code = value.and_then(Value::as_u64).unwrap_or(500);
            Fault::ServerError(u16::try_from(code).map_err(|_| "status out of range")?)
        }
        "rate_limited" => Fault::RateLimited {
            retry_after_secs: value.and_then(Value::as_u64),
        },
        "expire_tokens" => Fault::ExpireTokens,
        "html_page" => Fault::HtmlPage,
        "xml_error" => Fault::XmlError(
            value
                .and_then(Value::as_str)
                .unwrap_or("Simulated error")
                .to_string(),
        ),
        "malformed_xml" => Fault::MalformedXml,
        "wrong_content_type" => Fault::WrongContentType,
        "traversal_filename" => Fault::TraversalFilename,
        "answer" => {
            let v = value.cloned().unwrap_or(Value::Null);
            let status = match v.get("status") {
                None | Some(Value::Null) => 200,
                Some(s) => s
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or("answer \"status\" must be an HTTP status")?,
            };
            let content_type = v
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let body = match (
                v.get("body").and_then(Value::as_str),
                v.get("body_base64").and_then(Value::as_str),
            ) {
                (_, Some(b64)) => crate::server::base64_decode(b64.trim())
                    .ok_or("answer \"body_base64\" is not base64")?,
                (Some(text), None) => text.as_bytes().to_vec(),
                (None, None) => Vec::new(),
            };
            Fault::Answer {
                status,
                content_type,
                body,
            }
        }
        "header" => {
            let v = value.ok_or("fault header needs \"value\": {\"name\": .., \"value\": ..}")?;
            let get = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("fault header needs \"value\".{k} (a string)"))
            };
            Fault::Header {
                name: get("name")?,
                value: get("value")?,
            }
        }
        "reject_tokens" => Fault::RejectTokens {
            status: u16::try_from(value.and_then(Value::as_u64).unwrap_or(403))
                .map_err(|_| "status out of range")?,
        },
        "echo_headers" => Fault::EchoHeaders {
            status: u16::try_from(value.and_then(Value::as_u64).unwrap_or(502))
                .map_err(|_| "status out of range")?,
        },
        "filename" => Fault::Filename(
            value
                .and_then(Value::as_str)
                .ok_or("fault filename needs a string \"value\"")?
                .to_string(),
        ),
        other => return Err(format!("unknown fault {other:?}")),
    };
    let times = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("\"times\" must be a non-negative integer or null")?,
        ),
    };
    Ok((endpoint, fault, times))
}

fn fault_value(fault: &Fault) -> Value {
    match fault {
        Fault::Delay(d) => json!(d.as_millis() as u64),
        Fault::SlowBody { bytes_per_sec } => json!(bytes_per_sec),
        Fault::TruncateAt(n) => json!(n),
        Fault::ServerError(code) => json!(code),
        Fault::RateLimited { retry_after_secs } => json!(retry_after_secs),
        Fault::XmlError(m) => json!(m),
        Fault::Answer {
            status,
            content_type,
            body,
        } => json!({
            "status": status,
            "content_type": content_type,
            "body": String::from_utf8_lossy(body),
        }),
        Fault::Header { name, value } => json!({ "name": name, "value": value }),
        Fault::RejectTokens { status } | Fault::EchoHeaders { status } => json!(status),
        Fault::Filename(name) => json!(name),
        _ => Value::Null,
    }
}

/// Roles, down flags, health, last sync, request counts and armed faults of every appliance.
pub fn state_json(appliances: &[SimAppliance]) -> Value {
    let list: Vec<Value> = appliances
        .iter()
        .map(|app| {
            let mut counts = serde_json::Map::new();
            for e in Endpoint::ALL {
                counts.insert(e.as_str().to_string(), json!(app.request_count(e)));
            }
            let (healthy, error_message) = app.health();
            let (sync_unix, sync_status) = app.last_sync();
            let faults: Vec<Value> = app
                .armed_faults()
                .into_iter()
                .map(|(endpoint, fault, times)| {
                    json!({
                        "endpoint": endpoint.as_str(),
                        "fault": fault.name(),
                        "value": fault_value(&fault),
                        "times": times,
                    })
                })
                .collect();
            json!({
                "index": app.index(),
                "url": app.url(),
                "hostname": app.hostname(),
                "id": app.id(),
                "role": app.failover_role().as_str(),
                "cluster_role": app.cluster_role().as_str(),
                "cluster_member": app.cluster_membership().0,
                "accepting_connections": app.cluster_membership().1,
                "down": app.is_down(),
                "site_address": app.has_site_address(),
                "healthy": healthy,
                "error_message": error_message,
                "last_sync": { "unix": sync_unix, "status": sync_status },
                "request_counts": counts,
                "faults": faults,
            })
        })
        .collect();
    json!({ "appliances": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_parsing() {
        let (e, f, t) =
            parse_fault(&json!({"endpoint":"backup","fault":"truncate_at","value":1000,"times":1}))
                .expect("valid");
        assert_eq!(
            (e, f, t),
            (Endpoint::Backup, Fault::TruncateAt(1000), Some(1))
        );
        let (_, f, t) = parse_fault(&json!({"fault":"xml_error","value":"boom"})).expect("valid");
        assert_eq!((f, t), (Fault::XmlError("boom".into()), None));
        assert!(parse_fault(&json!({"fault":"delay"})).is_err());
        assert!(parse_fault(&json!({"fault":"nope"})).is_err());
        assert!(parse_fault(&json!({"endpoint":"x","fault":"html_page"})).is_err());
        let (_, f, _) = parse_fault(&json!({"fault":"answer","value":{"status":200,"content_type":"application/json","body":"{\"error\":\"x\"}"}})).expect("valid");
        assert_eq!(
            f,
            Fault::Answer {
                status: 200,
                content_type: "application/json".into(),
                body: b"{\"error\":\"x\"}".to_vec()
            }
        );
        let (_, f, _) = parse_fault(&json!({"fault":"answer","value":{"body_base64":"//48AA=="}}))
            .expect("valid");
        assert_eq!(
            f,
            Fault::Answer {
                status: 200,
                content_type: String::new(),
                body: vec![0xff, 0xfe, b'<', 0]
            }
        );
        let (_, f, _) =
            parse_fault(&json!({"fault":"header","value":{"name":"Retry-After","value":"1e20"}}))
                .expect("valid");
        assert_eq!(
            f,
            Fault::Header {
                name: "Retry-After".into(),
                value: "1e20".into()
            }
        );
        assert!(parse_fault(&json!({"fault":"header","value":{"name":"x"}})).is_err());
        let (_, f, _) = parse_fault(&json!({"fault":"reject_tokens"})).expect("valid");
        assert_eq!(f, Fault::RejectTokens { status: 403 });
        let (_, f, _) = parse_fault(&json!({"fault":"echo_headers","value":500})).expect("valid");
        assert_eq!(f, Fault::EchoHeaders { status: 500 });
        let (_, f, _) =
            parse_fault(&json!({"fault":"filename","value":"manifest.json"})).expect("valid");
        assert_eq!(f, Fault::Filename("manifest.json".into()));
        assert!(parse_fault(&json!({"fault":"filename"})).is_err());
    }
}
