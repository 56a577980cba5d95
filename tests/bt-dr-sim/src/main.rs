//! `bt-dr-sim` binary: runs a simulated site on loopback for tests written in other languages.
//! It prints one JSON line describing the site on stdout, a human summary on stderr, and runs
//! until SIGINT or SIGTERM.

use std::io::Write;
use std::process::ExitCode;

use bt_dr_sim::control::ControlServer;
use bt_dr_sim::{Account, Product, Sim, SimConfig, XmlNamespace};

const USAGE: &str = "usage: bt-dr-sim [--single] [--product rs|pra] [--version 24.1.2] \
[--namespace bomgar|beyondtrust] [--backup-size BYTES] [--client-id ID --client-secret S] \
[--control-port PORT] [--traffic-node HOST]... [--distinct-certificates]";

struct Args {
    single: bool,
    /// Traffic nodes of an Atlas cluster (none: a pair or a single appliance).
    traffic_nodes: Vec<String>,
    control_port: u16,
    cfg: SimConfig,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut cfg = SimConfig::default();
    let mut single = false;
    let mut traffic_nodes: Vec<String> = Vec::new();
    let mut control_port = 0u16;
    let mut client_id: Option<String> = None;
    let mut client_secret: Option<String> = None;
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--single" => single = true,
            "--distinct-certificates" => cfg.distinct_certificates = true,
            "--product" => {
                cfg.product = match value("--product")?.as_str() {
                    "rs" => Product::Rs,
                    "pra" => Product::Pra,
                    other => return Err(format!("unknown product {other:?} (rs or pra)")),
                }
            }
            "--version" => cfg.version = value("--version")?,
            "--namespace" => {
                cfg.namespace = match value("--namespace")?.as_str() {
                    "bomgar" => XmlNamespace::Bomgar,
                    "beyondtrust" => XmlNamespace::BeyondTrust,
                    other => {
                        return Err(format!(
                            "unknown namespace {other:?} (bomgar or beyondtrust)"
                        ));
                    }
                }
            }
            "--backup-size" => {
                cfg.backup_size = value("--backup-size")?
                    .parse()
                    .map_err(|_| "--backup-size needs a number of bytes".to_string())?
            }
            "--client-id" => client_id = Some(value("--client-id")?),
            "--client-secret" => client_secret = Some(value("--client-secret")?),
            "--control-port" => {
                control_port = value("--control-port")?
                    .parse()
                    .map_err(|_| "--control-port needs a port number".to_string())?
            }
            "--traffic-node" => traffic_nodes.push(value("--traffic-node")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if client_id.is_some() || client_secret.is_some() {
        let default = Account::full_access("bt-dr-sim-client", "sim-secret-0123456789");
        cfg.accounts = vec![Account::full_access(
            client_id.as_deref().unwrap_or(&default.client_id),
            client_secret.as_deref().unwrap_or(&default.client_secret),
        )];
    }
    // A second account with read-only command access and no backup or reporting rights, so
    // tests in every language can see a permission error.
    cfg.accounts
        .push(Account::read_only(READ_ONLY_ID, READ_ONLY_SECRET));
    if single && !traffic_nodes.is_empty() {
        return Err("--traffic-node needs the primary pair; drop --single".to_string());
    }
    Ok(Args {
        single,
        traffic_nodes,
        control_port,
        cfg,
    })
}

const READ_ONLY_ID: &str = "bt-dr-sim-readonly";
const READ_ONLY_SECRET: &str = "sim-readonly-secret-0123456789";

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bt-dr-sim: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = if !args.traffic_nodes.is_empty() {
        let nodes: Vec<&str> = args.traffic_nodes.iter().map(String::as_str).collect();
        Sim::start_atlas(args.cfg, &nodes).await
    } else if args.single {
        Sim::start_single(args.cfg).await
    } else {
        Sim::start_pair(args.cfg).await
    };
    let sim = match started {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("bt-dr-sim: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let control = match ControlServer::start(sim.appliances().to_vec(), args.control_port).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bt-dr-sim: cannot start the control server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cfg = sim.config();
    let account = cfg.accounts.first().cloned();
    let line = serde_json::json!({
        "primary_url": sim.primary().url(),
        "backup_url": sim.backup().map(|b| b.url()),
        "traffic_urls": sim.traffic_nodes().iter().map(|t| t.url()).collect::<Vec<_>>(),
        "ca_pem_path": sim.ca_pem_path().to_string_lossy(),
        "client_id": account.as_ref().map(|a| a.client_id.clone()),
        "client_secret": account.as_ref().map(|a| a.client_secret.clone()),
        "readonly_client_id": READ_ONLY_ID,
        "readonly_client_secret": READ_ONLY_SECRET,
        "site_hostname": cfg.site_hostname,
        "product": cfg.product.as_str(),
        "version": cfg.version,
        "leaf_cert_sha256": sim.leaf_cert_sha256_hex(),
        "backup_leaf_cert_sha256": sim.backup().map(|b| b.leaf_cert_sha256_hex()),
        "site_url": sim.site_url(),
        "control_url": control.url(),
    });
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    eprintln!(
        "bt-dr-sim: simulated {} {} site {}",
        cfg.product.as_str(),
        cfg.version,
        cfg.site_hostname
    );
    for app in sim.appliances() {
        eprintln!(
            "  appliance {} {:<22} {}  role {}",
            app.index(),
            app.hostname(),
            app.url(),
            app.failover_role().as_str()
        );
    }
    eprintln!("  site address    {}", sim.site_url());
    eprintln!("  CA certificate  {}", sim.ca_pem_path().display());
    eprintln!("  control API     {}", control.url());
    eprintln!("  stop with Ctrl-C or SIGTERM");

    wait_for_signal().await;
    control.shutdown().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn parses() {
        let a = args("--single --product pra --namespace bomgar --backup-size=42 --client-id x --client-secret y --control-port 0")
            .expect("valid");
        assert!(a.single);
        assert_eq!(a.cfg.product, Product::Pra);
        assert_eq!(a.cfg.namespace, XmlNamespace::Bomgar);
        assert_eq!(a.cfg.backup_size, 42);
        assert_eq!(a.cfg.accounts[0].client_id, "x");
        assert_eq!(a.cfg.accounts[0].client_secret, "y");
        assert!(args("--product zz").is_err());
        assert!(args("--bogus").is_err());
        assert!(!a.cfg.distinct_certificates);
        assert!(
            args("--distinct-certificates")
                .expect("valid")
                .cfg
                .distinct_certificates
        );
        assert!(args("--version").is_err());
        let a = args("--traffic-node tn-eu.example.com --traffic-node=tn-us.example.com")
            .expect("valid");
        assert_eq!(a.traffic_nodes, ["tn-eu.example.com", "tn-us.example.com"]);
        assert!(args("--single --traffic-node tn.example.com").is_err());
    }
}
