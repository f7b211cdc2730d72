//! Everything that can go wrong with the wallet, as one typed enum whose messages tell a
//! non-technical owner what to do. No variant carries a secret: a wrong word is named by
//! its position, never echoed; bad hex is described, never quoted; keyring errors are
//! summarised from their kind, never from their (possibly data-bearing) `Debug`.

use std::path::PathBuf;

use thiserror::Error;

/// Errors of the wallet.
#[derive(Debug, Error)]
pub enum WalletError {
    /// There is no usable OS keyring (on Linux: no Secret Service on the D-Bus session).
    #[error(
        "no OS keyring is available to keep your wallet's key safe ({detail}). On Linux, install and start \
         gnome-keyring (or KeePassXC with its Secret Service integration enabled); it needs a D-Bus session \
         (DBUS_SESSION_BUS_ADDRESS must be set, as it is in a normal desktop login)"
    )]
    KeyringUnavailable {
        /// What the keyring library said (no secret in it).
        detail: String,
    },

    /// The keyring exists but is locked and could not be unlocked (or unlocking was declined).
    #[error(
        "your keyring is locked and was not unlocked: unlock it (log in to your desktop session, or open your \
         keyring app such as Passwords and Keys or KeePassXC) and try again"
    )]
    KeyringLocked,

    /// The keyring refused access (the owner declined a prompt, or a policy forbids it).
    #[error("access to your keyring was denied ({detail}): allow Idlewatt to use it and try again")]
    AccessDenied {
        /// The platform's reason (no secret in it).
        detail: String,
    },

    /// Another keyring failure.
    #[error("the OS keyring failed: {detail}")]
    Keyring {
        /// What failed (no secret in it).
        detail: String,
    },

    /// The wallet's public file exists but its key is no longer in the keyring.
    #[error(
        "the key of wallet {address} is missing from your keyring (it was deleted or the keyring was reset): \
         restore it with `wallet import` and your recovery phrase"
    )]
    KeyMissing {
        /// The wallet's address.
        address: String,
    },

    /// No wallet has been created or imported on this computer.
    #[error("there is no wallet on this computer yet: create one (`wallet create`) or import yours (`wallet import`)")]
    NoWallet,

    /// A wallet already exists and replacing it was not asked for.
    #[error(
        "a wallet already exists on this computer ({address}); Idlewatt will not overwrite it unless you explicitly ask to replace it"
    )]
    AlreadyExists {
        /// The existing wallet's address.
        address: String,
    },

    /// A word of a recovery phrase is not in the BIP-39 English word list.
    #[error("word {position} of the recovery phrase is not a BIP-39 English word: check its spelling")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
    },

    /// A recovery phrase has a word count other than 12, 15, 18, 21 or 24.
    #[error("a recovery phrase has 12, 15, 18, 21 or 24 words, this one has {count}")]
    BadWordCount {
        /// Words found.
        count: usize,
    },

    /// All words are valid but the phrase's checksum does not match.
    #[error("the recovery phrase's checksum does not match: a word is wrong or two words are swapped")]
    BadChecksum,

    /// A private key is not 32 bytes of hex, or not a valid secp256k1 key.
    #[error("not a valid private key: {reason}")]
    BadHex {
        /// What is wrong (the input itself is never quoted).
        reason: &'static str,
    },

    /// The input to import is neither a recovery phrase nor a private key.
    #[error("expected a recovery phrase (12 or 24 words separated by spaces) or a private key (64 hex digits)")]
    Unrecognised,

    /// The wallet was imported from a raw private key, so it has no phrase.
    #[error(
        "this wallet was imported from a private key, so it has no recovery phrase: keep a copy of that key instead"
    )]
    NoPhrase,

    /// A backup check named a position outside the phrase, twice, or too few positions.
    #[error("{reason}")]
    BadBackupCheck {
        /// What is wrong with the question asked.
        reason: String,
    },

    /// A backup check answer is wrong.
    #[error("word {position} does not match your recovery phrase: check what you wrote down")]
    BackupMismatch {
        /// 1-based position of the first wrong answer.
        position: usize,
    },

    /// The public wallet file could not be read or written.
    #[error("cannot {action} the wallet file {path}: {source}")]
    Metadata {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// The public wallet file is not what Idlewatt wrote.
    #[error(
        "the wallet file {path} is damaged ({reason}); your key is still in the keyring: re-import it to rebuild the file"
    )]
    MetadataCorrupt {
        /// The file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },

    /// The secret in the keyring is not one Idlewatt wrote.
    #[error("the secret stored in your keyring for {address} is damaged; re-import your recovery phrase")]
    StoredSecretCorrupt {
        /// The wallet's address.
        address: String,
    },

    /// The keyring holds a key for another address than the wallet file says.
    #[error("the keyring's key belongs to {found}, not to this wallet ({expected}); re-import your recovery phrase")]
    AddressMismatch {
        /// Address in the wallet file.
        expected: String,
        /// Address of the stored key.
        found: String,
    },

    /// Signing failed (should not happen with a valid key).
    #[error("signing failed: {0}")]
    Signing(String),
}

impl WalletError {
    /// True when the OS keyring cannot be used at all right now (unavailable, locked or
    /// access denied): the CLI exits with its own code for these.
    pub fn is_keyring_unavailable(&self) -> bool {
        matches!(self, Self::KeyringUnavailable { .. } | Self::KeyringLocked | Self::AccessDenied { .. })
    }
}
