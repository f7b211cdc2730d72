//! Where work comes from and where results go. The node loop only sees [`JobSource`]; the
//! network client implements it against a coordinator, [`LocalJobs`] implements it on
//! this machine (benchmark-sized matmuls, spot-checked on the CPU) so the loop runs and
//! is tested without a network.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::compute::MatmulDims;

/// One unit of work: a matmul whose inputs are derived from a seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Identifier given by the source.
    pub id: String,
    /// Shape.
    pub dims: MatmulDims,
    /// Seed of the inputs (`idlewatt_protocol::inputs::matmul_inputs`).
    pub seed: u64,
}

impl Job {
    /// A and B, generated from the seed exactly as the coordinator generates them.
    pub fn inputs(&self) -> (Vec<f32>, Vec<f32>) {
        idlewatt_protocol::inputs::matmul_inputs(self.seed, self.dims.m, self.dims.n, self.dims.k)
    }
}

/// Why a source could not give or take work.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JobSourceError {
    /// The source is unreachable (network down); try again later.
    #[error("cannot reach the network: {0}")]
    Unreachable(String),
    /// No work is available right now.
    #[error("no work available right now")]
    NoWork,
    /// The result was refused.
    #[error("result rejected: {0}")]
    Rejected(String),
}

/// A source of jobs. Called from the compute worker thread; may block.
pub trait JobSource: Send {
    /// The next job to run.
    fn next_job(&mut self) -> Result<Job, JobSourceError>;
    /// Hands in the result `c` of `job`.
    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError>;
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
        Ok(Job { id: format!("local-{}", self.next), dims: MatmulDims::square(self.size), seed: self.next * 7919 })
    }

    fn submit(&mut self, job: &Job, c: Vec<f32>) -> Result<(), JobSourceError> {
        let (a, b) = job.inputs();
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
        let (a, b) = job.inputs();
        let c = reference::matmul(&a, &b, 40, 40, 40);
        assert_eq!(jobs.submit(&job, c.clone()), Ok(()));
        let mut wrong = c;
        wrong.iter_mut().for_each(|x| *x += 0.5);
        assert!(matches!(jobs.submit(&job, wrong), Err(JobSourceError::Rejected(_))));
        assert!(matches!(jobs.submit(&job, vec![0.0; 3]), Err(JobSourceError::Rejected(_))));
        assert_eq!(jobs.accepted, 1);
        assert_ne!(jobs.next_job().expect("job").id, job.id);
    }
}
