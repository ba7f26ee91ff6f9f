//! Errors of setting the server up and starting it, split by blame: the
//! configuration ([`ConfigError`]), the data directory and its files, key
//! material, TLS and the listening socket ([`ServerError`]).
//!
//! Errors answered to clients are [`crate::api::ApiError`]; ID-token defects
//! are [`crate::oidc::TokenError`].

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

/// A configuration value that is not acceptable. The operator is to blame.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The value and why it is refused.
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid(reason.into())
    }
}

/// Why `init` or `run` failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration file (or a flag) is not acceptable.
    #[error("{}: {source}", path.display())]
    Config {
        /// The file (or the flag) at fault.
        path: PathBuf,
        /// What is wrong.
        source: ConfigError,
    },
    /// A configuration value given on the command line is not acceptable.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `init` does not write over an existing data directory.
    #[error(
        "{} already exists and is not empty; refusing to initialise over it (choose a new directory)",
        .0.display()
    )]
    AlreadyExists(PathBuf),
    /// `run` was pointed at a directory `init` did not complete.
    #[error(
        "{} is not a signet server data directory (no server.toml): run `signet server init` first",
        .0.display()
    )]
    NotInitialised(PathBuf),
    /// A key file could not be read, decrypted or used.
    #[error("{}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What went wrong (a wrong password, a damaged file).
        reason: String,
    },
    /// No password for the key files.
    #[error("no password for the server's keys: {0}")]
    Password(String),
    /// Creating certificates or keys failed.
    #[error("cannot create {what}: {reason}")]
    Issue {
        /// What was being made.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A service could not start (the transparency log's store, say).
    #[error("{service}: {reason}")]
    Service {
        /// Which service.
        service: &'static str,
        /// Why.
        reason: String,
    },
}

impl ServerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
