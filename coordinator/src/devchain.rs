//! A local chain for development and tests (DESIGN §5, §7): `anvil` from the npm package
//! `@foundry-rs/anvil` on a free loopback port, an ERC-20 deployed from OpenZeppelin's
//! compiled `ERC20PresetMinterPauser` artifact (npm `@openzeppelin/contracts@4.9.6`, read
//! at run time, so building needs no node_modules and no solc), and tokens minted to a
//! treasury. `scripts/setup` installs both packages; `scripts/devchain` runs
//! `idlewatt-devchain`, which uses this module.
//!
//! The keys below are anvil's well-known development accounts: public test keys, with
//! value on no real chain. Never use them anywhere else.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent, SolValue};

use crate::chain::IERC20;

alloy::sol! {
    /// What the OpenZeppelin preset adds to ERC-20: minting by the deployer.
    interface IMintable {
        function mint(address to, uint256 amount) external;
        function pause() external;
    }
}

/// anvil's chain id unless told otherwise.
pub const DEV_CHAIN_ID: u64 = 31337;

/// anvil's development accounts 0-3 (from its public test mnemonic "test test … junk").
/// Public test keys: anyone can spend from them on any chain where they hold value.
pub const DEV_KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// The OpenZeppelin artifact, relative to the repository root.
pub const TOKEN_ARTIFACT: &str = "node_modules/@openzeppelin/contracts/build/contracts/ERC20PresetMinterPauser.json";

/// Why the dev chain could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DevchainError {
    /// A file from npm is missing.
    #[error(
        "{what} not found (looked for {path} in {searched}): run scripts/setup, which installs the npm devDependencies"
    )]
    Missing {
        /// What it is.
        what: &'static str,
        /// Its path relative to the repository.
        path: String,
        /// Where it was looked for.
        searched: String,
    },
    /// anvil did not start or answer.
    #[error("anvil: {0}")]
    Anvil(String),
    /// The artifact is not what was expected.
    #[error("bad contract artifact {path}: {reason}")]
    Artifact {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A chain call failed.
    #[error("chain: {0}")]
    Chain(String),
}

fn chain_err(e: impl std::fmt::Display) -> DevchainError {
    DevchainError::Chain(e.to_string())
}

/// anvil's binary, relative to the repository root, for this platform.
pub fn anvil_relative_path() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let exe = if cfg!(windows) { "anvil.exe" } else { "anvil" };
    format!("node_modules/@foundry-rs/anvil-{os}-{arch}/bin/{exe}")
}

/// Finds `relative` (a path under the repository root): in `IDLEWATT_REPO_ROOT` if set,
/// else in the current directory and its ancestors, else beside this crate's sources.
pub fn find_repo_file(relative: &str, what: &'static str) -> Result<PathBuf, DevchainError> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(root) = std::env::var_os("IDLEWATT_REPO_ROOT") {
        roots.push(root.into());
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    roots.extend(Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(Path::to_path_buf));
    roots.iter().map(|r| r.join(relative)).find(|p| p.is_file()).ok_or_else(|| DevchainError::Missing {
        what,
        path: relative.to_owned(),
        searched: "the current directory, its parents and the repository".into(),
    })
}

/// A running anvil, killed (by its PID) when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Option<Child>,
    port: u16,
    state: Option<PathBuf>,
}

impl Anvil {
    /// Starts anvil on a free loopback port with chain id [`DEV_CHAIN_ID`].
    pub fn start() -> Result<Self, DevchainError> {
        Self::start_on(free_port()?, None)
    }

    /// Starts anvil on `port`; with `state`, it loads the chain from that file if it
    /// exists and writes the chain there when stopped with [`Anvil::stop`] (so a test
    /// can take the chain away and bring it back).
    pub fn start_on(port: u16, state: Option<&Path>) -> Result<Self, DevchainError> {
        let bin = find_repo_file(&anvil_relative_path(), "anvil (npm @foundry-rs/anvil)")?;
        let mut cmd = Command::new(&bin);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &DEV_CHAIN_ID.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(s) = state {
            cmd.arg("--state").arg(s);
        }
        let child = cmd.spawn().map_err(|e| DevchainError::Anvil(format!("cannot run {}: {e}", bin.display())))?;
        let mut anvil = Self { child: Some(child), port, state: state.map(Path::to_path_buf) };
        anvil.wait_ready()?;
        Ok(anvil)
    }

    fn wait_ready(&mut self) -> Result<(), DevchainError> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(DevchainError::Anvil(format!("exited at start ({status}); is port {} free?", self.port)));
            }
            if Instant::now() > deadline {
                return Err(DevchainError::Anvil(format!("no answer on port {} after 20 s", self.port)));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its JSON-RPC URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops anvil gracefully (SIGTERM to its PID, so a `--state` file is written) and
    /// waits for it to exit.
    pub fn stop(mut self) -> Result<Option<PathBuf>, DevchainError> {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(DevchainError::Anvil("did not stop within 20 s after SIGTERM".into()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(self.state.take())
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free loopback port (bound, read and released).
pub fn free_port() -> Result<u16, DevchainError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| DevchainError::Anvil(format!("no free port: {e}")))
}

fn signer(key: &str) -> Result<PrivateKeySigner, DevchainError> {
    key.parse().map_err(|_| DevchainError::Chain("not a private key".into()))
}

/// The address of a hex private key.
pub fn address_of(key: &str) -> Result<Address, DevchainError> {
    Ok(signer(key)?.address())
}

fn url(rpc: &str) -> Result<alloy::transports::http::reqwest::Url, DevchainError> {
    rpc.parse().map_err(chain_err)
}

/// Sends a transaction from `key` and waits for its receipt; fails if it reverted.
async fn send(
    rpc: &str,
    key: &str,
    tx: TransactionRequest,
) -> Result<alloy::rpc::types::TransactionReceipt, DevchainError> {
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer(key)?)).connect_http(url(rpc)?);
    let receipt = provider.send_transaction(tx).await.map_err(chain_err)?.get_receipt().await.map_err(chain_err)?;
    if !receipt.status() {
        return Err(DevchainError::Chain(format!("transaction {} reverted", receipt.transaction_hash)));
    }
    Ok(receipt)
}

/// Deploys OpenZeppelin's `ERC20PresetMinterPauser(name, symbol)` from `key` (which may
/// then mint) and returns the token's address.
pub async fn deploy_token(rpc: &str, key: &str, name: &str, symbol: &str) -> Result<Address, DevchainError> {
    let path = find_repo_file(TOKEN_ARTIFACT, "the ERC-20 artifact (npm @openzeppelin/contracts)")?;
    let bad = |reason: String| DevchainError::Artifact { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let hex = json.get("bytecode").and_then(serde_json::Value::as_str).ok_or_else(|| bad("no bytecode".into()))?;
    let mut code = alloy::hex::decode(hex).map_err(|e| bad(e.to_string()))?;
    code.extend((name.to_owned(), symbol.to_owned()).abi_encode_params());
    let receipt = send(rpc, key, TransactionRequest::default().with_deploy_code(Bytes::from(code))).await?;
    receipt.contract_address.ok_or_else(|| DevchainError::Chain("the deployment has no contract address".into()))
}

/// Mints `amount` base units of `token` to `to` (signed by a minter's `key`).
pub async fn mint(rpc: &str, key: &str, token: Address, to: Address, amount: U256) -> Result<(), DevchainError> {
    let input = IMintable::mintCall { to, amount }.abi_encode();
    send(rpc, key, TransactionRequest::default().with_to(token).with_input(input)).await.map(|_| ())
}

/// Transfers `amount` base units of `token` from `key`'s account to `to`; returns the
/// transaction's hash once it is in a block.
pub async fn transfer(rpc: &str, key: &str, token: Address, to: Address, amount: U256) -> Result<B256, DevchainError> {
    let input = IERC20::transferCall { to, amount }.abi_encode();
    let receipt = send(rpc, key, TransactionRequest::default().with_to(token).with_input(input)).await?;
    Ok(receipt.transaction_hash)
}

/// Pauses `token` (signed by a pauser's `key`): every transfer reverts until unpaused.
pub async fn pause(rpc: &str, key: &str, token: Address) -> Result<(), DevchainError> {
    let input = IMintable::pauseCall {}.abi_encode();
    send(rpc, key, TransactionRequest::default().with_to(token).with_input(input)).await.map(|_| ())
}

/// The chain's latest block number.
pub async fn block_number(rpc: &str) -> Result<u64, DevchainError> {
    ProviderBuilder::new().connect_http(url(rpc)?).get_block_number().await.map_err(chain_err)
}

/// `balanceOf(who)` of `token`.
pub async fn balance_of(rpc: &str, token: Address, who: Address) -> Result<U256, DevchainError> {
    let provider = ProviderBuilder::new().connect_http(url(rpc)?);
    IERC20::new(token, &provider).balanceOf(who).call().await.map_err(chain_err)
}

/// Every `Transfer` of `token` to `to` so far: (transaction hash, value).
pub async fn transfers_to(rpc: &str, token: Address, to: Address) -> Result<Vec<(B256, U256)>, DevchainError> {
    let provider = ProviderBuilder::new().connect_http(url(rpc)?);
    let filter = Filter::new()
        .address(token)
        .event_signature(IERC20::Transfer::SIGNATURE_HASH)
        .topic2(to.into_word())
        .from_block(0u64);
    let logs = provider.get_logs(&filter).await.map_err(chain_err)?;
    logs.iter()
        .map(|log| {
            let t = IERC20::Transfer::decode_log_data(log.data()).map_err(chain_err)?;
            Ok((log.transaction_hash.unwrap_or_default(), t.value))
        })
        .collect()
}

/// What [`setup`] made.
#[derive(Debug, Clone)]
pub struct DevToken {
    /// The ERC-20.
    pub token: Address,
    /// Who holds the minted supply (and pays gas): [`DEV_KEYS`]\[0\].
    pub treasury: Address,
}

/// Deploys a token "Idlewatt Dev Token" (IDLE) from [`DEV_KEYS`]\[0\] and mints `supply`
/// base units to that same account, the treasury.
pub async fn setup(rpc: &str, supply: U256) -> Result<DevToken, DevchainError> {
    let key = DEV_KEYS[0];
    let token = deploy_token(rpc, key, "Idlewatt Dev Token", "IDLE").await?;
    let treasury = address_of(key)?;
    mint(rpc, key, token, treasury, supply).await?;
    Ok(DevToken { token, treasury })
}
