//! Entries going into the log and entries read back.

use signet_tlog::{Hash, leaf_hash};

/// An entry to append: opaque bytes (the Merkle leaf) and the identity
/// under which duplicates are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The leaf data, exactly as hashed into the tree.
    pub data: Vec<u8>,
    /// De-duplication key: appending a second entry with the same identity
    /// returns the first one's index.
    pub identity: Hash,
}

impl PendingEntry {
    /// An entry de-duplicated by its leaf hash (Rekor's rule: the same
    /// canonical body is the same entry).
    pub fn new(data: Vec<u8>) -> Self {
        let identity = leaf_hash(&data);
        Self { data, identity }
    }

    /// An entry with an explicit identity hash.
    pub fn with_identity(data: Vec<u8>, identity: Hash) -> Self {
        Self { data, identity }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Its index in the log.
    pub index: u64,
    /// The leaf data.
    pub data: Vec<u8>,
    /// The de-duplication identity.
    pub identity: Hash,
    /// `SHA-256(0x00 ‖ data)` (Rekor v1's UUID).
    pub leaf_hash: Hash,
    /// When the sequencer integrated it, in Unix seconds.
    pub integrated_time: i64,
}
