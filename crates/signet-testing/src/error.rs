//! The one error type of the test-support crate.

/// What can go wrong while running the test issuer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// Binding or serving the listener failed.
    #[error("test issuer i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Generating or using a key failed.
    #[error("test issuer key: {0}")]
    Key(String),
    /// A token or claim set could not be encoded or decoded.
    #[error("test issuer token: {0}")]
    Token(String),
    /// The virtual Sigstore could not make what was asked.
    #[error("virtual sigstore: {0}")]
    Setup(String),
}

impl From<serde_json::Error> for TestingError {
    fn from(e: serde_json::Error) -> Self {
        Self::Token(e.to_string())
    }
}
