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

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

use crate::api::{Client, Health, Probe};
use crate::error::ErrorReport;
use crate::{Error, ErrorKind, FailoverRole, Result, RoutingMethod, Site};

/// Planned (both up, final data sync) or unplanned (primary lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
/// "probe_error": ErrorReport|null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default, deserialize_with = "lenient_report")]
    pub error: Option<ErrorReport>,
    /// HTTP status of the unauthenticated `/check_health` probe, when it answered.
    #[serde(default)]
    pub probe_status: Option<u16>,
    /// Why the probe failed, when it did.
    #[serde(default, deserialize_with = "lenient_report")]
    pub probe_error: Option<ErrorReport>,
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

/// Accepts an [`ErrorReport`], a bare message string (older plans) or null.
fn lenient_report<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorReport>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Report(ErrorReport),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::Report(r)) => Some(r),
        Some(Either::Text(message)) => Some(ErrorReport {
            kind: ErrorKind::Api,
            code: ErrorKind::Api.code().to_string(),
            details: serde_json::json!({ "kind": "api", "message": message }),
            message,
        }),
    })
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    /// What happens.
    pub action: String,
    /// Done by bt-dr (true) or by a person (false).
    pub automated: bool,
}

/// A failover plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Steps in order.
    pub steps: Vec<PlanStep>,
    /// Things to know before executing.
    pub warnings: Vec<String>,
}

/// Timing and explicit overrides of planning and execution. Both overrides are off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Default for FailoverOptions {
    fn default() -> Self {
        Self {
            settle_timeout: Duration::from_secs(180),
            poll_interval: Duration::from_millis(500),
            force_unknown: false,
            demote_old_primary: false,
        }
    }
}

/// One observation during execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Milliseconds since execution started.
    pub elapsed_ms: u64,
    /// What happened.
    pub event: String,
    /// Role of the old primary (None: no usable answer).
    pub from_role: Option<FailoverRole>,
    /// Role of the new primary (None: no usable answer).
    pub to_role: Option<FailoverRole>,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverOutcome {
    /// The target is primary and the old primary backup (or gone, unplanned).
    Settled,
    /// The roles did not settle in time.
    TimedOut,
    /// Both claim primary (the old primary must be demoted by hand, or by bt-dr when
    /// [`FailoverOptions::demote_old_primary`] is set).
    SplitBrain,
}

/// What execution did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
            }
        }
    }
}

async fn observe(hostname: &str, c: &Client) -> ApplianceState {
    let (api, probe) = tokio::join!(c.check_health(), c.probe_health());
    classify(hostname, api, probe)
}

/// A plan and which of the two given appliances is `from` / `to` (0 = first, 1 = second).
struct Planned {
    plan: FailoverPlan,
    from: usize,
    to: usize,
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
            });
        }
    }
    steps.push(PlanStep {
        action: format!(
            "poll both appliances until {} is primary (a brief both-backup state is normal)",
            to.hostname
        ),
        automated: true,
    });
    match pair.routing {
        RoutingMethod::SharedIp => steps.push(PlanStep {
            action: "shared IP moves with the primary role".into(),
            automated: true,
        }),
        RoutingMethod::DnsSwing => steps.push(PlanStep {
            action: format!("point the DNS A record of {} at {}", site.fqdn, to.hostname),
            automated: false,
        }),
        RoutingMethod::NatSwing => steps.push(PlanStep {
            action: format!(
                "point the NAT rule of {}'s public IP at {}",
                site.fqdn, to.hostname
            ),
            automated: false,
        }),
    }
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
        },
        from: fi,
        to: ti,
    })
}

/// Executes a failover in the direction `plan` names.
///
/// Both appliances are observed again and a fresh plan is made with `opts` (so
/// [`FailoverOptions::force_unknown`] must be given again here). The caller's plan is only the
/// intent: if it names another site, another appliance to promote or another old primary than
/// the fresh plan, execution is refused and nothing is changed. Only the fresh plan's
/// appliances and clients are used. Then the role is changed once (never retried blindly) and
/// both appliances are polled until they agree. Nothing is demoted unless
/// [`FailoverOptions::demote_old_primary`] is set.
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
    let started = Instant::now();
    let mut events = Vec::new();
    let ms = |s: Instant| s.elapsed().as_millis() as u64;
    let planned = fp.mode == FailoverMode::Planned;
    let answer = to_c
        .set_failover_role(FailoverRole::Primary, planned, false)
        .await?;
    events.push(TimelineEvent {
        elapsed_ms: ms(started),
        event: format!("{to_h}: {}", answer.message),
        from_role: None,
        to_role: None,
    });

    let mut follow_up = Vec::new();
    let mut demoted = false;
    let outcome = loop {
        let (fr, tr) = tokio::join!(from_c.check_health(), to_c.check_health());
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
        if events
            .last()
            .is_none_or(|e| e.from_role != fr || e.to_role != tr)
        {
            events.push(TimelineEvent {
                elapsed_ms: ms(started),
                event: note.into(),
                from_role: fr,
                to_role: tr,
            });
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
                        events.push(TimelineEvent {
                            elapsed_ms: ms(started),
                            event: format!(
                                "{from_h}: demoted with force (demote_old_primary): {}",
                                r.message
                            ),
                            from_role: None,
                            to_role: None,
                        })
                    }
                    Err(e) if network_level(&e) => {}
                    Err(_) => break FailoverOutcome::SplitBrain,
                }
            }
            _ => {}
        }
        if started.elapsed() >= opts.settle_timeout {
            break if both_primary {
                FailoverOutcome::SplitBrain
            } else {
                FailoverOutcome::TimedOut
            };
        }
        tokio::time::sleep(opts.poll_interval).await;
    };
    events.push(TimelineEvent {
        elapsed_ms: ms(started),
        event: format!("outcome: {outcome:?}"),
        from_role: events.last().and_then(|e| e.from_role),
        to_role: events.last().and_then(|e| e.to_role),
    });
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
    for s in fp.steps.iter().filter(|s| !s.automated) {
        follow_up.push(s.action.clone());
    }
    if !planned {
        follow_up.push(format!("when {from_h} returns, make sure it is backup (set_failover_role(backup, force=1)) before traffic can reach it, then sync"));
    }
    Ok(FailoverTimeline {
        site: site.name.clone(),
        mode: fp.mode,
        events,
        outcome,
        follow_up,
    })
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
