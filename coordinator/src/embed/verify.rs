//! Judging a node's embeddings. The coordinator knows the right answer for some rows
//! of every batch: **canaries** (sentences whose embeddings it computed itself, mixed
//! in at secret positions) and a **random sample** of the client's rows, recomputed
//! after the answer arrives with `idlewatt_models::cpu::encode`, an implementation
//! that shares no code with the node's GPU engine. Each checked row must agree with
//! the CPU's at cosine ≥ [`Tolerance::min_cosine`] and max |difference| ≤
//! [`Tolerance::max_abs`]; one row that does not fails the batch.
//!
//! Escape probability: a node that fakes `m` of the batch's `N` rows (client rows and
//! canaries look alike to it) passes only if none of the `k` checked rows is faked:
//! `C(N−m, k) / C(N, k) ≤ (1 − m/N)^k` ([`escape_probability`]).

/// When a row counts as the same embedding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Smallest cosine similarity accepted (0.9999: the bound for f32).
    pub min_cosine: f64,
    /// Largest |node − CPU| accepted in any component of the unit vector.
    pub max_abs: f32,
}

impl Default for Tolerance {
    /// Calibrated on all-MiniLM-L6-v2 (README, "Embeddings on the network"): honest GPU
    /// rows on lavapipe differ from the CPU's by at most ~1e-5 per component; a
    /// component of a unit 384-vector is typically ~0.05, and a row that moves any
    /// component by 1e-3 is not the same computation.
    fn default() -> Self {
        Self { min_cosine: 0.9999, max_abs: 1e-3 }
    }
}

/// Where a row that misses [`Tolerance::default`] is doubted rather than rejected:
/// close enough to be another back-end's rounding (cosine ≥ 0.999, no component off by
/// more than 0.01), too far to pay without a second node's opinion. A random,
/// stale or other-model row is far outside it (cosine ~0 to ~0.99).
pub const DOUBT_BAND: Tolerance = Tolerance { min_cosine: 0.999, max_abs: 1e-2 };

/// How one row compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowCheck {
    /// Cosine similarity (f64 accumulation).
    pub cosine: f64,
    /// Largest component difference.
    pub max_abs: f32,
}

impl RowCheck {
    /// Compares a node's row with the reference.
    pub fn of(got: &[f32], want: &[f32]) -> Self {
        if got.len() != want.len() || got.is_empty() {
            return Self { cosine: f64::NAN, max_abs: f32::INFINITY };
        }
        let (mut dot, mut gg, mut ww, mut max_abs) = (0f64, 0f64, 0f64, 0f32);
        for (&g, &w) in got.iter().zip(want) {
            dot += f64::from(g) * f64::from(w);
            gg += f64::from(g) * f64::from(g);
            ww += f64::from(w) * f64::from(w);
            max_abs = max_abs.max((g - w).abs());
        }
        let cosine = if gg > 0.0 && ww > 0.0 { dot / (gg.sqrt() * ww.sqrt()) } else { f64::NAN };
        Self { cosine, max_abs }
    }

    /// Within `tol` (NaN never is).
    pub fn passes(&self, tol: &Tolerance) -> bool {
        self.cosine >= tol.min_cosine && self.max_abs <= tol.max_abs
    }
}

/// Why a batch failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("row {row} ({what}) disagrees with the CPU reference: cosine {cosine:.6}, max |diff| {max_abs:.2e}")]
pub struct Mismatch {
    /// Position in the node's batch.
    pub row: usize,
    /// "canary" or "client row".
    pub what: &'static str,
    /// Its cosine.
    pub cosine: f64,
    /// Its max difference.
    pub max_abs: f32,
}

impl Mismatch {
    /// Within [`DOUBT_BAND`]: possibly honest, worth a second node's opinion.
    pub fn passes_band(&self) -> bool {
        RowCheck { cosine: self.cosine, max_abs: self.max_abs }.passes(&DOUBT_BAND)
    }
}

/// Checks the rows the coordinator knows: `(position in the batch, what, reference)`.
/// Returns the worst row's figures when all pass.
pub fn check_rows(
    got: &[Vec<f32>],
    known: &[(usize, &'static str, &[f32])],
    tol: &Tolerance,
) -> Result<RowCheck, Mismatch> {
    let mut worst = RowCheck { cosine: 1.0, max_abs: 0.0 };
    for &(row, what, want) in known {
        let c = got.get(row).map_or(RowCheck { cosine: f64::NAN, max_abs: f32::INFINITY }, |g| RowCheck::of(g, want));
        if !c.passes(tol) {
            return Err(Mismatch { row, what, cosine: c.cosine, max_abs: c.max_abs });
        }
        worst = RowCheck { cosine: worst.cosine.min(c.cosine), max_abs: worst.max_abs.max(c.max_abs) };
    }
    Ok(worst)
}

/// Probability that a node faking `faked` of `rows` rows passes when `checked` rows,
/// chosen uniformly without replacement, are checked: C(rows−faked, checked)/C(rows, checked).
pub fn escape_probability(rows: usize, faked: usize, checked: usize) -> f64 {
    if faked == 0 {
        return 1.0;
    }
    if checked > rows.saturating_sub(faked) {
        return 0.0;
    }
    (0..checked).map(|i| (rows - faked - i) as f64 / (rows - i) as f64).product()
}

/// A small deterministic generator (SplitMix64) for positions and samples, seeded from
/// the OS's randomness per batch: positions must be unpredictable to nodes, not
/// cryptographic keys.
#[derive(Debug, Clone)]
pub struct Picker(u64);

impl Picker {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) * n as f64) as usize % n.max(1)
    }

    /// A uniformly shuffled 0..n.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
        v
    }

    /// `k` distinct values of 0..n (all of them when k ≥ n), ascending.
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut p = self.permutation(n);
        p.truncate(k.min(n));
        p.sort_unstable();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn identical_rows_pass_and_perturbed_ones_do_not() {
        let tol = Tolerance::default();
        let a = unit(&(0..384).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect::<Vec<_>>());
        assert!(RowCheck::of(&a, &a).passes(&tol));
        let mut tiny = a.clone();
        tiny[3] += 1e-6;
        assert!(RowCheck::of(&tiny, &a).passes(&tol));
        let mut one = a.clone();
        one[7] += 0.01;
        let c = RowCheck::of(&one, &a);
        assert!(c.cosine > 0.9999, "a 0.01 change in one component keeps cosine {}", c.cosine);
        assert!(!c.passes(&tol), "but the max-abs bound catches it");
        let neg: Vec<f32> = a.iter().map(|x| -x).collect();
        assert!(!RowCheck::of(&neg, &a).passes(&tol));
        assert!(!RowCheck::of(&[0.0; 384], &a).passes(&tol), "zero vector: NaN cosine fails");
        assert!(!RowCheck::of(&a[..10], &a).passes(&tol), "wrong length fails");
    }

    #[test]
    fn check_rows_names_the_first_bad_row() {
        let tol = Tolerance::default();
        let a = unit(&[1.0, 2.0, 3.0]);
        let b = unit(&[3.0, 2.0, 1.0]);
        let got = vec![a.clone(), b.clone()];
        assert!(check_rows(&got, &[(0, "canary", &a), (1, "client row", &b)], &tol).is_ok());
        let e = check_rows(&got, &[(0, "canary", &a), (1, "client row", &a)], &tol).unwrap_err();
        assert_eq!((e.row, e.what), (1, "client row"));
        assert!(check_rows(&got, &[(5, "canary", &a)], &tol).is_err(), "a missing row fails");
    }

    #[test]
    fn escape_probability_is_the_hypergeometric_miss() {
        assert_eq!(escape_probability(10, 0, 3), 1.0);
        assert_eq!(escape_probability(10, 10, 1), 0.0);
        assert_eq!(escape_probability(10, 8, 3), 0.0);
        let p = escape_probability(34, 17, 6);
        assert!(
            (p - (17.0 * 16.0 * 15.0 * 14.0 * 13.0 * 12.0) / (34.0 * 33.0 * 32.0 * 31.0 * 30.0 * 29.0)).abs() < 1e-12
        );
        assert!(p < 0.5f64.powi(6));
    }

    #[test]
    fn picker_samples_are_distinct_and_spread() {
        let mut p = Picker::new(42);
        let s = p.sample(100, 10);
        assert_eq!(s.len(), 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(p.sample(3, 10), vec![0, 1, 2]);
        let mut hits = [0u32; 8];
        for _ in 0..8000 {
            hits[p.below(8)] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
        let perm = p.permutation(50);
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(perm, sorted);
    }
}
