//! What can go wrong talking to the coordinator as a client: the node client's errors
//! (URL, unreachable, the coordinator's documented refusal, a non-protocol answer), plus
//! a 402 with the amounts (what the job costs, what the limit allows, what is missing),
//! a job that ended without a result, and local files.

use std::path::PathBuf;

use idlewatt_protocol::client::{ClientJob, Shortfall, ShortfallReason};

use crate::network::ClientError;

/// Errors of [`super::ClientApi`] and the flows built on it.
#[derive(Debug, thiserror::Error)]
pub enum ClientApiError {
    /// Not a usable URL, no answer, a refusal, or an answer that is not the protocol.
    #[error(transparent)]
    Request(#[from] ClientError),
    /// 402: the job costs more than the balance, the maximum price or the key's limit.
    #[error("{}", describe_shortfall(.message, .payment))]
    PaymentRequired {
        /// The coordinator's message.
        message: String,
        /// The amounts.
        payment: Shortfall,
    },
    /// The job ended without a result (cancelled, expired, failed).
    #[error("job {} ended {}: {}", .job.id, status_word(.job), .job.reason.as_deref().unwrap_or("no reason given"))]
    JobEnded {
        /// The job as it ended.
        job: Box<ClientJob>,
    },
    /// The job did not finish within the wait.
    #[error("job {id} is not done after {waited_s} s; follow it with `idlewatt-client job {id}`")]
    Timeout {
        /// The job.
        id: String,
        /// How long we waited.
        waited_s: u64,
    },
    /// A local file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    File {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Bad input given on this side (before anything was sent).
    #[error("{0}")]
    Input(String),
}

fn status_word(job: &ClientJob) -> String {
    serde_json::to_value(job.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn describe_shortfall(message: &str, p: &Shortfall) -> String {
    let limit = match p.reason {
        ShortfallReason::Balance => "your available balance",
        ShortfallReason::MaxPrice => "your maximum price",
        ShortfallReason::SpendingLimit => "what is left of the API key's spending limit",
    };
    format!(
        "payment required: the job costs {} tokens, {limit} is {} tokens, {} more tokens are needed ({message})",
        p.price.to_token_string(),
        p.available.to_token_string(),
        p.needed.to_token_string()
    )
}

impl ClientApiError {
    /// The amounts of a 402.
    pub fn shortfall(&self) -> Option<&Shortfall> {
        match self {
            Self::PaymentRequired { payment, .. } => Some(payment),
            _ => None,
        }
    }

    /// The HTTP status the coordinator answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Request(ClientError::Api { status, .. } | ClientError::Protocol { status, .. }) => Some(*status),
            Self::PaymentRequired { .. } => Some(402),
            _ => None,
        }
    }
}
