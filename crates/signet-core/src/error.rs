//! Errors of the formats-and-crypto layer, split by who is to blame.

use thiserror::Error;

/// Bytes that do not parse as the format they claim to be. The input is to blame.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Not a `sha256:<64 hex>` digest.
    #[error("invalid digest {0:?}: expected sha256:<64 lowercase hex digits>")]
    InvalidDigest(String),
    /// JSON that does not have the expected shape.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which document was being read.
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// Input larger than signet is willing to read.
    #[error("{what} is {size} bytes, larger than the limit of {limit} bytes")]
    TooLarge {
        /// Which document was being read.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl FormatError {
    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}

/// Problems with key material: reading, decrypting, encoding or using keys.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The password does not decrypt the key (or the key file was altered).
    #[error("incorrect password, or the encrypted key was altered (decryption failed)")]
    WrongPassword,
    /// The PEM armour or its contents are unreadable.
    #[error("malformed key: {0}")]
    Malformed(String),
    /// A well-formed key of a kind signet does not handle.
    #[error("unsupported key: {0}")]
    Unsupported(String),
    /// The key-derivation parameters are outside what cosign accepts.
    #[error("unsupported key encryption parameters: {0}")]
    UnsupportedKdf(String),
    /// Randomness could not be obtained from the operating system.
    #[error("no randomness available from the operating system: {0}")]
    Random(String),
    /// A signing operation failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The key type signs the whole message, and the message was too large
    /// to hold in memory.
    #[error(
        "{key} keys sign the whole message, and this one ({size} bytes) is larger than {limit} bytes, the limit for holding one in memory"
    )]
    WholeMessageTooLarge {
        /// The key type.
        key: &'static str,
        /// The message's size.
        size: u64,
        /// The limit in bytes.
        limit: usize,
    },
}

/// A signature that does not verify. The signature (or the key chosen) is to blame.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature bytes are not a valid encoding for the key type.
    #[error("signature is not valid {encoding} for a {key} key")]
    Encoding {
        /// The expected encoding.
        encoding: &'static str,
        /// The key type.
        key: &'static str,
    },
    /// The signature is well-formed but does not match the message and key.
    #[error("invalid signature: it does not match the payload under this {key} key")]
    Mismatch {
        /// The key type.
        key: &'static str,
    },
    /// The key type signs messages, not digests, and only a digest was given.
    #[error("{key} signatures cover the whole message, not its digest")]
    DigestNotSigned {
        /// The key type.
        key: &'static str,
    },
    /// The key type signs the whole message, and the message was too large to
    /// hold in memory.
    #[error(
        "{key} signatures cover the whole message, and this one ({size} bytes) is larger than {limit} bytes, the limit for holding one in memory"
    )]
    WholeMessageTooLarge {
        /// The key type.
        key: &'static str,
        /// The message's size.
        size: u64,
        /// The limit in bytes.
        limit: usize,
    },
}
