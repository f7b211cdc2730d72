//! The ledger's operations (DESIGN §5): every movement of tokens between two accounts
//! is a pair of rows that sum to zero, written inside the caller's transaction; tokens
//! enter only as `deposit` rows and leave only as `withdrawal` rows. Rows are never
//! updated or deleted, and each row's id names the event it records, so the same event
//! can never be booked twice. [`books`] checks the whole ledger: deposits −
//! withdrawals = client balances + escrow + node balances + fees, no account negative.
//! Account names are listed in `migrations/0003_clients.sql`.

use std::collections::HashMap;

use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::Books;
use sqlx::{Row, SqliteConnection};

use crate::money;

/// The operator's fee account.
pub(crate) const FEES: &str = "fees";
/// The operator's calibration budget.
pub(crate) const BOOTSTRAP: &str = "bootstrap";

/// A client's available balance account.
pub(crate) fn client_account(address: &str) -> String {
    format!("client:{address}")
}

/// The escrow account of (client or calibration) job `id`.
pub(crate) fn escrow_account(job_id: &str) -> String {
    format!("escrow:{job_id}")
}

fn limbs(amount: i128) -> Result<(i64, i64), sqlx::Error> {
    money::split(amount).ok_or_else(|| sqlx::Error::Protocol("amount out of range".into()))
}

fn signed(amount: TokenAmount) -> Result<i128, sqlx::Error> {
    i128::try_from(amount.0).map_err(|_| sqlx::Error::Protocol("amount out of range".into()))
}

async fn insert_row(
    conn: &mut SqliteConnection,
    id: &str,
    account: &str,
    kind: &str,
    amount: i128,
    lease_id: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let (g, w) = limbs(amount)?;
    sqlx::query(
        "INSERT INTO ledger (id, account, kind, amount_gwei, amount_wei, lease_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(account)
    .bind(kind)
    .bind(g)
    .bind(w)
    .bind(lease_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Tokens entering the books: one `deposit` row crediting `account`. `id` must be
/// unique to the event (a chain log, a faucet grant): a second insert fails.
pub(crate) async fn deposit(
    conn: &mut SqliteConnection,
    id: &str,
    account: &str,
    amount: TokenAmount,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    insert_row(conn, id, account, "deposit", signed(amount)?, None, now_ms).await
}

/// Moves `amount` from `from` to `to` as two rows, `<id>:out` and `<id>` (the credit
/// keeps the bare id, so `credit`-style lookups by id keep working). A zero amount
/// writes nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn transfer(
    conn: &mut SqliteConnection,
    id: &str,
    kind: &str,
    from: &str,
    to: &str,
    amount: TokenAmount,
    lease_id: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    if amount == TokenAmount::ZERO {
        return Ok(());
    }
    let x = signed(amount)?;
    insert_row(conn, &format!("{id}:out"), from, kind, -x, lease_id, now_ms).await?;
    insert_row(conn, id, to, kind, x, lease_id, now_ms).await
}

/// The balance of `account` (may be negative only if the books are broken).
pub(crate) async fn balance(conn: &mut SqliteConnection, account: &str) -> Result<i128, sqlx::Error> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM ledger WHERE account = $1",
    )
    .bind(account)
    .fetch_one(conn)
    .await?;
    Ok(money::join(r.try_get("g")?, r.try_get("w")?))
}

/// The sum of rows of `account` with one of `kinds` (e.g. all deposits of a client).
pub(crate) async fn sum_kinds(conn: &mut SqliteConnection, account: &str, kinds: &[&str]) -> Result<i128, sqlx::Error> {
    let mut total = 0i128;
    for kind in kinds {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
             FROM ledger WHERE account = $1 AND kind = $2",
        )
        .bind(account)
        .bind(kind)
        .fetch_one(&mut *conn)
        .await?;
        total += money::join(r.try_get("g")?, r.try_get("w")?);
    }
    Ok(total)
}

/// The consistency check of the whole ledger (`GET /v1/network`'s `books`).
pub(crate) async fn books(conn: &mut SqliteConnection) -> Result<Books, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT account, kind, CAST(SUM(amount_gwei) AS BIGINT) AS g, CAST(SUM(amount_wei) AS BIGINT) AS w
         FROM ledger GROUP BY account, kind",
    )
    .fetch_all(conn)
    .await?;
    let (mut deposits, mut withdrawals, mut clients, mut escrow, mut nodes, mut fees, mut other) =
        (0i128, 0i128, 0i128, 0i128, 0i128, 0i128, 0i128);
    let mut per_account: HashMap<String, i128> = HashMap::new();
    for r in &rows {
        let account: String = r.try_get("account")?;
        let kind: String = r.try_get("kind")?;
        let sum = money::join(r.try_get("g")?, r.try_get("w")?);
        match kind.as_str() {
            // Tokens in: deposits, and rewards minted before escrow existed.
            "deposit" | "credit" => deposits += sum,
            // Tokens out: withdrawals, and the refunds of failed ones.
            "withdrawal" | "refund" => withdrawals -= sum,
            _ => {}
        }
        if account.starts_with("client:") || account == BOOTSTRAP {
            clients += sum;
        } else if account.starts_with("escrow:") {
            escrow += sum;
        } else if account.starts_with("0x") {
            nodes += sum;
        } else if account == FEES {
            fees += sum;
        } else {
            other += sum;
        }
        *per_account.entry(account).or_default() += sum;
    }
    let none_negative = per_account.values().all(|&v| v >= 0);
    let balanced =
        other == 0 && none_negative && withdrawals >= 0 && deposits - withdrawals == clients + escrow + nodes + fees;
    if !balanced {
        tracing::error!(
            deposits,
            withdrawals,
            clients,
            escrow,
            nodes,
            fees,
            other,
            none_negative,
            "THE BOOKS DO NOT BALANCE"
        );
    }
    let amount = money::to_amount;
    Ok(Books {
        deposits: amount(deposits),
        withdrawals: amount(withdrawals),
        client_balances: amount(clients),
        escrow: amount(escrow),
        node_balances: amount(nodes),
        fees: amount(fees),
        balanced,
    })
}

/// Tops the calibration budget up to `total` deposited (so restarting with the same
/// `--bootstrap-budget` adds nothing, and raising it adds the difference).
pub(crate) async fn top_up_bootstrap(
    conn: &mut SqliteConnection,
    total: TokenAmount,
    now_ms: i64,
) -> Result<TokenAmount, sqlx::Error> {
    let already = sum_kinds(conn, BOOTSTRAP, &["deposit"]).await?;
    let want = signed(total)?;
    if want <= already {
        return Ok(TokenAmount::ZERO);
    }
    let add = money::to_amount(want - already);
    deposit(conn, &format!("bootstrap:{now_ms}:{}", add.0), BOOTSTRAP, add, now_ms).await?;
    Ok(add)
}
