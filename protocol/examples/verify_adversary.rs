//! Measures the matmul verifier against forged results: ≥ 100,000 adversarial trials at
//! small sizes (every attack of `tests/support/attacks.rs`, random shapes and seeds),
//! a tenth as many with a deep k (256–2048), a few at 256³–2048³, honest trials in every summation order, and the cost of a check
//! against the O(mnk) work it replaces. Prints Markdown tables (the README quotes them).
//!
//! `cargo run --release -p idlewatt-protocol --example verify_adversary [small_trials [max_dim]]`

#[path = "../tests/support/attacks.rs"]
mod attacks;

use attacks::{ATTACKS, Attack, ORDERS, Order, Problem};
use idlewatt_protocol::Precision;
use idlewatt_protocol::inputs::stream_u64;
use idlewatt_protocol::verify::{DEFAULT_ENTRIES, MatmulCheck, Verdict, verify_matmul};
use std::time::Instant;

/// The coordinator's default number of Freivalds rounds.
const ROUNDS: u32 = 3;

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    trials: u64,
    accepted: u64,
    doubted: u64,
    rejected: u64,
    no_op: u64,
}

impl Tally {
    fn add(&mut self, v: &Verdict) {
        self.trials += 1;
        match v {
            Verdict::Accept => self.accepted += 1,
            Verdict::Doubt(_) => self.doubted += 1,
            Verdict::Reject(_) => self.rejected += 1,
        }
    }
    fn merge(&mut self, o: &Tally) {
        self.trials += o.trials;
        self.accepted += o.accepted;
        self.doubted += o.doubted;
        self.rejected += o.rejected;
        self.no_op += o.no_op;
    }
}

fn verify(p: &Problem, c: &[f32], seed: u64) -> Verdict {
    let check = MatmulCheck {
        a: &p.a,
        b: &p.b,
        c,
        m: p.m,
        n: p.n,
        k: p.k,
        precision: Precision::F32,
        rounds: ROUNDS,
        entries: DEFAULT_ENTRIES,
        seed,
    };
    match verify_matmul(&check) {
        Ok(v) => v,
        Err(e) => panic!("malformed check: {e}"),
    }
}

/// A family of random shapes: m, n in 1..=`mn`, k in `k_min..=k_max`.
#[derive(Debug, Clone, Copy)]
struct Band {
    mn: u64,
    k_min: u64,
    k_max: u64,
}

/// One trial: a random shape of `band`, the attack `t % ATTACKS.len()`, and every fifth
/// time an honest result in one of the summation orders.
fn trial(band: Band, t: u64, tallies: &mut [Tally], honest: &mut [Tally]) {
    let r = |i: u64| stream_u64(t ^ 0xAD7E_25A2 ^ (band.k_max << 32), i);
    let (m, n) = (1 + (r(0) % band.mn) as usize, 1 + (r(1) % band.mn) as usize);
    let k = (band.k_min + r(2) % (band.k_max - band.k_min + 1)) as usize;
    let p = Problem::seeded(r(3), m, n, k);
    let c = attacks::honest(&p, Order::Forward);
    let which = (t % ATTACKS.len() as u64) as usize;
    let forged = attacks::forge(&p, &c, ATTACKS[which], r(4));
    if attacks::wrongness(&p, &c, &forged, false).any() {
        tallies[which].add(&verify(&p, &forged, r(5)));
    } else {
        tallies[which].no_op += 1;
    }
    if t.is_multiple_of(5) {
        let order = ((t / 5) % ORDERS.len() as u64) as usize;
        let c = attacks::honest(&p, ORDERS[order]);
        honest[order].add(&verify(&p, &c, r(6)));
    }
}

/// `trials` trials of `band` over `threads` threads: per-attack and per-order tallies.
fn run_band(band: Band, trials: u64, threads: u64) -> (Vec<Tally>, Vec<Tally>) {
    let parts: Vec<(Vec<Tally>, Vec<Tally>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                s.spawn(move || {
                    let mut tallies = vec![Tally::default(); ATTACKS.len()];
                    let mut honest = vec![Tally::default(); ORDERS.len()];
                    let mut t = w;
                    while t < trials {
                        trial(band, t, &mut tallies, &mut honest);
                        t += threads;
                    }
                    (tallies, honest)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut tallies = vec![Tally::default(); ATTACKS.len()];
    let mut honest = vec![Tally::default(); ORDERS.len()];
    for (t, h) in &parts {
        tallies.iter_mut().zip(t).for_each(|(a, b)| a.merge(b));
        honest.iter_mut().zip(h).for_each(|(a, b)| a.merge(b));
    }
    (tallies, honest)
}

fn print_table(title: &str, tallies: &[Tally], names: &[String]) {
    println!("\n{title}\n");
    println!("| attack | trials | false accepts | false-accept rate | doubted | rejected |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut total = Tally::default();
    for (t, name) in tallies.iter().zip(names) {
        total.merge(t);
        let rate = if t.trials > 0 { t.accepted as f64 / t.trials as f64 } else { 0.0 };
        println!("| {name} | {} | {} | {rate:.1e} | {} | {} |", t.trials, t.accepted, t.doubted, t.rejected);
    }
    let rate = total.accepted as f64 / total.trials.max(1) as f64;
    println!(
        "| **all** | **{}** | **{}** | **{rate:.1e}** | {} | {} |",
        total.trials, total.accepted, total.doubted, total.rejected
    );
}

fn main() {
    let small: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(101_000);
    let max_dim: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2048);
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8) as u64;
    println!(
        "verifier vs forged results: {ROUNDS} Freivalds rounds + {DEFAULT_ENTRIES} exact entries per check (f32 jobs)"
    );

    // Random shapes, every attack in turn: many small ones, fewer with a deep k (where
    // the probable and the worst-case bounds are far apart).
    let bands = [
        (Band { mn: 24, k_min: 1, k_max: 96 }, small, "m, n ≤ 24, k ≤ 96"),
        (Band { mn: 8, k_min: 256, k_max: 2048 }, small / 10, "m, n ≤ 8, 256 ≤ k ≤ 2048"),
    ];
    let names: Vec<String> = ATTACKS.iter().map(|a| format!("{a:?}")).collect();
    for (band, trials, label) in bands {
        let started = Instant::now();
        let (tallies, honest) = run_band(band, trials, threads);
        let no_op: u64 = tallies.iter().map(|t| t.no_op).sum();
        print_table(
            &format!(
                "Random shapes {label}: {trials} trials ({no_op} forgeries within an honest node's error not counted), {:.1} s",
                started.elapsed().as_secs_f64()
            ),
            &tallies,
            &names,
        );
        println!("\nHonest results ({label}, every summation order)\n");
        println!("| order | trials | accepted | false doubts | false rejects |");
        println!("|---|---:|---:|---:|---:|");
        for (t, o) in honest.iter().zip(ORDERS) {
            println!("| {o:?} | {} | {} | {} | {} |", t.trials, t.accepted, t.doubted, t.rejected);
        }
    }

    // Job sizes: every attack a few times at 256³, once at 1024³, the cheap ones at 2048³.
    let mut rows = Vec::new();
    let mut big = Vec::new();
    for (dim, reps, attacks_here) in [
        (256usize, 5u64, ATTACKS.to_vec()),
        (1024, 1, ATTACKS.to_vec()),
        (
            2048,
            1,
            vec![
                Attack::CancellingHuge,
                Attack::CancellingInRange,
                Attack::CancellingOnHonest,
                Attack::CancellingGroups,
                Attack::RankOne,
                Attack::F16Inputs,
                Attack::F16Output,
                Attack::Bf16Output,
                Attack::SkipLastBlock,
                Attack::Zeros,
                Attack::SwappedRows,
                Attack::Transposed,
                Attack::Scaled,
                Attack::OneWrongEntry,
                Attack::HalfRows,
            ],
        ),
    ] {
        if dim > max_dim {
            continue;
        }
        let mut tally = vec![Tally::default(); attacks_here.len()];
        for rep in 0..reps {
            let p = Problem::seeded(dim as u64 * 1000 + rep, dim, dim, dim);
            let t0 = Instant::now();
            let c = attacks::honest(&p, Order::Forward);
            let work_ms = t0.elapsed().as_secs_f64() * 1e3;
            let t1 = Instant::now();
            let honest_verdict = verify(&p, &c, rep);
            let check_ms = t1.elapsed().as_secs_f64() * 1e3;
            if rep == 0 {
                rows.push((dim, work_ms, check_ms, honest_verdict.is_accept()));
            }
            for (i, &attack) in attacks_here.iter().enumerate() {
                let forged = attacks::forge(&p, &c, attack, rep ^ 0xF0);
                for seed in 0..3 {
                    tally[i].add(&verify(&p, &forged, seed * 7 + rep));
                }
            }
        }
        let names: Vec<String> = attacks_here.iter().map(|a| format!("{a:?}")).collect();
        big.push((dim, tally, names));
    }
    for (dim, tally, names) in &big {
        print_table(&format!("{dim}³ jobs (each forgery checked with 3 seeds)"), tally, names);
    }
    // Honest results at job sizes in other summation orders, and correlated inputs.
    println!("\nHonest results at job sizes (3 seeds each)\n");
    println!("| job | order | accepted | doubted | rejected |");
    println!("|---|---|---:|---:|---:|");
    let mut honest_jobs: Vec<(String, Problem, Vec<Order>)> = Vec::new();
    if max_dim >= 256 {
        honest_jobs.push(("256³ seeded".into(), Problem::seeded(7, 256, 256, 256), ORDERS.to_vec()));
    }
    if max_dim >= 1024 {
        let orders = vec![Order::Pairwise, Order::Blocked(64), Order::Lanes(8)];
        honest_jobs.push(("1024³ seeded".into(), Problem::seeded(8, 1024, 1024, 1024), orders));
    }
    let (m, n, k) = (8, 8, 2048);
    let b = (0..k * n).map(|x| if (x / n) % 2 == 0 { 0.1 } else { -0.0999 }).collect();
    let correlated = Problem { a: vec![1.0; m * k], b, m, n, k, seed: 0 };
    honest_jobs.push(("8×8×2048, terms +0.1/−0.0999 alternating".into(), correlated, ORDERS.to_vec()));
    for (name, p, orders) in &honest_jobs {
        for &order in orders {
            let c = attacks::honest(p, order);
            let mut t = Tally::default();
            for seed in 0..3 {
                t.add(&verify(p, &c, seed));
            }
            println!("| {name} | {order:?} | {} | {} | {} |", t.accepted, t.doubted, t.rejected);
        }
    }

    println!("\nCost of one check ({ROUNDS} rounds + {DEFAULT_ENTRIES} entries, one core) vs the work it verifies\n");
    println!("| size | O(mnk) product, f32 CPU (ms) | check (ms) | ratio | honest verdict |");
    println!("|---|---:|---:|---:|---|");
    for (dim, work, check, ok) in rows {
        println!(
            "| {dim}³ | {work:.0} | {check:.1} | {:.0}× | {} |",
            work / check,
            if ok { "accept" } else { "NOT ACCEPTED" }
        );
    }
}
