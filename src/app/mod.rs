//! The desktop app's core, without a window: [`AppCore`] owns the node's lifecycle and
//! answers everything the UI asks, so the Tauri shell is a few lines per command and all
//! of it is tested headless (real GPU, real keyring, real coordinator).
//!
//! - the node starts once onboarding is finished and a wallet exists; a settings change
//!   restarts it; pause, pause-for and resume survive the restart;
//! - the network is the configured coordinator, or the local network the binary embeds
//!   ([`network::Launcher`]), started on first use and kept for the app's life;
//! - the node's events are relayed on one broadcast stream that outlives restarts
//!   ([`AppEvent`]), keeping the state, the last 600 samples and the notification rules
//!   up to date on the way;
//! - [`dto`] holds the shapes of docs/app-ipc.md, [`error::AppError`] the errors.

pub mod address;
pub mod dto;
pub mod error;
pub mod ledger;
pub mod network;
pub mod notices;
pub mod samples;
pub mod updates;
mod views;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Local;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::AccountBalance;
use tokio::sync::{broadcast, oneshot};

use crate::compute::{AdapterPolicy, Engine, GpuProfile, HostProfile};
use crate::config::Settings;
use crate::governor::Pause;
use crate::model_cache::ModelCache;
use crate::network::{CoordinatorClient, ForWalletError, jobs_for_wallet};
use crate::node::{Event, EventKind, Node, NodeConfig, NodeControl, Reason};
use crate::paths::DataDirs;
use crate::wallet::{Overwrite, RevealPhrase, Secret, Wallet, WalletInfo, WordCount};

pub use address::validate_address;
pub use dto::*;
pub use error::{AppError, ErrorKind};
pub use network::{LaunchFuture, Launcher, LocalNetwork};
pub use notices::{Notice, NoticeKind, NoticeRules};
pub use views::TOKEN_SYMBOL;

/// The file whose presence says onboarding is finished.
const ONBOARDED_FILE: &str = "onboarded";
/// Benchmark sizes of the onboarding hardware check (a few seconds on lavapipe, less
/// than one on a real GPU).
const BENCH_SIZES: [u32; 3] = [256, 512, 1024];

/// Settings for tests and development, read from the environment by the binary.
#[derive(Debug, Clone)]
pub struct Overrides {
    /// Idle time after which the owner counts as away, instead of the setting's minutes
    /// (`IDLEWATT_IDLE_AFTER_S`).
    pub idle_after: Option<Duration>,
    /// Largest job side the node asks for (`IDLEWATT_JOB_SIZE`, default 1024).
    pub max_job_dim: u32,
    /// "Earning stopped" after this long without a job while away (`IDLEWATT_STALL_AFTER_S`).
    pub stall_after: Duration,
}

impl Default for Overrides {
    fn default() -> Self {
        Self { idle_after: None, max_job_dim: 1024, stall_after: notices::STALL_AFTER }
    }
}

impl Overrides {
    /// From `IDLEWATT_IDLE_AFTER_S`, `IDLEWATT_JOB_SIZE`, `IDLEWATT_STALL_AFTER_S` (unset or
    /// unparsable: the default, with a warning for the latter).
    pub fn from_env() -> Self {
        fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
            let v = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            let parsed = v.trim().parse().ok();
            if parsed.is_none() {
                tracing::warn!(name, value = %v, "ignoring an unparsable override");
            }
            parsed
        }
        let d = Self::default();
        Self {
            idle_after: var::<f64>("IDLEWATT_IDLE_AFTER_S").and_then(|s| Duration::try_from_secs_f64(s).ok()),
            max_job_dim: var::<u32>("IDLEWATT_JOB_SIZE").filter(|n| (1..=16384).contains(n)).unwrap_or(d.max_job_dim),
            stall_after: var::<u64>("IDLEWATT_STALL_AFTER_S").map_or(d.stall_after, Duration::from_secs),
        }
    }
}

/// What the app publishes (the shell turns each into a Tauri event, a tray update or a
/// notification).
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// A node event, as the node sent it.
    Node(Event),
    /// The status changed (state, pause, onboarding, network).
    Status(Status),
    /// The balance changed.
    Balance(Balance),
    /// A withdrawal changed.
    Withdrawal(WithdrawalView),
    /// Something to tell the owner.
    Notice(Notice),
    /// Benchmark progress, 0–1.
    BenchProgress(f64),
}

/// The running node: its control, the way to stop it, its thread.
#[derive(Debug)]
struct RunningNode {
    control: NodeControl,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// What starts and stops.
#[derive(Debug, Default)]
struct Life {
    network: Option<network::Network>,
    node: Option<RunningNode>,
    /// Set by [`AppCore::shutdown`]: nothing starts again afterwards (a late background
    /// call — a balance refresh, a price list — must not restart the local network
    /// while the app quits).
    closed: bool,
}

/// What the UI sees, kept up to date by the relay.
#[derive(Debug)]
struct View {
    state: AppState,
    reason: Option<Reason>,
    samples: samples::SampleRing,
    balance: Option<Balance>,
}

type GpuProbe = (Result<GpuProfile, String>, HostProfile);

struct Shared {
    data: DataDirs,
    wallet: Wallet,
    launcher: Launcher,
    overrides: Overrides,
    settings: Mutex<Settings>,
    view: Mutex<View>,
    pause: Mutex<Option<Pause>>,
    challenge: Mutex<Option<Vec<usize>>>,
    rules: Mutex<NoticeRules>,
    gpu: Mutex<Option<Arc<GpuProbe>>>,
    /// Earnings per day (`earnings.json`).
    ledger: Mutex<ledger::Ledger>,
    /// The network's URL once started (readable while `life` is locked).
    net_url: Mutex<Option<String>>,
    events: broadcast::Sender<AppEvent>,
    /// Why `settings.json` could not be loaded (the node does not start until saved).
    settings_error: Mutex<Option<String>>,
    life: tokio::sync::Mutex<Life>,
}

/// The app without its window. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct AppCore(Arc<Shared>);

impl std::fmt::Debug for AppCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCore").field("data", &self.0.data).finish_non_exhaustive()
    }
}

/// Locks a mutex even if a panicking thread poisoned it (the data are snapshots).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn blocking_failed(e: tokio::task::JoinError) -> AppError {
    AppError::internal("running a background task", e)
}

impl AppCore {
    /// The app for the data folder `data` and its `wallet`; `launcher` starts the local
    /// network. Settings that cannot be loaded are reported in the log and the defaults
    /// apply (a corrupt file was moved aside by `config`); nothing is overwritten until
    /// the owner saves.
    pub fn new(data: DataDirs, wallet: Wallet, launcher: Launcher, overrides: Overrides) -> Self {
        // Settings that cannot be read are shown as the defaults for the owner to review,
        // but the node does not start on them (the owner's limits are never guessed):
        // saving settings again clears this, and keeps a copy of the damaged file.
        let (settings, settings_error) = match Settings::load(&data) {
            Ok(s) => (s, None),
            Err(e) => {
                tracing::warn!(%e, "settings not loaded: the node waits until they are saved again");
                (Settings::default(), Some(e.to_string()))
            }
        };
        let (events, _) = broadcast::channel(1024);
        let onboarded = data.join(ONBOARDED_FILE).exists();
        let ledger = ledger::Ledger::load(&data.join(ledger::FILE_NAME));
        Self(Arc::new(Shared {
            rules: Mutex::new(NoticeRules::new(overrides.stall_after)),
            data,
            wallet,
            launcher,
            overrides,
            settings: Mutex::new(settings),
            settings_error: Mutex::new(settings_error),
            view: Mutex::new(View {
                state: if onboarded { AppState::Starting } else { AppState::Setup },
                reason: None,
                samples: samples::SampleRing::default(),
                balance: None,
            }),
            pause: Mutex::new(None),
            challenge: Mutex::new(None),
            gpu: Mutex::new(None),
            net_url: Mutex::new(None),
            ledger: Mutex::new(ledger),
            events,
            life: tokio::sync::Mutex::new(Life::default()),
        }))
    }

    /// The data folder.
    pub fn data(&self) -> &DataDirs {
        &self.0.data
    }

    /// Everything the app publishes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.0.events.subscribe()
    }

    fn publish(&self, event: AppEvent) {
        let _ = self.0.events.send(event);
    }

    /// Starts what should run at launch: the node, if onboarding is finished and there is
    /// a wallet. A failure is reported in the status (and as a notice), not returned: the
    /// app keeps running and the owner sees what to do.
    pub async fn start(&self) {
        if !self.onboarded() {
            return;
        }
        let mut life = self.0.life.lock().await;
        if let Err(e) = self.start_node(&mut life).await {
            tracing::warn!(%e, "the node did not start");
        }
    }

    /// Stops the node (it keeps its interrupted job) and the local network.
    pub async fn shutdown(&self) {
        let mut life = self.0.life.lock().await;
        life.closed = true;
        self.stop_node(&mut life).await;
        if let Some(network) = life.network.take() {
            *lock(&self.0.net_url) = None;
            network.stop().await;
        }
    }

    // --- status, pause ---

    /// Onboarding is finished.
    pub fn onboarded(&self) -> bool {
        self.0.data.join(ONBOARDED_FILE).exists()
    }

    /// The status now.
    pub fn status(&self) -> Status {
        let pause = self.current_pause();
        let view = lock(&self.0.view);
        let settings = lock(&self.0.settings);
        let (state, reason) =
            if self.onboarded() { (view.state, view.reason.clone()) } else { (AppState::Setup, None) };
        Status {
            state,
            reason,
            paused_until_ms: pause.and_then(|p| p.until).map(|t| t.timestamp_millis()),
            onboarded: self.onboarded(),
            network: NetworkRef {
                embedded: settings.coordinator_url.is_none(),
                url: settings.coordinator_url.clone().or_else(|| lock(&self.0.net_url).clone()),
            },
        }
    }

    /// The pause in force (an expired timed pause is dropped).
    fn current_pause(&self) -> Option<Pause> {
        let mut pause = lock(&self.0.pause);
        if pause.is_some_and(|p| p.until.is_some_and(|end| end <= Local::now().fixed_offset())) {
            *pause = None;
        }
        *pause
    }

    async fn control(&self) -> Option<NodeControl> {
        self.0.life.lock().await.node.as_ref().map(|n| n.control.clone())
    }

    /// Pauses for `minutes`, or until resumed (`None`).
    pub async fn pause(&self, minutes: Option<u32>) -> Status {
        let until = minutes.map(|m| Local::now().fixed_offset() + chrono::Duration::minutes(i64::from(m)));
        *lock(&self.0.pause) = Some(Pause { until });
        if let Some(c) = self.control().await {
            c.pause(until);
        }
        let status = self.status();
        self.publish(AppEvent::Status(status.clone()));
        status
    }

    /// Resumes after a pause.
    pub async fn resume(&self) -> Status {
        *lock(&self.0.pause) = None;
        if let Some(c) = self.control().await {
            c.resume();
        }
        let status = self.status();
        self.publish(AppEvent::Status(status.clone()));
        status
    }

    /// The last ≤ 600 sample events, oldest first.
    pub fn recent_samples(&self) -> Vec<Event> {
        lock(&self.0.view).samples.to_vec()
    }

    // --- onboarding ---

    /// Marks onboarding finished and starts the node (a wallet must exist).
    pub async fn finish_onboarding(&self) -> Result<Status, AppError> {
        self.wallet_info().await?.ok_or_else(|| AppError::from(crate::wallet::WalletError::NoWallet))?;
        std::fs::write(self.0.data.join(ONBOARDED_FILE), b"1\n")
            .map_err(|e| AppError::internal("saving that onboarding is finished", e))?;
        let mut life = self.0.life.lock().await;
        let started = self.start_node(&mut life).await;
        drop(life);
        started?;
        let status = self.status();
        self.publish(AppEvent::Status(status.clone()));
        Ok(status)
    }

    // --- node lifecycle ---

    fn set_view(&self, state: AppState, reason: Option<Reason>) {
        {
            let mut view = lock(&self.0.view);
            view.state = state;
            view.reason = reason;
        }
        self.publish(AppEvent::Status(self.status()));
    }

    async fn ensure_network<'a>(&self, life: &'a mut Life) -> Result<&'a network::Network, AppError> {
        if life.closed {
            return Err(AppError::new(ErrorKind::Network, "Idlewatt is closing.".to_owned()));
        }
        if life.network.is_none() {
            let url = lock(&self.0.settings).coordinator_url.clone();
            let started = network::Network::start(url.as_deref(), &self.0.launcher, &self.0.data).await.map_err(|m| {
                AppError::new(ErrorKind::Network, format!("The local network could not start: {m}. Restart Idlewatt; if it keeps happening, send the log file to support."))
            })?;
            *lock(&self.0.net_url) = Some(started.url.clone());
            life.network = Some(started);
        }
        life.network.as_ref().ok_or_else(|| AppError::internal("starting the network", "no network after start"))
    }

    async fn start_node(&self, life: &mut Life) -> Result<(), AppError> {
        if life.node.is_some() || life.closed {
            return Ok(());
        }
        let damaged = lock(&self.0.settings_error).clone();
        if let Some(message) = damaged {
            self.set_view(AppState::Error, Some(Reason::SettingsDamaged { message: message.clone() }));
            return Err(AppError::new(ErrorKind::InvalidSetting, message));
        }
        self.set_view(AppState::Starting, Some(Reason::Starting));
        let url = match self.ensure_network(life).await {
            Ok(n) => n.url.clone(),
            Err(e) => {
                self.set_view(AppState::Offline, Some(Reason::JobSourceUnavailable { message: e.message.clone() }));
                return Err(e);
            }
        };
        let settings = lock(&self.0.settings).clone();
        let (data, wallet, max_dim) = (self.0.data.clone(), self.0.wallet.clone(), self.0.overrides.max_job_dim);
        let quota = settings.model_quota_bytes();
        let (jobs, idle) = tokio::task::spawn_blocking(move || {
            (jobs_for_wallet(&url, &wallet, &data, max_dim, quota), crate::idle::detect())
        })
        .await
        .map_err(blocking_failed)?;
        let jobs = match jobs {
            Ok(jobs) => jobs,
            Err(ForWalletError::Wallet(e)) => {
                let keyring = e.is_keyring_unavailable();
                let e = AppError::from(e);
                if keyring {
                    self.publish(AppEvent::Notice(Notice::keyring(&e.message)));
                }
                self.set_view(AppState::Error, Some(Reason::JobSourceUnavailable { message: e.message.clone() }));
                return Err(e);
            }
            Err(ForWalletError::Jobs(e)) => {
                let e = AppError::internal("setting up the network client", e);
                self.set_view(AppState::Error, Some(Reason::JobSourceUnavailable { message: e.message.clone() }));
                return Err(e);
            }
        };
        if let Err(e) = &idle {
            tracing::warn!(%e, "no idle detection");
        }
        let mut config = NodeConfig::new(self.0.data.clone(), settings);
        if let Some(d) = self.0.overrides.idle_after {
            config.idle_after = d;
        }
        config.adapter = config.adapter.with_env();
        let node = Node::new(config, idle, Box::new(jobs));
        let control = node.control();
        if let Some(p) = self.current_pause() {
            control.pause(p.until);
        }
        let events = node.subscribe();
        tokio::spawn(self.clone().relay(events));
        let (stop, stopped) = oneshot::channel::<()>();
        let me = self.clone();
        // The node runs on its own thread with its own small runtime: its loop owns
        // the GPU worker and the idle watcher, and needs nothing from the app's.
        let thread = std::thread::Builder::new()
            .name("idlewatt-node".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(%e, "cannot start the node's runtime");
                        drop(node);
                        return;
                    }
                };
                let result = runtime.block_on(node.run(async {
                    let _ = stopped.await;
                }));
                if let Err(e) = result {
                    let e = AppError::internal("running the node", e);
                    me.set_view(AppState::Error, Some(Reason::GpuUnavailable { message: e.message }));
                }
            })
            .map_err(|e| AppError::internal("starting the node", e))?;
        life.node = Some(RunningNode { control, stop, thread });
        Ok(())
    }

    async fn stop_node(&self, life: &mut Life) {
        if let Some(node) = life.node.take() {
            let _ = node.stop.send(());
            let _ = tokio::task::spawn_blocking(move || node.thread.join()).await;
        }
    }

    /// Restarts the node with the current settings and wallet (if it was running, or
    /// onboarding is finished).
    async fn restart(&self, network_changed: bool) -> Result<(), AppError> {
        let mut life = self.0.life.lock().await;
        self.stop_node(&mut life).await;
        if network_changed && let Some(n) = life.network.take() {
            *lock(&self.0.net_url) = None;
            n.stop().await;
        }
        if self.onboarded() { self.start_node(&mut life).await } else { Ok(()) }
    }

    async fn relay(self, mut events: broadcast::Receiver<Event>) {
        loop {
            match events.recv().await {
                Ok(event) => self.on_node_event(event),
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::debug!(n, "relay lagged"),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }

    fn on_node_event(&self, event: Event) {
        let notice = lock(&self.0.rules).on_event(&event.kind, Instant::now());
        let mut status_changed = false;
        match &event.kind {
            EventKind::State { state, reason } => {
                let mut view = lock(&self.0.view);
                view.state = (*state).into();
                view.reason = Some(reason.clone());
                status_changed = true;
            }
            EventKind::Sample(_) => lock(&self.0.view).samples.push(event.clone()),
            EventKind::JobDone { .. } => {
                let me = self.clone();
                tokio::spawn(async move {
                    let _ = me.balance().await;
                });
            }
            EventKind::Progress { .. } | EventKind::DownloadProgress { .. } | EventKind::Yielded { .. } => {}
        }
        self.publish(AppEvent::Node(event));
        if status_changed {
            self.publish(AppEvent::Status(self.status()));
        }
        if let Some(n) = notice {
            self.publish(AppEvent::Notice(n));
        }
    }

    // --- hardware, benchmark, network ---

    async fn gpu_probe(&self) -> Result<Arc<GpuProbe>, AppError> {
        if let Some(p) = lock(&self.0.gpu).clone() {
            return Ok(p);
        }
        let probe = Arc::new(tokio::task::spawn_blocking(views::probe_gpu).await.map_err(blocking_failed)?);
        *lock(&self.0.gpu) = Some(probe.clone());
        Ok(probe)
    }

    /// The GPU (opened once and remembered), the host and a fresh sensor reading.
    pub async fn hardware(&self) -> Result<Hardware, AppError> {
        let probe = self.gpu_probe().await?;
        let settings = self.settings();
        tokio::task::spawn_blocking(move || views::hardware(&probe.0, &probe.1, &settings))
            .await
            .map_err(blocking_failed)
    }

    /// The downloaded AI models and the space they may use.
    pub async fn models(&self) -> Result<ModelStorage, AppError> {
        let cache = ModelCache::in_data(&self.0.data, self.settings().model_quota_bytes());
        tokio::task::spawn_blocking(move || views::model_storage(&cache)).await.map_err(blocking_failed)
    }

    /// Deletes every downloaded model (the next embeddings job downloads its model
    /// again); returns what is left.
    pub async fn clear_models(&self) -> Result<ModelStorage, AppError> {
        let cache = ModelCache::in_data(&self.0.data, self.settings().model_quota_bytes());
        tokio::task::spawn_blocking(move || {
            let freed = cache.clear()?;
            tracing::info!(freed, "the owner cleared the downloaded models");
            Ok(views::model_storage(&cache))
        })
        .await
        .map_err(blocking_failed)?
    }

    /// A short matmul benchmark on the GPU (progress as [`AppEvent::BenchProgress`]),
    /// with the earnings per idle hour it means at the network's current reward.
    pub async fn run_benchmark(&self) -> Result<BenchSummary, AppError> {
        let policy = AdapterPolicy { allow_software: self.settings().allow_software_adapter }.with_env();
        let events = self.0.events.clone();
        let report = tokio::task::spawn_blocking(move || {
            let engine = Engine::new(policy)?;
            // At most one event per percent: the tuned kernels report many short slices,
            // and a flood would push other events out of the broadcast channel.
            let mut last = -1.0f64;
            crate::bench::run(&engine, &BENCH_SIZES, &mut |p| {
                if p.fraction_done - last >= 0.01 {
                    last = p.fraction_done;
                    let _ = events.send(AppEvent::BenchProgress(p.fraction_done));
                }
            })
        })
        .await
        .map_err(blocking_failed)??;
        self.publish(AppEvent::BenchProgress(1.0));
        let best = report.results.last().ok_or_else(|| AppError::internal("running the benchmark", "no results"))?;
        let worst_err = report.results.iter().map(|r| r.max_relative_error).fold(0.0, f64::max);
        // What a node is paid for client work: the price list's rate minus the operator's
        // fee (`GET /v1/prices`); an older coordinator without a price list: its rate.
        let reward = match self.prices().await {
            Ok(p) => Some(p.node_share(p.matmul_per_tflop)),
            Err(_) => self.network_status().await.ok().map(|s| s.reward_per_tflop),
        };
        let est = reward.and_then(|per_tflop| {
            let flops_per_hour = best.gpu_gflops * 1e9 * 3600.0;
            TokenAmount::for_flops(flops_per_hour as u128, per_tflop).map(TokenAmount::to_token_string)
        });
        Ok(BenchSummary { gflops: best.gpu_gflops, size: best.size, max_rel_err: worst_err, est_tokens_per_hour: est })
    }

    async fn prices(&self) -> Result<idlewatt_protocol::client::PriceList, AppError> {
        let url = self.network_url().await?;
        Ok(CoordinatorClient::read_only(&url)?.prices().await?)
    }

    async fn network_status(&self) -> Result<idlewatt_protocol::wire::NetworkStatus, AppError> {
        let url = self.network_url().await?;
        Ok(CoordinatorClient::read_only(&url)?.network_status().await?)
    }

    async fn network_url(&self) -> Result<String, AppError> {
        let mut life = self.0.life.lock().await;
        Ok(self.ensure_network(&mut life).await?.url.clone())
    }

    /// The network, and whether it answers.
    pub async fn network(&self) -> Result<NetworkInfo, AppError> {
        let embedded = self.settings().coordinator_url.is_none();
        let url = self.network_url().await?;
        let answer = match CoordinatorClient::read_only(&url) {
            Ok(client) => client.network_status().await.map_err(AppError::from),
            Err(e) => Err(e.into()),
        };
        let (reachable, reward, message) = match answer {
            Ok(s) => {
                let per_gflop = TokenAmount(s.reward_per_tflop.0 / 1000).to_token_string();
                (true, Some(per_gflop), None)
            }
            Err(e) => (false, None, Some(e.message)),
        };
        Ok(NetworkInfo {
            url,
            embedded,
            reachable,
            token_symbol: TOKEN_SYMBOL.into(),
            reward_per_gflop: reward,
            message,
        })
    }

    /// Demand and prices on the network ("paid work waiting: N jobs", the price list),
    /// and whether the local network's demo client is the one submitting the jobs.
    pub async fn market(&self) -> Result<Market, AppError> {
        let (url, embedded, demo_client) = {
            let mut life = self.0.life.lock().await;
            let net = self.ensure_network(&mut life).await?;
            (net.url.clone(), net.local.is_some(), net.demo.is_some())
        };
        let client = CoordinatorClient::read_only(&url)?;
        let (status, prices) = tokio::join!(client.network_status(), client.prices());
        let status = status.map_err(|e| AppError::from(e).message);
        Ok(views::market(status, prices.ok().as_ref(), embedded, demo_client))
    }

    // --- wallet ---

    async fn wallet_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Wallet) -> Result<T, crate::wallet::WalletError> + Send + 'static,
    ) -> Result<T, AppError> {
        let wallet = self.0.wallet.clone();
        Ok(tokio::task::spawn_blocking(move || f(&wallet)).await.map_err(blocking_failed)??)
    }

    fn wallet_view(info: &WalletInfo) -> WalletView {
        WalletView { address: info.address.to_checksum(None), backed_up: info.backed_up, created_at_ms: None }
    }

    /// The wallet, if there is one.
    pub async fn wallet_info(&self) -> Result<Option<WalletView>, AppError> {
        Ok(self.wallet_call(Wallet::info).await?.as_ref().map(Self::wallet_view))
    }

    /// Creates a wallet of `words` words (12 or 24), replacing none. The phrase is in the
    /// answer only: show it once.
    pub async fn wallet_create(&self, words: u32) -> Result<NewWalletView, AppError> {
        let count = match words {
            12 => WordCount::Twelve,
            24 => WordCount::TwentyFour,
            _ => return Err(AppError::new(ErrorKind::InvalidInput, "A recovery phrase has 12 or 24 words.")),
        };
        let created = self.wallet_call(move |w| w.create(count, Overwrite::Refuse)).await?;
        *lock(&self.0.challenge) = None;
        let phrase = created.phrase.expose().split_whitespace().map(str::to_owned).collect();
        self.wallet_changed().await;
        Ok(NewWalletView { address: created.info.address.to_checksum(None), phrase })
    }

    /// Three word positions (1-based) the owner must type to prove the backup.
    pub async fn wallet_backup_challenge(&self) -> Result<Vec<u32>, AppError> {
        let positions = self.wallet_call(Wallet::backup_challenge).await?;
        *lock(&self.0.challenge) = Some(positions.clone());
        Ok(positions.into_iter().map(|p| u32::try_from(p).unwrap_or(u32::MAX)).collect())
    }

    /// Checks the words for the last challenge's positions, in order.
    pub async fn wallet_confirm_backup(&self, answers: Vec<String>) -> Result<WalletView, AppError> {
        let positions = lock(&self.0.challenge).clone().ok_or_else(|| {
            AppError::new(ErrorKind::Wallet, "Ask for the words to confirm first (the backup check was not started).")
        })?;
        if answers.len() != positions.len() {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                format!("Type the {} words asked for, one in each field.", positions.len()),
            ));
        }
        let info = self
            .wallet_call(move |w| {
                let pairs: Vec<(usize, &str)> =
                    positions.iter().copied().zip(answers.iter().map(String::as_str)).collect();
                w.confirm_backup(&pairs)
            })
            .await?;
        *lock(&self.0.challenge) = None;
        Ok(Self::wallet_view(&info))
    }

    /// The recovery phrase, word by word (the UI asked the owner to confirm).
    pub async fn wallet_reveal_phrase(&self) -> Result<Vec<String>, AppError> {
        let phrase = self.wallet_call(|w| w.show_phrase(RevealPhrase::IUnderstandAnyoneWithItCanTakeMyFunds)).await?;
        Ok(phrase.expose().split_whitespace().map(str::to_owned).collect())
    }

    /// Imports a phrase or a 0x private key, replacing the wallet on this computer (the
    /// UI warned the owner first).
    pub async fn wallet_import(&self, secret: String) -> Result<WalletView, AppError> {
        let secret = zeroize::Zeroizing::new(secret);
        let info = self
            .wallet_call(move |w| {
                let parsed = Secret::parse(&secret)?;
                w.import(&parsed, Overwrite::ReplaceExisting)
            })
            .await?;
        self.wallet_changed().await;
        Ok(Self::wallet_view(&info))
    }

    /// Erases the wallet from this computer (the UI made sure the owner has the phrase).
    pub async fn wallet_delete(&self) -> Result<(), AppError> {
        self.wallet_call(|w| w.delete(crate::wallet::ConfirmDelete::EraseKeyFromThisComputer)).await?;
        let mut life = self.0.life.lock().await;
        self.stop_node(&mut life).await;
        drop(life);
        lock(&self.0.view).balance = None;
        self.set_view(
            AppState::Error,
            Some(Reason::JobSourceUnavailable {
                message: "There is no wallet on this computer: create one or import yours on the Wallet page.".into(),
            }),
        );
        Ok(())
    }

    /// The node's identity changed: a running node restarts with the new key.
    async fn wallet_changed(&self) {
        lock(&self.0.view).balance = None;
        if self.onboarded()
            && let Err(e) = self.restart(false).await
        {
            tracing::warn!(%e, "the node did not restart with the new wallet");
        }
    }

    // --- money ---

    async fn account(&self) -> Result<(AccountBalance, bool), AppError> {
        let address = self
            .wallet_call(Wallet::info)
            .await?
            .map(|i| i.address)
            .ok_or_else(|| AppError::from(crate::wallet::WalletError::NoWallet))?;
        let embedded = self.settings().coordinator_url.is_none();
        // Signed as the wallet when its key is at hand: the job history is shown to the
        // account's owner only; the balances alone to anyone.
        let client = match self.signing_client().await {
            Ok((client, _)) => client,
            Err(_) => CoordinatorClient::read_only(&self.network_url().await?)?,
        };
        let account = client.balance(address).await;
        match account {
            Ok(a) => {
                self.count_jobs(&a);
                Ok((a, embedded))
            }
            // A new node the coordinator has not seen yet has earned nothing.
            Err(crate::network::ClientError::Api { kind: idlewatt_protocol::wire::ErrorKind::NotFound, .. }) => Ok((
                AccountBalance {
                    address,
                    pending: TokenAmount::ZERO,
                    verified: TokenAmount::ZERO,
                    withdrawable: TokenAmount::ZERO,
                    recent_jobs: Vec::new(),
                },
                embedded,
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Counts the account's newly decided jobs in the ledger (saved when it changed).
    fn count_jobs(&self, account: &AccountBalance) {
        let mut ledger = lock(&self.0.ledger);
        if ledger.observe(&account.recent_jobs)
            && let Err(e) = ledger.save(&self.0.data.join(ledger::FILE_NAME))
        {
            tracing::warn!(%e, "could not save the earnings ledger");
        }
    }

    /// The balance fetched last (no network call), for the tray.
    pub fn cached_balance(&self) -> Option<Balance> {
        lock(&self.0.view).balance.clone()
    }

    /// The wallet's balance on the network; publishes [`AppEvent::Balance`] when it changed.
    pub async fn balance(&self) -> Result<Balance, AppError> {
        let (account, devnet) = self.account().await?;
        let demo = crate::client::demo::addresses(&self.0.data);
        let balance = views::balance(&account, devnet, &lock(&self.0.ledger), &demo);
        let changed = {
            let mut view = lock(&self.0.view);
            let changed = view.balance.as_ref() != Some(&balance);
            view.balance = Some(balance.clone());
            changed
        };
        if changed {
            self.publish(AppEvent::Balance(balance.clone()));
        }
        Ok(balance)
    }

    /// Energy of the last `days` days (1–366), with each day's earnings when the network
    /// answers (zero otherwise).
    pub async fn energy(&self, days: u32) -> Result<EnergyReport, AppError> {
        // Brings the ledger up to date when the network answers; its days are shown anyway.
        let _ = self.account().await;
        let (data, settings, ledger) = (self.0.data.clone(), self.settings(), lock(&self.0.ledger).clone());
        tokio::task::spawn_blocking(move || views::energy(&data, &settings, days, &ledger))
            .await
            .map_err(blocking_failed)?
    }

    /// Checks a withdrawal address.
    pub fn validate_address(&self, address: &str) -> AddressCheck {
        validate_address(address)
    }

    /// A client that signs as the wallet, and the wallet's signer.
    async fn signing_client(&self) -> Result<(CoordinatorClient, Arc<crate::wallet::WalletSigner>), AppError> {
        let signer = Arc::new(self.wallet_call(Wallet::signer).await?);
        let url = self.network_url().await?;
        Ok((CoordinatorClient::new(&url, signer.clone())?, signer))
    }

    /// Withdraws `amount` tokens (a decimal string) to `to` (EIP-55 checked); the answer
    /// is the queued withdrawal, and [`AppEvent::Withdrawal`] follows it until it is
    /// confirmed or failed.
    pub async fn withdraw(&self, to: &str, amount: &str) -> Result<WithdrawalView, AppError> {
        let check = validate_address(to);
        if !check.ok {
            return Err(AppError::new(ErrorKind::InvalidInput, check.message.unwrap_or_default()));
        }
        let (client, signer) = self.signing_client().await?;
        let journal = crate::network::WithdrawalJournal::in_dir(self.0.data.root());
        let info = crate::network::withdraw(&client, signer.as_ref(), &journal, to, amount).await?;
        let view = views::withdrawal(&info);
        self.publish(AppEvent::Withdrawal(view.clone()));
        tokio::spawn(self.clone().follow_withdrawal(client, view.clone()));
        let _ = self.balance().await;
        Ok(view)
    }

    /// Polls a withdrawal until it is final, publishing each change.
    async fn follow_withdrawal(self, client: CoordinatorClient, mut last: WithdrawalView) {
        let mut wait = Duration::from_millis(500);
        while !matches!(last.status, WithdrawalStatus::Confirmed | WithdrawalStatus::Failed) {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(15));
            match client.withdrawal(&last.id).await {
                Ok(info) => {
                    let view = views::withdrawal(&info);
                    if view != last {
                        self.publish(AppEvent::Withdrawal(view.clone()));
                        last = view;
                    }
                }
                Err(e) => tracing::debug!(%e, id = %last.id, "withdrawal status not read"),
            }
        }
        let _ = self.balance().await;
    }

    /// The wallet's withdrawals, newest first.
    pub async fn withdrawals(&self) -> Result<Vec<WithdrawalView>, AppError> {
        let address = self
            .wallet_call(Wallet::info)
            .await?
            .map(|i| i.address)
            .ok_or_else(|| AppError::from(crate::wallet::WalletError::NoWallet))?;
        let url = self.network_url().await?;
        let list = CoordinatorClient::read_only(&url)?.withdrawals(address).await?;
        Ok(list.iter().map(views::withdrawal).collect())
    }

    // --- settings ---

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        lock(&self.0.settings).clone()
    }

    /// Validates and saves `settings`; a running node restarts with them (and the local
    /// network, when the coordinator changed). A bad value is an
    /// [`ErrorKind::InvalidSetting`] naming its key, and nothing is saved.
    pub async fn save_settings(&self, settings: Settings) -> Result<Settings, AppError> {
        settings.save(&self.0.data)?;
        let was_damaged = lock(&self.0.settings_error).take().is_some();
        let old = std::mem::replace(&mut *lock(&self.0.settings), settings.clone());
        if was_damaged {
            // The owner has reviewed and saved: the node may start on these.
            self.publish(AppEvent::Status(self.status()));
            self.restart(false).await?;
            return Ok(settings);
        }
        if old == settings {
            return Ok(settings);
        }
        // The shell follows (the tray's language, for one).
        self.publish(AppEvent::Status(self.status()));
        // Only what the node uses restarts it (language and autostart are the shell's).
        let node_relevant = |s: &Settings| Settings { language: None, autostart: false, ..s.clone() };
        if node_relevant(&old) != node_relevant(&settings) {
            self.restart(old.coordinator_url != settings.coordinator_url).await?;
        }
        Ok(settings)
    }
}
