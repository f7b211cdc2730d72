//! The OpenAI-compatible bodies: `POST /v1/embeddings` and `GET /v1/models` in the
//! shapes of OpenAI's API, so existing OpenAI client libraries work by changing only
//! their base URL, and errors in OpenAI's shape
//! `{"error": {"message", "type", "param", "code"}}` (not the protocol's own
//! [`crate::wire::ErrorBody`]) on these two endpoints.

use serde::{Deserialize, Serialize};

/// `input` of an embeddings request: one text or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingsInput {
    /// One text.
    One(String),
    /// Several texts (one embedding each, in order).
    Many(Vec<String>),
    /// Token ids (OpenAI accepts them; this network tokenizes itself and refuses them
    /// with a 400 that says so).
    Tokens(Vec<serde_json::Value>),
}

impl EmbeddingsInput {
    /// The texts, or `None` for token input.
    pub fn texts(&self) -> Option<Vec<String>> {
        match self {
            Self::One(s) => Some(vec![s.clone()]),
            Self::Many(v) => Some(v.clone()),
            Self::Tokens(_) => None,
        }
    }
}

/// How embeddings are returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingFormat {
    /// A JSON array of floats.
    #[default]
    Float,
    /// Base64 of the little-endian f32 bytes.
    Base64,
}

/// `POST /v1/embeddings` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    /// Text(s) to embed.
    pub input: EmbeddingsInput,
    /// A model from `GET /v1/models`.
    pub model: String,
    /// `float` (default) or `base64`.
    #[serde(default)]
    pub encoding_format: Option<EncodingFormat>,
    /// Output dimensions (only the model's own size is accepted).
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// OpenAI's end-user id; accepted and ignored.
    #[serde(default)]
    pub user: Option<String>,
}

/// One embedding, as a float array or base64 per the request's `encoding_format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`: little-endian f32 bytes, base64.
    Base64(String),
}

/// One item of [`EmbeddingsResponse::data`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `"embedding"`.
    pub object: String,
    /// The vector.
    pub embedding: EmbeddingVector,
    /// Position of its text in the input.
    pub index: u32,
}

/// Token counts of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens` for embeddings.
    pub total_tokens: u64,
}

/// `POST /v1/embeddings` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// Always `"list"`.
    pub object: String,
    /// One embedding per input text, in order.
    pub data: Vec<Embedding>,
    /// The model that computed them.
    pub model: String,
    /// Tokens billed.
    pub usage: Usage,
}

/// One model of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// The name to pass as `model`.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// Unix seconds when the network started serving it.
    pub created: i64,
    /// Who publishes it.
    pub owned_by: String,
}

/// `GET /v1/models` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `"list"`.
    pub object: String,
    /// The models the network serves.
    pub data: Vec<Model>,
}

/// The `error` member of an OpenAI error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAiError {
    /// For people.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `insufficient_quota`,
    /// `rate_limit_error`, `timeout`, `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending parameter, if one.
    pub param: Option<String>,
    /// A code such as `model_not_found`, `invalid_api_key`, `insufficient_quota`.
    pub code: Option<String>,
}

/// An OpenAI-shaped error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAiErrorBody {
    /// The error.
    pub error: OpenAiError,
}

impl OpenAiErrorBody {
    /// An error body.
    pub fn new(kind: &str, message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Self {
        Self {
            error: OpenAiError {
                message: message.into(),
                kind: kind.to_owned(),
                param: param.map(str::to_owned),
                code: code.map(str::to_owned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_errors_have_openais_shapes() {
        let r: EmbeddingsRequest =
            serde_json::from_str(r#"{"input": "hello", "model": "m", "encoding_format": "base64"}"#).unwrap();
        assert_eq!(r.input.texts(), Some(vec!["hello".to_owned()]));
        assert_eq!(r.encoding_format, Some(EncodingFormat::Base64));
        let r: EmbeddingsRequest = serde_json::from_str(r#"{"input": ["a", "b"], "model": "m"}"#).unwrap();
        assert_eq!(r.input.texts().map(|t| t.len()), Some(2));
        let r: EmbeddingsRequest = serde_json::from_str(r#"{"input": [1, 2, 3], "model": "m"}"#).unwrap();
        assert_eq!(r.input.texts(), None);
        let e = OpenAiErrorBody::new(
            "invalid_request_error",
            "The model `x` does not exist",
            Some("model"),
            Some("model_not_found"),
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": {"message": "The model `x` does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})
        );
    }
}
