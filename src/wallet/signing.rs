//! Signing with the wallet's key: EIP-191 personal messages (how the node authenticates
//! its requests to the coordinator) and EIP-712 typed data (withdrawals). The key lives in
//! a [`WalletSigner`] only as long as the caller keeps it; alloy's signing key zeroizes
//! itself on drop. The free `recover_*` functions are what a verifier (the coordinator)
//! calls: they need no key and no keyring.

use std::fmt;

use alloy::primitives::{Address, B256, ChainId, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct};

use super::WalletError;

// The withdrawal's typed data and domain are the protocol's, so the coordinator that
// verifies hashes exactly what the wallet signs.
pub use idlewatt_protocol::withdrawal::{
    DOMAIN_NAME, DOMAIN_VERSION, Withdrawal, withdrawal_domain, withdrawal_signing_hash,
};

/// Who signed an EIP-191 personal message.
pub fn recover_message_signer(message: &[u8], signature: &Signature) -> Result<Address, WalletError> {
    signature.recover_address_from_msg(message).map_err(|e| WalletError::Signing(e.to_string()))
}

/// Who signed a withdrawal.
pub fn recover_withdrawal_signer(withdrawal: &Withdrawal, signature: &Signature) -> Result<Address, WalletError> {
    signature
        .recover_address_from_prehash(&withdrawal_signing_hash(withdrawal))
        .map_err(|e| WalletError::Signing(e.to_string()))
}

/// The wallet's key, loaded from the keyring, ready to sign. Drop it when done: the key
/// is zeroized. `Debug` shows the address only. Implements alloy's [`SignerSync`], so
/// anything in alloy that signs can use it.
pub struct WalletSigner {
    inner: PrivateKeySigner,
}

impl WalletSigner {
    pub(crate) fn new(inner: PrivateKeySigner) -> Self {
        Self { inner }
    }

    /// The address signatures recover to.
    pub fn address(&self) -> Address {
        self.inner.address()
    }

    /// Signs an EIP-191 personal message (`"\x19Ethereum Signed Message:\n" ‖ len ‖ message`).
    #[tracing::instrument(level = "debug", skip_all, fields(address = %self.address(), len = message.len()))]
    pub fn sign_message(&self, message: &[u8]) -> Result<Signature, WalletError> {
        self.inner.sign_message_sync(message).map_err(|e| WalletError::Signing(e.to_string()))
    }

    /// Signs a withdrawal under [`withdrawal_domain`] of its own `chainId`.
    #[tracing::instrument(level = "debug", skip_all, fields(address = %self.address(), nonce = withdrawal.nonce))]
    pub fn sign_withdrawal(&self, withdrawal: &Withdrawal) -> Result<Signature, WalletError> {
        self.inner
            .sign_typed_data_sync(withdrawal, &withdrawal_domain(withdrawal.chainId))
            .map_err(|e| WalletError::Signing(e.to_string()))
    }

    /// The key as alloy's transaction signer, for sending a transaction from this
    /// wallet (a client's deposit). The copy zeroizes itself on drop like the original.
    pub(crate) fn transaction_signer(&self) -> PrivateKeySigner {
        self.inner.clone()
    }

    /// Signs any EIP-712 struct under any domain.
    pub fn sign_typed_data<T: SolStruct>(&self, payload: &T, domain: &Eip712Domain) -> Result<Signature, WalletError> {
        self.inner.sign_typed_data_sync(payload, domain).map_err(|e| WalletError::Signing(e.to_string()))
    }
}

impl SignerSync for WalletSigner {
    fn sign_hash_sync(&self, hash: &B256) -> alloy::signers::Result<Signature> {
        self.inner.sign_hash_sync(hash)
    }

    fn chain_id_sync(&self) -> Option<ChainId> {
        self.inner.chain_id_sync()
    }
}

impl fmt::Debug for WalletSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletSigner").field("address", &self.address()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    #[test]
    fn signatures_recover_to_the_signer() {
        let signer = WalletSigner::new(PrivateKeySigner::random());
        let sig = signer.sign_message(b"hello coordinator").expect("sign");
        assert_eq!(recover_message_signer(b"hello coordinator", &sig).expect("recover"), signer.address());
        assert_ne!(recover_message_signer(b"hello coordinator!", &sig).ok(), Some(signer.address()));

        let w = Withdrawal {
            to: Address::repeat_byte(7),
            amount: U256::from(10u64).pow(U256::from(18)),
            nonce: 1,
            chainId: 31337,
        };
        let sig = signer.sign_withdrawal(&w).expect("sign");
        assert_eq!(recover_withdrawal_signer(&w, &sig).expect("recover"), signer.address());
        let other_chain = Withdrawal { chainId: 1, ..w.clone() };
        assert_ne!(recover_withdrawal_signer(&other_chain, &sig).ok(), Some(signer.address()));
        assert!(!format!("{signer:?}").to_lowercase().contains("key"));
    }
}
