//! Verification for signet: a [`Verifier`] built once from trust material,
//! a per-call policy, and result records that say what was checked.
//!
//! Every signature, whether read from a legacy `.sig` manifest or from a
//! Sigstore bundle, arrives here as a [`bundle::Bundle`](signet_core::bundle::Bundle)
//! plus the signed bytes, so there is one verification path.
//!
//! ```
//! use signet_core::keys::PrivateKey;
//! use signet_core::bundle::Bundle;
//! use signet_core::Digest;
//! use signet_verify::{TrustedKey, Verifier};
//!
//! let key = PrivateKey::generate_p256().unwrap();
//! let blob = b"release notes";
//! let bundle = Bundle::for_key_signature(Digest::sha256_of(blob), key.sign(blob).unwrap(), key.public_key().hint());
//! let verifier = Verifier::new(vec![TrustedKey::new("release.pub", key.public_key())]).unwrap();
//! let verified = verifier.verify_blob(blob, &bundle).unwrap();
//! assert_eq!(verified.key, "release.pub");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod image;
mod verifier;

pub use error::{ConfigError, Rejection, VerifyError};
pub use image::{
    ImagePolicy, ImageVerification, SignatureCandidate, VerifiedImage, VerifiedSignature,
};
pub use verifier::{TlogCheck, TrustedKey, VerifiedBlob, Verifier};
