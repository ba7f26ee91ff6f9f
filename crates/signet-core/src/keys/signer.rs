//! One signing interface for local keys and KMS keys.

use std::future::Future;
use std::pin::Pin;

use super::{PrivateKey, PublicKey};
use crate::error::KeyError;

/// A boxed future, so that [`Signer`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that signs payloads with a key whose public half is known.
///
/// Local keys, Vault transit keys and future KMS schemes all implement this,
/// so signing code never learns where the private key lives. Signatures use
/// cosign's encoding for the key type (ASN.1 DER for ECDSA).
pub trait Signer: Send + Sync {
    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> &PublicKey;

    /// Signs `message`.
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>>;

    /// A description for messages (`cosign.key`, `hashivault://release`); never secret.
    fn describe(&self) -> String;
}

/// A [`Signer`] over a private key held in memory.
pub struct LocalSigner {
    key: PrivateKey,
    public: PublicKey,
    source: String,
}

impl LocalSigner {
    /// Wraps `key`; `source` names where it came from, for messages.
    pub fn new(key: PrivateKey, source: impl Into<String>) -> Self {
        let public = key.public_key();
        Self {
            key,
            public,
            source: source.into(),
        }
    }
}

impl Signer for LocalSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move { self.key.sign(message) })
    }

    fn describe(&self) -> String {
        self.source.clone()
    }
}
