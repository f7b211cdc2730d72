//! The served models as the demand side's [`EmbeddingsService`]: `GET /v1/models`
//! lists them, and an embeddings request is billed by the ids the model's own
//! tokenizer produces (`[CLS]`/`[SEP]` included, truncated at the model's limit).

use std::sync::Arc;

use idlewatt_protocol::openai::Model;

use super::registry::ModelRegistry;
use crate::embeddings::EmbeddingsService;

/// The registry, serving.
#[derive(Debug)]
pub struct RegistryService {
    registry: Arc<ModelRegistry>,
    created: i64,
}

impl RegistryService {
    /// Serves `registry`'s models; `created` is when (unix seconds).
    pub fn new(registry: Arc<ModelRegistry>, created: i64) -> Self {
        Self { registry, created }
    }
}

impl EmbeddingsService for RegistryService {
    fn models(&self) -> Vec<Model> {
        self.registry
            .all()
            .map(|m| Model {
                id: m.manifest.name.clone(),
                object: "model".to_owned(),
                created: self.created,
                owned_by: "idlewatt".to_owned(),
            })
            .collect()
    }

    fn dimensions(&self, model: &str) -> Option<u32> {
        self.registry.get(model).map(|m| m.dim)
    }

    fn count_tokens(&self, model: &str, texts: &[String]) -> Result<u64, String> {
        let m = self.registry.get(model).ok_or_else(|| format!("the model `{model}` is not served"))?;
        let ids = m.tokenizer.encode(texts).map_err(|e| e.to_string())?;
        Ok(ids.iter().map(|s| s.len() as u64).sum())
    }
}
