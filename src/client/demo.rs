//! The demo client of the embedded network (DESIGN §6): with no network configured, the
//! app and `idlewatt-node run` start a local coordinator, and this small client beside
//! it, so a first launch earns through the real client path. It is an ordinary client
//! of the real HTTP API: a throw-away key made at start (kept in memory only; its
//! tokens are devnet faucet tokens worth nothing), funded from the devnet faucet, that
//! keeps a couple of real matmul jobs (seeded random A and B as `.npy`, uploaded as
//! blobs, paid from escrow) waiting for the local node. Its addresses are listed in
//! `demo-client.json` in the node's data folder ([`addresses`]), for labelling what it
//! paid as [`LABEL`]: the account's job records name the paying client
//! ([`origin_label`], and the app's job list).
//!
//! On a coordinator with a chain (no faucet: 403), or once the faucet's cap for its
//! address is reached (429), it says so once and submits nothing more.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_protocol::client::ClientJob;
use idlewatt_protocol::inputs::matmul_inputs;
use idlewatt_protocol::npy;
use idlewatt_protocol::wire::{JobRecord, WorkOrigin};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{ClientApi, ClientApiError, work};
use crate::network::ClientError;
use crate::paths::DataDirs;

/// How the demo client's jobs and payments are labelled.
pub const LABEL: &str = "demo client";

/// The file (in the node's data folder) listing the demo client's addresses.
pub const ADDRESSES_FILE: &str = "demo-client.json";

/// Addresses kept in [`ADDRESSES_FILE`] (one per launch; the oldest are dropped).
const KEEP_ADDRESSES: usize = 50;

/// How `idlewatt-node balance` labels a job the demo client paid for.
pub const PAID_BY_DEMO: &str = "paid by the demo client of the local network";

/// Who paid for `job`, as `idlewatt-node balance` prints it: the demo client (one of
/// `demo`, see [`addresses`]), another client ("client-paid"), or the operator's
/// calibration budget ("calibration").
pub fn origin_label(job: &JobRecord, demo: &[Address]) -> &'static str {
    match job.job.origin() {
        WorkOrigin::Client if job.client.is_some_and(|c| demo.contains(&c)) => PAID_BY_DEMO,
        WorkOrigin::Client => "client-paid",
        WorkOrigin::Calibration => "calibration",
    }
}

/// Set to `0` to run the embedded network without its demo client.
pub const DISABLE_ENV: &str = "IDLEWATT_DEMO_CLIENT";

/// What the demo client submits.
#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    /// Each job is C (dim×dim) = A (dim×dim) · B (dim×dim).
    pub dim: u32,
    /// Jobs kept waiting or running at once.
    pub in_flight: usize,
    /// How often it looks at its jobs.
    pub interval: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self { dim: 256, in_flight: 2, interval: Duration::from_secs(2) }
    }
}

/// Whether the demo client should run (`IDLEWATT_DEMO_CLIENT` is not `0`).
pub fn enabled() -> bool {
    std::env::var(DISABLE_ENV).ok().is_none_or(|v| v.trim() != "0")
}

/// A running demo client; stops when [`DemoClient::stop`] is called or it is dropped.
#[derive(Debug)]
pub struct DemoClient {
    address: Address,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl DemoClient {
    /// Starts a demo client of the coordinator at `url` on the current tokio runtime,
    /// and records its address in `data` (the node's data folder).
    pub fn start(url: &str, data: &DataDirs, config: DemoConfig) -> Result<Self, ClientApiError> {
        let key = PrivateKeySigner::random();
        let address = key.address();
        let api = ClientApi::new(url, Arc::new(key))?;
        if let Err(e) = remember(data, address) {
            tracing::warn!(error = %e, "cannot record the demo client's address; its payments will not be labelled");
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(api, config, stopped));
        tracing::info!(%address, %url, "demo client started");
        Ok(Self { address, stop, task: Some(task) })
    }

    /// Its address on the network.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Stops it and waits for it to finish its current call.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DemoClient {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The addresses the demo clients of this data folder used (newest last).
pub fn addresses(data: &DataDirs) -> Vec<Address> {
    std::fs::read(data.join(ADDRESSES_FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

fn remember(data: &DataDirs, address: Address) -> std::io::Result<()> {
    let mut all = addresses(data);
    all.push(address);
    let skip = all.len().saturating_sub(KEEP_ADDRESSES);
    let json = serde_json::to_vec_pretty(&all[skip..]).map_err(std::io::Error::other)?;
    let path = data.join(ADDRESSES_FILE);
    work::write_file(&path, &json).map_err(|e| std::io::Error::other(e.to_string()))
}

async fn run(api: ClientApi, config: DemoConfig, mut stopped: watch::Receiver<bool>) {
    let mut seed: u64 = idlewatt_protocol::auth::now_ms().unsigned_abs();
    let mut faucet_closed = false;
    loop {
        if !faucet_closed {
            match tick(&api, config, &mut seed).await {
                Ok(()) => {}
                Err(Tick::NoFaucet(reason)) => {
                    tracing::info!(%reason, "demo client: no faucet on this network; it submits nothing");
                    faucet_closed = true;
                }
                Err(Tick::Api(e)) => tracing::warn!(error = %e, "demo client: will try again"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(config.interval) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

enum Tick {
    NoFaucet(String),
    Api(ClientApiError),
}

impl From<ClientApiError> for Tick {
    fn from(e: ClientApiError) -> Self {
        Self::Api(e)
    }
}

/// Keeps `in_flight` jobs open: submits one when fewer are, funding itself first.
#[tracing::instrument(level = "debug", skip_all, fields(client = %api.address()))]
async fn tick(api: &ClientApi, config: DemoConfig, seed: &mut u64) -> Result<(), Tick> {
    let open = api.jobs().await?.iter().filter(|j: &&ClientJob| !j.status.is_final()).count();
    if open >= config.in_flight {
        return Ok(());
    }
    let d = config.dim;
    *seed = seed.wrapping_add(1) & ((1 << 53) - 1);
    let (a, b) = matmul_inputs(*seed, d, d, d);
    let inputs = work::upload_matmul(
        api,
        &npy::write_f32(d as usize, d as usize, &a),
        &npy::write_f32(d as usize, d as usize, &b),
    )
    .await?;
    let price = work::quote_matmul(api, &inputs).await?;
    if api.account().await?.balance < price {
        match api.faucet(None).await {
            Ok(grant) => {
                tracing::info!(credited = %grant.credited.to_token_string(), "demo client funded from the faucet")
            }
            Err(ClientApiError::Request(ClientError::Api { status: 403 | 404 | 429, message, .. })) => {
                return Err(Tick::NoFaucet(message));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let job = work::submit_matmul(api, &inputs, None, Some(price)).await?;
    tracing::info!(job = %job.id, dim = d, price = %price.to_token_string(), "demo client submitted a matmul");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use idlewatt_protocol::wire::{JobSpec, JobState};
    use idlewatt_protocol::{Precision, TokenAmount};

    use super::*;

    #[test]
    fn balance_labels_what_the_demo_client_paid() {
        let demo = Address::repeat_byte(0xd0);
        let record = |job: JobSpec, client: Option<Address>| JobRecord {
            lease_id: "l".into(),
            job_id: "j".into(),
            job,
            state: JobState::Verified,
            reward: TokenAmount(1),
            issued_at_ms: 0,
            finished_at_ms: None,
            client,
        };
        let block = JobSpec::ClientMatmul {
            a_sha256: "a".into(),
            b_sha256: "b".into(),
            m: 8,
            n: 8,
            k: 8,
            row_start: 0,
            rows: 8,
            precision: Precision::F32,
        };
        assert_eq!(origin_label(&record(block.clone(), Some(demo)), &[demo]), PAID_BY_DEMO);
        assert_eq!(origin_label(&record(block.clone(), Some(Address::repeat_byte(1))), &[demo]), "client-paid");
        assert_eq!(origin_label(&record(block, None), &[demo]), "client-paid");
        let seeded = JobSpec::Matmul { m: 8, n: 8, k: 8, seed: 3, precision: Precision::F32 };
        assert_eq!(origin_label(&record(seeded, None), &[demo]), "calibration");
    }
}
