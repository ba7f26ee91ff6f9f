//! Signing blobs: sign the artifact's digest, record the signature in the
//! transparency log (and with timestamp authorities), and make the v0.3
//! bundle `sign-blob --bundle` writes.

use signet_core::Artifact;
use signet_core::bundle::Bundle;
use signet_sigstore::signing::{Evidence, SignedContent, bundle};
use thiserror::Error;

use crate::sign::SigningIdentity;

/// Signing a blob failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BlobSignError {
    /// The signer failed.
    #[error("signing with {key}: {error}")]
    Signer {
        /// The key.
        key: String,
        /// What failed.
        error: signet_core::KeyError,
    },
    /// Timestamping or logging the signature failed.
    #[error(transparent)]
    Record(#[from] signet_sigstore::SigningError),
}

/// A signed blob: the signature, its evidence, and the bundle that holds
/// them both.
#[derive(Debug, Clone)]
pub struct SignedBlob {
    /// The raw signature.
    pub signature: Vec<u8>,
    /// Timestamps and log entries.
    pub evidence: Evidence,
    /// The v0.3 bundle (leaf certificate or key hint, log entries,
    /// timestamps, message signature).
    pub bundle: Bundle,
}

/// Signs `artifact` and records the signature.
pub async fn sign_blob(
    identity: &SigningIdentity<'_>,
    artifact: &Artifact,
) -> Result<SignedBlob, BlobSignError> {
    let signature = identity
        .signer
        .sign_artifact(artifact)
        .await
        .map_err(|error| BlobSignError::Signer {
            key: identity.signer.describe(),
            error,
        })?;
    let content = SignedContent::Message {
        digest: artifact.digest(),
        signature: &signature,
    };
    let evidence = identity
        .recorder
        .record(&content, &identity.material)
        .await?;
    let bundle = bundle(&content, &identity.material, &evidence);
    Ok(SignedBlob {
        signature,
        evidence,
        bundle,
    })
}
