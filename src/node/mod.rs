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

pub use events::{Event, EventKind, NodeState, Reason, Sample, download_line};
pub use jobs::{ClientBlock, EmbedWork, Job, JobSource, JobSourceError, LocalJobs, SourceWatch};

use crate::compute::{AdapterPolicy, CancelToken, GpuProfile};
use crate::config::Settings;
use crate::energy::EnergyStore;
use crate::governor::{self, Governor, Pause};
use crate::idle::{IdleError, IdleSource};
use crate::paths::DataDirs;
use crate::sensors::gpu_use::{BusyDetector, OtherGpuUse};
use crate::sensors::{GpuHint, Reading, Sensors};
use watcher::Watcher;
use worker::{Command, Duty, Report, RunningJob, Worker};

/// The GPU profile seen the last time the device was opened: lets the node pick the
/// right rated power and sensors at start-up without opening the GPU (which would load
/// the driver and hold memory while the owner works).
const GPU_PROFILE_CACHE: &str = "gpu-profile.json";

/// When the node may compute: the settings' run mode, one type for the settings, the
/// node and both front ends (the CLI's `--when` overrides it for one run). There used
/// to be three enums, and with `always` in the settings and `--when idle` the governor
/// never saw the owner while the idle watcher did, so a job started and was cancelled
/// every tick while the owner worked.
pub type RunWhen = crate::config::RunMode;

/// How the node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The owner's settings (limits, schedule, tariff, ...).
    pub settings: Settings,
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
    /// GPU time between checkpoints of a running job: the most a crash (kill -9, a
    /// power cut) can lose. `IDLEWATT_CHECKPOINT_SECS` overrides the default 20 s.
    pub checkpoint_every: Duration,
}

/// The default of [`NodeConfig::checkpoint_every`].
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(20);

impl NodeConfig {
    /// From the owner's settings; polls once a second while waiting and every 5 ms while
    /// computing.
    pub fn new(data: DataDirs, settings: Settings) -> Self {
        Self {
            when: settings.run_mode,
            idle_after: Duration::from_secs(u64::from(settings.idle_after_min) * 60),
            adapter: AdapterPolicy { allow_software: settings.allow_software_adapter },
            settings,
            data,
            tick: Duration::from_secs(1),
            computing_poll: Duration::from_millis(5),
            retry_after: Duration::from_secs(30),
            checkpoint_every: std::env::var("IDLEWATT_CHECKPOINT_SECS")
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .map_or(DEFAULT_CHECKPOINT_EVERY, Duration::from_secs_f64),
        }
    }
}

/// Errors that stop the node from starting.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The compute thread could not be started.
    #[error("cannot start the compute thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The energy history could not be opened.
    #[error(transparent)]
    Energy(#[from] crate::energy::EnergyError),
}

/// Pauses and resumes a running node (the tray and the UI hold one).
#[derive(Debug, Clone)]
pub struct NodeControl(std::sync::Arc<tokio::sync::watch::Sender<Option<Pause>>>);

impl NodeControl {
    /// Pauses until `until` (or until [`resume`](Self::resume) when `None`).
    pub fn pause(&self, until: Option<chrono::DateTime<chrono::FixedOffset>>) {
        self.0.send_replace(Some(Pause { until }));
    }
    /// Resumes after a pause.
    pub fn resume(&self) {
        self.0.send_replace(None);
    }
    /// The current pause, if any.
    pub fn paused(&self) -> Option<Pause> {
        *self.0.borrow()
    }
}

/// The node agent.
pub struct Node {
    config: NodeConfig,
    idle: Result<Box<dyn IdleSource>, IdleError>,
    jobs: Box<dyn JobSource>,
    events: broadcast::Sender<Event>,
    control: NodeControl,
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
        let (pause, _) = tokio::sync::watch::channel(None);
        Self { config, idle, jobs, events, control: NodeControl(std::sync::Arc::new(pause)) }
    }

    /// A handle to pause and resume the node.
    pub fn control(&self) -> NodeControl {
        self.control.clone()
    }

    /// A receiver of the node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Runs until `shutdown` completes; then stops the GPU, keeps the interrupted job on
    /// disk and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
        let Node { config, idle, jobs, events, control } = self;
        let cancel = CancelToken::new();
        let duty = Duty::new(1.0);
        let running_job = RunningJob::default();
        let (report_tx, mut reports) = mpsc::unbounded_channel();
        let mut energy = EnergyStore::open(config.data.join("energy.sqlite"))?;
        let mut sensors = Sensors::detect(&cached_gpu_hint(&config.data), config.settings.rated_watts_override);
        let mut governor = Governor::new();
        let mut busy = BusyDetector::new(std::process::id());
        let mut last_step = Instant::now();
        let mut worker = Worker::spawn(
            config.adapter,
            jobs,
            config.data.root().to_path_buf(),
            cancel.clone(),
            duty.clone(),
            events.clone(),
            report_tx,
            running_job.clone(),
            config.checkpoint_every,
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
                    Report::Opened(profile) => {
                        let hint = GpuHint::from_profile(&profile);
                        sensors = Sensors::detect(&hint, config.settings.rated_watts_override);
                        remember_gpu(&config.data, &profile);
                    }
                    Report::GpuError(e) => {
                        tracing::warn!(%e, "GPU unavailable");
                        blocked_until = Some((Instant::now() + config.retry_after, NodeState::Error, Reason::GpuUnavailable { message: e.to_string() }));
                    }
                    // No demand is not a fault: wait (not offline) and say so.
                    Report::SourceError(e @ JobSourceError::NoWork) => {
                        tracing::info!(%e, "no paid work");
                        blocked_until = Some((Instant::now() + config.retry_after, NodeState::Waiting, Reason::JobSourceUnavailable { message: e.to_string() }));
                    }
                    // The owner came back while the job was being prepared: the
                        // download resumes when the node computes again.
                    Report::SourceError(JobSourceError::Interrupted) => tracing::info!("job preparation stopped; it resumes next time"),
                    Report::SourceError(e) => {
                        tracing::warn!(%e, "job source unavailable");
                        blocked_until = Some((Instant::now() + config.retry_after, NodeState::Offline, Reason::JobSourceUnavailable { message: e.to_string() }));
                    }
                },
            }

            // Once per tick: sensors → governor → energy → sample.
            let now = Instant::now();
            let reading = sensors.read(now, if computing { duty.get() } else { 0.0 });
            let process_use = sensors.process_gpu_use();
            let gpu_busy = busy.update(now, process_use.as_deref()).cloned();
            let owner_active = config.when == RunWhen::Idle
                && watcher.as_ref().and_then(Watcher::idle).is_none_or(|idle| idle < config.idle_after);
            let limits = config.settings.limits(sensors.rated().watts, owner_active, control.paused());
            let wall = chrono::Local::now().fixed_offset();
            let decision = governor.step(&limits, &reading, wall, now.duration_since(last_step).as_secs_f64());
            last_step = now;
            if computing {
                // Energy is what the GPU drew while Idlewatt computed (idle draw included:
                // the conservative side for the owner's cost).
                let sample = crate::energy::Sample::from_reading(wall, &reading, running_job.get().as_deref());
                if let Err(e) = energy.record(sample) {
                    tracing::warn!(%e, "could not record energy");
                }
            }
            emit(EventKind::Sample(sample(&reading, decision.duty, &sensors, &energy, &config.settings)));

            let seen = Seen { watcher: watcher.as_ref(), no_idle: no_idle.as_deref(), gpu_busy: gpu_busy.as_ref() };
            let target = decide(&config, seen, &mut blocked_until, &limits, decision);
            if target.compute && !computing {
                cancel.reset();
                if let Some(w) = &watcher {
                    w.guard(config.when == RunWhen::Idle);
                }
                if worker.commands.send(Command::Compute).is_ok() {
                    computing = true;
                }
            } else if !target.compute && computing && !cancel.is_cancelled() {
                cancel.cancel();
            }
            if target.compute {
                duty.set(decision.duty);
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

/// What the node sees of the owner and the machine at one tick, beside the governor.
#[derive(Debug, Clone, Copy, Default)]
struct Seen<'a> {
    /// The idle watcher, if an idle source works.
    watcher: Option<&'a Watcher>,
    /// Why no idle source works.
    no_idle: Option<&'a str>,
    /// Another program using the GPU heavily.
    gpu_busy: Option<&'a OtherGpuUse>,
}

/// Whether to compute now, and the state and reason to show: the node's own rules
/// (back-off after a failure, a full-screen app, another program on the GPU, no idle
/// detection), then the governor's.
fn decide(
    config: &NodeConfig,
    Seen { watcher, no_idle, gpu_busy }: Seen<'_>,
    blocked_until: &mut Option<(Instant, NodeState, Reason)>,
    limits: &governor::Limits,
    decision: governor::Decision,
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
    if let Some(other) = gpu_busy {
        return stay(NodeState::Paused, Reason::GpuBusy { process: other.process.clone(), percent: other.percent });
    }
    let idle = watcher.and_then(Watcher::idle);
    if config.when == RunWhen::Idle && idle.is_none() {
        let message = match (watcher, no_idle) {
            (None, Some(m)) => m.to_owned(),
            _ => "the idle source stopped answering".to_owned(),
        };
        return stay(NodeState::Paused, Reason::NoIdleDetection { message });
    }
    let running = |state, reason| Target { compute: true, state, reason };
    let away = if config.when == RunWhen::Always { Reason::AlwaysOn } else { Reason::OwnerAway };
    match decision.reason {
        governor::Reason::Paused => stay(NodeState::Paused, Reason::UserPaused),
        governor::Reason::UserActive => stay(
            NodeState::Waiting,
            Reason::OwnerActive {
                idle_s: idle.unwrap_or_default().as_secs(),
                idle_after_s: config.idle_after.as_secs(),
            },
        ),
        governor::Reason::OnBattery => stay(NodeState::Paused, Reason::OnBattery),
        governor::Reason::OutsideSchedule => stay(NodeState::Paused, Reason::OutsideSchedule),
        governor::Reason::PowerLimit if decision.duty < 0.99 => {
            running(NodeState::Throttled, Reason::PowerLimit { max_watts: limits.max_watts })
        }
        governor::Reason::ThermalLimit if decision.duty < 0.99 => {
            running(NodeState::Throttled, Reason::ThermalLimit { max_celsius: limits.max_temp_c })
        }
        governor::Reason::Running | governor::Reason::PowerLimit | governor::Reason::ThermalLimit => {
            running(NodeState::Computing, away)
        }
    }
}

fn sample(reading: &Reading, duty: f64, sensors: &Sensors, energy: &EnergyStore, settings: &Settings) -> Sample {
    let today = energy.today().unwrap_or_default();
    let tariff = settings.tariff();
    Sample {
        gpu_watts: reading.gpu_watts.clone(),
        gpu_temp_c: reading.gpu_temp_c.clone(),
        on_battery: reading.supply.on_battery(),
        duty,
        rated_watts: sensors.rated().watts,
        today_wh: today.total_wh(),
        today_measured_wh: today.measured_wh,
        today_cost: today.cost(&tariff).amount,
        currency: tariff.currency.clone(),
        today_co2_g: today.co2_g(&tariff),
    }
}

fn cached_gpu_hint(data: &DataDirs) -> GpuHint {
    std::fs::read(data.join(GPU_PROFILE_CACHE))
        .ok()
        .and_then(|b| serde_json::from_slice::<GpuProfile>(&b).ok())
        .map(|p| GpuHint::from_profile(&p))
        .unwrap_or_default()
}

fn remember_gpu(data: &DataDirs, profile: &GpuProfile) {
    if let Ok(json) = serde_json::to_vec_pretty(profile) {
        let tmp = data.join(format!("{GPU_PROFILE_CACHE}.tmp"));
        if std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, data.join(GPU_PROFILE_CACHE))).is_err() {
            tracing::debug!("could not cache the GPU profile");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(when: RunWhen) -> (tempfile::TempDir, NodeConfig) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = NodeConfig::new(DataDirs::at(dir.path()).expect("data dir"), Settings::default());
        config.when = when;
        (dir, config)
    }

    fn decide_with(config: &NodeConfig, gpu_busy: Option<&OtherGpuUse>) -> Target {
        let limits = config.settings.limits(200.0, false, None);
        let decision = governor::Decision { duty: 1.0, reason: governor::Reason::Running };
        decide(config, Seen { gpu_busy, ..Seen::default() }, &mut None, &limits, decision)
    }

    #[test]
    fn another_program_on_the_gpu_pauses_the_node_and_says_who() {
        let (_dir, config) = config(RunWhen::Always);
        let free = decide_with(&config, None);
        assert!(free.compute);
        assert_eq!((free.state, free.reason), (NodeState::Computing, Reason::AlwaysOn));

        let blender = OtherGpuUse { process: Some("blender".into()), percent: 85 };
        let busy = decide_with(&config, Some(&blender));
        assert!(!busy.compute, "a busy GPU is not ours to use, even with --when always");
        assert_eq!(busy.state, NodeState::Paused);
        assert_eq!(busy.reason, Reason::GpuBusy { process: Some("blender".into()), percent: 85 });
    }
}
