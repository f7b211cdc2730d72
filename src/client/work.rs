//! Submitting work and collecting it: upload the `.npy` inputs (the coordinator checks
//! them and says what they are), quote the job from the public price list, submit it
//! with a maximum price (the quote unless the client sets one), follow it until it is
//! done, and download the result. Shared by `idlewatt-client` and the demo client.

use std::path::Path;
use std::time::{Duration, Instant};

use idlewatt_protocol::client::{BlobStored, ClientJob, ClientJobStatus, JobSubmission, matmul_price};
use idlewatt_protocol::{Precision, TokenAmount};

use super::{ClientApi, ClientApiError};

/// How often a followed job is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A matmul's two inputs, as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatmulInputs {
    /// A (m×k).
    pub a: BlobStored,
    /// B (k×n).
    pub b: BlobStored,
}

/// Reads a file, with its path in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ClientApiError> {
    std::fs::read(path).map_err(|source| ClientApiError::File { action: "read", path: path.into(), source })
}

/// Writes a file atomically (a temporary file beside it, then renamed over), so a
/// reader never sees half a result.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ClientApiError> {
    let err = |source| ClientApiError::File { action: "write", path: path.into(), source };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".part{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// Uploads A and B (`.npy` bytes).
pub async fn upload_matmul(api: &ClientApi, a: &[u8], b: &[u8]) -> Result<MatmulInputs, ClientApiError> {
    let a = api.put_blob(a).await?;
    let b = api.put_blob(b).await?;
    Ok(MatmulInputs { a, b })
}

/// The price of A·B at the network's current price list.
pub async fn quote_matmul(api: &ClientApi, inputs: &MatmulInputs) -> Result<TokenAmount, ClientApiError> {
    let (m, k, n) = dims(inputs)?;
    let prices = api.prices().await?;
    matmul_price(m, n, k, prices.matmul_per_tflop)
        .ok_or_else(|| ClientApiError::Input("the job is too large to price".into()))
}

fn dims(inputs: &MatmulInputs) -> Result<(u32, u32, u32), ClientApiError> {
    let [m, k] = inputs.a.shape;
    let [k2, n] = inputs.b.shape;
    if k != k2 {
        return Err(ClientApiError::Input(format!("A is {m}×{k} and B is {k2}×{n}: A's columns must equal B's rows")));
    }
    let fit = |x: u64| u32::try_from(x).map_err(|_| ClientApiError::Input(format!("a dimension of {x} is too large")));
    Ok((fit(m)?, fit(k)?, fit(n)?))
}

/// Submits C = A·B with `max_price` (`None`: the current quote) and `precision`
/// (`None`: A's dtype).
pub async fn submit_matmul(
    api: &ClientApi,
    inputs: &MatmulInputs,
    precision: Option<Precision>,
    max_price: Option<TokenAmount>,
) -> Result<ClientJob, ClientApiError> {
    let max_price = match max_price {
        Some(p) => p,
        None => quote_matmul(api, inputs).await?,
    };
    let job = JobSubmission::Matmul {
        a_sha256: inputs.a.sha256.clone(),
        b_sha256: inputs.b.sha256.clone(),
        precision: precision.unwrap_or(inputs.a.dtype),
        max_price,
        expires_in_s: None,
    };
    api.submit(&job).await
}

/// Submits embeddings of `texts` with `model`; `max_price` `None`: a ceiling from the
/// price list that no input can exceed (every token is at least one byte, plus the
/// two special tokens of each text).
pub async fn submit_embeddings(
    api: &ClientApi,
    model: &str,
    texts: Vec<String>,
    max_price: Option<TokenAmount>,
) -> Result<ClientJob, ClientApiError> {
    if texts.is_empty() {
        return Err(ClientApiError::Input("no texts to embed (the input has no non-empty lines)".into()));
    }
    let max_price = match max_price {
        Some(p) => p,
        None => {
            let per_1k = api.prices().await?.embeddings_per_1k_tokens;
            let tokens: u128 = texts.iter().map(|t| t.len() as u128 + 2).sum();
            TokenAmount(per_1k.0.saturating_mul(tokens).div_ceil(1000).max(1))
        }
    };
    api.submit(&JobSubmission::Embeddings { model: model.to_owned(), input: texts, max_price, expires_in_s: None })
        .await
}

/// Polls `id` until it is final (or `timeout` passes), calling `progress` on each
/// answer. A job that ended without a result is [`ClientApiError::JobEnded`].
pub async fn follow(
    api: &ClientApi,
    id: &str,
    timeout: Duration,
    mut progress: impl FnMut(&ClientJob),
) -> Result<ClientJob, ClientApiError> {
    let started = Instant::now();
    loop {
        let job = api.job(id).await?;
        progress(&job);
        match job.status {
            ClientJobStatus::Done => return Ok(job),
            s if s.is_final() => return Err(ClientApiError::JobEnded { job: Box::new(job) }),
            _ => {}
        }
        if started.elapsed() >= timeout {
            return Err(ClientApiError::Timeout { id: id.to_owned(), waited_s: timeout.as_secs() });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The lines of a text file to embed: one text per line, empty lines skipped.
pub fn lines_to_embed(text: &str) -> Vec<String> {
    text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lines_are_not_texts() {
        assert_eq!(lines_to_embed("a\n\n  \nb c \r\n"), vec!["a".to_owned(), "b c".to_owned()]);
    }

    #[test]
    fn results_are_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.npy");
        write_file(&path, b"abc").expect("write");
        assert_eq!(read_file(&path).expect("read"), b"abc");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1, "no temporary file left");
        assert!(matches!(read_file(&dir.path().join("missing")), Err(ClientApiError::File { action: "read", .. })));
    }
}
