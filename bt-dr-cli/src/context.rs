//! What every command shares: the global flags, the inventory, the store, secrets and clients.
//! Commands get everything from here so that secrets are read one way only (env, file or
//! prompt, never argv) and clients are built the same way for every command.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use bt_dr_core::api::{Client, ClientBuilder};
use bt_dr_core::{BackupStore, Error, Inventory, SecretString, Site};

use crate::exit::CliError;

/// Flags every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Fleet inventory (TOML, JSON or YAML).
    #[arg(long, global = true, env = "BT_DR_INVENTORY", value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Backup store directory.
    #[arg(long, global = true, env = "BT_DR_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// File of `NAME=secret` lines for the variables the inventory's `client_secret_env`
    /// names; a variable set in the environment wins. Never pass a secret in argv.
    #[arg(long, global = true, env = "BT_DR_SECRET_FILE", value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Print the core's JSON shapes instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only errors on stderr; no progress.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log lines on stderr (-v info, -vv debug).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The shared state of one command run.
#[derive(Debug)]
pub struct Context {
    /// The global flags.
    pub args: GlobalArgs,
    inventory: OnceLock<Inventory>,
    secrets: OnceLock<HashMap<String, SecretString>>,
}

impl Context {
    /// A context for these flags; nothing is read until asked for.
    pub fn new(args: GlobalArgs) -> Self {
        Context {
            args,
            inventory: OnceLock::new(),
            secrets: OnceLock::new(),
        }
    }

    /// The inventory (`--inventory` / `BT_DR_INVENTORY`), loaded and validated once.
    pub fn inventory(&self) -> Result<&Inventory, CliError> {
        if let Some(inv) = self.inventory.get() {
            return Ok(inv);
        }
        let path = self.args.inventory.as_ref().ok_or_else(|| {
            CliError::Usage("no inventory: pass --inventory FILE or set BT_DR_INVENTORY".into())
        })?;
        let inv = Inventory::load(path)?;
        Ok(self.inventory.get_or_init(|| inv))
    }

    /// One site of the inventory, by name.
    pub fn site(&self, name: &str) -> Result<&Site, CliError> {
        self.inventory()?
            .site(name)
            .ok_or_else(|| CliError::Usage(format!("no site named {name:?} in the inventory")))
    }

    /// The sites a command works on: the one named, or every site of the inventory.
    pub fn sites(&self, only: Option<&str>) -> Result<Vec<&Site>, CliError> {
        match only {
            Some(name) => Ok(vec![self.site(name)?]),
            None => Ok(self.inventory()?.sites.iter().collect()),
        }
    }

    /// The backup store (`--store` / `BT_DR_STORE`).
    pub fn store(&self) -> Result<BackupStore, CliError> {
        let root = self.args.store.as_ref().ok_or_else(|| {
            CliError::Usage("no store: pass --store DIR or set BT_DR_STORE".into())
        })?;
        Ok(BackupStore::open(root)?)
    }

    /// The secret held by the environment variable `name`, or by `--secret-file`.
    pub fn secret(&self, name: &str) -> Result<Option<SecretString>, CliError> {
        if let Ok(v) = std::env::var(name) {
            return Ok(Some(SecretString::from(v)));
        }
        Ok(self.secret_file()?.get(name).cloned())
    }

    fn secret_file(&self) -> Result<&HashMap<String, SecretString>, CliError> {
        if let Some(s) = self.secrets.get() {
            return Ok(s);
        }
        let mut map = HashMap::new();
        if let Some(path) = &self.args.secret_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io("reading the secret file", path, e))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                // The value is never echoed: a malformed line names only its line number.
                let (k, v) = line.split_once('=').ok_or_else(|| {
                    CliError::Usage(format!(
                        "{}: line {} is not NAME=secret",
                        path.display(),
                        n + 1
                    ))
                })?;
                map.insert(
                    k.trim().to_string(),
                    SecretString::from(v.trim().to_string()),
                );
            }
        }
        Ok(self.secrets.get_or_init(|| map))
    }

    /// A client for every appliance of `site`, as `(hostname, client)`, credentials from the
    /// site's `api` section with the secret from [`Context::secret`].
    pub fn clients(&self, site: &Site) -> Result<Vec<(String, Client)>, CliError> {
        site.appliances
            .iter()
            .map(|a| Ok((a.hostname.clone(), self.client(site, a)?)))
            .collect()
    }

    /// A client for one appliance of `site`.
    pub fn client(
        &self,
        site: &Site,
        appliance: &bt_dr_core::Appliance,
    ) -> Result<Client, CliError> {
        let mut b = ClientBuilder::for_appliance(site, appliance)?;
        if let Some(api) = &site.api
            && let Some(secret) = self.secret(&api.client_secret_env)?
        {
            b = b.credentials(&api.client_id, secret);
        }
        Ok(b.build()?)
    }
}
