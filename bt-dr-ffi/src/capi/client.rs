//! The appliance API client: builder, client, cancel token, health, and the blocking API calls.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use bt_dr_core::api::{BlockingClient, CancelToken, Health, Progress};
use bt_dr_core::{FailoverRole, SecretString};

use super::{
    Out, arg_bytes, arg_ref, arg_str, bt_dr_status, free_handle, guard, into_handle, opt_str,
};
use crate::mapping::{self, ClientConfig, Transfer};

/// Collects the settings of a client. Not thread-safe: configure it from one thread.
#[derive(Debug)]
pub struct bt_dr_client_builder {
    config: ClientConfig,
}

/// A client for one appliance's web APIs (OAuth, command, backup, reporting). Calls block the
/// calling thread. A client may be used from several threads at once; clients share OAuth
/// tokens per API account and the appliance's request-rate budget.
#[derive(Debug)]
pub struct bt_dr_client {
    pub(crate) inner: BlockingClient,
}

/// A cancellation flag for long operations (downloads). Thread-safe: one thread may call
/// `bt_dr_cancel_token_cancel` while another is blocked in a download using the token.
#[derive(Debug)]
pub struct bt_dr_cancel_token {
    pub(crate) inner: CancelToken,
}

/// The `check_health` of one appliance (`bt_dr_check_health`).
#[derive(Debug)]
pub struct bt_dr_health {
    inner: Health,
}

/// Failover role of an appliance.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum bt_dr_failover_role {
    /// Not in a failover relationship.
    None = 0,
    /// Serves the site.
    Primary = 1,
    /// Syncs from the primary.
    Backup = 2,
}

impl From<FailoverRole> for bt_dr_failover_role {
    fn from(r: FailoverRole) -> Self {
        match r {
            FailoverRole::None => Self::None,
            FailoverRole::Primary => Self::Primary,
            FailoverRole::Backup => Self::Backup,
        }
    }
}

/// Progress of a download: `done` bytes so far of `total` (-1 when the appliance did not
/// announce a size). Called from the thread running the download (the caller's thread or a
/// bt-dr I/O thread), often; it must return quickly and must not free the client it reports for.
pub type bt_dr_progress_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, done: u64, total: i64)>;

struct UserData(*mut c_void);

impl UserData {
    /// The pointer (a method, so closures capture the whole `Send` wrapper).
    fn get(&self) -> *mut c_void {
        self.0
    }
}
// SAFETY: the caller of a download vouches that `userdata` may be used from the thread that
// runs the callback (documented on `bt_dr_progress_callback`).
unsafe impl Send for UserData {}
// SAFETY: as above; bt-dr never dereferences it, it only hands it back.
unsafe impl Sync for UserData {}

/// Builds the transfer options of a download from the C arguments.
pub(crate) unsafe fn transfer(
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
) -> Transfer {
    let progress: Option<Progress> = progress.map(|cb| {
        let ud = UserData(userdata);
        let f: Progress = Arc::new(move |done: u64, total: Option<u64>| {
            let total = total.and_then(|t| i64::try_from(t).ok()).unwrap_or(-1);
            // SAFETY: a C function pointer given by the caller, with its own userdata.
            unsafe { cb(ud.get(), done, total) }
        });
        f
    });
    Transfer {
        progress,
        // SAFETY: NULL or a live token (contract).
        cancel: unsafe { cancel.as_ref() }.map(|c| c.inner.clone()),
    }
}

/// Starts configuring a client for `base_url` (`https://host[:port]`). Free the builder with
/// `bt_dr_client_builder_free` (also after `bt_dr_client_builder_build`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_new(
    base_url: *const c_char,
    out_builder: *mut *mut bt_dr_client_builder,
) -> bt_dr_status {
    guard("bt_dr_client_builder_new", || {
        let url = unsafe { arg_str(base_url, "base_url")? };
        let out = Out::new(out_builder, "out_builder")?;
        out.write(into_handle(bt_dr_client_builder {
            config: ClientConfig::new(url),
        }));
        Ok(())
    })
}

unsafe fn builder_mut<'a>(
    p: *mut bt_dr_client_builder,
) -> super::FfiResult<&'a mut bt_dr_client_builder> {
    // SAFETY: NULL or a live builder used from one thread (contract).
    unsafe { p.as_mut() }.ok_or(super::Failure::Null("builder"))
}

/// Sets the OAuth client credentials of the API account (both required before building). The
/// secret is kept in memory only and never appears in messages.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_credentials(
    builder: *mut bt_dr_client_builder,
    client_id: *const c_char,
    client_secret: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_credentials", || {
        let b = unsafe { builder_mut(builder)? };
        let id = unsafe { arg_str(client_id, "client_id")? };
        let secret = unsafe { arg_str(client_secret, "client_secret")? };
        b.config.client_id = Some(id.to_string());
        b.config.client_secret = Some(SecretString::from(secret));
        Ok(())
    })
}

/// Trusts the CA certificate(s) in `pem` (`pem_len` bytes of PEM) in addition to the system
/// roots (or instead of them after `bt_dr_client_builder_set_only_extra_ca(builder, true)`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_extra_ca_pem(
    builder: *mut bt_dr_client_builder,
    pem: *const u8,
    pem_len: usize,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_extra_ca_pem", || {
        let b = unsafe { builder_mut(builder)? };
        let pem = unsafe { arg_bytes(pem, pem_len, "pem")? };
        b.config.options.extra_ca_pem = Some(pem.to_vec());
        Ok(())
    })
}

/// Like `bt_dr_client_builder_set_extra_ca_pem`, reading the PEM from the file at `path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_extra_ca_file(
    builder: *mut bt_dr_client_builder,
    path: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_extra_ca_file", || {
        let b = unsafe { builder_mut(builder)? };
        let path = unsafe { arg_str(path, "path")? };
        let pem = std::fs::read(path).map_err(|e| bt_dr_core::Error::io("reading", path, e))?;
        b.config.options.extra_ca_pem = Some(pem);
        Ok(())
    })
}

/// Trusts only the extra CA, not the system roots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_only_extra_ca(
    builder: *mut bt_dr_client_builder,
    only: bool,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_only_extra_ca", || {
        unsafe { builder_mut(builder)? }
            .config
            .options
            .only_extra_ca = Some(only);
        Ok(())
    })
}

/// Pins the server certificate by the SHA-256 of its DER (64 hex digits, colons allowed).
/// A mismatch fails calls with `BT_DR_STATUS_TLS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_pin_sha256(
    builder: *mut bt_dr_client_builder,
    pin_hex: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_pin_sha256", || {
        let b = unsafe { builder_mut(builder)? };
        let pin = unsafe { arg_str(pin_hex, "pin_hex")? };
        bt_dr_core::api::parse_pin(pin)?;
        b.config.options.pin_sha256 = Some(pin.to_string());
        Ok(())
    })
}

/// DANGEROUS: accepts any server certificate (a pin, if set, still applies).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_danger_accept_invalid_certs(
    builder: *mut bt_dr_client_builder,
    yes: bool,
) -> bt_dr_status {
    guard(
        "bt_dr_client_builder_set_danger_accept_invalid_certs",
        || {
            unsafe { builder_mut(builder)? }
                .config
                .options
                .danger_accept_invalid_certs = Some(yes);
            Ok(())
        },
    )
}

/// DANGEROUS: allows `http://` URLs (credentials then travel in clear). Without it, an
/// `http://` URL fails `bt_dr_client_builder_build` with `BT_DR_STATUS_TLS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_danger_allow_http(
    builder: *mut bt_dr_client_builder,
    yes: bool,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_danger_allow_http", || {
        unsafe { builder_mut(builder)? }
            .config
            .options
            .danger_allow_http = Some(yes);
        Ok(())
    })
}

/// Timeouts in milliseconds; 0 keeps the default (connect 10 s, read silence 60 s, whole
/// request 120 s for non-download calls).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_timeouts(
    builder: *mut bt_dr_client_builder,
    connect_ms: u64,
    read_ms: u64,
    request_ms: u64,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_timeouts", || {
        let b = unsafe { builder_mut(builder)? };
        let ms = |v: u64| (v > 0).then(|| Duration::from_millis(v));
        b.config.options.connect_timeout = ms(connect_ms).or(b.config.options.connect_timeout);
        b.config.options.read_timeout = ms(read_ms).or(b.config.options.read_timeout);
        b.config.options.request_timeout = ms(request_ms).or(b.config.options.request_timeout);
        Ok(())
    })
}

/// Client-side request rate per API account (default 20/s, the appliance's own limit).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_rate_limit(
    builder: *mut bt_dr_client_builder,
    per_second: u32,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_rate_limit", || {
        unsafe { builder_mut(builder)? }
            .config
            .options
            .rate_limit_per_second = Some(per_second);
        Ok(())
    })
}

/// Retry bounds: attempts of an idempotent read (first included), first and largest backoff,
/// no retry after `max_total_ms`, how many 429 answers to wait out and the cap on one
/// `Retry-After` wait. Defaults: 4, 200, 5000, 60000, 6, 30000.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_retry_policy(
    builder: *mut bt_dr_client_builder,
    max_attempts: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
    max_total_ms: u64,
    max_rate_limit_waits: u32,
    max_retry_after_ms: u64,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_retry_policy", || {
        unsafe { builder_mut(builder)? }.config.options.retry = Some(mapping::retry_policy(
            max_attempts,
            initial_backoff_ms,
            max_backoff_ms,
            max_total_ms,
            max_rate_limit_waits,
            max_retry_after_ms,
        ));
        Ok(())
    })
}

/// Site name used in backup file names when the appliance proposes none (default: the first
/// label of the host).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_site_name(
    builder: *mut bt_dr_client_builder,
    site_name: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_site_name", || {
        let b = unsafe { builder_mut(builder)? };
        let s = unsafe { arg_str(site_name, "site_name")? };
        b.config.options.site_name = Some(s.to_string());
        Ok(())
    })
}

/// Product of the site, `"rs"` (default) or `"pra"`; picks the report names.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_set_product(
    builder: *mut bt_dr_client_builder,
    product: *const c_char,
) -> bt_dr_status {
    guard("bt_dr_client_builder_set_product", || {
        let b = unsafe { builder_mut(builder)? };
        let p = unsafe { arg_str(product, "product")? };
        b.config.options.product = Some(mapping::parse_product(p)?);
        Ok(())
    })
}

/// Validates the settings and builds a client; the builder stays usable and must still be
/// freed. Free `*out_client` with `bt_dr_client_free`. Fails with `BT_DR_STATUS_INVALID_INPUT`
/// (URL, missing credentials, site name) or `BT_DR_STATUS_TLS` (CA, pin, plain http).
/// Nothing is sent to the appliance yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_build(
    builder: *const bt_dr_client_builder,
    out_client: *mut *mut bt_dr_client,
) -> bt_dr_status {
    guard("bt_dr_client_builder_build", || {
        let b = unsafe { arg_ref(builder, "builder")? };
        let out = Out::new(out_client, "out_client")?;
        let inner = b.config.build()?;
        out.write(into_handle(bt_dr_client { inner }));
        Ok(())
    })
}

/// Frees a client builder. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_builder_free(
    builder: *mut bt_dr_client_builder,
) -> bt_dr_status {
    guard("bt_dr_client_builder_free", || {
        unsafe { free_handle(builder) };
        Ok(())
    })
}

/// Frees a client (stops its I/O threads). No call on it may be running. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_free(client: *mut bt_dr_client) -> bt_dr_status {
    guard("bt_dr_client_free", || {
        unsafe { free_handle(client) };
        Ok(())
    })
}

/// The SHA-256 (64 hex digits) of the leaf certificate the appliance presented in this client's
/// most recent TLS handshake (or a clone's), whether or not it was then trusted; what the
/// failover plan and the audit compare between the two appliances of a pair. `*out_sha256` is
/// set to NULL before the first connection and over plain http. Free with `bt_dr_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_client_served_leaf_sha256(
    client: *const bt_dr_client,
    out_sha256: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_client_served_leaf_sha256", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_sha256, "out_sha256")?;
        match c.inner.client().served_leaf_sha256() {
            Some(hex) => out.write_string(hex),
            None => {
                out.write(std::ptr::null_mut());
                Ok(())
            }
        }
    })
}

/// Makes a cancellation token. Free with `bt_dr_cancel_token_free` once no operation uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_cancel_token_new(
    out_token: *mut *mut bt_dr_cancel_token,
) -> bt_dr_status {
    guard("bt_dr_cancel_token_new", || {
        let out = Out::new(out_token, "out_token")?;
        out.write(into_handle(bt_dr_cancel_token {
            inner: CancelToken::new(),
        }));
        Ok(())
    })
}

/// Cancels: operations using the token stop soon with `BT_DR_STATUS_CANCELLED` and remove their
/// partial files. May be called from any thread, any number of times.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_cancel_token_cancel(
    token: *const bt_dr_cancel_token,
) -> bt_dr_status {
    guard("bt_dr_cancel_token_cancel", || {
        unsafe { arg_ref(token, "token")? }.inner.cancel();
        Ok(())
    })
}

/// Whether the token was cancelled.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_cancel_token_is_cancelled(
    token: *const bt_dr_cancel_token,
    out_cancelled: *mut bool,
) -> bt_dr_status {
    guard("bt_dr_cancel_token_is_cancelled", || {
        let t = unsafe { arg_ref(token, "token")? };
        Out::new(out_cancelled, "out_cancelled")?.write(t.inner.is_cancelled());
        Ok(())
    })
}

/// Frees a cancellation token. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_cancel_token_free(token: *mut bt_dr_cancel_token) -> bt_dr_status {
    guard("bt_dr_cancel_token_free", || {
        unsafe { free_handle(token) };
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// calls

/// Authenticated `check_health`: version, health, failover role, last data sync. Free
/// `*out_health` with `bt_dr_health_free`. An unhealthy appliance is a successful call with
/// `success == false`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_check_health(
    client: *const bt_dr_client,
    out_health: *mut *mut bt_dr_health,
) -> bt_dr_status {
    guard("bt_dr_check_health", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_health, "out_health")?;
        let inner = c.inner.check_health()?;
        out.write(into_handle(bt_dr_health { inner }));
        Ok(())
    })
}

/// Whether the appliance considers itself healthy.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_health_success(
    health: *const bt_dr_health,
    out_success: *mut bool,
) -> bt_dr_status {
    guard("bt_dr_health_success", || {
        let h = unsafe { arg_ref(health, "health")? };
        Out::new(out_success, "out_success")?.write(h.inner.success);
        Ok(())
    })
}

/// The appliance's current failover role.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_health_failover_role(
    health: *const bt_dr_health,
    out_role: *mut bt_dr_failover_role,
) -> bt_dr_status {
    guard("bt_dr_health_failover_role", || {
        let h = unsafe { arg_ref(health, "health")? };
        Out::new(out_role, "out_role")?.write(h.inner.failover_role.into());
        Ok(())
    })
}

/// The appliance's version as reported, e.g. `"24.1.2 (37380-749b…)"`. Free with
/// `bt_dr_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_health_version(
    health: *const bt_dr_health,
    out_version: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_health_version", || {
        let h = unsafe { arg_ref(health, "health")? };
        Out::new(out_version, "out_version")?.write_string(h.inner.version.to_string())
    })
}

/// The health as JSON: `{"appliance_id", "hostname", "version", "success": bool,
/// "error_message": string | null, "failover_role": "none"|"primary"|"backup",
/// "enabled_shared_ips": [...], "last_data_sync_time": RFC 3339 | null,
/// "last_data_sync_status": string | null}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_health_to_json(
    health: *const bt_dr_health,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_health_to_json", || {
        let h = unsafe { arg_ref(health, "health")? };
        Out::new(out_json, "out_json")?.write_string(mapping::to_json(&h.inner)?)
    })
}

/// Frees a health result. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_health_free(health: *mut bt_dr_health) -> bt_dr_status {
    guard("bt_dr_health_free", || {
        unsafe { free_handle(health) };
        Ok(())
    })
}

/// The unauthenticated `/check_health` probe. `*out_json`: `{"healthy": bool, "status": HTTP
/// status, "message": "...", "peer_certificate_sha256": hex | null}` (the certificate the
/// appliance served). A 500 answer is a successful call with `healthy == false`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_probe_health(
    client: *const bt_dr_client,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_probe_health", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&c.inner.probe_health()?)?)
    })
}

/// `get_api_info`. `*out_json`: `{"api_version", "company_name": string | null, "timestamp":
/// unix | null, "permissions": {"command": "deny"|"read_only"|"full_access", "backup",
/// "reporting_support", "reporting_archive", "vault_backup", "configuration",
/// "configuration_vault_account": bool, "raw": {name: value}}}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_get_api_info(
    client: *const bt_dr_client,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_get_api_info", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&c.inner.get_api_info()?)?)
    })
}

/// `get_appliances`. `*out_json`: `[{"id", "name", "public_hostname", "cluster_role":
/// "single"|"primary"|"traffic", "failover_role": "none"|"primary"|"backup",
/// "accepting_connections": bool, "timezone_offset": seconds | null}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_get_appliances(
    client: *const bt_dr_client,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_get_appliances", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&c.inner.get_appliances()?)?)
    })
}

/// `get_connected_client_list`. `*out_json`: `[{"id", "client_type"}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_get_connected_clients(
    client: *const bt_dr_client,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_get_connected_clients", || {
        let c = unsafe { arg_ref(client, "client")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&c.inner.get_connected_clients()?)?)
    })
}

/// `set_failover_role`: `role` is `"primary"` or `"backup"`. Never retried once the request may
/// have reached the appliance. `*out_json`: `{"message": "...", "sync_started": bool}`
/// (`sync_started`: the role changes when the data sync completes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_set_failover_role(
    client: *const bt_dr_client,
    role: *const c_char,
    data_sync_first: bool,
    force: bool,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_set_failover_role", || {
        let c = unsafe { arg_ref(client, "client")? };
        let role = unsafe { arg_str(role, "role")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::set_failover_role(
            &c.inner,
            role,
            data_sync_first,
            force,
        )?)
    })
}

/// Streams the site backup (NSB) into the directory `dir` (temp file, SHA-256, fsync, rename)
/// and writes a sidecar `<file>.bt-dr.json` next to it. `password` (the site backup password)
/// may be NULL. `progress` may be NULL; `userdata` is handed back to it. `cancel` may be NULL.
///
/// `*out_json`: `{"file": {"path", "file_name", "size", "sha256"}, "sidecar_path", "sidecar":
/// {"file_name", "site", "source_host", "product", "version", "size", "sha256",
/// "downloaded_at": RFC 3339, "password_protected", "appliance_file_name"}}`. On failure no
/// partial file is left.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_download_backup(
    client: *const bt_dr_client,
    dir: *const c_char,
    password: *const c_char,
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_download_backup", || {
        let c = unsafe { arg_ref(client, "client")? };
        let dir = unsafe { arg_str(dir, "dir")? };
        let password = unsafe { opt_str(password, "password")? };
        let out = Out::new(out_json, "out_json")?;
        let t = unsafe { transfer(progress, userdata, cancel) };
        out.write_json(&mapping::download_backup(&c.inner, dir, password, &t)?)
    })
}

/// Sessions in a time window. `window_json` is one of `{"type": "start_time", "unix": N,
/// "seconds": N}`, `{"type": "end_time", "unix": N, "seconds": N}`, `{"type": "start_date",
/// "date": "YYYY-MM-DD", "days": N}`, `{"type": "end_date", "date": "YYYY-MM-DD", "days": N}`,
/// `{"type": "lsid", "lsid": "..."}` (duration 0 = up to now).
///
/// `*out_json`: `[{"lsid", "start_time": RFC 3339 | null, "end_time": RFC 3339 | null,
/// "duration", "session_type", "public_site", "primary_customer", "primary_rep",
/// "recording_url"}]` (absent values are null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_list_sessions(
    client: *const bt_dr_client,
    window_json: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_list_sessions", || {
        let c = unsafe { arg_ref(client, "client")? };
        let w = unsafe { arg_str(window_json, "window_json")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::list_sessions(&c.inner, w)?)
    })
}

/// The session report of one session (same JSON object as one entry of `bt_dr_list_sessions`).
/// `BT_DR_STATUS_NOT_FOUND` when the appliance has no such session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_get_session(
    client: *const bt_dr_client,
    lsid: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_get_session", || {
        let c = unsafe { arg_ref(client, "client")? };
        let lsid = unsafe { arg_str(lsid, "lsid")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_string(mapping::to_json(&c.inner.get_session(lsid)?)?)
    })
}

/// Streams a session recording into `dir` as `<lsid>.<ext>`. `progress`, `userdata`, `cancel`
/// as for `bt_dr_download_backup`. `*out_json`: `{"path", "file_name", "size", "sha256"}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_download_recording(
    client: *const bt_dr_client,
    lsid: *const c_char,
    dir: *const c_char,
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_download_recording", || {
        let c = unsafe { arg_ref(client, "client")? };
        let lsid = unsafe { arg_str(lsid, "lsid")? };
        let dir = unsafe { arg_str(dir, "dir")? };
        let out = Out::new(out_json, "out_json")?;
        let t = unsafe { transfer(progress, userdata, cancel) };
        out.write_json(&mapping::download_recording(&c.inner, lsid, dir, &t)?)
    })
}

/// Saves one piece of Reporting API data into `dir` under a name bt-dr chooses: a recording of
/// any kind or a session report for one session (`window_json` `{"type": "lsid", "lsid":
/// "..."}`), exit surveys for a time window (the other forms of `bt_dr_list_sessions`). `kind`
/// is `"session_report"`, `"session_recording"`, `"show_my_screen_recording"`,
/// `"command_shell_recording"`, `"presentation_recording"`, `"customer_exit_survey"` or
/// `"rep_exit_survey"`. An unknown kind, a kind the product does not have, or a window of the
/// wrong form is `BT_DR_STATUS_INVALID_INPUT`; a session without that recording
/// `BT_DR_STATUS_NOT_FOUND`; an error answer is never saved. `progress`, `userdata`, `cancel` as
/// for `bt_dr_download_backup`.
///
/// `*out_json`: `{"path", "file_name", "size", "sha256"}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_download_report(
    client: *const bt_dr_client,
    kind: *const c_char,
    window_json: *const c_char,
    dir: *const c_char,
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_download_report", || {
        let c = unsafe { arg_ref(client, "client")? };
        let kind = unsafe { arg_str(kind, "kind")? };
        let w = unsafe { arg_str(window_json, "window_json")? };
        let dir = unsafe { arg_str(dir, "dir")? };
        let out = Out::new(out_json, "out_json")?;
        let t = unsafe { transfer(progress, userdata, cancel) };
        out.write_string(mapping::to_json(&mapping::download_report(
            &c.inner, kind, w, dir, &t,
        )?)?)
    })
}

/// `ArchiveListing` for a day (`date` is `YYYY-MM-DD`; an empty day is `[]`). `*out_json`:
/// `[{"kind": "state"|"event", "index": N, "start": RFC 3339 | null, "end": RFC 3339 | null}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_list_archives(
    client: *const bt_dr_client,
    date: *const c_char,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_list_archives", || {
        let c = unsafe { arg_ref(client, "client")? };
        let date = unsafe { arg_str(date, "date")? };
        let out = Out::new(out_json, "out_json")?;
        out.write_json(&mapping::list_archives(&c.inner, date)?)
    })
}

/// Streams one archive (`kind` `"state"` or `"event"`, `date` `YYYY-MM-DD`, per-day `index`
/// from 1) into `dir`, kept gzip-compressed. `progress`, `userdata`, `cancel` as for
/// `bt_dr_download_backup`. `*out_json`: `{"path", "file_name", "size", "sha256"}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bt_dr_download_archive(
    client: *const bt_dr_client,
    kind: *const c_char,
    date: *const c_char,
    index: u32,
    dir: *const c_char,
    progress: bt_dr_progress_callback,
    userdata: *mut c_void,
    cancel: *const bt_dr_cancel_token,
    out_json: *mut *mut c_char,
) -> bt_dr_status {
    guard("bt_dr_download_archive", || {
        let c = unsafe { arg_ref(client, "client")? };
        let kind = unsafe { arg_str(kind, "kind")? };
        let date = unsafe { arg_str(date, "date")? };
        let dir = unsafe { arg_str(dir, "dir")? };
        let out = Out::new(out_json, "out_json")?;
        let t = unsafe { transfer(progress, userdata, cancel) };
        out.write_json(&mapping::download_archive(
            &c.inner, kind, date, index, dir, &t,
        )?)
    })
}
