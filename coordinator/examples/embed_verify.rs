//! The coordinator's cost of verifying one embeddings batch (issue 15): 32 client rows
//! of the reference fixture plus 2 canaries, answered honestly (sentence-transformers'
//! own vectors), judged with 2 sampled rows recomputed on the CPU. Prints the CPU time
//! per batch and per row it verifies, and the escape probabilities of the README.
//!
//! `cargo run -p idlewatt-coordinator --example embed_verify`

use std::time::Instant;

use idlewatt_coordinator::embed::canary::Canaries;
use idlewatt_coordinator::embed::judge::{Reference, judge};
use idlewatt_coordinator::embed::layout::{Layout, Slot};
use idlewatt_coordinator::embed::verify::{Picker, Tolerance, escape_probability};
use idlewatt_models::CpuModel;

fn main() -> anyhow::Result<()> {
    let path =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("../tests/fixtures/embeddings/minilm_reference.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let items = v["items"].as_array().ok_or_else(|| anyhow::anyhow!("fixture has no items"))?;
    let ids: Vec<Vec<u32>> = items
        .iter()
        .map(|i| i["ids"].as_array().map(|a| a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect()))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("bad ids"))?;
    let vectors: Vec<Vec<f32>> = items
        .iter()
        .map(|i| i["vector"].as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect()))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("bad vectors"))?;
    let dir = idlewatt_models::testing::minilm_dir().map_err(anyhow::Error::msg)?;
    let cpu = CpuModel::load_dir(&dir)?;
    let canaries = Canaries { sequences: ids[..8].to_vec(), vectors: vectors[..8].to_vec() };
    let reference = Reference { canaries: &canaries, cpu: &cpu, sample_rows: 2, tol: Tolerance::default() };
    println!(
        "batch: 32 client rows + 2 canaries, 2 client rows recomputed on the CPU ({} threads)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut total_ms = Vec::new();
    for (b, start) in [8usize, 40, 72, 104, 136, 168].into_iter().enumerate() {
        let client: Vec<Vec<u32>> = ids[start..start + 32].to_vec();
        let mut picker = Picker::new(b as u64 + 1);
        let layout = Layout::shuffled(&(0..32).collect::<Vec<_>>(), &[b % 8, (b + 4) % 8], &mut picker);
        let rows = layout
            .slots
            .iter()
            .map(|s| match *s {
                Slot::Client(i) => vectors[start + i].clone(),
                Slot::Canary(i) => vectors[i].clone(),
            })
            .collect();
        let tokens: usize = client.iter().map(Vec::len).sum();
        let t = Instant::now();
        let ok = judge(rows, &layout, &client, reference, &mut picker)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        total_ms.push(ms);
        println!(
            "  batch {b}: {tokens:>5} client tokens, verified in {ms:6.1} ms (CPU forward {:.1} ms), worst cosine {:.7}, max |diff| {:.1e}",
            ok.cpu_ms, ok.worst.cosine, ok.worst.max_abs
        );
    }
    total_ms.sort_by(f64::total_cmp);
    println!("median verification: {:.1} ms per batch of 32 texts", total_ms[total_ms.len() / 2]);
    println!("escape probability per batch (34 rows, 4 checked):");
    for m in [1, 2, 4, 8, 17, 34] {
        println!("  {m:>2} rows faked: {:.4}", escape_probability(34, m, 4));
    }
    Ok(())
}
