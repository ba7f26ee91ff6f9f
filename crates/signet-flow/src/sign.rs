//! Signing images with a key: resolve, build the payload, sign, store.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::KeyError;
use signet_core::keys::Signer;
use signet_core::payload::SimpleSigningPayload;
use signet_core::signature_manifest::{Layer, SIGNATURE_ANNOTATION};
use thiserror::Error;

use signet_oci::Reference;
use signet_oci::resolve::{ImageLookupError, resolve_image};
use signet_oci::signatures::{AppendOutcome, SignatureStore, SignatureStoreError};

/// Signing an image failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    /// The image could not be looked up.
    #[error(transparent)]
    Image(#[from] ImageLookupError),
    /// Storing the signature failed.
    #[error(transparent)]
    Store(#[from] SignatureStoreError),
    /// The signer failed.
    #[error("signing {reference} with {key}: {error}")]
    Signer {
        /// The image.
        reference: String,
        /// The key.
        key: String,
        /// What failed.
        error: KeyError,
    },
}

/// Options for [`sign_image`].
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// `-a key=value` claims, written to the payload's `optional`.
    pub annotations: BTreeMap<String, String>,
    /// Also sign every manifest an index lists.
    pub recursive: bool,
}

/// One manifest that was signed.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The manifest, by digest.
    pub reference: Reference,
    /// Whether a signature was added or already present.
    pub outcome: AppendOutcome,
}

/// Resolves `image` to a digest once, signs it (and with `recursive`, every
/// child of an index), and stores each signature as cosign does.
pub async fn sign_image(
    store: &SignatureStore,
    signer: &dyn Signer,
    image: &Reference,
    options: &SignOptions,
) -> Result<Vec<SignedManifest>, SignError> {
    let digests = resolve_image(store.client(), image, options.recursive).await?;
    let mut signed = Vec::with_capacity(digests.len());
    for digest in digests {
        let outcome = sign_digest(store, signer, image, &digest, options).await?;
        signed.push(SignedManifest {
            reference: image.with_digest(digest),
            outcome,
        });
    }
    Ok(signed)
}

async fn sign_digest(
    store: &SignatureStore,
    signer: &dyn Signer,
    image: &Reference,
    digest: &Digest,
    options: &SignOptions,
) -> Result<AppendOutcome, SignError> {
    // cosign names the image's repository, without tag, in the payload.
    let payload =
        SimpleSigningPayload::new(image.repo_name(), digest.clone(), &options.annotations)
            .to_bytes();
    let signature = signer
        .sign(&payload)
        .await
        .map_err(|error| SignError::Signer {
            reference: image.to_string(),
            key: signer.describe(),
            error,
        })?;
    let layer = Layer::simple_signing(&payload, B64.encode(&signature));
    let public = signer.public_key();
    let same_key = |existing: &Layer| {
        existing
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .and_then(|s| B64.decode(s.trim()).ok())
            .is_some_and(|sig| public.verify(&payload, &sig).is_ok())
    };
    Ok(store
        .append(image.repository_ref(), digest, &payload, layer, &same_key)
        .await?)
}
