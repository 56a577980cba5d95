//! `bt-dr sim`: a simulated failover pair on loopback (the `bt-dr-sim` library), so every
//! other command can be tried without an appliance.
//!
//! The API secret is generated per run and written to a 0600 file of `NAME=secret` lines (the
//! format `--secret-file` reads); the JSON line on stdout names that file and the variable,
//! never the secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use bt_dr_core::{AtomicFile, Error, Inventory, write_atomic};
use bt_dr_sim::control::ControlServer;
use bt_dr_sim::{Account, Product, Sim, SimConfig};

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};

/// The variable the written inventory names for the simulator's API secret.
pub const SECRET_ENV: &str = "BT_DR_SIM_SECRET";

/// The API account the simulator creates.
pub const CLIENT_ID: &str = "bt-dr-sim-client";

/// Simulated product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimProduct {
    /// Remote Support.
    Rs,
    /// Privileged Remote Access.
    Pra,
}

/// `bt-dr sim` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// One appliance instead of a failover pair.
    #[arg(long)]
    pub single: bool,
    /// Product.
    #[arg(long, value_enum, default_value_t = SimProduct::Rs)]
    pub product: SimProduct,
    /// Product version the appliances report.
    #[arg(long, default_value = "24.1.2", value_name = "X.Y.Z")]
    pub product_version: String,
    /// Size of the simulated NSB in bytes.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub backup_size: u64,
    /// Recording size in bytes (each of the simulated sessions has one).
    #[arg(long, value_name = "BYTES")]
    pub recording_size: Option<u64>,
    /// Name of the site in the written inventory.
    #[arg(long, default_value = "support")]
    pub site_name: String,
    /// Write an inventory for the simulated site to this file.
    #[arg(long, value_name = "FILE")]
    pub write_inventory: Option<PathBuf>,
    /// Where to write the secret file (default: next to the inventory as `<name>.secrets`,
    /// else in the temporary directory). Removed when the simulator stops.
    #[arg(long, value_name = "FILE")]
    pub secret_out: Option<PathBuf>,
    /// The simulated site requires this backup password: the name of the environment
    /// variable holding it (never the password itself).
    #[arg(long, value_name = "VAR")]
    pub backup_password_env: Option<String>,
    /// Port of the plain-HTTP control server for faults (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub control_port: u16,
}

/// The line printed on stdout once the simulator is up.
#[derive(Debug, serde::Serialize)]
struct Started<'a> {
    site: &'a str,
    site_url: String,
    primary_url: String,
    backup_url: Option<String>,
    ca_file: &'a Path,
    client_id: &'a str,
    secret_env: &'a str,
    secret_file: &'a Path,
    inventory: Option<&'a Path>,
    control_url: String,
    product: &'a str,
    version: &'a str,
}

fn random_secret() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// Writes `NAME=secret` readable by the owner only, atomically.
fn write_secret_file(path: &Path, secret: &str) -> Result<(), CliError> {
    let mut f = AtomicFile::create(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("restricting the secret file", path, e))?;
    }
    writeln!(f.file(), "{SECRET_ENV}={secret}")
        .map_err(|e| Error::io("writing the secret file", path, e))?;
    f.commit()?;
    Ok(())
}

/// A TOML basic string: JSON's escaping is a subset of TOML's.
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn inventory_text(args: &SimArgs, sim: &Sim) -> String {
    let cfg = sim.config();
    let mut t = format!(
        "# Written by `bt-dr sim`: a simulated site on loopback, valid while it runs.\n\
         [[sites]]\nname = {}\nfqdn = {}\nproduct = {}\nversion = {}\n\n\
         [sites.api]\nclient_id = {}\nclient_secret_env = {}\nca_file = {}\n",
        toml_str(&args.site_name),
        toml_str(&cfg.site_hostname),
        toml_str(cfg.product.as_str()),
        toml_str(&cfg.version),
        toml_str(CLIENT_ID),
        toml_str(SECRET_ENV),
        toml_str(&sim.ca_pem_path().to_string_lossy()),
    );
    for (i, a) in sim.appliances().iter().enumerate() {
        t += &format!(
            "\n[[sites.appliances]]\nhostname = {}\nkind = {}\nip = {}\napi_url = {}\n",
            toml_str(a.hostname()),
            toml_str(if i == 0 { "b300" } else { "vmware" }),
            toml_str(&format!("10.0.0.{}", 11 + i)),
            toml_str(&a.url()),
        );
    }
    if let Some(b) = sim.backup() {
        t += &format!(
            "\n[sites.failover]\nprimary = {}\nbackup = {}\nrouting = \"dns-swing\"\n",
            toml_str(sim.primary().hostname()),
            toml_str(b.hostname()),
        );
    }
    t
}

/// Runs `bt-dr sim` until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs, ctx: &Context) -> CliResult {
    let secret = random_secret();
    let backup_password = match &args.backup_password_env {
        Some(var) => Some(ctx.secret(var)?.ok_or_else(|| {
            CliError::Usage(format!(
                "--backup-password-env {var}: no such environment variable or --secret-file entry"
            ))
        })?),
        None => None,
    };
    let mut cfg = SimConfig {
        product: match args.product {
            SimProduct::Rs => Product::Rs,
            SimProduct::Pra => Product::Pra,
        },
        version: args.product_version.clone(),
        backup_size: args.backup_size,
        accounts: vec![Account::full_access(CLIENT_ID, &secret)],
        backup_password: backup_password.map(|p| {
            use bt_dr_core::ExposeSecret;
            p.expose_secret().to_string()
        }),
        ..SimConfig::default()
    };
    if let Some(r) = args.recording_size {
        cfg.recording_size = r;
    }
    let started = if args.single {
        Sim::start_single(cfg).await
    } else {
        Sim::start_pair(cfg).await
    };
    let sim = started.map_err(|e| Error::io("starting the simulator", "127.0.0.1", e))?;
    let control = ControlServer::start(sim.appliances().to_vec(), args.control_port)
        .await
        .map_err(|e| Error::io("starting the simulator's control server", "127.0.0.1", e))?;

    let secret_file = match (&args.secret_out, &args.write_inventory) {
        (Some(p), _) => p.clone(),
        (None, Some(inv)) => inv.with_extension("secrets"),
        (None, None) => {
            std::env::temp_dir().join(format!("bt-dr-sim-{}.secrets", std::process::id()))
        }
    };
    // Printed in the JSON line: absolute, so it works from any directory.
    let secret_file = std::path::absolute(&secret_file)
        .map_err(|e| Error::io("resolving the secret file path", &secret_file, e))?;
    write_secret_file(&secret_file, &secret)?;
    let result = serve(&args, ctx, &sim, &control, &secret_file).await;
    let _ = std::fs::remove_file(&secret_file);
    control.shutdown().await;
    sim.shutdown().await;
    result
}

async fn serve(
    args: &SimArgs,
    ctx: &Context,
    sim: &Sim,
    control: &ControlServer,
    secret_file: &Path,
) -> CliResult {
    if let Some(inv) = &args.write_inventory {
        let text = inventory_text(args, sim);
        // The core must accept what is written: the other commands will load it.
        Inventory::from_toml_str(&text)?;
        write_atomic(inv, text.as_bytes())?;
    }
    let cfg = sim.config();
    let inventory = match &args.write_inventory {
        Some(p) => Some(
            std::path::absolute(p).map_err(|e| Error::io("resolving the inventory path", p, e))?,
        ),
        None => None,
    };
    let line = Started {
        site: &args.site_name,
        site_url: sim.site_url(),
        primary_url: sim.primary().url(),
        backup_url: sim.backup().map(|b| b.url()),
        ca_file: sim.ca_pem_path(),
        client_id: CLIENT_ID,
        secret_env: SECRET_ENV,
        secret_file,
        inventory: inventory.as_deref(),
        control_url: control.url(),
        product: cfg.product.as_str(),
        version: &cfg.version,
    };
    let json = serde_json::to_string(&line).map_err(|e| Error::Internal {
        reason: format!("serialising the simulator line: {e}"),
    })?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{json}");
        let _ = out.flush();
    }
    if !ctx.args.quiet {
        eprintln!(
            "bt-dr sim: {} at {}{}; secret in {} ({}); Ctrl-C to stop",
            args.site_name,
            sim.primary().url(),
            sim.backup()
                .map(|b| format!(" and {}", b.url()))
                .unwrap_or_default(),
            secret_file.display(),
            SECRET_ENV
        );
        if let Some(inv) = &args.write_inventory {
            eprintln!(
                "  try: bt-dr --inventory {} --secret-file {} health",
                inv.display(),
                secret_file.display()
            );
        }
    }
    super::wait_for_signal().await;
    Ok(Exit::Ok)
}
