//! The extension point of the `embeddings` job kind. The coordinator's money, job and
//! OpenAI-compatible HTTP model (`POST /v1/embeddings`, `GET /v1/models`, escrow,
//! expiry, refunds, results as rows of a matrix) does not depend on how texts become
//! vectors; an [`EmbeddingsService`] in [`crate::Config::embeddings`] says which models
//! are served and what an input costs in tokens. With none configured, no model is
//! served and every model is answered OpenAI's 404 `model_not_found`.
//!
//! An embeddings job is a client job of kind `embeddings` whose result is a matrix
//! (texts × dimensions, f32): its parts are blocks of rows (texts), leased, verified
//! and paid exactly like a matmul's blocks of C.

use idlewatt_protocol::openai::Model;

/// What the embeddings job kind provides to the coordinator.
pub trait EmbeddingsService: Send + Sync + std::fmt::Debug {
    /// The models served (listed by `GET /v1/models`).
    fn models(&self) -> Vec<Model>;

    /// The output dimension of `model`, `None` if it is not served.
    fn dimensions(&self, model: &str) -> Option<u32>;

    /// Input tokens of `texts` for `model` — what is billed, per 1,000 tokens — or why
    /// the input is refused (answered 400 with this message).
    fn count_tokens(&self, model: &str, texts: &[String]) -> Result<u64, String>;
}

/// The served model named `model`, if any.
pub(crate) fn find(service: Option<&dyn EmbeddingsService>, model: &str) -> Option<(Model, u32)> {
    let service = service?;
    let found = service.models().into_iter().find(|m| m.id == model)?;
    let dims = service.dimensions(model)?;
    Some((found, dims))
}
