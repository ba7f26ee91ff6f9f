//! The engine's error type, split by who is to blame.

use signet_tlog::TlogError;
use thiserror::Error;

/// Errors of the log engine and its stores.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogError {
    /// An entry larger than the log accepts (the caller's input).
    #[error("entry is {size} bytes, larger than the limit of {limit} bytes")]
    EntryTooLarge {
        /// The entry's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Something that is not in the log (an index, a tile, a tree size).
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller asked for something impossible.
    #[error("invalid request: {0}")]
    Misuse(String),
    /// The storage backend failed (disk, database, connection). The outcome
    /// of an append that fails this way is unknown; retrying it is safe
    /// because appends are de-duplicated.
    #[error("log storage: {0}")]
    Storage(String),
    /// What is stored contradicts itself: a tree that does not match its
    /// checkpoint, a missing tile. Nothing more is appended.
    #[error("log storage is inconsistent: {0}")]
    Corrupt(String),
    /// The checkpoint signer failed.
    #[error("signing the checkpoint failed: {0}")]
    Signing(String),
    /// A format or proof error from the tree math.
    #[error(transparent)]
    Tlog(#[from] TlogError),
    /// The engine has shut down.
    #[error("the log engine has shut down")]
    Closed,
}

impl LogError {
    pub(crate) fn storage(e: impl std::fmt::Display) -> Self {
        Self::Storage(e.to_string())
    }
}
