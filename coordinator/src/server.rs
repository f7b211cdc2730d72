//! Starting and stopping a coordinator: bind, open the database and migrate, serve,
//! and sweep expired leases and stale nonces in the background. Shutdown is a value
//! ([`Handle::shutdown`]): in-flight requests finish, then the tasks stop.

use std::net::SocketAddr;

use alloy::primitives::Address;
use std::sync::Arc;
use std::time::Duration;

use idlewatt_protocol::auth::now_ms;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::chain::Chain;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::embed::registry::{ModelError, ModelRegistry};
use crate::ratelimit::RateLimiter;
use crate::store::{self, Db};

/// State shared by the handlers.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    /// Signed requests per address.
    pub(crate) limiter: Arc<RateLimiter<Address>>,
    /// Every request per source range (`netrange`).
    pub(crate) range_limiter: Arc<RateLimiter<String>>,
    /// The payout chain (`None`: a devnet).
    pub(crate) chain: Option<Arc<Chain>>,
    /// Wakes the payout worker when a withdrawal is queued.
    pub(crate) payouts: Option<Arc<Notify>>,
    /// Blobs and result blocks.
    pub(crate) data: DataDir,
    /// Models served for embeddings (empty: none).
    pub(crate) models: Arc<ModelRegistry>,
}

/// Why a coordinator did not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error("cannot open database {database:?}: {source}")]
    Database {
        /// What `--database` said.
        database: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The data folder (blobs, results) could not be created.
    #[error("cannot create the data folder: {0}")]
    DataDir(#[source] std::io::Error),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    /// A `--model` folder cannot be served.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A task panicked.
    #[error("coordinator task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// A running coordinator.
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    payouts: Option<JoinHandle<()>>,
    deposits: Option<JoinHandle<()>>,
    db: Db,
}

impl Handle {
    /// The address it listens on (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<local_addr>`, the base URL for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, stops the
    /// background tasks and closes the database.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.stop.send(true);
        let served = self.server.await;
        let _ = self.sweeper.await;
        if let Some(p) = self.payouts {
            let _ = p.await;
        }
        if let Some(d) = self.deposits {
            let _ = d.await;
        }
        self.db.close().await;
        tracing::info!("coordinator stopped");
        served.map_err(StartError::Task)?.map_err(StartError::Serve)
    }

    /// Runs until `signal` completes (e.g. Ctrl-C), then shuts down.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> Result<(), StartError> {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

/// Starts a coordinator: validates the config, opens and migrates the database,
/// binds, and serves in the background.
pub async fn start(config: Config) -> Result<Handle, StartError> {
    config.validate().map_err(StartError::Config)?;
    // Hashing ~90 MB of weights takes a fraction of a second: off the async threads.
    let specs = config.models.clone();
    let models =
        Arc::new(tokio::task::spawn_blocking(move || ModelRegistry::load(&specs)).await.map_err(StartError::Task)??);
    let mut config = config;
    // `--model` folders are the embeddings job kind unless the embedder gave its own.
    if config.embeddings.is_none() && !models.is_empty() {
        let service = crate::embed::service::RegistryService::new(models.clone(), now_ms() / 1000);
        config.embeddings = Some(Arc::new(service));
    }
    let db = store::connect(&config.database).await.map_err(|e| match e {
        sqlx::Error::Migrate(m) => StartError::Migrate(*m),
        source => StartError::Database { database: config.database.clone(), source },
    })?;
    let data = DataDir::open(config.data_dir.as_deref(), &config.database).map_err(StartError::DataDir)?;
    if config.bootstrap_budget > idlewatt_protocol::TokenAmount::ZERO {
        let mut conn =
            db.acquire().await.map_err(|source| StartError::Database { database: config.database.clone(), source })?;
        let added = crate::ledger::top_up_bootstrap(&mut conn, config.bootstrap_budget, now_ms())
            .await
            .map_err(|source| StartError::Database { database: config.database.clone(), source })?;
        tracing::info!(budget = %config.bootstrap_budget, added = %added, "calibration budget");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
    let limiter = Arc::new(RateLimiter::new(config.rate_limit_per_s, config.rate_limit_burst));
    let range_limiter = Arc::new(RateLimiter::new(config.limits.range_rate_per_s, config.limits.range_burst));
    let chain = match &config.chain {
        Some(c) => Some(Arc::new(Chain::new(&c.rpc_url, c.token, c.treasury.clone()).map_err(StartError::Config)?)),
        None => None,
    };
    let payouts = chain.as_ref().map(|_| Arc::new(Notify::new()));
    let (stop, stopped) = watch::channel(false);
    // The payout worker starts with the coordinator, so every withdrawal a crash left
    // unfinished is reconciled with the chain before anything new is paid.
    let payout_task = match (&config.chain, &chain, &payouts) {
        (Some(c), Some(chain), Some(wake)) => {
            let worker =
                crate::payout::Worker::new(db.clone(), (**chain).clone(), c.clone(), config.crash_after_broadcast);
            tracing::info!(chain_id = c.chain_id, token = %c.token, treasury = %chain.treasury(), rpc = %c.rpc_url, "paying out on chain");
            Some(tokio::spawn(worker.run(wake.clone(), stopped.clone())))
        }
        _ => None,
    };
    // Deposits: the token's transfers to the treasury, credited once (persisted cursor).
    let deposit_task = match (&config.chain, &chain) {
        (Some(c), Some(chain)) => {
            let watcher = crate::deposits::Watcher::new(db.clone(), (**chain).clone(), c.clone());
            tracing::info!(confirmations = c.confirmations, from_block = c.deposits_from_block, "watching deposits");
            Some(tokio::spawn(watcher.run(stopped.clone())))
        }
        _ => None,
    };
    let state =
        AppState { db: db.clone(), config: Arc::new(config), limiter, range_limiter, chain, payouts, data, models };

    let app = crate::frontdoor::wrap(crate::routes::router(state.clone()), &state);
    let server = tokio::spawn(crate::serve::serve(listener, app, state.config.limits.clone(), stopped.clone()));
    let sweeper = tokio::spawn(sweep(state.clone(), stopped));
    tracing::info!(%addr, database = %state.config.database, "coordinator listening");
    Ok(Handle { addr, stop, server, sweeper, payouts: payout_task, deposits: deposit_task, db })
}

/// Every second: expire overdue leases (their jobs reopen) and client jobs past their
/// expiry (refunded); every minute: forget stale nonces and collect unreferenced blobs.
async fn sweep(state: AppState, mut stopped: watch::Receiver<bool>) {
    let db = state.db.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        let now = now_ms();
        if let Err(e) = store::expire_overdue(&db, now).await {
            tracing::warn!(error = %e, "lease sweep failed");
        }
        if let Err(e) = crate::client_store::expire_jobs(&db, now).await {
            tracing::warn!(error = %e, "client job expiry failed");
        }
        if n.is_multiple_of(60) {
            match store::purge_nonces(&db, now).await {
                Ok(purged) if purged > 0 => tracing::debug!(purged, "stale nonces forgotten"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "nonce purge failed"),
            }
            if let Err(e) = crate::blobs::collect(&state, now).await {
                tracing::warn!(error = %e, "blob collection failed");
            }
        }
        n += 1;
    }
}
