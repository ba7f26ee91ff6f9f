//! Errors of starting an enforcement point. Once running, the gate and the
//! webhook answer every request (a refusal, or "could not decide", is a
//! response, not an error).

use thiserror::Error;

/// Why a gate or webhook could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnforceError {
    /// The policy file cannot be used.
    #[error(transparent)]
    Policy(#[from] signet_policy::PolicyError),
    /// The registry client could not be built.
    #[error(transparent)]
    Registry(#[from] signet_oci::RegistryError),
    /// A setting that cannot be used (the caller is to blame).
    #[error("{0}")]
    Config(String),
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The listening address cannot be bound.
    #[error("{0}")]
    Listen(String),
}
