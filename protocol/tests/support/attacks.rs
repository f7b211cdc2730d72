//! Honest ways to compute C = A·B and adversarial forgeries of C, in one place for the
//! verifier's property tests (`tests/verify_adversarial.rs`) and the trials of
//! `examples/verify_adversary.rs`: what a node could submit to be paid for less work.
#![allow(dead_code)] // each includer uses its own subset

use idlewatt_protocol::inputs::{matmul_inputs, stream_u64};

/// A matmul job: A (m×k) and B (k×n), row-major.
#[derive(Debug, Clone)]
pub struct Problem {
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub seed: u64,
}

impl Problem {
    /// The seeded job the coordinator issues.
    pub fn seeded(seed: u64, m: usize, n: usize, k: usize) -> Self {
        let (a, b) = matmul_inputs(seed, m as u32, n as u32, k as u32);
        Self { a, b, m, n, k, seed }
    }
}

/// How an honest node may order its f32 sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// p = 0, 1, …, k−1.
    Forward,
    /// p = k−1, …, 0.
    Reverse,
    /// Recursive halving.
    Pairwise,
    /// Blocks of this many terms summed on their own, then the block sums in order.
    Blocked(usize),
    /// Forward with fused multiply-add.
    Fma,
    /// This many interleaved accumulators (p mod lanes), added at the end (SIMD/split-k).
    Lanes(usize),
}

pub const ORDERS: [Order; 7] = [
    Order::Forward,
    Order::Reverse,
    Order::Pairwise,
    Order::Blocked(16),
    Order::Blocked(64),
    Order::Fma,
    Order::Lanes(8),
];

fn terms(p: &Problem, i: usize, j: usize) -> impl Iterator<Item = (f32, f32)> + '_ {
    (0..p.k).map(move |q| (p.a[i * p.k + q], p.b[q * p.n + j]))
}

fn pairwise(x: &[f32]) -> f32 {
    match x.len() {
        0 => 0.0,
        1 => x[0],
        len => pairwise(&x[..len / 2]) + pairwise(&x[len / 2..]),
    }
}

/// One entry of C in f32, summed in `order`.
pub fn honest_entry(p: &Problem, i: usize, j: usize, order: Order) -> f32 {
    match order {
        Order::Forward => terms(p, i, j).fold(0.0f32, |s, (x, y)| s + x * y),
        Order::Reverse => {
            let t: Vec<(f32, f32)> = terms(p, i, j).collect();
            t.iter().rev().fold(0.0f32, |s, &(x, y)| s + x * y)
        }
        Order::Pairwise => pairwise(&terms(p, i, j).map(|(x, y)| x * y).collect::<Vec<_>>()),
        Order::Blocked(size) => {
            let t: Vec<f32> = terms(p, i, j).map(|(x, y)| x * y).collect();
            t.chunks(size.max(1)).map(|c| c.iter().sum::<f32>()).sum::<f32>()
        }
        Order::Fma => terms(p, i, j).fold(0.0f32, |s, (x, y)| x.mul_add(y, s)),
        Order::Lanes(lanes) => {
            let mut acc = vec![0.0f32; lanes.max(1)];
            for (q, (x, y)) in terms(p, i, j).enumerate() {
                acc[q % lanes.max(1)] += x * y;
            }
            acc.iter().sum::<f32>()
        }
    }
}

/// Σ over `terms` of a_ip·b_pj for every entry, summed forward in f32 with every partial
/// sum passed through `round`, in the i-p-j loop order (vectorised, the same sums as
/// the naive loop) so that the example's large sizes take seconds.
fn forward(p: &Problem, terms: std::ops::Range<usize>, round: impl Fn(f32) -> f32) -> Vec<f32> {
    let mut c = vec![0.0f32; p.m * p.n];
    for i in 0..p.m {
        let row = &mut c[i * p.n..(i + 1) * p.n];
        for q in terms.clone() {
            let x = p.a[i * p.k + q];
            for (out, &y) in row.iter_mut().zip(&p.b[q * p.n..(q + 1) * p.n]) {
                *out = round(*out + x * y);
            }
        }
    }
    c
}

/// C in f32, every entry summed in `order`.
pub fn honest(p: &Problem, order: Order) -> Vec<f32> {
    if order == Order::Forward {
        return forward(p, 0..p.k, |x| x);
    }
    let mut c = Vec::with_capacity(p.m * p.n);
    for i in 0..p.m {
        for j in 0..p.n {
            c.push(honest_entry(p, i, j, order));
        }
    }
    c
}

/// `x` rounded to nearest-even with `bits` explicit significand bits (10: fp16 and TF32,
/// 7: bf16), keeping f32's exponent range.
pub fn round_significand(x: f32, bits: u32) -> f32 {
    let drop = 23 - bits;
    let b = x.to_bits();
    let half = (1u32 << (drop - 1)) - 1 + ((b >> drop) & 1);
    f32::from_bits((b.wrapping_add(half)) & !((1u32 << drop) - 1))
}

/// A forgery of C.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attack {
    /// No work: zeros plus, in every row, +h and −h in two columns (h = 1e30).
    CancellingHuge,
    /// No work: zeros plus ±h pairs in every row with h just inside the range bound.
    CancellingInRange,
    /// The honest C plus ±h pairs in every row (h = 10⁴ × the row's tolerance).
    CancellingOnHonest,
    /// No work: zeros plus groups of four columns weighted (+1, +1, −1, −1)·h, the same
    /// columns in every row, rows alternating in sign.
    CancellingGroups,
    /// The honest C plus ε·u·vᵀ for random ±1 vectors u, v (ε = 10⁻³·max|C|).
    RankOne,
    /// Computed from A and B rounded to fp16's (and TF32's) 11-bit significand.
    F16Inputs,
    /// Computed from A and B rounded to bf16.
    Bf16Inputs,
    /// The honest C rounded to fp16's significand.
    F16Output,
    /// The honest C rounded to bf16.
    Bf16Output,
    /// Accumulated with every partial sum rounded to fp16's significand.
    F16Accumulation,
    /// Only the first ⌈k/2⌉ terms summed.
    HalfK,
    /// The last block (k/8 terms, at least one) skipped.
    SkipLastBlock,
    /// The honest C of another job's inputs (a stale or foreign result).
    StaleSeed,
    /// All zeros.
    Zeros,
    /// Two rows swapped.
    SwappedRows,
    /// The transpose (square jobs; otherwise rows reversed).
    Transposed,
    /// Every entry times 1.001.
    Scaled,
    /// One entry off by max|C|.
    OneWrongEntry,
    /// Uniform garbage within ±max|C|.
    Garbage,
    /// Only the first half of the rows computed, the rest zero.
    HalfRows,
}

pub const ATTACKS: [Attack; 20] = [
    Attack::CancellingHuge,
    Attack::CancellingInRange,
    Attack::CancellingOnHonest,
    Attack::CancellingGroups,
    Attack::RankOne,
    Attack::F16Inputs,
    Attack::Bf16Inputs,
    Attack::F16Output,
    Attack::Bf16Output,
    Attack::F16Accumulation,
    Attack::HalfK,
    Attack::SkipLastBlock,
    Attack::StaleSeed,
    Attack::Zeros,
    Attack::SwappedRows,
    Attack::Transposed,
    Attack::Scaled,
    Attack::OneWrongEntry,
    Attack::Garbage,
    Attack::HalfRows,
];

/// How wrong a forgery is, in the verifier's documented terms (`verify` module docs),
/// computed independently of the verifier's code from A, B and the honest C.
#[derive(Debug, Clone, Copy)]
pub struct Wrongness {
    /// Entries off by more than twice their probable bound (min(λ·u·√(2k)·M, k·u·g) for
    /// f32, 4k·u·M for f16): the exact-entry check flags these when it draws them.
    pub beyond: usize,
    /// max over rows of max_j |e_ij| / T_i, T_i the row's probable bound in Freivalds'
    /// check: a round accepts with probability ≤ 4/ρ.
    pub rho: f64,
}

impl Wrongness {
    /// Wrong enough that the documented escape probability is negligible (< 10⁻⁵ per
    /// check): half the entries beyond their bound, or ρ ≥ 100 in some row.
    pub fn material(&self, cells: usize) -> bool {
        2 * self.beyond >= cells || self.rho >= 100.0
    }
    /// Differs from the honest C beyond an honest node's error somewhere.
    pub fn any(&self) -> bool {
        self.beyond > 0 || self.rho > 2.0
    }
}

/// The [`Wrongness`] of `forged` against `honest` for the job `p` (O(mnk)), for an f32
/// job or (`f16`) an f16 job, whose bounds are linear in k (γ = 4ku).
pub fn wrongness(p: &Problem, honest: &[f32], forged: &[f32], f16: bool) -> Wrongness {
    let (m, n, k) = (p.m, p.n, p.k);
    let u = 1.0 / (1u64 << 24) as f64;
    let (per, row_per) = if f16 {
        (4.0 * k as f64 * u, 8.0 * 4.0 * k as f64 * u)
    } else {
        (8.0 * (2.0 * k as f64).sqrt() * u, 8.0 * (2.0 * k as f64).sqrt() * u)
    };
    let (mut beyond, mut rho) = (0usize, 0.0f64);
    for i in 0..m {
        let (mut g_sum, mut g_max, mut e_max) = (0.0f64, 0.0f64, 0.0f64);
        for q in 0..k {
            let a = f64::from(p.a[i * k + q].abs());
            let row = &p.b[q * n..(q + 1) * n];
            g_sum += a * row.iter().map(|x| f64::from(x.abs())).sum::<f64>();
            g_max += a * row.iter().fold(0.0f64, |mx, x| mx.max(f64::from(x.abs())));
        }
        for j in 0..n {
            // The entry's terms: g = Σ|x|, and M, the bound of its intermediate sums.
            let (mut sum, mut sq, mut g, mut peak) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            for q in 0..k {
                let x = f64::from(p.a[i * k + q]) * f64::from(p.b[q * n + j]);
                sum += x;
                sq += x * x;
                g += x.abs();
                peak = peak.max(sum.abs());
            }
            let partial = g.min((sum.abs() + 2.0 * sq.sqrt()).max(2.0 * peak));
            let accept = (per * partial).min(k as f64 * u * g);
            let accept = if f16 { 4.0 * k as f64 * u * partial } else { accept };
            let e = (f64::from(forged[i * n + j]) - f64::from(honest[i * n + j])).abs();
            let e = if e.is_nan() { f64::INFINITY } else { e };
            if e > 2.0 * accept + 1e-30 {
                beyond += 1;
            }
            e_max = e_max.max(e);
        }
        let t = row_per * (g_sum * g_max).sqrt() + 1e-30;
        rho = rho.max(e_max / t);
    }
    Wrongness { beyond, rho }
}

fn max_abs(c: &[f32]) -> f32 {
    c.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// The forgery `attack` of the job `p` whose honest C is `c`, randomised by `rng`.
pub fn forge(p: &Problem, c: &[f32], attack: Attack, rng: u64) -> Vec<f32> {
    let (m, n, k) = (p.m, p.n, p.k);
    let r = |i: u64| stream_u64(rng, i);
    let col = |i: u64| (r(i) % n as u64) as usize;
    let two_cols = |i: u64| {
        let j1 = col(2 * i);
        let j2 = if n > 1 { (j1 + 1 + (r(2 * i + 1) % (n as u64 - 1)) as usize) % n } else { j1 };
        (j1, j2)
    };
    let row_bound = |i: usize| {
        let a: f32 = p.a[i * k..(i + 1) * k].iter().map(|x| x.abs()).sum();
        let bmax = p.b.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        a * bmax
    };
    match attack {
        Attack::CancellingHuge | Attack::CancellingInRange | Attack::CancellingOnHonest => {
            let mut out = if attack == Attack::CancellingOnHonest { c.to_vec() } else { vec![0.0; m * n] };
            for i in 0..m {
                let (j1, j2) = two_cols(i as u64);
                let h = match attack {
                    Attack::CancellingHuge => 1e30,
                    Attack::CancellingInRange => 0.5 * row_bound(i),
                    _ => 1e4 * 8.0 * f32::EPSILON * (k as f32).sqrt() * row_bound(i),
                };
                out[i * n + j1] += h;
                out[i * n + j2] -= h;
            }
            out
        }
        Attack::CancellingGroups => {
            let mut out = vec![0.0; m * n];
            let cols: Vec<usize> = (0..4u64).map(col).collect();
            for i in 0..m {
                let h = 0.5 * row_bound(i) * if i.is_multiple_of(2) { 1.0 } else { -1.0 };
                for (t, &j) in cols.iter().enumerate() {
                    out[i * n + j] += if t < 2 { h } else { -h };
                }
            }
            out
        }
        Attack::RankOne => {
            let eps = 1e-3 * max_abs(c);
            let mut out = c.to_vec();
            for i in 0..m {
                for j in 0..n {
                    let s = if (r(i as u64) ^ r(1_000_003 + j as u64)) >> 63 == 0 { eps } else { -eps };
                    out[i * n + j] += s;
                }
            }
            out
        }
        Attack::F16Inputs | Attack::Bf16Inputs => {
            let bits = if attack == Attack::F16Inputs { 10 } else { 7 };
            let low = Problem {
                a: p.a.iter().map(|&x| round_significand(x, bits)).collect(),
                b: p.b.iter().map(|&x| round_significand(x, bits)).collect(),
                ..p.clone()
            };
            honest(&low, Order::Forward)
        }
        Attack::F16Output => c.iter().map(|&x| round_significand(x, 10)).collect(),
        Attack::Bf16Output => c.iter().map(|&x| round_significand(x, 7)).collect(),
        Attack::F16Accumulation => forward(p, 0..k, |x| round_significand(x, 10)),
        Attack::HalfK => forward(p, 0..k.div_ceil(2), |x| x),
        Attack::SkipLastBlock => forward(p, 0..k - (k / 8).max(1).min(k), |x| x),
        Attack::StaleSeed => honest(&Problem::seeded(p.seed ^ 0x5A1E, m, n, k), Order::Forward),
        Attack::Zeros => vec![0.0; m * n],
        Attack::SwappedRows => {
            let mut out = c.to_vec();
            if m > 1 {
                let i1 = (r(0) % m as u64) as usize;
                let i2 = (i1 + 1 + (r(1) % (m as u64 - 1)) as usize) % m;
                for j in 0..n {
                    out.swap(i1 * n + j, i2 * n + j);
                }
            }
            out
        }
        Attack::Transposed => {
            if m == n {
                (0..m * n).map(|x| c[(x % n) * n + x / n]).collect()
            } else {
                (0..m * n).map(|x| c[(m - 1 - x / n) * n + x % n]).collect()
            }
        }
        Attack::Scaled => c.iter().map(|&x| x * 1.001).collect(),
        Attack::OneWrongEntry => {
            let mut out = c.to_vec();
            let at = (r(0) % (m * n) as u64) as usize;
            out[at] += max_abs(c).max(f32::MIN_POSITIVE);
            out
        }
        Attack::Garbage => {
            let max = max_abs(c);
            (0..m * n).map(|x| max * ((r(x as u64) >> 40) as f32 / (1u64 << 23) as f32 - 1.0)).collect()
        }
        Attack::HalfRows => {
            let mut out = c.to_vec();
            out[(m / 2) * n..].fill(0.0);
            out
        }
    }
}
