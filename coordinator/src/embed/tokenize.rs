//! Text → token ids, on the coordinator (nodes only ever see ids). The Hugging Face
//! `tokenizers` crate reads the model's own `tokenizer.json` (pure-Rust build: the
//! `fancy-regex` engine, no C regex, no downloads), with the file's own padding
//! removed and truncation set to the model's maximum sequence length (256 for
//! all-MiniLM-L6-v2, from `sentence_bert_config.json`), as sentence-transformers does:
//! `[CLS] … [SEP]`, the longest text cut on the right. The ids' count is what a client
//! is billed for.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams};

/// Why a tokenizer could not be loaded or a text not tokenized.
#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    /// `tokenizer.json` is missing or not a tokenizer.
    #[error("cannot load the tokenizer {path}: {reason}")]
    Load {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The tokenizer refused a text.
    #[error("cannot tokenize input {index}: {reason}")]
    Encode {
        /// Which input.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// A model's tokenizer, configured for embedding single texts.
#[derive(Debug)]
pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`; sequences are cut to `max_len` ids, specials included.
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self, TokenizeError> {
        let load = |reason: String| TokenizeError::Load { path: path.display().to_string(), reason };
        let mut inner = Tokenizer::from_file(path).map_err(|e| load(e.to_string()))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams { max_length: max_len.max(2), ..TruncationParams::default() }))
            .map_err(|e| load(e.to_string()))?;
        Ok(Self { inner, max_len: max_len.max(2) })
    }

    /// Longest sequence produced, specials included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// One id sequence per text, in order: `[CLS]`, the text's pieces, `[SEP]`.
    pub fn encode(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, TokenizeError> {
        texts
            .iter()
            .enumerate()
            .map(|(index, t)| {
                self.inner
                    .encode(t.as_str(), true)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(|e| TokenizeError::Encode { index, reason: e.to_string() })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny WordPiece tokenizer in the shape of BERT's `tokenizer.json`.
    fn tiny() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let json = serde_json::json!({
            "version": "1.0",
            "truncation": {"max_length": 3, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                        "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": [],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                           "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                   "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
            "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100,
                      "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6}}
        });
        std::fs::write(&path, json.to_string()).unwrap();
        (dir, path)
    }

    #[test]
    fn specials_no_padding_and_truncation_at_max_len() {
        let (_dir, path) = tiny();
        let t = TextTokenizer::from_file(&path, 5).unwrap();
        let ids =
            t.encode(&["Hello worlds".into(), String::new(), "hello hello hello hello".into(), "zzz".into()]).unwrap();
        assert_eq!(ids[0], vec![2, 4, 5, 6, 3], "[CLS] hello world ##s [SEP], lowercased, no padding");
        assert_eq!(ids[1], vec![2, 3], "the empty text is [CLS] [SEP]");
        assert_eq!(ids[2], vec![2, 4, 4, 4, 3], "cut at 5 ids with [SEP] kept, not the file's 3");
        assert_eq!(ids[3], vec![2, 1, 3], "unknown words are [UNK]");
        assert_eq!(t.max_len(), 5);
    }

    #[test]
    fn a_missing_or_broken_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = TextTokenizer::from_file(&dir.path().join("nope.json"), 8).unwrap_err();
        assert!(e.to_string().contains("nope.json"), "{e}");
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        assert!(TextTokenizer::from_file(&dir.path().join("bad.json"), 8).is_err());
    }
}
