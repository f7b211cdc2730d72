//! Where work comes from and where results go. The node loop only sees [`JobSource`]; the
//! network client implements it against a coordinator, [`LocalJobs`] implements it on
//! this machine (benchmark-sized matmuls, spot-checked on the CPU) so the loop runs and
//! is tested without a network. A job's inputs are either derived from a seed
//! (calibration work) or read from a client's `.npy` blobs the source downloaded
//! ([`ClientBlock`]: the rows of A the block covers, and B).

use std::path::{Path, PathBuf};

use idlewatt_protocol::npy;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::compute::MatmulDims;

/// One unit of work: a matmul whose inputs are derived from a seed, or a block of
/// rows of a client's C whose inputs are `.npy` files on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Identifier given by the source.
    pub id: String,
    /// Shape of what is computed here (for a client block: its rows × n × k).
    pub dims: MatmulDims,
    /// Seed of the inputs (`idlewatt_protocol::inputs::matmul_inputs`) of calibration work.
    pub seed: u64,
    /// A client's block: where its inputs are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientBlock>,
    /// An embeddings batch instead of a matmul.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<EmbedWork>,
}

/// An embeddings batch: the model's folder (downloaded and hash-checked by the source)
/// and the token-id sequences to embed, one vector each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedWork {
    /// The model's sentence-transformers folder.
    pub model_dir: PathBuf,
    /// The sequences.
    pub sequences: Vec<Vec<u32>>,
    /// The coordinator's estimate of the work (for the owner's statistics).
    pub flops: u64,
}

/// The inputs of a client block: the whole A and B as `.npy` files (downloaded and
/// checked against their SHA-256 by the source), and the first row of A it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientBlock {
    /// A (m×k) `.npy`.
    pub a: PathBuf,
    /// B (k×n) `.npy`.
    pub b: PathBuf,
    /// First row of A (and C) of the block.
    pub row_start: u32,
}

/// Why a job's inputs could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InputError {
    /// An input file.
    #[error("cannot read the job's input {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The inputs do not have the job's shape.
    #[error("the job's inputs do not match its shape: {0}")]
    Shape(String),
}

fn read_npy(path: &Path) -> Result<(Vec<u8>, npy::Header), InputError> {
    let fail = |reason: String| InputError::File { path: path.display().to_string(), reason };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let h = npy::read_header(&bytes, u64::MAX).map_err(|e| fail(e.to_string()))?;
    Ok((bytes, h))
}

impl Job {
    /// Floating-point operations of the job (an estimate for embeddings).
    pub fn flops(&self) -> f64 {
        match &self.embed {
            Some(e) => e.flops as f64,
            None => self.dims.flops(),
        }
    }

    /// A and B: generated from the seed exactly as the coordinator generates them, or
    /// for a client block the rows of A it covers and the whole B, from their files.
    pub fn inputs(&self) -> Result<(Vec<f32>, Vec<f32>), InputError> {
        let MatmulDims { m, n, k } = self.dims;
        let Some(block) = &self.client else {
            return Ok(idlewatt_protocol::inputs::matmul_inputs(self.seed, m, n, k));
        };
        let (a_bytes, ah) = read_npy(&block.a)?;
        let (b_bytes, bh) = read_npy(&block.b)?;
        if ah.cols != k as usize || bh.rows != k as usize || bh.cols != n as usize {
            return Err(InputError::Shape(format!(
                "A is {}×{}, B is {}×{}, the block is {m}×{n}×{k}",
                ah.rows, ah.cols, bh.rows, bh.cols
            )));
        }
        let a = npy::read_rows(&a_bytes, &ah, block.row_start as usize, m as usize).ok_or_else(|| {
            InputError::Shape(format!("rows {}..+{m} are outside A ({} rows)", block.row_start, ah.rows))
        })?;
        let b = npy::read_rows(&b_bytes, &bh, 0, bh.rows).ok_or_else(|| InputError::Shape("B".into()))?;
        Ok((a, b))
    }
}

/// Why a source could not give or take work.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JobSourceError {
    /// The source is unreachable (network down); try again later.
    #[error("cannot reach the network: {0}")]
    Unreachable(String),
    /// The network has no paid work right now (no client job waiting, no calibration
    /// budget): the node waits and asks again.
    #[error("no paid work right now: no client job is waiting; the node asks again shortly")]
    NoWork,
    /// The result was refused.
    #[error("result rejected: {0}")]
    Rejected(String),
    /// Preparing the job (a model download) was stopped because the node must stop
    /// computing (the owner came back); it resumes where it stopped next time.
    #[error("stopped while preparing the job; it resumes next time")]
    Interrupted,
}

/// What a source may use while it prepares a job on the compute thread: the node's
/// event stream, for long preparations the owner should see ("downloading model, 41 of
/// 87 MB"), and the node's cancel token, which is set when the node must stop computing
/// (a download stops then and resumes next time).
#[derive(Debug, Clone)]
pub struct SourceWatch {
    /// The node's events.
    pub events: tokio::sync::broadcast::Sender<super::events::Event>,
    /// Set when the node must stop computing.
    pub cancel: crate::compute::CancelToken,
}

/// A source of jobs. Called from the compute worker thread; may block.
pub trait JobSource: Send {
    /// The next job to run.
    fn next_job(&mut self) -> Result<Job, JobSourceError>;
    /// Hands in the result `c` of `job`.
    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError>;
    /// Called once by the node before the first job (see [`SourceWatch`]); sources
    /// that prepare nothing long ignore it.
    fn watch(&mut self, _watch: SourceWatch) {}
}

/// Jobs generated on this machine; results spot-checked against an f64 dot product.
#[derive(Debug)]
pub struct LocalJobs {
    size: u32,
    next: u64,
    /// Results accepted so far.
    pub accepted: u64,
}

impl LocalJobs {
    /// Square jobs of `size`.
    pub fn new(size: u32) -> Self {
        Self { size: size.max(1), next: 0, accepted: 0 }
    }
}

impl JobSource for LocalJobs {
    fn next_job(&mut self) -> Result<Job, JobSourceError> {
        self.next += 1;
        Ok(Job {
            id: format!("local-{}", self.next),
            dims: MatmulDims::square(self.size),
            seed: self.next * 7919,
            client: None,
            embed: None,
        })
    }

    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError> {
        let (a, b) = job.inputs().map_err(|e| JobSourceError::Rejected(e.to_string()))?;
        let (m, n, k) = (job.dims.m as usize, job.dims.n as usize, job.dims.k as usize);
        if c.len() != m * n {
            return Err(JobSourceError::Rejected(format!("C has {} values, expected {}", c.len(), m * n)));
        }
        // Check 16 entries spread over C (cheap: 16·k multiply-adds).
        for t in 0..16usize {
            let (i, j) = ((t * 7919) % m, (t * 104_729) % n);
            let want: f64 = (0..k).map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j])).sum();
            let scale: f64 = (0..k).map(|p| (f64::from(a[i * k + p]) * f64::from(b[p * n + j])).abs()).sum();
            if (f64::from(c[i * n + j]) - want).abs() > 1e-5 * scale.max(1.0) {
                return Err(JobSourceError::Rejected(format!("C[{i},{j}] = {} but should be {want}", c[i * n + j])));
            }
        }
        self.accepted += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::reference;

    #[test]
    fn local_jobs_accept_right_and_reject_wrong_results() {
        let mut jobs = LocalJobs::new(40);
        let job = jobs.next_job().expect("job");
        let (a, b) = job.inputs().expect("inputs");
        let c = reference::matmul(&a, &b, 40, 40, 40);
        assert_eq!(jobs.submit(&job, c.clone()), Ok(()));
        let mut wrong = c;
        wrong.iter_mut().for_each(|x| *x += 0.5);
        assert!(matches!(jobs.submit(&job, wrong), Err(JobSourceError::Rejected(_))));
        assert!(matches!(jobs.submit(&job, vec![0.0; 3]), Err(JobSourceError::Rejected(_))));
        assert_eq!(jobs.accepted, 1);
        assert_ne!(jobs.next_job().expect("job").id, job.id);
    }

    #[test]
    fn client_blocks_read_their_rows_of_a_and_all_of_b() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = idlewatt_protocol::inputs::matmul_inputs(3, 5, 2, 4);
        std::fs::write(dir.path().join("a.npy"), npy::write_f32(5, 4, &a)).expect("write");
        std::fs::write(dir.path().join("b.npy"), npy::write_f32(4, 2, &b)).expect("write");
        let block = ClientBlock { a: dir.path().join("a.npy"), b: dir.path().join("b.npy"), row_start: 1 };
        let job = Job {
            id: "x".into(),
            dims: MatmulDims { m: 3, n: 2, k: 4 },
            seed: 0,
            client: Some(block.clone()),
            embed: None,
        };
        let (ra, rb) = job.inputs().expect("inputs");
        assert_eq!(ra, a[4..16].to_vec());
        assert_eq!(rb, b);
        let past = Job { dims: MatmulDims { m: 5, n: 2, k: 4 }, ..job.clone() };
        assert!(matches!(past.inputs(), Err(InputError::Shape(_))));
        let wrong_k = Job { dims: MatmulDims { m: 1, n: 2, k: 3 }, ..job };
        assert!(matches!(wrong_k.inputs(), Err(InputError::Shape(_))));
    }
}
