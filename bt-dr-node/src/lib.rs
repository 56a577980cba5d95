//! # bt-dr-node
//!
//! The Node.js binding of [`bt_dr_core`], built with napi-rs. This crate only converts types
//! and errors; every disaster-recovery rule lives in the core.
//!
//! * Results are the core's serde values with camelCase keys ([`convert::out`]).
//! * Failures are JavaScript `Error`s whose `code` is [`bt_dr_core::ErrorKind::code`] and whose
//!   other properties are [`bt_dr_core::Error::details`] in camelCase ([`convert::js_error`]).
//! * Network and file operations return Promises and run on napi's tokio runtime.
//!
//! The public JavaScript API is the hand-written `index.js` / `index.d.ts` next to this crate,
//! which wraps the generated binding in `native/` (see the crate README).

pub mod client;
pub mod convert;
pub mod dr;
pub mod foundation;

pub use client::{CancelToken, Client, ClientOptions, ProgressEvent, RetryOptions};

use napi::Env;
use napi_derive::napi;
use serde_json::Value;

/// The core's list of public operations (`name` in snake_case, `area`, `summary`); the Node
/// name of each is its camelCase form.
#[napi(
    catch_unwind,
    ts_return_type = "Array<{ name: string; area: string; summary: string }>"
)]
pub fn operations(env: Env) -> napi::Result<Value> {
    // The core's own serde shape (`Operation: Serialize`): no field list kept here.
    convert::guard(&env, || {
        convert::sync_value(&env, convert::out(&bt_dr_core::OPERATIONS))
    })
}

/// Every error kind of the core with its Node `code` (`{ kind: "auth", code: "BT_DR_AUTH" }`).
#[napi(catch_unwind, ts_return_type = "Array<{ kind: string; code: string }>")]
pub fn error_kinds(env: Env) -> napi::Result<Value> {
    // The core's list, serialized as it is (`ErrorKindInfo`: kind and stable code).
    convert::guard(&env, || {
        convert::sync_value(&env, convert::out(&bt_dr_core::ErrorKind::catalog()))
    })
}

/// The version of bt-dr-core this binding was built with.
#[napi(catch_unwind)]
pub fn core_version(env: Env) -> napi::Result<String> {
    convert::guard(&env, || {
        Ok(bt_dr_core::USER_AGENT
            .trim_start_matches("bt-dr/")
            .to_string())
    })
}
