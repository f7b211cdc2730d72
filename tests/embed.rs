//! The embedding model on a real device (lavapipe here): every `embed_*` kernel against
//! its CPU reference, stage by stage, with large steps and with the smallest steps
//! (k-split accumulation); the whole GPU model against the independent CPU model; the
//! real all-MiniLM-L6-v2 against sentence-transformers' own vectors; cancel, suspend
//! and resume; bad batches refused before anything is allocated.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use idlewatt::compute::{CancelToken, ComputeError};
use idlewatt::embed::{Activation, EmbedError, EmbedModel, EmbedRun, RunState, reference};
use idlewatt_models::{
    CpuModel, ModelConfig, Pooling, Weights, cpu,
    testing::{minilm_dir, synthetic_weights, tiny_config},
};

fn max_err(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(g, w)| (g - w).abs() / w.abs().max(1.0)).fold(0.0, f32::max)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// Sequences of the given lengths with ids spread over the vocabulary.
fn batch(lengths: &[usize], vocab: u32) -> Vec<Vec<u32>> {
    lengths
        .iter()
        .enumerate()
        .map(|(s, &n)| (0..n as u32).map(|i| (i * 31 + s as u32 * 7 + 1) % vocab).collect())
        .collect()
}

fn padded(batch: &[Vec<u32>]) -> (Vec<u32>, usize) {
    let len = batch.iter().map(Vec::len).max().unwrap();
    let mut ids = vec![0; batch.len() * len];
    for (s, seq) in batch.iter().enumerate() {
        ids[s * len..][..seq.len()].copy_from_slice(seq);
    }
    (ids, len)
}

fn advance(run: &mut EmbedRun<'_>, stop: u32, never: &CancelToken, submissions: &mut usize) {
    assert_eq!(run.run_until(stop, never, &mut |_| *submissions += 1).unwrap(), RunState::Done);
    assert_eq!(run.cursor().stage, stop);
}

/// Runs the forward pass one stage at a time, checking each kernel's output against
/// its CPU reference applied to the GPU's own input for that stage.
fn check_stage_by_stage(weights: &Weights, lengths: &[usize], max_step_cost: Option<f64>) {
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, weights).unwrap();
    let c = &weights.config;
    let (h, heads) = (c.hidden_size, c.num_heads);
    let seqs = batch(lengths, c.vocab_size as u32);
    let (ids, seq_len) = padded(&seqs);
    let lens: Vec<u32> = seqs.iter().map(|s| s.len() as u32).collect();
    let never = CancelToken::new();
    let mut run = model.start(&engine, &seqs).unwrap();
    if let Some(cost) = max_step_cost {
        run.set_max_step_cost(cost);
    }
    let mut submissions = 0usize;
    let tol = 3e-5;
    let label = format!("{lengths:?}, step cap {max_step_cost:?}");

    advance(&mut run, 1, &never, &mut submissions);
    let mut hidden = run.read_activation(Activation::Hidden).unwrap();
    let g = &weights.embeddings_norm;
    let want = reference::embed_tokens(
        &ids,
        seq_len,
        &weights.word_embeddings,
        &weights.position_embeddings,
        &weights.token_type_embeddings[..h],
        &g.gamma,
        &g.beta,
        c.layer_norm_eps,
    );
    assert!(max_err(&hidden, &want) < tol, "embed_tokens {label}: {}", max_err(&hidden, &want));

    for (l, lw) in weights.layers.iter().enumerate() {
        let base = 1 + 7 * l as u32;
        advance(&mut run, base + 1, &never, &mut submissions);
        let qkv = run.read_activation(Activation::Qkv).unwrap();
        let w: Vec<f32> = [&lw.query.weight[..], &lw.key.weight, &lw.value.weight].concat();
        let b: Vec<f32> = [&lw.query.bias[..], &lw.key.bias, &lw.value.bias].concat();
        let want = reference::linear(&hidden, &w, &b, h, false);
        assert!(max_err(&qkv, &want) < tol, "linear qkv, layer {l}, {label}: {}", max_err(&qkv, &want));

        advance(&mut run, base + 2, &never, &mut submissions);
        let ctx = run.read_activation(Activation::Context).unwrap();
        let want = reference::attention(&qkv, &lens, seq_len, h, heads);
        assert!(max_err(&ctx, &want) < tol, "attention, layer {l}, {label}: {}", max_err(&ctx, &want));

        advance(&mut run, base + 3, &never, &mut submissions);
        let sub = run.read_activation(Activation::Sublayer).unwrap();
        let want = reference::linear(&ctx, &lw.attn_out.weight, &lw.attn_out.bias, h, false);
        assert!(max_err(&sub, &want) < tol, "linear out, layer {l}, {label}: {}", max_err(&sub, &want));

        advance(&mut run, base + 4, &never, &mut submissions);
        let after_attn = run.read_activation(Activation::Hidden).unwrap();
        let want = reference::add_norm(&hidden, &sub, &lw.attn_norm.gamma, &lw.attn_norm.beta, c.layer_norm_eps);
        assert!(max_err(&after_attn, &want) < tol, "add-norm, layer {l}, {label}: {}", max_err(&after_attn, &want));

        advance(&mut run, base + 5, &never, &mut submissions);
        let inner = run.read_activation(Activation::Inner).unwrap();
        let want = reference::linear(&after_attn, &lw.ffn_in.weight, &lw.ffn_in.bias, h, true);
        assert!(max_err(&inner, &want) < tol, "linear+GELU, layer {l}, {label}: {}", max_err(&inner, &want));

        advance(&mut run, base + 6, &never, &mut submissions);
        let sub = run.read_activation(Activation::Sublayer).unwrap();
        let want = reference::linear(&inner, &lw.ffn_out.weight, &lw.ffn_out.bias, c.intermediate_size, false);
        assert!(max_err(&sub, &want) < tol, "linear ffn out, layer {l}, {label}: {}", max_err(&sub, &want));

        advance(&mut run, base + 7, &never, &mut submissions);
        hidden = run.read_activation(Activation::Hidden).unwrap();
        let want = reference::add_norm(&after_attn, &sub, &lw.ffn_norm.gamma, &lw.ffn_norm.beta, c.layer_norm_eps);
        assert!(max_err(&hidden, &want) < tol, "add-norm 2, layer {l}, {label}: {}", max_err(&hidden, &want));
    }
    assert_eq!(run.run(&never, &mut |_| submissions += 1).unwrap(), RunState::Done);
    let out: Vec<f32> = run.read_output().unwrap().concat();
    let want = reference::pool(&hidden, &lens, seq_len, h, c.pooling == Pooling::Cls, c.normalize);
    assert!(max_err(&out, &want) < tol, "pool, {label}: {}", max_err(&out, &want));
    if max_step_cost.is_some() {
        // The cap forces many more submissions than stages: the slicing paths ran.
        assert!(submissions > 4 * (2 + 7 * c.num_layers), "{submissions} submissions, {label}");
    }
}

#[test]
fn each_kernel_matches_its_cpu_reference() {
    let weights = synthetic_weights(&tiny_config(), 11);
    check_stage_by_stage(&weights, &[1, 5, 19, 33, 2], None);
}

#[test]
fn each_kernel_matches_its_cpu_reference_in_the_smallest_steps() {
    let weights = synthetic_weights(&tiny_config(), 12);
    check_stage_by_stage(&weights, &[7, 33, 1], Some(1.0));
}

#[test]
fn cls_pooling_without_normalisation_and_wide_heads() {
    let config = ModelConfig {
        hidden_size: 64,
        num_heads: 2,
        intermediate_size: 130,
        num_layers: 1,
        pooling: Pooling::Cls,
        normalize: false,
        ..tiny_config()
    };
    let weights = synthetic_weights(&config, 13);
    check_stage_by_stage(&weights, &[3, 30, 17], None);
    check_stage_by_stage(&weights, &[30, 4], Some(5e4));
}

#[test]
fn whole_gpu_model_matches_the_independent_cpu_model() {
    let weights = synthetic_weights(&tiny_config(), 21);
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, &weights).unwrap();
    let seqs = batch(&[2, 9, 33, 14, 1, 27], 97);
    let gpu = model.embed(&engine, &seqs, &CancelToken::new(), &mut |_| {}).unwrap();
    let cpu = cpu::encode(&CpuModel::new(weights), &seqs).unwrap();
    for (g, c) in gpu.iter().zip(&cpu) {
        assert!(cosine(g, c) > 0.999_999, "cosine {}", cosine(g, c));
        assert!(max_err(g, c) < 2e-5, "max error {}", max_err(g, c));
    }
}

#[derive(serde::Deserialize)]
struct Fixture {
    items: Vec<Item>,
}

#[derive(serde::Deserialize, Clone)]
struct Item {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

#[test]
fn minilm_on_the_gpu_agrees_with_sentence_transformers() {
    let dir = minilm_dir().unwrap_or_else(|e| panic!("{e}"));
    let weights = Weights::load_dir(&dir).unwrap();
    let path =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("tests/fixtures/embeddings/minilm_reference.json");
    let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(fx.items.len() >= 200);

    let engine = util::engine();
    let model = EmbedModel::upload(&engine, &weights).unwrap();
    // Every tenth sentence by length, and the longest, in length-sorted batches of 4
    // so short sentences are not padded to the longest (lavapipe on two cores is slow:
    // one batch of all 23 padded to 256 tokens took ten minutes; `examples/embed_bench`
    // runs all 219).
    let mut by_len: Vec<usize> = (0..fx.items.len()).collect();
    by_len.sort_by_key(|&i| fx.items[i].ids.len());
    let mut order: Vec<usize> = by_len.iter().copied().step_by(10).collect();
    order.extend(by_len.last().copied().filter(|l| !order.contains(l)));
    let fx = Fixture { items: order.iter().map(|&i| fx.items[i].clone()).collect() };
    let order: Vec<usize> = (0..fx.items.len()).collect();
    let never = CancelToken::new();
    let mut vectors = vec![Vec::new(); fx.items.len()];
    let mut max_submit = std::time::Duration::ZERO;
    let started = std::time::Instant::now();
    for chunk in order.chunks(4) {
        let seqs: Vec<Vec<u32>> = chunk.iter().map(|&i| fx.items[i].ids.clone()).collect();
        let mut run = model.start(&engine, &seqs).unwrap();
        assert_eq!(run.run(&never, &mut |_| {}).unwrap(), RunState::Done);
        max_submit = max_submit.max(run.submit_times().iter().copied().max().unwrap_or_default());
        for (&i, v) in chunk.iter().zip(run.read_output().unwrap()) {
            vectors[i] = v;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let (mut min_cos, mut max_abs) = (f64::INFINITY, 0f32);
    for (item, v) in fx.items.iter().zip(&vectors) {
        let c = cosine(v, &item.vector);
        assert!(c >= 0.9999, "{:?}: cosine {c}", item.text);
        min_cos = min_cos.min(c);
        max_abs = max_abs.max(v.iter().zip(&item.vector).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max));
    }
    let tokens: usize = fx.items.iter().map(|i| i.ids.len()).sum();
    println!(
        "GPU ({}) vs sentence-transformers: {} sentences, {tokens} tokens, min cosine {min_cos:.9}, \
         max abs diff {max_abs:.3e}; {seconds:.1} s, longest submission {max_submit:?}",
        engine.profile().name,
        fx.items.len()
    );
}

#[test]
fn cancel_suspend_resume_gives_the_same_vectors() {
    let weights = synthetic_weights(&tiny_config(), 31);
    let seqs = batch(&[33, 4, 17, 1, 25], 97);
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, &weights).unwrap();
    let never = CancelToken::new();
    // The same step cap in every run: the same partition of the work, the same bits.
    let cap = 2e4;
    let mut whole = model.start(&engine, &seqs).unwrap();
    whole.set_max_step_cost(cap);
    assert_eq!(whole.run(&never, &mut |_| {}).unwrap(), RunState::Done);
    let total = whole.submit_times().len();
    let expected = whole.read_output().unwrap();
    assert!(total > 60, "only {total} submissions");

    for stop_after in [1, total / 3, total - 1] {
        let cancel = CancelToken::new();
        let mut run = model.start(&engine, &seqs).unwrap();
        run.set_max_step_cost(cap);
        let mut seen = 0;
        let state = run
            .run(&cancel, &mut |_| {
                seen += 1;
                if seen == stop_after {
                    cancel.cancel();
                }
            })
            .unwrap();
        assert_eq!(state, RunState::Cancelled);
        let done = run.fraction_done();
        assert!(done > 0.0 && done < 1.0, "{done}");
        let suspended = run.suspend().unwrap();
        // Through JSON, as a checkpoint on disk would go; resumed on a fresh device.
        let text = serde_json::to_string(&suspended).unwrap();
        let suspended: idlewatt::embed::SuspendedEmbed = serde_json::from_str(&text).unwrap();
        model_on_new_device_resumes(&weights, &suspended, cap, &expected);
    }

    // A checkpoint is refused by a model with other weights, and when corrupted.
    let cancel = CancelToken::new();
    let mut run = model.start(&engine, &seqs).unwrap();
    run.set_max_step_cost(cap);
    let mut seen = 0;
    run.run(&cancel, &mut |_| {
        seen += 1;
        if seen == 30 {
            cancel.cancel();
        }
    })
    .unwrap();
    let mut suspended = run.suspend().unwrap();
    let other = EmbedModel::upload(&engine, &synthetic_weights(&tiny_config(), 32)).unwrap();
    assert!(matches!(other.resume(&engine, &suspended), Err(EmbedError::ForeignState { .. })));
    suspended.state[0].1.pop();
    assert!(matches!(model.resume(&engine, &suspended), Err(EmbedError::BadState(_))));
}

fn model_on_new_device_resumes(
    weights: &Weights,
    suspended: &idlewatt::embed::SuspendedEmbed,
    cap: f64,
    expected: &[Vec<f32>],
) {
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, weights).unwrap();
    let mut run = model.resume(&engine, suspended).unwrap();
    run.set_max_step_cost(cap);
    assert_eq!(run.run(&CancelToken::new(), &mut |_| {}).unwrap(), RunState::Done);
    assert_eq!(run.read_output().unwrap(), expected, "resumed at {:?}", suspended.cursor);
}

#[test]
fn bad_batches_are_refused_before_allocation() {
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, &synthetic_weights(&tiny_config(), 41)).unwrap();
    let never = CancelToken::new();
    let err = |b: &[Vec<u32>]| model.embed(&engine, b, &never, &mut |_| {}).unwrap_err();
    assert!(matches!(err(&[]), EmbedError::EmptyBatch));
    assert!(err(&[vec![1, 97]]).to_string().contains("outside the vocabulary"));
    assert!(err(&[vec![1; 34]]).to_string().contains("at most 33"));
    assert!(err(&[vec![1], vec![]]).to_string().contains("sequence 1 is empty"));

    // A model whose sequences outgrow the attention kernel is refused with the limit named.
    let long = ModelConfig { max_position_embeddings: 600, max_seq_length: 600, ..tiny_config() };
    let model = EmbedModel::upload(&engine, &synthetic_weights(&long, 42)).unwrap();
    let msg = model.embed(&engine, &[vec![1; 520]], &never, &mut |_| {}).unwrap_err().to_string();
    assert!(msg.contains("520 tokens") && msg.contains("512"), "{msg}");
    // 512 itself runs.
    assert_eq!(model.embed(&engine, &[vec![1; 512]], &never, &mut |_| {}).unwrap()[0].len(), 40);
}

#[test]
fn a_cancelled_token_stops_before_the_first_dispatch() {
    let engine = util::engine();
    let model = EmbedModel::upload(&engine, &synthetic_weights(&tiny_config(), 51)).unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = model.embed(&engine, &[vec![1, 2, 3]], &cancel, &mut |_| {}).unwrap_err();
    assert!(matches!(err, EmbedError::Compute(ComputeError::Cancelled)));
}
