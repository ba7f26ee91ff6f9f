//! `verify_log`: recompute the whole tree from the stored entries and check
//! every stored tile and every stored checkpoint against it.

use signet_tlog::leaf_hash;
use signet_tlog::tile::{TILE_HEIGHT, TILE_WIDTH};
use signet_tlog::tree::CompactRange;

use crate::error::LogError;
use crate::signer::CheckpointReader;
use crate::storage::LogStore;

/// What `verify_log` checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Entries recomputed.
    pub entries: u64,
    /// Hash tiles compared.
    pub tiles: u64,
    /// Checkpoints checked (history plus the latest).
    pub checkpoints: u64,
    /// The root hash recomputed at the latest size.
    pub root: signet_tlog::Hash,
}

const CHUNK: u64 = 256;

/// Recomputes the tree from the entries in `store` and checks that the
/// stored tiles, the committed state and every stored checkpoint agree
/// with it (each checkpoint's root must be the recomputed root at its size,
/// which makes all of them consistent with one another). `reader` parses
/// each checkpoint and, if it is a verifier, checks its signature.
pub async fn verify_log(
    store: &dyn LogStore,
    reader: &dyn CheckpointReader,
) -> Result<LogReport, LogError> {
    let state = store.state().await?;
    let mut checkpoints = Vec::new();
    let mut from = 0u64;
    loop {
        let page = store.checkpoints(from, 1024).await?;
        let Some(last) = page.last().map(|(s, _)| *s) else {
            break;
        };
        checkpoints.extend(page);
        from = last.saturating_add(1);
        if last == u64::MAX {
            break;
        }
    }
    if !state.checkpoint.is_empty() {
        checkpoints.push((state.size, state.checkpoint.clone()));
    }
    let mut pending = checkpoints.into_iter().peekable();
    let mut range = CompactRange::new();
    let mut open_tiles: Vec<Vec<signet_tlog::Hash>> = Vec::new();
    let mut report = LogReport {
        entries: 0,
        tiles: 0,
        checkpoints: 0,
        root: range.root(),
    };

    let check_checkpoints = |size: u64,
                             range: &CompactRange,
                             pending: &mut std::iter::Peekable<
        std::vec::IntoIter<(u64, Vec<u8>)>,
    >,
                             report: &mut LogReport|
     -> Result<(), LogError> {
        while let Some((cp_size, note)) = pending.peek() {
            if *cp_size != size {
                break;
            }
            let cp = reader
                .read(note)
                .map_err(|e| LogError::Corrupt(format!("checkpoint at size {cp_size}: {e}")))?;
            if cp.size() != size || cp.root_hash() != &range.root() {
                return Err(LogError::Corrupt(format!(
                    "checkpoint stored for size {size} says size {} root {}, the entries give root {}",
                    cp.size(),
                    cp.root_hash(),
                    range.root()
                )));
            }
            report.checkpoints += 1;
            pending.next();
        }
        Ok(())
    };

    check_checkpoints(0, &range, &mut pending, &mut report)?;
    let mut next = 0u64;
    while next < state.size {
        let end = next.saturating_add(CHUNK).min(state.size);
        let entries = store.entries(next, end).await?;
        if entries.len() as u64 != end - next {
            return Err(LogError::Corrupt(format!(
                "entries {next}..{end}: {} stored, expected {}",
                entries.len(),
                end - next
            )));
        }
        for e in entries {
            if e.index != range.size() {
                return Err(LogError::Corrupt(format!(
                    "entry {} stored where {} was expected",
                    e.index,
                    range.size()
                )));
            }
            let leaf = leaf_hash(&e.data);
            if leaf != e.leaf_hash {
                return Err(LogError::Corrupt(format!(
                    "entry {}: data hashes to {leaf}, stored leaf hash is {}",
                    e.index, e.leaf_hash
                )));
            }
            for (node, hash) in range.append(leaf)? {
                if node.level % TILE_HEIGHT != 0 {
                    continue;
                }
                let level = usize::from(node.level / TILE_HEIGHT);
                if open_tiles.len() <= level {
                    open_tiles.resize_with(level + 1, Vec::new);
                }
                open_tiles[level].push(hash);
                if open_tiles[level].len() as u64 == TILE_WIDTH {
                    let index = node.index / TILE_WIDTH;
                    compare_tile(store, level as u8, index, &open_tiles[level]).await?;
                    report.tiles += 1;
                    open_tiles[level].clear();
                }
            }
            report.entries += 1;
            check_checkpoints(range.size(), &range, &mut pending, &mut report)?;
        }
        next = end;
    }
    // The partial tiles on the right edge.
    for (level, hashes) in open_tiles.iter().enumerate() {
        if hashes.is_empty() {
            continue;
        }
        let count = state.size >> (level as u32 * u32::from(TILE_HEIGHT));
        compare_tile(store, level as u8, count / TILE_WIDTH, hashes).await?;
        report.tiles += 1;
    }
    if let Some((size, _)) = pending.next() {
        return Err(LogError::Corrupt(format!(
            "a checkpoint is stored for size {size}, beyond the {} entries",
            state.size
        )));
    }
    if range.root() != state.root {
        return Err(LogError::Corrupt(format!(
            "the entries give root {}, the state says {}",
            range.root(),
            state.root
        )));
    }
    report.root = range.root();
    Ok(report)
}

async fn compare_tile(
    store: &dyn LogStore,
    level: u8,
    index: u64,
    expected: &[signet_tlog::Hash],
) -> Result<(), LogError> {
    let stored = store.tiles(vec![(level, index)]).await?.pop().flatten();
    match stored {
        Some(h)
            if h.len() >= expected.len()
                && h[..expected.len()] == *expected
                && h.len() == expected.len() =>
        {
            Ok(())
        }
        Some(h) => Err(LogError::Corrupt(format!(
            "tile {level}/{index} holds {} hashes that differ from the {} recomputed",
            h.len(),
            expected.len()
        ))),
        None => Err(LogError::Corrupt(format!(
            "tile {level}/{index} is missing"
        ))),
    }
}
