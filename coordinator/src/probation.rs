//! What a fresh identity may do (issue 11: identities must cost something to abuse).
//! An address is on probation until `Limits::probation_results` of its results have
//! verified: it gets small jobs (never a reused open job), one lease at a time, all
//! probation addresses together hold at most `Limits::probation_open_leases` leases,
//! and its earnings are held (not withdrawable). Registrations are limited per source
//! range and in total per hour, open leases per source range. Each refusal says why
//! and, where waiting helps, when to come back. The SQL of these counts lives here.

use alloy::primitives::Address;
use sqlx::Row;

use crate::error::ApiError;
use crate::limits::Limits;
use crate::store::{Db, addr};

const HOUR_MS: i64 = 3_600_000;

/// Verified results of `who`.
pub(crate) async fn verified_results(db: &Db, who: Address) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE node = $1 AND status = 'verified'")
        .bind(addr(who))
        .fetch_one(db)
        .await
}

/// `Some(results still needed)` while `who` is on probation.
pub(crate) async fn on_probation(db: &Db, limits: &Limits, who: Address) -> Result<Option<i64>, sqlx::Error> {
    if limits.probation_results == 0 {
        return Ok(None);
    }
    let done = verified_results(db, who).await?;
    let need = i64::from(limits.probation_results) - done;
    Ok((need > 0).then_some(need))
}

/// Refuses a registration of a new address beyond the per-range or total hourly limit.
/// Known addresses re-register (update their profile) freely.
pub(crate) async fn admit_registration(
    db: &Db,
    limits: &Limits,
    who: Address,
    range: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    let known: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM nodes WHERE address = $1").bind(addr(who)).fetch_optional(db).await?;
    if known.is_some() {
        return Ok(());
    }
    let since = now_ms - HOUR_MS;
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM nodes WHERE source_range = $1 AND registered_at_ms >= $2) AS in_range,
                (SELECT MIN(registered_at_ms) FROM nodes WHERE source_range = $1 AND registered_at_ms >= $2) AS oldest_in_range,
                (SELECT COUNT(*) FROM nodes WHERE registered_at_ms >= $2) AS total,
                (SELECT MIN(registered_at_ms) FROM nodes WHERE registered_at_ms >= $2) AS oldest",
    )
    .bind(range)
    .bind(since)
    .fetch_one(db)
    .await?;
    let wait = |oldest: Option<i64>| -> u64 {
        u64::try_from((oldest.unwrap_or(now_ms) + HOUR_MS - now_ms).div_euclid(1000) + 1).unwrap_or(1)
    };
    let in_range: i64 = row.try_get("in_range")?;
    if in_range >= i64::from(limits.registrations_per_range_per_hour) {
        tracing::warn!(%range, in_range, "registration refused: range limit");
        return Err(ApiError::rate_limited(
            format!(
                "{in_range} new addresses registered from your network ({range}) in the last hour (at most {})",
                limits.registrations_per_range_per_hour
            ),
            wait(row.try_get("oldest_in_range")?),
        ));
    }
    let total: i64 = row.try_get("total")?;
    if total >= i64::from(limits.registrations_per_hour) {
        tracing::warn!(total, "registration refused: network-wide limit");
        return Err(ApiError::rate_limited(
            format!(
                "the network registered {total} new addresses in the last hour (at most {})",
                limits.registrations_per_hour
            ),
            wait(row.try_get("oldest")?),
        ));
    }
    Ok(())
}

/// Refuses a lease beyond the per-range limit or, for an address on probation, beyond
/// one lease at a time or the probation share. `open` is what `who` holds now.
pub(crate) async fn admit_lease(
    db: &Db,
    limits: &Limits,
    range: &str,
    probation: Option<i64>,
    open: i64,
) -> Result<(), ApiError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM leases WHERE source_range = $1 AND status = 'open') AS in_range,
                (SELECT COUNT(*) FROM leases WHERE probation = 1 AND status = 'open') AS on_probation",
    )
    .bind(range)
    .fetch_one(db)
    .await?;
    let in_range: i64 = row.try_get("in_range")?;
    if in_range >= i64::from(limits.open_leases_per_range) {
        return Err(ApiError::rate_limited(
            format!(
                "nodes of your network ({range}) hold {in_range} leases (at most {})",
                limits.open_leases_per_range
            ),
            30,
        ));
    }
    if let Some(need) = probation {
        if open >= 1 {
            return Err(ApiError::rate_limited(
                format!("new nodes hold one lease at a time until {need} more results verify"),
                5,
            ));
        }
        let held: i64 = row.try_get("on_probation")?;
        if held >= i64::from(limits.probation_open_leases) {
            return Err(ApiError::rate_limited(
                format!(
                    "new nodes hold {held} leases, all the network lends to nodes on probation (at most {}); try again later",
                    limits.probation_open_leases
                ),
                30,
            ));
        }
    }
    Ok(())
}
