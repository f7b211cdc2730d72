//! The secrets a wallet is made of: a BIP-39 recovery phrase (what the owner writes down)
//! or, for keys brought from elsewhere, a raw private key; and the one standard way from
//! either to an Ethereum account (`m/44'/60'/0'/0/0`, the address MetaMask shows).
//! Parsing is done by `bip39`, derivation by alloy's mnemonic signer: no hand-written
//! crypto. Every secret lives in a `Zeroizing` buffer and prints as `<redacted>`.

use std::fmt;

use alloy::primitives::Address;
use alloy::signers::local::coins_bip39::English;
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner};
use zeroize::Zeroizing;

use super::WalletError;

/// How many words a new recovery phrase has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WordCount {
    /// 12 words (128 bits of entropy), the default; what MetaMask uses.
    #[default]
    Twelve,
    /// 24 words (256 bits of entropy).
    TwentyFour,
}

impl WordCount {
    /// The number of words.
    pub fn words(self) -> usize {
        match self {
            Self::Twelve => 12,
            Self::TwentyFour => 24,
        }
    }

    fn bip39(self) -> bip39::WordCount {
        match self {
            Self::Twelve => bip39::WordCount::Words12,
            Self::TwentyFour => bip39::WordCount::Words24,
        }
    }
}

/// A valid BIP-39 English recovery phrase, normalised (lower case, single spaces).
/// Zeroized on drop; `Debug` shows only the word count.
pub struct Phrase(Zeroizing<String>);

impl Phrase {
    /// A new random phrase from the OS's secure random source.
    pub fn generate(count: WordCount) -> Result<Self, WalletError> {
        let mnemonic = bip39::Mnemonic::generate(count.bip39()).map_err(map_bip39)?;
        let mut text = Zeroizing::new(String::with_capacity(24 * 9));
        for (i, word) in mnemonic.words().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(word);
        }
        Ok(Self(text))
    }

    /// Checks a phrase typed by the owner: every word in the English list (a wrong one is
    /// reported by its 1-based position, never echoed), a valid length and checksum.
    /// Case and extra whitespace do not matter.
    pub fn parse(input: &str) -> Result<Self, WalletError> {
        // Reserve enough up front that the buffer never reallocates (a reallocation would
        // leave an unzeroized copy behind).
        let mut text = Zeroizing::new(String::with_capacity(input.len() * 4 + 1));
        for (i, word) in input.split_whitespace().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            for c in word.chars() {
                text.extend(c.to_lowercase());
            }
        }
        // Dropped (and zeroized) at once: only validation is wanted from it.
        bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &text).map_err(map_bip39)?;
        Ok(Self(text))
    }

    /// The phrase itself, to show the owner once. Do not log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Number of words.
    pub fn word_count(&self) -> usize {
        self.0.split(' ').count()
    }

    /// The word at a 1-based position.
    pub fn word(&self, position: usize) -> Option<&str> {
        position.checked_sub(1).and_then(|i| self.0.split(' ').nth(i))
    }

    /// The account at `m/44'/60'/0'/0/0`.
    pub(crate) fn signer(&self) -> Result<PrivateKeySigner, WalletError> {
        // The builder copies the phrase and zeroizes its copy on drop.
        MnemonicBuilder::<English>::default()
            .phrase(self.0.as_str())
            .build()
            .map_err(|e| WalletError::Signing(format!("cannot derive the account from the phrase: {e}")))
    }
}

impl fmt::Debug for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phrase(<{} words redacted>)", self.word_count())
    }
}

fn map_bip39(err: bip39::Error) -> WalletError {
    match err {
        bip39::Error::UnknownWord(index) => WalletError::UnknownWord { position: index + 1 },
        bip39::Error::BadWordCount(count) => WalletError::BadWordCount { count },
        bip39::Error::InvalidChecksum => WalletError::BadChecksum,
        // Entropy sizes and language ambiguity cannot happen for English phrases of a
        // valid length; say so without echoing anything.
        _ => WalletError::Signing("the recovery phrase could not be processed".into()),
    }
}

/// A raw secp256k1 private key, kept as `0x` + 64 lower-case hex digits. Zeroized on drop;
/// `Debug` is redacted.
pub struct PrivateKey(Zeroizing<String>);

impl PrivateKey {
    /// Parses 64 hex digits, with or without `0x`, any case. Errors describe the problem
    /// without quoting the input.
    pub fn parse(input: &str) -> Result<Self, WalletError> {
        let t = input.trim();
        let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WalletError::BadHex { reason: "it contains a character that is not a hex digit (0-9, a-f)" });
        }
        if hex.len() != 64 {
            return Err(WalletError::BadHex {
                reason: "a private key is exactly 64 hex digits (32 bytes), optionally after 0x",
            });
        }
        let mut text = Zeroizing::new(String::with_capacity(66));
        text.push_str("0x");
        for b in hex.bytes() {
            text.push(char::from(b.to_ascii_lowercase()));
        }
        let key = Self(text);
        key.signer()?;
        Ok(key)
    }

    /// The key as `0x…` hex. Do not log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn signer(&self) -> Result<PrivateKeySigner, WalletError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        let hex = self.0.get(2..).unwrap_or_default();
        alloy::hex::decode_to_slice(hex, &mut bytes[..])
            .map_err(|_| WalletError::BadHex { reason: "it is not valid hex" })?;
        PrivateKeySigner::from_slice(&bytes[..]).map_err(|_| WalletError::BadHex {
            reason: "it is not a valid secp256k1 key (zero, or larger than the curve order)",
        })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// What a wallet is made from: what the owner imports, and what the keyring holds.
#[derive(Debug)]
pub enum Secret {
    /// A BIP-39 recovery phrase.
    Phrase(Phrase),
    /// A raw private key (no phrase to back up).
    PrivateKey(PrivateKey),
}

impl Secret {
    /// Tells a phrase from a key: several words are a phrase; one token of hex digits
    /// (with or without `0x`) is a key; anything else is [`WalletError::Unrecognised`].
    pub fn parse(input: &str) -> Result<Self, WalletError> {
        let t = input.trim();
        if t.split_whitespace().nth(1).is_some() {
            return Phrase::parse(t).map(Self::Phrase);
        }
        // One long token (or one starting with 0x) can only be meant as a key: report
        // what is wrong with it rather than "unrecognised".
        let looks_hex = t.starts_with("0x") || t.starts_with("0X") || t.len() >= 32;
        if looks_hex {
            return PrivateKey::parse(t).map(Self::PrivateKey);
        }
        Err(WalletError::Unrecognised)
    }

    /// The secret as stored in the keyring.
    pub(crate) fn expose(&self) -> &str {
        match self {
            Self::Phrase(p) => p.expose(),
            Self::PrivateKey(k) => k.expose(),
        }
    }

    /// The account this secret controls.
    pub(crate) fn signer(&self) -> Result<PrivateKeySigner, WalletError> {
        match self {
            Self::Phrase(p) => p.signer(),
            Self::PrivateKey(k) => k.signer(),
        }
    }

    /// The address, without keeping the key.
    pub fn address(&self) -> Result<Address, WalletError> {
        Ok(self.signer()?.address())
    }

    /// Words in the phrase (None for a raw key).
    pub fn word_count(&self) -> Option<usize> {
        match self {
            Self::Phrase(p) => Some(p.word_count()),
            Self::PrivateKey(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn the_bip39_test_vector_gives_metamasks_address() {
        let p = Phrase::parse(&VECTOR.to_uppercase().replace(' ', "  \n")).expect("valid");
        assert_eq!(p.expose(), VECTOR);
        let address = p.signer().expect("derive").address();
        assert_eq!(address.to_checksum(None), "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    }

    #[test]
    fn a_wrong_word_is_named_by_position_not_echoed() {
        let err = Phrase::parse(&VECTOR.replace("about", "aboutt")).expect_err("unknown");
        assert!(matches!(err, WalletError::UnknownWord { position: 12 }), "{err:?}");
        assert!(!err.to_string().contains("aboutt"));
        let err = Phrase::parse(&VECTOR.replace("about", "abandon")).expect_err("checksum");
        assert!(matches!(err, WalletError::BadChecksum), "{err:?}");
        let err = Phrase::parse("abandon about").expect_err("count");
        assert!(matches!(err, WalletError::BadWordCount { count: 2 }), "{err:?}");
    }

    #[test]
    fn generated_phrases_are_valid_and_redacted_in_debug() {
        for (count, n) in [(WordCount::Twelve, 12), (WordCount::TwentyFour, 24)] {
            let p = Phrase::generate(count).expect("generate");
            assert_eq!(p.word_count(), n);
            Phrase::parse(p.expose()).expect("round trip");
            let debug = format!("{p:?}");
            assert!(!debug.contains(p.word(1).expect("word")), "{debug}");
        }
    }

    #[test]
    fn private_keys_parse_with_or_without_0x() {
        let hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
        let a = Secret::parse(hex).expect("bare");
        let b = Secret::parse(&format!("0X{}", hex.to_uppercase())).expect("prefixed");
        assert_eq!(a.address().expect("a"), b.address().expect("b"));
        assert!(matches!(a, Secret::PrivateKey(_)));
        assert_eq!(format!("{a:?}"), "PrivateKey(PrivateKey(<redacted>))");
        for bad in ["0x1234", &format!("{}zz", &hex[..62]), &format!("0x{}", "0".repeat(64))] {
            let err = Secret::parse(bad).expect_err("bad hex");
            assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");
            assert!(!err.to_string().contains(&hex[..8]));
        }
        assert!(matches!(Secret::parse("hello"), Err(WalletError::Unrecognised)));
    }
}
