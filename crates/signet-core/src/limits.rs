//! Caps on untrusted input, in one place so that parse-time and verify-time
//! checks agree, and the one way signet reads local input: through a reader
//! that stops at the cap.
//!
//! Local input is read with [`read_file`], [`read_secret_file`] or their
//! reader forms, never with `metadata()` followed by a whole-file read: a
//! FIFO, `/dev/stdin`, a process substitution (`--bundle <(…)`) or a `/proc`
//! file reports size 0, and a regular file can grow between the check and the
//! read. The cap is enforced on the bytes actually read.
//!
//! ```
//! use signet_core::limits::{self, InputLimit};
//!
//! let limit = InputLimit::new("a test input", 4);
//! assert_eq!(limits::read_capped(&b"abcd"[..], limit, "inline").unwrap(), b"abcd");
//! let err = limits::read_capped(&b"abcde"[..], limit, "inline").unwrap_err();
//! assert_eq!(err.to_string(), "inline: larger than 4 bytes, the limit for a test input");
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;
use zeroize::Zeroizing;

/// Largest simple-signing payload signet reads (cosign's are ~250 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest signature manifest or image manifest signet reads.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Most signature layers read from one `.sig` manifest (cosign caps appends at 1000).
pub const MAX_SIGNATURE_LAYERS: usize = 1000;
/// Most signature payload bytes read from a registry, and separately most
/// payload bytes checked, for one image. cosign's payloads are about 250
/// bytes, so 1000 of them fit many times over; a manifest whose layers all
/// name one large blob cannot multiply the work beyond this.
pub const MAX_SIGNATURE_BYTES_PER_IMAGE: usize = 4 << 20;
/// Largest key file signet reads.
pub const MAX_KEY_FILE_BYTES: usize = 64 << 10;
/// Largest Sigstore bundle signet reads.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;
/// Most transparency-log entries read from one bundle (sigstore-go's cap).
pub const MAX_TLOG_ENTRIES: usize = 32;
/// Most RFC 3161 timestamps read from one bundle (sigstore-go's cap).
pub const MAX_TIMESTAMPS: usize = 32;
/// Most certificates in one chain (Rekor's cap for PEM chains).
pub const MAX_CHAIN_CERTIFICATES: usize = 10;
/// Most hashes in one inclusion proof (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_HASHES: usize = 64;
/// Most signatures read from one DSSE envelope.
pub const MAX_DSSE_SIGNATURES: usize = 16;
/// Most subjects read from one in-toto statement (sigstore-go's cap).
pub const MAX_INTOTO_SUBJECTS: usize = 1024;
/// Most digests per in-toto subject (sigstore-go's cap).
pub const MAX_SUBJECT_DIGESTS: usize = 32;
/// Largest Rekor entry body (canonical or proposed) signet reads. Proposed
/// DSSE and in-toto entries carry whole envelopes; Rekor itself stores
/// attestations only up to 100 KiB.
pub const MAX_REKOR_ENTRY_BYTES: usize = 4 << 20;
/// Largest checkpoint (signed note) signet reads.
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 10;
/// Largest detached signature file (`--signature`); an RSA-4096 signature in
/// base64 is under 1 KiB.
pub const MAX_SIGNATURE_FILE_BYTES: usize = 64 << 10;
/// Largest password read from standard input or a file.
pub const MAX_PASSWORD_BYTES: usize = 64 << 10;
/// Largest certificate or CA bundle file (`VAULT_CACERT`, client certificates).
pub const MAX_CERTIFICATE_FILE_BYTES: usize = 4 << 20;
/// Largest docker `config.json` or podman `auth.json`.
pub const MAX_CREDENTIAL_FILE_BYTES: usize = 4 << 20;
/// Largest blob held in memory whole. Only keys that sign the message itself
/// (Ed25519) need that; ECDSA and RSA sign a SHA-256 digest computed while
/// the blob streams past, so their blobs have no size limit.
pub const MAX_WHOLE_MESSAGE_BYTES: usize = 128 << 20;

/// A named cap on one kind of local input. The name appears in errors
/// ("larger than 65536 bytes, the limit for a key file").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimit {
    /// What kind of input this is, with its article ("a key file").
    pub what: &'static str,
    /// The most bytes accepted.
    pub max_bytes: usize,
}

impl InputLimit {
    /// A limit of `max_bytes` for inputs described as `what`.
    pub const fn new(what: &'static str, max_bytes: usize) -> Self {
        Self { what, max_bytes }
    }
}

/// Key files (`--key`, `import-key-pair --key`).
pub const KEY_FILE: InputLimit = InputLimit::new("a key file", MAX_KEY_FILE_BYTES);
/// Sigstore bundles (`--bundle`).
pub const BUNDLE_FILE: InputLimit = InputLimit::new("a bundle", MAX_BUNDLE_BYTES);
/// Detached signatures (`--signature`).
pub const SIGNATURE_FILE: InputLimit =
    InputLimit::new("a signature file", MAX_SIGNATURE_FILE_BYTES);
/// Passwords read from standard input.
pub const PASSWORD: InputLimit = InputLimit::new("a password", MAX_PASSWORD_BYTES);
/// Certificates and CA bundles.
pub const CERTIFICATE_FILE: InputLimit =
    InputLimit::new("a certificate file", MAX_CERTIFICATE_FILE_BYTES);
/// Registry credential files.
pub const CREDENTIAL_FILE: InputLimit =
    InputLimit::new("a credential file", MAX_CREDENTIAL_FILE_BYTES);
/// Tokens read from files (`~/.vault-token`).
pub const TOKEN_FILE: InputLimit = InputLimit::new("a token file", 64 << 10);
/// Blobs held whole for keys that sign the message itself.
pub const WHOLE_MESSAGE: InputLimit = InputLimit::new(
    "a blob signed or verified whole (Ed25519 keys)",
    MAX_WHOLE_MESSAGE_BYTES,
);

/// Local input could not be read within its limit.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Opening or reading failed.
    // The I/O error is part of the message and deliberately not its
    // `source()`: a chain printer would show it twice.
    #[error("{}: {error}", source_name.display())]
    Io {
        /// The file (or a name such as `standard input`).
        source_name: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// More bytes than the limit allows.
    #[error("{}: larger than {} bytes, the limit for {}", source_name.display(), limit.max_bytes, limit.what)]
    TooLarge {
        /// The file (or a name such as `standard input`).
        source_name: PathBuf,
        /// The limit that was exceeded.
        limit: InputLimit,
    },
}

impl ReadError {
    /// The underlying I/O error's kind, if this is an I/O error.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Self::Io { error, .. } => Some(error.kind()),
            Self::TooLarge { .. } => None,
        }
    }
}

/// Reads all of `reader`, failing as soon as more than `limit.max_bytes`
/// arrive. `name` identifies the input in errors.
pub fn read_capped(
    reader: impl Read,
    limit: InputLimit,
    name: impl AsRef<Path>,
) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly the limit" from "more".
    reader
        .take(limit.max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|error| ReadError::Io {
            source_name: name.as_ref().to_owned(),
            error,
        })?;
    if out.len() > limit.max_bytes {
        return Err(ReadError::TooLarge {
            source_name: name.as_ref().to_owned(),
            limit,
        });
    }
    Ok(out)
}

/// Like [`read_capped`], for secrets: the bytes are read into one buffer
/// allocated up front (so no reallocation leaves a copy behind) and wiped
/// when dropped, including on error.
pub fn read_secret_capped(
    mut reader: impl Read,
    limit: InputLimit,
    name: impl AsRef<Path>,
) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let io = |error| ReadError::Io {
        source_name: name.as_ref().to_owned(),
        error,
    };
    let mut buf = Zeroizing::new(vec![0u8; limit.max_bytes + 1]);
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    if filled > limit.max_bytes {
        return Err(ReadError::TooLarge {
            source_name: name.as_ref().to_owned(),
            limit,
        });
    }
    // Truncating keeps the allocation; Zeroizing wipes all of its capacity.
    buf.truncate(filled);
    Ok(buf)
}

/// Reads the file at `path` through [`read_capped`].
pub fn read_file(path: &Path, limit: InputLimit) -> Result<Vec<u8>, ReadError> {
    let file = open(path)?;
    read_capped(file, limit, path)
}

/// Reads the file at `path` through [`read_secret_capped`].
pub fn read_secret_file(path: &Path, limit: InputLimit) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let file = open(path)?;
    read_secret_capped(file, limit, path)
}

fn open(path: &Path) -> Result<std::fs::File, ReadError> {
    std::fs::File::open(path).map_err(|error| ReadError::Io {
        source_name: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: InputLimit = InputLimit::new("a tiny input", 8);

    /// A reader that reports nothing about its size and hands out bytes in
    /// small pieces, like a pipe or a `/proc` file.
    struct Trickle {
        left: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.left).min(3);
            buf[..n].fill(b'x');
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn caps_apply_to_bytes_read() {
        for (len, ok) in [(0, true), (7, true), (8, true), (9, false), (10_000, false)] {
            let plain = read_capped(Trickle { left: len }, TINY, "pipe");
            let secret = read_secret_capped(Trickle { left: len }, TINY, "pipe");
            assert_eq!(plain.is_ok(), ok, "{len}");
            assert_eq!(secret.is_ok(), ok, "{len}");
            if ok {
                assert_eq!(plain.unwrap().len(), len);
                assert_eq!(secret.unwrap().len(), len);
            } else {
                assert_eq!(
                    plain.unwrap_err().to_string(),
                    "pipe: larger than 8 bytes, the limit for a tiny input"
                );
            }
        }
    }

    #[test]
    fn proc_files_report_size_zero_and_are_still_capped() {
        // /proc/self/status has st_size 0 but real content.
        let path = Path::new("/proc/self/status");
        if std::fs::metadata(path).map(|m| m.len()).ok() != Some(0) {
            return; // not Linux procfs
        }
        let whole = read_file(path, InputLimit::new("a status file", 1 << 20)).unwrap();
        assert!(whole.len() > 16);
        let err = read_file(path, TINY).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        let err = read_secret_file(path, TINY).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn missing_files_name_the_path() {
        let err = read_file(Path::new("/nonexistent/signet.key"), KEY_FILE).unwrap_err();
        assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
        assert!(
            err.to_string().starts_with("/nonexistent/signet.key: "),
            "{err}"
        );
    }
}
