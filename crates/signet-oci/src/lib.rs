//! Registry access for signet: a registry client and cosign's storage
//! layouts, nothing about what a signature means (that is `signet-verify`)
//! or how signing and verification are orchestrated (`signet-flow`).
//!
//! - [`mod@reference`]: image references (`registry/repo:tag@sha256:…`) parsed the way
//!   docker and go-containerregistry parse them, plus bare repository references
//!   (for `COSIGN_REPOSITORY`).
//! - [`auth`]: registry credentials from podman's `auth.json` and docker's
//!   `config.json`, including credential helpers.
//! - [`www_authenticate`]: the `WWW-Authenticate` challenge parser behind the
//!   bearer-token flow.
//! - [`client`]: [`RegistryClient`], an async client for the OCI distribution API
//!   (manifests and blobs) with size limits and digest verification. It sits on
//!   a token flow (anonymous first, then the registry's challenge) over a
//!   transport (one connection pool, retries of idempotent requests), both
//!   configured by [`ClientOptions`].
//! - [`listing`]: the repositories of a registry (`/v2/_catalog`) and the
//!   tags of a repository, page by page.
//! - [`manifest`]: lenient serde types for OCI/Docker image manifests and indexes.
//! - [`resolve`]: from an image reference to the manifest digests a command
//!   works on (with `--recursive`, an index and its children).
//! - [`signatures`]: cosign's legacy `sha256-<hex>.sig` layout: reading
//!   signature layers and appending to them without losing concurrent writes.
//! - [`referrers`]: OCI 1.1 referrers (Sigstore bundles attached to images):
//!   the referrers API, or the `sha256-<hex>` fallback index kept with the
//!   same discipline as `.sig` appends.
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
pub mod listing;
pub mod manifest;
mod options;
pub mod reference;
pub mod referrers;
pub mod resolve;
mod response;
mod scheme;
pub mod signatures;
mod text;
mod tls;
mod token;
mod transport;
pub mod www_authenticate;

pub use auth::{AuthError, Credential, credential_for};
pub use client::{Descriptor, Manifest, ManifestPut, RegistryClient};
pub use error::RegistryError;
pub use options::{ClientOptions, TlsConfigError, TlsOptions};
pub use reference::{Reference, ReferenceError, RepositoryRef};
pub use signet_core::Digest;
// Older call sites name the helper through the crate root.
pub(crate) use text::snippet;
