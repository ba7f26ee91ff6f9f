//! Verifying images in a registry: fetch the signatures, convert them to the
//! bundle model, and hand them to the [`Verifier`]. The network part lives
//! here so that the [`Verifier`] itself only ever sees bytes.
//!
//! Both layouts are read: Sigstore bundles attached to the image as OCI 1.1
//! referrers (the referrers API, or the `sha256-<hex>` fallback index), and
//! the legacy `sha256-<hex>.sig` manifest. [`verify_image`] reads one layout
//! first ([`LayoutOrder`]) and the other only when the first holds no
//! signature that satisfies the policy: each lookup is one or two requests
//! per image, and on a registry that shares the machine, the registry's own
//! CPU time per request is what bounds a batch (`docs/PERFORMANCE.md`).
//! [`fetch_signatures`], for policies that weigh every signature, reads both
//! at the same time.

use std::collections::BTreeMap;

use signet_core::Digest;
use signet_core::bundle::Bundle;
use signet_core::limits::{MAX_PAYLOAD_BYTES, MAX_SIGNATURE_BYTES_PER_IMAGE};
use signet_core::payload::SimpleSigningPayload;
use signet_core::referrer::{bundle_layer, is_bundle_artifact_type};
use signet_oci::referrers::ReferrerStore;
use signet_oci::resolve::{ImageLookupError, resolve_image};
use signet_oci::signatures::{PayloadError, SignatureStore, SignatureStoreError};
use signet_oci::{Reference, RegistryClient};
use thiserror::Error;

use signet_verify::{
    ImagePolicy, Rejection, SignatureCandidate, VerifiedImage, Verifier, VerifyError,
};

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

/// Which signature layout [`verify_image`] reads first; the other is read
/// only when the first has no signature that satisfies the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LayoutOrder {
    /// The `.sig` manifest first: what cosign 2 reads and what `signet sign`
    /// writes by default.
    #[default]
    LegacyFirst,
    /// Bundle referrers first, as cosign 3 reads them
    /// (`--new-bundle-format`).
    BundlesFirst,
}

impl LayoutOrder {
    fn layouts(self) -> [Layout; 2] {
        match self {
            Self::LegacyFirst => [Layout::Legacy, Layout::Bundles],
            Self::BundlesFirst => [Layout::Bundles, Layout::Legacy],
        }
    }
}

#[derive(Clone, Copy)]
enum Layout {
    Legacy,
    Bundles,
}

/// Resolves `image` to its digest (once), reads its signatures and verifies
/// them against `policy(digest)`, stopping at the first signature that
/// satisfies it. With `recursive`, an index and every manifest it lists must
/// each be signed; one result per manifest, index first.
pub async fn verify_image(
    store: &SignatureStore,
    verifier: &Verifier,
    image: &Reference,
    recursive: bool,
    order: LayoutOrder,
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
        results.push(verify_digest(store, verifier, &manifest, order, &policy(digest)).await?);
    }
    Ok(results)
}

async fn verify_digest(
    store: &SignatureStore,
    verifier: &Verifier,
    image: &Reference,
    order: LayoutOrder,
    policy: &ImagePolicy,
) -> Result<VerifiedImage, ImageVerifyError> {
    let mut verification = verifier.start_image(policy);
    // A `.sig` manifest the registry failed to serve fails the image, unless
    // the other layout satisfies the policy.
    let mut unreadable = None;
    for layout in order.layouts() {
        let satisfied = match layout {
            Layout::Bundles => offer_bundles(store, image, policy, &mut verification).await,
            Layout::Legacy => offer_legacy(store, image, policy, &mut verification)
                .await
                .unwrap_or_else(|e| {
                    unreadable = Some(e);
                    false
                }),
        };
        if satisfied {
            return finish(verification, image);
        }
    }
    if let Some(e) = unreadable {
        return Err(e.into());
    }
    finish(verification, image)
}

/// Offers the bundle referrers of `image` to `verification`; whether one
/// satisfied it.
async fn offer_bundles(
    store: &SignatureStore,
    image: &Reference,
    policy: &ImagePolicy,
    verification: &mut signet_verify::ImageVerification<'_>,
) -> bool {
    let bundles = bundle_referrers(store.client(), image, policy.digest()).await;
    for rejection in bundles.unreadable {
        verification.reject(rejection.origin, rejection.reason);
    }
    bundles
        .candidates
        .iter()
        .any(|c| verification.offer(&c.payload, &c.bundle, &c.origin))
}

/// Offers the `.sig` layers of `image` to `verification`; whether one
/// satisfied it.
async fn offer_legacy(
    store: &SignatureStore,
    image: &Reference,
    policy: &ImagePolicy,
    verification: &mut signet_verify::ImageVerification<'_>,
) -> Result<bool, SignatureStoreError> {
    let predicted = predicted_payloads(image, policy);
    let mut layers = store
        .signature_layers(image.repository_ref(), policy.digest(), &predicted)
        .await?;
    // Each layer is checked as its payload arrives; the first that satisfies
    // the policy ends the verification, and dropping `layers` stops the
    // fetches still in flight. Layers that cannot be read are rejections,
    // not fatal errors, so one bad layer cannot hide a good signature.
    while let Some(signature) = layers.next().await {
        let payload = match signature.payload {
            Ok(payload) => payload,
            Err(e) => {
                verification.reject(signature.origin, e.to_string());
                continue;
            }
        };
        // Convert at the edge: the legacy layer becomes a bundle.
        match signature.layer.to_bundle() {
            Ok(bundle) => {
                if verification.offer(&payload, &bundle, &signature.origin) {
                    return Ok(true);
                }
            }
            Err(e) => verification.reject(signature.origin, e.to_string()),
        }
    }
    Ok(false)
}

fn finish(
    verification: signet_verify::ImageVerification<'_>,
    image: &Reference,
) -> Result<VerifiedImage, ImageVerifyError> {
    verification
        .finish()
        .map_err(|error| ImageVerifyError::Verify {
            reference: image.to_string(),
            error,
        })
}

/// The most bundle referrers read for one image: cosign and signet attach
/// one per signature, and a registry cannot make signet read more.
const MAX_BUNDLE_REFERRERS: usize = 32;

/// The largest referrer manifest read, as its index entry declares it (a
/// bundle referrer's manifest is under 1 KiB; the registry client's own
/// manifest cap still bounds what a lying index can make signet read).
const MAX_REFERRER_MANIFEST_BYTES: u64 = 64 << 10;

/// Sigstore bundles attached to `digest` as OCI 1.1 referrers, read and
/// parsed (each capped at [`MAX_PAYLOAD_BYTES`], all of them together at
/// [`MAX_SIGNATURE_BYTES_PER_IMAGE`], checked against their digests).
/// Referrers of other artifact types (SBOMs, say) are not read. Anything
/// that cannot be read is a rejection, never fatal: the legacy layout may
/// still hold a good signature.
async fn bundle_referrers(
    client: &RegistryClient,
    image: &Reference,
    digest: &Digest,
) -> ImageSignatures {
    let mut out = ImageSignatures::default();
    let repo = image.repository_ref();
    let referrers = ReferrerStore::new(client.clone());
    let listing = format!(
        "{}:{}",
        repo.repo_name(),
        signet_core::referrer::fallback_tag(digest)
    );
    let entries = match referrers.list(repo, digest).await {
        Ok(entries) => entries,
        Err(e) => {
            out.registry_failures += 1;
            out.unreadable.push(Rejection::other(
                format!("referrers of {digest}"),
                format!("the bundle referrers could not be listed ({listing}): {e}"),
            ));
            return out;
        }
    };
    let mut read_bytes = 0usize;
    for entry in entries
        .iter()
        .filter(|e| is_bundle_artifact_type(e.artifact_type.as_deref()))
        .take(MAX_BUNDLE_REFERRERS)
    {
        let origin = format!("{}@{} (bundle referrer)", repo.repo_name(), entry.digest);
        if entry.size > MAX_REFERRER_MANIFEST_BYTES || read_bytes >= MAX_SIGNATURE_BYTES_PER_IMAGE {
            out.unreadable.push(Rejection::other(
                origin,
                format!(
                    "not read: a referrer manifest of {} bytes, or past the limit of {MAX_SIGNATURE_BYTES_PER_IMAGE} bytes of signatures per image",
                    entry.size
                ),
            ));
            continue;
        }
        let read = async {
            let manifest = client
                .get_manifest(repo, &entry.digest.to_string())
                .await
                .map_err(|e| (true, e.to_string()))?;
            let layer = bundle_layer(&manifest.bytes).map_err(|e| (false, e.to_string()))?;
            let room = MAX_SIGNATURE_BYTES_PER_IMAGE.saturating_sub(read_bytes);
            let cap = MAX_PAYLOAD_BYTES.min(room);
            if usize::try_from(layer.size).map_or(true, |size| size > cap) {
                return Err((
                    false,
                    format!(
                        "not read: its bundle of {} bytes is over the limit of {cap} bytes",
                        layer.size
                    ),
                ));
            }
            let bytes = client
                .get_blob(repo, &layer.digest, cap)
                .await
                .map_err(|e| (true, e.to_string()))?;
            let bundle = Bundle::parse(&bytes).map_err(|e| (false, e.to_string()))?;
            Ok::<_, (bool, String)>((bytes, bundle))
        };
        match read.await {
            Ok((bytes, bundle)) => {
                read_bytes += bytes.len();
                out.candidates.push(SignatureCandidate {
                    payload: bytes,
                    bundle,
                    origin,
                });
            }
            Err((registry, reason)) => {
                out.registry_failures += usize::from(registry);
                out.unreadable.push(Rejection::other(origin, reason));
            }
        }
    }
    out
}

/// The payloads cosign and signet would have written for this image: the
/// repository without tag, the digest, and either no annotations or exactly
/// the ones the policy requires. Layers matching one by digest need no
/// download (see `SignatureStore::signature_layers`); the prediction
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

/// Every signature of one image digest, read once and converted to the
/// bundle model at the edge, for callers that check them against several
/// authorities (`signet-policy`): the candidates, and the layers that could
/// not be read or converted, as rejections.
#[derive(Debug, Default)]
pub struct ImageSignatures {
    /// Signatures converted to the bundle model, in manifest order.
    pub candidates: Vec<SignatureCandidate>,
    /// Layers that could not be used, and why.
    pub unreadable: Vec<Rejection>,
    /// How many of those the registry failed to serve (as opposed to
    /// layers that are malformed): a caller cannot decide about an image
    /// whose evidence it could not read.
    pub registry_failures: usize,
}

impl ImageSignatures {
    /// Whether the image has no signature layer at all.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty() && self.unreadable.is_empty()
    }
}

/// Reads the signatures of `image`'s manifest `policy.digest()` once (with
/// the same bounds as [`verify_image`]: each payload capped and checked
/// against its digest, at most 4 MiB of payloads per image, identical layers
/// dropped) and converts each at the edge: bundle referrers first, then the
/// `.sig` layers.
pub async fn fetch_signatures(
    store: &SignatureStore,
    image: &Reference,
    policy: &ImagePolicy,
) -> Result<ImageSignatures, SignatureStoreError> {
    let predicted = predicted_payloads(image, policy);
    let (bundles, layers) = tokio::join!(
        bundle_referrers(store.client(), image, policy.digest()),
        store.signature_layers(image.repository_ref(), policy.digest(), &predicted)
    );
    let mut layers = layers?;
    let mut out = bundles;
    while let Some(signature) = layers.next().await {
        if matches!(signature.payload, Err(PayloadError::Registry(_))) {
            out.registry_failures += 1;
        }
        let converted = signature
            .payload
            .map_err(|e| e.to_string())
            .and_then(|payload| {
                signature
                    .layer
                    .to_bundle()
                    .map(|bundle| (payload, bundle))
                    .map_err(|e| e.to_string())
            });
        match converted {
            Ok((payload, bundle)) => out.candidates.push(SignatureCandidate {
                payload: payload.to_vec(),
                bundle,
                origin: signature.origin,
            }),
            Err(reason) => out
                .unreadable
                .push(Rejection::other(signature.origin, reason)),
        }
    }
    Ok(out)
}
