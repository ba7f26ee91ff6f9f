//! Formats and crypto for signet, with no network I/O. The only file access
//! is [`limits::read_file`] and its siblings, the capped reader every local
//! input goes through.
//!
//! - [`keys`]: cosign key files (scrypt + secretbox), key import, public keys,
//!   and the [`keys::Signer`] interface KMS backends implement.
//! - [`payload`]: the simple-signing payload an image signature covers.
//! - [`signature_manifest`]: the legacy `sha256-<digest>.sig` signature manifest
//!   and its config blob, byte-compatible with cosign.
//! - [`artifact`]: what a blob signature covers, hashed as it streams.
//! - [`limits`]: caps on untrusted input and the capped reads of local files.
//! - [`bundle`]: Sigstore bundles (v0.3) and the single signed-artifact model
//!   every verification goes through; [`legacy_blob_bundle`]: cosign's older
//!   `{"base64Signature": ...}` blob bundle, converted into that model.
//!
//! ```
//! use signet_core::keys::PrivateKey;
//! use signet_core::payload::SimpleSigningPayload;
//!
//! let key = PrivateKey::generate_p256().unwrap();
//! let digest = signet_core::Digest::sha256_of(b"manifest bytes");
//! let payload = SimpleSigningPayload::new("registry.example/app", digest, &Default::default());
//! let signature = key.sign(&payload.to_bytes()).unwrap();
//! key.public_key().verify(&payload.to_bytes(), &signature).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod artifact;
pub mod bundle;
mod digest;
pub mod error;
pub mod gojson;
pub mod keys;
pub mod legacy_blob_bundle;
pub mod limits;
pub mod payload;
pub mod signature_manifest;

pub use artifact::Artifact;
pub use digest::Digest;
pub use error::{FormatError, KeyError, SignatureError};
