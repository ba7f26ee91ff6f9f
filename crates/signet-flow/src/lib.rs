//! The sign and verify flows for container images, in one place.
//!
//! A flow strings the library crates together: [`signet_oci`] resolves the
//! image and reads or writes its signatures, [`signet_core`] builds the
//! payload, a [`Signer`](signet_core::keys::Signer) signs it, and
//! [`signet_verify`] decides whether what the registry holds is acceptable.
//! The CLI calls these functions once per image; services (a registry gate,
//! an admission webhook, `verify --policy`) are meant to call the same ones.
//!
//! - [`sign`]: resolve → payload → sign (a key, a KMS key, or an ephemeral
//!   key certified by Fulcio) → timestamp and log → store in the `.sig`
//!   layout, as an OCI 1.1 referrer bundle, or both.
//! - [`blob`]: sign a blob, log it, and make its v0.3 bundle.
//! - [`verify`]: resolve → fetch the bundle referrers and the signature
//!   layers → convert each to the
//!   bundle model at the edge → [`Verifier`](signet_verify::Verifier).
//! - [`detached`]: resolve → check one signature given on the command line
//!   (`verify --signature`).
//! - [`local`]: an image saved to disk by `cosign save` (`verify
//!   --local-image`) → the same conversion and verifier, no registry.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blob;
pub mod detached;
pub mod local;
pub mod sign;
pub mod verify;
