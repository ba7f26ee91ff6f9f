//! Registry access for signet.
//!
//! - [`mod@reference`]: image references (`registry/repo:tag@sha256:…`) parsed the way
//!   docker and go-containerregistry parse them, plus bare repository references
//!   (for `COSIGN_REPOSITORY`).
//! - [`auth`]: registry credentials from podman's `auth.json` and docker's
//!   `config.json`, including credential helpers.
//! - [`www_authenticate`]: the `WWW-Authenticate` challenge parser behind the
//!   bearer-token flow.
//! - [`client`]: [`RegistryClient`], an async client for the OCI distribution API
//!   (manifests and blobs) with size limits, digest verification, token auth and
//!   retries of idempotent requests.
//! - [`manifest`]: lenient serde types for OCI/Docker image manifests and indexes.
//! - [`layout`]: OCI image layouts on disk, as `cosign save` writes them.
//!
//! Everything read from the network or from config files is untrusted: parsers
//! return errors instead of panicking, reads are bounded, and digests are
//! checked against the bytes actually received.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod client;
mod error;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod resolve;
mod response;
pub mod sign;
pub mod signatures;
mod tls;
mod transport;
pub mod www_authenticate;

pub use auth::{AuthError, Credential, credential_for};
pub use client::{ClientOptions, Descriptor, Manifest, RegistryClient};
pub use error::RegistryError;
pub use reference::{Reference, ReferenceError, RepositoryRef};
pub use signet_core::Digest;

/// Shortens untrusted text before it goes into an error message, and keeps the
/// message on one line.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}
