//! CPU references of the `shaders/embed_*.wgsl` kernels, one function per kernel with the
//! kernel's exact data layout (padded batches, fused QKV, `[out, in]` weights), in f64.
//! The known-answer tests run each kernel on the GPU and compare with these; the whole
//! model is checked separately against `idlewatt_models::cpu` and sentence-transformers.

/// `embed_tokens`: rows `t` of `[tokens, hidden]` = LayerNorm(word[id] + position[t mod
/// seq_len] + type0) with `gamma`, `beta`.
#[allow(clippy::too_many_arguments)]
pub fn embed_tokens(
    ids: &[u32],
    seq_len: usize,
    word: &[f32],
    position: &[f32],
    type0: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
) -> Vec<f32> {
    let h = gamma.len();
    let mut out = Vec::with_capacity(ids.len() * h);
    for (t, &id) in ids.iter().enumerate() {
        let p = t % seq_len;
        let row: Vec<f64> = (0..h)
            .map(|d| f64::from(word[id as usize * h + d]) + f64::from(position[p * h + d]) + f64::from(type0[d]))
            .collect();
        out.extend(norm_row(&row, gamma, beta, eps));
    }
    out
}

/// `embed_linear`: `x [rows, k] · w[n, k]ᵀ + bias`, optionally GELU (erf form).
pub fn linear(x: &[f32], w: &[f32], bias: &[f32], k: usize, gelu: bool) -> Vec<f32> {
    let n = bias.len();
    let rows = x.len() / k;
    let mut y = Vec::with_capacity(rows * n);
    for r in 0..rows {
        for c in 0..n {
            let mut acc = f64::from(bias[c]);
            for i in 0..k {
                acc += f64::from(x[r * k + i]) * f64::from(w[c * k + i]);
            }
            y.push(if gelu { idlewatt_models::cpu::gelu(acc) } else { acc } as f32);
        }
    }
    y
}

/// `embed_attention`: per token and head, softmax(q·kᵀ/√d) over the real keys of the
/// token's sequence (`lens`), times v. `qkv` is `[tokens, 3·hidden]`.
pub fn attention(qkv: &[f32], lens: &[u32], seq_len: usize, hidden: usize, heads: usize) -> Vec<f32> {
    let hd = hidden / heads;
    let tokens = qkv.len() / (3 * hidden);
    let scale = 1.0 / (hd as f64).sqrt();
    let at =
        |t: usize, part: usize, head: usize, d: usize| f64::from(qkv[t * 3 * hidden + part * hidden + head * hd + d]);
    let mut ctx = vec![0f32; tokens * hidden];
    for t in 0..tokens {
        let seq = t / seq_len;
        let first = seq * seq_len;
        let len = (lens[seq] as usize).min(seq_len);
        for head in 0..heads {
            let scores: Vec<f64> = (0..len)
                .map(|j| (0..hd).map(|d| at(t, 0, head, d) * at(first + j, 1, head, d)).sum::<f64>() * scale)
                .collect();
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            for d in 0..hd {
                let v: f64 = e.iter().enumerate().map(|(j, p)| p * at(first + j, 2, head, d)).sum();
                ctx[t * hidden + head * hd + d] = (v / sum) as f32;
            }
        }
    }
    ctx
}

/// `embed_addnorm`: rows of LayerNorm(x + r).
pub fn add_norm(x: &[f32], r: &[f32], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f32> {
    let h = gamma.len();
    x.chunks_exact(h)
        .zip(r.chunks_exact(h))
        .flat_map(|(xr, rr)| {
            let row: Vec<f64> = xr.iter().zip(rr).map(|(a, b)| f64::from(*a) + f64::from(*b)).collect();
            norm_row(&row, gamma, beta, eps)
        })
        .collect()
}

/// `embed_pool`: per sequence, the mean of its first `lens[s]` rows (or row 0 when
/// `cls`), then divided by max(‖v‖, 1e-12) when `normalize`.
pub fn pool(x: &[f32], lens: &[u32], seq_len: usize, hidden: usize, cls: bool, normalize: bool) -> Vec<f32> {
    let mut out = Vec::with_capacity(lens.len() * hidden);
    for (s, &len) in lens.iter().enumerate() {
        let len = if cls { 1 } else { (len as usize).clamp(1, seq_len) };
        let mut v: Vec<f64> = (0..hidden)
            .map(|d| (0..len).map(|i| f64::from(x[(s * seq_len + i) * hidden + d])).sum::<f64>() / len as f64)
            .collect();
        if normalize {
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
            v.iter_mut().for_each(|a| *a /= norm);
        }
        out.extend(v.into_iter().map(|a| a as f32));
    }
    out
}

fn norm_row(row: &[f64], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f32> {
    let h = row.len() as f64;
    let mean = row.iter().sum::<f64>() / h;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / h;
    let inv = 1.0 / (var + eps).sqrt();
    row.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(v, (g, b))| ((v - mean) * inv * f64::from(*g) + f64::from(*b)) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_ignores_padded_keys() {
        // One sequence of length 1 padded to 2: the padded key must not change anything.
        let (hidden, heads) = (2, 1);
        let mut qkv = vec![1.0, 0.0, 1.0, 0.0, 5.0, 6.0];
        qkv.extend([9.0, 9.0, 9.0, 9.0, 100.0, 100.0]);
        let ctx = attention(&qkv, &[1], 2, hidden, heads);
        assert_eq!(&ctx[..2], &[5.0, 6.0]);
        // Two real keys with equal scores average their values.
        let qkv = vec![0.0, 0.0, 1.0, 0.0, 2.0, 4.0, 0.0, 0.0, 1.0, 0.0, 4.0, 8.0];
        assert_eq!(&attention(&qkv, &[2], 2, hidden, heads)[..2], &[3.0, 6.0]);
    }

    #[test]
    fn pool_means_real_rows_and_normalises() {
        let x = [3.0, 0.0, 1.0, 4.0, 100.0, 100.0];
        assert_eq!(pool(&x, &[2], 3, 2, false, false), vec![2.0, 2.0]);
        assert_eq!(pool(&x, &[2], 3, 2, true, true), vec![1.0, 0.0]);
        let v = pool(&x, &[2], 3, 2, false, true);
        assert!((v[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
    }

    #[test]
    fn linear_and_norm_small_cases() {
        // [1, 2]·[[1, 1], [0, 3]]ᵀ + [0.5, -1]
        assert_eq!(linear(&[1.0, 2.0], &[1.0, 1.0, 0.0, 3.0], &[0.5, -1.0], 2, false), vec![3.5, 5.0]);
        let y = add_norm(&[1.0, 2.0], &[0.0, 1.0], &[1.0, 1.0], &[0.0, 0.0], 0.0);
        assert_eq!(y, vec![-1.0, 1.0]);
    }
}
