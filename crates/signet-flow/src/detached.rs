//! Verifying a signature given on the command line rather than stored in the
//! registry (`verify --signature S [--payload P] IMAGE`, as cosign does): the
//! image is resolved to its digest once, and the one signature must verify
//! for it. Without a payload, the one cosign would have signed for the image
//! (its repository and digest, no annotations) is assumed.

use std::collections::BTreeMap;

use signet_core::Digest;
use signet_core::payload::SimpleSigningPayload;
use signet_core::signature_manifest::Layer;
use signet_oci::Reference;
use signet_oci::resolve::resolve_image;
use signet_oci::signatures::SignatureStore;

use signet_verify::{
    ImagePolicy, Rejection, SignatureCandidate, VerifiedImage, Verifier, VerifyError,
};

use crate::verify::ImageVerifyError;

/// Verifies `signature_b64` over `payload` (or cosign's default payload) for `image`.
pub async fn verify_detached(
    store: &SignatureStore,
    verifier: &Verifier,
    image: &Reference,
    signature_b64: &str,
    payload: Option<&[u8]>,
    policy: impl Fn(Digest) -> ImagePolicy,
) -> Result<VerifiedImage, ImageVerifyError> {
    let digest = resolve_image(store.client(), image, false)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ImageVerifyError::Verify {
            reference: image.to_string(),
            error: VerifyError::NoSignatures {
                digest: Digest::sha256_of(b""),
            },
        })?;
    let policy = policy(digest.clone());
    let payload = match payload {
        Some(p) => p.to_vec(),
        None => SimpleSigningPayload::new(image.repo_name(), digest, &BTreeMap::new()).to_bytes(),
    };
    let fail = |error| ImageVerifyError::Verify {
        reference: image.to_string(),
        error,
    };
    let bundle = Layer::simple_signing(&payload, signature_b64.to_owned())
        .to_bundle()
        .map_err(|e| {
            fail(VerifyError::NoMatchingSignature {
                digest: policy.digest().clone(),
                rejections: vec![Rejection::other("--signature", e.to_string())],
            })
        })?;
    let candidate = SignatureCandidate {
        payload,
        bundle,
        origin: "--signature".into(),
    };
    verifier.verify_image(&[candidate], &policy).map_err(fail)
}
