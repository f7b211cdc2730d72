#!/usr/bin/env python3
"""The reference side of scripts/embed-gpu-bench: sentence-transformers on torch (CUDA
when present, fp32 with TF32 off) embedding all-MiniLM-L6-v2 at batch 32 × 128 tokens,
the same shape examples/embed_bench runs. Prints sentences/s and tokens/s of `encode`
and of the bare model forward. Argument: the model folder."""

import sys
import time
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

BATCH, TOKENS, REPEATS = 32, 128, 20


def tokenize(model, texts):
    """The ids sentence-transformers feeds its model (`preprocess` in newer versions)."""
    return model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.home() / ".cache/idlewatt-models/all-MiniLM-L6-v2"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = SentenceTransformer(str(folder), device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    # ~128-token sentences: 126 word pieces + [CLS] + [SEP].
    words = "the quick brown fox jumps over lazy dogs near a quiet river".split()
    texts = [" ".join(words[(i + j) % len(words)] for j in range(126)) for i in range(BATCH)]
    assert all(len(tokenize(model, [t])["input_ids"][0]) == TOKENS for t in texts)

    for _ in range(3):
        model.encode(texts, batch_size=BATCH)
    sync()
    t = time.perf_counter()
    for _ in range(REPEATS):
        model.encode(texts, batch_size=BATCH)
    sync()
    enc = (time.perf_counter() - t) / REPEATS

    features = tokenize(model, texts)
    features = {k: v.to(device) for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    bert = model[0].auto_model
    with torch.inference_mode():
        for _ in range(3):
            bert(**features)
        sync()
        t = time.perf_counter()
        for _ in range(REPEATS):
            bert(**features)
        sync()
    fwd = (time.perf_counter() - t) / REPEATS
    print(f"sentence-transformers on {name} (torch {torch.__version__}, fp32, TF32 off):")
    print(f"| path | batch × tokens | sentences/s | tokens/s | ms/batch |")
    print(f"|---|---|---:|---:|---:|")
    for label, s in (("encode()", enc), ("bare forward", fwd)):
        print(f"| {label} | {BATCH} × {TOKENS} | {BATCH / s:.1f} | {BATCH * TOKENS / s:.0f} | {s * 1e3:.2f} |")


if __name__ == "__main__":
    main()
