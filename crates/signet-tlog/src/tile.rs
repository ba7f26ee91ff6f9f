//! C2SP tlog-tiles: tile paths, hash tiles, entry bundles, and proofs
//! computed from tiles.
//!
//! A hash tile at level `L` holds up to 256 consecutive subtree hashes of
//! tree level `8·L` (so level-0 tiles hold leaf hashes). The tree levels in
//! between are recomputed by hashing within a tile, which is why a log only
//! stores about one hash per entry. Tiles fetched from a server are not
//! trusted by themselves: a proof computed from them is authenticated by
//! verifying it against a signed checkpoint.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::error::TlogError;
use crate::hash::{HASH_SIZE, Hash, node_hash};
use crate::tree::{HashSource, NodeId};

/// Tree levels per tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;
/// Largest entry an entry bundle can carry (uint16 length prefix).
pub const MAX_BUNDLE_ENTRY: usize = u16::MAX as usize;

/// A hash tile: `width` hashes of tree level `8·level`, starting at hash
/// `index·256` of that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    level: u8,
    index: u64,
    width: u16,
}

/// An entry bundle: entries `index·256 .. index·256 + width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleId {
    index: u64,
    width: u16,
}

fn check_width(width: u64) -> Result<u16, TlogError> {
    if width == 0 || width > TILE_WIDTH {
        return Err(TlogError::Misuse(format!(
            "tile width {width} is not between 1 and 256"
        )));
    }
    // Checked just above: 1..=256 fits.
    Ok(width as u16)
}

/// Width of tile `index` of a level holding `count` hashes (0 if absent).
fn width_for(count: u64, index: u64) -> u64 {
    count
        .saturating_sub(index.saturating_mul(TILE_WIDTH))
        .min(TILE_WIDTH)
}

/// Hashes at tree level `8·level` in a tree of `tree_size` leaves.
fn level_count(tree_size: u64, level: u8) -> u64 {
    tree_size
        .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

impl TileId {
    /// A tile; `width` is 1..=256.
    pub fn new(level: u8, index: u64, width: u64) -> Result<Self, TlogError> {
        if level > MAX_TILE_LEVEL {
            return Err(TlogError::Misuse(format!("tile level {level} is above 63")));
        }
        Ok(Self {
            level,
            index,
            width: check_width(width)?,
        })
    }

    /// The tile level.
    pub fn level(&self) -> u8 {
        self.level
    }
    /// The tile index within its level.
    pub fn index(&self) -> u64 {
        self.index
    }
    /// The number of hashes (256 for a full tile).
    pub fn width(&self) -> u64 {
        u64::from(self.width)
    }
    /// Whether the tile holds 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width() == TILE_WIDTH
    }

    /// The tile at `level`, `index` as it stands in a tree of `tree_size`
    /// leaves, or `None` if the tree has no hashes there yet.
    pub fn at_size(level: u8, index: u64, tree_size: u64) -> Option<Self> {
        let width = width_for(level_count(tree_size, level), index);
        Self::new(level, index, width).ok()
    }

    /// The tile holding complete subtree `node` in a tree of `tree_size`
    /// leaves, at the width that tree has.
    pub fn for_node(node: NodeId, tree_size: u64) -> Option<Self> {
        if !node.is_complete_in(tree_size) {
            return None;
        }
        let level = node.level / TILE_HEIGHT;
        let within = node.level % TILE_HEIGHT;
        let first = node.index.checked_mul(1u64 << within)?;
        Self::at_size(level, first / TILE_WIDTH, tree_size)
    }

    /// Every tile that differs between trees of `old_size` and `new_size`
    /// leaves: what a log writes when it grows (Go's `tlog.NewTiles`). The
    /// result has about `(new_size - old_size) / 256` tiles plus one per
    /// level: meant for a log's own growth, not for arbitrary ranges.
    pub fn changed(old_size: u64, new_size: u64) -> Vec<Self> {
        let mut out = Vec::new();
        for level in 0..=MAX_TILE_LEVEL {
            let (old_count, new_count) =
                (level_count(old_size, level), level_count(new_size, level));
            if new_count == 0 {
                break;
            }
            if new_count <= old_count {
                continue;
            }
            for index in old_count / TILE_WIDTH..new_count.div_ceil(TILE_WIDTH) {
                if let Some(tile) = Self::at_size(level, index, new_size) {
                    out.push(tile);
                }
            }
        }
        out
    }

    /// The path below a log's prefix: `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}{}",
            self.level,
            encode_index(self.index),
            partial_suffix(self.width())
        )
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl BundleId {
    /// An entry bundle; `width` is 1..=256.
    pub fn new(index: u64, width: u64) -> Result<Self, TlogError> {
        Ok(Self {
            index,
            width: check_width(width)?,
        })
    }

    /// Bundle `index` as it stands in a tree of `tree_size` entries.
    pub fn at_size(index: u64, tree_size: u64) -> Option<Self> {
        Self::new(index, width_for(tree_size, index)).ok()
    }

    /// The bundle index.
    pub fn index(&self) -> u64 {
        self.index
    }
    /// The number of entries.
    pub fn width(&self) -> u64 {
        u64::from(self.width)
    }
    /// The first entry's index.
    pub fn first_entry(&self) -> u64 {
        self.index.saturating_mul(TILE_WIDTH)
    }

    /// The path below a log's prefix: `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/entries/{}{}",
            encode_index(self.index),
            partial_suffix(self.width())
        )
    }
}

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`
    Hashes(TileId),
    /// `tile/entries/<N>[.p/<W>]`
    Entries(BundleId),
}

impl TilePath {
    /// Parses a path below a log's prefix, strictly: no leading zeros in
    /// `L` or `W`, three-digit groups with `x` on all but the last, and no
    /// index above `u64`.
    pub fn parse(path: &str) -> Result<Self, TlogError> {
        let bad = |reason: &str| TlogError::malformed("tile path", format!("{path:?}: {reason}"));
        if path.len() > 128 {
            return Err(bad("too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("does not start with tile/"))?;
        let (kind, rest) = rest.split_once('/').ok_or_else(|| bad("missing index"))?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w = parse_decimal(width, 255)
                    .ok_or_else(|| bad("width must be 1 to 255 without leading zeros"))?;
                if w == 0 {
                    return Err(bad("width must be 1 to 255 without leading zeros"));
                }
                (index, w)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = decode_index(index_part)
            .ok_or_else(|| bad("index must be 3-digit groups, all but the last prefixed with x"))?;
        if kind == "entries" {
            return Ok(Self::Entries(BundleId::new(index, width)?));
        }
        let level = parse_decimal(kind, u64::from(MAX_TILE_LEVEL))
            .ok_or_else(|| bad("level must be 0 to 63 without leading zeros"))?;
        // parse_decimal capped the value at 63.
        Ok(Self::Hashes(TileId::new(level as u8, index, width)?))
    }
}

fn partial_suffix(width: u64) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// `1234067` → `x001/x234/067`.
pub fn encode_index(index: u64) -> String {
    let digits = index.to_string();
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let (last, init) = groups
        .split_last()
        .map(|(l, i)| (*l, i))
        .unwrap_or(("000", &[]));
    let mut out = String::new();
    for g in init {
        out.push('x');
        out.push_str(g);
        out.push('/');
    }
    out.push_str(last);
    out
}

fn decode_index(text: &str) -> Option<u64> {
    let groups: Vec<&str> = text.split('/').collect();
    // u64 has at most 20 digits: 7 groups.
    if groups.is_empty() || groups.len() > 7 {
        return None;
    }
    let mut value: u64 = 0;
    let last = groups.len() - 1;
    for (i, group) in groups.iter().enumerate() {
        let digits = if i == last {
            Some(*group)
        } else {
            group.strip_prefix('x')
        }?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = digits.parse().ok()?;
        value = value.checked_mul(1000)?.checked_add(n)?;
    }
    // Leading all-zero groups would give a second spelling of one index.
    if groups.len() > 1 && groups[0] == "x000" {
        return None;
    }
    Some(value)
}

fn parse_decimal(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok().filter(|v| *v <= max)
}

/// Decodes a hash tile: exactly `width` 32-byte hashes.
pub fn decode_hash_tile(data: &[u8], width: u64) -> Result<Vec<Hash>, TlogError> {
    let expected = usize::try_from(width)
        .unwrap_or(usize::MAX)
        .saturating_mul(HASH_SIZE);
    if width == 0 || width > TILE_WIDTH || data.len() != expected {
        return Err(TlogError::malformed(
            "hash tile",
            format!(
                "expected {width} hashes ({expected} bytes), got {} bytes",
                data.len()
            ),
        ));
    }
    data.chunks_exact(HASH_SIZE).map(Hash::from_slice).collect()
}

/// Encodes a hash tile: the hashes concatenated.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// Decodes an entry bundle: `width` entries, each a big-endian uint16 length
/// and that many bytes, and nothing after them.
pub fn decode_entry_bundle(data: &[u8], width: u64) -> Result<Vec<&[u8]>, TlogError> {
    let bad = |reason: String| TlogError::malformed("entry bundle", reason);
    if width == 0 || width > TILE_WIDTH {
        return Err(TlogError::Misuse(format!(
            "bundle width {width} is not between 1 and 256"
        )));
    }
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if out.len() as u64 == width {
            return Err(bad(format!(
                "{} bytes after the {width} expected entries",
                rest.len()
            )));
        }
        let (len, after) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| bad("truncated length prefix".into()))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if after.len() < len {
            return Err(bad(format!(
                "entry {} claims {len} bytes, {} remain",
                out.len(),
                after.len()
            )));
        }
        let (entry, tail) = after.split_at(len);
        out.push(entry);
        rest = tail;
    }
    if out.len() as u64 != width {
        return Err(bad(format!("expected {width} entries, got {}", out.len())));
    }
    Ok(out)
}

/// Encodes an entry bundle.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TlogError> {
    if entries.len() as u64 > TILE_WIDTH {
        return Err(TlogError::Misuse(format!(
            "{} entries do not fit one bundle",
            entries.len()
        )));
    }
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| {
            TlogError::Misuse(format!(
                "entry {i} is {} bytes; bundles carry at most {MAX_BUNDLE_ENTRY}",
                entry.len()
            ))
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The hashes of one tile and of every complete subtree inside it.
#[derive(Debug, Clone)]
struct ExpandedTile {
    /// `rows[j]` holds the tile's subtrees of height `j` (row 0 = the tile).
    rows: Vec<Vec<Hash>>,
}

impl ExpandedTile {
    fn new(hashes: Vec<Hash>) -> Self {
        let mut rows = vec![hashes];
        while rows.len() < usize::from(TILE_HEIGHT) {
            let Some(prev) = rows.last() else { break };
            let next: Vec<Hash> = prev
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            if next.is_empty() {
                break;
            }
            rows.push(next);
        }
        Self { rows }
    }

    fn width(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }
}

/// Tiles held in memory for one tree size, answering subtree hashes
/// ([`HashSource`]). Inserting a tile hashes its inner levels once (at most
/// 255 hashes), so every proof computed afterwards costs lookups only.
#[derive(Debug, Clone, Default)]
pub struct TileSet {
    tiles: HashMap<(u8, u64), ExpandedTile>,
}

impl TileSet {
    /// No tiles.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tiles needed to read `nodes` in a tree of `tree_size` leaves.
    pub fn tiles_for(nodes: &[NodeId], tree_size: u64) -> Result<BTreeSet<TileId>, TlogError> {
        nodes
            .iter()
            .map(|n| {
                TileId::for_node(*n, tree_size).ok_or_else(|| {
                    TlogError::Misuse(format!(
                        "subtree at level {} index {} is not complete in a tree of size {tree_size}",
                        n.level, n.index
                    ))
                })
            })
            .collect()
    }

    /// Adds tile `tile` from its encoded bytes. A wider copy of the same
    /// tile (from a later tree size) is accepted and replaces a narrower one.
    pub fn insert_encoded(&mut self, tile: TileId, data: &[u8]) -> Result<(), TlogError> {
        let hashes = decode_hash_tile(data, tile.width())?;
        self.insert(tile.level(), tile.index(), hashes);
        Ok(())
    }

    /// Adds the hashes of tile `level`/`index` (at most 256).
    pub fn insert(&mut self, level: u8, index: u64, mut hashes: Vec<Hash>) {
        hashes.truncate(TILE_WIDTH as usize);
        if let Some(existing) = self.tiles.get(&(level, index))
            && existing.width() >= hashes.len()
        {
            return;
        }
        self.tiles.insert((level, index), ExpandedTile::new(hashes));
    }

    /// The hashes of tile `level`/`index`, if held.
    pub fn hashes(&self, level: u8, index: u64) -> Option<&[Hash]> {
        self.tiles
            .get(&(level, index))
            .and_then(|t| t.rows.first())
            .map(Vec::as_slice)
    }
}

impl HashSource for TileSet {
    fn node_hash(&self, node: NodeId) -> Result<Hash, TlogError> {
        let level = node.level / TILE_HEIGHT;
        let within = node.level % TILE_HEIGHT;
        let missing = || {
            TlogError::Source(format!(
                "no tile holds the subtree at level {} index {}",
                node.level, node.index
            ))
        };
        // Multiplication, not a shift: a shift would drop high bits silently.
        let first = node.index.checked_mul(1u64 << within).ok_or_else(missing)?;
        let tile = self
            .tiles
            .get(&(level, first / TILE_WIDTH))
            .ok_or_else(missing)?;
        let position = usize::try_from((first % TILE_WIDTH) >> within).map_err(|_| missing())?;
        tile.rows
            .get(usize::from(within))
            .and_then(|row| row.get(position))
            .copied()
            .ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::proof::{prove_consistency, prove_inclusion};
    use crate::tree::{MemoryTree, range_nodes};
    use proptest::prelude::*;

    #[test]
    fn paths_follow_the_spec_examples() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        let t = TileId::new(0, 1234067, 256).unwrap();
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        assert_eq!(
            TilePath::parse("tile/0/x001/x234/067").unwrap(),
            TilePath::Hashes(t)
        );
        let p = TileId::new(3, 5, 2).unwrap();
        assert_eq!(p.path(), "tile/3/005.p/2");
        assert_eq!(
            TilePath::parse("tile/3/005.p/2").unwrap(),
            TilePath::Hashes(p)
        );
        let b = BundleId::new(3057500, 17).unwrap();
        assert_eq!(b.path(), "tile/entries/x003/x057/500.p/17");
        assert_eq!(TilePath::parse(&b.path()).unwrap(), TilePath::Entries(b));
        for bad in [
            "tile/3/5/123/456/078",
            "tile/3/123/456/078",
            "tile/03/001",
            "tile/64/001",
            "tile/-1/001",
            "tile/1/001.p/0",
            "tile/1/001.p/256",
            "tile/1/001.p/07",
            "tile/1/x000/001",
            "tile/1/1",
            "tile/1/x1/001",
            "tile/1/x018/x446/x744/x073/x709/x551/616",
            "tile/entries/001.p/",
            "tiles/1/001",
            "tile/data/001",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tiles_of_a_tree_of_70000() {
        // The spec's example: 273 full level-0 tiles, a partial one of width
        // 112, one full level-1 tile, a partial one of width 17 and a
        // partial level-2 tile of width 1.
        let tiles = TileId::changed(0, 70_000);
        let level0: Vec<_> = tiles.iter().filter(|t| t.level() == 0).collect();
        assert_eq!(level0.len(), 274);
        assert_eq!(level0.iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(level0.last().unwrap().width(), 112);
        let level1: Vec<_> = tiles
            .iter()
            .filter(|t| t.level() == 1)
            .map(|t| t.width())
            .collect();
        assert_eq!(level1, vec![256, 17]);
        let level2: Vec<_> = tiles
            .iter()
            .filter(|t| t.level() == 2)
            .map(|t| t.width())
            .collect();
        assert_eq!(level2, vec![1]);
        assert_eq!(tiles.len(), 277);
        // A tree of 256: one full level-0 tile and a level-1 tile of width 1.
        let t256: Vec<String> = TileId::changed(0, 256).iter().map(|t| t.path()).collect();
        assert_eq!(t256, vec!["tile/0/000", "tile/1/000.p/1"]);
        // Growing 256 -> 300 touches the new partial level-0 tile only.
        let grow: Vec<String> = TileId::changed(256, 300).iter().map(|t| t.path()).collect();
        assert_eq!(grow, vec!["tile/0/001.p/44"]);
    }

    #[test]
    fn bundles_round_trip_and_reject_garbage() {
        let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], vec![7; 300]];
        let data = encode_entry_bundle(&entries).unwrap();
        assert_eq!(&data[..3], &[0, 1, b'a']);
        let back = decode_entry_bundle(&data, 3).unwrap();
        assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert!(decode_entry_bundle(&data, 2).is_err());
        assert!(decode_entry_bundle(&data, 4).is_err());
        assert!(decode_entry_bundle(&data[..data.len() - 1], 3).is_err());
        assert!(encode_entry_bundle(&[vec![0u8; 70_000]]).is_err());
        assert!(decode_hash_tile(&[0; 64], 2).is_ok());
        assert!(decode_hash_tile(&[0; 65], 2).is_err());
        assert!(decode_hash_tile(&[0; 64], 3).is_err());
    }

    /// Builds the tiles of a tree from its stored subtrees, as a log does.
    fn tiles_from(tree: &MemoryTree, size: u64) -> TileSet {
        let mut set = TileSet::new();
        for tile in TileId::changed(0, size) {
            let hashes = (0..tile.width())
                .map(|i| {
                    let node =
                        NodeId::new(tile.level() * TILE_HEIGHT, tile.index() * TILE_WIDTH + i);
                    tree.node_hash(node).unwrap()
                })
                .collect();
            set.insert(tile.level(), tile.index(), hashes);
        }
        set
    }

    #[test]
    fn proofs_from_tiles_match_proofs_from_memory() {
        let mut tree = MemoryTree::new();
        for i in 0..70_000u32 {
            tree.append(&i.to_be_bytes());
        }
        for size in [1u64, 255, 256, 257, 65_536, 65_537, 70_000] {
            let tiles = tiles_from(&tree, size);
            assert_eq!(
                crate::tree::root_hash(&tiles, size).unwrap(),
                crate::tree::root_hash(&tree, size).unwrap()
            );
            for index in [0, size / 3, size - 1] {
                assert_eq!(
                    prove_inclusion(&tiles, index, size).unwrap(),
                    prove_inclusion(&tree, index, size).unwrap()
                );
                let nodes: Vec<NodeId> = crate::proof::inclusion_proof_nodes(index, size)
                    .unwrap()
                    .concat();
                let needed = TileSet::tiles_for(&nodes, size).unwrap();
                assert!(needed.len() <= 2 * 3, "{needed:?}");
            }
            for old in [1, size / 2, size] {
                assert_eq!(
                    prove_consistency(&tiles, old, size).unwrap(),
                    prove_consistency(&tree, old, size).unwrap()
                );
            }
        }
        assert!(TileSet::new().node_hash(NodeId::new(0, 0)).is_err());
        assert_eq!(range_nodes(0, 3).len(), 2);
        assert_eq!(
            leaf_hash(&0u32.to_be_bytes()),
            tree.node_hash(NodeId::new(0, 0)).unwrap()
        );
    }

    proptest! {
        #[test]
        fn tile_parsers_never_panic(path in "[tile/entrisx0-9.p]{0,40}", data in proptest::collection::vec(any::<u8>(), 0..600), width in 0u64..300) {
            let _ = TilePath::parse(&path);
            let _ = decode_entry_bundle(&data, width);
            let _ = decode_hash_tile(&data, width);
        }

        #[test]
        fn tile_lookups_never_panic(level in any::<u8>(), index in any::<u64>(), size in any::<u64>()) {
            let node = NodeId::new(level, index);
            let _ = TileId::for_node(node, size);
            let _ = TileSet::tiles_for(&[node], size);
            let mut set = TileSet::new();
            set.insert(level % 64, index, vec![Hash([1; 32]); 256]);
            let _ = set.node_hash(node);
            // Growth by a batch (the function's use), at any tree size.
            let _ = TileId::changed(size.saturating_sub(index % 5000), size);
        }

        #[test]
        fn paths_round_trip(level in 0u8..64, index in any::<u64>(), width in 1u64..=256) {
            let tile = TileId::new(level, index, width).unwrap();
            prop_assert_eq!(TilePath::parse(&tile.path()).unwrap(), TilePath::Hashes(tile));
            let bundle = BundleId::new(index, width).unwrap();
            prop_assert_eq!(TilePath::parse(&bundle.path()).unwrap(), TilePath::Entries(bundle));
        }
    }
}
