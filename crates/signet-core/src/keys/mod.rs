//! Keys: the private and public key types signet signs and verifies with, the
//! cosign encrypted key-file format, and the [`Signer`] interface that lets a
//! KMS stand in for a local key.

mod ecdsa;
mod encrypted;
mod private;
mod public;
mod signer;

pub use encrypted::{
    COSIGN_KEY_PEM_LABEL, EncryptedKeyOptions, SIGSTORE_KEY_PEM_LABEL, decrypt_private_key,
    encrypt_private_key, is_encrypted_private_key,
};
pub use private::PrivateKey;
pub use public::PublicKey;
pub use signer::{BoxFuture, LocalSigner, Signer};

/// Smallest RSA modulus accepted for signing and for verification, as
/// cosign's `goodkey` check demands.
pub const MIN_RSA_BITS: usize = 2048;
