//! The one storage interface every backend implements, and the records
//! that cross it.
//!
//! A backend offers exactly one write: [`LogStore::sequence`], which must
//! run as one atomic, durable transaction under a lock that admits a single
//! sequencer at a time (redb: its single write transaction; PostgreSQL: a
//! row lock on the log's state row). Inside it the backend reads the tree
//! state, the tiles on the tree's right edge and which identities already
//! exist, hands them to the engine's pure integration step, writes what
//! that returns, and commits. Because the state row, the entries, the tiles
//! and the new checkpoint commit together, a crash at any moment leaves
//! either the old tree or the new one: never a gap, never a fork.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use signet_tlog::Hash;
use signet_tlog::tile::TILE_WIDTH;

use crate::entry::LogEntry;
use crate::error::LogError;

/// The committed head of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeState {
    /// Number of entries.
    pub size: u64,
    /// Root hash at that size.
    pub root: Hash,
    /// The latest signed checkpoint (empty before the first one).
    pub checkpoint: Vec<u8>,
    /// Tree size of the last checkpoint kept in the history table.
    pub history_size: u64,
}

impl TreeState {
    /// The empty tree, before any checkpoint.
    pub fn empty() -> Self {
        Self {
            size: 0,
            root: signet_tlog::empty_root(),
            checkpoint: Vec::new(),
            history_size: 0,
        }
    }
}

/// A hash tile's current contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTile {
    /// Tile level (tree level `8·level`).
    pub level: u8,
    /// Tile index within the level.
    pub index: u64,
    /// Its hashes (fewer than 256 for a partial tile).
    pub hashes: Vec<Hash>,
}

/// What a backend reads for the integration step, inside its transaction.
#[derive(Debug, Clone)]
pub struct SequenceInput {
    /// The committed state.
    pub state: TreeState,
    /// The partial tiles on the right edge ([`edge_tile_ids`] of the size).
    pub edge_tiles: Vec<StoredTile>,
    /// For each identity of the batch, the index it already has, if any.
    pub existing: Vec<Option<u64>>,
}

/// Where one batch entry ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// The entry's index.
    pub index: u64,
    /// Whether the entry was already in the log (or earlier in the batch).
    pub duplicate: bool,
}

/// What the integration step asks the backend to write.
#[derive(Debug, Clone)]
pub struct BatchWrite {
    /// New entries, in index order.
    pub entries: Vec<LogEntry>,
    /// Tiles with their new full contents.
    pub tiles: Vec<StoredTile>,
    /// The new state (size, root, signed checkpoint).
    pub state: TreeState,
    /// Whether to keep the new checkpoint in the history table too.
    pub keep_in_history: bool,
    /// Per batch entry, in batch order.
    pub assignments: Vec<Assignment>,
}

/// Checkpoints as `(tree size, signed note)`.
pub type StoredCheckpoints = Vec<(u64, Vec<u8>)>;

/// The pure integration step the engine passes to [`LogStore::sequence`].
pub type Integrator = Arc<dyn Fn(SequenceInput) -> Result<BatchWrite, LogError> + Send + Sync>;

/// What a committed sequencing step returns.
#[derive(Debug, Clone)]
pub struct Sequenced {
    /// What was written.
    pub write: BatchWrite,
    /// The edge tiles as they were before the step (with the written tiles
    /// they hold every hash a proof for the new entries needs).
    pub edge_tiles: Vec<StoredTile>,
}

/// Storage for one log.
pub trait LogStore: Send + Sync + 'static {
    /// Runs one sequencing step as a single durable transaction under the
    /// sequencer lock: read state, edge tiles and existing `identities`,
    /// call `integrate`, write its result, commit. Returns only after the
    /// commit is durable. If `integrate` fails, nothing is written.
    fn sequence(
        &self,
        identities: Vec<Hash>,
        integrate: Integrator,
    ) -> BoxFuture<'_, Result<Sequenced, LogError>>;

    /// The committed state.
    fn state(&self) -> BoxFuture<'_, Result<TreeState, LogError>>;

    /// Entries `[start, end)` that exist, in order (callers ask for at most
    /// a few hundred at a time).
    fn entries(&self, start: u64, end: u64) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>>;

    /// The index of the entry with this identity.
    fn index_of_identity(&self, identity: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>>;

    /// The index of the first entry with this leaf hash.
    fn index_of_leaf(&self, leaf: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>>;

    /// Hash tiles `(level, index)` as stored now (possibly wider than a
    /// caller's tree size needs), `None` where absent.
    fn tiles(&self, ids: Vec<(u8, u64)>)
    -> BoxFuture<'_, Result<Vec<Option<Vec<Hash>>>, LogError>>;

    /// Checkpoints kept in the history table with tree size `>= from_size`,
    /// in size order, at most `limit`.
    fn checkpoints(
        &self,
        from_size: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<StoredCheckpoints, LogError>>;
}

/// The partial tiles on the right edge of a tree of `size` entries, one per
/// level that has a partial tile: what integration extends.
pub fn edge_tile_ids(size: u64) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    let mut level = 0u8;
    loop {
        let count = size.checked_shr(u32::from(level) * 8).unwrap_or(0);
        if count == 0 {
            break;
        }
        if !count.is_multiple_of(TILE_WIDTH) {
            out.push((level, count / TILE_WIDTH));
        }
        level += 1;
    }
    out
}

pub(crate) fn hashes_from_bytes(bytes: &[u8]) -> Result<Vec<Hash>, LogError> {
    if !bytes.len().is_multiple_of(32) || bytes.len() > 256 * 32 {
        return Err(LogError::Corrupt(format!(
            "stored tile has {} bytes",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(32)
        .map(|c| Hash::from_slice(c).map_err(LogError::from))
        .collect()
}

pub(crate) fn hashes_to_bytes(hashes: &[Hash]) -> Vec<u8> {
    signet_tlog::tile::encode_hash_tile(hashes)
}

pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64, LogError> {
    i64::try_from(v)
        .map_err(|_| LogError::Misuse(format!("{what} {v} does not fit a signed 64-bit integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_tiles() {
        assert_eq!(edge_tile_ids(0), vec![]);
        assert_eq!(edge_tile_ids(1), vec![(0, 0)]);
        assert_eq!(edge_tile_ids(256), vec![(1, 0)]);
        assert_eq!(edge_tile_ids(70_000), vec![(0, 273), (1, 1), (2, 0)]);
        assert_eq!(edge_tile_ids(65_536), vec![(2, 0)]);
    }
}
