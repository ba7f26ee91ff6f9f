//! Errors of registry access, split by who is to blame.

use signet_core::Digest;
use thiserror::Error;

use crate::auth::AuthError;
use crate::reference::ReferenceError;

/// A registry operation failed.
///
/// Messages are one line and name the registry, repository and reference
/// involved; `detail` fields carry the HTTP status and the registry's own
/// error code and message (shortened), e.g. `HTTP 404, MANIFEST_UNKNOWN: manifest unknown`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The manifest, blob or repository does not exist (HTTP 404).
    #[error("{what} not found ({detail})")]
    NotFound {
        /// What was looked for, e.g. `manifest "latest" in ghcr.io/org/app`.
        what: String,
        /// Status and registry error.
        detail: String,
    },
    /// The registry wants (other) credentials (HTTP 401).
    #[error(
        "unauthorized: {what} ({detail}); check the registry credentials (docker login, or --registry-username/--registry-password)"
    )]
    Unauthorized {
        /// The operation refused.
        what: String,
        /// Status and registry error.
        detail: String,
    },
    /// The credentials are valid but lack permission (HTTP 403).
    #[error("access denied: {what} ({detail})")]
    Denied {
        /// The operation refused.
        what: String,
        /// Status and registry error.
        detail: String,
    },
    /// A response body exceeded the configured limit.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Content does not hash to the digest it was requested or announced by.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was being read or written.
        what: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// Any other unsuccessful HTTP status (5xx, 400, 405, …).
    #[error("{what}: registry error ({detail})")]
    Http {
        /// The operation.
        what: String,
        /// HTTP status code.
        status: u16,
        /// Status and registry error.
        detail: String,
    },
    /// The registry could not be reached or the connection failed (DNS,
    /// refused connection, TLS, timeout).
    #[error("cannot reach registry {registry}: {message}")]
    Transport {
        /// The registry host.
        registry: String,
        /// The underlying error, with a hint where one helps.
        message: String,
    },
    /// The registry answered with something that breaks the protocol.
    #[error("invalid response for {what}: {reason}")]
    InvalidResponse {
        /// The operation.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A reference or tag passed in is malformed.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Credentials could not be read.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The HTTP client could not be built.
    #[error("cannot set up the registry client: {0}")]
    Setup(String),
}

impl RegistryError {
    /// Whether this is [`RegistryError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The HTTP status behind this error, where there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::NotFound { .. } => Some(404),
            Self::Unauthorized { .. } => Some(401),
            Self::Denied { .. } => Some(403),
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}
