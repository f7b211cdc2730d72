//! The reference forward pass on the CPU: token ids in, sentence embeddings out, written
//! for clarity and independence rather than speed. It shares no code with the GPU
//! kernels (`idlewatt::embed`), so the coordinator can use it to check what a node
//! returns without sharing the node's bugs. Parameters and activations are f32 as in the
//! model; every sum (dot products, layer-norm moments, softmax, pooling) is accumulated
//! in f64, so the result is closer to exact than PyTorch's own f32 forward.
//!
//! Each sequence is computed on its own, without padding: masking padded keys, as the
//! batched GPU forward does, gives the same result.

use std::path::Path;

use crate::{ModelError, Pooling, Weights, weights::LayerNorm, weights::Linear};

/// A model ready for [`encode`] on the CPU.
#[derive(Debug, Clone)]
pub struct CpuModel {
    weights: Weights,
    threads: usize,
}

impl CpuModel {
    /// Wraps loaded weights; [`encode`] spreads sequences over all available CPUs.
    pub fn new(weights: Weights) -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self { weights, threads }
    }

    /// Loads a sentence-transformers folder (see [`Weights::load_dir`]).
    pub fn load_dir(dir: &Path) -> Result<Self, ModelError> {
        Weights::load_dir(dir).map(Self::new)
    }

    /// Caps the number of threads [`encode`] uses (at least 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The weights (and through them the configuration).
    pub fn weights(&self) -> &Weights {
        &self.weights
    }
}

/// Sentence embeddings of `batch`, one vector of `hidden_size` per sequence. Each
/// sequence is token ids as the model's tokenizer produced them, [CLS] and [SEP]
/// included, at most `max_seq_length` long. Every sequence is checked before any work.
pub fn encode(model: &CpuModel, batch: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, ModelError> {
    model.weights.config.check_batch(batch)?;
    let threads = model.threads.min(batch.len()).max(1);
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); batch.len()];
    // Longest first, dealt round-robin: threads finish at about the same time.
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(batch[i].len()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<usize> = order.iter().copied().skip(t).step_by(threads).collect();
                let weights = &model.weights;
                scope.spawn(move || mine.into_iter().map(|i| (i, encode_one(weights, &batch[i]))).collect::<Vec<_>>())
            })
            .collect();
        for handle in handles {
            // A panic in a worker is a bug in this file; re-raise it where it is visible.
            let done = handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, vector) in done {
                out[i] = vector;
            }
        }
    });
    Ok(out)
}

/// The forward pass of one (already checked) sequence.
fn encode_one(w: &Weights, ids: &[u32]) -> Vec<f32> {
    let c = &w.config;
    let (n, h) = (ids.len(), c.hidden_size);
    let eps = c.layer_norm_eps;

    // Embeddings: word + position + token type 0, then layer norm.
    let mut x = vec![0f32; n * h];
    for (p, &id) in ids.iter().enumerate() {
        let word = &w.word_embeddings[id as usize * h..][..h];
        let pos = &w.position_embeddings[p * h..][..h];
        let typ = &w.token_type_embeddings[..h];
        let row = &mut x[p * h..][..h];
        for d in 0..h {
            row[d] = (f64::from(word[d]) + f64::from(pos[d]) + f64::from(typ[d])) as f32;
        }
    }
    layer_norm(&mut x, None, &w.embeddings_norm, h, eps);

    let heads = c.num_heads;
    let hd = c.head_dim();
    let scale = 1.0 / (hd as f64).sqrt();
    for layer in &w.layers {
        let q = linear(&x, &layer.query, n);
        let k = linear(&x, &layer.key, n);
        let v = linear(&x, &layer.value, n);
        let mut ctx = vec![0f32; n * h];
        let mut scores = vec![0f64; n];
        for head in 0..heads {
            let off = head * hd;
            for i in 0..n {
                let qi = &q[i * h + off..][..hd];
                let mut max = f64::NEG_INFINITY;
                for (j, s) in scores.iter_mut().enumerate() {
                    *s = dot(qi, &k[j * h + off..][..hd]) * scale;
                    max = max.max(*s);
                }
                let mut sum = 0f64;
                for s in scores.iter_mut() {
                    *s = (*s - max).exp();
                    sum += *s;
                }
                let out = &mut ctx[i * h + off..][..hd];
                for (d, o) in out.iter_mut().enumerate() {
                    let mut acc = 0f64;
                    for (j, s) in scores.iter().enumerate() {
                        acc += s * f64::from(v[j * h + off + d]);
                    }
                    *o = (acc / sum) as f32;
                }
            }
        }
        let attn = linear(&ctx, &layer.attn_out, n);
        layer_norm(&mut x, Some(&attn), &layer.attn_norm, h, eps);

        let mut inner = linear(&x, &layer.ffn_in, n);
        for value in &mut inner {
            *value = gelu(f64::from(*value)) as f32;
        }
        let out = linear(&inner, &layer.ffn_out, n);
        layer_norm(&mut x, Some(&out), &layer.ffn_norm, h, eps);
    }

    let mut pooled: Vec<f64> = match c.pooling {
        Pooling::Cls => x[..h].iter().map(|&v| f64::from(v)).collect(),
        Pooling::Mean => {
            let mut acc = vec![0f64; h];
            for row in x.chunks_exact(h) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += f64::from(v);
                }
            }
            acc.iter().map(|a| a / n as f64).collect()
        }
    };
    if c.normalize {
        // As torch.nn.functional.normalize: divide by max(‖v‖, 1e-12).
        let norm = pooled.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
        for v in &mut pooled {
            *v /= norm;
        }
    }
    pooled.into_iter().map(|v| v as f32).collect()
}

/// `x·weightᵀ + bias` for `rows` rows of `x`.
fn linear(x: &[f32], layer: &Linear, rows: usize) -> Vec<f32> {
    let (inp, out) = (layer.in_features, layer.out_features);
    let mut y = vec![0f32; rows * out];
    for r in 0..rows {
        let xr = &x[r * inp..][..inp];
        for (o, yo) in y[r * out..][..out].iter_mut().enumerate() {
            *yo = (dot(xr, &layer.weight[o * inp..][..inp]) + f64::from(layer.bias[o])) as f32;
        }
    }
    y
}

/// Σ a·b in f64, four independent accumulators.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    let mut tail = 0f64;
    for (x, y) in ra.iter().zip(rb) {
        tail += f64::from(*x) * f64::from(*y);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `x ← LayerNorm(x + residual)` row by row (biased variance, as PyTorch).
fn layer_norm(x: &mut [f32], residual: Option<&[f32]>, norm: &LayerNorm, h: usize, eps: f64) {
    let mut row = vec![0f64; h];
    for (r, xr) in x.chunks_exact_mut(h).enumerate() {
        for d in 0..h {
            row[d] = f64::from(xr[d]) + residual.map_or(0.0, |res| f64::from(res[r * h + d]));
        }
        let mean = row.iter().sum::<f64>() / h as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / h as f64;
        let inv = 1.0 / (var + eps).sqrt();
        for d in 0..h {
            xr[d] = ((row[d] - mean) * inv * f64::from(norm.gamma[d]) + f64::from(norm.beta[d])) as f32;
        }
    }
}

/// GELU, the exact (erf) form BERT's `"gelu"` means.
pub fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// The error function to ~1e-16 (std has no `erf` on stable Rust): the series
/// erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose terms are all
/// positive (no cancellation); beyond |x| = 6, erf is ±1 to double precision.
pub fn erf(x: f64) -> f64 {
    let a = x.abs();
    let value = if a < 6.0 {
        let a2 = a * a;
        let mut term = a;
        let mut sum = a;
        let mut n = 0f64;
        while term > 1e-17 * sum && n < 500.0 {
            term *= 2.0 * a2 / (2.0 * n + 3.0);
            sum += term;
            n += 1.0;
        }
        (sum * (-a2).exp() * std::f64::consts::FRAC_2_SQRT_PI).min(1.0)
    } else {
        1.0
    };
    if x < 0.0 { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_tabulated_values() {
        // Abramowitz & Stegun table 7.1 and high-precision references.
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.9, 0.999_958_902_121_900_6),
            (3.0, 0.999_977_909_503_001_4),
            (4.0, 0.999_999_984_582_742_1),
            (5.5, 0.999_999_999_999_992_7),
        ] {
            assert!((erf(x) - want).abs() < 1e-14, "erf({x}) = {} want {want}", erf(x));
            assert!((erf(-x) + want).abs() < 1e-14);
        }
        assert_eq!(erf(40.0), 1.0);
    }

    #[test]
    fn gelu_known_values() {
        assert_eq!(gelu(0.0), 0.0);
        assert!((gelu(1.0) - 0.841_344_746_068_542_9).abs() < 1e-14);
        assert!((gelu(-1.0) + 0.158_655_253_931_457_05).abs() < 1e-14);
    }

    #[test]
    fn dot_and_layer_norm_are_exact_on_small_cases() {
        assert_eq!(dot(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 1.0, 1.0, 1.0, 2.0]), 20.0);
        let mut x = vec![1.0f32, 3.0];
        let norm = LayerNorm { gamma: vec![2.0, 2.0], beta: vec![0.5, 0.5] };
        layer_norm(&mut x, Some(&[1.0, 1.0]), &norm, 2, 0.0);
        assert_eq!(x, vec![-1.5, 2.5]);
    }
}
