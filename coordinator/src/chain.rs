//! The chain, as payouts and deposits need it: an ERC-20 `transfer` from the treasury,
//! signed here (so the raw bytes and hash can be recorded before anything is sent),
//! broadcast, and looked up by receipt and account nonce; and the token's `Transfer`
//! logs to the treasury over a block range (deposits). Works on any EVM chain with an ERC-20 (or
//! Theta's TNT-20, the same standard). Errors are split into the chain being
//! unreachable (retry later) and the chain refusing (a reason to show).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use alloy::transports::{RpcError, TransportErrorKind};
use zeroize::Zeroizing;

alloy::sol! {
    /// The part of ERC-20 (EIP-20) payouts use.
    #[sol(rpc)]
    interface IERC20 {
        event Transfer(address indexed from, address indexed to, uint256 value);
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
    }
}

/// Every RPC call gives up after this (a hung node is an unreachable one).
pub const RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// The treasury's private key. Read from a file or an environment variable given to
/// the coordinator, never from the repository; kept only in memory (zeroized on drop);
/// `Debug` shows the address only, so it cannot end up in a log.
#[derive(Clone)]
pub struct TreasuryKey(PrivateKeySigner);

/// A treasury key that cannot be read or parsed. The message never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum TreasuryKeyError {
    /// The file could not be read.
    #[error("cannot read the treasury key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a 32-byte hex private key.
    #[error("the treasury key ({origin}) is not a 32-byte hex private key")]
    Invalid {
        /// Where it came from (a path or a variable name), never the key.
        origin: String,
    },
}

impl TreasuryKey {
    /// Parses a hex private key (`0x` optional, surrounding whitespace ignored).
    pub fn from_hex(hex: &str, origin: &str) -> Result<Self, TreasuryKeyError> {
        hex.trim()
            .parse::<PrivateKeySigner>()
            .map(Self)
            .map_err(|_| TreasuryKeyError::Invalid { origin: origin.to_owned() })
    }

    /// Reads a hex private key from a file (e.g. one written with mode 0600).
    pub fn from_file(path: &Path) -> Result<Self, TreasuryKeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|source| TreasuryKeyError::Read { path: path.display().to_string(), source })?,
        );
        Self::from_hex(&text, &path.display().to_string())
    }

    /// The treasury's address.
    pub fn address(&self) -> Address {
        self.0.address()
    }
}

impl fmt::Debug for TreasuryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreasuryKey").field("address", &self.address()).finish_non_exhaustive()
    }
}

/// Why a chain call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    /// No answer (connection refused, timeout, a garbled answer): try again later.
    #[error("chain unreachable: {0}")]
    Unreachable(String),
    /// The node answered with an error (e.g. a transfer that would revert).
    #[error("chain refused: {0}")]
    Refused(String),
}

impl From<RpcError<TransportErrorKind>> for ChainError {
    fn from(e: RpcError<TransportErrorKind>) -> Self {
        match e {
            RpcError::ErrorResp(payload) => Self::Refused(payload.message.to_string()),
            other => Self::Unreachable(other.to_string()),
        }
    }
}

/// A payout transaction, signed and not necessarily sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransfer {
    /// EIP-2718 bytes, what `eth_sendRawTransaction` takes.
    pub raw: Bytes,
    /// Its hash.
    pub hash: B256,
}

/// What a receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inclusion {
    /// The block it is in.
    pub block: u64,
    /// The transfer succeeded (false: it reverted).
    pub success: bool,
}

/// A `Transfer` of the token to the treasury, from a log in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingTransfer {
    /// The transaction that made it.
    pub tx_hash: B256,
    /// The log's index in its block.
    pub log_index: u64,
    /// The block.
    pub block: u64,
    /// Who sent the tokens (the zero address for a mint).
    pub from: Address,
    /// Base units.
    pub value: U256,
}

/// One chain, one token, one treasury.
#[derive(Debug, Clone)]
pub struct Chain {
    provider: RootProvider,
    token: Address,
    treasury: TreasuryKey,
}

impl Chain {
    /// A client of the JSON-RPC endpoint `rpc_url` (no request is made yet).
    pub fn new(rpc_url: &str, token: Address, treasury: TreasuryKey) -> Result<Self, String> {
        let url: alloy::transports::http::reqwest::Url =
            rpc_url.parse().map_err(|e| format!("bad chain RPC URL {rpc_url:?}: {e}"))?;
        // Like the node's client, the workspace builds reqwest without a TLS back-end.
        if url.scheme() != "http" {
            return Err(format!(
                "chain RPC URL {rpc_url:?}: only http:// is supported by this build (no TLS back-end); \
                 use a node on a trusted network or a local TLS-terminating proxy"
            ));
        }
        let http = alloy::transports::http::reqwest::Client::builder()
            .timeout(RPC_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up the chain's HTTP client: {e}"))?;
        let transport = alloy::transports::http::Http::with_client(http, url);
        let client = alloy::rpc::client::RpcClient::new(transport, true);
        Ok(Self { provider: RootProvider::new(client), token, treasury })
    }

    /// The treasury's address.
    pub fn treasury(&self) -> Address {
        self.treasury.address()
    }

    /// The chain id the endpoint serves.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        Ok(self.provider.get_chain_id().await?)
    }

    /// The token balance of `who`, base units.
    pub async fn token_balance(&self, who: Address) -> Result<U256, ChainError> {
        IERC20::new(self.token, &self.provider).balanceOf(who).call().await.map_err(contract_error)
    }

    /// Transactions the treasury has in blocks (its next nonce, mined).
    pub async fn mined_nonce(&self) -> Result<u64, ChainError> {
        Ok(self.provider.get_transaction_count(self.treasury()).latest().await?)
    }

    /// The treasury's next nonce counting the mempool.
    pub async fn pending_nonce(&self) -> Result<u64, ChainError> {
        Ok(self.provider.get_transaction_count(self.treasury()).pending().await?)
    }

    /// Signs `transfer(to, amount)` from the treasury with `nonce`, with the chain's
    /// current fees and an estimated gas limit (an estimate that reverts is refused).
    pub async fn sign_transfer(
        &self,
        chain_id: u64,
        to: Address,
        amount: U256,
        nonce: u64,
    ) -> Result<SignedTransfer, ChainError> {
        let input = IERC20::transferCall { to, amount }.abi_encode();
        let request = TransactionRequest::default()
            .with_from(self.treasury())
            .with_to(self.token)
            .with_input(input)
            .with_nonce(nonce)
            .with_chain_id(chain_id);
        let gas = self.provider.estimate_gas(request.clone()).await?;
        let fees = self.provider.estimate_eip1559_fees().await?;
        // 20 % headroom: the estimate is exact for this state, not for the next block.
        let request = request
            .with_gas_limit(gas.saturating_mul(6) / 5)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let wallet = EthereumWallet::from(self.treasury.0.clone());
        let envelope: TxEnvelope =
            request.build(&wallet).await.map_err(|e| ChainError::Refused(format!("cannot sign: {e}")))?;
        Ok(SignedTransfer { hash: *envelope.tx_hash(), raw: envelope.encoded_2718().into() })
    }

    /// Sends signed bytes. Sending the same bytes again is harmless: a node that
    /// already has them (or mined them) answers "already known"/"nonce too low", which
    /// counts as sent.
    pub async fn broadcast(&self, raw: &[u8]) -> Result<(), ChainError> {
        match self.provider.send_raw_transaction(raw).await {
            Ok(_) => Ok(()),
            Err(e) => match ChainError::from(e) {
                ChainError::Refused(m) if is_already_sent(&m) => Ok(()),
                other => Err(other),
            },
        }
    }

    /// The receipt of `hash`, if it is in a block.
    pub async fn inclusion(&self, hash: B256) -> Result<Option<Inclusion>, ChainError> {
        let receipt = self.provider.get_transaction_receipt(hash).await?;
        Ok(receipt.and_then(|r| Some(Inclusion { block: r.block_number?, success: r.status() })))
    }

    /// The latest block number.
    pub async fn head(&self) -> Result<u64, ChainError> {
        Ok(self.provider.get_block_number().await?)
    }

    /// Every `Transfer` of the token to the treasury in blocks `from..=to`, in chain
    /// order. Logs the node marks removed (a reorganisation) or without a position (not
    /// yet in a block) are left out; a log that does not decode is an error.
    pub async fn transfers_to_treasury(&self, from: u64, to: u64) -> Result<Vec<IncomingTransfer>, ChainError> {
        let filter = Filter::new()
            .address(self.token)
            .event_signature(IERC20::Transfer::SIGNATURE_HASH)
            .topic2(self.treasury().into_word())
            .from_block(from)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await?;
        let mut out = Vec::with_capacity(logs.len());
        for log in logs {
            let (Some(tx_hash), Some(log_index), Some(block)) = (log.transaction_hash, log.log_index, log.block_number)
            else {
                continue;
            };
            if log.removed {
                continue;
            }
            let t = IERC20::Transfer::decode_log_data(log.data())
                .map_err(|e| ChainError::Refused(format!("a Transfer log of the token does not decode: {e}")))?;
            out.push(IncomingTransfer { tx_hash, log_index, block, from: t.from, value: t.value });
        }
        out.sort_by_key(|t| (t.block, t.log_index));
        Ok(out)
    }
}

fn contract_error(e: alloy::contract::Error) -> ChainError {
    match e {
        alloy::contract::Error::TransportError(t) => t.into(),
        other => ChainError::Refused(other.to_string()),
    }
}

/// Answers of the common nodes (geth, anvil, reth, Theta) to bytes they already have.
fn is_already_sent(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["already known", "known transaction", "nonce too low", "already imported", "transaction already exists"]
        .iter()
        .any(|s| m.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treasury_keys_never_show() {
        let hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let key = TreasuryKey::from_hex(hex, "test").unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex[2..]) && shown.contains("TreasuryKey"));
        let err = TreasuryKey::from_hex("0x1234", "IDLEWATT_TREASURY_KEY").unwrap_err().to_string();
        assert!(err.contains("IDLEWATT_TREASURY_KEY") && !err.contains("1234"));
        assert!(is_already_sent("Nonce too low") && !is_already_sent("insufficient funds"));
    }

    #[test]
    fn rpc_urls_are_checked_up_front() {
        let key =
            TreasuryKey::from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "t").unwrap();
        assert!(Chain::new("http://127.0.0.1:8545", Address::ZERO, key.clone()).is_ok());
        let https = Chain::new("https://rpc.example", Address::ZERO, key.clone()).unwrap_err();
        assert!(https.contains("only http://"), "{https}");
        assert!(Chain::new("not a url", Address::ZERO, key).unwrap_err().contains("bad chain RPC URL"));
    }
}
