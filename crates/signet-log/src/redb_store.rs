//! The embedded backend: one redb file per log.
//!
//! redb admits one write transaction at a time and its commits are durable
//! when they return (`Durability::Immediate`, checksummed pages and an
//! fsync), which is exactly the sequencer lock and the durability the
//! engine needs. The file is locked by the process that opened it, so two
//! processes cannot both sequence one embedded log.

use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use signet_tlog::Hash;

use crate::entry::LogEntry;
use crate::error::LogError;
use crate::storage::{
    Integrator, LogStore, SequenceInput, Sequenced, StoredCheckpoints, StoredTile, TreeState,
    edge_tile_ids, hashes_from_bytes, hashes_to_bytes,
};

/// index → integrated time (8) ‖ identity (32) ‖ leaf hash (32) ‖ data
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const BY_IDENTITY: TableDefinition<&[u8; 32], u64> = TableDefinition::new("by_identity");
const BY_LEAF: TableDefinition<&[u8; 32], u64> = TableDefinition::new("by_leaf");
/// (level, index) → concatenated hashes
const TILES: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("tiles");
/// tree size → signed checkpoint
const CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checkpoints");
/// "state" → size (8) ‖ root (32) ‖ history size (8) ‖ checkpoint
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const STATE_KEY: &str = "state";

/// A log in a redb file.
pub struct RedbStore {
    db: Arc<Database>,
}

fn encode_entry(e: &LogEntry) -> Vec<u8> {
    let mut v = Vec::with_capacity(72 + e.data.len());
    v.extend_from_slice(&e.integrated_time.to_be_bytes());
    v.extend_from_slice(&e.identity.0);
    v.extend_from_slice(&e.leaf_hash.0);
    v.extend_from_slice(&e.data);
    v
}

fn decode_entry(index: u64, v: &[u8]) -> Result<LogEntry, LogError> {
    let corrupt = || {
        LogError::Corrupt(format!(
            "entry {index} is {} bytes, shorter than its header",
            v.len()
        ))
    };
    let (time, rest) = v.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (identity, rest) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let (leaf, data) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    Ok(LogEntry {
        index,
        data: data.to_vec(),
        identity: Hash(*identity),
        leaf_hash: Hash(*leaf),
        integrated_time: i64::from_be_bytes(*time),
    })
}

fn encode_state(s: &TreeState) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + s.checkpoint.len());
    v.extend_from_slice(&s.size.to_be_bytes());
    v.extend_from_slice(&s.root.0);
    v.extend_from_slice(&s.history_size.to_be_bytes());
    v.extend_from_slice(&s.checkpoint);
    v
}

fn decode_state(v: &[u8]) -> Result<TreeState, LogError> {
    let corrupt = || LogError::Corrupt(format!("state record is {} bytes", v.len()));
    let (size, rest) = v.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (root, rest) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let (history, checkpoint) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
    Ok(TreeState {
        size: u64::from_be_bytes(*size),
        root: Hash(*root),
        checkpoint: checkpoint.to_vec(),
        history_size: u64::from_be_bytes(*history),
    })
}

impl RedbStore {
    /// Opens (or creates) the log file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogError> {
        let path = path.as_ref();
        let db = Database::create(path)
            .map_err(|e| LogError::Storage(format!("opening {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(LogError::storage)?;
        {
            txn.open_table(ENTRIES).map_err(LogError::storage)?;
            txn.open_table(BY_IDENTITY).map_err(LogError::storage)?;
            txn.open_table(BY_LEAF).map_err(LogError::storage)?;
            txn.open_table(TILES).map_err(LogError::storage)?;
            txn.open_table(CHECKPOINTS).map_err(LogError::storage)?;
            txn.open_table(META).map_err(LogError::storage)?;
        }
        txn.commit().map_err(LogError::storage)?;
        Ok(Self { db: Arc::new(db) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, LogError> + Send + 'static,
    ) -> Result<T, LogError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| LogError::Storage(format!("storage task failed: {e}")))?
    }
}

fn sequence_blocking(
    db: &Database,
    identities: Vec<Hash>,
    integrate: Integrator,
) -> Result<Sequenced, LogError> {
    let mut txn = db.begin_write().map_err(LogError::storage)?;
    txn.set_durability(Durability::Immediate)
        .map_err(LogError::storage)?;
    let sequenced = {
        let mut meta = txn.open_table(META).map_err(LogError::storage)?;
        let mut entries = txn.open_table(ENTRIES).map_err(LogError::storage)?;
        let mut by_identity = txn.open_table(BY_IDENTITY).map_err(LogError::storage)?;
        let mut by_leaf = txn.open_table(BY_LEAF).map_err(LogError::storage)?;
        let mut tiles = txn.open_table(TILES).map_err(LogError::storage)?;
        let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(LogError::storage)?;

        let state = match meta.get(STATE_KEY).map_err(LogError::storage)? {
            Some(v) => decode_state(v.value())?,
            None => TreeState::empty(),
        };
        let mut edge_tiles = Vec::new();
        for (level, index) in edge_tile_ids(state.size) {
            let stored = tiles.get((level, index)).map_err(LogError::storage)?;
            let hashes = match stored {
                Some(v) => hashes_from_bytes(v.value())?,
                None => {
                    return Err(LogError::Corrupt(format!(
                        "edge tile {level}/{index} is missing"
                    )));
                }
            };
            edge_tiles.push(StoredTile {
                level,
                index,
                hashes,
            });
        }
        let mut existing = Vec::with_capacity(identities.len());
        for id in &identities {
            existing.push(
                by_identity
                    .get(&id.0)
                    .map_err(LogError::storage)?
                    .map(|v| v.value()),
            );
        }
        let write = integrate(SequenceInput {
            state,
            edge_tiles: edge_tiles.clone(),
            existing,
        })?;
        for e in &write.entries {
            entries
                .insert(e.index, encode_entry(e).as_slice())
                .map_err(LogError::storage)?;
            by_identity
                .insert(&e.identity.0, e.index)
                .map_err(LogError::storage)?;
            // Most entries are identified by their leaf hash: the identity
            // index finds those, and only the others need a second random
            // index write (random index pages dominate a commit's size).
            if e.identity != e.leaf_hash
                && by_leaf
                    .get(&e.leaf_hash.0)
                    .map_err(LogError::storage)?
                    .is_none()
            {
                by_leaf
                    .insert(&e.leaf_hash.0, e.index)
                    .map_err(LogError::storage)?;
            }
        }
        for t in &write.tiles {
            tiles
                .insert((t.level, t.index), hashes_to_bytes(&t.hashes).as_slice())
                .map_err(LogError::storage)?;
        }
        if write.keep_in_history {
            checkpoints
                .insert(write.state.size, write.state.checkpoint.as_slice())
                .map_err(LogError::storage)?;
        }
        meta.insert(STATE_KEY, encode_state(&write.state).as_slice())
            .map_err(LogError::storage)?;
        Sequenced { write, edge_tiles }
    };
    txn.commit().map_err(LogError::storage)?;
    Ok(sequenced)
}

impl LogStore for RedbStore {
    fn sequence(
        &self,
        identities: Vec<Hash>,
        integrate: Integrator,
    ) -> BoxFuture<'_, Result<Sequenced, LogError>> {
        Box::pin(self.blocking(move |db| sequence_blocking(db, identities, integrate)))
    }

    fn state(&self) -> BoxFuture<'_, Result<TreeState, LogError>> {
        Box::pin(self.blocking(|db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let meta = txn.open_table(META).map_err(LogError::storage)?;
            match meta.get(STATE_KEY).map_err(LogError::storage)? {
                Some(v) => decode_state(v.value()),
                None => Ok(TreeState::empty()),
            }
        }))
    }

    fn entries(&self, start: u64, end: u64) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let table = txn.open_table(ENTRIES).map_err(LogError::storage)?;
            let mut out = Vec::new();
            if start >= end {
                return Ok(out);
            }
            for item in table.range(start..end).map_err(LogError::storage)? {
                let (k, v) = item.map_err(LogError::storage)?;
                out.push(decode_entry(k.value(), v.value())?);
            }
            Ok(out)
        }))
    }

    fn index_of_identity(&self, identity: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let table = txn.open_table(BY_IDENTITY).map_err(LogError::storage)?;
            Ok(table
                .get(&identity.0)
                .map_err(LogError::storage)?
                .map(|v| v.value()))
        }))
    }

    fn index_of_leaf(&self, leaf: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let by_leaf = txn.open_table(BY_LEAF).map_err(LogError::storage)?;
            let by_identity = txn.open_table(BY_IDENTITY).map_err(LogError::storage)?;
            let entries = txn.open_table(ENTRIES).map_err(LogError::storage)?;
            let listed = by_leaf
                .get(&leaf.0)
                .map_err(LogError::storage)?
                .map(|v| v.value());
            // An entry whose identity is its leaf hash is found by identity.
            let mut self_identified = None;
            if let Some(index) = by_identity
                .get(&leaf.0)
                .map_err(LogError::storage)?
                .map(|v| v.value())
                && let Some(v) = entries.get(index).map_err(LogError::storage)?
                && decode_entry(index, v.value())?.leaf_hash == leaf
            {
                self_identified = Some(index);
            }
            Ok(match (listed, self_identified) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
        }))
    }

    fn tiles(
        &self,
        ids: Vec<(u8, u64)>,
    ) -> BoxFuture<'_, Result<Vec<Option<Vec<Hash>>>, LogError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let table = txn.open_table(TILES).map_err(LogError::storage)?;
            ids.into_iter()
                .map(|id| match table.get(id).map_err(LogError::storage)? {
                    Some(v) => hashes_from_bytes(v.value()).map(Some),
                    None => Ok(None),
                })
                .collect()
        }))
    }

    fn checkpoints(
        &self,
        from_size: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<StoredCheckpoints, LogError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(LogError::storage)?;
            let table = txn.open_table(CHECKPOINTS).map_err(LogError::storage)?;
            let mut out = Vec::new();
            for item in table
                .range(from_size..)
                .map_err(LogError::storage)?
                .take(limit)
            {
                let (k, v) = item.map_err(LogError::storage)?;
                out.push((k.value(), v.value().to_vec()));
            }
            Ok(out)
        }))
    }
}
