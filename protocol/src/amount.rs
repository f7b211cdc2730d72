//! Token amounts in base units (18 decimals, like an ERC-20), as exact integers. Money
//! is never a float: on the wire an amount is a decimal string of base units (JSON
//! numbers lose precision past 2⁵³), in Rust a `u128` (room for 3.4·10²⁰ tokens).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Decimals of the token: 1 token = 10¹⁸ base units.
pub const TOKEN_DECIMALS: u32 = 18;

/// Base units in one token.
pub const BASE_UNITS_PER_TOKEN: u128 = 10u128.pow(TOKEN_DECIMALS);

/// An amount of tokens in base units. Serialised as a decimal string, e.g. `"1500"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenAmount(pub u128);

/// A string that is not a non-negative integer of base units that fits in `u128`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an amount of base units (a non-negative decimal integer): {0:?}")]
pub struct ParseAmountError(pub String);

impl TokenAmount {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// `n` whole tokens.
    pub const fn tokens(n: u64) -> Self {
        Self(n as u128 * BASE_UNITS_PER_TOKEN)
    }

    /// Base units.
    pub const fn base_units(self) -> u128 {
        self.0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// The amount in tokens with all significant decimals, for people: `"0.0021"`.
    pub fn to_token_string(self) -> String {
        let whole = self.0 / BASE_UNITS_PER_TOKEN;
        let frac = self.0 % BASE_UNITS_PER_TOKEN;
        if frac == 0 {
            return whole.to_string();
        }
        let frac = format!("{frac:018}");
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }

    /// The reward for `flops` floating-point operations at `per_tflop` base units per
    /// 10¹² FLOPs, rounded down; `None` if the product overflows `u128`.
    pub fn for_flops(flops: u128, per_tflop: Self) -> Option<Self> {
        flops.checked_mul(per_tflop.0).map(|x| Self(x / 1_000_000_000_000))
    }
}

/// A string that is not an amount of tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an amount of tokens: {why}")]
pub struct ParseTokensError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl TokenAmount {
    /// Parses a decimal amount of whole tokens as people type it (`"1.5"`, `"0.001"`,
    /// `"20"`) into base units, exactly: at most 18 decimals, no sign, no exponent.
    pub fn from_token_str(s: &str) -> Result<Self, ParseTokensError> {
        let err = |why| ParseTokensError { input: s.to_owned(), why };
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(err("expected digits like 1.5"));
        }
        if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err("only digits and one decimal point are allowed, like 1.5"));
        }
        if frac.len() > TOKEN_DECIMALS as usize {
            return Err(err("more than 18 decimals (the token's smallest unit is 0.000000000000000001)"));
        }
        let w: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err("too large"))? };
        let f: u128 = if frac.is_empty() {
            0
        } else {
            let padded = format!("{frac:0<18}");
            padded.parse().map_err(|_| err("bad decimals"))?
        };
        w.checked_mul(BASE_UNITS_PER_TOKEN).and_then(|x| x.checked_add(f)).map(Self).ok_or_else(|| err("too large"))
    }
}

impl fmt::Display for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TokenAmount {
    type Err = ParseAmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 39 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseAmountError(s.to_owned()));
        }
        s.parse::<u128>().map(Self).map_err(|_| ParseAmountError(s.to_owned()))
    }
}

impl Serialize for TokenAmount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_as_decimal_strings() {
        let a = TokenAmount(123_000_000_000_000_000_001);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"123000000000000000001\"");
        assert_eq!(serde_json::from_str::<TokenAmount>(&json).unwrap(), a);
        for bad in ["\"-1\"", "\"1.5\"", "\"\"", "\"1e3\"", "12", "\"999999999999999999999999999999999999999999\""] {
            assert!(serde_json::from_str::<TokenAmount>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_strings_parse_exactly() {
        assert_eq!(TokenAmount::from_token_str("1.5").unwrap(), TokenAmount(1_500_000_000_000_000_000));
        assert_eq!(TokenAmount::from_token_str(" 20 ").unwrap(), TokenAmount::tokens(20));
        assert_eq!(TokenAmount::from_token_str(".000000000000000001").unwrap(), TokenAmount(1));
        assert_eq!(TokenAmount::from_token_str("0.001").unwrap().to_token_string(), "0.001");
        for bad in ["", ".", "-1", "1e3", "1.2.3", "0.0000000000000000001", "abc", "1,5", &"9".repeat(40)] {
            assert!(TokenAmount::from_token_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_strings_and_rewards() {
        assert_eq!(TokenAmount::tokens(2).to_token_string(), "2");
        assert_eq!(TokenAmount(1_500_000_000_000_000_000).to_token_string(), "1.5");
        assert_eq!(TokenAmount(1).to_token_string(), "0.000000000000000001");
        // 2·256³ FLOPs at 1 token per TFLOP.
        let r = TokenAmount::for_flops(2 * 256u128.pow(3), TokenAmount::tokens(1)).unwrap();
        assert_eq!(r.0, 33_554_432 * 1_000_000);
        assert_eq!(TokenAmount::for_flops(u128::MAX, TokenAmount(2)), None);
    }
}
