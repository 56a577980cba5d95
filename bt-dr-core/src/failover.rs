//! Failover drill and orchestration: a plan first (no side effects), then one role change and
//! polling until both appliances agree — with refusals where a wrong move would hurt.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::api::{Client, Health};
use crate::{Error, ErrorKind, FailoverRole, Result, RoutingMethod, Site};

/// Planned (both up, final data sync) or unplanned (primary lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverMode {
    /// Swap roles with a final data sync; the current primary must be reachable.
    Planned,
    /// Promote the backup without sync; refused while the primary is healthy.
    Unplanned,
}

/// What one appliance looked like when planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplianceState {
    /// Hostname.
    pub hostname: String,
    /// Reachable through the API.
    pub reachable: bool,
    /// Healthy (`success` = 1).
    pub healthy: bool,
    /// Role.
    pub role: Option<FailoverRole>,
    /// Error when unreachable.
    pub error: Option<String>,
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

/// Timing of execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverOptions {
    /// Give up waiting for the roles to settle after this long.
    pub settle_timeout: Duration,
    /// Poll interval.
    pub poll_interval: Duration,
}

impl Default for FailoverOptions {
    fn default() -> Self {
        Self {
            settle_timeout: Duration::from_secs(180),
            poll_interval: Duration::from_millis(500),
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
    /// Role of the old primary (None: unreachable).
    pub from_role: Option<FailoverRole>,
    /// Role of the new primary (None: unreachable).
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
    /// Both claim primary (the old primary must be demoted by hand or with force).
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

async fn observe(hostname: &str, c: &Client) -> (ApplianceState, Option<Health>) {
    match c.check_health().await {
        Ok(h) => (
            ApplianceState {
                hostname: hostname.into(),
                reachable: true,
                healthy: h.success,
                role: Some(h.failover_role),
                error: None,
            },
            Some(h),
        ),
        Err(e) => (
            ApplianceState {
                hostname: hostname.into(),
                reachable: false,
                healthy: false,
                role: None,
                error: Some(e.to_string()),
            },
            None,
        ),
    }
}

/// Looks at both appliances and plans `mode`, refusing what is unsafe. No side effects.
///
/// `first`/`second` are the two appliances of the pair with their clients, in any order: the
/// plan picks the current primary from their live roles.
pub async fn plan_failover(
    site: &Site,
    first: (&str, &Client),
    second: (&str, &Client),
    mode: FailoverMode,
) -> Result<FailoverPlan> {
    let pair = site.failover.as_ref().ok_or_else(|| {
        Error::invalid_input(
            "site.failover",
            format!("site `{}` has no failover pair", site.name),
        )
    })?;
    let ((a, _), (b, _)) = tokio::join!(observe(first.0, first.1), observe(second.0, second.1));
    // The current primary is whoever says so; if nobody answers as primary, the inventory decides.
    let (from, to) = match (a.role, b.role) {
        (Some(FailoverRole::Primary), Some(FailoverRole::Primary)) => {
            return Err(Error::Refused {
                reason: format!(
                    "split brain: both {} and {} are primary; demote one first",
                    a.hostname, b.hostname
                ),
            });
        }
        (Some(FailoverRole::Primary), _) => (a, b),
        (_, Some(FailoverRole::Primary)) => (b, a),
        _ if a.hostname.eq_ignore_ascii_case(&pair.primary) => (a, b),
        _ => (b, a),
    };
    if !to.reachable {
        return Err(Error::Refused {
            reason: format!(
                "the appliance to promote, {}, cannot be reached: {}",
                to.hostname,
                to.error.as_deref().unwrap_or("")
            ),
        });
    }
    if to.role == Some(FailoverRole::None) {
        return Err(Error::Refused {
            reason: format!("{} is not in a failover relationship", to.hostname),
        });
    }
    let mut warnings = Vec::new();
    let mut steps = Vec::new();
    let connected_clients;
    match mode {
        FailoverMode::Unplanned => {
            if from.reachable && from.healthy && from.role == Some(FailoverRole::Primary) {
                return Err(Error::Refused {
                    reason: format!(
                        "the primary {} is reachable and healthy; use a planned failover (with data sync) instead",
                        from.hostname
                    ),
                });
            }
            connected_clients = None;
            if from.reachable {
                warnings.push(format!("{} still answers (unhealthy); it will be asked to become backup after the promotion", from.hostname));
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
            if !from.reachable {
                return Err(Error::Refused {
                    reason: format!(
                        "a planned failover syncs data from the primary first, but {} cannot be reached; use an unplanned failover",
                        from.hostname
                    ),
                });
            }
            let client = if from.hostname == first.0 {
                first.1
            } else {
                second.1
            };
            connected_clients = client.get_connected_clients().await.ok().map(|c| c.len());
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
    Ok(FailoverPlan {
        site: site.name.clone(),
        mode,
        from,
        to,
        connected_clients,
        steps,
        warnings,
    })
}

/// Executes `plan`: re-checks it, changes the role once (never retried blindly), then polls.
pub async fn execute_failover(
    site: &Site,
    first: (&str, &Client),
    second: (&str, &Client),
    plan: &FailoverPlan,
    opts: &FailoverOptions,
) -> Result<FailoverTimeline> {
    // The world may have moved since planning: plan again and insist on the same direction.
    let fresh = plan_failover(site, first, second, plan.mode).await?;
    if fresh.to.hostname != plan.to.hostname {
        return Err(Error::Refused {
            reason: format!(
                "the roles changed since planning: {} is now the target",
                fresh.to.hostname
            ),
        });
    }
    let client = |h: &str| if h == first.0 { first.1 } else { second.1 };
    let (to_c, from_c) = (client(&plan.to.hostname), client(&plan.from.hostname));
    let started = Instant::now();
    let mut events = Vec::new();
    let ms = |s: Instant| s.elapsed().as_millis() as u64;
    let planned = plan.mode == FailoverMode::Planned;
    let answer = to_c
        .set_failover_role(FailoverRole::Primary, planned, false)
        .await?;
    events.push(TimelineEvent {
        elapsed_ms: ms(started),
        event: format!("{}: {}", plan.to.hostname, answer.message),
        from_role: None,
        to_role: None,
    });

    let mut follow_up = Vec::new();
    let outcome = loop {
        let (fr, tr) = tokio::join!(from_c.check_health(), to_c.check_health());
        let (fr, tr) = (
            fr.ok().map(|h| h.failover_role),
            tr.ok().map(|h| h.failover_role),
        );
        let note = match (fr, tr) {
            (Some(FailoverRole::Backup), Some(FailoverRole::Backup)) => {
                "both backup (swap in progress)"
            }
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
            (Some(FailoverRole::Primary), Some(FailoverRole::Primary)) if !planned => {
                // Unplanned promotion while the old primary still answers: demote it with force.
                match from_c
                    .set_failover_role(FailoverRole::Backup, false, true)
                    .await
                {
                    Ok(r) => events.push(TimelineEvent {
                        elapsed_ms: ms(started),
                        event: format!("{}: demoted with force: {}", plan.from.hostname, r.message),
                        from_role: None,
                        to_role: None,
                    }),
                    Err(e) if e.kind() == ErrorKind::Network => {}
                    Err(_) => break FailoverOutcome::SplitBrain,
                }
            }
            _ => {}
        }
        if started.elapsed() >= opts.settle_timeout {
            break FailoverOutcome::TimedOut;
        }
        tokio::time::sleep(opts.poll_interval).await;
    };
    events.push(TimelineEvent {
        elapsed_ms: ms(started),
        event: format!("outcome: {outcome:?}"),
        from_role: events.last().and_then(|e| e.from_role),
        to_role: events.last().and_then(|e| e.to_role),
    });
    for s in plan.steps.iter().filter(|s| !s.automated) {
        follow_up.push(s.action.clone());
    }
    if !planned {
        follow_up.push(format!("when {} returns, make sure it is backup (set_failover_role(backup, force=1)) before traffic can reach it, then sync", plan.from.hostname));
    }
    Ok(FailoverTimeline {
        site: site.name.clone(),
        mode: plan.mode,
        events,
        outcome,
        follow_up,
    })
}
