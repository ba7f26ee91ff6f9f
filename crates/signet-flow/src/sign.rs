//! Signing images with a key: resolve, build the payload, sign, store.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::KeyError;
use signet_core::keys::Signer;
use signet_core::payload::SimpleSigningPayload;
use signet_core::signature_manifest::{
    CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, Layer, SIGNATURE_ANNOTATION,
};
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
    /// A `--payload` given in place of the generated one is not for this image.
    #[error("{reference}: the payload given is not for this image: {reason}")]
    Payload {
        /// The image.
        reference: String,
        /// What does not match.
        reason: String,
    },
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
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// `-a key=value` claims, written to the payload's `optional`.
    pub annotations: BTreeMap<String, String>,
    /// Also sign every manifest an index lists.
    pub recursive: bool,
    /// The `docker-reference` to claim instead of the image's repository
    /// (cosign's `--sign-container-identity`).
    pub claimed_identity: Option<String>,
    /// A payload to sign instead of the generated one (cosign's `--payload`);
    /// it must be a simple-signing payload for the manifest being signed.
    pub payload: Option<Vec<u8>>,
    /// A certificate for the signing key, stored with each signature.
    pub certificate: Option<CertificateAnnotations>,
    /// Store the signature in the registry (cosign's `--upload`). Without it
    /// the image is only resolved, and the signature returned.
    pub upload: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            annotations: BTreeMap::new(),
            recursive: false,
            claimed_identity: None,
            payload: None,
            certificate: None,
            upload: true,
        }
    }
}

/// A certificate (and its chain) for the signing key, in PEM, stored with
/// each signature as the `dev.sigstore.cosign/certificate` and `/chain`
/// layer annotations. The caller checks it against the key before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAnnotations {
    /// The leaf certificate.
    pub certificate_pem: String,
    /// Its CA chain, issuer first.
    pub chain_pem: Option<String>,
}

/// One manifest that was signed.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The manifest, by digest.
    pub reference: Reference,
    /// Whether a signature was added or already present; `None` when not
    /// uploaded.
    pub outcome: Option<AppendOutcome>,
    /// The signed payload.
    pub payload: Vec<u8>,
    /// The signature, base64 as the layer annotation holds it.
    pub signature_b64: String,
}

/// Resolves `image` to a digest once, signs it (and with `recursive`, every
/// child of an index), and stores each signature as cosign does.
pub async fn sign_image(
    store: &SignatureStore,
    signer: &dyn Signer,
    image: &Reference,
    options: &SignOptions,
) -> Result<Vec<SignedManifest>, SignError> {
    // A digest needs no lookup when nothing is uploaded.
    let digests = match (image.digest(), options.upload, options.recursive) {
        (Some(digest), false, false) => vec![digest.clone()],
        _ => resolve_image(store.client(), image, options.recursive).await?,
    };
    let mut signed = Vec::with_capacity(digests.len());
    for digest in digests {
        signed.push(sign_digest(store, signer, image, digest, options).await?);
    }
    Ok(signed)
}

/// The payload to sign for `digest`: the one given (checked to be for this
/// digest), or the one cosign would build.
fn payload_for(
    image: &Reference,
    digest: &Digest,
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let Some(given) = &options.payload else {
        // cosign names the image's repository, without tag, in the payload.
        let identity = options
            .claimed_identity
            .clone()
            .unwrap_or_else(|| image.repo_name());
        return Ok(
            SimpleSigningPayload::new(identity, digest.clone(), &options.annotations).to_bytes(),
        );
    };
    let mismatch = |reason: String| SignError::Payload {
        reference: image.to_string(),
        reason,
    };
    let parsed = SimpleSigningPayload::parse(given).map_err(|e| mismatch(e.to_string()))?;
    if &parsed.manifest_digest != digest {
        return Err(mismatch(format!(
            "it names {}, the image is {digest}",
            parsed.manifest_digest
        )));
    }
    Ok(given.clone())
}

async fn sign_digest(
    store: &SignatureStore,
    signer: &dyn Signer,
    image: &Reference,
    digest: Digest,
    options: &SignOptions,
) -> Result<SignedManifest, SignError> {
    let payload = payload_for(image, &digest, options)?;
    let signature = signer
        .sign(&payload)
        .await
        .map_err(|error| SignError::Signer {
            reference: image.to_string(),
            key: signer.describe(),
            error,
        })?;
    let signature_b64 = B64.encode(&signature);
    let reference = image.with_digest(digest.clone());
    if !options.upload {
        return Ok(SignedManifest {
            reference,
            outcome: None,
            payload,
            signature_b64,
        });
    }
    let mut layer = Layer::simple_signing(&payload, signature_b64.clone());
    if let Some(certificate) = &options.certificate {
        layer.annotations.insert(
            CERTIFICATE_ANNOTATION.to_owned(),
            certificate.certificate_pem.clone(),
        );
        if let Some(chain) = &certificate.chain_pem {
            layer
                .annotations
                .insert(CHAIN_ANNOTATION.to_owned(), chain.clone());
        }
    }
    let public = signer.public_key();
    let same_key = |existing: &Layer| {
        existing
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .and_then(|s| B64.decode(s.trim()).ok())
            .is_some_and(|sig| public.verify(&payload, &sig).is_ok())
    };
    let outcome = store
        .append(image.repository_ref(), &digest, &payload, layer, &same_key)
        .await?;
    Ok(SignedManifest {
        reference,
        outcome: Some(outcome),
        payload,
        signature_b64,
    })
}
