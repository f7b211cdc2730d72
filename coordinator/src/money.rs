//! Ledger amounts as the database stores them: two BIGINT limbs, `gwei·10⁹ + wei`,
//! so that SQL `SUM` stays exact and portable (SQLite has no 128-bit integers and its
//! `TOTAL` is a float). See `migrations/0001_init.sql`.

use idlewatt_protocol::TokenAmount;

const LIMB: i128 = 1_000_000_000;

/// The largest single amount the ledger takes (10⁹ tokens, far below where a BIGINT
/// limb or a SUM of many could overflow): anything above is a bad request.
pub(crate) const MAX_AMOUNT: u128 = 1_000_000_000 * 1_000_000_000_000_000_000;

/// Splits a signed amount of base units into (gwei, wei) limbs of its sign.
pub(crate) fn split(amount: i128) -> Option<(i64, i64)> {
    Some((i64::try_from(amount / LIMB).ok()?, i64::try_from(amount % LIMB).ok()?))
}

/// Joins summed limbs back into base units.
pub(crate) fn join(gwei: i64, wei: i64) -> i128 {
    i128::from(gwei) * LIMB + i128::from(wei)
}

/// A non-negative sum as a [`TokenAmount`] (a negative one, which the ledger's rules
/// rule out, reads as zero).
pub(crate) fn to_amount(sum: i128) -> TokenAmount {
    TokenAmount(u128::try_from(sum).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limbs_round_trip_and_sum_exactly() {
        for x in [0i128, 1, 999_999_999, 1_000_000_000, 123_456_789_012_345_678_901, -5_000_000_001] {
            let (g, w) = split(x).unwrap();
            assert!(w.abs() < 1_000_000_000);
            assert_eq!(join(g, w), x);
        }
        let parts = [3_000_000_000_500_000_000i128, 7, -2_000_000_001];
        let (g, w) = parts.iter().map(|&x| split(x).unwrap()).fold((0, 0), |(a, b), (g, w)| (a + g, b + w));
        assert_eq!(join(g, w), parts.iter().sum::<i128>());
        assert_eq!(split(i128::MAX), None);
        assert_eq!(to_amount(-1), TokenAmount::ZERO);
    }
}
