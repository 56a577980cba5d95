//! One collection: live state, the store and the audit, turned into plain values.
//!
//! Nothing here decides anything about a site: roles, health and sync come from the
//! appliances through the core's `collect_live`, backup facts from the store's manifests,
//! split brain and every finding from the core's audit. This module only reads them off.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bt_dr_core::api::Client;
use bt_dr_core::audit::{AuditInput, AuditOptions, SiteLive};
use bt_dr_core::{BackupStore, ErrorKind, FailoverRole, Inventory, Severity, UpgradeTable};
use time::OffsetDateTime;

use crate::context::Context;
use crate::exit::CliError;

/// The stages a collection can fail in, per site; each always has a series (0 when fine).
pub const STAGES: [&str; 5] = ["client", "appliance", "store", "verify", "audit"];

/// When the newest backup set of a site is re-hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyPolicy {
    /// Never: `verified` is left out.
    Never,
    /// On every collection (a one-shot textfile run).
    Always,
    /// In the background, once per set and again after this long (a long-running server:
    /// hashing gigabytes on every scrape would be the load the cache is there to avoid).
    Every(Duration),
}

/// What one appliance said.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplianceSnapshot {
    /// Hostname as in the inventory.
    pub hostname: String,
    /// `check_health` answered.
    pub up: bool,
    /// It answered and considers itself healthy.
    pub healthy: bool,
    /// Its failover role, when it answered.
    pub role: Option<FailoverRole>,
    /// Its version (release and build), when it answered.
    pub version: Option<String>,
    /// Its last data sync, when it reports one.
    pub sync_time: Option<OffsetDateTime>,
    /// The last data sync's status is `success` (None: no status reported).
    pub sync_success: Option<bool>,
    /// notAfter of the leaf certificate it served in this collection's handshake.
    pub cert_not_after: Option<OffsetDateTime>,
    /// Kind of the error when it did not answer (`network`, `tls`, `auth`, ...).
    pub error_kind: Option<ErrorKind>,
}

/// The newest backup set of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSnapshot {
    /// Set id (folder name).
    pub id: String,
    /// When the set was started.
    pub created_at: OffsetDateTime,
    /// A part of the set failed.
    pub partial: bool,
    /// Every file hashes to its manifest (None: not checked).
    pub verified: Option<bool>,
    /// Bytes of every file the manifest lists.
    pub size_bytes: u64,
    /// The certificate bundle kept with the set: file name and its leaf's notAfter.
    pub certificate: Option<(String, Option<OffsetDateTime>)>,
}

/// Everything collected for one site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSnapshot {
    /// Site name.
    pub site: String,
    /// Per appliance, in inventory order.
    pub appliances: Vec<ApplianceSnapshot>,
    /// The audit's `split_brain` rule fired (None: the site has no failover pair).
    pub split_brain: Option<bool>,
    /// Readable backup sets in the store (None: no store, or it could not be read).
    pub backup_sets: Option<usize>,
    /// The newest set (None: no store, no set, or the store could not be read).
    pub backup: Option<BackupSnapshot>,
    /// Audit findings counted by (severity, rule id); None when the audit failed.
    pub findings: Option<BTreeMap<(Severity, String), u64>>,
    /// Errors of this collection by stage (every stage of [`STAGES`] present).
    pub errors: BTreeMap<&'static str, u64>,
}

/// One collection over every site.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// When it finished.
    pub collected_at: OffsetDateTime,
    /// How long it took.
    pub duration: Duration,
    /// Per site, in inventory order.
    pub sites: Vec<SiteSnapshot>,
}

impl Snapshot {
    /// Errors of every stage and site.
    pub fn error_count(&self) -> u64 {
        self.sites.iter().flat_map(|s| s.errors.values()).sum()
    }
}

/// The verification of one backup set, for [`VerifyPolicy::Every`].
#[derive(Debug, Default)]
struct VerifyMemo {
    /// The last finished verification: when, and whether every file matched (or why it
    /// could not be done).
    done: Option<(Instant, Result<bool, String>)>,
    /// A verification is under way.
    running: bool,
}

/// The clients of one site, built once so tokens are reused across collections.
#[derive(Debug)]
struct SiteClients {
    clients: Result<Vec<(String, Client)>, String>,
}

/// Collects snapshots for a fixed set of sites; shared by every scrape of a server.
#[derive(Debug)]
pub struct Collector {
    inventory: Inventory,
    store: Option<BackupStore>,
    upgrade_table: UpgradeTable,
    clients: Vec<SiteClients>,
    verify: VerifyPolicy,
    verified: Mutex<HashMap<PathBuf, VerifyMemo>>,
    quiet: bool,
}

impl Collector {
    /// A collector for the inventory's sites (or only `only`), its store when one is given,
    /// and a client per appliance. A site whose clients cannot be built (a secret missing,
    /// say) is still collected: its `client` error series says why there is no live data.
    pub fn new(
        ctx: &Context,
        only: Option<&str>,
        verify: VerifyPolicy,
        upgrade_table: Option<&Path>,
    ) -> Result<Self, CliError> {
        let mut inventory = ctx.inventory()?.clone();
        inventory.sites = ctx.sites(only)?.into_iter().cloned().collect();
        let store = match &ctx.args.store {
            Some(_) => Some(ctx.store()?),
            None => None,
        };
        let upgrade_table = match upgrade_table {
            Some(p) => UpgradeTable::load(p)?,
            None => UpgradeTable::default(),
        };
        let clients = inventory
            .sites
            .iter()
            .map(|site| SiteClients {
                clients: ctx.clients(site).map_err(|e| e.to_string()),
            })
            .collect();
        Ok(Collector {
            inventory,
            store,
            upgrade_table,
            clients,
            verify,
            verified: Mutex::new(HashMap::new()),
            quiet: ctx.args.quiet,
        })
    }

    /// The site is one this collector covers.
    pub fn has_site(&self, name: &str) -> bool {
        self.inventory.sites.iter().any(|s| s.name == name)
    }

    fn warn(&self, site: &str, stage: &str, message: &str) {
        if !self.quiet {
            eprintln!("bt-dr metrics: {site}: {stage}: {message}");
        }
    }

    /// Asks every appliance once (sites concurrently), then reads the store and runs the
    /// audit off the async workers.
    pub async fn collect(self: &Arc<Self>) -> Snapshot {
        let started = Instant::now();
        let lives =
            futures_util::future::join_all(self.inventory.sites.iter().zip(&self.clients).map(
                |(site, sc)| async move {
                    match &sc.clients {
                        Ok(clients) => {
                            let live = bt_dr_core::collect_live(&site.name, clients).await;
                            Some(live)
                        }
                        Err(_) => None,
                    }
                },
            ))
            .await;
        let me = Arc::clone(self);
        let sites = tokio::task::spawn_blocking(move || {
            me.inventory
                .sites
                .iter()
                .enumerate()
                .zip(lives)
                .map(|((i, _), live)| me.site_snapshot(i, live))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        Snapshot {
            collected_at: OffsetDateTime::now_utc(),
            duration: started.elapsed(),
            sites,
        }
    }

    fn site_snapshot(self: &Arc<Self>, index: usize, live: Option<SiteLive>) -> SiteSnapshot {
        let site = &self.inventory.sites[index];
        let mut errors: BTreeMap<&'static str, u64> = STAGES.iter().map(|s| (*s, 0)).collect();
        let mut bump = |stage: &'static str| *errors.entry(stage).or_default() += 1;

        if let Err(e) = &self.clients[index].clients {
            self.warn(&site.name, "client", e);
            bump("client");
        }
        let appliances = site
            .appliances
            .iter()
            .map(|a| {
                let l = live.as_ref().and_then(|l| l.appliance(&a.hostname));
                let health = l.and_then(|l| l.health.as_ref());
                let error_kind = l.and_then(|l| l.error.as_ref()).map(|e| e.kind);
                // Down is data (`up` 0); an appliance that answers but whose state cannot be
                // read (TLS, pin, account, permission, parse) is a monitoring problem as well.
                if let Some(k) = error_kind
                    && !matches!(k, ErrorKind::Network | ErrorKind::Timeout)
                {
                    bump("appliance");
                    if let Some(e) = l.and_then(|l| l.error.as_ref()) {
                        self.warn(
                            &site.name,
                            "appliance",
                            &format!("{}: {}", a.hostname, e.message),
                        );
                    }
                }
                ApplianceSnapshot {
                    hostname: a.hostname.clone(),
                    up: health.is_some(),
                    healthy: health.is_some_and(|h| h.success),
                    role: health.map(|h| h.failover_role),
                    version: health.map(|h| h.version.to_string()),
                    sync_time: health.and_then(|h| h.last_data_sync_time),
                    // The audit's `sync_failed` rule reads the status the same way.
                    sync_success: health
                        .and_then(|h| h.last_data_sync_status.as_deref())
                        .map(|s| s.eq_ignore_ascii_case("success")),
                    // The core keeps only a handshake of this collection: an appliance
                    // that no longer answers is not credited with what it served earlier.
                    cert_not_after: l.and_then(|l| l.served_cert_not_after),
                    error_kind,
                }
            })
            .collect();

        let (backup_sets, backup) = match &self.store {
            None => (None, None),
            Some(store) => match store.list_sets(&site.name) {
                Ok(sets) => {
                    let newest = sets.first().map(|s| {
                        let verified = self.verified(&s.path, &site.name, &mut bump);
                        BackupSnapshot {
                            id: s.id.clone(),
                            created_at: s.created_at,
                            partial: s.manifest.partial
                                || s.manifest.failed_parts().next().is_some(),
                            verified,
                            size_bytes: s.manifest.files.iter().map(|f| f.size).sum(),
                            certificate: s
                                .manifest
                                .certificate
                                .as_ref()
                                .map(|c| (c.file.clone(), c.leaf_not_after)),
                        }
                    });
                    (Some(sets.len()), newest)
                }
                Err(e) => {
                    self.warn(&site.name, "store", &e.to_string());
                    bump("store");
                    (None, None)
                }
            },
        };

        // One site per audit: a store folder that cannot be read fails only its own site.
        let mut one = self.inventory.clone();
        one.sites = vec![site.clone()];
        let lives: Vec<SiteLive> = live.into_iter().collect();
        let report = bt_dr_core::audit(AuditInput {
            inventory: &one,
            store: self.store.as_ref(),
            live: &lives,
            upgrade_table: &self.upgrade_table,
            options: &AuditOptions::default(),
        });
        let (findings, split_brain) = match report {
            Ok(r) => {
                let mut counts = BTreeMap::new();
                for f in &r.findings {
                    *counts
                        .entry((f.finding.severity, f.finding.id.clone()))
                        .or_insert(0) += 1;
                }
                let split = site
                    .failover
                    .as_ref()
                    .map(|_| r.with_id("split_brain").next().is_some());
                (Some(counts), split)
            }
            Err(e) => {
                self.warn(&site.name, "audit", &e.to_string());
                bump("audit");
                (None, None)
            }
        };

        SiteSnapshot {
            site: site.name.clone(),
            appliances,
            split_brain,
            backup_sets,
            backup,
            findings,
            errors,
        }
    }

    /// Whether the set at `path` hashes to its manifest. [`VerifyPolicy::Always`] hashes now;
    /// [`VerifyPolicy::Every`] answers from the last finished verification of this set and,
    /// when that is missing or older than the interval, starts one on a thread of its own: a
    /// refresh (and the scrapes waiting for it) never waits for gigabytes to be hashed, and the
    /// result shows from the first refresh after it finished.
    fn verified(
        self: &Arc<Self>,
        path: &Path,
        site: &str,
        bump: &mut impl FnMut(&'static str),
    ) -> Option<bool> {
        let max_age = match self.verify {
            VerifyPolicy::Never => return None,
            VerifyPolicy::Always => {
                return match bt_dr_core::verify_backup_set(path) {
                    Ok(report) => Some(report.ok()),
                    Err(e) => {
                        self.warn(site, "verify", &e.to_string());
                        bump("verify");
                        None
                    }
                };
            }
            VerifyPolicy::Every(d) => d,
        };
        let mut memo = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        // Only the newest set of each site is asked for: forget its older ones.
        memo.retain(|p, _| p == path || p.parent() != path.parent());
        let m = memo.entry(path.to_path_buf()).or_default();
        let stale = m
            .done
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= max_age);
        if stale && !m.running {
            m.running = true;
            let me = Arc::clone(self);
            let p = path.to_path_buf();
            let started = std::thread::Builder::new()
                .name("bt-dr-verify".into())
                .spawn(move || {
                    let r = bt_dr_core::verify_backup_set(&p)
                        .map(|r| r.ok())
                        .map_err(|e| e.to_string());
                    let mut memo = me.verified.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(m) = memo.get_mut(&p) {
                        m.running = false;
                        m.done = Some((Instant::now(), r));
                    }
                });
            if let Err(e) = started {
                m.running = false;
                m.done = Some((Instant::now(), Err(format!("cannot start verifying: {e}"))));
            }
        }
        match &m.done {
            Some((_, Ok(ok))) => Some(*ok),
            Some((_, Err(e))) => {
                self.warn(site, "verify", e);
                bump("verify");
                None
            }
            None => None,
        }
    }
}
