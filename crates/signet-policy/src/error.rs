//! Errors of loading a policy, split by blame: the file does not parse
//! ([`PolicyError::Syntax`]), it parses but says something impossible
//! ([`PolicyError::Invalid`]), or what it names cannot be loaded
//! ([`PolicyError::Key`], [`PolicyError::TrustRoot`], [`PolicyError::Read`]).
//!
//! Evaluating a policy never fails: its outcome, including "could not
//! decide", is a [`Decision`](crate::Decision).

use std::fmt;

use thiserror::Error;

/// A policy file that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read (missing, unreadable, too large).
    #[error("{file}: {message}")]
    Read {
        /// The policy file.
        file: String,
        /// Why.
        message: String,
    },
    /// The YAML does not parse into a policy: a syntax error, an unknown or
    /// duplicate key, a value of the wrong type.
    #[error("{}", Located { file, line: *line, column: *column, path, message })]
    Syntax {
        /// The policy file.
        file: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// The key path, `policies[1].authorities[0].kee`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The policy parses but is not acceptable: a bad glob or regular
    /// expression, a threshold above the number of authorities, a name used
    /// twice, a limit exceeded.
    #[error("{file}: {path}: {message}")]
    Invalid {
        /// The policy file.
        file: String,
        /// The key path.
        path: String,
        /// What is wrong, with the expected and actual values.
        message: String,
    },
    /// A key an authority names could not be loaded.
    #[error("{file}: {path}: cannot load key {reference}: {message}")]
    Key {
        /// The policy file.
        file: String,
        /// The key path of the authority.
        path: String,
        /// The key reference as written.
        reference: String,
        /// Why.
        message: String,
    },
    /// A trusted root could not be loaded.
    #[error("{file}: trust-roots.{name}: {message}")]
    TrustRoot {
        /// The policy file.
        file: String,
        /// The trust root's name.
        name: String,
        /// Why.
        message: String,
    },
}

struct Located<'a> {
    file: &'a str,
    line: u64,
    column: u64,
    path: &'a str,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl PolicyError {
    pub(crate) fn invalid(file: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            file: file.to_owned(),
            path: path.into(),
            message: message.into(),
        }
    }
}
