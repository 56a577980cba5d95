//! The nightly DR job in one program.
//!
//! With no configuration it starts a simulated failover pair on loopback and runs against it:
//! health of both appliances, a backup set (NSB, recordings, certificate, /appliance records,
//! Vault key record and manifest), a certificate bundle check, the readiness audit, the runbook,
//! and a planned failover drill with its timeline.
//!
//! Against a real site, set `BT_DR_URL`, `BT_DR_CLIENT_ID`, `BT_DR_CLIENT_SECRET` (and optionally
//! `BT_DR_CA_FILE`, `BT_DR_SITE`, `BT_DR_PRODUCT`, `BT_DR_P12` + `BT_DR_P12_PASSPHRASE`, `BT_DR_BACKUP_PASSWORD`,
//! `BT_DR_OUT`). The failover drill then runs only with `BT_DR_DRILL=1` and a `BT_DR_BACKUP_URL`.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bt_dr_core::api::Client;
use bt_dr_core::backup_set::VaultKeyInput;
use bt_dr_core::{
    AuditInput, AuditOptions, BackupSetOptions, BackupStore, BundleCheckOptions, FailoverMode,
    FailoverOptions, Inventory, SecretString, Site, TrafficRedirect, UpgradeTable, audit,
    check_certificate_bundle, collect_live, execute_failover, plan_failover, render_runbook,
    run_backup_set,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Target {
    site: Site,
    clients: Vec<(String, Client)>,
    p12: Option<(PathBuf, SecretString)>,
    records: Vec<PathBuf>,
    vault_key: Option<VaultKeyInput>,
    backup_password: Option<SecretString>,
    drill: bool,
    _sim: Option<bt_dr_sim::Sim>,
}

fn say(t0: Instant, msg: impl AsRef<str>) {
    println!("[{:>5.1}s] {}", t0.elapsed().as_secs_f64(), msg.as_ref());
}

async fn simulated(out: &std::path::Path) -> Res<Target> {
    let sim = bt_dr_sim::Sim::start_pair(bt_dr_sim::SimConfig {
        backup_size: 8 * 1024 * 1024,
        ..Default::default()
    })
    .await?;
    let acct = &sim.config().accounts[0];
    let mut clients = Vec::new();
    for a in sim.appliances() {
        let c = Client::builder(&a.url())
            .credentials(&acct.client_id, acct.client_secret.clone().into())
            .extra_ca_pem(sim.ca_pem().as_bytes().to_vec())
            .site_name("support")
            .build()?;
        clients.push((a.hostname().to_string(), c));
    }
    let (a, b) = (sim.primary(), sim.backup().ok_or("pair")?);
    let inventory = Inventory::from_toml_str(&format!(
        r#"
[[sites]]
name = "support"
fqdn = "{fqdn}"
product = "rs"
version = "{version}"
[[sites.appliances]]
hostname = "{ha}"
kind = "b300"
serial = "B300-0001"
ip = "10.0.0.11"
[[sites.appliances]]
hostname = "{hb}"
kind = "vmware"
ip = "10.0.0.12"
[sites.failover]
primary = "{ha}"
backup = "{hb}"
routing = "dns-swing"
"#,
        fqdn = sim.config().site_hostname,
        version = sim.config().version,
        ha = a.hostname(),
        hb = b.hostname(),
    ))?;
    let inputs = out.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let mut records = Vec::new();
    for (host, ip) in [(a.hostname(), "10.0.0.11"), (b.hostname(), "10.0.0.12")] {
        let p = inputs.join(format!("{host}.toml"));
        std::fs::write(
            &p,
            format!(
                "[identity]\nhostname = \"{host}\"\nappliance_version = \"{v}\"\nserial = \"SN-{host}\"\nbase_version = \"7.2.1\"\nsystem_time = \"2026-11-20T02:00:00Z\"\n\
                 [[ip_configuration]]\nname = \"eth0\"\naddresses = [\"{ip}/24\"]\ngateway = \"10.0.0.1\"\ndns_servers = [\"10.0.0.2\"]\n",
                v = sim.config().version
            ),
        )?;
        records.push(p);
    }
    let key = inputs.join("vault-encryption.key");
    std::fs::write(&key, b"password-protected vault key (simulated)")?;
    let p12 =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/p12/default_chain.p12");
    Ok(Target {
        site: inventory.sites.into_iter().next().ok_or("site")?,
        clients,
        p12: Some((p12, "fixture-pass".into())),
        records,
        vault_key: Some(VaultKeyInput {
            path: key,
            password_protected: true,
            exported_on: None,
        }),
        // A real job reads it from a secret store; an NSB without one is an audit finding.
        backup_password: Some("quickstart-backup-pass".into()),
        drill: true,
        _sim: Some(sim),
    })
}

fn real(url: String) -> Res<Target> {
    let env = |k: &str| std::env::var(k).ok();
    let id = env("BT_DR_CLIENT_ID").ok_or("BT_DR_CLIENT_ID is not set")?;
    let secret: SecretString = env("BT_DR_CLIENT_SECRET")
        .ok_or("BT_DR_CLIENT_SECRET is not set")?
        .into();
    let host = url::Url::parse(&url)?
        .host_str()
        .ok_or("BT_DR_URL has no host")?
        .to_string();
    let product: bt_dr_core::Product = env("BT_DR_PRODUCT")
        .unwrap_or_else(|| "rs".into())
        .parse()?;
    let build = |u: &str| -> Res<Client> {
        let mut b = Client::builder(u)
            .credentials(&id, secret.clone())
            .product(product);
        if let Some(ca) = env("BT_DR_CA_FILE") {
            b = b.extra_ca_pem(std::fs::read(ca)?);
        }
        if let Some(s) = env("BT_DR_SITE") {
            b = b.site_name(&s);
        }
        Ok(b.build()?)
    };
    let mut clients = vec![(host.clone(), build(&url)?)];
    if let Some(bu) = env("BT_DR_BACKUP_URL") {
        let bh = url::Url::parse(&bu)?
            .host_str()
            .ok_or("BT_DR_BACKUP_URL has no host")?
            .to_string();
        clients.push((bh, build(&bu)?));
    }
    let health = tokio::runtime::Handle::current().block_on(clients[0].1.check_health());
    let version = health
        .map(|h| h.version.release())
        .unwrap_or_else(|_| "0.0.0".into());
    let mut toml = format!(
        "name = \"{}\"\nfqdn = \"{host}\"\nproduct = \"{product}\"\nversion = \"{version}\"\n",
        env("BT_DR_SITE").unwrap_or_else(|| host.split('.').next().unwrap_or("site").to_string())
    );
    for (h, _) in &clients {
        toml += &format!("[[appliances]]\nhostname = \"{h}\"\nkind = \"vmware\"\n");
    }
    if clients.len() == 2 {
        toml += &format!(
            "[failover]\nprimary = \"{}\"\nbackup = \"{}\"\nrouting = \"dns-swing\"\n",
            clients[0].0, clients[1].0
        );
    }
    Ok(Target {
        site: toml::from_str(&toml)?,
        p12: env("BT_DR_P12").map(|p| {
            (
                PathBuf::from(p),
                env("BT_DR_P12_PASSPHRASE").unwrap_or_default().into(),
            )
        }),
        records: Vec::new(),
        vault_key: None,
        backup_password: env("BT_DR_BACKUP_PASSWORD").map(SecretString::from),
        drill: env("BT_DR_DRILL").as_deref() == Some("1") && clients.len() == 2,
        clients,
        _sim: None,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let t0 = Instant::now();
    let out = PathBuf::from(
        std::env::var("BT_DR_OUT").unwrap_or_else(|_| "target/bt-dr-quickstart".into()),
    );
    std::fs::create_dir_all(&out)?;
    let target = match std::env::var("BT_DR_URL") {
        Ok(url) => {
            say(t0, format!("real site: {url}"));
            tokio::task::block_in_place(|| real(url))?
        }
        Err(_) => {
            say(
                t0,
                "no BT_DR_URL: starting a simulated failover pair on loopback",
            );
            simulated(&out).await?
        }
    };
    let site = &target.site;

    // 1. Health of every appliance.
    for (host, c) in &target.clients {
        let h = c.check_health().await?;
        say(
            t0,
            format!(
                "health {host}: {} role={} version={} last sync={}",
                if h.success { "OK" } else { "PROBLEM" },
                h.failover_role,
                h.version,
                h.last_data_sync_time
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
        );
    }

    // 2. A backup set.
    let store = BackupStore::open(out.join("store"))?;
    let opts = BackupSetOptions {
        certificate_bundle: target.p12.as_ref().map(|p| p.0.clone()),
        certificate_passphrase: target.p12.as_ref().map(|p| p.1.clone()),
        appliance_records: target.records.clone(),
        vault_key: target.vault_key.clone(),
        backup_password: target.backup_password.clone(),
        ..Default::default()
    };
    let primary = &target.clients[0].1;
    let set = run_backup_set(&store, site, primary, &opts).await?;
    let m = &set.manifest;
    say(
        t0,
        format!("backup set {} → {}", set.set_id, set.path.display()),
    );
    say(
        t0,
        format!(
            "  NSB {} ({} files in the set, {} reporting files in the site's archive)",
            m.nsb.file,
            m.files.len(),
            m.recordings.as_ref().map(|r| r.count).unwrap_or(0)
        ),
    );
    // A partial set keeps the NSB and every part that worked; say what failed, and fail the run.
    for p in set.failed_parts() {
        say(
            t0,
            format!(
                "  PARTIAL: {} failed: {}",
                p.part,
                p.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
            ),
        );
    }
    for n in &m.not_covered {
        say(
            t0,
            format!(
                "  not in the NSB: {:<60} {}",
                n.label,
                if n.in_this_set {
                    "kept in this set"
                } else {
                    "NOT kept: save separately"
                }
            ),
        );
    }
    let v = bt_dr_core::verify_backup_set(&set.path)?;
    say(
        t0,
        format!(
            "  verify: {} files, {} bytes, {}",
            v.files_checked,
            v.bytes_checked,
            if v.ok() { "intact" } else { "PROBLEMS" }
        ),
    );

    // 3. Certificate bundle check.
    if let Some((p12, pass)) = &target.p12 {
        let r = check_certificate_bundle(
            &std::fs::read(p12)?,
            pass,
            &BundleCheckOptions::for_site(&site.fqdn)
                .with_appliances(site.appliances.iter().map(|a| a.hostname.clone())),
        )?;
        let leaf = r.leaf_cert();
        say(
            t0,
            format!(
                "certificate: leaf {} (expires {}), chain of {}, {} findings",
                leaf.map(|l| l.issued_to.as_str()).unwrap_or("?"),
                leaf.map(|l| l.not_after.date().to_string())
                    .unwrap_or_default(),
                r.chain.len(),
                r.findings.len()
            ),
        );
    }

    // 4. Audit.
    let live = vec![collect_live(&site.name, &target.clients).await];
    let inventory = Inventory {
        sites: vec![site.clone()],
        ..Default::default()
    };
    let report = audit(AuditInput {
        inventory: &inventory,
        store: Some(&store),
        live: &live,
        upgrade_table: &UpgradeTable::default(),
        options: &AuditOptions::default(),
    })?;
    std::fs::write(out.join("audit.json"), report.to_json())?;
    std::fs::write(out.join("audit.md"), report.to_markdown())?;
    say(
        t0,
        format!(
            "audit: {} critical, {} error, {} warning → {}",
            report.summary.critical,
            report.summary.error,
            report.summary.warning,
            out.join("audit.md").display()
        ),
    );
    for f in &report.findings {
        say(
            t0,
            format!(
                "  {:<8} {} — {}",
                f.finding.severity, f.finding.id, f.finding.message
            ),
        );
    }

    // 5. Runbook.
    let runbook = render_runbook(site, Some(&store), &UpgradeTable::default())?;
    std::fs::write(out.join("runbook.md"), &runbook)?;
    say(
        t0,
        format!(
            "runbook: {} lines → {}",
            runbook.lines().count(),
            out.join("runbook.md").display()
        ),
    );

    // 6. Planned failover drill.
    if target.drill {
        let ((ha, a), (hb, b)) = (&target.clients[0], &target.clients[1]);
        let plan = plan_failover(site, (ha, a), (hb, b), FailoverMode::Planned).await?;
        say(
            t0,
            format!(
                "failover plan: {} → {} ({} steps)",
                plan.from.hostname,
                plan.to.hostname,
                plan.steps.len()
            ),
        );
        for w in &plan.warnings {
            say(t0, format!("  warning: {w}"));
        }
        let mut opts = FailoverOptions {
            poll_interval: Duration::from_millis(100),
            ..Default::default()
        };
        // On the simulated pair the site address is a local forwarder, so the drill runs the
        // guide's order for real: the redirect hook swings it, bt-dr checks the site answers
        // as the new primary, then changes roles and confirms clients through it.
        if let Some(sim) = &target._sim {
            let to = sim.backup().ok_or("pair")?.clone();
            opts.site_url = Some(sim.site_url());
            opts.redirect = Some(TrafficRedirect::callback(move |_| {
                to.take_site_address();
                Ok(())
            }));
        }
        let t = execute_failover(site, (ha, a), (hb, b), &plan, &opts).await?;
        for e in &t.events {
            say(
                t0,
                format!(
                    "  +{:>5} ms  {:<45} {}={} {}={}",
                    e.elapsed_ms,
                    e.event,
                    plan.from.hostname,
                    e.from_role
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "?".into()),
                    plan.to.hostname,
                    e.to_role
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "?".into())
                ),
            );
        }
        std::fs::write(
            out.join("failover-timeline.json"),
            serde_json::to_string_pretty(&t)?,
        )?;
        say(
            t0,
            format!(
                "failover drill: {:?}; follow-up: {}",
                t.outcome,
                if t.follow_up.is_empty() {
                    "none".to_string()
                } else {
                    t.follow_up.join("; ")
                }
            ),
        );
    }
    say(t0, format!("done: everything is under {}", out.display()));
    if set.partial {
        return Err(format!("backup set {} is partial (see above)", set.set_id).into());
    }
    Ok(())
}
