//! The transparency-log engine behind `signet server`'s Rekor v1/v2 and
//! CT logs. No HTTP here: the server maps its APIs onto [`Log`].
//!
//! - [`Log::append`] takes an entry (opaque leaf bytes plus an identity
//!   for de-duplication) and answers once the entry is durable and covered
//!   by a signed checkpoint, with its index and inclusion proof. Appends
//!   are batched (group commit) by one sequencer task.
//! - [`LogReader`] serves entries by index, leaf hash or identity, tree
//!   heads, inclusion and consistency proofs, C2SP tiles and entry bundles.
//! - Storage sits behind [`LogStore`]: [`RedbStore`] (embedded, the
//!   default), [`PostgresStore`] (several engine instances on one database
//!   serve one log), [`MemoryStore`] (tests).
//! - [`verify_log`] recomputes the tree and checks every stored checkpoint.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use signet_log::{Log, LogConfig, MemoryStore, NoteCheckpointSigner, PendingEntry};
//! use signet_tlog::note::KeyName;
//! use signet_tlog::note_keys::NoteSignerKey;
//!
//! let key = signet_core::keys::PrivateKey::generate_p256().unwrap();
//! let signer = NoteSignerKey::new(KeyName::new("log.example").unwrap(), key).unwrap();
//! let signer = NoteCheckpointSigner::new("log.example", vec![Arc::new(signer)]).unwrap();
//! let log = Log::open(Arc::new(MemoryStore::new()), Arc::new(signer), LogConfig::default()).await.unwrap();
//! let done = log.append(PendingEntry::new(b"hello".to_vec())).await.unwrap();
//! assert_eq!((done.index, done.tree_head.size), (0, 1));
//! # });
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod engine;
mod entry;
mod error;
mod memory_store;
mod postgres_store;
mod redb_store;
mod sequencer;
mod signer;
mod storage;
mod verify;

pub use engine::{Appended, Log, LogConfig, LogReader, TreeHead};
pub use entry::{LogEntry, PendingEntry};
pub use error::LogError;
pub use memory_store::MemoryStore;
pub use postgres_store::PostgresStore;
pub use redb_store::RedbStore;
pub use signer::{CheckpointReader, CheckpointSigner, NoteCheckpointSigner, UncheckedCheckpoints};
pub use storage::{
    Assignment, BatchWrite, Integrator, LogStore, SequenceInput, Sequenced, StoredTile, TreeState,
    edge_tile_ids,
};
pub use verify::{LogReport, verify_log};
