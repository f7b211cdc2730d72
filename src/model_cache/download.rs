//! Fetching one model file from a coordinator (`GET /v1/models/{sha256}/{file}`) into a
//! `.part` file, resuming with an HTTP range request where an earlier try stopped, and
//! checking the SHA-256 of the whole file before it is renamed into place. A file whose
//! hash is wrong is deleted, never used.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::Path;
use std::time::Duration;

use idlewatt_protocol::models::ModelFile;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::CacheError;

/// A download's HTTP client: no whole-request timeout (a 90 MB file over a slow line
/// takes minutes), but a connect timeout and a read timeout so a dead peer is noticed.
pub(crate) fn http_client() -> Result<reqwest::Client, CacheError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(30))
        .user_agent(concat!("idlewatt-node/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CacheError::Http(e.to_string()))
}

/// What [`fetch`] reports as bytes arrive: (bytes of this file on disk now).
pub(crate) type OnBytes<'a> = &'a mut dyn FnMut(u64) -> bool;

/// Downloads `file` from `base` (the coordinator's URL) to `dest`, through
/// `dest` + `.part`. `on_bytes` is called with the bytes on disk after each chunk and
/// returns `false` to stop (the `.part` file stays for the next try).
pub(crate) async fn fetch(
    http: &reqwest::Client,
    base: &str,
    file: &ModelFile,
    dest: &Path,
    on_bytes: OnBytes<'_>,
) -> Result<(), CacheError> {
    let part = part_path(dest);
    let io = |e: std::io::Error| CacheError::Io { path: part.clone(), source: e };
    let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if have > file.size {
        std::fs::remove_file(&part).map_err(io)?;
        have = 0;
    }
    if have < file.size {
        let url = format!("{}{}", base.trim_end_matches('/'), file.path());
        let mut req = http.get(&url);
        if have > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
        }
        let mut res = req.send().await.map_err(|e| CacheError::Http(format!("{url}: {e}")))?;
        let status = res.status();
        let resumed = status == StatusCode::PARTIAL_CONTENT
            && res
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(&format!("bytes {have}-")));
        if !(status == StatusCode::OK || resumed) {
            return Err(CacheError::Http(format!("{url}: the coordinator answered {status}")));
        }
        // Resumed: append to what is there; otherwise start the file over.
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .map_err(io)?;
        if !resumed {
            have = 0;
        }
        tracing::info!(file = %file.name, from = have, size = file.size, "downloading model file");
        while let Some(chunk) = res.chunk().await.map_err(|e| CacheError::Http(format!("{url}: {e}")))? {
            if have + chunk.len() as u64 > file.size {
                drop(out);
                let _ = std::fs::remove_file(&part);
                return Err(CacheError::Http(format!("{url}: the coordinator sent more than {} bytes", file.size)));
            }
            out.write_all(&chunk).map_err(io)?;
            have += chunk.len() as u64;
            if !on_bytes(have) {
                out.flush().map_err(io)?;
                return Err(CacheError::Stopped);
            }
        }
        out.sync_all().map_err(io)?;
        if have != file.size {
            return Err(CacheError::Http(format!("{url}: the download ended at {have} of {} bytes", file.size)));
        }
    }
    let got = sha256_of(&part).map_err(io)?;
    if got != file.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err(CacheError::HashMismatch { file: file.name.clone(), expected: file.sha256.clone(), got });
    }
    std::fs::rename(&part, dest).map_err(|e| CacheError::Io { path: dest.to_owned(), source: e })?;
    Ok(())
}

/// Where `dest` is downloaded to until its hash is checked: `dest` + `.part`.
pub(crate) fn part_path(dest: &Path) -> std::path::PathBuf {
    let mut p = dest.as_os_str().to_owned();
    p.push(".part");
    p.into()
}

/// SHA-256 of a file, lowercase hex.
pub(crate) fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    f.rewind()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(alloy::hex::encode(h.finalize()));
        }
        h.update(&buf[..n]);
    }
}
