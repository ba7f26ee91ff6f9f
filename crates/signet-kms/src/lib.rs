//! Key references: where a signing or verification key lives, and how to get a
//! [`Signer`](signet_core::keys::Signer) or [`PublicKey`] from it.
//!
//! | reference | meaning |
//! |---|---|
//! | `path/to/cosign.key` | an encrypted cosign key file (or a public key, for verification) |
//! | `env://VAR` | the same PEM, in an environment variable (CI secrets) |
//! | `hashivault://NAME` | a Vault/OpenBao transit key; the private key never leaves Vault |
//! | `vault-kv://MOUNT/PATH[?version=N]` | a cosign key pair stored in a KV v2 secret, decrypted in memory |
//!
//! Vault is reached with `VAULT_ADDR`, `VAULT_TOKEN` and `VAULT_NAMESPACE`, as
//! cosign reads them; the transit mount is `TRANSIT_SECRET_ENGINE_PATH`
//! (default `transit`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod files;
mod keyref;
mod password;
mod resolve;
pub mod vault;

pub use error::KmsError;
pub use keyref::KeyRef;
pub use password::{PasswordSource, StaticPassword};
pub use resolve::{GeneratedKey, generate, load_public_key, load_signer};
