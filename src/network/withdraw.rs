//! Withdrawing earnings (DESIGN §5) from the node's side: what the app's `withdraw`
//! command and `idlewatt-node withdraw` call. Checks what the owner typed (EIP-55
//! address, a decimal amount of tokens, the network's minimum) before anything is
//! signed, signs the EIP-712 [`Withdrawal`] with the wallet for the chain the
//! coordinator pays on, and submits it. The nonce is chosen once per withdrawal, so
//! the client's retries (and a second click) are paid once, and it is journalled in
//! the data folder before it is sent ([`super::withdraw_journal`]), so a run that died
//! before the answer is re-sent as the same withdrawal, never a second one.

use alloy::primitives::{Address, Signature, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::amount::ParseTokensError;
use idlewatt_protocol::wire::NetworkStatus;
use idlewatt_protocol::withdrawal::{
    AddressError, Withdrawal, WithdrawalInfo, WithdrawalRequest, parse_payout_address, withdrawal_domain,
};
use thiserror::Error;

use super::client::{ClientError, CoordinatorClient};
use super::signer::{RequestSigner, SignerError};
use super::withdraw_journal::{JournalEntry, JournalError, WithdrawalJournal};

/// Signs withdrawals (EIP-712) as well as requests: the wallet, or a test key.
pub trait WithdrawalSigner: RequestSigner {
    /// EIP-712 signature of `withdrawal` under the withdrawal domain of its chain.
    fn sign_withdrawal(&self, withdrawal: &Withdrawal) -> Result<Signature, SignerError>;
}

impl WithdrawalSigner for PrivateKeySigner {
    fn sign_withdrawal(&self, w: &Withdrawal) -> Result<Signature, SignerError> {
        self.sign_typed_data_sync(w, &withdrawal_domain(w.chainId)).map_err(|e| SignerError(Box::new(e)))
    }
}

impl WithdrawalSigner for crate::wallet::WalletSigner {
    fn sign_withdrawal(&self, w: &Withdrawal) -> Result<Signature, SignerError> {
        crate::wallet::WalletSigner::sign_withdrawal(self, w).map_err(|e| SignerError(Box::new(e)))
    }
}

/// Why a withdrawal was not made. Everything but [`WithdrawError::Client`] is found
/// before anything is sent.
#[derive(Debug, Error)]
pub enum WithdrawError {
    /// The destination address is wrong (malformed, bad checksum, zero).
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The amount is not a decimal amount of tokens.
    #[error(transparent)]
    Amount(#[from] ParseTokensError),
    /// Below the network's minimum (zero included).
    #[error("the smallest withdrawal is {min} {symbol}")]
    BelowMinimum {
        /// The minimum, in tokens.
        min: String,
        /// The token's symbol.
        symbol: String,
    },
    /// The client signs requests as another address than the withdrawal's signer.
    #[error("the client signs as {client:?} but the withdrawal would be signed by {signer}")]
    SignerMismatch {
        /// The client's address.
        client: Option<Address>,
        /// The withdrawal signer's address.
        signer: Address,
    },
    /// The wallet could not sign.
    #[error(transparent)]
    Sign(#[from] SignerError),
    /// The withdrawal journal could not be read or written: nothing was sent.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The coordinator refused (e.g. `InsufficientBalance`, `TreasuryLow`) or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A checked withdrawal, ready to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalDraft {
    /// Where to pay.
    pub to: Address,
    /// How much.
    pub amount: TokenAmount,
}

/// Checks what the owner typed against the network's rules.
pub fn draft(to: &str, amount: &str, network: &NetworkStatus) -> Result<WithdrawalDraft, WithdrawError> {
    let to = parse_payout_address(to)?;
    let amount = TokenAmount::from_token_str(amount)?;
    if amount < network.min_withdrawal || amount == TokenAmount::ZERO {
        return Err(WithdrawError::BelowMinimum {
            min: network.min_withdrawal.to_token_string(),
            symbol: network.token_symbol.clone(),
        });
    }
    Ok(WithdrawalDraft { to, amount })
}

/// Signs a withdrawal request for `chain_id` with `nonce`.
pub fn sign(
    signer: &dyn WithdrawalSigner,
    draft: WithdrawalDraft,
    chain_id: u64,
    nonce: u64,
) -> Result<WithdrawalRequest, WithdrawError> {
    let typed = Withdrawal { to: draft.to, amount: U256::from(draft.amount.0), nonce, chainId: chain_id };
    let signature = signer.sign_withdrawal(&typed)?;
    Ok(WithdrawalRequest {
        to: draft.to.to_checksum(None),
        amount: draft.amount,
        nonce,
        chain_id,
        signature: alloy::hex::encode_prefixed(signature.as_bytes()),
    })
}

/// Withdraws `amount` tokens (a decimal string, e.g. "1.5") to `to` (0x…, EIP-55
/// checked): asks the coordinator which chain it pays on, signs, records the signed
/// request in `journal`, submits, and forgets it once the coordinator has decided.
/// A request left in the journal by an earlier run that died before the answer
/// (crash, kill, network down) is re-sent first, unchanged: when it is the same
/// withdrawal (address, amount, chain) it *is* the answer, so running `withdraw`
/// again after a crash never pays twice. `client` must sign requests as `signer`.
#[tracing::instrument(level = "info", skip_all, fields(to = %to, amount = %amount))]
pub async fn withdraw(
    client: &CoordinatorClient,
    signer: &dyn WithdrawalSigner,
    journal: &WithdrawalJournal,
    to: &str,
    amount: &str,
) -> Result<WithdrawalInfo, WithdrawError> {
    if client.address() != Some(signer.address()) {
        return Err(WithdrawError::SignerMismatch { client: client.address(), signer: signer.address() });
    }
    let network = client.network_status().await?;
    let draft = draft(to, amount, &network)?;
    let me = format!("{:#x}", signer.address());
    if let Some(pending) = journal.load()? {
        if pending.signer != me {
            tracing::warn!(signer = %pending.signer, "a pending withdrawal of another wallet is dropped");
            journal.clear()?;
        } else {
            let same = pending.request.chain_id == network.chain_id
                && pending.request.amount == draft.amount
                && parse_payout_address(&pending.request.to).ok() == Some(draft.to);
            let answer = settle(client, journal, &pending.request).await;
            if same {
                tracing::info!(nonce = pending.request.nonce, "re-sent the interrupted withdrawal");
                return answer;
            }
            match answer {
                Ok(info) => tracing::info!(id = %info.id, "an interrupted earlier withdrawal was completed first"),
                Err(WithdrawError::Client(e)) if e.is_transient() => return Err(WithdrawError::Client(e)),
                Err(e) => tracing::warn!(%e, "an interrupted earlier withdrawal was refused"),
            }
        }
    }
    let nonce = u64::try_from(idlewatt_protocol::auth::now_ms()).unwrap_or_default();
    let request = sign(signer, draft, network.chain_id, nonce)?;
    journal.save(&JournalEntry { signer: me, request: request.clone() })?;
    settle(client, journal, &request).await
}

/// Submits `request`; the journal entry is dropped once the coordinator decided
/// (accepted or refused it), and kept when the answer was lost or transient.
async fn settle(
    client: &CoordinatorClient,
    journal: &WithdrawalJournal,
    request: &WithdrawalRequest,
) -> Result<WithdrawalInfo, WithdrawError> {
    match client.submit_withdrawal(request).await {
        Err(e) if e.is_transient() => Err(e.into()),
        decided => {
            journal.clear()?;
            Ok(decided?)
        }
    }
}
