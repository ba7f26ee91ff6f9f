//! Formats and crypto for signet, with no network I/O. The only file access
//! is [`limits::read_file`] and its siblings, the capped reader every local
//! input goes through.
//!
//! - [`keys`]: cosign key files (scrypt + secretbox), key import, public keys,
//!   and the [`keys::Signer`] interface KMS backends implement.
//! - [`payload`]: the simple-signing payload an image signature covers.
//! - [`reference`]: image and repository references, normalised as docker
//!   and go-containerregistry normalise them (`x` is `index.docker.io/library/x`).
//! - [`signature_manifest`]: the legacy `sha256-<digest>.sig` signature manifest
//!   and its config blob, byte-compatible with cosign.
//! - [`artifact`]: what a blob signature covers, hashed as it streams.
//! - [`limits`]: caps on untrusted input and the capped reads of local files.
//! - [`bundle`]: Sigstore bundles (v0.1 to v0.3) and the single
//!   signed-artifact model every verification goes through; cosign's legacy
//!   Rekor and timestamp annotations convert into it; [`legacy_blob_bundle`]:
//!   cosign's older `{"base64Signature": ...}` blob bundle, converted into it.
//! - [`dsse`]: DSSE envelopes and their pre-authentication encoding.
//! - [`intoto`]: in-toto statements (v0.1, v1) and `cosign sign`'s statement.
//! - [`rekor`]: Rekor entry kinds (hashedrekord 0.0.1/0.0.2, dsse 0.0.1,
//!   intoto 0.0.1/0.0.2): proposals, canonical bodies, claims.
//! - [`jcs`]: RFC 8785 canonical JSON.
//! - [`hash`], [`key_details`]: the algorithm names Sigstore documents use.
//! - [`protojson`], [`pem`]: protobuf-JSON and multi-block PEM as Go writes them.
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
pub mod dsse;
pub mod error;
pub mod gojson;
pub mod hash;
pub mod intoto;
pub mod jcs;
mod json_edit;
pub mod key_details;
pub mod keys;
pub mod legacy_blob_bundle;
pub mod limits;
pub mod payload;
pub mod pem;
pub mod protojson;
pub mod reference;
pub mod rekor;
pub mod signature_manifest;

pub use artifact::Artifact;
pub use digest::Digest;
pub use error::{FormatError, KeyError, SignatureError};
