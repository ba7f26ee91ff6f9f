//! The pure integration step: given the committed state, the edge tiles and
//! which identities exist, assign indices, extend the tree and its tiles,
//! and sign the new checkpoint. No I/O, so every backend runs the same
//! logic inside its own transaction.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use signet_tlog::tile::{TILE_HEIGHT, TILE_WIDTH, TileSet};
use signet_tlog::tree::CompactRange;
use signet_tlog::{Hash, leaf_hash};

use crate::entry::{LogEntry, PendingEntry};
use crate::error::LogError;
use crate::signer::CheckpointSigner;
use crate::storage::{Assignment, BatchWrite, SequenceInput, StoredTile, TreeState};

/// The tiles of an integration step, as a hash source: the edge tiles as
/// they were plus the tiles written.
pub(crate) fn tile_set(edge: &[StoredTile], written: &[StoredTile]) -> TileSet {
    let mut set = TileSet::new();
    for t in edge.iter().chain(written) {
        set.insert(t.level, t.index, t.hashes.clone());
    }
    set
}

/// Integrates `batch` into the tree described by `input`.
pub(crate) fn integrate(
    input: SequenceInput,
    batch: &[PendingEntry],
    signer: &Arc<dyn CheckpointSigner>,
    history_every: u64,
    now: i64,
) -> Result<BatchWrite, LogError> {
    let SequenceInput {
        state,
        edge_tiles,
        existing,
    } = input;
    if existing.len() != batch.len() {
        return Err(LogError::Corrupt(format!(
            "storage answered {} identity lookups for {} entries",
            existing.len(),
            batch.len()
        )));
    }
    // Rebuild the right edge from the stored tiles and check it against the
    // committed root: a log whose tiles disagree with its checkpoint must not grow.
    let set = tile_set(&edge_tiles, &[]);
    let mut range = CompactRange::from_source(&set, state.size)
        .map_err(|e| LogError::Corrupt(format!("edge tiles of tree size {}: {e}", state.size)))?;
    if range.root() != state.root {
        return Err(LogError::Corrupt(format!(
            "tiles give root {} at tree size {}, the state says {}",
            range.root(),
            state.size,
            state.root
        )));
    }

    let mut tiles: BTreeMap<(u8, u64), Vec<Hash>> = edge_tiles
        .into_iter()
        .map(|t| ((t.level, t.index), t.hashes))
        .collect();
    let mut touched: Vec<(u8, u64)> = Vec::new();
    let mut in_batch: HashMap<Hash, u64> = HashMap::new();
    let mut entries = Vec::new();
    let mut assignments = Vec::with_capacity(batch.len());
    for (entry, found) in batch.iter().zip(existing) {
        if let Some(index) = found.or_else(|| in_batch.get(&entry.identity).copied()) {
            assignments.push(Assignment {
                index,
                duplicate: true,
            });
            continue;
        }
        let index = range.size();
        let leaf = leaf_hash(&entry.data);
        for (node, hash) in range.append(leaf)? {
            if node.level % TILE_HEIGHT != 0 {
                continue;
            }
            let key = (node.level / TILE_HEIGHT, node.index / TILE_WIDTH);
            let hashes = tiles.entry(key).or_default();
            if hashes.len() as u64 != node.index % TILE_WIDTH {
                return Err(LogError::Corrupt(format!(
                    "tile {}/{} holds {} hashes where hash {} comes next",
                    key.0,
                    key.1,
                    hashes.len(),
                    node.index % TILE_WIDTH
                )));
            }
            hashes.push(hash);
            if touched.last() != Some(&key) && !touched.contains(&key) {
                touched.push(key);
            }
        }
        in_batch.insert(entry.identity, index);
        entries.push(LogEntry {
            index,
            data: entry.data.clone(),
            identity: entry.identity,
            leaf_hash: leaf,
            integrated_time: now,
        });
        assignments.push(Assignment {
            index,
            duplicate: false,
        });
    }

    let size = range.size();
    let root = range.root();
    let checkpoint = if size == state.size && !state.checkpoint.is_empty() {
        state.checkpoint.clone()
    } else {
        signer.sign(size, &root)?
    };
    let every = history_every.max(1);
    let keep_in_history = state.checkpoint.is_empty()
        || (size != state.size && size / every != state.history_size / every);
    let written: Vec<StoredTile> = touched
        .into_iter()
        .filter_map(|key| {
            tiles.remove(&key).map(|hashes| StoredTile {
                level: key.0,
                index: key.1,
                hashes,
            })
        })
        .collect();
    Ok(BatchWrite {
        entries,
        tiles: written,
        state: TreeState {
            size,
            root,
            checkpoint,
            history_size: if keep_in_history {
                size
            } else {
                state.history_size
            },
        },
        keep_in_history,
        assignments,
    })
}
