//! The node: the agent that ties idle detection, limits, the GPU and the job source
//! together as a state machine (DESIGN §2) and publishes what it does as events.
//!
//! Three threads of control, each with one job:
//! - the control loop ([`Node::run`], async): once a second decides whether the node
//!   may compute and moves between states;
//! - the idle watcher ([`watcher`]): reads idle time, and while the GPU works, stops it
//!   itself within milliseconds of the owner's return;
//! - the compute worker ([`worker`]): owns the GPU only while computing, suspends and
//!   keeps interrupted jobs, resumes them later.

pub mod events;
pub mod jobs;
pub mod partial;
mod watcher;
mod worker;

use std::future::Future;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::{broadcast, mpsc};

pub use events::{Event, EventKind, NodeState, Reason};
pub use jobs::{Job, JobSource, JobSourceError, LocalJobs};

use crate::compute::{AdapterPolicy, CancelToken};
use crate::idle::{IdleError, IdleSource};
use crate::paths::DataDirs;
use watcher::Watcher;
use worker::{Command, Duty, Report, Worker};

/// When the node may compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunWhen {
    /// Only while the owner is away (the default).
    Idle,
    /// Whenever limits allow: for machines nobody sits at.
    Always,
}

/// How the node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Idle-only or always.
    pub when: RunWhen,
    /// Idle time after which the owner counts as away.
    pub idle_after: Duration,
    /// Which GPUs may be used.
    pub adapter: AdapterPolicy,
    /// The data folder (interrupted jobs are kept here).
    pub data: DataDirs,
    /// Control-loop and idle poll period while waiting.
    pub tick: Duration,
    /// Idle poll period while computing.
    pub computing_poll: Duration,
    /// Back-off after a GPU or job-source failure.
    pub retry_after: Duration,
}

impl NodeConfig {
    /// Defaults: idle after 5 minutes, poll once a second while waiting and every 5 ms
    /// while computing.
    pub fn new(data: DataDirs) -> Self {
        Self {
            when: RunWhen::Idle,
            idle_after: Duration::from_secs(300),
            adapter: AdapterPolicy::default(),
            data,
            tick: Duration::from_secs(1),
            computing_poll: Duration::from_millis(5),
            retry_after: Duration::from_secs(30),
        }
    }
}

/// Errors that stop the node from starting.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The compute thread could not be started.
    #[error("cannot start the compute thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The node agent.
pub struct Node {
    config: NodeConfig,
    idle: Result<Box<dyn IdleSource>, IdleError>,
    jobs: Box<dyn JobSource>,
    events: broadcast::Sender<Event>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What the control loop decided this tick.
struct Target {
    compute: bool,
    state: NodeState,
    reason: Reason,
}

impl Node {
    /// A node with an idle source (or the reason there is none) and a job source.
    pub fn new(config: NodeConfig, idle: Result<Box<dyn IdleSource>, IdleError>, jobs: Box<dyn JobSource>) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self { config, idle, jobs, events }
    }

    /// A receiver of the node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Runs until `shutdown` completes; then stops the GPU, keeps the interrupted job on
    /// disk and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
        let Node { config, idle, jobs, events } = self;
        let cancel = CancelToken::new();
        let duty = Duty::new(1.0);
        let (report_tx, mut reports) = mpsc::unbounded_channel();
        let mut worker = Worker::spawn(
            config.adapter,
            jobs,
            config.data.root().to_path_buf(),
            cancel.clone(),
            duty.clone(),
            events.clone(),
            report_tx,
        )?;
        let (watcher, no_idle) = match idle {
            Ok(source) => {
                let guard = config.when == RunWhen::Idle;
                let limit = if guard { config.idle_after } else { Duration::ZERO };
                (Some(Watcher::spawn(source, limit, config.tick, config.computing_poll, cancel.clone())), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        let emit = |kind| {
            let _ = events.send(Event::now(kind));
        };
        let mut state = NodeState::Waiting;
        let mut reason = Reason::Starting;
        emit(EventKind::State { state, reason: reason.clone() });

        let mut computing = false;
        let mut blocked_until: Option<(Instant, NodeState, Reason)> = None;
        let mut tick = tokio::time::interval(config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);

        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
                Some(report) = reports.recv() => match report {
                    Report::Stopped { at, kept_fraction } => {
                        computing = false;
                        if let Some(w) = &watcher { w.guard(false); }
                        // Set only when the watcher itself stopped the GPU for the owner.
                        let latency_ms = watcher.as_ref().and_then(Watcher::owner_back_at)
                            .map(|input| at.saturating_duration_since(input).as_secs_f64() * 1e3);
                        emit(EventKind::Yielded { latency_ms, kept_fraction });
                    }
                    Report::GpuError(e) => {
                        tracing::warn!(%e, "GPU unavailable");
                        blocked_until = Some((Instant::now() + config.retry_after, NodeState::Error, Reason::GpuUnavailable { message: e.to_string() }));
                    }
                    Report::SourceError(e) => {
                        tracing::warn!(%e, "job source unavailable");
                        blocked_until = Some((Instant::now() + config.retry_after, NodeState::Offline, Reason::JobSourceUnavailable { message: e.to_string() }));
                    }
                },
            }

            let target = decide(&config, watcher.as_ref(), no_idle.as_deref(), &mut blocked_until);
            if target.compute && !computing {
                cancel.reset();
                duty.set(1.0);
                if let Some(w) = &watcher {
                    w.guard(config.when == RunWhen::Idle);
                }
                if worker.commands.send(Command::Compute).is_ok() {
                    computing = true;
                }
            } else if !target.compute && computing && !cancel.is_cancelled() {
                cancel.cancel();
            }
            let (new_state, new_reason) = if computing && cancel.is_cancelled() {
                let owner_back = watcher.as_ref().and_then(Watcher::owner_back_at).is_some();
                (NodeState::Yielding, if owner_back { Reason::OwnerReturned } else { target.reason })
            } else {
                (target.state, target.reason)
            };
            if new_state != state || new_reason != reason {
                state = new_state;
                reason = new_reason;
                emit(EventKind::State { state, reason: reason.clone() });
            }
        }

        // Shutdown: stop the GPU, let the worker save the interrupted job, join it.
        cancel.cancel();
        emit(EventKind::State { state: NodeState::Paused, reason: Reason::ShuttingDown });
        let _ = worker.commands.send(Command::Shutdown);
        if let Some(t) = worker.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        while let Ok(report) = reports.try_recv() {
            if let Report::Stopped { kept_fraction, .. } = report {
                emit(EventKind::Yielded { latency_ms: None, kept_fraction });
            }
        }
        drop(watcher);
        Ok(())
    }
}

/// Whether to compute now, and the state and reason to show.
fn decide(
    config: &NodeConfig,
    watcher: Option<&Watcher>,
    no_idle: Option<&str>,
    blocked_until: &mut Option<(Instant, NodeState, Reason)>,
) -> Target {
    let stay = |state, reason| Target { compute: false, state, reason };
    if let Some((until, state, reason)) = blocked_until.clone() {
        if Instant::now() < until {
            return stay(state, reason);
        }
        *blocked_until = None;
    }
    if watcher.is_some_and(Watcher::fullscreen) {
        return stay(NodeState::Paused, Reason::FullScreen);
    }
    match config.when {
        RunWhen::Always => Target { compute: true, state: NodeState::Computing, reason: Reason::AlwaysOn },
        RunWhen::Idle => {
            let Some(w) = watcher else {
                let message = no_idle.unwrap_or("no idle source").to_owned();
                return stay(NodeState::Paused, Reason::NoIdleDetection { message });
            };
            match w.idle() {
                Some(idle) if idle >= config.idle_after => {
                    Target { compute: true, state: NodeState::Computing, reason: Reason::OwnerAway }
                }
                Some(idle) => stay(
                    NodeState::Waiting,
                    Reason::OwnerActive { idle_s: idle.as_secs(), idle_after_s: config.idle_after.as_secs() },
                ),
                None => stay(
                    NodeState::Paused,
                    Reason::NoIdleDetection { message: "the idle source stopped answering".into() },
                ),
            }
        }
    }
}
