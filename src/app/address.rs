//! Checks a withdrawal address before anything is signed: EIP-55 mixed-case checksums
//! must be right (a typo in one letter is caught); an address written in one case has no
//! checksum and is accepted as is. The answer carries the checksummed form to show.

use alloy::primitives::Address;

use super::dto::AddressCheck;

/// Checks `input` (surrounding spaces ignored).
pub fn validate_address(input: &str) -> AddressCheck {
    let s = input.trim();
    let bad = |message: &str| AddressCheck { ok: false, checksummed: None, message: Some(message.to_owned()) };
    let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) else {
        return bad("An address starts with 0x followed by 40 characters (0–9, a–f).");
    };
    if hex.len() != 40 {
        return bad(&format!("This address has {} characters after 0x; an address has exactly 40.", hex.len()));
    }
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad("An address contains only the characters 0–9 and a–f after 0x.");
    }
    let one_case = !hex.bytes().any(|b| b.is_ascii_uppercase()) || !hex.bytes().any(|b| b.is_ascii_lowercase());
    let parsed = if one_case {
        format!("0x{hex}").parse::<Address>().ok()
    } else {
        Address::parse_checksummed(format!("0x{hex}"), None).ok()
    };
    match parsed {
        Some(a) => AddressCheck { ok: true, checksummed: Some(a.to_checksum(None)), message: None },
        None if !one_case => bad(
            "The capital letters of this address do not match its checksum: a character was probably mistyped. Copy the address again.",
        ),
        None => bad("This is not a valid address."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"; // EIP-55's own example

    #[test]
    fn checksummed_and_one_case_addresses_pass() {
        for input in [GOOD, &GOOD.to_lowercase(), &format!("0x{}", GOOD[2..].to_uppercase()), &format!("  {GOOD} ")] {
            let c = validate_address(input);
            assert!(c.ok, "{input}: {c:?}");
            assert_eq!(c.checksummed.as_deref(), Some(GOOD));
        }
    }

    #[test]
    fn a_wrong_checksum_or_shape_is_refused_with_a_reason() {
        let typo = GOOD.replace("aAeb", "aaEb");
        let c = validate_address(&typo);
        assert!(!c.ok && c.message.as_deref().is_some_and(|m| m.contains("checksum")), "{c:?}");
        for input in ["", "hello", "0x1234", &GOOD.replace('5', "g"), &GOOD[2..]] {
            let c = validate_address(input);
            assert!(!c.ok && c.message.is_some() && c.checksummed.is_none(), "{input}: {c:?}");
        }
    }
}
