//! Conversions between bt-dr-core values and JavaScript: camelCase JSON objects both ways,
//! rejected/thrown `Error`s carrying the core error kind, and promises that run core work on
//! napi's tokio runtime.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use bt_dr_core::Error;
use napi::bindgen_prelude::{JsValue, PromiseRaw};
use napi::{Env, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Object keys whose values are maps keyed by data (not by field names): their keys are kept
/// as they are in both directions.
const DATA_KEYED: &[&str] = &["raw"];

/// `snake_case` → `camelCase`.
pub(crate) fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = !out.is_empty();
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `camelCase` → `snake_case`.
pub(crate) fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn rekey(v: Value, f: &dyn Fn(&str) -> String, original: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let keep = DATA_KEYED.contains(&original(&k).as_str());
                    let nk = f(&k);
                    if keep {
                        (nk, v)
                    } else {
                        (nk, rekey(v, f, original))
                    }
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| rekey(v, f, original)).collect()),
        other => other,
    }
}

/// Renames every object key of a core JSON value to camelCase.
pub(crate) fn to_camel(v: Value) -> Value {
    rekey(v, &camel, &|k| k.to_string())
}

/// Renames every object key of a JavaScript value to the core's snake_case.
pub(crate) fn to_snake(v: Value) -> Value {
    rekey(v, &snake, &snake)
}

/// Serializes a core value to a camelCase JSON value. It goes through serde_json (a
/// human-readable serializer, unlike napi's), so the core's dates are already `YYYY-MM-DD`.
pub(crate) fn out<T: Serialize>(v: &T) -> bt_dr_core::Result<Value> {
    serde_json::to_value(v)
        .map(to_camel)
        .map_err(|e| Error::invalid_input("result", format!("cannot convert: {e}")))
}

/// Reads a core value from a camelCase JavaScript object; `what` names the argument in errors.
pub(crate) fn input<T: DeserializeOwned>(what: &str, v: Value) -> bt_dr_core::Result<T> {
    serde_json::from_value(to_snake(v)).map_err(|e| Error::invalid_input(what, e.to_string()))
}

/// Reads a core enum from its string spelling (e.g. `"rs"`, `"primary"`).
pub(crate) fn enum_input<T: DeserializeOwned>(what: &str, s: &str) -> bt_dr_core::Result<T> {
    serde_json::from_value(Value::String(s.to_string()))
        .map_err(|e| Error::invalid_input(what, e.to_string()))
}

/// Builds the JavaScript `Error` for a core error: `message` is the core's message, `code` the
/// stable `BT_DR_*` code, `kind` the snake_case kind, `name` `"BtDrError"`, and every field of
/// [`Error::details`] becomes a camelCase property (`httpStatus`, `retryAfterMs`, `path`, …).
/// The core never puts a secret in a message or a detail, so neither does this.
pub(crate) fn js_error(env: &Env, e: &Error) -> napi::Error {
    match build_js_error(env, e) {
        Ok(err) => err,
        Err(fallback) => napi::Error::new(fallback.status, format!("{} ({})", e, e.kind().code())),
    }
}

fn build_js_error(env: &Env, e: &Error) -> napi::Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.to_string()))?;
    obj.set("code", e.kind().code())?;
    obj.set("kind", e.kind().as_str())?;
    obj.set("name", "BtDrError")?;
    let details = e.details();
    // The core's details object as it is (snake_case keys, as in Python and C), so every binding
    // shows the same {kind, code, message, details}; the camelCase properties below stay for
    // existing callers.
    obj.set("details", details.clone())?;
    if let Value::Object(details) = details {
        for (k, v) in details {
            if k == "kind" || k == "message" {
                continue;
            }
            obj.set(camel(&k), to_camel(v))?;
        }
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// Runs a core call synchronously and converts its result (throws a core `Error` on failure).
pub(crate) fn sync_value(env: &Env, r: bt_dr_core::Result<Value>) -> napi::Result<Value> {
    r.map_err(|e| js_error(env, &e))
}

/// The panic boundary of every synchronous export (and of the synchronous part of every
/// asynchronous one): runs `f` and turns a Rust panic into the core's [`Error::Internal`],
/// thrown as a `BT_DR_INTERNAL` `Error`, so a defect never aborts the Node process. Every
/// export also carries napi's `#[napi(catch_unwind)]` as the outer net (argument conversion).
pub(crate) fn guard<T>(env: &Env, f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(js_error(env, &panic_error(payload))),
    }
}

/// The core error of a caught panic payload (dropping the payload without letting a panicking
/// `Drop` unwind any further).
fn panic_error(payload: Box<dyn std::any::Any + Send>) -> Error {
    let e = Error::from_panic(payload.as_ref());
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    e
}

/// A future that turns a panic while it is polled into [`Error::Internal`] (then it is done and
/// never polled again), so a panicking core future rejects its Promise with `BT_DR_INTERNAL`.
struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future<Output = bt_dr_core::Result<Value>>> Future for CatchPanic<F> {
    type Output = bt_dr_core::Result<Value>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(p) => p,
            Err(payload) => Poll::Ready(Err(panic_error(payload))),
        }
    }
}

/// Runs `fut` on napi's tokio runtime and settles a Promise with its camelCase JSON result, or
/// rejects it with the core error (built on the JavaScript thread, see [`js_error`]). A panic
/// inside `fut` rejects with `BT_DR_INTERNAL`.
pub(crate) fn promise<'e, F>(env: &'e Env, fut: F) -> napi::Result<PromiseRaw<'e, Value>>
where
    F: Future<Output = bt_dr_core::Result<Value>> + Send + 'static,
{
    let fut = CatchPanic(Box::pin(fut));
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, r| {
        r.map_err(|e| js_error(env, &e))
    })
}

/// Like [`promise`], for blocking core work (file reads, hashing, PKCS#12 decryption), which runs
/// on tokio's blocking pool so the JavaScript thread never waits. A panic on the worker thread
/// rejects with `BT_DR_INTERNAL`.
pub(crate) fn blocking<'e, F>(env: &'e Env, f: F) -> napi::Result<PromiseRaw<'e, Value>>
where
    F: FnOnce() -> bt_dr_core::Result<Value> + Send + 'static,
{
    promise(env, async move {
        match napi::tokio::task::spawn_blocking(f).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(panic_error(e.into_panic())),
            Err(e) => Err(Error::Internal {
                reason: format!("the worker thread failed: {e}"),
            }),
        }
    })
}

/// Test hook (hidden: not in `index.js`, `index.d.ts` or the docs; refuses unless the
/// environment has `BT_DR_TEST_PANIC`): panics `where` (`"sync"`, `"async"` or `"blocking"`) so
/// the tests can prove every kind of export turns a panic into `BT_DR_INTERNAL`.
#[napi_derive::napi(
    js_name = "__panicForTest",
    catch_unwind,
    ts_return_type = "Promise<any>"
)]
pub fn panic_for_test(env: &Env, place: String) -> napi::Result<PromiseRaw<'_, Value>> {
    guard(env, || {
        if std::env::var_os("BT_DR_TEST_PANIC").is_none() {
            return Err(js_error(
                env,
                &Error::invalid_input("__panicForTest", "is a test hook"),
            ));
        }
        let msg = format!("test panic ({place})");
        match place.as_str() {
            "async" => promise(env, async move { panic!("{msg}") }),
            "blocking" => blocking(env, move || panic!("{msg}")),
            _ => panic!("{msg}"),
        }
    })
}

/// Parses a `YYYY-MM-DD` date argument.
pub(crate) fn date_input(what: &str, s: &str) -> bt_dr_core::Result<time::Date> {
    bt_dr_core::dates::parse_date(s, what)
}

/// Parses an `HH:MM:SS` time argument.
pub(crate) fn time_input(what: &str, s: &str) -> bt_dr_core::Result<time::Time> {
    bt_dr_core::dates::parse_time(s, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for k in [
            "leaf_cert_sha256",
            "retry_after_ms",
            "key_matches_leaf",
            "sha256",
            "min_rsa_bits",
        ] {
            assert_eq!(snake(&camel(k)), k);
        }
        assert_eq!(camel("http_status"), "httpStatus");
        assert_eq!(snake("applianceHostnames"), "appliance_hostnames");
    }

    #[test]
    fn data_keyed_maps_keep_their_keys() {
        let v = serde_json::json!({"api_version": "1", "permissions": {"raw": {"perm_command": "full_access"}}});
        let c = to_camel(v.clone());
        assert_eq!(c["permissions"]["raw"]["perm_command"], "full_access");
        assert_eq!(c["apiVersion"], "1");
        assert_eq!(to_snake(c), v);
    }

    #[test]
    fn core_dates_come_out_as_text() {
        // The reason `out` needs no date fixing: the core's views and time windows carry
        // `YYYY-MM-DD` through serde_json, and read it back the same way.
        let w = bt_dr_core::api::TimeWindow::StartDate {
            date: time::macros::date!(2026 - 11 - 20),
            days: 3,
        };
        let v = out(&w).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "start_date", "date": "2026-11-20", "days": 3})
        );
        let back: bt_dr_core::api::TimeWindow = input("window", v).unwrap();
        assert_eq!(back, w);
    }
}
