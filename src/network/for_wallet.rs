//! The node's job source for an owner's wallet: [`NetworkJobs`] signed by the keyring
//! key, registered with what the node knows of its GPU without opening it. Shared by the
//! headless node and the desktop app so both announce the same hardware and limits.

use std::sync::Arc;

use idlewatt_protocol::wire::{HardwareSummary, NodeLimits};

use super::{NetworkJobs, NetworkJobsError};
use crate::compute::GpuProfile;
use crate::paths::DataDirs;
use crate::wallet::{Wallet, WalletError};

/// Where the node caches the GPU profile it last opened (see `node`).
const GPU_PROFILE_CACHE: &str = "gpu-profile.json";

/// Why the wallet's job source cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ForWalletError {
    /// No wallet, or its key cannot be read from the keyring.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// The client or outbox could not be set up.
    #[error(transparent)]
    Jobs(#[from] NetworkJobsError),
}

/// The hardware summary sent when registering: from the cached GPU profile, "unknown"
/// before the GPU was ever opened.
pub fn hardware_summary(data: &DataDirs) -> HardwareSummary {
    let gpu: Option<GpuProfile> =
        std::fs::read(data.join(GPU_PROFILE_CACHE)).ok().and_then(|b| serde_json::from_slice(&b).ok());
    HardwareSummary {
        adapter: gpu.as_ref().map_or_else(|| "unknown".into(), |g| g.name.clone()),
        backend: gpu.as_ref().map_or_else(|| "unknown".into(), |g| g.backend.clone()),
        device_type: gpu.as_ref().map_or_else(|| "unknown".into(), |g| g.device_type.clone()),
        max_buffer_bytes: gpu.as_ref().map_or(128 << 20, |g| g.limits.max_storage_buffer_binding_size),
        benchmark_gflops: 1.0,
        precisions: crate::compute::tuning::benchmarked_precisions(&data.join(crate::compute::tuning::TUNING_FILE)),
    }
}

/// Jobs from the coordinator at `url` for `wallet`'s key, of at most `max_dim` per side,
/// with at most `model_quota` bytes of downloaded models (the owner's setting).
pub fn jobs_for_wallet(
    url: &str,
    wallet: &Wallet,
    data: &DataDirs,
    max_dim: u32,
    model_quota: u64,
) -> Result<NetworkJobs, ForWalletError> {
    let signer = wallet.signer()?;
    let hardware = hardware_summary(data);
    let limits = NodeLimits { max_dim, max_buffer_bytes: hardware.max_buffer_bytes };
    tracing::info!(%url, address = %signer.address(), "earning on the network");
    Ok(NetworkJobs::new(url, Arc::new(signer), data, hardware, limits)?.with_model_quota(model_quota))
}
