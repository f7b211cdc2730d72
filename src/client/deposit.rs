//! Depositing on a chain: an ERC-20 `transfer` of the token to the treasury, signed by
//! the client's wallet and sent through the chain's JSON-RPC endpoint (the client pays
//! the gas), then waiting until the coordinator has seen the transfer with its
//! confirmations and credited it (it credits the sender, once per transfer). The
//! coordinator says where to send (`GET /v1/deposit`); a devnet has no chain and funds
//! clients from its faucet instead.

use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::DepositInfo;
use idlewatt_protocol::deposit::DepositRecord;

use super::{ClientApi, ClientApiError};
use crate::wallet::WalletSigner;

alloy::sol! {
    /// The part of ERC-20 a deposit uses.
    #[sol(rpc)]
    interface IERC20Deposit {
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
    }
}

/// Why a deposit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    /// The network has no chain.
    #[error("this network is a devnet with no chain: there is nothing to deposit to; use `idlewatt-client faucet`")]
    Devnet,
    /// The RPC URL cannot be used.
    #[error("bad chain RPC URL {url:?}: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The RPC endpoint serves another chain than the network's.
    #[error("the RPC endpoint serves chain {served}, but the network takes deposits on chain {expected}")]
    WrongChain {
        /// What the endpoint serves.
        served: u64,
        /// What the coordinator says.
        expected: u64,
    },
    /// The wallet holds fewer tokens than the deposit.
    #[error("your wallet {address} holds {held} tokens, less than the {amount} tokens to deposit")]
    NotEnoughTokens {
        /// The client's address.
        address: Address,
        /// What it holds (tokens).
        held: String,
        /// The deposit (tokens).
        amount: String,
    },
    /// The chain failed or refused (no gas, a paused token, unreachable).
    #[error("the chain: {0}")]
    Chain(String),
    /// The transfer was mined but reverted: nothing was sent.
    #[error("the transfer {0} reverted: no tokens were sent")]
    Reverted(B256),
    /// Talking to the coordinator failed.
    #[error(transparent)]
    Api(#[from] ClientApiError),
    /// The coordinator did not credit the transfer in time (it may still).
    #[error(
        "transfer {tx} is on chain but not credited after {waited_s} s; it will be once it has {confirmations} confirmation(s): check with `idlewatt-client account`"
    )]
    NotCreditedYet {
        /// The transfer.
        tx: B256,
        /// Waited.
        waited_s: u64,
        /// The network's confirmations.
        confirmations: u64,
    },
}

fn chain_err(e: impl std::fmt::Display) -> DepositError {
    DepositError::Chain(e.to_string())
}

/// Sends `amount` of the network's token from `signer`'s wallet to the treasury
/// through `rpc_url`; returns the transaction hash once it is in a block.
pub async fn send(
    rpc_url: &str,
    info: &DepositInfo,
    signer: &WalletSigner,
    amount: TokenAmount,
) -> Result<B256, DepositError> {
    let (Some(token), Some(treasury), false) = (info.token_address, info.treasury, info.devnet) else {
        return Err(DepositError::Devnet);
    };
    let url: alloy::transports::http::reqwest::Url =
        rpc_url.trim().parse().map_err(|e| DepositError::BadUrl { url: rpc_url.into(), reason: format!("{e}") })?;
    if url.scheme() != "http" {
        return Err(DepositError::BadUrl {
            url: rpc_url.into(),
            reason: "only http:// is supported by this build (no TLS back-end)".into(),
        });
    }
    let wallet = EthereumWallet::from(signer.transaction_signer());
    let provider = ProviderBuilder::new().wallet(wallet).connect_http(url);
    let served = provider.get_chain_id().await.map_err(chain_err)?;
    if served != info.chain_id {
        return Err(DepositError::WrongChain { served, expected: info.chain_id });
    }
    let erc20 = IERC20Deposit::new(token, &provider);
    let held = erc20.balanceOf(signer.address()).call().await.map_err(chain_err)?;
    let wanted = U256::from(amount.0);
    if held < wanted {
        return Err(DepositError::NotEnoughTokens {
            address: signer.address(),
            held: TokenAmount(u128::try_from(held).unwrap_or(u128::MAX)).to_token_string(),
            amount: amount.to_token_string(),
        });
    }
    let input = IERC20Deposit::transferCall { to: treasury, amount: wanted }.abi_encode();
    let tx = TransactionRequest::default().with_to(token).with_input(input);
    let receipt = provider.send_transaction(tx).await.map_err(chain_err)?.get_receipt().await.map_err(chain_err)?;
    if !receipt.status() {
        return Err(DepositError::Reverted(receipt.transaction_hash));
    }
    tracing::info!(tx = %receipt.transaction_hash, amount = %amount.to_token_string(), "deposit sent");
    Ok(receipt.transaction_hash)
}

/// Waits until the coordinator has credited `tx` (or `timeout` passes).
pub async fn wait_credited(
    api: &ClientApi,
    info: &DepositInfo,
    tx: B256,
    timeout: Duration,
) -> Result<Vec<DepositRecord>, DepositError> {
    let started = Instant::now();
    loop {
        let seen = api.deposits_of(tx).await?;
        if !seen.is_empty() {
            return Ok(seen);
        }
        if started.elapsed() >= timeout {
            return Err(DepositError::NotCreditedYet {
                tx,
                waited_s: timeout.as_secs(),
                confirmations: info.confirmations,
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
