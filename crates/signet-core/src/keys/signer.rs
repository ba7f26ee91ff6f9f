//! One signing interface for local keys and KMS keys.

use std::future::Future;
use std::pin::Pin;

use super::{PrivateKey, PublicKey};
use crate::artifact::Artifact;
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

    /// Signs `artifact`, producing the same signature [`sign`](Self::sign)
    /// would over its bytes. Signers whose algorithm signs a digest override
    /// this so that large blobs are never held whole; the default needs the
    /// artifact's bytes.
    fn sign_artifact<'a>(
        &'a self,
        artifact: &'a Artifact,
    ) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        match artifact.bytes() {
            Some(bytes) => self.sign(bytes),
            None => Box::pin(async move {
                Err(KeyError::WholeMessageTooLarge {
                    key: self.public_key().kind(),
                    size: artifact.size(),
                    limit: artifact.keep_limit().map(|l| l.max_bytes).unwrap_or(0),
                })
            }),
        }
    }

    /// A description for messages (`cosign.key`, `hashivault://release`); never secret.
    fn describe(&self) -> String;

    /// The version of the key that signs, for keys kept in a versioned store
    /// (a Vault transit key version, a KV secret version); `None` for keys
    /// without versions.
    fn key_version(&self) -> Option<String> {
        None
    }
}

/// A [`Signer`] over a private key held in memory.
pub struct LocalSigner {
    key: PrivateKey,
    public: PublicKey,
    source: String,
    version: Option<String>,
}

impl LocalSigner {
    /// Wraps `key`; `source` names where it came from, for messages.
    pub fn new(key: PrivateKey, source: impl Into<String>) -> Self {
        let public = key.public_key();
        Self {
            key,
            public,
            source: source.into(),
            version: None,
        }
    }

    /// Records the version of the stored key this one was read from.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
}

impl Signer for LocalSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move { self.key.sign(message) })
    }

    fn sign_artifact<'a>(
        &'a self,
        artifact: &'a Artifact,
    ) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move { self.key.sign_artifact(artifact) })
    }

    fn describe(&self) -> String {
        self.source.clone()
    }

    fn key_version(&self) -> Option<String> {
        self.version.clone()
    }
}
