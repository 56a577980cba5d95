//! A blocking facade over [`Client`] for Python, C and scripts: each call runs on a small
//! runtime the facade owns, so callers need no async runtime of their own.

use std::path::Path;
use std::sync::Arc;

use time::Date;

use super::{
    ApiInfo, ApplianceInfo, ArchiveEntry, ArchiveKind, BackupDownload, BackupOptions, Client,
    ConnectedClient, DownloadedFile, Health, Probe, RoleChange, Session, TimeWindow,
    TransferOptions,
};
use crate::model::appliance::FailoverRole;
use crate::support::error::{Error, Result};

/// Blocking twin of [`Client`]. Must not be called from inside an async runtime.
///
/// ```no_run
/// use bt_dr_core::api::{BlockingClient, Client};
/// let c = BlockingClient::new(Client::builder("https://support.example.com")
///     .credentials("id", "secret".into()).build()?)?;
/// println!("{:?}", c.check_health()?.failover_role);
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BlockingClient {
    client: Client,
    rt: Arc<tokio::runtime::Runtime>,
}

impl BlockingClient {
    /// Wraps an async client with its own runtime.
    pub fn new(client: Client) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("bt-dr-io")
            .build()
            .map_err(|e| Error::io("starting runtime for", "bt-dr client", e))?;
        Ok(Self {
            client,
            rt: Arc::new(rt),
        })
    }

    /// The async client inside.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs any future of the client on the facade's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// See [`Client::check_health`].
    pub fn check_health(&self) -> Result<Health> {
        self.rt.block_on(self.client.check_health())
    }
    /// See [`Client::probe_health`].
    pub fn probe_health(&self) -> Result<Probe> {
        self.rt.block_on(self.client.probe_health())
    }
    /// See [`Client::get_api_info`].
    pub fn get_api_info(&self) -> Result<ApiInfo> {
        self.rt.block_on(self.client.get_api_info())
    }
    /// See [`Client::get_appliances`].
    pub fn get_appliances(&self) -> Result<Vec<ApplianceInfo>> {
        self.rt.block_on(self.client.get_appliances())
    }
    /// See [`Client::get_connected_clients`].
    pub fn get_connected_clients(&self) -> Result<Vec<ConnectedClient>> {
        self.rt.block_on(self.client.get_connected_clients())
    }
    /// See [`Client::set_failover_role`].
    pub fn set_failover_role(
        &self,
        role: FailoverRole,
        data_sync_first: bool,
        force: bool,
    ) -> Result<RoleChange> {
        self.rt
            .block_on(self.client.set_failover_role(role, data_sync_first, force))
    }
    /// See [`Client::download_backup`].
    pub fn download_backup(
        &self,
        dir: impl AsRef<Path>,
        opts: BackupOptions,
    ) -> Result<BackupDownload> {
        self.rt.block_on(self.client.download_backup(dir, opts))
    }
    /// See [`Client::list_sessions`].
    pub fn list_sessions(&self, window: &TimeWindow) -> Result<Vec<Session>> {
        self.rt.block_on(self.client.list_sessions(window))
    }
    /// See [`Client::get_session`].
    pub fn get_session(&self, lsid: &str) -> Result<Session> {
        self.rt.block_on(self.client.get_session(lsid))
    }
    /// See [`Client::download_recording`].
    pub fn download_recording(
        &self,
        lsid: &str,
        dir: impl AsRef<Path>,
        opts: TransferOptions,
    ) -> Result<DownloadedFile> {
        self.rt
            .block_on(self.client.download_recording(lsid, dir, opts))
    }
    /// See [`Client::list_archives`].
    pub fn list_archives(&self, date: Date) -> Result<Vec<ArchiveEntry>> {
        self.rt.block_on(self.client.list_archives(date))
    }
    /// See [`Client::download_archive`].
    pub fn download_archive(
        &self,
        kind: ArchiveKind,
        date: Date,
        index: u32,
        dir: impl AsRef<Path>,
        opts: TransferOptions,
    ) -> Result<DownloadedFile> {
        self.rt
            .block_on(self.client.download_archive(kind, date, index, dir, opts))
    }
}
