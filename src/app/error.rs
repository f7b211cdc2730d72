//! The one error the desktop app shows: a kind a program can act on, a sentence a
//! non-technical owner understands (with what to do next), and for a bad setting the key
//! to mark in the form. Every core error maps into it here, so the shell's commands stay
//! one line and no message is invented twice. No secret ever reaches a message: the core's
//! errors already redact them.

use serde::Serialize;

use crate::compute::ComputeError;
use crate::config::ConfigError;
use crate::network::ClientError;
use crate::wallet::WalletError;

/// What kind of problem it is (the UI picks an icon and a next step from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A setting is out of range (see `key`).
    InvalidSetting,
    /// Something the owner typed is not valid (an address, an amount, a phrase).
    InvalidInput,
    /// The OS keyring is missing, locked or refused access.
    Keyring,
    /// There is no wallet yet.
    NoWallet,
    /// Another wallet problem (wrong backup words, a missing key).
    Wallet,
    /// The network (coordinator) cannot be reached or refused.
    Network,
    /// No usable GPU.
    NoGpu,
    /// The chain (withdrawals).
    Chain,
    /// A bug or an unexpected failure (the log has details).
    Internal,
}

/// An error for the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct AppError {
    /// What kind.
    pub kind: ErrorKind,
    /// One sentence (or two) for a person, with what to do next.
    pub message: String,
    /// For [`ErrorKind::InvalidSetting`]: the settings key that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<Option<String>>))]
    pub key: Option<String>,
}

impl AppError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), key: None }
    }

    /// A bad value for the setting `key`.
    pub fn invalid_setting(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::InvalidSetting, message: message.into(), key: Some(key.into()) }
    }

    /// Something unexpected; the details go to the log, the owner gets a next step.
    pub fn internal(what: &str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "{what}");
        Self::new(
            ErrorKind::Internal,
            format!(
                "Something went wrong while {what}. Try again; if it keeps happening, send the log file (About → Open logs folder) to support."
            ),
        )
    }
}

/// Capitalises the first letter (the core's messages start in lower case).
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => {
            let mut out: String = c.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

impl From<WalletError> for AppError {
    fn from(e: WalletError) -> Self {
        let kind = match &e {
            e if e.is_keyring_unavailable() => ErrorKind::Keyring,
            WalletError::Keyring { .. } => ErrorKind::Keyring,
            WalletError::NoWallet => ErrorKind::NoWallet,
            WalletError::UnknownWord { .. }
            | WalletError::BadWordCount { .. }
            | WalletError::BadChecksum
            | WalletError::BadHex { .. }
            | WalletError::Unrecognised => ErrorKind::InvalidInput,
            _ => ErrorKind::Wallet,
        };
        let message = match &e {
            // The core's texts name CLI subcommands; the app says where to click.
            WalletError::NoWallet => {
                "There is no wallet on this computer yet: create one or import yours on the Wallet page.".to_owned()
            }
            WalletError::KeyMissing { address } => format!(
                "The key of wallet {address} is missing from your keyring (it was deleted or the keyring was reset). Import it again with your recovery phrase on the Wallet page."
            ),
            other => sentence(&other.to_string()),
        };
        Self::new(kind, message)
    }
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid { key, value, allowed } => {
                let message = format!("{value} is not allowed here: use {allowed}.");
                Self::invalid_setting(key, message)
            }
            ConfigError::BadKey { key, message, .. } => {
                Self::invalid_setting(key, format!("This value has the wrong type ({message})."))
            }
            other => Self::new(ErrorKind::Internal, sentence(&other.to_string())),
        }
    }
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> Self {
        let message = match &e {
            ClientError::Unreachable { .. } => format!(
                "The network cannot be reached right now ({e}). Check your internet connection or the network address in Settings; Idlewatt keeps trying."
            ),
            ClientError::InvalidUrl { url, .. } => format!(
                "The network address {url:?} cannot be used: enter an address like https://coordinator.example in Settings."
            ),
            _ => format!("The network answered with an error: {e}. Try again later."),
        };
        Self::new(ErrorKind::Network, message)
    }
}

impl From<ComputeError> for AppError {
    fn from(e: ComputeError) -> Self {
        let kind = match &e {
            ComputeError::NoAdapter | ComputeError::SoftwareRefused { .. } | ComputeError::RequestDevice { .. } => {
                ErrorKind::NoGpu
            }
            _ => ErrorKind::Internal,
        };
        let message = match &e {
            ComputeError::NoAdapter => "No graphics card (GPU) driver was found. Install your GPU's driver (on Linux: Mesa's Vulkan drivers or your vendor's driver), then restart Idlewatt.".to_owned(),
            other => sentence(&other.to_string()),
        };
        Self::new(kind, message)
    }
}

impl From<crate::network::WithdrawError> for AppError {
    fn from(e: crate::network::WithdrawError) -> Self {
        use crate::network::WithdrawError as W;
        match e {
            W::Address(_) | W::Amount(_) | W::BelowMinimum { .. } => {
                Self::new(ErrorKind::InvalidInput, sentence(&e.to_string()))
            }
            W::Client(ClientError::Api { message, .. }) => Self::new(
                ErrorKind::Chain,
                format!("The network did not accept the withdrawal: {}", sentence(&message)),
            ),
            W::Client(c) => c.into(),
            W::Journal(j) => Self::new(
                ErrorKind::Internal,
                format!(
                    "Nothing was sent: {} Check that the disk is not full and the data folder is writable.",
                    sentence(&j.to_string())
                ),
            ),
            W::Sign(_) | W::SignerMismatch { .. } => Self::internal("signing the withdrawal", e),
        }
    }
}

impl From<crate::paths::PathsError> for AppError {
    fn from(e: crate::paths::PathsError) -> Self {
        Self::new(ErrorKind::Internal, format!("{} Check that your home folder is writable.", sentence(&e.to_string())))
    }
}

impl From<crate::model_cache::CacheError> for AppError {
    fn from(e: crate::model_cache::CacheError) -> Self {
        Self::new(
            ErrorKind::Internal,
            format!("{} Check that the data folder is writable and try again.", sentence(&e.to_string())),
        )
    }
}

impl From<crate::energy::EnergyError> for AppError {
    fn from(e: crate::energy::EnergyError) -> Self {
        Self::internal("reading the energy history", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_setting_names_its_key_and_the_allowed_range() {
        let e: AppError =
            ConfigError::Invalid { key: "max_temp_c".into(), value: "120".into(), allowed: "50–95 °C".into() }.into();
        assert_eq!((e.kind, e.key.as_deref()), (ErrorKind::InvalidSetting, Some("max_temp_c")));
        assert_eq!(e.message, "120 is not allowed here: use 50–95 °C.");
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["kind"], "invalid_setting");
    }

    #[test]
    fn keyring_problems_are_their_own_kind_and_say_what_to_do() {
        let e: AppError = WalletError::KeyringLocked.into();
        assert_eq!(e.kind, ErrorKind::Keyring);
        assert!(e.message.starts_with("Your keyring is locked") && e.message.contains("unlock it"), "{}", e.message);
        let e: AppError = WalletError::NoWallet.into();
        assert_eq!(e.kind, ErrorKind::NoWallet);
        assert!(!e.message.contains('`'), "no CLI commands in the app: {}", e.message);
    }
}
