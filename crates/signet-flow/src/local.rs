//! Verifying images without a registry: an image saved to disk by `cosign
//! save` (`verify --local-image`). The layout's signature layers are
//! converted to the bundle model at the edge, as registry signatures are,
//! and go to the same [`Verifier`].

use signet_core::Digest;
use signet_oci::layout::{LayoutError, OciLayout};
use thiserror::Error;

use signet_verify::{
    ImagePolicy, Rejection, SignatureCandidate, VerifiedImage, Verifier, VerifyError,
};

/// Verifying a saved image failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LocalVerifyError {
    /// The layout could not be read.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The signatures did not verify.
    #[error("{location}: {error}")]
    Verify {
        /// The layout directory.
        location: String,
        /// Why.
        error: VerifyError,
    },
}

/// Verifies the image saved in `layout` against `policy(digest)`.
pub fn verify_saved_image(
    verifier: &Verifier,
    layout: &OciLayout,
    policy: impl Fn(Digest) -> ImagePolicy,
) -> Result<VerifiedImage, LocalVerifyError> {
    let saved = layout.cosign_saved_image()?;
    let policy = policy(saved.digest.clone());
    let location = layout.dir().display().to_string();
    let fail = |error| LocalVerifyError::Verify {
        location: location.clone(),
        error,
    };
    if saved.signatures.is_empty() {
        return Err(fail(VerifyError::NoSignatures {
            digest: saved.digest,
        }));
    }
    let mut candidates = Vec::new();
    let mut unreadable = Vec::new();
    for s in saved.signatures {
        let converted = s.payload.map_err(|e| e.to_string()).and_then(|payload| {
            s.layer
                .to_bundle()
                .map(|bundle| (payload, bundle))
                .map_err(|e| e.to_string())
        });
        match converted {
            Ok((payload, bundle)) => candidates.push(SignatureCandidate {
                payload,
                bundle,
                origin: s.origin,
            }),
            Err(reason) => unreadable.push(Rejection::other(s.origin, reason)),
        }
    }
    let outcome = if candidates.is_empty() {
        Err(VerifyError::NoMatchingSignature {
            digest: policy.digest().clone(),
            rejections: Vec::new(),
        })
    } else {
        verifier.verify_image(&candidates, &policy)
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
            Err(fail(VerifyError::NoMatchingSignature {
                digest,
                rejections,
            }))
        }
        Err(error) => Err(fail(error)),
    }
}
