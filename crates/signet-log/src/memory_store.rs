//! An in-memory [`LogStore`] for tests: same semantics as the durable
//! backends, nothing survives the process. It can be told to fail the next
//! commits, to test what the engine does when storage breaks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;
use signet_tlog::Hash;

use crate::entry::LogEntry;
use crate::error::LogError;
use crate::storage::{
    Integrator, LogStore, SequenceInput, Sequenced, StoredCheckpoints, StoredTile, TreeState,
    edge_tile_ids,
};

#[derive(Default)]
struct Inner {
    state: Option<TreeState>,
    entries: BTreeMap<u64, LogEntry>,
    by_identity: HashMap<Hash, u64>,
    by_leaf: HashMap<Hash, u64>,
    tiles: HashMap<(u8, u64), Vec<Hash>>,
    checkpoints: BTreeMap<u64, Vec<u8>>,
}

/// A log kept in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    fail_commits: AtomicUsize,
}

impl MemoryStore {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `n` sequencing steps fail without writing anything.
    pub fn fail_next_commits(&self, n: usize) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, LogError> {
        self.inner
            .lock()
            .map_err(|_| LogError::Storage("memory store lock poisoned".into()))
    }
}

impl LogStore for MemoryStore {
    fn sequence(
        &self,
        identities: Vec<Hash>,
        integrate: Integrator,
    ) -> BoxFuture<'_, Result<Sequenced, LogError>> {
        Box::pin(async move {
            let mut inner = self.lock()?;
            let state = inner.state.clone().unwrap_or_else(TreeState::empty);
            let edge_tiles: Vec<StoredTile> = edge_tile_ids(state.size)
                .into_iter()
                .filter_map(|(level, index)| {
                    inner.tiles.get(&(level, index)).map(|h| StoredTile {
                        level,
                        index,
                        hashes: h.clone(),
                    })
                })
                .collect();
            let existing = identities
                .iter()
                .map(|i| inner.by_identity.get(i).copied())
                .collect();
            let write = integrate(SequenceInput {
                state,
                edge_tiles: edge_tiles.clone(),
                existing,
            })?;
            if self
                .fail_commits
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(LogError::Storage("injected commit failure".into()));
            }
            for e in &write.entries {
                inner.by_identity.insert(e.identity, e.index);
                inner.by_leaf.entry(e.leaf_hash).or_insert(e.index);
                inner.entries.insert(e.index, e.clone());
            }
            for t in &write.tiles {
                inner.tiles.insert((t.level, t.index), t.hashes.clone());
            }
            if write.keep_in_history {
                inner
                    .checkpoints
                    .insert(write.state.size, write.state.checkpoint.clone());
            }
            inner.state = Some(write.state.clone());
            Ok(Sequenced { write, edge_tiles })
        })
    }

    fn state(&self) -> BoxFuture<'_, Result<TreeState, LogError>> {
        Box::pin(async move { Ok(self.lock()?.state.clone().unwrap_or_else(TreeState::empty)) })
    }

    fn entries(&self, start: u64, end: u64) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        Box::pin(async move {
            Ok(self
                .lock()?
                .entries
                .range(start..end)
                .map(|(_, e)| e.clone())
                .collect())
        })
    }

    fn index_of_identity(&self, identity: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(async move { Ok(self.lock()?.by_identity.get(&identity).copied()) })
    }

    fn index_of_leaf(&self, leaf: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(async move { Ok(self.lock()?.by_leaf.get(&leaf).copied()) })
    }

    fn tiles(
        &self,
        ids: Vec<(u8, u64)>,
    ) -> BoxFuture<'_, Result<Vec<Option<Vec<Hash>>>, LogError>> {
        Box::pin(async move {
            let inner = self.lock()?;
            Ok(ids.iter().map(|id| inner.tiles.get(id).cloned()).collect())
        })
    }

    fn checkpoints(
        &self,
        from_size: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<StoredCheckpoints, LogError>> {
        Box::pin(async move {
            Ok(self
                .lock()?
                .checkpoints
                .range(from_size..)
                .take(limit)
                .map(|(s, c)| (*s, c.clone()))
                .collect())
        })
    }
}
