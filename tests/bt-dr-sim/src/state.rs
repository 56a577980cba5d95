//! Shared state of a simulated site: accounts and tokens, rate limiters, failover roles, faults.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

use crate::{Account, ClusterRole, Endpoint, FailoverRole, Fault, SimConfig};

/// Locks a mutex, recovering the data if a previous holder panicked (handlers must not panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Tokens an account may hold at once; one more evicts the oldest.
pub(crate) const MAX_TOKENS_PER_ACCOUNT: usize = 30;

#[derive(Debug)]
pub(crate) struct FaultSlot {
    pub endpoint: Endpoint,
    pub fault: Fault,
    pub remaining: Option<u32>,
}

/// The faults that fire for one request, merged.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    pub delay: Duration,
    pub reset: bool,
    pub expire_tokens: bool,
    pub slow: Option<u64>,
    pub truncate: Option<u64>,
    pub replace: Option<Fault>,
    pub wrong_content_type: bool,
    /// `Content-Disposition` file name to send instead of the handler's.
    pub filename: Option<String>,
    /// Response headers to set (replacing), in arming order.
    pub headers: Vec<(String, String)>,
}

impl FaultPlan {
    fn add(&mut self, fault: &Fault) {
        match fault {
            Fault::Delay(d) => self.delay += *d,
            Fault::SlowBody { bytes_per_sec } => self.slow = Some((*bytes_per_sec).max(1)),
            Fault::TruncateAt(n) => self.truncate = Some(self.truncate.map_or(*n, |t| t.min(*n))),
            Fault::ResetConnection => self.reset = true,
            Fault::ExpireTokens => self.expire_tokens = true,
            Fault::WrongContentType => self.wrong_content_type = true,
            Fault::TraversalFilename => self.filename = Some("../../etc/evil.nsb".to_string()),
            Fault::Filename(name) => self.filename = Some(name.clone()),
            Fault::Header { name, value } => self.headers.push((name.clone(), value.clone())),
            Fault::ServerError(_)
            | Fault::RateLimited { .. }
            | Fault::HtmlPage
            | Fault::XmlError(_)
            | Fault::MalformedXml
            | Fault::Answer { .. }
            | Fault::RejectTokens { .. }
            | Fault::EchoHeaders { .. } => {
                if self.replace.is_none() {
                    self.replace = Some(fault.clone());
                }
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct ApplianceState {
    pub id: String,
    pub hostname: String,
    pub port: u16,
    pub down: AtomicBool,
    pub health: Mutex<(bool, Option<String>)>,
    pub faults: Mutex<Vec<FaultSlot>>,
    pub counts: [AtomicU64; 6],
    /// Atlas role, fixed at start.
    pub cluster_role: ClusterRole,
    /// Listed by `get_appliances` (a node removed from the cluster is not).
    pub cluster_member: AtomicBool,
    /// `accepting_connections` in `get_appliances`.
    pub accepting: AtomicBool,
    /// Connected-client counts still to serve, one per client listing; the last one stays.
    /// Empty: the fixed default handful.
    pub client_counts: Mutex<VecDeque<u32>>,
    /// Release this appliance reports instead of the site's (a node that has not synced).
    pub version: Mutex<Option<String>>,
}

impl ApplianceState {
    pub fn new(hostname: String, port: u16) -> Self {
        let mut raw = [0u8; 16];
        rand::rng().fill(&mut raw);
        ApplianceState {
            id: hex::encode(raw),
            hostname,
            port,
            down: AtomicBool::new(false),
            health: Mutex::new((true, None)),
            faults: Mutex::new(Vec::new()),
            counts: Default::default(),
            cluster_role: ClusterRole::Single,
            cluster_member: AtomicBool::new(true),
            accepting: AtomicBool::new(true),
            client_counts: Mutex::new(VecDeque::new()),
            version: Mutex::new(None),
        }
    }

    /// The same appliance in another Atlas role (set before it is shared).
    pub fn with_cluster_role(mut self, role: ClusterRole) -> Self {
        self.cluster_role = role;
        self
    }

    /// The next connected-client count of its schedule, if it has one.
    pub fn next_client_count(&self) -> Option<u32> {
        let mut counts = lock(&self.client_counts);
        if counts.len() > 1 {
            counts.pop_front()
        } else {
            counts.front().copied()
        }
    }

    pub fn count(&self, endpoint: Endpoint) {
        if endpoint != Endpoint::Any {
            self.counts[endpoint.index()].fetch_add(1, Ordering::SeqCst);
        }
        self.counts[Endpoint::Any.index()].fetch_add(1, Ordering::SeqCst);
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Consumes one use of every armed fault matching `endpoint` and merges them.
    pub fn take_faults(&self, endpoint: Endpoint) -> FaultPlan {
        let mut plan = FaultPlan::default();
        let mut faults = lock(&self.faults);
        faults.retain_mut(|slot| {
            if slot.endpoint != Endpoint::Any && slot.endpoint != endpoint {
                return true;
            }
            plan.add(&slot.fault);
            match &mut slot.remaining {
                None => true,
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n > 0
                }
            }
        });
        plan
    }
}

#[derive(Debug)]
struct IssuedToken {
    value: String,
    expires: Instant,
}

#[derive(Debug)]
struct AccountState {
    account: Account,
    tokens: VecDeque<IssuedToken>,
    issued: u64,
    bucket: f64,
    bucket_at: Instant,
    hour: VecDeque<Instant>,
}

/// Result of charging one request to an account's rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateOutcome {
    Allowed { remaining: u64 },
    Limited,
}

#[derive(Debug)]
pub(crate) struct AuthState {
    accounts: Vec<AccountState>,
}

impl AuthState {
    fn new(accounts: &[Account]) -> Self {
        let now = Instant::now();
        AuthState {
            accounts: accounts
                .iter()
                .map(|a| AccountState {
                    account: a.clone(),
                    tokens: VecDeque::new(),
                    issued: 0,
                    bucket: f64::INFINITY,
                    bucket_at: now,
                    hour: VecDeque::new(),
                })
                .collect(),
        }
    }

    /// Checks client credentials; returns the account index.
    pub fn authenticate(&self, client_id: &str, secret: &str) -> Option<usize> {
        self.accounts.iter().position(|a| {
            a.account.client_id == client_id && constant_time_eq(&a.account.client_secret, secret)
        })
    }

    /// Issues a new token, evicting the oldest beyond the per-account cap.
    pub fn issue(&mut self, idx: usize, lifetime: Duration) -> String {
        let value: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        let now = Instant::now();
        let Some(acct) = self.accounts.get_mut(idx) else {
            return value;
        };
        acct.tokens.retain(|t| t.expires > now);
        while acct.tokens.len() >= MAX_TOKENS_PER_ACCOUNT {
            acct.tokens.pop_front();
        }
        acct.tokens.push_back(IssuedToken {
            value: value.clone(),
            expires: now + lifetime,
        });
        acct.issued += 1;
        value
    }

    /// Finds the live token; returns the account index.
    pub fn validate(&mut self, token: &str) -> Option<usize> {
        let now = Instant::now();
        for (idx, acct) in self.accounts.iter_mut().enumerate() {
            if let Some(pos) = acct.tokens.iter().position(|t| t.value == token) {
                if acct.tokens[pos].expires > now {
                    return Some(idx);
                }
                acct.tokens.remove(pos);
                return None;
            }
        }
        None
    }

    pub fn account(&self, idx: usize) -> Option<&Account> {
        self.accounts.get(idx).map(|a| &a.account)
    }

    pub fn revoke_all(&mut self) {
        for acct in &mut self.accounts {
            acct.tokens.clear();
        }
    }

    pub fn issued(&self, client_id: &str) -> u64 {
        self.accounts
            .iter()
            .filter(|a| a.account.client_id == client_id)
            .map(|a| a.issued)
            .sum()
    }

    /// Every token still held for the account (issued, not evicted or revoked), expired ones included.
    pub fn tokens(&self, client_id: &str) -> Vec<String> {
        self.accounts
            .iter()
            .filter(|a| a.account.client_id == client_id)
            .flat_map(|a| a.tokens.iter().map(|t| t.value.clone()))
            .collect()
    }

    pub fn regenerate(&mut self, client_id: &str, new_secret: &str) {
        for acct in self
            .accounts
            .iter_mut()
            .filter(|a| a.account.client_id == client_id)
        {
            acct.account.client_secret = new_secret.to_string();
            acct.tokens.clear();
        }
    }

    /// Charges one request: token bucket (burst = per-second rate) plus a rolling hour window.
    pub fn charge(&mut self, idx: usize, per_sec: u32, per_hour: u32) -> RateOutcome {
        let now = Instant::now();
        let Some(acct) = self.accounts.get_mut(idx) else {
            return RateOutcome::Limited;
        };
        let hour_ago = now.checked_sub(Duration::from_secs(3600));
        while let (Some(front), Some(limit)) = (acct.hour.front(), hour_ago) {
            if *front <= limit {
                acct.hour.pop_front();
            } else {
                break;
            }
        }
        let rate = f64::from(per_sec);
        if per_sec > 0 {
            let elapsed = now.saturating_duration_since(acct.bucket_at).as_secs_f64();
            acct.bucket = (acct.bucket + elapsed * rate).min(rate);
            acct.bucket_at = now;
            if acct.bucket < 1.0 {
                return RateOutcome::Limited;
            }
        }
        if per_hour > 0 && acct.hour.len() >= per_hour as usize {
            return RateOutcome::Limited;
        }
        if per_sec > 0 {
            acct.bucket -= 1.0;
        }
        acct.hour.push_back(now);
        let remaining = if per_hour > 0 {
            u64::from(per_hour).saturating_sub(acct.hour.len() as u64)
        } else {
            u64::MAX
        };
        RateOutcome::Allowed { remaining }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Roles and last-sync data of the site's appliances, changed together under one lock.
#[derive(Debug)]
pub(crate) struct FailoverState {
    pub roles: Vec<FailoverRole>,
    /// (unix milliseconds, status) per appliance.
    pub last_sync: Vec<(i64, String)>,
    /// Bumped whenever a pending data-sync completion must be discarded.
    pub sync_gen: u64,
    pub syncing: bool,
}

/// A synthetic session. What it holds follows from its number, so every run of the simulator
/// serves the same mix: most sessions have a screen recording, some a command shell recording
/// or a Show My Screen recording, and on RS some are presentations (listed only by the
/// presentation reports).
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub lsid: String,
    pub start: i64,
    pub end: i64,
    pub number: u32,
}

impl SessionInfo {
    /// Every fifth session was not recorded.
    pub fn has_recording(&self) -> bool {
        !self.number.is_multiple_of(5)
    }
    /// Sessions 1, 5, 9, … opened a command shell.
    pub fn has_shell(&self) -> bool {
        self.number % 4 == 1
    }
    /// Every third session (RS) used Show My Screen.
    pub fn has_show_my_screen(&self, product: crate::Product) -> bool {
        product == crate::Product::Rs && self.number.is_multiple_of(3)
    }
    /// Every sixth session (RS) is a presentation.
    pub fn is_presentation(&self, product: crate::Product) -> bool {
        product == crate::Product::Rs && self.number.is_multiple_of(6)
    }
}

#[derive(Debug)]
pub(crate) struct SiteState {
    pub cfg: SimConfig,
    pub pair: bool,
    pub appliances: Vec<Arc<ApplianceState>>,
    pub auth: Mutex<AuthState>,
    pub failover: Mutex<FailoverState>,
    pub sessions: Mutex<Vec<SessionInfo>>,
    backup_counter: AtomicU32,
    backup_salt: u32,
}

pub(crate) const MSG_CHANGED: &str = "Successfully changed role.";
pub(crate) const MSG_SYNC_STARTED: &str =
    "Successfully started data sync. Role change will occur upon successful completion.";

impl SiteState {
    pub fn new(cfg: SimConfig, pair: bool, appliances: Vec<Arc<ApplianceState>>) -> Self {
        let now_ms = now_unix_ms();
        // One entry per appliance: the pair (appliances 0 and 1) and, in an Atlas cluster, the
        // traffic nodes after them, which have no failover role but report their last sync.
        let count = appliances.len().max(if pair { 2 } else { 1 });
        let failover = if pair {
            let mut roles = vec![FailoverRole::None; count];
            roles[0] = FailoverRole::Primary;
            roles[1] = FailoverRole::Backup;
            FailoverState {
                roles,
                last_sync: vec![(now_ms - 60_000, "success".to_string()); count],
                sync_gen: 0,
                syncing: false,
            }
        } else {
            let mut last_sync = vec![(0, String::new()); count];
            for (i, a) in appliances.iter().enumerate() {
                if a.cluster_role == ClusterRole::Traffic {
                    last_sync[i] = (now_ms - 60_000, "success".to_string());
                }
            }
            FailoverState {
                roles: vec![FailoverRole::None; count],
                last_sync,
                sync_gen: 0,
                syncing: false,
            }
        };
        let sessions = make_sessions(&cfg, now_unix());
        SiteState {
            auth: Mutex::new(AuthState::new(&cfg.accounts)),
            failover: Mutex::new(failover),
            sessions: Mutex::new(sessions),
            backup_counter: AtomicU32::new(0),
            backup_salt: rand::rng().random(),
            cfg,
            pair,
            appliances,
        }
    }

    /// A copy of the sessions (reports are built from a snapshot).
    pub fn sessions(&self) -> Vec<SessionInfo> {
        lock(&self.sessions).clone()
    }

    /// Adds `n` sessions that start and end now (as if they had just been held).
    pub fn add_sessions(&self, n: u32) {
        let now = now_unix();
        let mut sessions = lock(&self.sessions);
        for _ in 0..n {
            let number = sessions.len() as u32 + 1;
            sessions.push(session(&self.cfg, number, now, now));
        }
    }

    pub fn peer_of(&self, idx: usize) -> Option<&ApplianceState> {
        if self.pair && idx < 2 {
            self.appliances.get(1 - idx).map(|a| a.as_ref())
        } else {
            None
        }
    }

    /// 8 lowercase hex chars, distinct for every download of this site (a bijection of a counter).
    pub fn next_backup_id(&self) -> String {
        let n = self.backup_counter.fetch_add(1, Ordering::SeqCst);
        format!("{:08x}", n.wrapping_mul(0x9E37_79B1) ^ self.backup_salt)
    }

    pub fn role_of(&self, idx: usize) -> FailoverRole {
        lock(&self.failover)
            .roles
            .get(idx)
            .copied()
            .unwrap_or(FailoverRole::None)
    }
}

fn opposite(role: FailoverRole) -> FailoverRole {
    match role {
        FailoverRole::Primary => FailoverRole::Backup,
        FailoverRole::Backup => FailoverRole::Primary,
        FailoverRole::None => FailoverRole::None,
    }
}

/// `set_failover_role` as the appliance at `idx` executes it. `Ok` carries the `<success>` text,
/// `Err` the `<error>` text.
pub(crate) fn request_role_change(
    site: &Arc<SiteState>,
    idx: usize,
    role: FailoverRole,
    data_sync_first: bool,
    force: bool,
) -> Result<&'static str, String> {
    // Traffic nodes of an Atlas cluster (index 2 on) are in no failover relationship.
    if !site.pair || idx > 1 {
        return Err("Failover is not configured on this appliance.".to_string());
    }
    let peer_idx = 1 - idx;
    let peer_up = site.peer_of(idx).is_some_and(|p| !p.is_down());
    let mut fo = lock(&site.failover);
    if fo.syncing {
        return Err(
            "A data sync is already in progress; the role can be changed once it completes."
                .to_string(),
        );
    }
    if fo.roles[idx] == role {
        return Ok(MSG_CHANGED);
    }
    if data_sync_first {
        if !peer_up {
            return Err(
                "Unable to start data sync: the peer appliance cannot be reached.".to_string(),
            );
        }
        let previous = fo.roles.clone();
        fo.roles[0] = FailoverRole::Backup;
        fo.roles[1] = FailoverRole::Backup;
        fo.syncing = true;
        fo.sync_gen += 1;
        let generation = fo.sync_gen;
        drop(fo);
        let site = site.clone();
        tokio::spawn(async move {
            tokio::time::sleep(site.cfg.data_sync_duration).await;
            let both_up = site.appliances.iter().take(2).all(|a| !a.is_down());
            let mut fo = lock(&site.failover);
            if fo.sync_gen != generation {
                return;
            }
            fo.syncing = false;
            if both_up {
                fo.roles[idx] = role;
                fo.roles[peer_idx] = opposite(role);
                let now = now_unix_ms();
                for entry in fo.last_sync.iter_mut().take(2) {
                    *entry = (now, "success".to_string());
                }
            } else {
                fo.roles = previous;
                for entry in fo.last_sync.iter_mut().take(2) {
                    entry.1 = "failed".to_string();
                }
            }
        });
        return Ok(MSG_SYNC_STARTED);
    }
    if peer_up {
        fo.roles[idx] = role;
        fo.roles[peer_idx] = opposite(role);
        return Ok(MSG_CHANGED);
    }
    match role {
        FailoverRole::Backup if !force => Err(
            "Unable to reach the peer appliance; the role was not changed. Use force=1 to become backup anyway."
                .to_string(),
        ),
        _ => {
            // The unreachable peer keeps whatever role it had, which may leave two primaries.
            fo.roles[idx] = role;
            Ok(MSG_CHANGED)
        }
    }
}

fn make_sessions(cfg: &SimConfig, now: i64) -> Vec<SessionInfo> {
    let n = i64::from(cfg.sessions);
    let span = 86_400i64;
    (0..cfg.sessions)
        .map(|i| {
            let k = i64::from(i);
            let start = now - span + (k + 1) * span / (n + 1);
            let end = (start + 300 + (k * 397) % 1500).min(now - 1).max(start);
            session(cfg, i + 1, start, end)
        })
        .collect()
}

fn session(cfg: &SimConfig, number: u32, start: i64, end: i64) -> SessionInfo {
    let digest = Sha256::digest(format!("{}|session|{}", cfg.site_hostname, number - 1).as_bytes());
    SessionInfo {
        lsid: hex::encode(&digest[..16]),
        start,
        end,
        number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_cap_evicts_oldest() {
        let mut auth = AuthState::new(&[Account::full_access("a", "b")]);
        let first = auth.issue(0, Duration::from_secs(60));
        for _ in 0..MAX_TOKENS_PER_ACCOUNT - 1 {
            auth.issue(0, Duration::from_secs(60));
        }
        assert_eq!(auth.validate(&first), Some(0));
        auth.issue(0, Duration::from_secs(60));
        assert_eq!(auth.validate(&first), None);
        assert_eq!(auth.issued("a"), 31);
    }

    #[test]
    fn bucket_limits_burst() {
        let mut auth = AuthState::new(&[Account::full_access("a", "b")]);
        let allowed = (0..30)
            .filter(|_| matches!(auth.charge(0, 20, 15000), RateOutcome::Allowed { .. }))
            .count();
        assert!((20..=21).contains(&allowed), "{allowed}");
    }

    #[test]
    fn backup_ids_are_distinct() {
        let site = SiteState::new(SimConfig::default(), false, Vec::new());
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| site.next_backup_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|s| s.len() == 8));
    }
}
