//! Verification of embeddings (issue 15) with the real all-MiniLM-L6-v2: honest rows
//! — sentence-transformers' own vectors from the reference fixture, an implementation
//! independent of the coordinator's CPU forward — pass; a node that returns random
//! vectors, stale vectors of other texts, vectors of a "smaller model" (perturbed) or a
//! mix of honest and fake rows is caught, and faked rows escape at the stated rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use idlewatt_coordinator::embed::canary::Canaries;
use idlewatt_coordinator::embed::judge::{JudgeError, Reference, judge};
use idlewatt_coordinator::embed::layout::{Layout, Slot};
use idlewatt_coordinator::embed::verify::{Picker, Tolerance, escape_probability};
use idlewatt_models::CpuModel;

struct Fixture {
    ids: Vec<Vec<u32>>,
    vectors: Vec<Vec<f32>>,
}

fn fixture() -> Fixture {
    let path =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("../tests/fixtures/embeddings/minilm_reference.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let items = v["items"].as_array().unwrap();
    // Short inputs keep the CPU reference quick; plenty of variety remains.
    let items: Vec<&serde_json::Value> =
        items.iter().filter(|i| i["ids"].as_array().unwrap().len() <= 24).take(40).collect();
    Fixture {
        ids: items
            .iter()
            .map(|i| i["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect())
            .collect(),
        vectors: items
            .iter()
            .map(|i| i["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
            .collect(),
    }
}

fn cpu() -> Arc<CpuModel> {
    Arc::new(CpuModel::load_dir(&idlewatt_models::testing::minilm_dir().unwrap()).unwrap())
}

/// A batch: client inputs 0..32 of the fixture, canaries 32..40 (two per batch).
struct Batch {
    layout: Layout,
    client: Vec<Vec<u32>>,
    honest: Vec<Vec<f32>>,
}

fn batch(f: &Fixture, seed: u64) -> (Batch, Canaries) {
    let canaries = Canaries { sequences: f.ids[32..40].to_vec(), vectors: f.vectors[32..40].to_vec() };
    let client: Vec<Vec<u32>> = f.ids[..32].to_vec();
    let layout = Layout::shuffled(
        &(0..32).collect::<Vec<_>>(),
        &[seed as usize % 8, (seed as usize + 3) % 8],
        &mut Picker::new(seed),
    );
    let honest = layout
        .slots
        .iter()
        .map(|s| match *s {
            Slot::Client(i) => f.vectors[i].clone(),
            Slot::Canary(i) => f.vectors[32 + i].clone(),
        })
        .collect();
    (Batch { layout, client, honest }, canaries)
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn random_rows(rows: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut p = Picker::new(seed);
    (0..rows)
        .map(|_| unit((0..384).map(|_| (p.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect()))
        .collect()
}

#[test]
fn honest_rows_pass_and_every_kind_of_fake_is_caught() {
    let f = fixture();
    let cpu = cpu();
    let (b, canaries) = batch(&f, 7);
    let reference = Reference { canaries: &canaries, cpu: &cpu, sample_rows: 2, tol: Tolerance::default() };

    // Honest (sentence-transformers' vectors): accepted, client rows back in order.
    let ok = judge(b.honest.clone(), &b.layout, &b.client, reference, &mut Picker::new(1)).unwrap();
    assert_eq!(ok.rows.len(), 32);
    assert_eq!(ok.checked, 4);
    assert!(ok.worst.cosine >= 0.9999 && ok.worst.max_abs <= 1e-3, "{:?}", ok.worst);
    let mut idx: Vec<usize> = ok.rows.iter().map(|(i, _)| *i).collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..32).collect::<Vec<_>>());
    eprintln!(
        "honest batch: worst cosine {:.7}, max |diff| {:.2e}, CPU {:.0} ms",
        ok.worst.cosine, ok.worst.max_abs, ok.cpu_ms
    );

    let fakes: Vec<(&str, Vec<Vec<f32>>)> = vec![
        ("random vectors", random_rows(34, 3)),
        // Another batch's answer: right shape, real embeddings, wrong texts.
        ("stale vectors", {
            let mut v = b.honest.clone();
            v.rotate_left(5);
            v
        }),
        // A cheaper model: every component off by a little (what a smaller or quantised
        // model gives: still cosine ~0.99 to the real one).
        (
            "smaller model",
            b.honest
                .iter()
                .enumerate()
                .map(|(r, v)| {
                    unit(
                        v.iter()
                            .enumerate()
                            .map(|(j, x)| x + 0.004 * (((r * 31 + j * 7) % 13) as f32 - 6.0) / 6.0)
                            .collect(),
                    )
                })
                .collect(),
        ),
        (
            "f16 rounding of a perturbed copy",
            b.honest.iter().map(|v| unit(v.iter().map(|x| (x * 64.0).round() / 64.0).collect())).collect(),
        ),
    ];
    for (what, rows) in fakes {
        let err = judge(rows, &b.layout, &b.client, reference, &mut Picker::new(1)).unwrap_err();
        assert!(matches!(err, JudgeError::Mismatch(_)), "{what}: {err}");
        eprintln!("{what}: {err}");
    }
    // Wrong row count: refused before any work.
    let err = judge(b.honest[..33].to_vec(), &b.layout, &b.client, reference, &mut Picker::new(1)).unwrap_err();
    assert!(matches!(err, JudgeError::Rows { got: 33, expected: 34 }));
}

#[test]
fn a_node_faking_half_a_batch_is_caught_at_the_stated_rate() {
    let f = fixture();
    let cpu = cpu();
    let trials = 40;
    let mut escaped = 0;
    for t in 0..trials {
        let (b, canaries) = batch(&f, 100 + t);
        let reference = Reference { canaries: &canaries, cpu: &cpu, sample_rows: 2, tol: Tolerance::default() };
        // Fake every other row (the node cannot tell canaries from client rows).
        let fake = random_rows(34, t);
        let rows: Vec<Vec<f32>> =
            b.honest.iter().zip(fake).enumerate().map(|(r, (h, x))| if r % 2 == 0 { h.clone() } else { x }).collect();
        if judge(rows, &b.layout, &b.client, reference, &mut Picker::new(1000 + t)).is_ok() {
            escaped += 1;
        }
    }
    let p = escape_probability(34, 17, 4);
    eprintln!("faking 17 of 34 rows: escaped {escaped} of {trials}; stated probability {p:.4}");
    // p ≈ 0.051: more than 7 escapes in 40 would be a 1-in-1000 event.
    assert!(escaped <= 7, "{escaped} of {trials} escaped (stated {p:.3})");
}
