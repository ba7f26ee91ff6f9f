//! Errors of trust material, split by blame.

use thiserror::Error;

/// Why trust material could not be read, built or used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A trust document that does not have the expected shape or content.
    /// The document is to blame.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which document.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A document larger than signet reads.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Which document.
        what: String,
        /// The limit.
        limit: usize,
    },
    /// No service in a signing config satisfies the selection rules.
    #[error("no usable {what} in the signing config: {reason}")]
    NoService {
        /// Which kind of service.
        what: &'static str,
        /// Why none qualifies.
        reason: String,
    },
    /// A local file could not be read within its limit.
    #[error("{what}: {source}")]
    Read {
        /// What the file was for (e.g. the variable naming it).
        what: String,
        /// The underlying error (I/O, or larger than the limit).
        #[source]
        source: signet_core::limits::ReadError,
    },
}

impl TrustError {
    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}
