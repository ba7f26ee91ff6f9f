//! Transparency-log formats and math, with no I/O.
//!
//! - [`hash`]: RFC 6962 leaf and node hashing.
//! - [`tree`]: complete subtrees, the [`tree::HashSource`] trait storage
//!   implements, the right edge of a growing tree ([`tree::CompactRange`])
//!   and an in-memory tree.
//! - [`proof`]: inclusion and consistency proofs — which subtrees they
//!   need, how to fold them, how to verify them (RFC 9162).
//! - [`tile`]: C2SP tlog-tiles paths, hash tiles, entry bundles, and
//!   [`tile::TileSet`], a hash source over tiles.
//! - [`note`] and [`note_keys`]: C2SP signed notes and their keys (Ed25519,
//!   ECDSA, RSA for reading), verified and unknown signatures kept apart.
//! - [`checkpoint`]: tree heads as signed notes, for C2SP logs and for
//!   Rekor v1.
//! - [`set`]: Rekor v1 signed entry timestamps.
//!
//! ```
//! use signet_tlog::proof::{prove_inclusion, verify_inclusion};
//! use signet_tlog::tree::{MemoryTree, HashSource, NodeId};
//!
//! let mut tree = MemoryTree::new();
//! for entry in [b"a", b"b", b"c"] {
//!     tree.append(entry);
//! }
//! let proof = prove_inclusion(&tree, 1, 3).unwrap();
//! let leaf = tree.node_hash(NodeId::new(0, 1)).unwrap();
//! verify_inclusion(&leaf, 1, 3, &proof, &tree.root()).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod error;
pub mod hash;
pub mod note;
pub mod note_keys;
pub mod proof;
pub mod set;
pub mod tile;
pub mod tree;

pub use error::{Blame, TlogError};
pub use hash::{Hash, empty_root, leaf_hash, node_hash};
