//! The embedding model resident on the GPU: its weights uploaded once into storage
//! buffers (the QKV projections fused into one matrix so a layer starts with one
//! matmul), the five `embed_*` pipelines compiled with explicit layouts, and the
//! throughput the last batch measured (the next batch's first guess). Dropping it frees
//! the VRAM. Every size is checked against the device's limits before anything is
//! allocated.

use std::sync::{Mutex, PoisonError};

use idlewatt_models::{ModelConfig, Weights};
use wgpu::util::DeviceExt;

use super::{
    EmbedError,
    params::{LINEAR_TILE, LINEAR_TILE_K, MAX_SEQ, Params, ROW_WORKGROUP},
    plan::RATE_CLASSES,
};
use crate::compute::{ComputeError, Engine, kernels};

/// The five kernels of the forward pass.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pub(crate) tokens: Kernel,
    pub(crate) linear: Kernel,
    pub(crate) attention: Kernel,
    pub(crate) addnorm: Kernel,
    pub(crate) pool: Kernel,
}

/// One compiled kernel and its bind-group layout.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// One layer's buffers.
#[derive(Debug)]
pub(crate) struct LayerBuffers {
    /// `[3·hidden, hidden]`: query, key, value weights stacked.
    pub(crate) qkv_w: wgpu::Buffer,
    pub(crate) qkv_b: wgpu::Buffer,
    pub(crate) out_w: wgpu::Buffer,
    pub(crate) out_b: wgpu::Buffer,
    /// gamma then beta.
    pub(crate) attn_norm: wgpu::Buffer,
    pub(crate) ffn_in_w: wgpu::Buffer,
    pub(crate) ffn_in_b: wgpu::Buffer,
    pub(crate) ffn_out_w: wgpu::Buffer,
    pub(crate) ffn_out_b: wgpu::Buffer,
    pub(crate) ffn_norm: wgpu::Buffer,
}

/// A BERT-family sentence encoder on the GPU of one [`Engine`].
#[derive(Debug)]
pub struct EmbedModel {
    pub(crate) config: ModelConfig,
    pub(crate) fingerprint: u64,
    pub(crate) pipelines: Pipelines,
    pub(crate) word: wgpu::Buffer,
    pub(crate) position: wgpu::Buffer,
    /// Token-type row 0, gamma, beta of the embedding layer norm: `[3, hidden]`.
    pub(crate) type_norm: wgpu::Buffer,
    pub(crate) layers: Vec<LayerBuffers>,
    pub(crate) vram_bytes: u64,
    /// FLOP-equivalents per second per [`RATE_CLASSES`] measured by the last batch.
    pub(crate) last_rates: Mutex<Option<[f64; RATE_CLASSES]>>,
    device: wgpu::Device,
}

impl EmbedModel {
    /// Checks `weights` against the device's limits, compiles the kernels and uploads
    /// the weights to `engine`'s GPU. Nothing is allocated if a check fails.
    pub fn upload(engine: &Engine, weights: &Weights) -> Result<Self, EmbedError> {
        let c = &weights.config;
        let span = tracing::info_span!("embed_upload", hidden = c.hidden_size, layers = c.num_layers);
        let _enter = span.enter();
        engine.check_health()?;
        check_device(&engine.limits, c)?;
        let largest = [
            weights.word_embeddings.len(),
            weights.position_embeddings.len(),
            c.intermediate_size * c.hidden_size,
            3 * c.hidden_size * c.hidden_size,
        ];
        for (what, values) in
            ["word embeddings", "position embeddings", "feed-forward weights", "QKV weights"].into_iter().zip(largest)
        {
            check_buffer(&engine.limits, what, values as u64 * 4)?;
        }

        let dev = &engine.device;
        let pipelines = compile(dev)?;
        let scope = dev.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut vram = 0u64;
        let mut upload = |label: &str, parts: &[&[f32]]| {
            let data: Vec<f32> = parts.concat();
            vram += data.len() as u64 * 4;
            dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&data),
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let h = c.hidden_size;
        let word = upload("embed.word", &[&weights.word_embeddings]);
        let position = upload("embed.position", &[&weights.position_embeddings]);
        let type_norm = upload(
            "embed.type_norm",
            &[&weights.token_type_embeddings[..h], &weights.embeddings_norm.gamma, &weights.embeddings_norm.beta],
        );
        let layers = weights
            .layers
            .iter()
            .map(|l| LayerBuffers {
                qkv_w: upload("embed.qkv_w", &[&l.query.weight, &l.key.weight, &l.value.weight]),
                qkv_b: upload("embed.qkv_b", &[&l.query.bias, &l.key.bias, &l.value.bias]),
                out_w: upload("embed.out_w", &[&l.attn_out.weight]),
                out_b: upload("embed.out_b", &[&l.attn_out.bias]),
                attn_norm: upload("embed.attn_norm", &[&l.attn_norm.gamma, &l.attn_norm.beta]),
                ffn_in_w: upload("embed.ffn_in_w", &[&l.ffn_in.weight]),
                ffn_in_b: upload("embed.ffn_in_b", &[&l.ffn_in.bias]),
                ffn_out_w: upload("embed.ffn_out_w", &[&l.ffn_out.weight]),
                ffn_out_b: upload("embed.ffn_out_b", &[&l.ffn_out.bias]),
                ffn_norm: upload("embed.ffn_norm", &[&l.ffn_norm.gamma, &l.ffn_norm.beta]),
            })
            .collect();
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(
                ComputeError::OutOfMemory { what: "the embedding model's weights", reason: error.to_string() }.into()
            );
        }
        engine.check_health()?;
        tracing::info!(vram_mib = vram >> 20, "embedding model on the GPU");
        Ok(Self {
            config: c.clone(),
            fingerprint: fingerprint(weights),
            pipelines,
            word,
            position,
            type_norm,
            layers,
            vram_bytes: vram,
            last_rates: Mutex::new(None),
            device: dev.clone(),
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Bytes of GPU memory the weights occupy (activations are per batch).
    pub fn vram_bytes(&self) -> u64 {
        self.vram_bytes
    }

    /// A hash of every weight: a suspended batch resumes only on the model that ran it.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// `Err` unless `engine` is the engine this model was uploaded to.
    pub(crate) fn check_engine(&self, engine: &Engine) -> Result<(), EmbedError> {
        if engine.device == self.device {
            Ok(())
        } else {
            Err(EmbedError::Unsupported {
                what: "running the embedding model".into(),
                reason: "it was uploaded to another GPU device; upload it again".into(),
            })
        }
    }

    pub(crate) fn remembered_rates(&self) -> Option<[f64; RATE_CLASSES]> {
        *self.last_rates.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn remember_rates(&self, rates: [f64; RATE_CLASSES]) {
        *self.last_rates.lock().unwrap_or_else(PoisonError::into_inner) = Some(rates);
    }
}

/// Refuses devices the kernels cannot run on, naming the limit.
fn check_device(limits: &wgpu::Limits, c: &ModelConfig) -> Result<(), EmbedError> {
    let need = |what: &str, needed: u64, have: u64| -> Result<(), EmbedError> {
        if needed > have {
            Err(EmbedError::Unsupported {
                what: format!("this GPU's {what}"),
                reason: format!("the embedding kernels need {needed}, the device offers {have}"),
            })
        } else {
            Ok(())
        }
    };
    let linear_invocations = (LINEAR_TILE / 4) * (LINEAR_TILE / 4);
    need(
        "max_compute_invocations_per_workgroup",
        linear_invocations.into(),
        limits.max_compute_invocations_per_workgroup.into(),
    )?;
    need("max_compute_workgroup_size_x", ROW_WORKGROUP.into(), limits.max_compute_workgroup_size_x.into())?;
    need("max_compute_workgroup_size_y", (LINEAR_TILE / 4).into(), limits.max_compute_workgroup_size_y.into())?;
    need(
        "max_compute_workgroup_storage_size",
        (2 * LINEAR_TILE * LINEAR_TILE_K * 4).max(MAX_SEQ * 4 + 2 * ROW_WORKGROUP * 4).into(),
        limits.max_compute_workgroup_storage_size.into(),
    )?;
    need("max_storage_buffers_per_shader_stage", 5, limits.max_storage_buffers_per_shader_stage.into())?;
    if c.hidden_size as u64 * 3 > u64::from(u32::MAX / 4) {
        return Err(EmbedError::Unsupported {
            what: "hidden size".into(),
            reason: "too large for 32-bit indices".into(),
        });
    }
    Ok(())
}

/// `Err(TooLarge)` when one buffer of `bytes` exceeds the device's buffer limits.
pub(crate) fn check_buffer(limits: &wgpu::Limits, what: &'static str, bytes: u64) -> Result<(), EmbedError> {
    let binding = limits.max_storage_buffer_binding_size;
    let (limit, allowed) = if bytes > limits.max_buffer_size {
        ("the GPU's max_buffer_size", limits.max_buffer_size)
    } else if bytes > binding {
        ("the GPU's max_storage_buffer_binding_size", binding)
    } else {
        return Ok(());
    };
    Err(ComputeError::TooLarge { what, needed: mib(bytes), limit, allowed: mib(allowed) }.into())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// FNV-1a over the configuration and every weight's bits.
fn fingerprint(w: &Weights) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |values: &[f32]| {
        for v in values {
            for b in v.to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    };
    eat(&[w.config.hidden_size as f32, w.config.num_layers as f32, w.config.max_seq_length as f32]);
    eat(&w.word_embeddings);
    eat(&w.position_embeddings);
    eat(&w.token_type_embeddings);
    eat(&w.embeddings_norm.gamma);
    eat(&w.embeddings_norm.beta);
    for l in &w.layers {
        for lin in [&l.query, &l.key, &l.value, &l.attn_out, &l.ffn_in, &l.ffn_out] {
            eat(&lin.weight);
            eat(&lin.bias);
        }
        for n in [&l.attn_norm, &l.ffn_norm] {
            eat(&n.gamma);
            eat(&n.beta);
        }
    }
    hash
}

/// The kernels of the forward pass (`shaders/<name>.wgsl`, complete as written: they
/// take no generated prelude).
pub const KERNELS: [&str; 5] = ["embed_tokens", "embed_linear", "embed_attention", "embed_addnorm", "embed_pool"];

fn compile(dev: &wgpu::Device) -> Result<Pipelines, EmbedError> {
    // (kernel, storage bindings as read_only flags after the uniform at binding 0)
    let kernel = |name: &'static str, storage: &[bool]| -> Result<Kernel, EmbedError> {
        let source = kernels::template(name).ok_or_else(|| ComputeError::UnknownKernel(name.into()))?;
        let scope = dev.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
            },
            count: None,
        }];
        for (i, &read_only) in storage.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let layout =
            dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(name), entries: &entries });
        let pipeline_layout = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(name),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                // Every workgroup-memory element is written before it is read.
                zero_initialize_workgroup_memory: false,
                ..Default::default()
            },
            cache: None,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(ComputeError::Gpu(format!("compiling {name}: {error}")).into());
        }
        Ok(Kernel { pipeline, layout })
    };
    Ok(Pipelines {
        tokens: kernel("embed_tokens", &[true, true, true, true, false])?,
        linear: kernel("embed_linear", &[true, true, true, false])?,
        attention: kernel("embed_attention", &[true, true, false])?,
        addnorm: kernel("embed_addnorm", &[false, true, true])?,
        pool: kernel("embed_pool", &[true, true, false])?,
    })
}
