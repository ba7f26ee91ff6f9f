//! Signing images: resolve, sign, record in the transparency log, store.
//!
//! One signer (a key, a KMS key, or an ephemeral key certified by Fulcio)
//! signs every manifest; a [`Recorder`] timestamps and logs each signature
//! (nothing, with `--tlog-upload=false` and no timestamp authority); the
//! result is stored in one or both layouts:
//!
//! - **legacy** (cosign 1/2, skopeo, podman, Harbor): a simple-signing
//!   payload appended as a layer of the `sha256-<hex>.sig` manifest, with
//!   cosign's `certificate`, `chain`, `bundle` (Rekor SET) and
//!   `rfc3161timestamp` annotations;
//! - **referrer** (cosign 3): a DSSE envelope over an in-toto statement
//!   (`https://sigstore.dev/cosign/sign/v1`), in a Sigstore bundle v0.3
//!   attached to the image as an OCI 1.1 referrer (through the referrers
//!   API, or the `sha256-<hex>` fallback index).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::KeyError;
use signet_core::bundle::BUNDLE_V03_MEDIA_TYPE;
use signet_core::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use signet_core::intoto::{COSIGN_SIGN_PREDICATE_TYPE, Statement};
use signet_core::keys::Signer;
use signet_core::payload::SimpleSigningPayload;
use signet_core::referrer::{BundleReferrer, ContentDescriptor};
use signet_core::signature_manifest::{
    CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, Layer, REKOR_BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION,
};
use signet_sigstore::SigningError;
use signet_sigstore::signing::{
    Evidence, KeylessSigner, Recorder, SignedContent, SignerMaterial, bundle, legacy_annotations,
};
use thiserror::Error;

use signet_oci::Reference;
use signet_oci::referrers::{Attached, ReferrerStore, ReferrersError};
use signet_oci::resolve::{ImageLookupError, resolve_image};
use signet_oci::signatures::{AppendOutcome, SignatureStore, SignatureStoreError};

/// Signing an image failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    /// The image could not be looked up.
    #[error(transparent)]
    Image(#[from] ImageLookupError),
    /// Storing the signature in the `.sig` layout failed.
    #[error(transparent)]
    Store(#[from] SignatureStoreError),
    /// Attaching the bundle as a referrer failed.
    #[error(transparent)]
    Referrer(#[from] ReferrersError),
    /// The registry failed while describing the image.
    #[error(transparent)]
    Registry(#[from] signet_oci::RegistryError),
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
    /// Timestamping or logging the signature failed.
    #[error("{reference}: {error}")]
    Record {
        /// The image.
        reference: String,
        /// What failed.
        error: SigningError,
    },
}

/// Where signatures are stored (`--registry-referrers-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// The `sha256-<hex>.sig` tag (the default: every cosign, skopeo,
    /// podman and Harbor reads it).
    #[default]
    Legacy,
    /// A Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign 3's default).
    Referrer,
    /// Both.
    Both,
}

impl Layout {
    fn legacy(self) -> bool {
        matches!(self, Self::Legacy | Self::Both)
    }

    fn referrer(self) -> bool {
        matches!(self, Self::Referrer | Self::Both)
    }

    /// The layout signatures whose entries go to `rekor_v2` (a Rekor v2
    /// log, if that is where they are logged) can be stored in, when `self`
    /// was asked for (`explicit`: named by the user rather than the
    /// default). A Rekor v2 entry has no signed entry timestamp for the
    /// `.sig` layout's bundle annotation, so a signature stored there could
    /// never be verified: without an explicit layout the bundle layout is
    /// chosen, as cosign 3 does (`switched`), and an explicit legacy or
    /// dual layout is refused.
    pub fn for_log(
        self,
        explicit: bool,
        rekor_v2: Option<&str>,
    ) -> Result<LayoutChoice, LayoutError> {
        match rekor_v2 {
            Some(log) if self.legacy() => {
                if explicit {
                    Err(LayoutError {
                        log: log.to_owned(),
                    })
                } else {
                    Ok(LayoutChoice {
                        layout: Self::Referrer,
                        switched: true,
                    })
                }
            }
            _ => Ok(LayoutChoice {
                layout: self,
                switched: false,
            }),
        }
    }
}

/// What [`Layout::for_log`] settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutChoice {
    /// Where signatures go.
    pub layout: Layout,
    /// Whether that is not the (default) layout asked for.
    pub switched: bool,
}

/// A layout that cannot carry the log's entries was asked for explicitly.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "the transparency log {log} is a Rekor v2 log, whose entries the legacy .sig layout cannot carry (it has no signed entry timestamp)"
)]
pub struct LayoutError {
    /// The Rekor v2 log.
    pub log: String,
}

/// Options for [`sign_image`].
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// `-a key=value` claims: the payload's `optional`, or the statement
    /// subject's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Also sign every manifest an index lists.
    pub recursive: bool,
    /// Where to store the signatures.
    pub layout: Layout,
    /// The `docker-reference` to claim instead of the image's repository
    /// (cosign's `--sign-container-identity`).
    pub claimed_identity: Option<String>,
    /// A payload to sign instead of the generated one (cosign's `--payload`);
    /// it must be a simple-signing payload for the manifest being signed.
    pub payload: Option<Vec<u8>>,
    /// A certificate for the signing key (`--certificate` with `--key`),
    /// stored with each legacy signature.
    pub certificate: Option<CertificateAnnotations>,
    /// Store the signature in the registry (cosign's `--upload`). Without it
    /// the image is only resolved, and the signature returned (nothing is
    /// logged either).
    pub upload: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            annotations: BTreeMap::new(),
            recursive: false,
            layout: Layout::default(),
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

/// Who signs, and how each signature is recorded.
pub struct SigningIdentity<'a> {
    /// The signer.
    pub signer: &'a dyn Signer,
    /// What vouches for its key: its certificate, or the public key.
    pub material: SignerMaterial,
    /// Timestamp authorities and logs (empty to record nothing).
    pub recorder: &'a Recorder,
}

impl<'a> SigningIdentity<'a> {
    /// A key pair's identity: the public key, recorded by `recorder`.
    pub fn key(signer: &'a dyn Signer, recorder: &'a Recorder) -> Self {
        Self {
            material: SignerMaterial::PublicKey(signer.public_key().clone()),
            signer,
            recorder,
        }
    }

    /// A keyless identity: the ephemeral key and its Fulcio certificate,
    /// recorded by `recorder`.
    pub fn keyless(signer: &'a KeylessSigner, recorder: &'a Recorder) -> Self {
        Self {
            material: SignerMaterial::Certificate(Box::new(signer.certificate().clone())),
            signer,
            recorder,
        }
    }
}

/// Where the image's signature registry state lives.
pub struct Stores<'a> {
    /// The `.sig` layout (with `COSIGN_REPOSITORY`).
    pub signatures: &'a SignatureStore,
    /// OCI 1.1 referrers (in the image's own repository).
    pub referrers: &'a ReferrerStore,
}

/// One manifest that was signed.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The manifest, by digest.
    pub reference: Reference,
    /// The `.sig` append, when that layout was written (`None` when not
    /// uploaded or only the referrer layout was written).
    pub outcome: Option<AppendOutcome>,
    /// The referrer, when that layout was written.
    pub referrer: Option<Attached>,
    /// The log indexes of the entries made.
    pub log_indexes: Vec<u64>,
    /// The signed simple-signing payload (the legacy layout's).
    pub payload: Vec<u8>,
    /// Its signature, base64 as the layer annotation holds it.
    pub signature_b64: String,
}

/// Resolves `image` to a digest once, signs it (and with `recursive`, every
/// child of an index), records and stores each signature.
pub async fn sign_image(
    stores: &Stores<'_>,
    identity: &SigningIdentity<'_>,
    image: &Reference,
    options: &SignOptions,
) -> Result<Vec<SignedManifest>, SignError> {
    // A digest needs no lookup when nothing is uploaded.
    let digests = match (image.digest(), options.upload, options.recursive) {
        (Some(digest), false, false) => vec![digest.clone()],
        _ => resolve_image(stores.signatures.client(), image, options.recursive).await?,
    };
    let mut signed = Vec::with_capacity(digests.len());
    for digest in digests {
        let payload = payload_for(image, &digest, options)?;
        let signature = identity
            .signer
            .sign(&payload)
            .await
            .map_err(|e| signer_error(image, identity, e))?;
        let mut done = SignedManifest {
            reference: image.with_digest(digest.clone()),
            outcome: None,
            referrer: None,
            log_indexes: Vec::new(),
            signature_b64: B64.encode(&signature),
            payload,
        };
        if !options.upload {
            signed.push(done);
            continue;
        }
        if options.layout.legacy() {
            let (outcome, evidence) = store_legacy(
                stores.signatures,
                identity,
                image,
                &digest,
                &done.payload,
                &signature,
                options,
            )
            .await?;
            done.outcome = Some(outcome);
            done.log_indexes
                .extend(evidence.tlog_entries.iter().map(|e| e.log_index));
        }
        if options.layout.referrer() {
            let (attached, evidence) =
                sign_referrer(stores.referrers, identity, image, &digest, options).await?;
            done.referrer = Some(attached);
            done.log_indexes
                .extend(evidence.tlog_entries.iter().map(|e| e.log_index));
        }
        signed.push(done);
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

fn signer_error(image: &Reference, identity: &SigningIdentity<'_>, error: KeyError) -> SignError {
    SignError::Signer {
        reference: image.to_string(),
        key: identity.signer.describe(),
        error,
    }
}

fn record_error(image: &Reference, error: SigningError) -> SignError {
    SignError::Record {
        reference: image.to_string(),
        error,
    }
}

async fn store_legacy(
    store: &SignatureStore,
    identity: &SigningIdentity<'_>,
    image: &Reference,
    digest: &Digest,
    payload: &[u8],
    signature: &[u8],
    options: &SignOptions,
) -> Result<(AppendOutcome, Evidence), SignError> {
    let evidence = identity
        .recorder
        .record(
            &SignedContent::Message {
                digest: &Digest::sha256_of(payload),
                signature,
            },
            &identity.material,
        )
        .await
        .map_err(|e| record_error(image, e))?;
    let mut layer = Layer::simple_signing(payload, B64.encode(signature));
    layer
        .annotations
        .extend(legacy_annotations(&identity.material, &evidence));
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
    let logged = layer.annotations.contains_key(REKOR_BUNDLE_ANNOTATION);
    let public = identity.signer.public_key();
    // The same payload signed by the same key is already there, with log
    // evidence if this signature has some (a signature stored without its
    // log entry would not verify without --insecure-ignore-tlog).
    let same_key = |existing: &Layer| {
        (!logged || existing.annotations.contains_key(REKOR_BUNDLE_ANNOTATION))
            && existing
                .annotations
                .get(SIGNATURE_ANNOTATION)
                .and_then(|s| B64.decode(s.trim()).ok())
                .is_some_and(|sig| public.verify(payload, &sig).is_ok())
    };
    let outcome = store
        .append(image.repository_ref(), digest, payload, layer, &same_key)
        .await?;
    Ok((outcome, evidence))
}

async fn sign_referrer(
    referrers: &ReferrerStore,
    identity: &SigningIdentity<'_>,
    image: &Reference,
    digest: &Digest,
    options: &SignOptions,
) -> Result<(Attached, Evidence), SignError> {
    let repo = image.repository_ref();
    let described = referrers
        .client()
        .head_manifest(repo, &digest.to_string())
        .await?
        .ok_or_else(|| {
            SignError::Registry(signet_oci::RegistryError::NotFound {
                what: format!("manifest {digest} in {repo}"),
                detail: "HTTP 404".into(),
            })
        })?;
    let mut statement = Statement::cosign_sign(digest, &options.annotations);
    // cosign 3 leaves the subject unnamed; in-toto says it SHOULD have a
    // name, and sigstore-python refuses statements whose subjects have none.
    for subject in &mut statement.subjects {
        subject.name = image.repo_name();
    }
    let statement = statement.to_json().into_bytes();
    let signature = identity
        .signer
        .sign(&dsse::pae(IN_TOTO_PAYLOAD_TYPE, &statement))
        .await
        .map_err(|e| signer_error(image, identity, e))?;
    let envelope = Envelope {
        payload: statement,
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
        signatures: vec![dsse::Signature {
            sig: signature,
            keyid: String::new(),
        }],
    };
    let content = SignedContent::Dsse(&envelope);
    let evidence = identity
        .recorder
        .record(&content, &identity.material)
        .await
        .map_err(|e| record_error(image, e))?;
    let bundle_json = bundle(&content, &identity.material, &evidence)
        .to_json()
        .into_bytes();
    let referrer = BundleReferrer {
        bundle_media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        bundle_digest: Digest::sha256_of(&bundle_json),
        bundle_size: bundle_json.len() as u64,
        subject: ContentDescriptor {
            media_type: described.media_type,
            digest: described.digest,
            size: described.size,
        },
        content: "dsse-envelope".to_owned(),
        predicate_type: Some(COSIGN_SIGN_PREDICATE_TYPE.to_owned()),
        created: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    };
    let manifest = referrer.manifest_bytes();
    let attached = referrers
        .attach(
            repo,
            digest,
            &manifest,
            &[&bundle_json],
            BUNDLE_V03_MEDIA_TYPE,
        )
        .await?;
    Ok((attached, evidence))
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn a_rekor_v2_log_moves_the_default_layout_and_refuses_an_explicit_one() {
        let v2 = Some("https://log.example.test");
        assert_eq!(
            Layout::Legacy.for_log(false, v2),
            Ok(LayoutChoice {
                layout: Layout::Referrer,
                switched: true
            })
        );
        for explicit in [Layout::Legacy, Layout::Both] {
            assert_eq!(
                explicit.for_log(true, v2),
                Err(LayoutError {
                    log: "https://log.example.test".into()
                })
            );
        }
        assert_eq!(
            Layout::Referrer.for_log(true, v2),
            Ok(LayoutChoice {
                layout: Layout::Referrer,
                switched: false
            })
        );
        for layout in [Layout::Legacy, Layout::Both, Layout::Referrer] {
            assert_eq!(
                layout.for_log(true, None),
                Ok(LayoutChoice {
                    layout,
                    switched: false
                })
            );
        }
    }
}
