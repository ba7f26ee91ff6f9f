//! Verifying images in a registry: fetch the signatures, convert them to the
//! bundle model, and hand them to the [`Verifier`]. The network part lives
//! here so that the [`Verifier`] itself only ever sees bytes.

use std::collections::BTreeMap;

use signet_core::Digest;
use signet_core::payload::SimpleSigningPayload;
use signet_oci::Reference;
use signet_oci::resolve::{ImageLookupError, resolve_image};
use signet_oci::signatures::{SignatureStore, SignatureStoreError};
use thiserror::Error;

use crate::{ImagePolicy, Rejection, SignatureCandidate, VerifiedImage, Verifier, VerifyError};

/// Verifying an image in a registry failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageVerifyError {
    /// The image could not be looked up.
    #[error(transparent)]
    Image(#[from] ImageLookupError),
    /// The signature manifest could not be read.
    #[error(transparent)]
    Store(#[from] SignatureStoreError),
    /// The signatures did not verify.
    #[error("{reference}: {error}")]
    Verify {
        /// The image.
        reference: String,
        /// Why.
        error: VerifyError,
    },
}

/// Resolves `image` to its digest (once), fetches its signatures and verifies
/// them against `policy(digest)`. With `recursive`, an index and every
/// manifest it lists must each be signed; one result per manifest, index first.
pub async fn verify_image(
    store: &SignatureStore,
    verifier: &Verifier,
    image: &Reference,
    recursive: bool,
    policy: impl Fn(Digest) -> ImagePolicy,
) -> Result<Vec<VerifiedImage>, ImageVerifyError> {
    let digests = resolve_image(store.client(), image, recursive).await?;
    let mut results = Vec::with_capacity(digests.len());
    for (i, digest) in digests.into_iter().enumerate() {
        // The image named keeps the reference as given; children go by digest.
        let manifest = if i == 0 {
            image.clone()
        } else {
            image.with_digest(digest.clone())
        };
        results.push(verify_digest(store, verifier, &manifest, &policy(digest)).await?);
    }
    Ok(results)
}

async fn verify_digest(
    store: &SignatureStore,
    verifier: &Verifier,
    image: &Reference,
    policy: &ImagePolicy,
) -> Result<VerifiedImage, ImageVerifyError> {
    let fetched = store
        .fetch_with_known_payloads(
            image.repository_ref(),
            policy.digest(),
            &predicted_payloads(image, policy),
        )
        .await?;
    if fetched.is_empty() {
        return Err(ImageVerifyError::Verify {
            reference: image.to_string(),
            error: VerifyError::NoSignatures {
                digest: policy.digest().clone(),
            },
        });
    }
    // Convert at the edge: every legacy layer becomes a bundle candidate;
    // layers that cannot be read are rejections, not fatal errors, so one bad
    // layer cannot hide a good signature.
    let mut candidates = Vec::with_capacity(fetched.len());
    let mut unreadable = Vec::new();
    for f in fetched {
        let converted = f.payload.map_err(|e| e.to_string()).and_then(|payload| {
            f.layer
                .to_bundle()
                .map(|bundle| (payload, bundle))
                .map_err(|e| e.to_string())
        });
        match converted {
            Ok((payload, bundle)) => candidates.push(SignatureCandidate {
                payload,
                bundle,
                origin: f.origin,
            }),
            Err(reason) => unreadable.push(Rejection::other(f.origin, reason)),
        }
    }
    let outcome = if candidates.is_empty() {
        Err(VerifyError::NoMatchingSignature {
            digest: policy.digest().clone(),
            rejections: Vec::new(),
        })
    } else {
        verifier.verify_image(&candidates, policy)
    };
    match outcome {
        Ok(mut verified) => {
            verified.rejected.extend(unreadable);
            Ok(verified)
        }
        Err(VerifyError::NoMatchingSignature {
            digest,
            mut rejections,
        }) => {
            rejections.extend(unreadable);
            Err(ImageVerifyError::Verify {
                reference: image.to_string(),
                error: VerifyError::NoMatchingSignature { digest, rejections },
            })
        }
        Err(error) => Err(ImageVerifyError::Verify {
            reference: image.to_string(),
            error,
        }),
    }
}

/// The payloads cosign and signet would have written for this image: the
/// repository without tag, the digest, and either no annotations or exactly
/// the ones the policy requires. Layers matching one by digest need no
/// download (see `SignatureStore::fetch_with_known_payloads`); the prediction
/// is never trusted beyond that hash equality.
fn predicted_payloads(image: &Reference, policy: &ImagePolicy) -> Vec<Vec<u8>> {
    let plain =
        SimpleSigningPayload::new(image.repo_name(), policy.digest().clone(), &BTreeMap::new());
    let mut out = vec![plain.to_bytes()];
    if !policy.annotations().is_empty() {
        out.push(
            SimpleSigningPayload::new(
                image.repo_name(),
                policy.digest().clone(),
                policy.annotations(),
            )
            .to_bytes(),
        );
    }
    out
}
