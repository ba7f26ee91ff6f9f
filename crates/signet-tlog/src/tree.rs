//! The shape of an RFC 6962 tree: complete subtrees ([`NodeId`]), where
//! their hashes come from ([`HashSource`]), the right edge of a growing tree
//! ([`CompactRange`]) and a small in-memory tree ([`MemoryTree`]).
//!
//! Only hashes of *complete* subtrees are ever stored or read. The hash of
//! an incomplete range (the right edge of a tree whose size is not a power
//! of two) is folded from the complete subtrees that cover it, so that
//! storage never holds a value that changes as the tree grows.

use crate::error::TlogError;
use crate::hash::{Hash, empty_root, leaf_hash, node_hash};

/// A complete subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 = a leaf).
    pub level: u8,
    /// Position among the subtrees of this level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The subtree at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// One past the last leaf the subtree covers, or `None` past `u64`.
    pub fn end(&self) -> Option<u64> {
        self.index
            .checked_add(1)?
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }

    /// Whether the subtree is complete in a tree of `tree_size` leaves.
    pub fn is_complete_in(&self, tree_size: u64) -> bool {
        self.level < 64 && self.end().is_some_and(|end| end <= tree_size)
    }
}

/// Where the hashes of complete subtrees come from: storage, tiles, memory.
pub trait HashSource {
    /// The hash of the complete subtree `node`.
    fn node_hash(&self, node: NodeId) -> Result<Hash, TlogError>;
}

impl<T: HashSource + ?Sized> HashSource for &T {
    fn node_hash(&self, node: NodeId) -> Result<Hash, TlogError> {
        (**self).node_hash(node)
    }
}

/// The complete subtrees that cover leaves `[begin, end)`, left to right,
/// each as large as alignment allows. For the ranges RFC 6962 recursion
/// produces (a start aligned to a power of two at least as large as the
/// range), folding their hashes right to left gives the range's MTH.
pub fn range_nodes(mut begin: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    while begin < end {
        let align = if begin == 0 {
            63
        } else {
            begin.trailing_zeros()
        };
        let fit = 63 - (end - begin).leading_zeros();
        let level = align.min(fit);
        out.push(NodeId::new(level as u8, begin >> level));
        begin += 1u64 << level;
    }
    out
}

/// Folds subtree hashes right to left: `H(a, H(b, H(c, d)))`.
pub fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The MTH of leaves `[begin, end)` read from `source`.
pub(crate) fn range_hash(
    source: &impl HashSource,
    begin: u64,
    end: u64,
) -> Result<Hash, TlogError> {
    let hashes = range_nodes(begin, end)
        .into_iter()
        .map(|n| source.node_hash(n))
        .collect::<Result<Vec<_>, _>>()?;
    fold_right(&hashes)
        .ok_or_else(|| TlogError::Misuse(format!("empty leaf range [{begin}, {end})")))
}

/// The root hash of the first `tree_size` leaves.
pub fn root_hash(source: &impl HashSource, tree_size: u64) -> Result<Hash, TlogError> {
    if tree_size == 0 {
        return Ok(empty_root());
    }
    range_hash(source, 0, tree_size)
}

/// The right edge of a tree: one complete subtree per set bit of its size.
/// Appending a leaf yields every subtree it completes, which is what a log
/// must store; the root is folded from the edge without any storage read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// Subtree hashes, largest (leftmost) first.
    nodes: Vec<Hash>,
}

impl CompactRange {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the edge of a tree of `size` leaves from stored hashes.
    pub fn from_source(source: &impl HashSource, size: u64) -> Result<Self, TlogError> {
        let nodes = range_nodes(0, size)
            .into_iter()
            .map(|n| source.node_hash(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size, nodes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtrees on the edge, largest first.
    pub fn node_ids(&self) -> Vec<NodeId> {
        range_nodes(0, self.size)
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        fold_right(&self.nodes).unwrap_or_else(empty_root)
    }

    /// Appends a leaf hash; returns every subtree it completes, the leaf
    /// itself first, as `(node, hash)`.
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, TlogError> {
        let index = self.size;
        let next = index
            .checked_add(1)
            .ok_or_else(|| TlogError::Misuse("tree is full".into()))?;
        let mut completed = vec![(NodeId::new(0, index), leaf)];
        let mut current = leaf;
        let mut level = 0u8;
        while (index >> level) & 1 == 1 {
            let left = self.nodes.pop().ok_or_else(|| {
                TlogError::Source("compact range is shorter than its size".into())
            })?;
            current = node_hash(&left, &current);
            level += 1;
            completed.push((NodeId::new(level, index >> level), current));
        }
        self.nodes.push(current);
        self.size = next;
        Ok(completed)
    }
}

/// Every complete subtree of a tree, in memory: about two hashes per leaf.
/// For tests and small logs; a log of millions of entries keeps tiles
/// (see [`crate::tile`]) in storage instead.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    edge: CompactRange,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry; returns its leaf hash.
    pub fn append(&mut self, data: &[u8]) -> Hash {
        let leaf = leaf_hash(data);
        self.append_leaf_hash(leaf);
        leaf
    }

    /// Appends a leaf hash.
    pub fn append_leaf_hash(&mut self, leaf: Hash) {
        // A tree in memory cannot reach 2^64 leaves; append only fails there.
        let Ok(completed) = self.edge.append(leaf) else {
            return;
        };
        for (node, hash) in completed {
            let level = usize::from(node.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            self.levels[level].push(hash);
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.edge.root()
    }
}

impl HashSource for MemoryTree {
    fn node_hash(&self, node: NodeId) -> Result<Hash, TlogError> {
        usize::try_from(node.index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(node.level))?.get(i))
            .copied()
            .ok_or_else(|| {
                TlogError::Misuse(format!(
                    "subtree at level {} index {} is not complete in a tree of size {}",
                    node.level,
                    node.index,
                    self.size()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_nodes_cover_the_range() {
        assert_eq!(
            range_nodes(0, 7),
            vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(
            range_nodes(4, 7),
            vec![NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(range_nodes(0, 0), vec![]);
        assert_eq!(range_nodes(0, 8), vec![NodeId::new(3, 0)]);
        assert_eq!(range_nodes(0, u64::MAX).len(), 64);
    }

    #[test]
    fn compact_range_matches_memory_tree_and_rebuilds() {
        let mut tree = MemoryTree::new();
        for i in 0..300u32 {
            tree.append(&i.to_le_bytes());
            let rebuilt = CompactRange::from_source(&tree, tree.size()).unwrap();
            assert_eq!(rebuilt.root(), tree.root());
            assert_eq!(root_hash(&tree, tree.size()).unwrap(), tree.root());
        }
        assert!(tree.node_hash(NodeId::new(9, 0)).is_err());
        assert!(tree.node_hash(NodeId::new(200, u64::MAX)).is_err());
    }
}
