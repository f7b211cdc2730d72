//! Cutting one batch's forward pass into short dispatches. The pass is a fixed list of
//! stages (token embedding, then per layer: QKV projection, attention, output
//! projection, add-norm, feed-forward in and out, add-norm; then pooling); each stage
//! is a number of independent *units* (a 64×64 output tile of a linear layer, one token
//! row, one token×head, one sequence), and a step runs a contiguous range of units —
//! for linear layers over a range of the inner dimension when even one tile would be
//! too long for the budget. Where a batch stands is a [`Cursor`], small and
//! serialisable, so an interrupted batch resumes exactly there. Pure arithmetic: tested
//! without a GPU.

use serde::{Deserialize, Serialize};

use super::params::{LINEAR_TILE, LINEAR_TILE_K};

/// The kinds of stage, in forward order within a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StageKind {
    /// Word + position + type embeddings and their layer norm.
    Tokens,
    /// The fused query/key/value projection.
    Qkv,
    /// Masked softmax attention.
    Attention,
    /// The attention output projection.
    AttnOut,
    /// Residual + layer norm after attention.
    AttnNorm,
    /// Feed-forward expansion with GELU.
    FfnIn,
    /// Feed-forward contraction.
    FfnOut,
    /// Residual + layer norm after the feed-forward.
    FfnNorm,
    /// Mean (or CLS) pooling and normalisation.
    Pool,
}

const LAYER_STAGES: [StageKind; 7] = [
    StageKind::Qkv,
    StageKind::Attention,
    StageKind::AttnOut,
    StageKind::AttnNorm,
    StageKind::FfnIn,
    StageKind::FfnOut,
    StageKind::FfnNorm,
];

impl StageKind {
    /// True for the stages that run `embed_linear`.
    pub fn is_linear(self) -> bool {
        matches!(self, Self::Qkv | Self::AttnOut | Self::FfnIn | Self::FfnOut)
    }

    /// Which throughput estimate this kind's dispatches update (kernels differ in speed).
    pub fn rate_class(self) -> usize {
        match self {
            Self::Qkv | Self::AttnOut | Self::FfnIn | Self::FfnOut => 0,
            Self::Attention => 1,
            Self::Tokens | Self::AttnNorm | Self::FfnNorm => 2,
            Self::Pool => 3,
        }
    }
}

/// Number of throughput classes ([`StageKind::rate_class`]).
pub const RATE_CLASSES: usize = 4;

/// The padded shape of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchShape {
    /// Sequences.
    pub sequences: u32,
    /// Padded length (the longest sequence).
    pub seq_len: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Feed-forward size.
    pub intermediate: u32,
    /// Attention heads.
    pub heads: u32,
    /// Transformer layers.
    pub layers: u32,
}

impl BatchShape {
    /// Activation rows: sequences × padded length.
    pub fn tokens(&self) -> u32 {
        self.sequences * self.seq_len
    }
    /// Width of one head.
    pub fn head_dim(&self) -> u32 {
        self.hidden / self.heads
    }
    /// Stages of the whole pass.
    pub fn stage_count(&self) -> u32 {
        2 + 7 * self.layers
    }
    /// The `index`-th stage: its kind and layer.
    pub fn stage(&self, index: u32) -> (StageKind, u32) {
        if index == 0 {
            (StageKind::Tokens, 0)
        } else if index + 1 >= self.stage_count() {
            (StageKind::Pool, self.layers.saturating_sub(1))
        } else {
            let i = index - 1;
            (LAYER_STAGES[(i % 7) as usize], i / 7)
        }
    }
    /// (output width n, inner width k) of a linear stage.
    pub fn linear_dims(&self, kind: StageKind) -> (u32, u32) {
        match kind {
            StageKind::Qkv => (3 * self.hidden, self.hidden),
            StageKind::FfnIn => (self.intermediate, self.hidden),
            StageKind::FfnOut => (self.hidden, self.intermediate),
            _ => (self.hidden, self.hidden),
        }
    }
    /// Column tiles of a linear stage's output.
    pub fn tiles_n(&self, kind: StageKind) -> u32 {
        self.linear_dims(kind).0.div_ceil(LINEAR_TILE)
    }
    /// Units of a stage.
    pub fn units(&self, kind: StageKind) -> u32 {
        match kind {
            k if k.is_linear() => self.tokens().div_ceil(LINEAR_TILE) * self.tiles_n(k),
            StageKind::Attention => self.tokens() * self.heads,
            StageKind::Pool => self.sequences,
            _ => self.tokens(),
        }
    }
    /// Estimated cost (FLOP-equivalents) of one unit over `depth` of the inner dimension
    /// (linear stages; other stages ignore `depth`).
    pub fn unit_cost(&self, kind: StageKind, depth: u32) -> f64 {
        let h = f64::from(self.hidden);
        let tile = f64::from(LINEAR_TILE);
        match kind {
            k if k.is_linear() => 2.0 * tile * tile * f64::from(depth),
            StageKind::Attention => 4.0 * f64::from(self.seq_len) * f64::from(self.head_dim()),
            StageKind::Pool => 2.0 * f64::from(self.seq_len) * h,
            _ => 10.0 * h,
        }
    }
    /// Estimated cost of a whole stage.
    pub fn stage_cost(&self, kind: StageKind) -> f64 {
        let depth = if kind.is_linear() { self.linear_dims(kind).1 } else { 0 };
        f64::from(self.units(kind)) * self.unit_cost(kind, depth)
    }
    /// Estimated cost of the whole pass.
    pub fn total_cost(&self) -> f64 {
        (0..self.stage_count()).map(|s| self.stage_cost(self.stage(s).0)).sum()
    }
}

/// Where a batch stands. `Default` is the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Index of the current stage ([`BatchShape::stage`]).
    pub stage: u32,
    /// Next unit of the current stage.
    pub unit: u32,
    /// Inner-dimension start of the current pass over a linear stage's units.
    pub k0: u32,
    /// Inner-dimension chunk of the current linear stage (0: not chosen yet).
    pub kc: u32,
}

/// One dispatch: units `unit0..unit0+units` of a stage, inner range `k0..k1` (linear).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The stage's index.
    pub stage: u32,
    /// Its kind.
    pub kind: StageKind,
    /// Its layer (0 for the token stage).
    pub layer: u32,
    /// First unit.
    pub unit0: u32,
    /// Units (workgroups).
    pub units: u32,
    /// Inner start (linear stages).
    pub k0: u32,
    /// Inner end, exclusive (linear stages).
    pub k1: u32,
    /// Estimated cost, FLOP-equivalents.
    pub cost: f64,
}

/// Plans steps for one batch shape on one device.
#[derive(Debug, Clone, Copy)]
pub struct Planner {
    /// The batch.
    pub shape: BatchShape,
    /// The device's `max_compute_workgroups_per_dimension`.
    pub max_workgroups: u32,
}

impl Planner {
    /// True once every stage ran.
    pub fn done(&self, cursor: &Cursor) -> bool {
        cursor.stage >= self.shape.stage_count()
    }

    /// The largest next step within `budget` (at least one unit, and for a linear stage
    /// at least one k-panel), and the cursor after it. `None` once done.
    pub fn next(&self, cursor: &Cursor, budget: f64) -> Option<(Step, Cursor)> {
        if self.done(cursor) {
            return None;
        }
        let s = self.shape;
        let (kind, layer) = s.stage(cursor.stage);
        let units_left = s.units(kind) - cursor.unit;
        let (mut k0, mut k1, mut kc) = (0, 0, 0);
        if kind.is_linear() {
            let k = s.linear_dims(kind).1;
            kc = if cursor.kc > 0 {
                cursor.kc
            } else if s.unit_cost(kind, k) <= budget {
                k
            } else {
                // Whole panels that fit, at least one.
                let per_k = s.unit_cost(kind, 1);
                let fit = ((budget / per_k) as u32 / LINEAR_TILE_K).max(1) * LINEAR_TILE_K;
                fit.min(k)
            };
            k0 = cursor.k0;
            k1 = (k0 + kc).min(k);
        }
        let unit_cost = s.unit_cost(kind, k1 - k0);
        let fit = if unit_cost > 0.0 { (budget / unit_cost).floor() } else { f64::from(units_left) };
        let units = (fit.min(f64::from(units_left)) as u32).clamp(1, self.max_workgroups.max(1)).min(units_left);
        let step = Step {
            stage: cursor.stage,
            kind,
            layer,
            unit0: cursor.unit,
            units,
            k0,
            k1,
            cost: unit_cost * f64::from(units),
        };

        let mut next = Cursor { unit: cursor.unit + units, ..*cursor };
        if kind.is_linear() {
            next.kc = kc;
        }
        if next.unit >= s.units(kind) {
            let k = s.linear_dims(kind).1;
            if kind.is_linear() && k1 < k {
                next = Cursor { stage: cursor.stage, unit: 0, k0: k1, kc };
            } else {
                next = Cursor { stage: cursor.stage + 1, unit: 0, k0: 0, kc: 0 };
            }
        }
        Some((step, next))
    }

    /// Estimated fraction of the pass done at `cursor`, 0–1.
    pub fn fraction_done(&self, cursor: &Cursor) -> f64 {
        let s = self.shape;
        let total = s.total_cost();
        if self.done(cursor) || total <= 0.0 {
            return 1.0;
        }
        let before: f64 = (0..cursor.stage).map(|i| s.stage_cost(s.stage(i).0)).sum();
        let (kind, _) = s.stage(cursor.stage);
        let units = f64::from(s.units(kind));
        let within = if kind.is_linear() {
            let k = f64::from(s.linear_dims(kind).1);
            let kc = f64::from(cursor.kc.max(1));
            let pass_done = f64::from(cursor.k0) / k;
            pass_done + (kc.min(k - f64::from(cursor.k0)) / k) * f64::from(cursor.unit) / units
        } else {
            f64::from(cursor.unit) / units
        };
        ((before + within * s.stage_cost(kind)) / total).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minilm(sequences: u32, seq_len: u32) -> BatchShape {
        BatchShape { sequences, seq_len, hidden: 384, intermediate: 1536, heads: 12, layers: 6 }
    }

    /// Runs the planner to the end with a fixed budget; returns the steps.
    fn all_steps(p: &Planner, budget: f64) -> Vec<Step> {
        let mut cursor = Cursor::default();
        let mut steps = Vec::new();
        while let Some((step, next)) = p.next(&cursor, budget) {
            assert!(p.fraction_done(&next) >= p.fraction_done(&cursor) - 1e-12);
            steps.push(step);
            cursor = next;
        }
        assert_eq!(p.fraction_done(&cursor), 1.0);
        steps
    }

    #[test]
    fn stages_run_in_model_order() {
        let s = minilm(2, 8);
        assert_eq!(s.stage_count(), 44);
        assert_eq!(s.stage(0), (StageKind::Tokens, 0));
        assert_eq!(s.stage(1), (StageKind::Qkv, 0));
        assert_eq!(s.stage(7), (StageKind::FfnNorm, 0));
        assert_eq!(s.stage(8), (StageKind::Qkv, 1));
        assert_eq!(s.stage(42), (StageKind::FfnNorm, 5));
        assert_eq!(s.stage(43).0, StageKind::Pool);
    }

    #[test]
    fn every_unit_and_every_k_is_covered_exactly_once() {
        let s = minilm(3, 70);
        for budget in [1.0, 3e5, 2e6, 5e7, f64::INFINITY] {
            let p = Planner { shape: s, max_workgroups: 65_535 };
            let steps = all_steps(&p, budget);
            for stage in 0..s.stage_count() {
                let (kind, _) = s.stage(stage);
                let k = if kind.is_linear() { s.linear_dims(kind).1 } else { 0 };
                // (unit, k) coverage: every unit sees [0, k) once, in increasing k order.
                let mut reached = vec![0u32; s.units(kind) as usize];
                for st in steps.iter().filter(|st| st.stage == stage) {
                    for u in st.unit0..st.unit0 + st.units {
                        assert_eq!(reached[u as usize], st.k0, "budget {budget}, stage {stage}");
                        reached[u as usize] = st.k1;
                    }
                }
                assert!(reached.iter().all(|&r| r == k), "budget {budget}, stage {stage}");
            }
        }
    }

    #[test]
    fn steps_respect_the_budget_down_to_one_panel() {
        let s = minilm(32, 128);
        let p = Planner { shape: s, max_workgroups: 65_535 };
        let budget = 1e6;
        for st in all_steps(&p, budget) {
            let one_panel = s.unit_cost(st.kind, LINEAR_TILE_K);
            let floor = if st.kind.is_linear() { one_panel } else { s.unit_cost(st.kind, 0) };
            assert!(st.cost <= budget.max(floor) + 1e-6, "{st:?}");
        }
        // An unlimited budget runs each stage in one dispatch.
        assert_eq!(all_steps(&p, f64::INFINITY).len() as u32, s.stage_count());
    }

    #[test]
    fn the_dispatch_limit_caps_units() {
        let s = minilm(4, 256);
        let p = Planner { shape: s, max_workgroups: 100 };
        assert!(all_steps(&p, f64::INFINITY).iter().all(|st| st.units <= 100));
    }
}
