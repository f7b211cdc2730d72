//! One batch through the model on the GPU: activation buffers sized for the padded
//! batch (checked against the device's limits before allocation), then the forward pass
//! as a sequence of short dispatches planned by [`Planner`]. Between submissions the run
//! checks the cancel token; consecutive small steps are packed into one submission while
//! their estimated time stays under the engine's slice target, so a fast GPU is not
//! slowed down by round trips and a slow one never runs past the target. An interrupted
//! batch is [`suspend`](EmbedRun::suspend)ed to host memory (the cursor and only the
//! activations still needed there) and [`resume`](EmbedModel::resume)d later, on this
//! device or a new one.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wgpu::util::DeviceExt;

use super::{
    EmbedError, EmbedModel,
    params::{FLAG_ACCUMULATE, FLAG_CLS, FLAG_GELU, FLAG_NORMALIZE, MAX_SEQ, Params, SLOT_STRIDE},
    plan::{BatchShape, Cursor, Planner, RATE_CLASSES, StageKind, Step},
};
use crate::compute::{CancelToken, ComputeError, Engine, HostProfile, RunState};
use idlewatt_models::Pooling;

/// Most steps packed into one submission (parameter slots).
const MAX_STEPS_PER_SUBMIT: usize = 64;

/// The activation buffers of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `[tokens, hidden]`: the hidden states between stages.
    Hidden,
    /// `[tokens, 3·hidden]`: query, key, value.
    Qkv,
    /// `[tokens, hidden]`: attention output before its projection.
    Context,
    /// `[tokens, hidden]`: a projection's output awaiting its residual add-norm.
    Sublayer,
    /// `[tokens, intermediate]`: the feed-forward's inner activations.
    Inner,
    /// `[sequences, hidden]`: the sentence vectors.
    Output,
}

const ACTIVATIONS: [Activation; 6] = [
    Activation::Hidden,
    Activation::Qkv,
    Activation::Context,
    Activation::Sublayer,
    Activation::Inner,
    Activation::Output,
];

impl Activation {
    fn len(self, s: &BatchShape) -> u64 {
        let t = u64::from(s.tokens());
        match self {
            Self::Hidden | Self::Context | Self::Sublayer => t * u64::from(s.hidden),
            Self::Qkv => 3 * t * u64::from(s.hidden),
            Self::Inner => t * u64::from(s.intermediate),
            Self::Output => u64::from(s.sequences) * u64::from(s.hidden),
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::Hidden => "embed.hidden",
            Self::Qkv => "embed.qkv",
            Self::Context => "embed.context",
            Self::Sublayer => "embed.sublayer",
            Self::Inner => "embed.inner",
            Self::Output => "embed.output",
        }
    }
    /// The buffers whose contents matter while `kind` is in progress (its inputs, its
    /// partial output, and the hidden states a later residual reads).
    fn live_during(kind: StageKind) -> &'static [Activation] {
        use Activation::*;
        match kind {
            StageKind::Tokens => &[Hidden],
            StageKind::Qkv => &[Hidden, Qkv],
            StageKind::Attention => &[Hidden, Qkv, Context],
            StageKind::AttnOut => &[Hidden, Context, Sublayer],
            StageKind::AttnNorm | StageKind::FfnNorm => &[Hidden, Sublayer],
            StageKind::FfnIn => &[Hidden, Inner],
            StageKind::FfnOut => &[Hidden, Inner, Sublayer],
            StageKind::Pool => &[Hidden, Output],
        }
    }
}

/// Reported after every submission (progress, benchmarks, the governor's duty cycle).
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// Submissions so far in this run.
    pub index: u64,
    /// Dispatches in this submission.
    pub dispatches: usize,
    /// The stage of the last dispatch.
    pub stage: StageKind,
    /// Its layer.
    pub layer: u32,
    /// Wall time from submit to completion.
    pub elapsed: Duration,
    /// Estimated fraction of the batch done, 0–1.
    pub fraction_done: f64,
}

/// A batch interrupted between dispatches, in host memory: resumable with
/// [`EmbedModel::resume`] on the model that ran it (same weights fingerprint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuspendedEmbed {
    /// The token ids of the batch.
    pub batch: Vec<Vec<u32>>,
    /// The fingerprint of the model that ran it.
    pub model_fingerprint: u64,
    /// Where it stopped.
    pub cursor: Cursor,
    /// The activations live at the cursor.
    pub state: Vec<(Activation, Vec<f32>)>,
}

/// A batch with its activations on the GPU.
#[derive(Debug)]
pub struct EmbedRun<'a> {
    engine: &'a Engine,
    model: &'a EmbedModel,
    batch: Vec<Vec<u32>>,
    planner: Planner,
    cursor: Cursor,
    rates: [f64; RATE_CLASSES],
    buffers: Vec<wgpu::Buffer>,
    params: wgpu::Buffer,
    /// One bind group per stage.
    groups: Vec<wgpu::BindGroup>,
    submit_times: Vec<Duration>,
    /// Cap on one step's estimated cost (tests force tiny steps with it).
    max_step_cost: f64,
}

impl EmbedModel {
    /// The padded shape of `batch`, after checking it against the model (ids, lengths)
    /// and the device (sequence length, buffer sizes, host memory). Allocates nothing.
    pub fn check_batch(&self, engine: &Engine, batch: &[Vec<u32>]) -> Result<BatchShape, EmbedError> {
        if batch.is_empty() {
            return Err(EmbedError::EmptyBatch);
        }
        self.config.check_batch(batch)?;
        let c = &self.config;
        let seq_len = batch.iter().map(Vec::len).max().unwrap_or(1);
        if seq_len > MAX_SEQ as usize {
            return Err(EmbedError::Unsupported {
                what: format!("a sequence of {seq_len} tokens"),
                reason: format!("the attention kernel holds at most {MAX_SEQ} tokens"),
            });
        }
        let too_many = || ComputeError::TooLarge {
            what: "the batch",
            needed: format!("{} sequences", batch.len()),
            limit: "32-bit indexing",
            allowed: "fewer".into(),
        };
        let shape = BatchShape {
            sequences: u32::try_from(batch.len()).map_err(|_| too_many())?,
            seq_len: seq_len as u32,
            hidden: c.hidden_size as u32,
            intermediate: c.intermediate_size as u32,
            heads: c.num_heads as u32,
            layers: c.num_layers as u32,
        };
        let mut total = 0u64;
        for a in ACTIVATIONS {
            let values = a.len(&shape);
            // Attention units (tokens × heads) and element indices must fit u32 in WGSL.
            if values >= u64::from(u32::MAX)
                || u64::from(shape.sequences) * u64::from(shape.seq_len) * u64::from(shape.heads) >= u64::from(u32::MAX)
            {
                return Err(too_many().into());
            }
            super::model::check_buffer(&engine.limits, a.label(), values * 4)?;
            total += values * 4;
        }
        let host = HostProfile::available_memory_bytes();
        if host > 0 && total > host / 2 {
            return Err(ComputeError::TooLarge {
                what: "staging the batch's activations in RAM",
                needed: format!("{total} B"),
                limit: "half the available host memory",
                allowed: format!("{} B", host / 2),
            }
            .into());
        }
        Ok(shape)
    }

    /// Uploads `batch` (token ids with [CLS]/[SEP], as the tokenizer produced them) and
    /// prepares its run. Checks everything before allocating.
    pub fn start<'a>(&'a self, engine: &'a Engine, batch: &[Vec<u32>]) -> Result<EmbedRun<'a>, EmbedError> {
        self.prepare(engine, batch.to_vec(), Cursor::default(), &[])
    }

    /// Continues a suspended batch (possibly on a new engine after the owner left again;
    /// upload the model to it first).
    pub fn resume<'a>(&'a self, engine: &'a Engine, job: &SuspendedEmbed) -> Result<EmbedRun<'a>, EmbedError> {
        if job.model_fingerprint != self.fingerprint {
            return Err(EmbedError::ForeignState { expected: job.model_fingerprint, got: self.fingerprint });
        }
        self.prepare(engine, job.batch.clone(), job.cursor, &job.state)
    }

    /// Embeds a whole batch: one L2-normalised (if the model says so) vector per sequence.
    /// `Err(Compute(Cancelled))` if `cancel` is set between dispatches.
    pub fn embed(
        &self,
        engine: &Engine,
        batch: &[Vec<u32>],
        cancel: &CancelToken,
        on_step: &mut dyn FnMut(&StepReport),
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut run = self.start(engine, batch)?;
        match run.run(cancel, on_step)? {
            RunState::Done => run.read_output(),
            RunState::Cancelled => Err(ComputeError::Cancelled.into()),
        }
    }

    fn prepare<'a>(
        &'a self,
        engine: &'a Engine,
        batch: Vec<Vec<u32>>,
        cursor: Cursor,
        state: &[(Activation, Vec<f32>)],
    ) -> Result<EmbedRun<'a>, EmbedError> {
        self.check_engine(engine)?;
        engine.check_health()?;
        let shape = self.check_batch(engine, &batch)?;
        let planner = Planner { shape, max_workgroups: engine.limits.max_compute_workgroups_per_dimension.max(1) };
        if cursor.stage > shape.stage_count() {
            return Err(EmbedError::BadState(format!("stage {} of {}", cursor.stage, shape.stage_count())));
        }
        for (a, data) in state {
            if data.len() as u64 != a.len(&shape) {
                return Err(EmbedError::BadState(format!(
                    "{a:?} holds {} values, expected {}",
                    data.len(),
                    a.len(&shape)
                )));
            }
        }

        let dev = &engine.device;
        let scope = dev.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let t = shape.tokens() as usize;
        let mut ids = vec![0u32; t];
        for (s, seq) in batch.iter().enumerate() {
            ids[s * shape.seq_len as usize..][..seq.len()].copy_from_slice(seq);
        }
        let lens: Vec<u32> = batch.iter().map(|s| s.len() as u32).collect();
        let init = |label: &str, contents: &[u8]| {
            dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let ids_buf = init("embed.ids", bytemuck::cast_slice(&ids));
        let lens_buf = init("embed.lens", bytemuck::cast_slice(&lens));
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let buffers: Vec<wgpu::Buffer> = ACTIVATIONS
            .iter()
            .map(|&a| match state.iter().find(|(s, _)| *s == a) {
                Some((_, data)) => dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(a.label()),
                    contents: bytemuck::cast_slice(data),
                    usage,
                }),
                None => dev.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(a.label()),
                    size: (a.len(&shape) * 4).max(4),
                    usage,
                    mapped_at_creation: false,
                }),
            })
            .collect();
        let params = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("embed.params"),
            size: SLOT_STRIDE * MAX_STEPS_PER_SUBMIT as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(ComputeError::OutOfMemory { what: "the batch's activations", reason: error.to_string() }.into());
        }

        let buf = |a: Activation| &buffers[ACTIVATIONS.iter().position(|x| *x == a).unwrap_or(0)];
        let params_binding = wgpu::BufferBinding {
            buffer: &params,
            offset: 0,
            size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
        };
        let group = |kernel: &super::model::Kernel, label: &str, bound: &[&wgpu::Buffer]| {
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(params_binding.clone()),
            }];
            for (i, b) in bound.iter().enumerate() {
                entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource: b.as_entire_binding() });
            }
            dev.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &kernel.layout,
                entries: &entries,
            })
        };
        let p = &self.pipelines;
        use Activation::*;
        let groups = (0..shape.stage_count())
            .map(|i| {
                let (kind, layer) = shape.stage(i);
                let l = &self.layers[layer as usize];
                match kind {
                    StageKind::Tokens => group(
                        &p.tokens,
                        "embed_tokens",
                        &[&ids_buf, &self.word, &self.position, &self.type_norm, buf(Hidden)],
                    ),
                    StageKind::Qkv => {
                        group(&p.linear, "embed_linear.qkv", &[buf(Hidden), &l.qkv_w, &l.qkv_b, buf(Qkv)])
                    }
                    StageKind::Attention => {
                        group(&p.attention, "embed_attention", &[buf(Qkv), &lens_buf, buf(Context)])
                    }
                    StageKind::AttnOut => {
                        group(&p.linear, "embed_linear.out", &[buf(Context), &l.out_w, &l.out_b, buf(Sublayer)])
                    }
                    StageKind::AttnNorm => {
                        group(&p.addnorm, "embed_addnorm", &[buf(Hidden), buf(Sublayer), &l.attn_norm])
                    }
                    StageKind::FfnIn => {
                        group(&p.linear, "embed_linear.ffn_in", &[buf(Hidden), &l.ffn_in_w, &l.ffn_in_b, buf(Inner)])
                    }
                    StageKind::FfnOut => group(
                        &p.linear,
                        "embed_linear.ffn_out",
                        &[buf(Inner), &l.ffn_out_w, &l.ffn_out_b, buf(Sublayer)],
                    ),
                    StageKind::FfnNorm => {
                        group(&p.addnorm, "embed_addnorm", &[buf(Hidden), buf(Sublayer), &l.ffn_norm])
                    }
                    StageKind::Pool => group(&p.pool, "embed_pool", &[buf(Hidden), &lens_buf, buf(Output)]),
                }
            })
            .collect();
        engine.check_health()?;

        // A cold model starts with deliberately small steps and grows them.
        let guess = if engine.profile().software { 2e8 } else { 5e9 };
        Ok(EmbedRun {
            engine,
            model: self,
            batch,
            planner,
            cursor,
            rates: self.remembered_rates().unwrap_or([guess; RATE_CLASSES]),
            buffers,
            params,
            groups,
            submit_times: Vec::new(),
            max_step_cost: f64::INFINITY,
        })
    }
}

impl EmbedRun<'_> {
    /// The batch's padded shape.
    pub fn shape(&self) -> BatchShape {
        self.planner.shape
    }

    /// Where the batch stands.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Estimated fraction of the batch done, 0–1.
    pub fn fraction_done(&self) -> f64 {
        self.planner.fraction_done(&self.cursor)
    }

    /// Wall time of every submission so far (each is what the owner may wait for).
    pub fn submit_times(&self) -> &[Duration] {
        &self.submit_times
    }

    /// Runs submissions until the batch is done or `cancel` is set (checked before each).
    pub fn run(&mut self, cancel: &CancelToken, on_step: &mut dyn FnMut(&StepReport)) -> Result<RunState, EmbedError> {
        self.run_until(u32::MAX, cancel, on_step)
    }

    /// Caps every step's estimated cost (FLOP-equivalents): a test hook that forces
    /// the smallest steps (one unit, one k-panel) whatever the device's speed.
    #[doc(hidden)]
    pub fn set_max_step_cost(&mut self, cost: f64) {
        self.max_step_cost = cost.max(0.0);
    }

    /// Runs until the cursor reaches stage `stop` (or the end): the known-answer tests
    /// check one kernel at a time with it. `Done` means the stop was reached.
    #[doc(hidden)]
    pub fn run_until(
        &mut self,
        stop: u32,
        cancel: &CancelToken,
        on_step: &mut dyn FnMut(&StepReport),
    ) -> Result<RunState, EmbedError> {
        let s = self.planner.shape;
        let span = tracing::debug_span!("embed_batch", sequences = s.sequences, seq_len = s.seq_len);
        let _enter = span.enter();
        let target = self.engine.slice_target().as_secs_f64();
        loop {
            if cancel.is_cancelled() {
                tracing::debug!(done = self.fraction_done(), "cancelled between dispatches");
                return Ok(RunState::Cancelled);
            }
            // Pack steps while their estimated time fits the target.
            let mut steps: Vec<(Step, f64)> = Vec::new();
            let mut cursor = self.cursor;
            let mut estimate = 0.0;
            while steps.len() < MAX_STEPS_PER_SUBMIT {
                if self.planner.done(&cursor) || cursor.stage >= stop {
                    break;
                }
                let (kind, _) = s.stage(cursor.stage);
                let rate = self.rates[kind.rate_class()];
                let budget = ((target - estimate) * rate).min(self.max_step_cost);
                if !steps.is_empty() && budget < s.unit_cost(kind, 16) {
                    break;
                }
                let Some((step, next)) = self.planner.next(&cursor, budget) else { break };
                let seconds = step.cost / rate;
                if !steps.is_empty() && estimate + seconds > target {
                    break;
                }
                estimate += seconds;
                steps.push((step, seconds));
                cursor = next;
            }
            if steps.is_empty() {
                if self.planner.done(&self.cursor) {
                    self.model.remember_rates(self.rates);
                }
                return Ok(RunState::Done);
            }
            let elapsed = self.submit(&steps)?;
            self.cursor = cursor;
            // Share the measured time among the steps as estimated; update each class.
            let mut per_class = [(0.0f64, 0.0f64); RATE_CLASSES];
            for (step, seconds) in &steps {
                let share = elapsed.as_secs_f64() * seconds / estimate.max(1e-12);
                let entry = &mut per_class[step.kind.rate_class()];
                entry.0 += step.cost;
                entry.1 += share;
            }
            for (class, (cost, seconds)) in per_class.iter().enumerate() {
                if *cost > 0.0 {
                    self.rates[class] = observe(self.rates[class], cost / seconds.max(1e-7));
                }
            }
            self.submit_times.push(elapsed);
            let (last, _) = steps[steps.len() - 1];
            on_step(&StepReport {
                index: self.submit_times.len() as u64,
                dispatches: steps.len(),
                stage: last.kind,
                layer: last.layer,
                elapsed,
                fraction_done: self.fraction_done(),
            });
        }
    }

    /// Encodes `steps` as dispatches of one submission, runs it, returns its wall time.
    fn submit(&self, steps: &[(Step, f64)]) -> Result<Duration, EmbedError> {
        let e = self.engine;
        let s = self.planner.shape;
        let c = &self.model.config;
        let started = Instant::now();
        for (slot, (step, _)) in steps.iter().enumerate() {
            let (n, k) = if step.kind.is_linear() { s.linear_dims(step.kind) } else { (0, 0) };
            let mut flags = 0;
            if step.kind.is_linear() && step.k0 > 0 {
                flags |= FLAG_ACCUMULATE;
            }
            if step.kind == StageKind::FfnIn {
                flags |= FLAG_GELU;
            }
            if step.kind == StageKind::Pool {
                if c.pooling == Pooling::Cls {
                    flags |= FLAG_CLS;
                }
                if c.normalize {
                    flags |= FLAG_NORMALIZE;
                }
            }
            let params = Params {
                tokens: s.tokens(),
                seq_len: s.seq_len,
                hidden: s.hidden,
                n,
                k,
                unit0: step.unit0,
                units: step.units,
                k0: step.k0,
                k1: step.k1,
                flags,
                heads: s.heads,
                head_dim: s.head_dim(),
                tiles_n: if step.kind.is_linear() { s.tiles_n(step.kind) } else { 0 },
                eps: c.layer_norm_eps as f32,
                scale: 1.0 / (s.head_dim() as f32).sqrt(),
                pad: 0,
            };
            e.queue.write_buffer(&self.params, slot as u64 * SLOT_STRIDE, bytemuck::bytes_of(&params));
        }
        let mut encoder = e.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("embed") });
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("embed"), timestamp_writes: None });
            let p = &self.model.pipelines;
            for (slot, (step, _)) in steps.iter().enumerate() {
                let kernel = match step.kind {
                    StageKind::Tokens => &p.tokens,
                    StageKind::Attention => &p.attention,
                    StageKind::AttnNorm | StageKind::FfnNorm => &p.addnorm,
                    StageKind::Pool => &p.pool,
                    _ => &p.linear,
                };
                pass.set_pipeline(&kernel.pipeline);
                pass.set_bind_group(0, &self.groups[step.stage as usize], &[(slot as u64 * SLOT_STRIDE) as u32]);
                pass.dispatch_workgroups(step.units, 1, 1);
            }
        }
        e.queue.submit([encoder.finish()]);
        e.wait()?;
        Ok(started.elapsed())
    }

    /// Copies one activation buffer back to host memory.
    fn read(&self, a: Activation) -> Result<Vec<f32>, EmbedError> {
        let e = self.engine;
        let index = ACTIVATIONS.iter().position(|x| *x == a).unwrap_or(0);
        let source = &self.buffers[index];
        let size = source.size();
        let staging = e.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("embed.readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder =
            e.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("embed.readback") });
        encoder.copy_buffer_to_buffer(source, 0, &staging, 0, size);
        e.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        e.wait()?;
        let failed = |why: String| EmbedError::Compute(ComputeError::Gpu(format!("reading {a:?} back: {why}")));
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(failed(err.to_string())),
            Err(_) => return Err(failed("the map callback never ran".into())),
        }
        let view = staging.get_mapped_range(..).map_err(|err| failed(err.to_string()))?;
        let mut out: Vec<f32> = bytemuck::pod_collect_to_vec(&view[..]);
        drop(view);
        staging.unmap();
        out.truncate(a.len(&self.planner.shape) as usize);
        Ok(out)
    }

    /// The sentence vectors, once [`run`](Self::run) returned [`RunState::Done`].
    pub fn read_output(&self) -> Result<Vec<Vec<f32>>, EmbedError> {
        if !self.planner.done(&self.cursor) {
            return Err(ComputeError::Gpu("read_output called before the batch finished".into()).into());
        }
        let h = self.planner.shape.hidden as usize;
        Ok(self.read(Activation::Output)?.chunks_exact(h).map(<[f32]>::to_vec).collect())
    }

    /// Reads back one activation buffer as it stands (known-answer tests of one stage).
    #[doc(hidden)]
    pub fn read_activation(&self, a: Activation) -> Result<Vec<f32>, EmbedError> {
        self.read(a)
    }

    /// Brings the live activations to host memory and frees the GPU buffers.
    pub fn suspend(self) -> Result<SuspendedEmbed, EmbedError> {
        let mut state = Vec::new();
        if !self.planner.done(&self.cursor) && self.cursor != Cursor::default() {
            let (kind, _) = self.planner.shape.stage(self.cursor.stage);
            for &a in Activation::live_during(kind) {
                state.push((a, self.read(a)?));
            }
        } else if self.planner.done(&self.cursor) {
            state.push((Activation::Output, self.read(Activation::Output)?));
        }
        Ok(SuspendedEmbed { batch: self.batch, model_fingerprint: self.model.fingerprint, cursor: self.cursor, state })
    }
}

/// Feeds one measurement: slowing down is believed at once, speeding up gradually
/// (at most 2× per submission), so one lucky measurement cannot overshoot the target.
fn observe(current: f64, measured: f64) -> f64 {
    if measured < current { measured.max(1e5) } else { (0.5 * current + 0.5 * measured).min(current * 2.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_estimate_drops_at_once_and_grows_at_most_twofold() {
        assert_eq!(observe(1e9, 1e8), 1e8);
        assert_eq!(observe(1e9, 1e12), 2e9);
        assert_eq!(observe(1e9, 1.5e9), 1.25e9);
    }

    #[test]
    fn live_buffers_cover_each_stage_inputs() {
        for kind in [StageKind::Qkv, StageKind::AttnOut, StageKind::FfnOut, StageKind::Pool] {
            assert!(Activation::live_during(kind).contains(&Activation::Hidden), "{kind:?}");
        }
        assert!(Activation::live_during(StageKind::Attention).contains(&Activation::Qkv));
        assert!(Activation::live_during(StageKind::FfnOut).contains(&Activation::Inner));
    }
}
