//! A job the owner interrupted, kept on disk so it survives a restart or a crash: a JSON
//! header (the job and where it stopped) and the partial C as raw little-endian f32.
//! Both are written to temporary files and renamed, the header last, so a crash leaves
//! either the old state or the new one, never half of each.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::jobs::Job;
use crate::compute::{SuspendedMatmul, slicing::Cursor};

const HEADER: &str = "partial-job.json";
const DATA: &str = "partial-job.f32";

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    job: Job,
    cursor: Cursor,
    values: usize,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Saves `job` stopped at `suspended` in `dir`.
pub fn save(dir: &Path, job: &Job, suspended: &SuspendedMatmul) -> io::Result<()> {
    let bytes: Vec<u8> = suspended.partial_c.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_atomic(&dir.join(DATA), &bytes)?;
    let header = Header { job: job.clone(), cursor: suspended.cursor, values: suspended.partial_c.len() };
    write_atomic(&dir.join(HEADER), &serde_json::to_vec(&header).map_err(io::Error::other)?)
}

/// The id (for network jobs: the lease id) of the saved job, reading only its header:
/// what a restarted node resumes, so its lease must not be released.
pub fn kept_job_id(dir: &Path) -> Option<String> {
    let header = std::fs::read(dir.join(HEADER)).ok()?;
    serde_json::from_slice::<Header>(&header).ok().map(|h| h.job.id)
}

/// The saved job, if there is a complete one. A damaged one is set aside and reported.
pub fn load(dir: &Path) -> Option<(Job, SuspendedMatmul)> {
    let header_path = dir.join(HEADER);
    let header = std::fs::read(&header_path).ok()?;
    let parsed = serde_json::from_slice::<Header>(&header).ok().and_then(|h| {
        let data = std::fs::read(dir.join(DATA)).ok()?;
        (data.len() == h.values * 4 && h.values as u64 == u64::from(h.job.dims.m) * u64::from(h.job.dims.n)).then(
            || {
                let partial_c = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                (
                    h.job.clone(),
                    SuspendedMatmul { dims: h.job.dims, precision: Default::default(), cursor: h.cursor, partial_c },
                )
            },
        )
    });
    if parsed.is_none() {
        let aside: PathBuf = dir.join(format!("{HEADER}.damaged"));
        tracing::warn!(path = %header_path.display(), "saved partial job is damaged; starting that work afresh");
        let _ = std::fs::rename(&header_path, aside);
    }
    parsed
}

/// Forgets the saved job (it finished).
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(HEADER));
    let _ = std::fs::remove_file(dir.join(DATA));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::MatmulDims;

    #[test]
    fn round_trips_and_sets_damage_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load(dir.path()).is_none());
        let job = Job { id: "j1".into(), dims: MatmulDims { m: 2, n: 3, k: 4 }, seed: 9, client: None, embed: None };
        let cursor = Cursor { row0: 0, rows: 64, col0: 0, cols: 64, k0: 16 };
        let s = SuspendedMatmul {
            dims: job.dims,
            precision: Default::default(),
            cursor,
            partial_c: vec![1.0, -2.5, 3.0, 0.0, 5.5, 6.0],
        };
        save(dir.path(), &job, &s).expect("save");
        let (j, back) = load(dir.path()).expect("load");
        assert_eq!(j, job);
        assert_eq!(back.cursor, cursor);
        assert_eq!(back.partial_c, s.partial_c);

        std::fs::write(dir.path().join(DATA), [0u8; 5]).expect("damage");
        assert!(load(dir.path()).is_none());
        assert!(dir.path().join("partial-job.json.damaged").exists());
        remove(dir.path());
        assert!(load(dir.path()).is_none());
    }
}
