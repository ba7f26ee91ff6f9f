//! Verification for signet: a [`Verifier`] built once from trust material
//! (trusted keys and/or a Sigstore trusted root), a per-call policy, and
//! result records that say what was checked.
//!
//! Every signature, whether read from a legacy `.sig` manifest or from a
//! Sigstore bundle, arrives here as a [`Bundle`](signet_core::bundle::Bundle)
//! plus what it signs, so there is one verification path for key-based and
//! keyless signatures, blobs and images:
//!
//! - [`Verifier::builder`]: trusted keys, a [`TrustedRoot`](signet_trust::TrustedRoot)
//!   (converted once into CAs, CT logs, timestamp authorities and Rekor
//!   logs), thresholds as positive numbers, and the opt-outs named unsafe.
//! - [`Verifier::verify_bundle`]: the checks in sigstore-go's order (bundle
//!   certificates, transparency log, timestamps, certificate chain and SCTs
//!   at each verified signing time, signature, identity), each failing with
//!   a [`CheckError`] that names the check and the expected and actual values.
//! - [`SignerPolicy`]: who may have signed — the trusted keys, or a
//!   [`CertificateIdentity`] (SAN and OIDC issuer, exact or regexp, CI claims).
//! - [`VerifiedBundle`]: who signed, which log entries and times vouch for it.
//!
//! ```
//! use signet_core::keys::PrivateKey;
//! use signet_core::bundle::Bundle;
//! use signet_core::{Artifact, Digest};
//! use signet_verify::{Signer, SignerPolicy, TrustedKey, Verifier};
//!
//! let key = PrivateKey::generate_p256().unwrap();
//! let blob = Artifact::from_bytes(b"release notes".to_vec());
//! let bundle = Bundle::for_key_signature(blob.digest().clone(), key.sign(b"release notes").unwrap(), key.public_key().hint());
//! // This signature was never logged, so the log check is skipped, by name.
//! let verifier = Verifier::builder()
//!     .trusted_key(TrustedKey::new("release.pub", key.public_key()))
//!     .unsafe_skip_transparency_log()
//!     .build()
//!     .unwrap();
//! let verified = verifier.verify_blob(&blob, &bundle, &SignerPolicy::TrustedKeys).unwrap();
//! assert_eq!(verified.verification.signer, Signer::Key { key: "release.pub".into() });
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod certificate;
mod content;
mod error;
mod identity;
mod image;
mod keys;
mod material;
mod result;
mod timestamps;
mod tlog;
mod trust;
mod verifier;

pub use content::SignedContent;
pub use error::{Blame, Check, CheckError, ConfigError, Rejection, VerifyError};
pub use identity::{CertificateIdentity, Matcher, SignerPolicy, WorkflowClaim};
pub use image::{
    ImagePolicy, ImageVerification, SignatureCandidate, VerifiedImage, VerifiedSignature,
};
pub use keys::TrustedKey;
pub use result::{
    CertificateSigner, Signer, StatementSummary, TimeSource, VerifiedBundle, VerifiedLogEntry,
    VerifiedTime,
};
pub use tlog::MAX_CLOCK_SKEW;
pub use trust::RekorLog;
pub use verifier::{VerifiedBlob, Verifier, VerifierBuilder};
