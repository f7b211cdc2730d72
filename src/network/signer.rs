//! What signs the node's requests. The node's identity is its wallet address (DESIGN
//! §3), but the network module must not depend on how the key is kept (OS keyring,
//! hardware wallet, a test key), so it asks only for this small trait. A plain
//! [`PrivateKeySigner`] implements it for tests and throw-away identities.

use alloy::primitives::{Address, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use thiserror::Error;

/// Signing failed (e.g. a locked keyring).
#[derive(Debug, Error)]
#[error("could not sign: {0}")]
pub struct SignerError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Signs requests as the node's address (EIP-191 personal-sign).
pub trait RequestSigner: Send + Sync {
    /// The node's identity.
    fn address(&self) -> Address;
    /// EIP-191 `personal_sign` of `msg`.
    fn sign_message(&self, msg: &[u8]) -> Result<Signature, SignerError>;
}

impl RequestSigner for PrivateKeySigner {
    fn address(&self) -> Address {
        alloy::signers::Signer::address(self)
    }

    fn sign_message(&self, msg: &[u8]) -> Result<Signature, SignerError> {
        self.sign_message_sync(msg).map_err(|e| SignerError(Box::new(e)))
    }
}

/// The owner's keyring wallet signs the node's requests: the node's identity is its
/// wallet address.
impl RequestSigner for crate::wallet::WalletSigner {
    fn address(&self) -> Address {
        crate::wallet::WalletSigner::address(self)
    }

    fn sign_message(&self, msg: &[u8]) -> Result<Signature, SignerError> {
        crate::wallet::WalletSigner::sign_message(self, msg).map_err(|e| SignerError(Box::new(e)))
    }
}
