//! What a blob signature covers, read once as a stream.
//!
//! ECDSA and RSA sign the SHA-256 digest of the message, so a blob of any
//! size can be signed or verified from its digest, computed while it streams
//! past. Ed25519 signs the message itself, so an Ed25519 key needs the whole
//! blob in memory; [`Artifact::read`] keeps the bytes only up to a limit and
//! the Ed25519 path reports that limit by name when the blob was larger.

use std::io::Read;

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::limits::InputLimit;

/// The read chunk for inputs that fit in one.
const SMALL_CHUNK: usize = 8 << 10;
/// The read chunk once an input has filled the small one.
const LARGE_CHUNK: usize = 64 << 10;

/// A signed (or to-be-signed) artifact: its SHA-256 digest, its size, and its
/// bytes when they were small enough to keep.
#[derive(Clone)]
pub struct Artifact {
    digest: Digest,
    size: u64,
    bytes: Option<Vec<u8>>,
    keep_limit: Option<InputLimit>,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("kept", &self.bytes.is_some())
            .finish()
    }
}

impl Artifact {
    /// An artifact held in memory (image payloads, small inputs).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            digest: Digest::sha256_of(&bytes),
            size: bytes.len() as u64,
            bytes: Some(bytes),
            keep_limit: None,
        }
    }

    /// Hashes everything `reader` yields. The bytes are kept as long as they
    /// fit within `keep` (pass `None` to keep nothing, when every key in use
    /// signs digests); memory use is bounded by that limit whatever the size
    /// of the input.
    pub fn read(mut reader: impl Read, keep: Option<InputLimit>) -> std::io::Result<Self> {
        let mut hasher = Sha256::new();
        let mut kept = keep.map(|_| Vec::new());
        let mut size: u64 = 0;
        // Most signed files are small: they are read through 8 KiB, and the
        // chunk grows to 64 KiB once a read fills it (a large file, where the
        // chunk size matters). A 64 KiB buffer from the start cost a short
        // `verify-blob` sixteen page faults for zeroing it.
        let mut chunk = vec![0u8; SMALL_CHUNK];
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == chunk.len() && chunk.len() < LARGE_CHUNK {
                // Growing keeps the bytes just read in place.
                chunk.resize(LARGE_CHUNK, 0);
            }
            let data = chunk.get(..n).unwrap_or_default();
            hasher.update(data);
            size = size.saturating_add(n as u64);
            if let (Some(buf), Some(limit)) = (&mut kept, keep) {
                if size > limit.max_bytes as u64 {
                    // Too large to keep: stop holding it, keep hashing.
                    kept = None;
                } else {
                    buf.extend_from_slice(data);
                }
            }
        }
        Ok(Self {
            digest: Digest::from_raw(hasher.finalize().into()),
            size,
            bytes: kept,
            keep_limit: keep,
        })
    }

    /// SHA-256 of the artifact.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes, if they were kept.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref()
    }

    /// The limit up to which bytes were kept, for errors about a missing
    /// whole message.
    pub fn keep_limit(&self) -> Option<InputLimit> {
        self.keep_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_keeps_within_the_limit() {
        let data = vec![7u8; 200_000];
        let limit = InputLimit::new("a test blob", 100_000);
        let streamed = Artifact::read(&data[..], Some(limit)).unwrap();
        assert_eq!(streamed.digest(), &Digest::sha256_of(&data));
        assert_eq!(streamed.size(), 200_000);
        assert!(streamed.bytes().is_none());
        let small = Artifact::read(&data[..50_000], Some(limit)).unwrap();
        assert_eq!(small.bytes(), Some(&data[..50_000]));
        let digest_only = Artifact::read(&data[..10], None).unwrap();
        assert!(digest_only.bytes().is_none());
        assert_eq!(digest_only.digest(), &Digest::sha256_of(&data[..10]));
    }
}
