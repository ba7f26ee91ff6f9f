use std::fmt;

use signet_core::Digest;
use thiserror::Error;

/// A verifier that cannot be built. The caller is to blame.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key to verify against.
    #[error("no trusted keys: give at least one --key")]
    NoTrustedKeys,
}

/// Why one signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// Where the signature came from (`layer 2 of …:sha256-….sig`).
    pub origin: String,
    /// What failed, naming expected and actual values.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// Verification failed. Each variant is a distinct outcome a caller (and an
/// exit code) can act on.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The image has no signatures at all.
    #[error("no signatures found for {digest}")]
    NoSignatures {
        /// The image digest.
        digest: Digest,
    },
    /// Signatures exist, but none satisfies the keys and the policy.
    #[error("no matching signatures for {digest}: {}", summarize(rejections))]
    NoMatchingSignature {
        /// The image (or blob) digest.
        digest: Digest,
        /// Why each candidate was rejected.
        rejections: Vec<Rejection>,
    },
}

fn summarize(rejections: &[Rejection]) -> String {
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = rejections
        .iter()
        .take(SHOWN)
        .map(|r| r.to_string())
        .collect();
    if rejections.len() > SHOWN {
        parts.push(format!("and {} more", rejections.len() - SHOWN));
    }
    parts.join("; ")
}
