use std::path::PathBuf;

use signet_core::KeyError;
use thiserror::Error;

/// Why a key could not be found, read or used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KmsError {
    /// The key reference itself is not understood.
    #[error("invalid key reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key material is unusable (wrong password, malformed, unsupported).
    #[error("{source_name}: {error}")]
    Key {
        /// Where the key came from.
        source_name: String,
        /// What went wrong.
        error: KeyError,
    },
    /// A key file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A local input could not be read within its size limit.
    #[error(transparent)]
    Read(#[from] signet_core::limits::ReadError),
    /// Refusing to replace an existing key.
    #[error(
        "{0} already exists; refusing to overwrite it (remove it first, or choose another name)"
    )]
    AlreadyExists(String),
    /// An environment variable the reference names is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// No password could be obtained.
    #[error("no password: {0}")]
    Password(String),
    /// Vault answered with an error.
    #[error("vault {operation}: {message}")]
    Vault {
        /// What was being done (`transit sign cosign`).
        operation: String,
        /// Vault's answer or the transport error.
        message: String,
    },
}

impl KmsError {
    pub(crate) fn key(source_name: impl Into<String>, error: KeyError) -> Self {
        Self::Key {
            source_name: source_name.into(),
            error,
        }
    }
}
