//! The withdrawal handlers (DESIGN §3, §5): `POST /v1/withdrawals` checks everything
//! before writing anything — the request's signer, the EIP-712 signature by that same
//! address, the chain id, the address's checksum, the minimum, the treasury — then
//! debits and queues in one transaction (idempotent by the owner's nonce) and wakes
//! the payout worker. On a devnet (no chain) the withdrawal is settled in the ledger
//! at once and labelled so. `GET /v1/withdrawals/{id}` and
//! `GET /v1/accounts/{address}/withdrawals` show where they stand.

use alloy::primitives::{Address, Signature, U256};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::wire::ErrorKind;
use idlewatt_protocol::withdrawal::{DEVNET_CHAIN_ID, WithdrawalInfo, WithdrawalRequest, recover_withdrawal_signer};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::payout_store::{self as ps, Created, NewWithdrawal};
use crate::routes::{body, parse, random_id};
use crate::server::AppState;

/// Withdrawals listed per account.
const LIST_LIMIT: i64 = 100;

/// The chain id withdrawals must be signed for.
pub(crate) fn chain_id(st: &AppState) -> u64 {
    st.config.chain.as_ref().map_or(DEVNET_CHAIN_ID, |c| c.chain_id)
}

pub(crate) async fn create(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WithdrawalInfo>), ApiError> {
    let bytes = body(bytes)?;
    let who = authenticate(&st, &method, &uri, &headers, &bytes).await?;
    let req: WithdrawalRequest = parse(&bytes)?;
    let typed = req.typed_data().map_err(|e| ApiError::bad_request(e.to_string()))?;
    let expected_chain = chain_id(&st);
    if req.chain_id != expected_chain {
        return Err(ApiError::bad_request(format!(
            "the withdrawal is signed for chain id {}, but this network pays on chain id {expected_chain}",
            req.chain_id
        )));
    }
    let signature: Signature =
        req.signature.trim().parse().map_err(|_| ApiError::bad_request("signature is not a 65-byte hex signature"))?;
    if recover_withdrawal_signer(&typed, &signature) != Some(who) {
        return Err(ApiError::unauthorized(format!(
            "the withdrawal's EIP-712 signature is not by {who}, the account it would be paid from"
        )));
    }
    if crate::money::split(i128::try_from(req.amount.0).unwrap_or(i128::MAX)).is_none()
        || req.amount.0 > crate::money::MAX_AMOUNT
    {
        return Err(ApiError::bad_request(format!(
            "amount {} base units is more than the ledger can hold",
            req.amount.0
        )));
    }
    if let Some(need) = crate::probation::on_probation(&st.db, &st.config.limits, who).await? {
        return Err(ApiError::forbidden(format!(
            "earnings of a new node are held until {need} more of its results verify; nothing was debited"
        )));
    }
    if req.amount < st.config.min_withdrawal {
        return Err(ApiError::bad_request(format!(
            "the smallest withdrawal is {} tokens",
            st.config.min_withdrawal.to_token_string()
        )));
    }
    if req.nonce > i64::MAX as u64 {
        return Err(ApiError::bad_request("nonce must be below 2^63"));
    }
    let devnet = st.config.chain.is_none();
    if let Some(chain) = &st.chain {
        treasury_covers(&st, chain, req.amount.0).await?;
    }
    let new = NewWithdrawal {
        id: format!("w-{}", random_id()?),
        account: who,
        nonce: req.nonce,
        to: typed.to,
        amount: req.amount,
        chain_id: req.chain_id,
        signature: req.signature.trim().to_owned(),
        devnet,
    };
    let created = ps::create(&st.db, &new, now_ms()).await?;
    match created {
        Created::New(w) => {
            tracing::info!(id = %w.id, account = %who, to = %w.to, amount = %w.amount, devnet, "withdrawal accepted");
            if let Some(wake) = &st.payouts {
                wake.notify_one();
            }
            Ok((StatusCode::CREATED, Json(w.info())))
        }
        Created::Existing(w) => Ok((StatusCode::OK, Json(w.info()))),
        Created::NonceReused(w) => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorKind::Conflict,
            format!("nonce {} was already used for a different withdrawal ({})", req.nonce, w.id),
        )),
        Created::Insufficient(balance) => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorKind::InsufficientBalance,
            format!(
                "you asked for {} tokens but {} tokens are withdrawable; nothing was debited",
                req.amount.to_token_string(),
                balance.to_token_string()
            ),
        )),
    }
}

/// Refuses, before anything is written, a withdrawal the treasury cannot cover now.
/// An unreachable chain is no reason to refuse: the withdrawal queues and waits.
async fn treasury_covers(st: &AppState, chain: &crate::chain::Chain, amount: u128) -> Result<(), ApiError> {
    match chain.token_balance(chain.treasury()).await {
        Ok(held) => {
            let owed = U256::from(ps::outstanding(&st.db, true).await?.0) + U256::from(amount);
            if held < owed {
                tracing::error!(%held, %owed, "treasury low: refusing a withdrawal");
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorKind::TreasuryLow,
                    "the network's treasury cannot pay this withdrawal now; nothing was debited, try a smaller amount or later",
                ));
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot check the treasury; queueing the withdrawal");
            Ok(())
        }
    }
}

pub(crate) async fn get(State(st): State<AppState>, Path(id): Path<String>) -> Result<Json<WithdrawalInfo>, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found("no such withdrawal"));
    }
    let w = ps::get(&st.db, &id).await?.ok_or_else(|| ApiError::not_found("no such withdrawal"))?;
    Ok(Json(w.info()))
}

pub(crate) async fn list(
    State(st): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<Vec<WithdrawalInfo>>, ApiError> {
    let who: Address = address.parse().map_err(|e| ApiError::bad_request(format!("not an address: {e}")))?;
    let rows = ps::list(&st.db, who, LIST_LIMIT).await?;
    Ok(Json(rows.iter().map(ps::Stored::info).collect()))
}
