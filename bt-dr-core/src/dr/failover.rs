//! Failover drill and orchestration: a plan first (no side effects), then one role change and
//! polling until both appliances agree — with refusals where a wrong move would hurt.
//!
//! # Reachable, unreachable, unknown
//!
//! Each appliance is looked at twice, concurrently: the authenticated `check_health` command
//! and the unauthenticated `/check_health` probe. Only when **both** fail at the network level
//! (connection refused or reset, DNS, time-out: [`ErrorKind::Network`] / [`ErrorKind::Timeout`])
//! is the appliance [`Reachability::Unreachable`]. Any other failure — a certificate the client
//! does not trust, a pin mismatch, 401/403, a permission the account lacks, rate limiting, an
//! answer that does not parse, an API error — means something answered, so its role and health
//! are [`Reachability::Unknown`]. An old primary in an unknown state may still be serving the
//! site: both modes refuse while it is unknown unless [`FailoverOptions::force_unknown`] is set.
//!
//! # Execution acts on its own plan
//!
//! [`execute_failover`] observes both appliances again and derives the direction itself. The
//! caller's plan only states intent (mode and direction): it must name the same site, the same
//! appliance to promote and the same old primary as the fresh plan, otherwise execution is
//! refused. Only the fresh plan's appliances and clients are acted on.
//!
//! # Demotion only on request
//!
//! bt-dr never forces a role the caller did not ask for: when the old primary still claims
//! primary after an unplanned promotion, it is demoted with `force=1` only when
//! [`FailoverOptions::demote_old_primary`] is set; otherwise the outcome is
//! [`FailoverOutcome::SplitBrain`] and the demotion is a follow-up step for a person.
//!
//! # The guide's order: redirect, role change, confirm
//!
//! The plan's steps, the timeline's events and the runbook follow the same order
//! ([`FailoverStep`]):
//!
//! 1. **Redirect** the site's traffic to the appliance being promoted. With a shared IP the
//!    appliance takes the address over itself. With a DNS or NAT swing the caller's
//!    [`TrafficRedirect`] hook (a command, or a callback in Rust) does it, and bt-dr then
//!    checks that the site URL ([`FailoverOptions::site_url`]) answers as the target, waiting
//!    for DNS to follow; a failing hook or a site URL that keeps answering as another appliance
//!    stops execution **before** the role change. Without a hook the swing is a manual step that
//!    does not block.
//! 2. **Role change**: `set_failover_role(primary)` on the target, then polling until the
//!    roles settle.
//! 3. **Confirm** clients work: connected clients on the new primary within
//!    [`FailoverOptions::confirm_timeout`], and the site URL healthy and answering as the new
//!    primary. This also tells whether a manual swing has been done.
//!
//! # Identical certificates
//!
//! Both appliances of a pair must serve the same certificate. The plan records the leaf each
//! appliance presented in its TLS handshake and refuses a planned failover when they differ,
//! unless [`FailoverOptions::force_certificate_mismatch`] is set; one unknown side is a
//! warning. The comparison is [`crate::rules::certificate::compare_leaf_digests`], shared with the
//! audit.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::api::{Client, Health, Probe};
use crate::model::appliance::FailoverRole;
use crate::model::site::{RoutingMethod, Site};
use crate::rules::certificate::{LeafComparison, compare_leaf_digests};
use crate::support::error::ErrorReport;
use crate::support::error::{Error, ErrorKind, Result};

/// Planned (both up, final data sync) or unplanned (primary lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailoverMode {
    /// Swap roles with a final data sync; the current primary must be reachable.
    Planned,
    /// Promote the backup without sync; refused while the primary is healthy or its state is
    /// unknown (see [`Reachability::Unknown`]).
    Unplanned,
}

/// Whether an appliance could be reached, and if not, whether it is really gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    /// `check_health` answered: role and health are known.
    Reachable,
    /// Both `check_health` and the `/check_health` probe failed at the network level
    /// (refused, reset, DNS, time-out): nothing answers.
    Unreachable,
    /// Something answered but not usably (TLS, pin, authentication, permission, rate limit,
    /// parse or API error): the appliance may be up and serving; its role is not known.
    #[default]
    Unknown,
}

/// What one appliance looked like when planning.
///
/// JSON: `{"hostname", "reachability": "reachable"|"unreachable"|"unknown", "reachable",
/// "healthy", "role", "error": ErrorReport|null, "probe_status": N|null,
/// "probe_error": ErrorReport|null, "served_leaf_sha256": hex|null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApplianceState {
    /// Hostname.
    pub hostname: String,
    /// Reachable, unreachable (network-level failure of both checks) or unknown.
    #[serde(default)]
    pub reachability: Reachability,
    /// `reachability == Reachable` (kept for readers of the older shape).
    #[serde(default)]
    pub reachable: bool,
    /// Healthy: `check_health` reports `success` = 1; when the API could not be used, the
    /// unauthenticated probe answered HTTP 200.
    #[serde(default)]
    pub healthy: bool,
    /// Role (`None` unless reachable).
    #[serde(default)]
    pub role: Option<FailoverRole>,
    /// Why `check_health` failed, when it did.
    #[serde(default, deserialize_with = "ErrorReport::deserialize_lenient")]
    pub error: Option<ErrorReport>,
    /// HTTP status of the unauthenticated `/check_health` probe, when it answered.
    #[serde(default)]
    pub probe_status: Option<u16>,
    /// Why the probe failed, when it did.
    #[serde(default, deserialize_with = "ErrorReport::deserialize_lenient")]
    pub probe_error: Option<ErrorReport>,
    /// SHA-256 (hex) of the leaf certificate the appliance presented in the TLS handshake
    /// ([`Client::served_leaf_sha256`]); `None` when no handshake reached that point.
    #[serde(default)]
    pub served_leaf_sha256: Option<String>,
}

impl ApplianceState {
    /// The most telling error: the API's, else the probe's.
    fn error_text(&self) -> String {
        self.error
            .as_ref()
            .or(self.probe_error.as_ref())
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "no detail".into())
    }
}

/// The stages of a failover, in the order the guide gives them.
///
/// JSON: `"redirect"`, `"verify_redirect"`, `"role_change"`, `"settle"`, `"demote"`,
/// `"confirm"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailoverStep {
    /// Client traffic is pointed at the appliance being promoted.
    Redirect,
    /// The site URL is checked to reach that appliance (after an automated swing).
    VerifyRedirect,
    /// `set_failover_role(primary)` on the appliance being promoted.
    RoleChange,
    /// Polling until both appliances agree on their roles.
    Settle,
    /// The old primary is demoted (only with [`FailoverOptions::demote_old_primary`]).
    Demote,
    /// Clients are confirmed to work on the new primary.
    Confirm,
}

/// One step of a plan.
///
/// JSON: `{"action", "automated": bool, "step": FailoverStep|null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlanStep {
    /// What happens.
    pub action: String,
    /// Done by bt-dr (true) or by a person (false).
    pub automated: bool,
    /// The stage it belongs to (absent in plans made before stages were recorded).
    #[serde(default)]
    pub step: Option<FailoverStep>,
}

/// A failover plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailoverPlan {
    /// Site.
    pub site: String,
    /// Mode.
    pub mode: FailoverMode,
    /// The appliance that is primary now.
    pub from: ApplianceState,
    /// The appliance that will become primary.
    pub to: ApplianceState,
    /// Clients that a planned swap disconnects.
    pub connected_clients: Option<usize>,
    /// Steps in order: redirect, role change, settle, confirm.
    pub steps: Vec<PlanStep>,
    /// Things to know before executing.
    pub warnings: Vec<String>,
    /// How the leaf certificates the two appliances serve compare.
    #[serde(default)]
    pub certificates: LeafComparison,
    /// The URL through which the site's clients reach it, used to check the redirect and to
    /// confirm clients ([`FailoverOptions::site_url`], by default `https://<fqdn>`).
    #[serde(default)]
    pub site_url: Option<String>,
}

/// A caller's way to move client traffic for a DNS or NAT swing: a command (argv, no shell) or,
/// in Rust, a callback.
///
/// JSON (the command form; the callback is not serialised):
/// `{"command": ["/usr/local/bin/swing-dns", "--zone", "example.com"], "timeout_ms": 120000}`.
///
/// The command runs with standard input closed and standard output discarded, and with these
/// environment variables: `BT_DR_SITE`, `BT_DR_FQDN`, `BT_DR_FROM` (old primary), `BT_DR_TO`
/// (appliance to promote), `BT_DR_TO_IP` (its address, when the inventory has it),
/// `BT_DR_ROUTING` (`dns-swing` or `nat-swing`), `BT_DR_MODE` (`planned` or `unplanned`) and
/// `BT_DR_SITE_URL`. The variable that holds the site's API secret is removed from its
/// environment: the hook has no use for it. Exit status 0 is success; anything else, or running
/// past the timeout (the command is then killed), stops the failover before the role change.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TrafficRedirect {
    /// Program and arguments, run directly (no shell).
    #[serde(default)]
    pub command: Vec<String>,
    /// Longest the hook may run, in milliseconds (default 120 000, bt-dr's choice: long enough
    /// for a DNS provider's API, short enough for an outage).
    #[serde(default = "default_redirect_timeout_ms")]
    pub timeout_ms: u64,
    /// The Rust-only form: called on a blocking thread with the same facts the command gets in
    /// its environment. Past the timeout bt-dr stops waiting for it (a thread cannot be killed).
    #[serde(skip)]
    pub callback: Option<RedirectCallback>,
}

/// The callback form of [`TrafficRedirect`].
pub type RedirectCallback = Arc<dyn Fn(&RedirectRequest) -> Result<()> + Send + Sync>;

fn default_redirect_timeout_ms() -> u64 {
    120_000
}

impl TrafficRedirect {
    /// A command hook (`argv[0]` is the program).
    pub fn command<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TrafficRedirect {
            command: argv.into_iter().map(Into::into).collect(),
            timeout_ms: default_redirect_timeout_ms(),
            callback: None,
        }
    }

    /// A callback hook.
    pub fn callback(f: impl Fn(&RedirectRequest) -> Result<()> + Send + Sync + 'static) -> Self {
        TrafficRedirect {
            command: Vec::new(),
            timeout_ms: default_redirect_timeout_ms(),
            callback: Some(Arc::new(f)),
        }
    }

    /// The same hook with another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Exactly one form, a program name, and a timeout.
    fn validate(&self) -> Result<RedirectMethod> {
        let field = "redirect";
        if self.timeout_ms == 0 {
            return Err(Error::invalid_input(
                "redirect.timeout_ms",
                "must be more than 0",
            ));
        }
        match (&self.callback, self.command.first()) {
            (Some(_), Some(_)) => Err(Error::invalid_input(
                field,
                "give a command or a callback, not both",
            )),
            (Some(_), None) => Ok(RedirectMethod::Callback),
            (None, Some(program)) if !program.trim().is_empty() => Ok(RedirectMethod::Command),
            (None, Some(_)) => Err(Error::invalid_input(
                "redirect.command",
                "the program (first element) is empty",
            )),
            (None, None) => Err(Error::invalid_input(
                "redirect.command",
                "is empty: give the program and its arguments",
            )),
        }
    }

    /// How it is named in plans and timelines: the program only, as arguments may carry a
    /// DNS provider's key.
    fn label(&self) -> String {
        match self.command.first() {
            Some(p) if self.callback.is_none() => format!("the redirect command `{p}`"),
            _ => "the redirect callback".to_string(),
        }
    }
}

impl std::fmt::Debug for TrafficRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Arguments are not shown: they may hold credentials of a DNS or firewall API.
        f.debug_struct("TrafficRedirect")
            .field("program", &self.command.first())
            .field("arguments", &self.command.len().saturating_sub(1))
            .field("timeout_ms", &self.timeout_ms)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl PartialEq for TrafficRedirect {
    fn eq(&self, other: &Self) -> bool {
        self.command == other.command
            && self.timeout_ms == other.timeout_ms
            && match (&self.callback, &other.callback) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

/// What a [`TrafficRedirect`] hook is asked to do: point `fqdn` at `to`.
///
/// JSON: `{"site", "fqdn", "from", "to", "to_ip": "10.0.0.12"|null, "routing":
/// "dns-swing"|"nat-swing", "mode": "planned"|"unplanned", "site_url"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RedirectRequest {
    /// Site name.
    pub site: String,
    /// The site's public name, whose A record or NAT rule moves.
    pub fqdn: String,
    /// The appliance traffic moves away from.
    pub from: String,
    /// The appliance traffic moves to.
    pub to: String,
    /// The address of `to`, when the inventory has it.
    pub to_ip: Option<String>,
    /// DNS or NAT swing.
    pub routing: RoutingMethod,
    /// Planned or unplanned.
    pub mode: FailoverMode,
    /// The URL bt-dr checks afterwards.
    pub site_url: String,
}

impl RedirectRequest {
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("BT_DR_SITE", self.site.clone()),
            ("BT_DR_FQDN", self.fqdn.clone()),
            ("BT_DR_FROM", self.from.clone()),
            ("BT_DR_TO", self.to.clone()),
            ("BT_DR_ROUTING", routing_name(self.routing).to_string()),
            (
                "BT_DR_MODE",
                match self.mode {
                    FailoverMode::Planned => "planned",
                    FailoverMode::Unplanned => "unplanned",
                }
                .to_string(),
            ),
            ("BT_DR_SITE_URL", self.site_url.clone()),
        ];
        if let Some(ip) = &self.to_ip {
            env.push(("BT_DR_TO_IP", ip.clone()));
        }
        env
    }
}

/// The inventory's spelling of a routing method.
fn routing_name(r: RoutingMethod) -> &'static str {
    match r {
        RoutingMethod::SharedIp => "shared-ip",
        RoutingMethod::DnsSwing => "dns-swing",
        RoutingMethod::NatSwing => "nat-swing",
    }
}

/// Who moves the traffic.
///
/// JSON: `"automatic"`, `"command"`, `"callback"` or `"manual"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RedirectMethod {
    /// Shared IP: the promoted appliance takes the address over itself.
    Automatic,
    /// The caller's [`TrafficRedirect`] command.
    Command,
    /// The caller's [`TrafficRedirect`] callback.
    Callback,
    /// A person changes the DNS record or NAT rule (no hook given).
    Manual,
}

/// What happened to the traffic redirect during execution.
///
/// JSON: `{"routing": "shared-ip"|"dns-swing"|"nat-swing", "method": RedirectMethod,
/// "site_url", "ran": bool, "verified": bool, "answered_by": hostname|null,
/// "error": ErrorReport|null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RedirectReport {
    /// Routing method of the pair.
    pub routing: RoutingMethod,
    /// Who moved the traffic.
    pub method: RedirectMethod,
    /// The URL checked.
    pub site_url: String,
    /// A hook ran and succeeded.
    #[serde(default)]
    pub ran: bool,
    /// The site URL answered as the promoted appliance (right after a hook, or when
    /// confirming clients for an automatic or manual redirect).
    #[serde(default)]
    pub verified: bool,
    /// The appliance (hostname from `check_health`) the site URL last answered as.
    #[serde(default)]
    pub answered_by: Option<String>,
    /// Why the hook or the check failed.
    #[serde(default)]
    pub error: Option<ErrorReport>,
}

/// Whether clients work after the role change.
///
/// JSON: `{"site_url", "connected_clients": N|null, "site_status": N|null, "site_healthy":
/// bool, "site_answered_by": hostname|null, "site_reaches_target": bool, "confirmed": bool,
/// "clients_error": ErrorReport|null, "site_error": ErrorReport|null, "waited_ms": N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientConfirmation {
    /// The URL checked.
    pub site_url: String,
    /// Clients connected to the new primary at the last look.
    #[serde(default)]
    pub connected_clients: Option<usize>,
    /// HTTP status of `/check_health` through the site URL.
    #[serde(default)]
    pub site_status: Option<u16>,
    /// That probe answered 200.
    #[serde(default)]
    pub site_healthy: bool,
    /// The appliance the site URL answered as (hostname from `check_health`).
    #[serde(default)]
    pub site_answered_by: Option<String>,
    /// The site URL answered as the new primary.
    #[serde(default)]
    pub site_reaches_target: bool,
    /// At least one client is connected to the new primary, and the site URL is healthy and
    /// answers as it.
    #[serde(default)]
    pub confirmed: bool,
    /// Why the connected clients could not be read.
    #[serde(default)]
    pub clients_error: Option<ErrorReport>,
    /// Why the site URL could not be checked.
    #[serde(default)]
    pub site_error: Option<ErrorReport>,
    /// How long confirming took.
    #[serde(default)]
    pub waited_ms: u64,
}

/// Timing and explicit overrides of planning and execution. Every override is off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailoverOptions {
    /// Give up waiting for the roles to settle after this long.
    pub settle_timeout: Duration,
    /// Poll interval.
    pub poll_interval: Duration,
    /// Go ahead although the old primary's state is [`Reachability::Unknown`] (it answered, but
    /// with a TLS, pin, authentication, permission, rate-limit, parse or API error). Only for
    /// someone who has confirmed by other means that it is down or no longer serving: otherwise
    /// an unplanned failover leaves two primaries. Needed for [`plan_failover_with`] and again
    /// for [`execute_failover`], which plans afresh.
    #[serde(default)]
    pub force_unknown: bool,
    /// After an unplanned promotion, if the old primary still claims primary, demote it with
    /// `set_failover_role(backup, force=1)`. Off: bt-dr never demotes anything by itself; the
    /// outcome is then [`FailoverOutcome::SplitBrain`] and the demotion a follow-up step.
    #[serde(default)]
    pub demote_old_primary: bool,
    /// Go ahead with a planned failover although the two appliances serve different
    /// certificates (the plan then carries a warning). Clients that validate the primary's
    /// certificate may reject the new primary's.
    #[serde(default)]
    pub force_certificate_mismatch: bool,
    /// The hook that moves traffic for a DNS or NAT swing; without it the swing is a manual
    /// step. Not used with a shared IP, which moves by itself.
    #[serde(default)]
    pub redirect: Option<TrafficRedirect>,
    /// How clients reach the site, for the redirect check and the confirmation (default
    /// `https://<site fqdn>`). Uses the promoted appliance's client settings (account, CA,
    /// pin), since both appliances carry the same certificate.
    #[serde(default)]
    pub site_url: Option<String>,
    /// After a redirect hook, how long to keep checking that the site URL answers as the
    /// target before giving up without changing any role (default 180 s, bt-dr's choice:
    /// a low DNS TTL, as swings need, is well under it).
    #[serde(default = "default_redirect_verify_timeout")]
    pub redirect_verify_timeout: Duration,
    /// After the role change, how long to wait for connected clients on the new primary and a
    /// healthy site URL answering as it (default 120 s, bt-dr's choice: clients retry their
    /// connection within about a minute).
    #[serde(default = "default_confirm_timeout")]
    pub confirm_timeout: Duration,
}

fn default_redirect_verify_timeout() -> Duration {
    Duration::from_secs(180)
}

fn default_confirm_timeout() -> Duration {
    Duration::from_secs(120)
}

impl Default for FailoverOptions {
    fn default() -> Self {
        Self {
            settle_timeout: Duration::from_secs(180),
            poll_interval: Duration::from_millis(500),
            force_unknown: false,
            demote_old_primary: false,
            force_certificate_mismatch: false,
            redirect: None,
            site_url: None,
            redirect_verify_timeout: default_redirect_verify_timeout(),
            confirm_timeout: default_confirm_timeout(),
        }
    }
}

/// The JSON form of [`FailoverOptions`] every binding passes (times in milliseconds; absent or
/// 0 keeps the default), read by [`FailoverOptions::from_json`]. Public so the bindings' type
/// declarations are generated from it.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct FailoverOptionsInput {
    /// Give up waiting for the roles to settle after this long (default 180000).
    pub settle_timeout_ms: Option<u64>,
    /// How often the roles are polled while settling (default 500).
    pub poll_interval_ms: Option<u64>,
    /// Plan although the old primary's state is unknown (it answered with a TLS, pin, auth,
    /// permission, rate-limit, parse or API error); only when it is known to be down by other
    /// means, or an unplanned failover leaves two primaries. Default false.
    pub force_unknown: Option<bool>,
    /// After an unplanned promotion, demote an old primary that still claims primary
    /// (`set_failover_role(backup, force=1)`). Default false: nothing is demoted by itself.
    pub demote_old_primary: Option<bool>,
    /// Go ahead with a planned failover although the two appliances serve different
    /// certificates. Default false.
    pub force_certificate_mismatch: Option<bool>,
    /// The DNS/NAT swing hook; without it the swing is a manual step.
    pub redirect: Option<TrafficRedirect>,
    /// How clients reach the site, for the redirect check and the confirmation (default
    /// `https://<fqdn>`).
    pub site_url: Option<String>,
    /// After the hook, how long to wait for the site URL to answer as the target (default
    /// 180000).
    pub redirect_verify_timeout_ms: Option<u64>,
    /// After the role change, how long to wait for clients on the new primary (default 120000).
    pub confirm_timeout_ms: Option<u64>,
}

impl FailoverOptions {
    /// Options from their JSON form: `settle_timeout_ms`, `poll_interval_ms`,
    /// `redirect_verify_timeout_ms`, `confirm_timeout_ms` (0 keeps the default),
    /// `force_unknown`, `demote_old_primary`, `force_certificate_mismatch`, `site_url` and
    /// `redirect` (`{"command": [argv…], "timeout_ms": N}`); every field optional, `null`
    /// means the defaults, an unknown field is refused.
    ///
    /// ```
    /// use bt_dr_core::FailoverOptions;
    /// let o = FailoverOptions::from_json(serde_json::json!({
    ///     "confirm_timeout_ms": 5000,
    ///     "redirect": {"command": ["/usr/local/bin/swing-dns"]},
    /// })).unwrap();
    /// assert_eq!(o.confirm_timeout, std::time::Duration::from_secs(5));
    /// assert!(FailoverOptions::from_json(serde_json::json!({"force": true})).is_err());
    /// ```
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        let o: FailoverOptionsInput = if value.is_null() {
            FailoverOptionsInput::default()
        } else {
            serde_json::from_value(value).map_err(|e| {
                let msg = e.to_string();
                // serde may quote the value; a redirect argument can hold a DNS key.
                let msg = if msg.starts_with("unknown field") {
                    msg.split(", expected").next().unwrap_or(&msg).to_string()
                } else {
                    "an option has the wrong type or value".to_string()
                };
                Error::invalid_input("failover options", msg)
            })?
        };
        let mut opts = Self::default();
        for (ms, slot) in [
            (o.settle_timeout_ms, &mut opts.settle_timeout),
            (o.poll_interval_ms, &mut opts.poll_interval),
            (
                o.redirect_verify_timeout_ms,
                &mut opts.redirect_verify_timeout,
            ),
            (o.confirm_timeout_ms, &mut opts.confirm_timeout),
        ] {
            if let Some(ms) = ms.filter(|ms| *ms > 0) {
                *slot = Duration::from_millis(ms);
            }
        }
        opts.force_unknown = o.force_unknown.unwrap_or(false);
        opts.demote_old_primary = o.demote_old_primary.unwrap_or(false);
        opts.force_certificate_mismatch = o.force_certificate_mismatch.unwrap_or(false);
        opts.redirect = o.redirect;
        opts.site_url = o.site_url;
        Ok(opts)
    }
}

/// One observation during execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimelineEvent {
    /// Milliseconds since execution started.
    pub elapsed_ms: u64,
    /// What happened.
    pub event: String,
    /// Role of the old primary (None: no usable answer).
    pub from_role: Option<FailoverRole>,
    /// Role of the new primary (None: no usable answer).
    pub to_role: Option<FailoverRole>,
    /// The stage it belongs to (absent in timelines recorded before stages were).
    #[serde(default)]
    pub step: Option<FailoverStep>,
    /// The error this event reports, if any.
    #[serde(default)]
    pub error: Option<ErrorReport>,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailoverOutcome {
    /// The target is primary and the old primary backup (or gone, unplanned).
    Settled,
    /// The roles did not settle in time.
    TimedOut,
    /// Both claim primary (the old primary must be demoted by hand, or by bt-dr when
    /// [`FailoverOptions::demote_old_primary`] is set).
    SplitBrain,
    /// The redirect hook failed or ran out of time; no role was changed.
    RedirectFailed,
    /// After the redirect hook, the site URL kept answering as another appliance (or not at
    /// all); no role was changed.
    RedirectMismatch,
}

/// What execution did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailoverTimeline {
    /// Site.
    pub site: String,
    /// Mode.
    pub mode: FailoverMode,
    /// Observations in order.
    pub events: Vec<TimelineEvent>,
    /// Outcome.
    pub outcome: FailoverOutcome,
    /// Remaining manual steps (traffic swing, demotion).
    pub follow_up: Vec<String>,
    /// What happened to the traffic redirect.
    #[serde(default)]
    pub redirect: Option<RedirectReport>,
    /// Whether clients work on the new primary (after a settled role change only).
    #[serde(default)]
    pub confirmation: Option<ClientConfirmation>,
    /// The error that stopped execution early, when one did.
    #[serde(default)]
    pub error: Option<ErrorReport>,
}

fn network_level(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout)
}

/// Classifies one appliance from its `check_health` and `/check_health` answers.
fn classify(hostname: &str, api: Result<Health>, probe: Result<Probe>) -> ApplianceState {
    let (probe_status, probe_healthy, probe_error) = match &probe {
        Ok(p) => (Some(p.status), p.healthy, None),
        Err(e) => (None, false, Some(e.report())),
    };
    match api {
        Ok(h) => ApplianceState {
            hostname: hostname.into(),
            reachability: Reachability::Reachable,
            reachable: true,
            healthy: h.success,
            role: Some(h.failover_role),
            error: None,
            probe_status,
            probe_error,
            served_leaf_sha256: None,
        },
        Err(e) => {
            let gone = network_level(&e) && probe.as_ref().err().is_some_and(network_level);
            ApplianceState {
                hostname: hostname.into(),
                reachability: if gone {
                    Reachability::Unreachable
                } else {
                    Reachability::Unknown
                },
                reachable: false,
                healthy: probe_healthy,
                role: None,
                error: Some(e.report()),
                probe_status,
                probe_error,
                served_leaf_sha256: None,
            }
        }
    }
}

async fn observe(hostname: &str, c: &Client) -> ApplianceState {
    let mark = c.served_leaf_mark();
    let (api, probe) = tokio::join!(c.check_health(), c.probe_health());
    let probe_leaf = probe
        .as_ref()
        .ok()
        .and_then(|p| p.peer_certificate_sha256.clone());
    let mut state = classify(hostname, api, probe);
    state.served_leaf_sha256 = c.served_leaf_since(mark).or(probe_leaf);
    state
}

/// A plan, which of the two given appliances is `from` / `to` (0 = first, 1 = second), and
/// who moves the traffic.
struct Planned {
    plan: FailoverPlan,
    from: usize,
    to: usize,
    method: RedirectMethod,
}

/// Looks at both appliances and plans `mode`, refusing what is unsafe. No side effects.
///
/// `first`/`second` are the two appliances of the pair with their clients, in any order: the
/// plan picks the current primary from their live roles. Same as [`plan_failover_with`] with
/// default options (no override).
pub async fn plan_failover(
    site: &Site,
    first: (&str, &Client),
    second: (&str, &Client),
    mode: FailoverMode,
) -> Result<FailoverPlan> {
    plan_failover_with(site, first, second, mode, &FailoverOptions::default()).await
}

/// [`plan_failover`] with options: [`FailoverOptions::force_unknown`] lets a plan go ahead
/// while the old primary's state is unknown (a warning says so). No side effects.
pub async fn plan_failover_with(
    site: &Site,
    first: (&str, &Client),
    second: (&str, &Client),
    mode: FailoverMode,
    opts: &FailoverOptions,
) -> Result<FailoverPlan> {
    Ok(plan_inner(site, [first, second], mode, opts).await?.plan)
}

fn refused(reason: String) -> Error {
    Error::Refused { reason }
}

fn unknown_reason(what: &str, s: &ApplianceState) -> String {
    format!(
        "{what} {}: state unknown — it answered, but not usably ({}); that is not the same as \
         being down, and it may still be serving the site",
        s.hostname,
        s.error_text()
    )
}

async fn plan_inner(
    site: &Site,
    pair_in: [(&str, &Client); 2],
    mode: FailoverMode,
    opts: &FailoverOptions,
) -> Result<Planned> {
    let pair = site.failover.as_ref().ok_or_else(|| {
        Error::invalid_input(
            "site.failover",
            format!("site `{}` has no failover pair", site.name),
        )
    })?;
    if pair_in[0].0.eq_ignore_ascii_case(pair_in[1].0) {
        return Err(Error::invalid_input(
            "second",
            format!(
                "both appliances are named `{}`; give the two appliances of the pair",
                pair_in[0].0
            ),
        ));
    }
    let (a, b) = tokio::join!(
        observe(pair_in[0].0, pair_in[0].1),
        observe(pair_in[1].0, pair_in[1].1)
    );
    // The current primary is whoever says so; an appliance whose role cannot be read is taken
    // as the primary when the other answers as backup; otherwise the inventory decides.
    let (fi, ti) = match (a.role, b.role) {
        (Some(FailoverRole::Primary), Some(FailoverRole::Primary)) => {
            return Err(refused(format!(
                "split brain: both {} and {} are primary; demote one first",
                a.hostname, b.hostname
            )));
        }
        (Some(FailoverRole::Primary), _) => (0, 1),
        (_, Some(FailoverRole::Primary)) => (1, 0),
        (None, Some(FailoverRole::Backup)) => (0, 1),
        (Some(FailoverRole::Backup), None) => (1, 0),
        _ if a.hostname.eq_ignore_ascii_case(&pair.primary) => (0, 1),
        _ => (1, 0),
    };
    let mut states = [Some(a), Some(b)];
    let from = states[fi].take().expect("distinct indexes");
    let to = states[ti].take().expect("distinct indexes");
    match to.reachability {
        Reachability::Reachable => {}
        Reachability::Unreachable => {
            return Err(refused(format!(
                "the appliance to promote, {}, cannot be reached: {}",
                to.hostname,
                to.error_text()
            )));
        }
        Reachability::Unknown => {
            return Err(refused(format!(
                "{}; it cannot be promoted through an API it cannot use",
                unknown_reason("the appliance to promote", &to)
            )));
        }
    }
    if to.role == Some(FailoverRole::None) {
        return Err(refused(format!(
            "{} is not in a failover relationship",
            to.hostname
        )));
    }
    let mut warnings = Vec::new();
    let mut steps = Vec::new();
    if from.reachability == Reachability::Unknown {
        if !opts.force_unknown {
            return Err(refused(format!(
                "{}. Fix the access (certificate, pin, credentials, permissions) and plan again, \
                 or set force_unknown once you have confirmed it is down",
                unknown_reason("the primary", &from)
            )));
        }
        warnings.push(format!(
            "{}; going ahead only because force_unknown is set — if it is still primary, the \
             pair ends up with two primaries",
            unknown_reason("the primary", &from)
        ));
    }
    let certificates = compare_leaf_digests(
        from.served_leaf_sha256.as_deref(),
        to.served_leaf_sha256.as_deref(),
    );
    match certificates {
        LeafComparison::Identical => {}
        LeafComparison::Different => {
            let differ = format!(
                "{} serves the certificate with sha256 {} but {} serves {}; the appliances of a \
                 failover pair must carry identical certificates, or clients that trust one reject \
                 the other",
                from.hostname,
                short_digest(from.served_leaf_sha256.as_deref()),
                to.hostname,
                short_digest(to.served_leaf_sha256.as_deref()),
            );
            if mode == FailoverMode::Planned && !opts.force_certificate_mismatch {
                return Err(refused(format!(
                    "{differ}. Import the primary's certificate (with key and chain) on {} and \
                     plan again, or set force_certificate_mismatch",
                    to.hostname
                )));
            }
            warnings.push(if mode == FailoverMode::Planned {
                format!("{differ}; going ahead only because force_certificate_mismatch is set")
            } else {
                format!("{differ}; the primary is lost, so the failover is not refused")
            });
        }
        LeafComparison::Unknown => {
            let unknown: Vec<&str> = [&from, &to]
                .iter()
                .filter(|s| s.served_leaf_sha256.is_none())
                .map(|s| s.hostname.as_str())
                .collect();
            warnings.push(format!(
                "the certificates of {} and {} could not be compared (not seen from {}): make sure \
                 both serve the identical certificate",
                from.hostname,
                to.hostname,
                if unknown.is_empty() {
                    "either, as a digest".to_string()
                } else {
                    unknown.join(" and ")
                }
            ));
        }
    }
    let site_url = opts
        .site_url
        .clone()
        .unwrap_or_else(|| format!("https://{}", site.fqdn));
    // Building the client checks the URL (scheme, host, no credentials) before anything runs.
    pair_in[ti]
        .1
        .at_address(&site_url)
        .map_err(|e| Error::invalid_input("site_url", e.to_string()))?;
    let method = match (pair.routing, &opts.redirect) {
        (RoutingMethod::SharedIp, hook) => {
            if hook.is_some() {
                warnings.push(
                    "the redirect hook is not run: with a shared IP the promoted appliance takes \
                     the address over itself"
                        .into(),
                );
            }
            RedirectMethod::Automatic
        }
        (_, Some(hook)) => hook.validate()?,
        (_, None) => RedirectMethod::Manual,
    };
    let swing_target = match pair.routing {
        RoutingMethod::SharedIp => String::new(),
        RoutingMethod::DnsSwing => format!("the DNS A record of {}", site.fqdn),
        RoutingMethod::NatSwing => format!("the NAT rule of {}'s public IP", site.fqdn),
    };
    match (method, &opts.redirect) {
        (RedirectMethod::Automatic, _) => steps.push(PlanStep {
            action: format!(
                "shared IP{}: {} takes it over by itself once it is primary",
                if pair.shared_ips.is_empty() {
                    String::new()
                } else {
                    format!(
                        " {}",
                        pair.shared_ips
                            .iter()
                            .map(|i| i.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                to.hostname
            ),
            automated: true,
            step: Some(FailoverStep::Redirect),
        }),
        (RedirectMethod::Manual, _) | (_, None) => steps.push(PlanStep {
            action: format!("point {swing_target} at {}", to.hostname),
            automated: false,
            step: Some(FailoverStep::Redirect),
        }),
        (_, Some(hook)) => {
            steps.push(PlanStep {
                action: format!(
                    "run {} to point {swing_target} at {}",
                    hook.label(),
                    to.hostname
                ),
                automated: true,
                step: Some(FailoverStep::Redirect),
            });
            steps.push(PlanStep {
                action: format!(
                    "check that {site_url} answers as {} (for up to {} s while DNS follows); stop \
                     before the role change if it does not",
                    to.hostname,
                    opts.redirect_verify_timeout.as_secs()
                ),
                automated: true,
                step: Some(FailoverStep::VerifyRedirect),
            });
        }
    }
    let connected_clients;
    match mode {
        FailoverMode::Unplanned => {
            if from.reachability == Reachability::Reachable
                && from.healthy
                && from.role == Some(FailoverRole::Primary)
            {
                return Err(refused(format!(
                    "the primary {} is reachable and healthy; use a planned failover (with data sync) instead",
                    from.hostname
                )));
            }
            connected_clients = None;
            if from.reachability == Reachability::Reachable {
                warnings.push(format!(
                    "{} still answers (unhealthy); if it still claims primary after the promotion, {}",
                    from.hostname,
                    if opts.demote_old_primary {
                        "it will be demoted with force (demote_old_primary is set)"
                    } else {
                        "it is left alone and must be demoted by hand (or set demote_old_primary)"
                    }
                ));
            }
            steps.push(PlanStep {
                action: format!(
                    "{}: set_failover_role(primary, data_sync_first=0)",
                    to.hostname
                ),
                automated: true,
                step: Some(FailoverStep::RoleChange),
            });
        }
        FailoverMode::Planned => {
            if from.reachability == Reachability::Unreachable {
                return Err(refused(format!(
                    "a planned failover syncs data from the primary first, but {} cannot be reached; use an unplanned failover",
                    from.hostname
                )));
            }
            connected_clients = if from.reachability == Reachability::Reachable {
                pair_in[fi]
                    .1
                    .get_connected_clients()
                    .await
                    .ok()
                    .map(|c| c.len())
            } else {
                None
            };
            if let Some(n) = connected_clients.filter(|n| *n > 0) {
                warnings.push(format!(
                    "{n} connected clients will be disconnected during the final data sync"
                ));
            }
            steps.push(PlanStep {
                action: format!(
                    "{}: set_failover_role(primary, data_sync_first=1)",
                    to.hostname
                ),
                automated: true,
                step: Some(FailoverStep::RoleChange),
            });
        }
    }
    steps.push(PlanStep {
        action: format!(
            "poll both appliances until {} is primary (a brief both-backup state is normal)",
            to.hostname
        ),
        automated: true,
        step: Some(FailoverStep::Settle),
    });
    steps.push(PlanStep {
        action: format!(
            "confirm clients work: connected clients on {} within {} s, and {site_url} healthy \
             and answering as {}",
            to.hostname,
            opts.confirm_timeout.as_secs(),
            to.hostname
        ),
        automated: true,
        step: Some(FailoverStep::Confirm),
    });
    if pair.auto_failover.enabled {
        warnings.push("automatic failover is enabled on the backup; mixing it with API-driven changes can conflict".into());
    }
    Ok(Planned {
        plan: FailoverPlan {
            site: site.name.clone(),
            mode,
            from,
            to,
            connected_clients,
            steps,
            warnings,
            certificates,
            site_url: Some(site_url),
        },
        from: fi,
        to: ti,
        method,
    })
}

/// The first 16 hex digits of a digest, enough to tell two apart in a message.
fn short_digest(d: Option<&str>) -> String {
    match d {
        Some(d) => format!("{}…", d.chars().take(16).collect::<String>()),
        None => "(unknown)".into(),
    }
}

/// Executes a failover in the direction `plan` names, in the guide's order: redirect traffic,
/// change the role, confirm clients.
///
/// Both appliances are observed again and a fresh plan is made with `opts` (so
/// [`FailoverOptions::force_unknown`] and [`FailoverOptions::force_certificate_mismatch`] must
/// be given again here). The caller's plan is only the intent: if it names another site,
/// another appliance to promote or another old primary than the fresh plan, execution is
/// refused and nothing is changed. Only the fresh plan's appliances and clients are used.
///
/// Then, in order:
/// 1. the redirect: nothing to do for a shared IP; the [`FailoverOptions::redirect`] hook for a
///    DNS or NAT swing, followed by a check that the site URL answers as the target — a hook
///    that fails or a site that keeps answering as another appliance ends execution here with
///    [`FailoverOutcome::RedirectFailed`] / [`FailoverOutcome::RedirectMismatch`] and no role
///    changed; without a hook the swing is left to a person and does not block;
/// 2. the role change, once (never retried blindly), and polling until both appliances agree
///    (nothing is demoted unless [`FailoverOptions::demote_old_primary`] is set);
/// 3. when the roles settled, confirmation: clients connected to the new primary and the site
///    URL healthy and answering as it, within [`FailoverOptions::confirm_timeout`]. What is not
///    confirmed becomes a follow-up, not a failure: the roles did change.
pub async fn execute_failover(
    site: &Site,
    first: (&str, &Client),
    second: (&str, &Client),
    plan: &FailoverPlan,
    opts: &FailoverOptions,
) -> Result<FailoverTimeline> {
    let pair_in = [first, second];
    if !plan.site.eq_ignore_ascii_case(&site.name) {
        return Err(refused(format!(
            "the plan is for site `{}`, not `{}`; plan again",
            plan.site, site.name
        )));
    }
    // The world may have moved since planning: plan again and insist on the same direction.
    let fresh = plan_inner(site, pair_in, plan.mode, opts).await?;
    let (fp, from_h, to_h) = (
        &fresh.plan,
        fresh.plan.from.hostname.as_str(),
        fresh.plan.to.hostname.as_str(),
    );
    if !plan.to.hostname.eq_ignore_ascii_case(to_h)
        || !plan.from.hostname.eq_ignore_ascii_case(from_h)
    {
        return Err(refused(format!(
            "the plan does not match the pair as it is now: it promotes `{}` over `{}`, but now \
             {} ({}) would be promoted over {} ({}); the roles changed or the plan was not made \
             for these appliances — plan again",
            plan.to.hostname,
            plan.from.hostname,
            to_h,
            role_text(fp.to.role),
            from_h,
            role_text(fp.from.role),
        )));
    }
    let (to_c, from_c) = (pair_in[fresh.to].1, pair_in[fresh.from].1);
    let routing = site
        .failover
        .as_ref()
        .map(|p| p.routing)
        .unwrap_or(RoutingMethod::SharedIp);
    let site_url = fp
        .site_url
        .clone()
        .unwrap_or_else(|| format!("https://{}", site.fqdn));
    let site_c = to_c
        .at_address(&site_url)
        .map_err(|e| Error::invalid_input("site_url", e.to_string()))?;
    let mut tl = Recorder {
        started: Instant::now(),
        events: Vec::new(),
    };
    let planned = fp.mode == FailoverMode::Planned;
    let mut follow_up = Vec::new();

    // 1. Redirect.
    let mut redirect = RedirectReport {
        routing,
        method: fresh.method,
        site_url: site_url.clone(),
        ran: false,
        verified: false,
        answered_by: None,
        error: None,
    };
    match (fresh.method, &opts.redirect) {
        (RedirectMethod::Command | RedirectMethod::Callback, Some(hook)) => {
            let request = RedirectRequest {
                site: site.name.clone(),
                fqdn: site.fqdn.clone(),
                from: from_h.to_string(),
                to: to_h.to_string(),
                to_ip: site
                    .appliance(to_h)
                    .and_then(|a| a.ip)
                    .map(|i| i.to_string()),
                routing,
                mode: fp.mode,
                site_url: site_url.clone(),
            };
            tl.note(
                FailoverStep::Redirect,
                format!("running {} ({})", hook.label(), routing.label()),
            );
            let hidden = site.api.as_ref().map(|a| a.client_secret_env.clone());
            if let Err(e) = run_redirect(hook, &request, hidden).await {
                tl.failed(
                    FailoverStep::Redirect,
                    format!("{} failed; no role was changed", hook.label()),
                    &e,
                );
                redirect.error = Some(e.report());
                follow_up.push(format!(
                    "traffic was not redirected and no role was changed: fix {} (or move {} to \
                     {to_h} by hand) and run the failover again",
                    hook.label(),
                    site.fqdn
                ));
                return Ok(tl.stopped(
                    site,
                    fp.mode,
                    FailoverOutcome::RedirectFailed,
                    redirect,
                    follow_up,
                    e,
                ));
            }
            redirect.ran = true;
            tl.note(
                FailoverStep::Redirect,
                format!("{} succeeded", hook.label()),
            );
            match verify_redirect(&site_c, to_c, to_h, opts, &mut tl).await {
                Ok(answered) => {
                    redirect.verified = true;
                    redirect.answered_by = Some(answered);
                }
                Err((e, answered)) => {
                    tl.failed(
                        FailoverStep::VerifyRedirect,
                        "the site URL does not reach the target; no role was changed".into(),
                        &e,
                    );
                    redirect.answered_by = answered;
                    redirect.error = Some(e.report());
                    follow_up.push(format!(
                        "{site_url} does not reach {to_h} although {} succeeded: check what it \
                         changed (record, TTL, NAT rule) and run the failover again",
                        hook.label()
                    ));
                    return Ok(tl.stopped(
                        site,
                        fp.mode,
                        FailoverOutcome::RedirectMismatch,
                        redirect,
                        follow_up,
                        e,
                    ));
                }
            }
        }
        (RedirectMethod::Automatic, _) => tl.note(
            FailoverStep::Redirect,
            format!("shared IP: {to_h} takes the address over once it is primary"),
        ),
        _ => tl.note(
            FailoverStep::Redirect,
            format!(
                "{}: no redirect hook, a person points {} at {to_h}; checked when confirming",
                routing.label(),
                site.fqdn
            ),
        ),
    }

    // 2. Role change, then settle.
    let answer = to_c
        .set_failover_role(FailoverRole::Primary, planned, false)
        .await?;
    tl.note(
        FailoverStep::RoleChange,
        format!("{to_h}: {}", answer.message),
    );

    let mut demoted = false;
    let mut to_health: Option<Health> = None;
    let outcome = loop {
        let (fr, tr) = tokio::join!(from_c.check_health(), to_c.check_health());
        if let Ok(h) = &tr {
            to_health = Some(h.clone());
        }
        let (fr, tr) = (
            fr.ok().map(|h| h.failover_role),
            tr.ok().map(|h| h.failover_role),
        );
        let both_primary = fr == Some(FailoverRole::Primary) && tr == Some(FailoverRole::Primary);
        let note = match (fr, tr) {
            (Some(FailoverRole::Backup), Some(FailoverRole::Backup)) => {
                "both backup (swap in progress)"
            }
            _ if both_primary => "both primary",
            (_, Some(FailoverRole::Primary)) => "target is primary",
            _ => "waiting",
        };
        if tl.events.last().is_none_or(|e| {
            e.step != Some(FailoverStep::Settle) || e.from_role != fr || e.to_role != tr
        }) {
            tl.push(FailoverStep::Settle, note.into(), fr, tr, None);
        }
        match (fr, tr) {
            (Some(FailoverRole::Backup) | None, Some(FailoverRole::Primary))
                if !planned || fr.is_some() =>
            {
                break FailoverOutcome::Settled;
            }
            _ if both_primary && !planned && opts.demote_old_primary => {
                // Asked for by the caller: demote the old primary that still claims the role.
                match from_c
                    .set_failover_role(FailoverRole::Backup, false, true)
                    .await
                {
                    Ok(r) => {
                        demoted = true;
                        tl.note(
                            FailoverStep::Demote,
                            format!(
                                "{from_h}: demoted with force (demote_old_primary): {}",
                                r.message
                            ),
                        );
                    }
                    Err(e) if network_level(&e) => {}
                    Err(_) => break FailoverOutcome::SplitBrain,
                }
            }
            _ => {}
        }
        if tl.started.elapsed() >= opts.settle_timeout {
            break if both_primary {
                FailoverOutcome::SplitBrain
            } else {
                FailoverOutcome::TimedOut
            };
        }
        tokio::time::sleep(opts.poll_interval).await;
    };
    let (last_from, last_to) = tl
        .events
        .iter()
        .rev()
        .find(|e| e.step == Some(FailoverStep::Settle))
        .map(|e| (e.from_role, e.to_role))
        .unwrap_or((None, None));
    tl.push(
        FailoverStep::Settle,
        format!("outcome: {outcome:?}"),
        last_from,
        last_to,
        None,
    );

    // 3. Confirm clients, once the target is primary.
    let confirmation = if outcome == FailoverOutcome::Settled {
        let c = confirm_clients(to_c, &site_c, to_health.as_ref(), opts).await;
        record_confirmation(&mut tl, &c, to_h);
        if redirect.method != RedirectMethod::Command && redirect.method != RedirectMethod::Callback
        {
            redirect.verified = c.site_reaches_target;
            redirect.answered_by = c.site_answered_by.clone();
        }
        Some(c)
    } else {
        None
    };

    if outcome == FailoverOutcome::SplitBrain && !demoted {
        follow_up.push(format!(
            "{from_h} still claims primary: demote it by hand (set_failover_role(backup, force=1)) before traffic reaches it; bt-dr did not, as demote_old_primary was not set"
        ));
    }
    if fp.from.reachability == Reachability::Unknown {
        follow_up.push(format!(
            "the state of {from_h} could not be checked ({}): confirm it is backup or off",
            fp.from.error_text()
        ));
    }
    // A manual swing stays on the list until the site URL was seen reaching the target.
    if !redirect.verified {
        for s in fp.steps.iter().filter(|s| !s.automated) {
            follow_up.push(s.action.clone());
        }
    }
    if let Some(c) = &confirmation {
        if c.connected_clients.unwrap_or(0) == 0 {
            follow_up.push(format!(
                "no client was seen connected to {to_h} within {} s{}: check from a \
                 representative or access console that clients reconnect",
                opts.confirm_timeout.as_secs(),
                c.clients_error
                    .as_ref()
                    .map(|e| format!(" ({})", e.message))
                    .unwrap_or_default()
            ));
        }
        if !c.site_reaches_target || !c.site_healthy {
            follow_up.push(format!(
                "{site_url} was not seen healthy and answering as {to_h} ({}): check the name \
                 clients use resolves and routes to {to_h}",
                match (&c.site_answered_by, &c.site_error) {
                    (Some(h), _) if !c.site_reaches_target => format!("it answers as {h}"),
                    (_, Some(e)) => e.message.clone(),
                    _ => format!(
                        "probe status {}",
                        c.site_status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "none".into())
                    ),
                }
            ));
        }
    }
    if !planned {
        follow_up.push(format!("when {from_h} returns, make sure it is backup (set_failover_role(backup, force=1)) before traffic can reach it, then sync"));
    }
    Ok(FailoverTimeline {
        site: site.name.clone(),
        mode: fp.mode,
        events: tl.events,
        outcome,
        follow_up,
        redirect: Some(redirect),
        confirmation,
        error: None,
    })
}

/// The timeline being written, with its clock.
struct Recorder {
    started: Instant,
    events: Vec<TimelineEvent>,
}

impl Recorder {
    fn push(
        &mut self,
        step: FailoverStep,
        event: String,
        from_role: Option<FailoverRole>,
        to_role: Option<FailoverRole>,
        error: Option<ErrorReport>,
    ) {
        self.events.push(TimelineEvent {
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            event,
            from_role,
            to_role,
            step: Some(step),
            error,
        });
    }

    fn note(&mut self, step: FailoverStep, event: String) {
        self.push(step, event, None, None, None);
    }

    fn failed(&mut self, step: FailoverStep, event: String, e: &Error) {
        self.push(step, format!("{event}: {e}"), None, None, Some(e.report()));
    }

    /// The timeline of an execution that ended before the role change.
    fn stopped(
        self,
        site: &Site,
        mode: FailoverMode,
        outcome: FailoverOutcome,
        redirect: RedirectReport,
        follow_up: Vec<String>,
        e: Error,
    ) -> FailoverTimeline {
        FailoverTimeline {
            site: site.name.clone(),
            mode,
            events: self.events,
            outcome,
            follow_up,
            redirect: Some(redirect),
            confirmation: None,
            error: Some(e.report()),
        }
    }
}

/// The same appliance: by GUID when both answers carry one, else by hostname.
fn same_appliance(a: &Health, b: &Health) -> bool {
    if !a.appliance_id.is_empty() && !b.appliance_id.is_empty() {
        return a.appliance_id.eq_ignore_ascii_case(&b.appliance_id);
    }
    a.hostname.eq_ignore_ascii_case(&b.hostname)
}

/// Whether the host of `url` resolves (an IP literal always does). DNS lag shows as the old
/// address, never as no address, so a name that does not resolve is not worth waiting for.
async fn resolves(url: &str, within: Duration) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let host = match u.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(_) => return true,
        None => return false,
    };
    let port = u.port_or_known_default().unwrap_or(443);
    match tokio::time::timeout(within, tokio::net::lookup_host((host.as_str(), port))).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some(),
        _ => false,
    }
}

fn not_resolving(url: &str) -> Error {
    Error::Network {
        reason: format!("the host of {url} does not resolve from here"),
    }
}

/// After a redirect hook: waits until the site URL answers as the target. Returns the
/// hostname it answered as, or the error and the last other appliance it answered as.
async fn verify_redirect(
    site_c: &Client,
    to_c: &Client,
    to_h: &str,
    opts: &FailoverOptions,
    tl: &mut Recorder,
) -> std::result::Result<String, (Error, Option<String>)> {
    let deadline = Instant::now() + opts.redirect_verify_timeout;
    let target = to_c.check_health().await.map_err(|e| (e, None))?;
    if !resolves(
        site_c.base_url(),
        opts.redirect_verify_timeout.min(Duration::from_secs(10)),
    )
    .await
    {
        return Err((not_resolving(site_c.base_url()), None));
    }
    let mut last_other: Option<String> = None;
    // Set on every pass of the loop below before it is read.
    let mut last_error: Option<Error>;
    loop {
        match site_c.check_health().await {
            Ok(h) if same_appliance(&h, &target) => {
                tl.note(
                    FailoverStep::VerifyRedirect,
                    format!("{} answers as {to_h}", site_c.base_url()),
                );
                return Ok(h.hostname);
            }
            Ok(h) => {
                if last_other.as_deref() != Some(h.hostname.as_str()) {
                    tl.note(
                        FailoverStep::VerifyRedirect,
                        format!(
                            "{} still answers as {}; waiting",
                            site_c.base_url(),
                            h.hostname
                        ),
                    );
                }
                last_other = Some(h.hostname);
                last_error = None;
            }
            Err(e) => last_error = Some(e),
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(opts.poll_interval).await;
    }
    let waited = opts.redirect_verify_timeout.as_secs();
    let e = match (&last_other, last_error) {
        (_, Some(e)) => refused(format!(
            "{} did not answer as {to_h} within {waited} s after the redirect (last: {e}); the \
             role change was not attempted",
            site_c.base_url()
        )),
        (Some(other), None) => refused(format!(
            "{} still answers as {other}, not {to_h}, {waited} s after the redirect; the role \
             change was not attempted",
            site_c.base_url()
        )),
        (None, None) => refused(format!(
            "{} did not answer within {waited} s after the redirect; the role change was not \
             attempted",
            site_c.base_url()
        )),
    };
    Err((e, last_other))
}

/// Waits (up to the confirm timeout) for clients on the new primary and a healthy site URL
/// that answers as it. Failures that waiting cannot fix (no such name, no permission) end the
/// wait for that check early.
async fn confirm_clients(
    to_c: &Client,
    site_c: &Client,
    target: Option<&Health>,
    opts: &FailoverOptions,
) -> ClientConfirmation {
    let started = Instant::now();
    let deadline = started + opts.confirm_timeout;
    let site_url = site_c.base_url().to_string();
    let mut c = ClientConfirmation {
        site_url: site_url.clone(),
        connected_clients: None,
        site_status: None,
        site_healthy: false,
        site_answered_by: None,
        site_reaches_target: false,
        confirmed: false,
        clients_error: None,
        site_error: None,
        waited_ms: 0,
    };
    let mut clients_done = false;
    let mut site_done = false;
    if !resolves(&site_url, opts.confirm_timeout.min(Duration::from_secs(10))).await {
        c.site_error = Some(not_resolving(&site_url).report());
        site_done = true;
    }
    loop {
        let clients = async {
            if clients_done {
                None
            } else {
                Some(to_c.get_connected_clients().await)
            }
        };
        let site = async {
            if site_done {
                None
            } else {
                Some(tokio::join!(site_c.probe_health(), site_c.check_health()))
            }
        };
        let (clients, site) = tokio::join!(clients, site);
        match clients {
            Some(Ok(list)) => {
                c.connected_clients = Some(list.len());
                c.clients_error = None;
                clients_done = !list.is_empty();
            }
            Some(Err(e)) => {
                clients_done = !network_level(&e);
                c.clients_error = Some(e.report());
            }
            None => {}
        }
        if let Some((probe, health)) = site {
            c.site_error = None;
            match probe {
                Ok(p) => {
                    c.site_status = Some(p.status);
                    c.site_healthy = p.healthy;
                }
                Err(e) => {
                    c.site_healthy = false;
                    site_done |= !network_level(&e);
                    c.site_error = Some(e.report());
                }
            }
            match health {
                Ok(h) => {
                    c.site_reaches_target = target.is_some_and(|t| same_appliance(&h, t));
                    c.site_answered_by = Some(h.hostname);
                }
                Err(e) => {
                    c.site_reaches_target = false;
                    site_done |= !network_level(&e);
                    c.site_error.get_or_insert(e.report());
                }
            }
            site_done |= c.site_healthy && c.site_reaches_target;
        }
        if (clients_done && site_done) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(opts.poll_interval).await;
    }
    c.confirmed = c.connected_clients.unwrap_or(0) > 0 && c.site_healthy && c.site_reaches_target;
    c.waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    c
}

fn record_confirmation(tl: &mut Recorder, c: &ClientConfirmation, to_h: &str) {
    match (c.connected_clients, &c.clients_error) {
        (Some(n), _) if n > 0 => tl.note(
            FailoverStep::Confirm,
            format!("{n} clients connected to {to_h}"),
        ),
        (_, Some(e)) => tl.push(
            FailoverStep::Confirm,
            format!(
                "connected clients on {to_h} could not be read: {}",
                e.message
            ),
            None,
            None,
            Some(e.clone()),
        ),
        _ => tl.note(
            FailoverStep::Confirm,
            format!("no client connected to {to_h} in {} ms", c.waited_ms),
        ),
    }
    let site = match (&c.site_answered_by, c.site_status) {
        (Some(h), status) => format!(
            "{}: HTTP {}, answers as {h}{}",
            c.site_url,
            status.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
            if c.site_reaches_target {
                ""
            } else {
                " (not the new primary)"
            }
        ),
        (None, Some(status)) => format!("{}: HTTP {status}, identity unknown", c.site_url),
        (None, None) => format!("{}: no answer", c.site_url),
    };
    tl.push(
        FailoverStep::Confirm,
        site,
        None,
        None,
        c.site_error.clone().filter(|_| !c.site_reaches_target),
    );
}

/// Runs the hook: the callback on a blocking thread, or the command as a child process, both
/// bounded by the hook's timeout.
async fn run_redirect(
    hook: &TrafficRedirect,
    request: &RedirectRequest,
    hidden_env: Option<String>,
) -> Result<()> {
    let timeout = hook.timeout();
    if let Some(cb) = &hook.callback {
        let (cb, request) = (cb.clone(), request.clone());
        let task = tokio::task::spawn_blocking(move || cb(&request));
        return match tokio::time::timeout(timeout, task).await {
            Err(_) => Err(Error::Timeout {
                operation: format!("the traffic redirect callback ({} ms)", hook.timeout_ms),
            }),
            Ok(Err(join)) if join.is_panic() => Err(Error::from_panic(&*join.into_panic())),
            Ok(Err(_)) => Err(Error::Internal {
                reason: "the traffic redirect callback was cancelled".into(),
            }),
            Ok(Ok(r)) => r,
        };
    }
    let argv = hook.command.clone();
    let env = request.env();
    tokio::task::spawn_blocking(move || run_command(&argv, &env, hidden_env.as_deref(), timeout))
        .await
        .unwrap_or_else(|join| {
            Err(Error::Internal {
                reason: format!("the traffic redirect command runner stopped: {join}"),
            })
        })
}

/// Most of the command's standard error kept for the error message.
const STDERR_CAP: u64 = 4096;

/// Runs `argv` without a shell and waits for it, killing it past `timeout`.
fn run_command(
    argv: &[String],
    env: &[(&'static str, String)],
    hidden_env: Option<&str>,
    timeout: Duration,
) -> Result<()> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::invalid_input("redirect.command", "is empty"));
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(var) = hidden_env {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io("starting the traffic redirect command", program, e))?;
    // Read standard error on its own thread, bounded, and drain the rest so the command never
    // blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let _ = (&mut stderr).take(STDERR_CAP).read_to_end(&mut kept);
            let _ = tx.send(kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    operation: format!(
                        "the traffic redirect command `{program}` ({} ms; it was killed)",
                        timeout.as_millis()
                    ),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::io(
                    "waiting for the traffic redirect command",
                    program,
                    e,
                ));
            }
        }
    };
    if status.success() {
        return Ok(());
    }
    // A child of the command may hold the pipe open: do not wait long for its end.
    let said = rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    let said = crate::api::transport::redact(String::from_utf8_lossy(&said).trim());
    let said: String = said.chars().take(400).collect();
    Err(Error::io(
        "running the traffic redirect command",
        program,
        std::io::Error::other(if said.is_empty() {
            format!("it ended with {status}")
        } else {
            format!("it ended with {status}: {said}")
        }),
    ))
}

fn role_text(r: Option<FailoverRole>) -> &'static str {
    r.map(FailoverRole::as_str).unwrap_or("role unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_plan_json_still_reads() {
        let old = r#"{"hostname":"a","reachable":false,"healthy":false,"role":null,"error":"network: reset"}"#;
        let s: ApplianceState = serde_json::from_str(old).unwrap();
        assert_eq!(s.reachability, Reachability::Unknown);
        assert_eq!(s.error.unwrap().message, "network: reset");
    }

    #[test]
    fn only_network_failure_of_both_checks_is_unreachable() {
        let net = || Error::Network {
            reason: "connection refused".into(),
        };
        let tls = || Error::Tls {
            reason: "unknown issuer".into(),
        };
        let s = classify("a", Err(net()), Err(net()));
        assert_eq!(s.reachability, Reachability::Unreachable);
        let s = classify(
            "a",
            Err(Error::Timeout {
                operation: "check_health".into(),
            }),
            Err(net()),
        );
        assert_eq!(s.reachability, Reachability::Unreachable);
        assert_eq!(
            classify("a", Err(tls()), Err(tls())).reachability,
            Reachability::Unknown
        );
        assert_eq!(
            classify("a", Err(net()), Err(tls())).reachability,
            Reachability::Unknown
        );
        let probe = Probe {
            healthy: true,
            status: 200,
            message: "ok".into(),
            peer_certificate_sha256: None,
        };
        let s = classify(
            "a",
            Err(Error::Auth {
                reason: "401".into(),
            }),
            Ok(probe),
        );
        assert_eq!(s.reachability, Reachability::Unknown);
        assert!(s.healthy && !s.reachable && s.probe_status == Some(200));
    }
}
