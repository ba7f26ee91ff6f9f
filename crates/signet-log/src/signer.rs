//! How the engine signs checkpoints and reads them back.

use std::sync::Arc;

use signet_tlog::checkpoint::{Checkpoint, CheckpointVerifier, RekorV1CheckpointVerifier};
use signet_tlog::note::{Note, NoteSigner};
use signet_tlog::{Hash, TlogError};

use crate::error::LogError;

/// Signs tree heads. Injected into the engine so that the server decides
/// the key, the origin and the form (C2SP checkpoint, Rekor v1 note).
pub trait CheckpointSigner: Send + Sync {
    /// Signs the head of the tree of `size` entries with root `root`;
    /// returns the signed note's bytes.
    fn sign(&self, size: u64, root: &Hash) -> Result<Vec<u8>, LogError>;
}

/// Signs checkpoints `origin\nsize\nroot\n` with one or more note keys.
pub struct NoteCheckpointSigner {
    origin: String,
    signers: Vec<Arc<dyn NoteSigner>>,
}

impl NoteCheckpointSigner {
    /// Signs with `signers` (at least one) under `origin`.
    pub fn new(
        origin: impl Into<String>,
        signers: Vec<Arc<dyn NoteSigner>>,
    ) -> Result<Self, LogError> {
        let origin = origin.into();
        if signers.is_empty() {
            return Err(LogError::Misuse(
                "a checkpoint signer needs at least one key".into(),
            ));
        }
        // Validates the origin once.
        Checkpoint::new(origin.clone(), 0, signet_tlog::empty_root())?;
        Ok(Self { origin, signers })
    }
}

impl CheckpointSigner for NoteCheckpointSigner {
    fn sign(&self, size: u64, root: &Hash) -> Result<Vec<u8>, LogError> {
        let signers: Vec<&dyn NoteSigner> = self.signers.iter().map(|s| s.as_ref()).collect();
        Checkpoint::new(self.origin.clone(), size, *root)?
            .sign(&signers)
            .map_err(|e| LogError::Signing(e.to_string()))
    }
}

/// Reads a stored checkpoint back, checking its signature or not.
pub trait CheckpointReader: Send + Sync {
    /// The checkpoint in a signed note.
    fn read(&self, note: &[u8]) -> Result<Checkpoint, TlogError>;
}

impl CheckpointReader for CheckpointVerifier {
    fn read(&self, note: &[u8]) -> Result<Checkpoint, TlogError> {
        self.verify(note).map(|s| s.checkpoint)
    }
}

impl CheckpointReader for RekorV1CheckpointVerifier {
    fn read(&self, note: &[u8]) -> Result<Checkpoint, TlogError> {
        self.verify(note).map(|s| s.checkpoint)
    }
}

/// Parses checkpoints without checking signatures (for `verify_log` when
/// only the tree's own consistency is in question).
#[derive(Debug, Clone, Copy, Default)]
pub struct UncheckedCheckpoints;

impl CheckpointReader for UncheckedCheckpoints {
    fn read(&self, note: &[u8]) -> Result<Checkpoint, TlogError> {
        Checkpoint::from_text(Note::parse(note)?.text())
    }
}
