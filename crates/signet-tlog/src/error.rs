//! The one error type of this crate, split by who is to blame.

use thiserror::Error;

/// Who is to blame for a [`TlogError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Blame {
    /// The bytes do not parse as the format they claim to be.
    Input,
    /// Well-formed material that does not check out: a proof that does not
    /// lead to the root, a signature that does not verify, no trusted key.
    Untrusted,
    /// The caller asked for something impossible (an index beyond the tree).
    Misuse,
    /// A hash source (storage behind a proof computation) failed.
    Source,
}

/// Errors of transparency-log formats and math.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlogError {
    /// Bytes that do not parse as the format they claim to be.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which format was being read.
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// Input larger than signet reads.
    #[error("{what} is {size} bytes, larger than the limit of {limit} bytes")]
    TooLarge {
        /// Which format was being read.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An inclusion proof that does not lead to the expected root.
    #[error(
        "inclusion proof for entry {index} in a tree of size {tree_size} does not verify: {reason}"
    )]
    InclusionProof {
        /// The entry's index.
        index: u64,
        /// The tree size the proof is for.
        tree_size: u64,
        /// What did not match (expected and actual values).
        reason: String,
    },
    /// A consistency proof that does not link the two tree heads.
    #[error("consistency proof from tree size {old_size} to {new_size} does not verify: {reason}")]
    ConsistencyProof {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
        /// What did not match (expected and actual values).
        reason: String,
    },
    /// A signature by a known key that does not verify.
    #[error("invalid signature by key {key} on the signed note")]
    InvalidSignature {
        /// The key, as `name+hexid`.
        key: String,
    },
    /// No signature by any trusted key.
    #[error(
        "signed note has no signature by a trusted key (trusted: {trusted}; signed by: {found})"
    )]
    NoTrustedSignature {
        /// The trusted keys, as `name+hexid`.
        trusted: String,
        /// The keys that signed the note, as `name+hexid`.
        found: String,
    },
    /// A checkpoint from another log than the one expected.
    #[error("checkpoint origin {actual:?} does not match the expected origin {expected:?}")]
    OriginMismatch {
        /// The expected origin line.
        expected: String,
        /// The origin line found.
        actual: String,
    },
    /// A signed entry timestamp that does not verify.
    #[error("signed entry timestamp for log index {log_index} does not verify: {reason}")]
    SignedEntryTimestamp {
        /// The entry's log index.
        log_index: i64,
        /// Why it failed.
        reason: String,
    },
    /// The caller asked for something impossible.
    #[error("invalid request: {0}")]
    Misuse(String),
    /// A hash source failed to produce a hash it should hold.
    #[error("hash source: {0}")]
    Source(String),
}

impl TlogError {
    /// Who is to blame.
    pub fn blame(&self) -> Blame {
        match self {
            Self::Malformed { .. } | Self::TooLarge { .. } => Blame::Input,
            Self::InclusionProof { .. }
            | Self::ConsistencyProof { .. }
            | Self::InvalidSignature { .. }
            | Self::NoTrustedSignature { .. }
            | Self::OriginMismatch { .. }
            | Self::SignedEntryTimestamp { .. } => Blame::Untrusted,
            Self::Misuse(_) => Blame::Misuse,
            Self::Source(_) => Blame::Source,
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}
