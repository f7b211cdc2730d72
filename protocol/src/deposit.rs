//! Deposits (DESIGN §5): how a client funds its account on a chain-backed network. The
//! client sends the ERC-20 to the treasury from its own wallet; the coordinator follows
//! the token's `Transfer` logs to the treasury and, once the transfer has the network's
//! confirmations, credits the sender's client balance exactly once (one credit per
//! log, named by its transaction hash and log index). `GET /v1/deposit` says where to
//! send ([`crate::client::DepositInfo`]); `GET /v1/deposits/{tx_hash}` and
//! `GET /v1/accounts/{address}/deposits` say what was seen ([`DepositRecord`]).

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::amount::TokenAmount;

/// Whether a seen transfer was credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    /// Credited to the sender's client balance.
    Credited,
    /// Not attributable to a client (a mint, the treasury itself, zero): not credited.
    Ignored,
}

/// One `Transfer` log to the treasury, as the coordinator recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRecord {
    /// The transaction.
    pub tx_hash: B256,
    /// The log's index in its block.
    pub log_index: u64,
    /// The block it is in.
    pub block: u64,
    /// The sender: the client credited.
    pub from: Address,
    /// Base units.
    pub amount: TokenAmount,
    /// Credited or ignored.
    pub status: DepositStatus,
    /// Why it was ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the coordinator recorded it, Unix ms.
    pub created_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_as_json() {
        let r = DepositRecord {
            tx_hash: B256::repeat_byte(1),
            log_index: 3,
            block: 9,
            from: Address::repeat_byte(2),
            amount: TokenAmount::tokens(5),
            status: DepositStatus::Ignored,
            reason: Some("a mint".into()),
            created_at_ms: 1,
        };
        let json = serde_json::to_string(&r).expect("json");
        assert!(json.contains("\"status\":\"ignored\""), "{json}");
        assert_eq!(serde_json::from_str::<DepositRecord>(&json).expect("parse"), r);
    }
}
