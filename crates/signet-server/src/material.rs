//! The server's key material once loaded: the Fulcio CA, the CT log key, the
//! TSA, and the two transparency-log signing keys.

use signet_core::keys::{PrivateKey, PublicKey};
use signet_pki::ca::SigningCa;
use signet_pki::certificate::Certificate;
use signet_pki::sct::CtLogSigner;

/// Every private key the running server signs with, with its certificates.
pub struct Material {
    /// The Fulcio intermediate's key and chain (intermediate, root).
    pub fulcio: SigningCa,
    /// The CT log's key (ECDSA P-256).
    pub ct_log: CtLogSigner,
    /// The TSA's signing key and chain (signing certificate, intermediate, root).
    pub tsa: SigningCa,
    /// The Rekor v1 API's key (ECDSA P-256): SETs and checkpoints.
    pub rekor_v1: PrivateKey,
    /// The Rekor v2 API's checkpoint key (Ed25519).
    pub rekor_v2: PrivateKey,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("fulcio", &self.fulcio.certificate().describe())
            .field("ct_log", &self.ct_log)
            .field("tsa", &self.tsa.certificate().describe())
            .finish_non_exhaustive()
    }
}

impl Material {
    /// The public half, for the trust files and the public endpoints.
    pub fn public(&self) -> PublicMaterial {
        PublicMaterial {
            fulcio_chain: self.fulcio.chain().to_vec(),
            ct_log: self.ct_log.public_key(),
            tsa_chain: self.tsa.chain().to_vec(),
            rekor_v1: self.rekor_v1.public_key(),
            rekor_v2: self.rekor_v2.public_key(),
        }
    }
}

/// The public keys and certificates clients trust.
#[derive(Clone, Debug)]
pub struct PublicMaterial {
    /// Fulcio intermediate, then root.
    pub fulcio_chain: Vec<Certificate>,
    /// The CT log's key.
    pub ct_log: PublicKey,
    /// TSA signing certificate, intermediate, root.
    pub tsa_chain: Vec<Certificate>,
    /// The Rekor v1 key.
    pub rekor_v1: PublicKey,
    /// The Rekor v2 checkpoint key.
    pub rekor_v2: PublicKey,
}
