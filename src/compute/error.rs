//! What can go wrong between Idlewatt and the GPU, as one typed enum the node and the
//! CLI can match on (a device loss is recovered from; a refused software adapter is
//! explained to the owner; a size that does not fit is a bad job, not a crash).

use thiserror::Error;

/// Errors of the compute engine.
#[derive(Debug, Error)]
pub enum ComputeError {
    /// No adapter at all: no Vulkan/Metal/DX12/GL driver answered.
    #[error(
        "no GPU adapter found: install your graphics driver (on Debian/Ubuntu: `apt install mesa-vulkan-drivers` for AMD/Intel, or the NVIDIA driver)"
    )]
    NoAdapter,

    /// Only a software rasteriser (e.g. llvmpipe/lavapipe) is available and it was not allowed.
    #[error(
        "only a software (CPU) adapter \"{name}\" is available; Idlewatt refuses it because it would load your CPU for almost no useful work (allow it with --allow-software or IDLEWATT_ALLOW_SOFTWARE=1, meant for tests)"
    )]
    SoftwareRefused {
        /// The adapter's name as the driver reports it.
        name: String,
    },

    /// The adapter was found but refused to open a device.
    #[error("the GPU \"{adapter}\" could not be opened: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// Driver's reason.
        reason: String,
    },

    /// A job dimension is zero.
    #[error("matrix dimensions must be at least 1 (got m={m}, n={n}, k={k})")]
    ZeroSize {
        /// Rows of A and C.
        m: u64,
        /// Columns of B and C.
        n: u64,
        /// Inner dimension.
        k: u64,
    },

    /// The job does not fit a limit of this device or host; nothing was allocated.
    #[error("job too large: {what} needs {needed} but {limit} is {allowed}")]
    TooLarge {
        /// Which buffer or total.
        what: &'static str,
        /// What the job needs (human readable, with unit).
        needed: String,
        /// The name of the limit.
        limit: &'static str,
        /// The limit's value (human readable, with unit).
        allowed: String,
    },

    /// Input slices do not match the dimensions given.
    #[error("{which} holds {got} values but m, n, k call for {expected}")]
    InputLength {
        /// "A" or "B" or "partial C".
        which: &'static str,
        /// Values given.
        got: usize,
        /// Values expected.
        expected: u64,
    },

    /// The GPU ran out of memory while allocating.
    #[error("the GPU ran out of memory while allocating {what}: {reason}")]
    OutOfMemory {
        /// What was being allocated.
        what: &'static str,
        /// Driver's message.
        reason: String,
    },

    /// The device was lost (driver reset, GPU removed, or destroyed); rebuild the engine.
    #[error("the GPU device was lost ({reason}); it will be re-opened")]
    DeviceLost {
        /// Driver's reason.
        reason: String,
    },

    /// The work was cancelled between slices (the owner came back, or shutdown).
    #[error("cancelled")]
    Cancelled,

    /// The adapter has no kernel path for the job's precision (f16 without `SHADER_F16`).
    #[error("the GPU \"{adapter}\" cannot compute {precision} jobs (no kernel path for that precision)")]
    UnsupportedPrecision {
        /// The job's precision.
        precision: idlewatt_protocol::Precision,
        /// Adapter name.
        adapter: String,
    },

    /// A kernel that does not fit this adapter (features, workgroup limits).
    #[error("the kernel {kernel} does not fit the GPU \"{adapter}\"")]
    UnsupportedKernel {
        /// The kernel's label.
        kernel: String,
        /// Adapter name.
        adapter: String,
    },

    /// An f16 job's input holds a value beyond f16's range (±65504).
    #[error("{which} holds {value}, beyond the range of f16 (±65504): it cannot be an f16 job's input")]
    OutOfF16Range {
        /// "A" or "B".
        which: &'static str,
        /// The first offending value.
        value: f32,
    },

    /// A kernel name that is not in the registry.
    #[error("unknown kernel \"{0}\"")]
    UnknownKernel(String),

    /// wgpu reported an error that is none of the above (a bug on our side or the driver's).
    #[error("GPU error: {0}")]
    Gpu(String),
}

impl ComputeError {
    /// True when rebuilding the engine (a new device) may help.
    pub fn needs_rebuild(&self) -> bool {
        matches!(self, Self::DeviceLost { .. })
    }
}

/// Bytes as a human-readable string with a binary unit ("64.0 MiB").
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_read_as_people_read_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(64 << 20), "64.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
