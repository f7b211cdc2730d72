//! [`NetworkJobs`]: the node's [`JobSource`] backed by a coordinator. It registers the
//! node on first use, leases jobs sized to the node's limits, and hands results in
//! through the [`Outbox`]: every result is queued on disk before the first attempt and
//! forgotten only once the coordinator has decided, and queued results are sent again
//! before each new lease (so also on the first lease after a restart).
//!
//! The node's compute worker is a plain thread calling a sync trait, so this type owns
//! a private current-thread tokio runtime and blocks on it; it never touches the
//! caller's runtime (and must not be called from inside one).
//!
//! A job's [`Job::id`] is the lease id: that is what a result is submitted against.
//!
//! The registration says which precisions the node benchmarked (its kernel tuning in
//! the data folder); when a tuning made after the start changes them, the next lease
//! registers again first, so the coordinator's matching follows the node's GPU.
//!
//! Crashes cost a node nothing but the GPU time: the coordinator is the durable record
//! of the node's leases, so before its first lease after a start the node asks for the
//! leases it still holds (`GET /v1/leases`) and releases every one it cannot finish
//! (no queued result, not the job kept on disk to resume), instead of letting them
//! block its lease slots until their deadlines. A rate-limited node waits as long as
//! the coordinator's `Retry-After` says (or a few seconds when there is no paid work)
//! before it asks again.
//!
//! A client block's input blobs are downloaded once into `<data>/blobs/<sha256>`
//! (checked against their digest, written atomically) and reused by later blocks of
//! the same job; the cache keeps the [`BLOB_CACHE_FILES`] most recently used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use idlewatt_protocol::wire::{AccountBalance, ErrorKind, HardwareSummary, JobSpec, Lease, NodeLimits};
use thiserror::Error;

use super::client::{ClientError, CoordinatorClient, RetryPolicy};
use super::outbox::{Outbox, OutboxError, PendingResult};
use super::signer::RequestSigner;
use crate::compute::MatmulDims;
use crate::model_cache::{CacheError, DEFAULT_QUOTA_BYTES, ModelCache};
use crate::node::events::{Event, EventKind};
use crate::node::{ClientBlock, EmbedWork, Job, JobSource, JobSourceError, SourceWatch};
use crate::paths::DataDirs;

/// Input blobs kept in the node's cache.
pub const BLOB_CACHE_FILES: usize = 8;

/// Why a [`NetworkJobs`] could not be set up.
#[derive(Debug, Error)]
pub enum NetworkJobsError {
    /// The coordinator URL or HTTP client.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The outbox folder.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The private runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Results the coordinator verified.
    pub verified: usize,
    /// Results it rejected (final; dropped from the queue).
    pub rejected: usize,
    /// Results still queued.
    pub remaining: usize,
}

/// How a submission ended, for the queue.
enum Sent {
    Verified,
    /// The coordinator decided against it: drop it, tell the caller.
    Refused(String),
    /// Nothing decided: keep it queued.
    Kept(ClientError),
}

/// Jobs from a coordinator, results through the on-disk outbox.
pub struct NetworkJobs {
    runtime: super::private_runtime::PrivateRuntime,
    client: CoordinatorClient,
    outbox: Outbox,
    hardware: HardwareSummary,
    limits: NodeLimits,
    registered: bool,
    /// Leases issued to this instance, by lease id (for the job id in the queue).
    leases: HashMap<String, Lease>,
    /// The data folder (where a job kept for resuming lives).
    data_root: PathBuf,
    /// Whether leases left over from before this start were looked at.
    reclaimed: bool,
    /// No lease requests before this (the coordinator's `Retry-After`).
    not_before: Option<Instant>,
    /// The blob cache folder.
    blobs: PathBuf,
    /// Models for embeddings batches.
    models: ModelCache,
    /// The node's events and cancel token (a model download reports progress and stops
    /// when the owner returns); `None` until the node hands them over.
    watch: Option<SourceWatch>,
}

/// At most this often a `download_progress` event while a model downloads.
const DOWNLOAD_EVENT_EVERY: Duration = Duration::from_millis(250);

/// Wait after a 429 that named no time.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

impl std::fmt::Debug for NetworkJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkJobs")
            .field("client", &self.client)
            .field("outbox", &self.outbox)
            .field("limits", &self.limits)
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}

impl NetworkJobs {
    /// Jobs from the coordinator at `url`, signed by `signer`, queued results in
    /// `<data>/outbox`. Does not touch the network yet.
    pub fn new(
        url: &str,
        signer: Arc<dyn RequestSigner>,
        data: &DataDirs,
        hardware: HardwareSummary,
        limits: NodeLimits,
    ) -> Result<Self, NetworkJobsError> {
        let client = CoordinatorClient::new(url, signer)?;
        let outbox = Outbox::open(data.join("outbox"))?;
        let runtime = super::private_runtime::PrivateRuntime::new().map_err(NetworkJobsError::Runtime)?;
        Ok(Self {
            runtime,
            client,
            outbox,
            hardware,
            limits,
            registered: false,
            leases: HashMap::new(),
            data_root: data.root().to_path_buf(),
            reclaimed: false,
            not_before: None,
            blobs: data.join("blobs"),
            models: ModelCache::in_data(data, DEFAULT_QUOTA_BYTES),
            watch: None,
        })
    }

    /// Keeps downloaded models within `bytes` (the owner's model storage setting).
    pub fn with_model_quota(mut self, bytes: u64) -> Self {
        self.models = ModelCache::new(self.models.root().to_path_buf(), bytes);
        self
    }

    /// Uses `retry` for every call.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.client = self.client.with_retry(retry);
        self
    }

    /// The client (its URL, its address).
    pub fn client(&self) -> &CoordinatorClient {
        &self.client
    }

    /// The queue of results not yet decided.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// This node's balance at the coordinator.
    pub fn balance(&self) -> Result<AccountBalance, ClientError> {
        let address = self.client.address().ok_or(ClientError::NoSigner)?;
        self.runtime.block_on(self.client.balance(address))
    }

    /// Queues `c` as the result of `job` without sending it (the next
    /// [`Self::flush_outbox`] or lease sends it).
    pub fn enqueue(&self, job: &Job, c: &[f32]) -> Result<PendingResult, OutboxError> {
        let lease = self.leases.get(&job.id);
        let spec = lease.map_or_else(|| spec_of(job), |l| l.job.clone());
        self.outbox.put(&job.id, lease.map(|l| l.job_id.as_str()), spec, c)
    }

    /// Sends every queued result, oldest first. Stops at the first one the coordinator
    /// could not decide on (unreachable, overloaded) and returns that error; the rest
    /// stay queued.
    pub fn flush_outbox(&mut self) -> Result<FlushReport, ClientError> {
        let span = tracing::info_span!("flush_outbox");
        let _guard = span.enter();
        let mut report = FlushReport::default();
        let pending = self.outbox.pending().unwrap_or_else(|e| {
            tracing::error!(%e, "cannot read the outbox");
            Vec::new()
        });
        let total = pending.len();
        for (i, entry) in pending.into_iter().enumerate() {
            let c = match self.outbox.load(&entry) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(%e, lease_id = entry.lease_id, "damaged queued result set aside");
                    let _ = self.outbox.quarantine(&entry.lease_id);
                    continue;
                }
            };
            match self.send(&entry.lease_id, &c) {
                Sent::Verified => report.verified += 1,
                Sent::Refused(_) => report.rejected += 1,
                Sent::Kept(e) => {
                    report.remaining = total - i;
                    tracing::info!(%e, remaining = report.remaining, "outbox kept for later");
                    return Err(e);
                }
            }
        }
        Ok(report)
    }

    /// Submits `c` for `lease_id` and updates the queue by the answer.
    fn send(&mut self, lease_id: &str, c: &[f32]) -> Sent {
        let sent = match self.runtime.block_on(self.client.submit(lease_id, c)) {
            Ok(outcome) => {
                tracing::info!(lease_id, reward = %outcome.reward, "result verified");
                Sent::Verified
            }
            Err(ClientError::Api { kind, message, .. }) if is_final(kind) => {
                tracing::warn!(lease_id, ?kind, message, "result refused");
                Sent::Refused(format!("{kind:?}: {message}"))
            }
            // A lease id no coordinator could have issued: it can never be delivered.
            Err(e @ ClientError::InvalidUrl { .. }) => Sent::Refused(e.to_string()),
            Err(e) => return Sent::Kept(e),
        };
        self.leases.remove(lease_id);
        if let Err(e) = self.outbox.remove(lease_id) {
            tracing::error!(%e, lease_id, "decided result left in the outbox (resubmitting it is harmless)");
        }
        sent
    }

    fn ensure_registered(&mut self) -> Result<(), ClientError> {
        if !self.registered {
            let r = self.runtime.block_on(self.client.register(self.hardware.clone()))?;
            tracing::info!(address = %r.address, reward_per_tflop = %r.reward_per_tflop, "registered");
            self.registered = true;
        }
        Ok(())
    }

    /// Leases this node held before it (re)started: those with a queued result or kept
    /// on disk to resume are kept, the rest released so their slots and jobs are free.
    /// Returns how many were released.
    pub fn reclaim_leases(&mut self) -> Result<usize, ClientError> {
        let held = self.runtime.block_on(self.client.open_leases())?;
        // A result whose description was damaged (a crash mid-write, a bad sector) but
        // whose values are intact is rebuilt from the lease, so its credit is not lost.
        for lease in &held {
            match self.outbox.repair(&lease.lease_id, Some(&lease.job_id), lease.job.clone()) {
                Ok(Some(_)) => tracing::info!(lease_id = lease.lease_id, "queued result repaired"),
                Ok(None) => {}
                Err(e) => tracing::warn!(lease_id = lease.lease_id, %e, "could not repair a queued result"),
            }
        }
        let kept = crate::node::partial::kept_job_id(&self.data_root);
        let queued: Vec<String> = self.outbox.pending().unwrap_or_default().into_iter().map(|e| e.lease_id).collect();
        let mut released = 0;
        for lease in held {
            if self.leases.contains_key(&lease.lease_id) {
                continue;
            }
            if kept.as_deref() == Some(lease.lease_id.as_str()) || queued.contains(&lease.lease_id) {
                tracing::info!(lease_id = lease.lease_id, "lease from before the restart kept (resumable)");
                self.leases.insert(lease.lease_id.clone(), lease);
                continue;
            }
            match self.runtime.block_on(self.client.release(&lease.lease_id)) {
                Ok(_) => {
                    tracing::info!(lease_id = lease.lease_id, "lease from before the restart released");
                    released += 1;
                }
                Err(e) => tracing::warn!(lease_id = lease.lease_id, %e, "could not release a leftover lease"),
            }
        }
        self.reclaimed = true;
        Ok(released)
    }

    /// Registers again when the node's kernel tuning (in the data folder, written by the
    /// compute worker on its first session) now names other precisions than the
    /// coordinator was told: it leases f16 work only to nodes that benchmarked f16.
    fn refresh_precisions(&mut self) {
        let cache = self.data_root.join(crate::compute::tuning::TUNING_FILE);
        let now = crate::compute::tuning::benchmarked_precisions(&cache);
        if now != self.hardware.precisions {
            tracing::info!(was = ?self.hardware.precisions, now = ?now, "benchmarked precisions changed: registering again");
            self.hardware.precisions = now;
            self.registered = false;
        }
    }

    fn lease(&mut self) -> Result<Lease, ClientError> {
        self.refresh_precisions();
        self.ensure_registered()?;
        if !self.reclaimed
            && let Err(e) = self.reclaim_leases()
        {
            // Not fatal: the leftovers expire at their deadlines.
            tracing::warn!(%e, "could not look up leases left from before this start");
            self.reclaimed = true;
        }
        match self.runtime.block_on(self.client.lease(self.limits)) {
            // A coordinator that lost its database (or a new one at the same URL)
            // does not know us: register again, once.
            Err(ClientError::Api { kind: ErrorKind::Forbidden, message, .. }) if message.contains("not registered") => {
                self.registered = false;
                self.ensure_registered()?;
                self.runtime.block_on(self.client.lease(self.limits))
            }
            other => other,
        }
    }
}

/// Error kinds of a submission that are the coordinator's final word on it.
fn is_final(kind: ErrorKind) -> bool {
    !matches!(kind, ErrorKind::Internal | ErrorKind::RateLimited | ErrorKind::Unauthorized)
}

fn spec_of(job: &Job) -> JobSpec {
    JobSpec::Matmul {
        m: job.dims.m,
        n: job.dims.n,
        k: job.dims.k,
        seed: job.seed,
        precision: idlewatt_protocol::Precision::F32,
    }
}

/// The path of cached blob `sha256`, downloading it first if needed.
fn cached_blob(
    runtime: &tokio::runtime::Runtime,
    client: &CoordinatorClient,
    dir: &Path,
    sha256: &str,
) -> Result<PathBuf, String> {
    let path = dir.join(sha256);
    if path.exists() {
        // Touch it: the cache drops the least recently used.
        let _ = std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let bytes = runtime.block_on(client.blob(sha256)).map_err(|e| format!("cannot download input {sha256}: {e}"))?;
    let tmp = dir.join(format!("{sha256}.part"));
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot store input {sha256}: {e}"))?;
    prune_blobs(dir);
    Ok(path)
}

/// Keeps the [`BLOB_CACHE_FILES`] most recently used blobs.
fn prune_blobs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> =
        entries.filter_map(Result::ok).filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path()))).collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, path) in files.into_iter().skip(BLOB_CACHE_FILES) {
        let _ = std::fs::remove_file(path);
    }
}

impl NetworkJobs {
    /// The node's job for `lease`, downloading a client block's inputs or the model.
    fn job_of(&self, lease: &Lease) -> Result<Job, JobSourceError> {
        match &lease.job {
            JobSpec::Matmul { m, n, k, seed, .. } => Ok(Job {
                id: lease.lease_id.clone(),
                dims: MatmulDims { m: *m, n: *n, k: *k },
                seed: *seed,
                client: None,
                embed: None,
            }),
            JobSpec::ClientMatmul { a_sha256, b_sha256, n, k, row_start, rows, .. } => {
                let a = cached_blob(&self.runtime, &self.client, &self.blobs, a_sha256)
                    .map_err(JobSourceError::Unreachable)?;
                let b = cached_blob(&self.runtime, &self.client, &self.blobs, b_sha256)
                    .map_err(JobSourceError::Unreachable)?;
                Ok(Job {
                    id: lease.lease_id.clone(),
                    dims: MatmulDims { m: *rows, n: *n, k: *k },
                    seed: 0,
                    client: Some(ClientBlock { a, b, row_start: *row_start }),
                    embed: None,
                })
            }
            JobSpec::Embeddings(batch) => {
                // Downloaded once (resumed if interrupted), checked against the
                // lease's hashes, kept under the cache's quota; the owner sees its
                // progress, and the owner's return stops it.
                let span = tracing::info_span!("model", name = %batch.model.name);
                let mut last_logged = 0u64;
                let mut last_event: Option<Instant> = None;
                let watch = self.watch.clone();
                let model_dir = self
                    .runtime
                    .block_on(self.models.ensure(self.client.url(), &batch.model, &mut |p| {
                        let done = p.done_bytes == p.total_bytes;
                        if p.done_bytes >= last_logged + 16 * 1024 * 1024 || done {
                            last_logged = p.done_bytes;
                            tracing::info!(done = p.done_bytes, total = p.total_bytes, "downloading the model");
                        }
                        let Some(w) = &watch else { return true };
                        if done || last_event.is_none_or(|t| t.elapsed() >= DOWNLOAD_EVENT_EVERY) {
                            last_event = Some(Instant::now());
                            let kind = EventKind::DownloadProgress {
                                model: p.model,
                                done_bytes: p.done_bytes,
                                total_bytes: p.total_bytes,
                            };
                            let _ = w.events.send(Event::now(kind));
                        }
                        !w.cancel.is_cancelled()
                    }))
                    .map_err(|e| match e {
                        CacheError::Stopped => JobSourceError::Interrupted,
                        e => JobSourceError::Unreachable(format!("model {}: {e}", batch.model.name)),
                    })?;
                drop(span);
                let (rows, dim, longest) = lease.job.dims();
                Ok(Job {
                    id: lease.lease_id.clone(),
                    dims: MatmulDims { m: rows, n: dim, k: longest },
                    seed: 0,
                    client: None,
                    embed: Some(EmbedWork { model_dir, sequences: batch.sequences.clone(), flops: batch.flops }),
                })
            }
        }
    }
}

fn unreachable(e: &ClientError) -> JobSourceError {
    JobSourceError::Unreachable(e.to_string())
}

impl JobSource for NetworkJobs {
    fn watch(&mut self, watch: SourceWatch) {
        self.watch = Some(watch);
    }

    fn next_job(&mut self) -> Result<Job, JobSourceError> {
        let span = tracing::info_span!("next_job", coordinator = self.client.url());
        let _guard = span.enter();
        self.flush_outbox().map_err(|e| unreachable(&e))?;
        if self.not_before.is_some_and(|t| Instant::now() < t) {
            return Err(JobSourceError::NoWork);
        }
        match self.lease() {
            Ok(lease) => {
                tracing::info!(lease_id = lease.lease_id, job = ?lease.job, reward = %lease.reward, "leased");
                match self.job_of(&lease) {
                    Ok(job) => {
                        self.leases.insert(lease.lease_id.clone(), lease);
                        Ok(job)
                    }
                    // A lease this node cannot start now is given back at once (not
                    // left to time out): another node can take it, and this node's
                    // lease cap stays free.
                    Err(e) => {
                        match self.runtime.block_on(self.client.release(&lease.lease_id)) {
                            Ok(_) => {
                                tracing::info!(lease_id = lease.lease_id, %e, "lease released: the job could not start")
                            }
                            Err(re) => {
                                tracing::warn!(lease_id = lease.lease_id, %e, %re, "could not release a lease the node cannot start")
                            }
                        }
                        Err(e)
                    }
                }
            }
            Err(ClientError::Api {
                kind: ErrorKind::RateLimited | ErrorKind::NoPaidWork,
                retry_after,
                message,
                ..
            }) => {
                let wait = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
                tracing::info!(?wait, message, "coordinator asked us to wait");
                self.not_before = Some(Instant::now() + wait);
                Err(JobSourceError::NoWork)
            }
            // The node is refused work (bad results, a bad request): the message says why.
            Err(
                e @ ClientError::Api {
                    kind: ErrorKind::NodeRefused | ErrorKind::Forbidden | ErrorKind::BadRequest, ..
                },
            ) => Err(JobSourceError::Rejected(e.to_string())),
            // Anything else (no answer, a 404 from a URL that is no coordinator, a 5xx):
            // nothing to do here but try again later.
            Err(e) => Err(unreachable(&e)),
        }
    }

    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError> {
        let span = tracing::info_span!("submit", lease_id = job.id);
        let _guard = span.enter();
        // Durable before the first attempt; if the disk fails, still try to deliver.
        if let Err(e) = self.enqueue(job, &c) {
            tracing::error!(%e, "cannot queue the result on disk; submitting without a safety net");
        }
        match self.send(&job.id, &c) {
            Sent::Verified => Ok(()),
            Sent::Refused(why) => Err(JobSourceError::Rejected(why)),
            Sent::Kept(e) => Err(unreachable(&e)),
        }
    }
}
