//! The only place a wallet secret is kept: the OS keyring through the `keyring` crate
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), one entry
//! per wallet under one service name with the address as the account. Keyring errors
//! are turned into [`WalletError`]s an owner can act on; their text comes from the
//! error's kind and the platform's reason, never from a `Debug` that may carry data.

use alloy::primitives::Address;
use keyring::Entry;
use zeroize::Zeroizing;

use super::WalletError;

/// The keyring service name of Idlewatt wallets.
pub const SERVICE: &str = "org.idlewatt.wallet";

/// Access to the wallet entries of one keyring service.
#[derive(Debug, Clone)]
pub(crate) struct KeyStore {
    service: String,
}

impl KeyStore {
    pub(crate) fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, address: &Address) -> Result<Entry, WalletError> {
        if let Err(e) = Entry::store_status() {
            return Err(WalletError::KeyringUnavailable { detail: describe(e) });
        }
        Entry::new(&self.service, &address.to_checksum(None)).map_err(map_err)
    }

    /// Stores (or replaces) the secret of `address`.
    pub(crate) fn put(&self, address: &Address, secret: &str) -> Result<(), WalletError> {
        self.entry(address)?.set_password(secret).map_err(map_err)
    }

    /// The secret of `address`, or `None` when there is no entry.
    pub(crate) fn get(&self, address: &Address) -> Result<Option<Zeroizing<String>>, WalletError> {
        match self.entry(address)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(keyring::Error::BadEncoding(mut bytes)) => {
                zeroize::Zeroize::zeroize(&mut bytes);
                Err(WalletError::StoredSecretCorrupt { address: address.to_checksum(None) })
            }
            Err(e) => Err(map_err(e)),
        }
    }

    /// Removes the entry of `address`; `Ok(false)` when there was none.
    pub(crate) fn delete(&self, address: &Address) -> Result<bool, WalletError> {
        match self.entry(address)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// A keyring error as a wallet error. The platform errors (D-Bus, Keychain, Win32) carry
/// reasons, not data; data-bearing variants are summarised.
fn map_err(err: keyring::Error) -> WalletError {
    match err {
        keyring::Error::NoDefaultStore => WalletError::KeyringUnavailable {
            detail: Entry::store_status().as_ref().err().map_or_else(|| "no credential store".into(), describe),
        },
        keyring::Error::NoStorageAccess(reason) => {
            let detail = reason.to_string();
            // The Secret Service only prompts to unlock a collection: a dismissed (or
            // impossible, with no prompter) prompt means the keyring stayed locked.
            let lower = detail.to_lowercase();
            if lower.contains("lock") || lower.contains("prompt") {
                WalletError::KeyringLocked
            } else {
                WalletError::AccessDenied { detail }
            }
        }
        keyring::Error::PlatformFailure(reason) => {
            let detail = reason.to_string();
            if no_service(&detail) {
                WalletError::KeyringUnavailable { detail }
            } else {
                WalletError::Keyring { detail }
            }
        }
        other => WalletError::Keyring { detail: describe(&other) },
    }
}

/// Text of a keyring error without any stored bytes.
fn describe(err: &keyring::Error) -> String {
    match err {
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => "a stored secret is malformed".into(),
        keyring::Error::Ambiguous(items) => format!("{} keyring entries match one wallet", items.len()),
        other => other.to_string(),
    }
}

/// The D-Bus session has no Secret Service (nothing owns `org.freedesktop.secrets` and
/// nothing can be activated), or there is no session bus at all.
fn no_service(detail: &str) -> bool {
    let d = detail.to_lowercase();
    [
        "serviceunknown",
        "org.freedesktop.secrets",
        "not provided by any .service",
        "no such file",
        "connection refused",
        "address",
    ]
    .iter()
    .any(|needle| d.contains(needle))
}
