//! The owner's wallet: the key that is the node's identity on the network and receives
//! its earnings.
//!
//! - [`phrase`]: BIP-39 recovery phrases and raw private keys, parsed and redacted.
//! - `keystore`: the OS keyring, the only place a secret is kept.
//! - [`meta`]: the public `wallet.json` (address, backed-up flag, word count).
//! - [`signing`]: EIP-191 and EIP-712 signatures, and their recovery for verifiers.
//!
//! [`Wallet`] ties them together. Writes go keyring first, then the public file; if the
//! file cannot be written the keyring is put back as it was, so no operation leaves a
//! half-made wallet. Nothing secret reaches a file, a log line, an error or a `Debug`.

mod error;
mod keystore;
pub mod meta;
pub mod phrase;
pub mod signing;

use std::path::PathBuf;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

use crate::paths::DataDirs;

pub use error::WalletError;
pub use keystore::SERVICE;
pub use meta::{KeySource, WalletInfo};
pub use phrase::{Phrase, PrivateKey, Secret, WordCount};
pub use signing::{WalletSigner, Withdrawal, recover_message_signer, recover_withdrawal_signer, withdrawal_domain};

/// Whether creating or importing may replace the wallet already on this computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse with [`WalletError::AlreadyExists`] (the default).
    Refuse,
    /// Replace it: its key is removed from the keyring once the new one is in place.
    /// Whoever asks for this must have made sure the owner has the old phrase.
    ReplaceExisting,
}

/// The owner's explicit consent to see the recovery phrase on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealPhrase {
    /// "I understand that anyone who sees this phrase can take my earnings."
    IUnderstandAnyoneWithItCanTakeMyFunds,
}

/// The owner's explicit consent to erase the wallet from this computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmDelete {
    /// "Without my recovery phrase this wallet and its earnings are gone for good."
    EraseKeyFromThisComputer,
}

/// A wallet just created: its public facts and the phrase to show the owner once.
#[derive(Debug)]
pub struct NewWallet {
    /// Address, word count, not yet backed up.
    pub info: WalletInfo,
    /// The recovery phrase. Show it once, then drop it (it zeroizes).
    pub phrase: Phrase,
}

/// How many words the owner must confirm to mark the backup done.
pub const BACKUP_CHECK_WORDS: usize = 3;

/// The wallet of one data folder and one keyring service.
#[derive(Debug, Clone)]
pub struct Wallet {
    meta_path: PathBuf,
    store: keystore::KeyStore,
}

impl Wallet {
    /// The wallet kept in `dirs`, its key under [`SERVICE`] in the OS keyring.
    pub fn new(dirs: &DataDirs) -> Self {
        Self::with_service(dirs, SERVICE)
    }

    /// Same with another keyring service name (several nodes on one account, tests).
    pub fn with_service(dirs: &DataDirs, service: &str) -> Self {
        Self { meta_path: dirs.join(meta::FILE_NAME), store: keystore::KeyStore::new(service) }
    }

    /// The wallet's public facts, `None` if there is no wallet. Does not touch the keyring.
    pub fn info(&self) -> Result<Option<WalletInfo>, WalletError> {
        meta::load(&self.meta_path)
    }

    fn existing(&self) -> Result<WalletInfo, WalletError> {
        self.info()?.ok_or(WalletError::NoWallet)
    }

    /// Creates a new wallet from a fresh recovery phrase.
    #[tracing::instrument(skip_all, fields(words = words.words(), address = tracing::field::Empty))]
    pub fn create(&self, words: WordCount, overwrite: Overwrite) -> Result<NewWallet, WalletError> {
        let previous = self.refuse_overwrite(overwrite, false)?;
        let phrase = Phrase::generate(words)?;
        let secret = Secret::Phrase(phrase);
        let info = self.install(&secret, previous)?;
        match secret {
            Secret::Phrase(phrase) => Ok(NewWallet { info, phrase }),
            Secret::PrivateKey(_) => Err(WalletError::NoPhrase),
        }
    }

    /// Imports a wallet from a recovery phrase or a private key ([`Secret::parse`]).
    #[tracing::instrument(skip_all, fields(address = tracing::field::Empty))]
    pub fn import(&self, secret: &Secret, overwrite: Overwrite) -> Result<WalletInfo, WalletError> {
        let previous = self.refuse_overwrite(overwrite, true)?;
        self.install(secret, previous)
    }

    /// The wallet about to be replaced, or the refusal. A damaged `wallet.json` is no
    /// wallet to protect when the owner re-imports (what its error tells them to do) or
    /// explicitly replaces it: it is kept aside (`wallet.json.damaged-<time>`), never
    /// deleted. Creating a fresh wallet over a damaged file is refused: the file names
    /// the only key the owner may have earned with.
    fn refuse_overwrite(&self, overwrite: Overwrite, importing: bool) -> Result<Option<WalletInfo>, WalletError> {
        let previous = match self.info() {
            Err(WalletError::MetadataCorrupt { path, reason })
                if importing || overwrite == Overwrite::ReplaceExisting =>
            {
                let aside = crate::storage::set_aside(&path).map_err(|source| WalletError::Metadata {
                    action: "write",
                    path: path.clone(),
                    source,
                })?;
                tracing::warn!(path = %path.display(), kept_as = %aside.display(), %reason, "damaged wallet file kept aside");
                None
            }
            other => other?,
        };
        match (&previous, overwrite) {
            (Some(old), Overwrite::Refuse) => {
                Err(WalletError::AlreadyExists { address: old.address.to_checksum(None) })
            }
            _ => Ok(previous),
        }
    }

    /// Keyring first, then the public file; on a failed file write the keyring is put
    /// back; the replaced wallet's key is removed last.
    fn install(&self, secret: &Secret, previous: Option<WalletInfo>) -> Result<WalletInfo, WalletError> {
        let address = secret.address()?;
        tracing::Span::current().record("address", tracing::field::display(address));
        let before = self.store.get(&address)?;
        self.store.put(&address, secret.expose())?;
        let info = WalletInfo {
            address,
            source: match secret {
                Secret::Phrase(_) => KeySource::Phrase,
                Secret::PrivateKey(_) => KeySource::PrivateKey,
            },
            word_count: secret.word_count(),
            backed_up: false,
        };
        if let Err(e) = meta::save(&self.meta_path, &info) {
            let undo = match &before {
                Some(old) => self.store.put(&address, old),
                None => self.store.delete(&address).map(drop),
            };
            if let Err(undo) = undo {
                tracing::error!(%address, error = %undo, "could not undo the keyring write after the wallet file failed");
            }
            return Err(e);
        }
        if let Some(old) = previous.filter(|old| old.address != address)
            && let Err(e) = self.store.delete(&old.address)
        {
            tracing::warn!(old = %old.address, error = %e, "the replaced wallet's key is still in the keyring");
        }
        tracing::info!(%address, source = ?info.source, "wallet saved in the OS keyring");
        Ok(info)
    }

    fn load_secret(&self, info: &WalletInfo) -> Result<Secret, WalletError> {
        let address = info.address.to_checksum(None);
        let stored =
            self.store.get(&info.address)?.ok_or_else(|| WalletError::KeyMissing { address: address.clone() })?;
        let secret = match info.source {
            KeySource::Phrase => Phrase::parse(&stored).map(Secret::Phrase),
            KeySource::PrivateKey => PrivateKey::parse(&stored).map(Secret::PrivateKey),
        };
        secret.map_err(|_| WalletError::StoredSecretCorrupt { address })
    }

    /// The recovery phrase, for the owner to write down. Only with their explicit consent.
    #[tracing::instrument(skip_all)]
    pub fn show_phrase(&self, _consent: RevealPhrase) -> Result<Phrase, WalletError> {
        let info = self.existing()?;
        match self.load_secret(&info)? {
            Secret::Phrase(p) => {
                tracing::info!(address = %info.address, "recovery phrase revealed to the owner");
                Ok(p)
            }
            Secret::PrivateKey(_) => Err(WalletError::NoPhrase),
        }
    }

    /// [`BACKUP_CHECK_WORDS`] distinct random 1-based positions to ask the owner for.
    pub fn backup_challenge(&self) -> Result<Vec<usize>, WalletError> {
        let info = self.existing()?;
        let n = info.word_count.ok_or(WalletError::NoPhrase)?;
        let mut rng = bip39::rand::rngs::OsRng;
        let mut positions: Vec<usize> = bip39::rand::seq::index::sample(&mut rng, n, BACKUP_CHECK_WORDS.min(n))
            .into_iter()
            .map(|i| i + 1)
            .collect();
        positions.sort_unstable();
        Ok(positions)
    }

    /// Marks the backup done once the owner gives the right words at (at least
    /// [`BACKUP_CHECK_WORDS`] distinct, 1-based) positions.
    #[tracing::instrument(skip_all)]
    pub fn confirm_backup(&self, answers: &[(usize, &str)]) -> Result<WalletInfo, WalletError> {
        let mut info = self.existing()?;
        let Secret::Phrase(phrase) = self.load_secret(&info)? else { return Err(WalletError::NoPhrase) };
        let n = phrase.word_count();
        let mut seen = Vec::with_capacity(answers.len());
        for &(position, _) in answers {
            if position == 0 || position > n {
                return Err(WalletError::BadBackupCheck {
                    reason: format!("positions run from 1 to {n}, not {position}"),
                });
            }
            if seen.contains(&position) {
                return Err(WalletError::BadBackupCheck { reason: format!("position {position} is asked twice") });
            }
            seen.push(position);
        }
        if seen.len() < BACKUP_CHECK_WORDS.min(n) {
            return Err(WalletError::BadBackupCheck {
                reason: format!("confirm at least {BACKUP_CHECK_WORDS} words of your phrase"),
            });
        }
        for &(position, word) in answers {
            if phrase.word(position).is_none_or(|w| !w.eq_ignore_ascii_case(word.trim())) {
                return Err(WalletError::BackupMismatch { position });
            }
        }
        if !info.backed_up {
            info.backed_up = true;
            meta::save(&self.meta_path, &info)?;
        }
        tracing::info!(address = %info.address, "backup confirmed");
        Ok(info)
    }

    /// Loads the key from the keyring for signing; checks it is this wallet's key.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn signer(&self) -> Result<WalletSigner, WalletError> {
        let info = self.existing()?;
        let key: PrivateKeySigner = self.load_secret(&info)?.signer()?;
        if key.address() != info.address {
            return Err(WalletError::AddressMismatch {
                expected: info.address.to_checksum(None),
                found: key.address().to_checksum(None),
            });
        }
        Ok(WalletSigner::new(key))
    }

    /// Erases the wallet from this computer: the keyring entry first (the owner's intent
    /// is that the key be gone), then the public file. Returns the erased address.
    #[tracing::instrument(skip_all)]
    pub fn delete(&self, _consent: ConfirmDelete) -> Result<Address, WalletError> {
        let info = self.existing()?;
        let had_key = self.store.delete(&info.address)?;
        meta::remove(&self.meta_path)?;
        tracing::info!(address = %info.address, had_key, "wallet erased from this computer");
        Ok(info.address)
    }
}
