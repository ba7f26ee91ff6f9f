//! Clients for the Sigstore services a keyless signature needs, and the
//! trust material refresh they rely on.
//!
//! - [`oidc`]: the identity token: `--identity-token` (a token or a file),
//!   `SIGSTORE_ID_TOKEN`, ambient GitHub/Gitea/Forgejo Actions credentials,
//!   cosign's filesystem provider.
//! - [`fulcio`]: a code-signing certificate for an ephemeral key, checked
//!   against the trusted Fulcio CAs and CT logs before it is used.
//! - [`rekor`]: transparency-log entries in Rekor v1 (hashedrekord and dsse
//!   0.0.1) and Rekor v2 (hashedrekord 0.0.2), each answer checked (log key,
//!   SET, inclusion proof, checkpoint, body) before it is kept.
//! - [`tsa`]: RFC 3161 timestamps over a signature, verified against the
//!   trusted TSA chains.
//! - [`tuf`]: refreshing the public-good trusted root over TUF, on request
//!   or when the cached copy is stale, into the user's cache directory.
//!
//! - [`services`]: which services a signature uses (flags, a signing config
//!   and its selection rules, or the public-good default).
//! - [`trust`]: the trusted root and default signing config (`--trusted-root`,
//!   `SIGSTORE_*`, the TUF cache, the shipped snapshot), as the checks need it.
//! - [`signing`]: an ephemeral key certified by Fulcio ([`signing::KeylessSigner`]),
//!   timestamps and log entries for a signature ([`signing::Recorder`]), and
//!   what is stored: a v0.3 bundle or cosign's `.sig` layer annotations.
//!
//! Every client shares one [`HttpClient`] (rustls, timeouts, capped reads)
//! and fails with a [`ServiceError`] naming the service, the URL it called
//! and the server's own message.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod fulcio;
mod http;
pub mod oidc;
pub mod rekor;
pub mod services;
pub mod signing;
pub mod trust;
pub mod tsa;
pub mod tuf;

pub use error::{ServiceError, SigningError, TokenError, TufError};
pub use http::{ClientOptions, HttpClient};

#[cfg(test)]
mod properties;
#[cfg(test)]
mod test_pki;
#[cfg(test)]
mod test_server;
