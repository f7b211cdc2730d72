//! Canaries: sentences whose embeddings the coordinator computed itself (with the CPU
//! reference), mixed into every batch at secret positions. They cost the verifier
//! nothing at judging time (their answers are known before the node answers) and they
//! catch a node that fakes rows without waiting for the random sample. The pool is
//! fixed and public (this file), so a node that memorised it could recognise them:
//! the escape probability the README states rests on the random CPU sample alone, and
//! canaries only add to it.

use std::sync::Arc;

use idlewatt_models::CpuModel;

use super::tokenize::{TextTokenizer, TokenizeError};

/// The pool: varied lengths, languages and scripts, like client inputs.
pub const SENTENCES: [&str; 16] = [
    "The weather is lovely today.",
    "A man is playing a guitar on the street corner.",
    "How do I reset my password if I no longer have access to my email?",
    "Die Katze schläft auf dem warmen Fensterbrett.",
    "Le train de 8 h 15 est annulé en raison d'une grève.",
    "El mercado abre los domingos por la mañana.",
    "東京の桜は三月の終わりに咲き始める。",
    "Quarterly revenue grew 12 % while operating costs fell.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Please find attached the signed contract and the invoice for March.",
    "ok",
    "The quick brown fox jumps over the lazy dog near the riverbank at dawn, \
     while the farmer's children watch from the old stone bridge.",
    "Ein Vertrag kommt durch Angebot und Annahme zustande.",
    "Rust's borrow checker rejects programs with data races at compile time.",
    "🙂 see you tomorrow",
    "Сегодня вечером будет дождь.",
];

/// The pool's token ids and reference embeddings for one model.
#[derive(Debug)]
pub struct Canaries {
    /// Token ids, one sequence per sentence.
    pub sequences: Vec<Vec<u32>>,
    /// Their embeddings from the CPU reference.
    pub vectors: Vec<Vec<f32>>,
}

/// Why canaries could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    /// Tokenizing.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// The CPU reference.
    #[error("canary embeddings: {0}")]
    Model(#[from] idlewatt_models::ModelError),
}

impl Canaries {
    /// Tokenizes the pool and embeds it on the CPU (blocking: ~16 forward passes).
    pub fn prepare(tokenizer: &TextTokenizer, cpu: &Arc<CpuModel>) -> Result<Self, CanaryError> {
        let texts: Vec<String> = SENTENCES.iter().map(|s| (*s).to_owned()).collect();
        let sequences = tokenizer.encode(&texts)?;
        let vectors = idlewatt_models::cpu::encode(cpu, &sequences)?;
        Ok(Self { sequences, vectors })
    }
}
