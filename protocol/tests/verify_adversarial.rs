//! Adversarial property tests of the matmul verifier (issue 11): honest results in
//! every summation order pass; forgeries that save work — cancelling entries, lower
//! precision, partial or stale work — are never accepted; arbitrary input never panics.
#![allow(clippy::unwrap_used)]

#[path = "support/attacks.rs"]
mod attacks;

use attacks::{ATTACKS, Attack, ORDERS, Order, Problem};
use idlewatt_protocol::Precision;
use idlewatt_protocol::verify::{Finding, MatmulCheck, Verdict, VerifyError, is_f16_value, verify_matmul};
use proptest::prelude::*;

fn check<'a>(p: &'a Problem, c: &'a [f32], precision: Precision, rounds: u32, seed: u64) -> MatmulCheck<'a> {
    MatmulCheck { a: &p.a, b: &p.b, c, m: p.m, n: p.n, k: p.k, precision, rounds, entries: 64, seed }
}

fn verdict(p: &Problem, c: &[f32], precision: Precision, seed: u64) -> Verdict {
    verify_matmul(&check(p, c, precision, 4, seed)).unwrap()
}

/// `x` as the nearest f16 value (flushing f16 subnormals to zero).
fn to_f16(x: f32) -> f32 {
    if x.abs() < 1.0 / 16384.0 { 0.0 } else { attacks::round_significand(x, 10) }
}

fn f16_problem(seed: u64, m: usize, n: usize, k: usize) -> Problem {
    let mut p = Problem::seeded(seed, m, n, k);
    p.a.iter_mut().for_each(|x| *x = to_f16(*x));
    p.b.iter_mut().for_each(|x| *x = to_f16(*x));
    p
}

/// x rounded toward zero to f32 (a tensor core's truncating accumulator).
fn f32_toward_zero(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y).abs() > x.abs() { f32::from_bits(y.to_bits() - 1) } else { y }
}

/// An honest F16 node on a truncating accumulator: exact products, sums rounded toward zero.
fn f16_truncating(p: &Problem) -> Vec<f32> {
    let mut c = Vec::with_capacity(p.m * p.n);
    for i in 0..p.m {
        for j in 0..p.n {
            let s = (0..p.k).fold(0.0f32, |s, q| {
                f32_toward_zero(f64::from(s) + f64::from(p.a[i * p.k + q]) * f64::from(p.b[q * p.n + j]))
            });
            c.push(s);
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn honest_results_pass_in_every_summation_order(m in 1usize..20, n in 1usize..20, k in 1usize..96,
                                                   seed: u64, rng: u64, order in 0usize..ORDERS.len()) {
        let p = Problem::seeded(seed, m, n, k);
        let c = attacks::honest(&p, ORDERS[order]);
        prop_assert_eq!(verdict(&p, &c, Precision::F32, rng), Verdict::Accept);
    }

    #[test]
    fn honest_results_pass_at_any_scale_and_mean(m in 1usize..16, n in 1usize..16, k in 1usize..64, seed: u64,
                                                 rng: u64, scale in -30i32..30, shift in 0.0f32..1.5,
                                                 order in 0usize..ORDERS.len()) {
        let mut p = Problem::seeded(seed, m, n, k);
        let s = 2f32.powi(scale);
        p.a.iter_mut().for_each(|x| *x = (*x + shift) * s);
        p.b.iter_mut().for_each(|x| *x += shift);
        let c = attacks::honest(&p, ORDERS[order]);
        prop_assert_eq!(verdict(&p, &c, Precision::F32, rng), Verdict::Accept);
    }

    /// Every forgery wrong enough for the documented escape probability to be negligible
    /// is refused (a forgery within an honest node's error is no forgery).
    #[test]
    fn forgeries_are_never_accepted(m in 1usize..20, n in 1usize..20, k in 1usize..96, seed: u64, rng: u64,
                                    attack in 0usize..ATTACKS.len()) {
        let p = Problem::seeded(seed, m, n, k);
        let c = attacks::honest(&p, Order::Forward);
        let forged = attacks::forge(&p, &c, ATTACKS[attack], rng);
        prop_assume!(attacks::wrongness(&p, &c, &forged, false).material(m * n));
        let got = verdict(&p, &forged, Precision::F32, rng ^ 1);
        prop_assert!(!got.is_accept(), "{:?} accepted", ATTACKS[attack]);
    }

    #[test]
    fn huge_cancelling_entries_are_rejected_as_out_of_range(m in 1usize..20, n in 2usize..20, k in 1usize..96,
                                                          seed: u64, rng: u64) {
        let p = Problem::seeded(seed, m, n, k);
        let forged = attacks::forge(&p, &[], Attack::CancellingHuge, rng);
        let got = verdict(&p, &forged, Precision::F32, rng);
        prop_assert!(matches!(got, Verdict::Reject(Finding::OutOfRange { .. })), "{:?}", got);
    }

    #[test]
    fn skipped_work_is_rejected_not_doubted(m in 2usize..20, n in 2usize..20, k in 8usize..96, seed: u64, rng: u64,
                                            attack in prop::sample::select(vec![Attack::Zeros, Attack::HalfK,
                                                Attack::StaleSeed, Attack::HalfRows, Attack::Garbage])) {
        let p = Problem::seeded(seed, m, n, k);
        let c = attacks::honest(&p, Order::Forward);
        let forged = attacks::forge(&p, &c, attack, rng);
        // Rows whose missing part is tiny could sit in the doubt band: require a real gap.
        let max = c.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let gap = c.iter().zip(&forged).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        prop_assume!(gap > 0.05 * max);
        let got = verdict(&p, &forged, Precision::F32, rng);
        prop_assert!(matches!(got, Verdict::Reject(_)), "{:?}: {:?}", attack, got);
    }

    #[test]
    fn honest_f16_jobs_pass_on_ieee_and_truncating_accumulators(m in 1usize..16, n in 1usize..16, k in 1usize..128,
                                                                seed: u64, rng: u64, truncating: bool,
                                                                order in 0usize..ORDERS.len()) {
        let p = f16_problem(seed, m, n, k);
        let c = if truncating { f16_truncating(&p) } else { attacks::honest(&p, ORDERS[order]) };
        prop_assert_eq!(verdict(&p, &c, Precision::F16, rng), Verdict::Accept);
    }

    #[test]
    fn cheaper_f16_work_is_never_accepted(m in 1usize..16, n in 1usize..16, k in 2usize..128, seed: u64, rng: u64,
                                          attack in prop::sample::select(vec![Attack::F16Accumulation,
                                              Attack::Bf16Inputs, Attack::Bf16Output, Attack::SkipLastBlock])) {
        let p = f16_problem(seed, m, n, k);
        let c = attacks::honest(&p, Order::Forward);
        let forged = attacks::forge(&p, &c, attack, rng);
        prop_assume!(attacks::wrongness(&p, &c, &forged, true).material(m * n));
        prop_assert!(!verdict(&p, &forged, Precision::F16, rng).is_accept(), "{:?}", attack);
    }

    /// The verifier's own fuzz target: any shape, any values (NaN, ∞, subnormals), any
    /// lengths, rounds and entries: an answer, never a panic.
    #[test]
    fn arbitrary_input_never_panics(m in 0usize..6, n in 0usize..6, k in 0usize..6,
                                    a in prop::collection::vec(prop::num::f32::ANY, 0..40),
                                    b in prop::collection::vec(prop::num::f32::ANY, 0..40),
                                    c in prop::collection::vec(prop::num::f32::ANY, 0..40),
                                    f16: bool, rounds in 0u32..4, entries in 0u32..8, seed: u64) {
        let precision = if f16 { Precision::F16 } else { Precision::F32 };
        let check = MatmulCheck { a: &a, b: &b, c: &c, m, n, k, precision, rounds, entries, seed };
        let _ = verify_matmul(&check);
        // Well-shaped finite input always gets a verdict.
        let (a, b, c) = (vec![0.5f32; m * k], vec![0.25f32; k * n], vec![f32::NAN; m * n]);
        let check = MatmulCheck { a: &a, b: &b, c: &c, m, n, k, precision, rounds: rounds.max(1), entries, seed };
        let got = verify_matmul(&check);
        prop_assert!(got.is_ok(), "{:?}", got);
        prop_assert!(m * n == 0 || matches!(got, Ok(Verdict::Reject(Finding::NonFinite { .. }))), "{:?}", got);
    }
}

/// Job-like shapes at k = 2048: every honest order passes, and every cheaper or partial
/// computation is caught — lower precision as a doubt at least (it is within the worst
/// case an honest node can reach at this k), skipped work as a rejection.
#[test]
fn k_2048_honest_orders_pass_and_cheaper_work_is_caught() {
    let p = Problem::seeded(2048, 32, 32, 2048);
    let c = attacks::honest(&p, Order::Forward);
    for order in ORDERS {
        let honest = attacks::honest(&p, order);
        for seed in 0..4 {
            assert_eq!(verdict(&p, &honest, Precision::F32, seed), Verdict::Accept, "{order:?}");
        }
    }
    for attack in ATTACKS {
        let forged = attacks::forge(&p, &c, attack, 7);
        for seed in 0..4 {
            let got = verdict(&p, &forged, Precision::F32, seed);
            assert!(!got.is_accept(), "{attack:?} accepted with seed {seed}");
            let skipped = [Attack::Zeros, Attack::HalfK, Attack::SkipLastBlock, Attack::StaleSeed, Attack::HalfRows];
            if skipped.contains(&attack) {
                assert!(matches!(got, Verdict::Reject(_)), "{attack:?}: {got:?}");
            }
        }
    }
}

#[test]
fn k_2048_f16_job_passes_honest_and_catches_f16_accumulation() {
    let p = f16_problem(11, 16, 16, 2048);
    for c in [attacks::honest(&p, Order::Forward), attacks::honest(&p, Order::Lanes(8)), f16_truncating(&p)] {
        assert_eq!(verdict(&p, &c, Precision::F16, 3), Verdict::Accept);
    }
    let c = attacks::honest(&p, Order::Forward);
    for attack in [Attack::F16Accumulation, Attack::Bf16Inputs, Attack::SkipLastBlock] {
        let forged = attacks::forge(&p, &c, attack, 5);
        assert!(!verdict(&p, &forged, Precision::F16, 3).is_accept(), "{attack:?}");
    }
}

/// Inputs built so that an honest node's rounding errors pile up: every term alternates
/// +0.1 and −0.0999, so a node summing in 8 interleaved lanes (SIMD, split-k) adds 256
/// equal terms per lane, whose rounding errors all point the same way, and the lanes'
/// errors do not cancel. Beyond the probable bound, far within the worst case: a doubt
/// (re-checked elsewhere), never a strike.
#[test]
fn correlated_client_inputs_make_an_honest_node_doubted_not_rejected() {
    let (m, n, k) = (4, 4, 2048);
    let b = (0..k * n).map(|x| if (x / n) % 2 == 0 { 0.1 } else { -0.0999 }).collect();
    let p = Problem { a: vec![1.0; m * k], b, m, n, k, seed: 0 };
    let mut doubted = Vec::new();
    for order in ORDERS {
        let c = attacks::honest(&p, order);
        match verdict(&p, &c, Precision::F32, 1) {
            Verdict::Accept => {}
            Verdict::Doubt(_) => doubted.push(order),
            Verdict::Reject(why) => panic!("{order:?} rejected: {why}"),
        }
    }
    assert!(doubted.contains(&Order::Lanes(8)), "doubted: {doubted:?}");
}

#[test]
fn f16_jobs_refuse_inputs_that_are_not_f16_values() {
    let p = Problem::seeded(3, 4, 4, 4);
    let c = attacks::honest(&p, Order::Forward);
    let got = verify_matmul(&check(&p, &c, Precision::F16, 2, 0));
    assert!(matches!(got, Err(VerifyError::NotF16 { matrix: "A", .. })), "{got:?}");
    for x in [0.0f32, 1.0, -2.5, 65504.0, 1.0 / 16384.0, 1.0 / 16_777_216.0, 1365.0 / 4096.0] {
        assert!(is_f16_value(x), "{x}");
    }
    for x in [0.1f32, 65520.0, 1e-9, f32::NAN, f32::INFINITY, 1.0 + f32::EPSILON] {
        assert!(!is_f16_value(x), "{x}");
    }
}
