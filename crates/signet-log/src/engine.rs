//! The log engine: a sequencer task that batches appends into durable
//! sequencing steps, and the reads a log server needs.
//!
//! Batching is group commit: while one step commits, new appends queue;
//! the next step takes everything queued (up to `max_batch`). Under load
//! a step carries many entries per fsync; idle, an append is one step.
//! An append is acknowledged only after its step committed, with the
//! checkpoint of that step and its inclusion proof, computed from the
//! tiles the step already holds in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use signet_tlog::Hash;
use signet_tlog::proof::{
    consistency_proof_nodes, inclusion_proof_nodes, prove_consistency, prove_inclusion,
};
use signet_tlog::tile::{BundleId, TileId, TileSet, encode_entry_bundle};
use signet_tlog::tree::NodeId;
use tokio::sync::{mpsc, oneshot};

use crate::entry::{LogEntry, PendingEntry};
use crate::error::LogError;
use crate::sequencer::{integrate, tile_set};
use crate::signer::CheckpointSigner;
use crate::storage::{Integrator, LogStore, Sequenced, TreeState};

/// Tuning of a log engine.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Most entries in one sequencing step.
    pub max_batch: usize,
    /// Largest entry accepted (at most 65,535: entry bundles use a uint16 length).
    pub max_entry_bytes: usize,
    /// Keep a checkpoint in the history table each time the tree crosses a
    /// multiple of this many entries (1 keeps every checkpoint).
    pub checkpoint_history_every: u64,
    /// Appends waiting for the sequencer before `append` waits for room.
    pub queue_depth: usize,
    /// Full (immutable) tiles kept in memory for proofs and tile reads.
    pub tile_cache: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            max_entry_bytes: 65_535,
            checkpoint_history_every: 256,
            queue_depth: 16_384,
            tile_cache: 4096,
        }
    }
}

/// A signed tree head as the engine published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// Number of entries.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
}

/// The acknowledgement of a durable append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// Whether the entry was already in the log (then `index` is the
    /// original's and nothing was appended).
    pub duplicate: bool,
    /// The entry's leaf hash.
    pub leaf_hash: Hash,
    /// When it was integrated, in Unix seconds.
    pub integrated_time: i64,
    /// The checkpoint published by the step that acknowledged it.
    pub tree_head: Arc<TreeHead>,
    /// Inclusion proof of the entry in `tree_head`.
    pub inclusion_proof: Vec<Hash>,
}

struct Request {
    entry: PendingEntry,
    reply: oneshot::Sender<Result<Appended, LogError>>,
}

/// Full tiles by (level, index).
type TileCache = HashMap<(u8, u64), Arc<Vec<Hash>>>;

struct Shared {
    store: Arc<dyn LogStore>,
    config: LogConfig,
    full_tiles: Mutex<TileCache>,
}

/// A transparency log: appends, plus every read of [`LogReader`].
#[derive(Clone)]
pub struct Log {
    reader: LogReader,
    requests: mpsc::Sender<Request>,
    sequencer: Arc<SequencerTask>,
}

struct SequencerTask {
    stop: tokio::sync::watch::Sender<bool>,
    join: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The reads of a log: entries, tree heads, proofs, tiles. Cheap to clone.
#[derive(Clone)]
pub struct LogReader {
    shared: Arc<Shared>,
}

impl std::ops::Deref for Log {
    type Target = LogReader;
    fn deref(&self) -> &LogReader {
        &self.reader
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Log {
    /// Opens the log in `store`; signs a first checkpoint if it has none,
    /// and starts the sequencer task (on the current tokio runtime).
    pub async fn open(
        store: Arc<dyn LogStore>,
        signer: Arc<dyn CheckpointSigner>,
        config: LogConfig,
    ) -> Result<Self, LogError> {
        if config.max_entry_bytes > signet_tlog::tile::MAX_BUNDLE_ENTRY {
            return Err(LogError::Misuse(format!(
                "entries are at most {} bytes (entry bundles use a uint16 length)",
                signet_tlog::tile::MAX_BUNDLE_ENTRY
            )));
        }
        let shared = Arc::new(Shared {
            store,
            config: config.clone(),
            full_tiles: Mutex::new(HashMap::new()),
        });
        if shared.store.state().await?.checkpoint.is_empty() {
            sequence(&shared, &signer, Vec::new()).await?;
        }
        let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
        let reader = LogReader { shared };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let join = tokio::spawn(run_sequencer(reader.clone(), signer, rx, stopped));
        Ok(Self {
            reader,
            requests: tx,
            sequencer: Arc::new(SequencerTask {
                stop,
                join: tokio::sync::Mutex::new(Some(join)),
            }),
        })
    }

    /// Stops the sequencer after the step in progress and waits for it;
    /// appends still queued fail with [`LogError::Closed`]. Reads keep
    /// working. (Dropping every handle also stops it, without waiting.)
    pub async fn close(&self) {
        let _ = self.sequencer.stop.send(true);
        if let Some(join) = self.sequencer.join.lock().await.take() {
            let _ = join.await;
        }
    }

    /// A read-only handle.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }

    /// Appends an entry and waits until it is durable and in a signed
    /// checkpoint. A duplicate (same identity) returns the original.
    pub async fn append(&self, entry: PendingEntry) -> Result<Appended, LogError> {
        let limit = self.reader.shared.config.max_entry_bytes;
        if entry.data.len() > limit {
            return Err(LogError::EntryTooLarge {
                size: entry.data.len(),
                limit,
            });
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { entry, reply })
            .await
            .map_err(|_| LogError::Closed)?;
        answer.await.map_err(|_| LogError::Closed)?
    }
}

impl LogReader {
    /// Reads the log in `store` without sequencing (a read-only replica).
    pub fn new(store: Arc<dyn LogStore>, config: LogConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                config,
                full_tiles: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The latest signed tree head.
    pub async fn latest(&self) -> Result<TreeHead, LogError> {
        let s = self.shared.store.state().await?;
        Ok(TreeHead {
            size: s.size,
            root: s.root,
            checkpoint: s.checkpoint,
        })
    }

    /// Entry `index`.
    pub async fn entry(&self, index: u64) -> Result<LogEntry, LogError> {
        let end = index
            .checked_add(1)
            .ok_or_else(|| LogError::NotFound(format!("entry {index}")))?;
        self.shared
            .store
            .entries(index, end)
            .await?
            .pop()
            .ok_or_else(|| LogError::NotFound(format!("entry {index}")))
    }

    /// Entries `[start, end)`, at most 256.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<LogEntry>, LogError> {
        let end = end.min(start.saturating_add(256));
        self.shared.store.entries(start, end).await
    }

    /// The entry with leaf hash `leaf` (Rekor v1's UUID), if present.
    pub async fn find_by_leaf_hash(&self, leaf: &Hash) -> Result<Option<LogEntry>, LogError> {
        match self.shared.store.index_of_leaf(*leaf).await? {
            Some(i) => self.entry(i).await.map(Some),
            None => Ok(None),
        }
    }

    /// The entry with de-duplication identity `identity`, if present.
    pub async fn find_by_identity(&self, identity: &Hash) -> Result<Option<LogEntry>, LogError> {
        match self.shared.store.index_of_identity(*identity).await? {
            Some(i) => self.entry(i).await.map(Some),
            None => Ok(None),
        }
    }

    async fn check_size(&self, tree_size: u64) -> Result<(), LogError> {
        let current = self.shared.store.state().await?.size;
        if tree_size > current {
            return Err(LogError::NotFound(format!(
                "tree size {tree_size}: the log has {current} entries"
            )));
        }
        Ok(())
    }

    /// Inclusion proof of entry `index` in the tree of `tree_size` entries.
    pub async fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(tree_size).await?;
        let nodes = inclusion_proof_nodes(index, tree_size)
            .map_err(|e| LogError::NotFound(e.to_string()))?
            .concat();
        let set = self.tiles_for(&nodes, tree_size).await?;
        Ok(prove_inclusion(&set, index, tree_size)?)
    }

    /// Consistency proof from tree size `old_size` to `new_size`.
    pub async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, LogError> {
        self.check_size(new_size).await?;
        let nodes = consistency_proof_nodes(old_size, new_size)
            .map_err(|e| LogError::NotFound(e.to_string()))?
            .concat();
        let set = self.tiles_for(&nodes, new_size).await?;
        Ok(prove_consistency(&set, old_size, new_size)?)
    }

    /// The root hash of the tree of `tree_size` entries.
    pub async fn root_at(&self, tree_size: u64) -> Result<Hash, LogError> {
        self.check_size(tree_size).await?;
        let nodes = signet_tlog::tree::range_nodes(0, tree_size);
        let set = self.tiles_for(&nodes, tree_size).await?;
        Ok(signet_tlog::tree::root_hash(&set, tree_size)?)
    }

    /// A hash tile (C2SP tlog-tiles), encoded, at the width asked for.
    pub async fn tile(&self, tile: TileId) -> Result<Vec<u8>, LogError> {
        let hashes = self.stored_tile(tile.level(), tile.index()).await?;
        let width = usize::try_from(tile.width()).unwrap_or(usize::MAX);
        match hashes {
            Some(h) if h.len() >= width => Ok(signet_tlog::tile::encode_hash_tile(&h[..width])),
            _ => Err(LogError::NotFound(format!("tile {tile}"))),
        }
    }

    /// An entry bundle (C2SP tlog-tiles), encoded.
    pub async fn entry_bundle(&self, bundle: BundleId) -> Result<Vec<u8>, LogError> {
        let first = bundle.first_entry();
        let end = first.saturating_add(bundle.width());
        let entries = self.shared.store.entries(first, end).await?;
        if entries.len() as u64 != bundle.width() {
            return Err(LogError::NotFound(format!("entry bundle {bundle}")));
        }
        Ok(encode_entry_bundle(
            &entries
                .iter()
                .map(|e| e.data.as_slice())
                .collect::<Vec<_>>(),
        )?)
    }

    async fn stored_tile(&self, level: u8, index: u64) -> Result<Option<Arc<Vec<Hash>>>, LogError> {
        if let Some(t) = self.cached_tile(level, index) {
            return Ok(Some(t));
        }
        let mut got = self.shared.store.tiles(vec![(level, index)]).await?;
        Ok(got.pop().flatten().map(|h| self.remember(level, index, h)))
    }

    fn cached_tile(&self, level: u8, index: u64) -> Option<Arc<Vec<Hash>>> {
        self.shared
            .full_tiles
            .lock()
            .ok()?
            .get(&(level, index))
            .cloned()
    }

    fn remember(&self, level: u8, index: u64, hashes: Vec<Hash>) -> Arc<Vec<Hash>> {
        let hashes = Arc::new(hashes);
        // Only full tiles never change; partial ones are read afresh.
        if hashes.len() == signet_tlog::tile::TILE_WIDTH as usize
            && let Ok(mut cache) = self.shared.full_tiles.lock()
        {
            if cache.len() >= self.shared.config.tile_cache {
                cache.clear();
            }
            cache.insert((level, index), hashes.clone());
        }
        hashes
    }

    async fn tiles_for(&self, nodes: &[NodeId], tree_size: u64) -> Result<TileSet, LogError> {
        let needed = TileSet::tiles_for(nodes, tree_size)?;
        let mut set = TileSet::new();
        let mut missing = Vec::new();
        for t in &needed {
            match self.cached_tile(t.level(), t.index()) {
                Some(h) => set.insert(t.level(), t.index(), h.as_ref().clone()),
                None => missing.push((t.level(), t.index())),
            }
        }
        if !missing.is_empty() {
            let got = self.shared.store.tiles(missing.clone()).await?;
            for ((level, index), hashes) in missing.into_iter().zip(got) {
                let hashes = hashes
                    .ok_or_else(|| LogError::Corrupt(format!("tile {level}/{index} is missing")))?;
                let hashes = self.remember(level, index, hashes);
                set.insert(level, index, hashes.as_ref().clone());
            }
        }
        Ok(set)
    }
}

/// Runs one sequencing step for `batch`.
async fn sequence(
    shared: &Arc<Shared>,
    signer: &Arc<dyn CheckpointSigner>,
    batch: Vec<PendingEntry>,
) -> Result<Sequenced, LogError> {
    let identities = batch.iter().map(|e| e.identity).collect();
    let batch = Arc::new(batch);
    let signer = signer.clone();
    let every = shared.config.checkpoint_history_every;
    let now = now_unix();
    let integrator: Integrator =
        Arc::new(move |input| integrate(input, &batch, &signer, every, now));
    shared.store.sequence(identities, integrator).await
}

async fn run_sequencer(
    reader: LogReader,
    signer: Arc<dyn CheckpointSigner>,
    mut rx: mpsc::Receiver<Request>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let shared = reader.shared.clone();
    loop {
        let first = tokio::select! {
            r = rx.recv() => match r {
                Some(r) => r,
                None => break,
            },
            _ = stopped.changed() => break,
        };
        let mut requests = vec![first];
        while requests.len() < shared.config.max_batch {
            match rx.try_recv() {
                Ok(r) => requests.push(r),
                Err(_) => break,
            }
        }
        let (entries, replies): (Vec<PendingEntry>, Vec<_>) =
            requests.into_iter().map(|r| (r.entry, r.reply)).unzip();
        let leaves: Vec<Hash> = entries
            .iter()
            .map(|e| signet_tlog::leaf_hash(&e.data))
            .collect();
        match sequence(&shared, &signer, entries).await {
            // Proofs and replies are computed off the sequencer's path, so the
            // next step starts as soon as this one committed.
            Ok(done) => {
                let reader = reader.clone();
                tokio::spawn(async move { answer(&reader, done, replies, leaves) });
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

fn answer(
    reader: &LogReader,
    done: Sequenced,
    replies: Vec<oneshot::Sender<Result<Appended, LogError>>>,
    leaves: Vec<Hash>,
) {
    let state: &TreeState = &done.write.state;
    let head = Arc::new(TreeHead {
        size: state.size,
        root: state.root,
        checkpoint: state.checkpoint.clone(),
    });
    let set = tile_set(&done.edge_tiles, &done.write.tiles);
    let first_new = done.write.entries.first().map(|e| e.index);
    let times: HashMap<u64, i64> = done
        .write
        .entries
        .iter()
        .map(|e| (e.index, e.integrated_time))
        .collect();
    for ((assignment, reply), leaf) in done.write.assignments.iter().zip(replies).zip(leaves) {
        let index = assignment.index;
        let fresh = first_new.is_some_and(|f| index >= f);
        if fresh {
            let result = prove_inclusion(&set, index, head.size)
                .map_err(LogError::from)
                .map(|proof| Appended {
                    index,
                    duplicate: assignment.duplicate,
                    leaf_hash: leaf,
                    integrated_time: times.get(&index).copied().unwrap_or(0),
                    tree_head: head.clone(),
                    inclusion_proof: proof,
                });
            let _ = reply.send(result);
        } else {
            // An entry committed by an earlier step: read it back.
            let reader = reader.clone();
            let head = head.clone();
            tokio::spawn(async move {
                let result = async {
                    let entry = reader.entry(index).await?;
                    let proof = reader.inclusion_proof(index, head.size).await?;
                    Ok(Appended {
                        index,
                        duplicate: true,
                        leaf_hash: entry.leaf_hash,
                        integrated_time: entry.integrated_time,
                        tree_head: head,
                        inclusion_proof: proof,
                    })
                }
                .await;
                let _ = reply.send(result);
            });
        }
    }
}
