//! The compute worker: a thread that owns the GPU while the node computes and nothing
//! while it does not. On `Compute` it opens the device, resumes the interrupted job (or
//! fetches a new one) and runs slices, sleeping between them as the duty cycle says; when
//! cancelled it suspends the job to host memory and disk and drops the device, so no VRAM
//! is held while the owner uses the computer. The first session on a GPU (or driver)
//! tunes the kernels before its first job and caches the choice (see `State::tune`).

use std::path::PathBuf;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
    mpsc,
};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc as tmpsc};

use super::events::{Event, EventKind};
use super::jobs::{Job, JobSource, JobSourceError};
use super::partial;
use crate::compute::{AdapterPolicy, CancelToken, ComputeError, Engine, GpuProfile, RunState, SuspendedMatmul, tuning};
use crate::embed::{EmbedError, EmbedModel, SuspendedEmbed};

/// Commands to the worker.
#[derive(Debug)]
pub(crate) enum Command {
    /// Compute until cancelled.
    Compute,
    /// Save state and exit.
    Shutdown,
}

/// What the worker tells the control loop.
#[derive(Debug)]
pub(crate) enum Report {
    /// The worker stopped computing (cancelled or failed) and holds no GPU.
    Stopped {
        /// When its last slice finished.
        at: Instant,
        /// Fraction of the interrupted job kept.
        kept_fraction: f64,
    },
    /// The GPU was opened (its profile, for sensors and the UI).
    Opened(Box<GpuProfile>),
    /// The GPU cannot be used.
    GpuError(ComputeError),
    /// The job source failed.
    SourceError(JobSourceError),
}

/// Duty cycle shared with the control loop, as f64 bits.
#[derive(Debug, Clone)]
pub(crate) struct Duty(Arc<AtomicU64>);

impl Duty {
    pub(crate) fn new(v: f64) -> Self {
        Self(Arc::new(AtomicU64::new(v.to_bits())))
    }
    pub(crate) fn set(&self, v: f64) {
        self.0.store(v.clamp(0.0, 1.0).to_bits(), Ordering::Release);
    }
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Acquire))
    }
}

pub(crate) struct Worker {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

struct State {
    policy: AdapterPolicy,
    jobs: Box<dyn JobSource>,
    dir: PathBuf,
    cancel: CancelToken,
    duty: Duty,
    events: broadcast::Sender<Event>,
    reports: tmpsc::UnboundedSender<Report>,
    current: Option<(Job, Option<SuspendedMatmul>)>,
    /// An interrupted embeddings batch's state in host memory (job id, where it
    /// stopped, the fraction done), resumed from there when the owner is away again.
    embed_kept: Option<(String, SuspendedEmbed, f64)>,
    running_job: RunningJob,
    /// GPU time between checkpoints of a running matmul.
    checkpoint_every: Duration,
}

/// The id of the job on the GPU right now, for per-job energy.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunningJob(Arc<std::sync::Mutex<Option<String>>>);

impl RunningJob {
    fn set(&self, id: Option<String>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = id;
    }
    pub(crate) fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn spawn(
        policy: AdapterPolicy,
        jobs: Box<dyn JobSource>,
        dir: PathBuf,
        cancel: CancelToken,
        duty: Duty,
        events: broadcast::Sender<Event>,
        reports: tmpsc::UnboundedSender<Report>,
        running_job: RunningJob,
        checkpoint_every: Duration,
    ) -> std::io::Result<Self> {
        let (commands, rx) = mpsc::channel();
        let current = partial::load(&dir).map(|(job, s)| {
            tracing::info!(job = %job.id, "resuming a job interrupted before the last exit");
            (job, Some(s))
        });
        let mut jobs = jobs;
        jobs.watch(super::jobs::SourceWatch { events: events.clone(), cancel: cancel.clone() });
        let mut state = State {
            policy,
            jobs,
            dir,
            cancel,
            duty,
            events,
            reports,
            current,
            embed_kept: None,
            running_job,
            checkpoint_every,
        };
        let thread = std::thread::Builder::new().name("idlewatt-compute".into()).spawn(move || {
            while let Ok(cmd) = rx.recv() {
                match cmd {
                    Command::Compute => state.compute(),
                    Command::Shutdown => break,
                }
            }
        })?;
        Ok(Self { commands, thread: Some(thread) })
    }
}

/// What runs between two GPU steps of any job: a progress event at most every 250 ms,
/// the duty cycle's rest, and the GPU time so far.
struct Pacer {
    duty: Duty,
    cancel: CancelToken,
    events: broadcast::Sender<Event>,
    job_id: String,
    last_progress: Instant,
    gpu_time: Duration,
}

impl Pacer {
    fn step(&mut self, elapsed: Duration, fraction: f64) {
        self.gpu_time += elapsed;
        if self.last_progress.elapsed() >= Duration::from_millis(250) {
            self.last_progress = Instant::now();
            let kind = EventKind::Progress { job_id: self.job_id.clone(), fraction };
            let _ = self.events.send(Event::now(kind));
        }
        // Duty cycle d: after a step of t, rest t·(1−d)/d (woken early by cancel).
        let d = self.duty.get();
        if d < 0.999 {
            self.cancel.sleep(elapsed.mul_f64((1.0 - d) / d.max(0.01)));
        }
    }
}

impl State {
    fn pacer(&self, job_id: &str) -> Pacer {
        Pacer {
            duty: self.duty.clone(),
            cancel: self.cancel.clone(),
            events: self.events.clone(),
            job_id: job_id.to_owned(),
            last_progress: Instant::now(),
            gpu_time: Duration::ZERO,
        }
    }

    fn emit(&self, kind: EventKind) {
        let _ = self.events.send(Event::now(kind));
    }

    /// Computes until cancelled or failed; always ends with a `Stopped` report.
    fn compute(&mut self) {
        let span = tracing::info_span!("compute");
        let _enter = span.enter();
        let mut stopped_at = Instant::now();
        let engine = match Engine::new(self.policy) {
            Ok(e) => {
                let _ = self.reports.send(Report::Opened(Box::new(e.profile().clone())));
                Some(e)
            }
            Err(e) => {
                let _ = self.reports.send(Report::GpuError(e));
                None
            }
        };
        if let Some(engine) = engine {
            self.tune(&engine);
            // An embeddings model stays on the GPU while the worker computes, and goes
            // with the engine when it stops (nothing held while the owner is active).
            let mut model: Option<(PathBuf, EmbedModel)> = None;
            while !self.cancel.is_cancelled() {
                match self.run_one(&engine, &mut model) {
                    Ok(Some(at)) => {
                        stopped_at = at;
                        break;
                    }
                    Ok(None) => stopped_at = Instant::now(),
                    Err(report) => {
                        let _ = self.reports.send(report);
                        break;
                    }
                }
            }
            // Dropping the engine here releases the device and all its memory.
        }
        let kept_fraction = match (&self.current, &self.embed_kept) {
            (Some((job, _)), Some((id, _, fraction))) if job.id == *id => *fraction,
            (current, _) => current.as_ref().and_then(|(_, s)| s.as_ref()).map_or(0.0, SuspendedMatmul::fraction_done),
        };
        let _ = self.reports.send(Report::Stopped { at: stopped_at, kept_fraction });
    }

    /// Gives the engine its tuned kernels: the cached tuning when it was made for this
    /// adapter, driver, wgpu and kernels, else (the first session, or after a driver
    /// update) a fresh one, timed within [`tuning::DEFAULT_BUDGET`] and cached in the
    /// data folder, where the job source reads the precisions it registers. Runs only
    /// here, while the node may compute; the owner's return stops it between
    /// candidates (nothing cached, the next session tunes). A failure is not fatal: the
    /// engine keeps its default kernels.
    fn tune(&self, engine: &Engine) {
        let cache = self.dir.join(tuning::TUNING_FILE);
        match engine.tuned_unless(&cache, tuning::DEFAULT_BUDGET, false, &self.cancel) {
            Ok((t, true)) => {
                let chosen: Vec<&str> = t.results.iter().map(|r| r.label.as_str()).collect();
                tracing::info!(?chosen, precisions = ?t.precisions(), "kernels tuned for this GPU and cached");
            }
            Ok((t, false)) => tracing::debug!(precisions = ?t.precisions(), "cached kernel tuning applied"),
            Err(ComputeError::Cancelled) => tracing::info!("kernel tuning interrupted; it runs again next time"),
            Err(e) => tracing::warn!(%e, "kernel tuning failed; computing with the default kernels"),
        }
    }

    /// Runs (or resumes) one job. `Ok(Some(last slice end))` when cancelled mid-job,
    /// `Ok(None)` when done.
    fn run_one(
        &mut self,
        engine: &Engine,
        model: &mut Option<(PathBuf, EmbedModel)>,
    ) -> Result<Option<Instant>, Report> {
        let (job, suspended) = match self.current.take() {
            Some(c) => c,
            None => (self.jobs.next_job().map_err(Report::SourceError)?, None),
        };
        if job.embed.is_some() {
            return self.run_embed(engine, job, model);
        }
        let span = tracing::info_span!("job", id = %job.id, m = job.dims.m, n = job.dims.n, k = job.dims.k);
        let _enter = span.enter();
        // Unreadable inputs cannot get better by retrying: drop the job (its lease
        // lapses and goes to another node) and say why.
        let (a, b) = job.inputs().map_err(|e| Report::SourceError(JobSourceError::Rejected(e.to_string())))?;
        self.running_job.set(Some(job.id.clone()));
        let started = match &suspended {
            Some(s) => engine.resume_matmul(&a, &b, s),
            None => engine.start_matmul(&a, &b, job.dims),
        };
        let mut run = match started {
            Ok(run) => run,
            Err(e) => {
                self.current = Some((job, suspended));
                return Err(Report::GpuError(e));
            }
        };
        let mut pacer = self.pacer(&job.id);
        // Slices run until the owner's cancel or a checkpoint is due (every
        // `checkpoint_every` of GPU time): then the partial C is saved and the run goes on,
        // so a crash loses at most that much work.
        let pause = CancelToken::new();
        let outcome = loop {
            let since = pacer.gpu_time;
            let (cancel, every) = (self.cancel.clone(), self.checkpoint_every);
            if cancel.is_cancelled() {
                pause.cancel();
            }
            let outcome = run.run(&pause, &mut |slice| {
                pacer.step(slice.elapsed, slice.fraction_done);
                if cancel.is_cancelled() || pacer.gpu_time.saturating_sub(since) >= every {
                    pause.cancel();
                }
            });
            if !matches!(outcome, Ok(RunState::Cancelled)) || self.cancel.is_cancelled() {
                break outcome;
            }
            pause.reset();
            match run.checkpoint() {
                Ok(s) => match partial::save(&self.dir, &job, &s) {
                    Ok(()) => tracing::debug!(done = s.fraction_done(), "checkpoint saved"),
                    Err(e) => tracing::warn!(%e, "could not save a checkpoint; computing on"),
                },
                Err(e) => break Err(e),
            }
        };
        let stopped = Instant::now();
        self.running_job.set(None);
        match outcome {
            Ok(RunState::Cancelled) => match run.suspend() {
                Ok(s) => {
                    if let Err(e) = partial::save(&self.dir, &job, &s) {
                        tracing::warn!(%e, "could not save the interrupted job to disk; it is kept in memory");
                    }
                    self.current = Some((job, Some(s)));
                    Ok(Some(stopped))
                }
                Err(e) => Err(Report::GpuError(e)),
            },
            Ok(RunState::Done) => {
                let c = run.read_output().map_err(Report::GpuError)?;
                drop(run);
                partial::remove(&self.dir);
                match self.jobs.submit(&job, c) {
                    Ok(()) => {
                        self.emit(EventKind::JobDone {
                            job_id: job.id.clone(),
                            flops: job.dims.flops(),
                            gpu_seconds: pacer.gpu_time.as_secs_f64(),
                        });
                        Ok(None)
                    }
                    Err(e) => Err(Report::SourceError(e)),
                }
            }
            Err(e) => {
                // Keep the job (from its last saved point) for the next attempt.
                self.current = Some((job, suspended));
                Err(Report::GpuError(e))
            }
        }
    }

    /// Runs one embeddings batch: the model uploaded once per engine, the batch cut
    /// into short dispatches with the duty cycle applied between them. An interrupted
    /// batch keeps its cursor and live activations in host memory (`embed_kept`, no
    /// VRAM) and resumes from there when the owner is away again; the lease is short, so
    /// it is not written to disk (after a restart the batch starts again).
    fn run_embed(
        &mut self,
        engine: &Engine,
        job: Job,
        model: &mut Option<(PathBuf, EmbedModel)>,
    ) -> Result<Option<Instant>, Report> {
        let Some(work) = job.embed.clone() else { return Ok(None) };
        let span =
            tracing::info_span!("embed", id = %job.id, rows = work.sequences.len(), model = %work.model_dir.display());
        let _enter = span.enter();
        let unusable = |e: String| Report::SourceError(JobSourceError::Rejected(e));
        if model.as_ref().is_none_or(|(dir, _)| *dir != work.model_dir) {
            *model = None; // free the previous model's buffers first
            let weights = idlewatt_models::Weights::load_dir(&work.model_dir)
                .map_err(|e| unusable(format!("model {}: {e}", work.model_dir.display())))?;
            let uploaded = match EmbedModel::upload(engine, &weights) {
                Ok(m) => m,
                Err(EmbedError::Compute(e)) => {
                    self.current = Some((job, None));
                    return Err(Report::GpuError(e));
                }
                Err(e) => return Err(unusable(e.to_string())),
            };
            *model = Some((work.model_dir.clone(), uploaded));
        }
        let Some((_, m)) = model.as_ref() else { return Ok(None) };
        // The kept state of this batch, if it was interrupted (the same job, the same
        // model); anything else kept is stale and dropped.
        let kept = self.embed_kept.take().filter(|(id, s, _)| *id == job.id && s.batch == work.sequences);
        let started = match &kept {
            Some((_, s, fraction)) => match m.resume(engine, s) {
                Ok(run) => {
                    tracing::info!(from = fraction, "embeddings batch resumed where it stopped");
                    Ok(run)
                }
                Err(e) => {
                    tracing::warn!(%e, "the kept state of the batch does not fit; starting it again");
                    m.start(engine, &work.sequences)
                }
            },
            None => m.start(engine, &work.sequences),
        };
        let mut run = match started {
            Ok(run) => run,
            Err(EmbedError::Compute(e)) => {
                self.embed_kept = kept;
                self.current = Some((job, None));
                return Err(Report::GpuError(e));
            }
            Err(e) => return Err(unusable(e.to_string())),
        };
        self.running_job.set(Some(job.id.clone()));
        let mut pacer = self.pacer(&job.id);
        let outcome = run.run(&self.cancel, &mut |step| pacer.step(step.elapsed, step.fraction_done));
        let stopped = Instant::now();
        self.running_job.set(None);
        let outcome = match outcome {
            Ok(RunState::Done) => run.read_output(),
            Ok(RunState::Cancelled) => {
                // Keep what is done (the live activations, in host memory) so the batch
                // resumes from here; the GPU buffers go with the run.
                let fraction = run.fraction_done();
                match run.suspend() {
                    Ok(s) => self.embed_kept = Some((job.id.clone(), s, fraction)),
                    Err(e) => tracing::warn!(%e, "could not keep the interrupted batch; it will start again"),
                }
                Err(ComputeError::Cancelled.into())
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(vectors) => {
                let flat: Vec<f32> = vectors.into_iter().flatten().collect();
                match self.jobs.submit(&job, flat) {
                    Ok(()) => {
                        self.emit(EventKind::JobDone {
                            job_id: job.id.clone(),
                            flops: job.flops(),
                            gpu_seconds: pacer.gpu_time.as_secs_f64(),
                        });
                        Ok(None)
                    }
                    Err(e) => Err(Report::SourceError(e)),
                }
            }
            Err(EmbedError::Compute(ComputeError::Cancelled)) => {
                self.current = Some((job, None));
                Ok(Some(stopped))
            }
            Err(EmbedError::Compute(e)) => {
                // A device failure mid-run: keep resuming from the last kept point.
                if self.embed_kept.is_none() {
                    self.embed_kept = kept;
                }
                self.current = Some((job, None));
                Err(Report::GpuError(e))
            }
            // The batch itself is unusable here (too long for this device, bad ids):
            // drop it; its lease lapses and another node gets it.
            Err(e) => Err(unusable(e.to_string())),
        }
    }
}
