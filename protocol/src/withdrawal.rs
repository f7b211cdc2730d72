//! Withdrawals (DESIGN §3, §5): the EIP-712 typed data an owner's wallet signs to move
//! earnings on chain, the request and status bodies of `POST /v1/withdrawals`, and the
//! address rules (EIP-55). Shared so the node that signs and the coordinator that
//! verifies hash exactly the same struct under exactly the same domain.

use alloy::primitives::{Address, B256, ChainId, Signature, U256};
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use crate::amount::TokenAmount;

alloy::sol! {
    /// A request to pay `amount` (token base units) of the owner's withdrawable balance
    /// to `to`, signed with EIP-712 under [`withdrawal_domain`]. The coordinator pays a
    /// given `(signer, nonce)` at most once.
    #[derive(Debug, PartialEq, Eq)]
    struct Withdrawal {
        address to;
        uint256 amount;
        uint64 nonce;
        uint64 chainId;
    }
}

/// EIP-712 domain name of Idlewatt's typed data.
pub const DOMAIN_NAME: &str = "Idlewatt";
/// EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";
/// The chain id a coordinator with no chain (the devnet: ledger only) signs under.
pub const DEVNET_CHAIN_ID: ChainId = 0;

/// The EIP-712 domain withdrawals are signed under, for one chain.
pub fn withdrawal_domain(chain_id: ChainId) -> Eip712Domain {
    eip712_domain! {
        name: DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chain_id: chain_id,
    }
}

/// The hash a withdrawal's signature signs (EIP-712 `\x19\x01 ‖ domain ‖ struct`).
pub fn withdrawal_signing_hash(withdrawal: &Withdrawal) -> B256 {
    withdrawal.eip712_signing_hash(&withdrawal_domain(withdrawal.chainId))
}

/// Who signed a withdrawal (`None`: not a valid signature at all).
pub fn recover_withdrawal_signer(withdrawal: &Withdrawal, signature: &Signature) -> Option<Address> {
    signature.recover_address_from_prehash(&withdrawal_signing_hash(withdrawal)).ok()
}

/// Why a string is not a payout address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` followed by 40 hex digits.
    #[error("{0:?} is not an address (0x followed by 40 hex digits)")]
    Malformed(String),
    /// Mixed case whose EIP-55 checksum does not match: most likely a typo.
    #[error("{given:?} has a wrong EIP-55 checksum (a typo?); the checksummed form of these digits is {expected}")]
    BadChecksum {
        /// What was given.
        given: String,
        /// The same digits, checksummed.
        expected: String,
    },
    /// The zero address burns whatever is sent to it.
    #[error("the zero address cannot receive a withdrawal (tokens sent there are lost)")]
    Zero,
}

/// Parses a payout address: mixed case must carry a valid EIP-55 checksum; all
/// lower-case (or all upper-case) digits carry none and are accepted as they are.
pub fn parse_payout_address(s: &str) -> Result<Address, AddressError> {
    let s = s.trim();
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or_else(|| AddressError::Malformed(s.into()))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Malformed(s.into()));
    }
    let address: Address = format!("0x{hex}").parse().map_err(|_| AddressError::Malformed(s.into()))?;
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper && address.to_checksum(None) != format!("0x{hex}") {
        return Err(AddressError::BadChecksum { given: s.into(), expected: address.to_checksum(None) });
    }
    if address.is_zero() {
        return Err(AddressError::Zero);
    }
    Ok(address)
}

/// `POST /v1/withdrawals` body. The request is signed (EIP-191 headers) by the
/// account's address, and `signature` is that same address's EIP-712 signature of
/// [`Withdrawal`] `{to, amount, nonce, chainId: chain_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRequest {
    /// Where to pay, as typed by the owner (checked with [`parse_payout_address`]).
    pub to: String,
    /// How much, base units.
    pub amount: TokenAmount,
    /// Chosen by the owner's app, unique per withdrawal: the same nonce is paid once.
    pub nonce: u64,
    /// The chain of `GET /v1/network` ([`DEVNET_CHAIN_ID`] on a devnet).
    pub chain_id: u64,
    /// EIP-712 signature, `0x` + 130 hex digits (r ‖ s ‖ v).
    pub signature: String,
}

impl WithdrawalRequest {
    /// The typed data this request's `signature` must sign (an error: `to` is not a payout address).
    pub fn typed_data(&self) -> Result<Withdrawal, AddressError> {
        Ok(Withdrawal {
            to: parse_payout_address(&self.to)?,
            amount: U256::from(self.amount.0),
            nonce: self.nonce,
            chainId: self.chain_id,
        })
    }
}

/// Where a withdrawal stands. `queued → submitted → confirmed`, or `failed` (with a
/// reason; the amount is credited back to the balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Debited, waiting to be sent (e.g. the chain is unreachable: retried with backoff).
    Queued,
    /// Sent: `tx_hash` is on its way into a block.
    Submitted,
    /// In block `block` (final). On a devnet: settled in the ledger only.
    Confirmed,
    /// Not paid (final): `reason` says why; the amount is back in the balance.
    Failed,
}

impl WithdrawalStatus {
    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Confirmed | Self::Failed)
    }

    /// The lowercase name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Submitted => "submitted",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
        }
    }
}

/// A withdrawal as `POST /v1/withdrawals`, `GET /v1/withdrawals/{id}` and
/// `GET /v1/accounts/{address}/withdrawals` show it (the app's `Withdrawal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalInfo {
    /// The coordinator's id.
    pub id: String,
    /// Whose balance paid it (EIP-55 checksummed on the wire).
    #[serde(serialize_with = "checksummed")]
    pub account: Address,
    /// Where it goes (EIP-55 checksummed on the wire).
    #[serde(serialize_with = "checksummed")]
    pub to: Address,
    /// How much, base units.
    pub amount: TokenAmount,
    /// The owner's nonce.
    pub nonce: u64,
    /// Where it stands.
    pub status: WithdrawalStatus,
    /// The payout transaction (known from the moment it is signed, before it is sent).
    pub tx_hash: Option<B256>,
    /// The block it was included in.
    pub block: Option<u64>,
    /// Why it failed, or why a queued one is waiting (e.g. "chain unreachable ...").
    pub reason: Option<String>,
    /// Settled in the coordinator's ledger only, not on any chain (shown as
    /// `devnet (not on chain)`).
    pub devnet: bool,
    /// When it was requested, unix ms.
    pub created_at_ms: i64,
}

/// Addresses go out EIP-55 checksummed, the form people compare and copy.
fn checksummed<S: serde::Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_checksum(None))
}

/// What a node shows for a devnet withdrawal or balance, wherever it is shown.
pub const DEVNET_LABEL: &str = "devnet (not on chain)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_eip55() {
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(parse_payout_address(good).unwrap().to_checksum(None), good);
        assert!(parse_payout_address(&good.to_lowercase()).is_ok());
        assert!(parse_payout_address(&format!("0x{}", good[2..].to_uppercase())).is_ok());
        let typo = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert!(matches!(parse_payout_address(typo), Err(AddressError::BadChecksum { .. })));
        for bad in
            ["", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "0xzz"]
        {
            assert!(matches!(parse_payout_address(bad), Err(AddressError::Malformed(_))), "{bad}");
        }
        assert_eq!(parse_payout_address(&format!("0x{}", "0".repeat(40))), Err(AddressError::Zero));
    }

    #[test]
    fn status_shapes() {
        assert_eq!(serde_json::to_value(WithdrawalStatus::Submitted).unwrap(), serde_json::json!("submitted"));
        assert!(WithdrawalStatus::Failed.is_final() && !WithdrawalStatus::Queued.is_final());
    }
}
