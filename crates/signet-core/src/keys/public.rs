//! Public keys: read from PEM (PKIX `PUBLIC KEY`, also PKCS#1 `RSA PUBLIC KEY`),
//! written as PKIX PEM like cosign's `cosign.pub`, and used to check signatures.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256};
use signature::hazmat::PrehashVerifier;
use spki::{DecodePublicKey, EncodePublicKey};

use super::MIN_RSA_BITS;
use super::ecdsa::{EcdsaFailure, EcdsaKey, verify_prehash};
use crate::artifact::Artifact;
use crate::digest::Digest;
use crate::error::{KeyError, SignatureError};

/// A public key that can check cosign signatures.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// ECDSA on NIST P-256.
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// ECDSA on NIST P-384.
    EcdsaP384(p384::ecdsa::VerifyingKey),
    /// RSA (PKCS#1 v1.5 signatures with SHA-256).
    Rsa(Box<rsa::PublicKey>),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.kind(), self.hint())
    }
}

impl PublicKey {
    /// Reads a PEM public key: `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem)
            .map_err(|e| KeyError::Malformed(format!("not a PEM public key ({e})")))?;
        match label {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "RSA PUBLIC KEY" => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                rsa::PublicKey::from_pkcs1_der(&der)
                    .map_err(|e| KeyError::Malformed(format!("invalid PKCS#1 RSA public key: {e}")))
                    .and_then(Self::rsa)
            }
            "CERTIFICATE" => Err(KeyError::Unsupported(
                "a certificate was given where a public key is expected; keyless verification is not available yet"
                    .into(),
            )),
            l if l.contains("PRIVATE KEY") => Err(KeyError::Unsupported(format!(
                "PEM type {l:?} is a private key; verification needs the public key (signet public-key --key …)"
            ))),
            other => Err(KeyError::Unsupported(format!("PEM type {other:?} is not a public key"))),
        }
    }

    /// Reads a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::EcdsaP256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::EcdsaP384(k));
        }
        if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
            return Self::rsa(k);
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::Ed25519(k));
        }
        match spki::SubjectPublicKeyInfoRef::try_from(der) {
            Ok(info) => Err(KeyError::Unsupported(format!(
                "public key algorithm {}{} (supported: ECDSA P-256/P-384, RSA, Ed25519)",
                info.algorithm.oid,
                info.algorithm
                    .parameters_oid()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            ))),
            Err(e) => Err(KeyError::Malformed(format!(
                "not a SubjectPublicKeyInfo: {e}"
            ))),
        }
    }

    /// An RSA key, refused below [`MIN_RSA_BITS`] as cosign's `goodkey` check
    /// refuses it, for verification as for signing.
    fn rsa(key: rsa::PublicKey) -> Result<Self, KeyError> {
        use rsa::traits::PublicKeyParts;
        let bits = key.n().bit_width() as usize;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::Unsupported(format!(
                "RSA public key of {bits} bits; at least {MIN_RSA_BITS} are required"
            )));
        }
        Ok(Self::Rsa(Box::new(key)))
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            Self::EcdsaP256(k) => k.to_public_key_der(),
            Self::EcdsaP384(k) => k.to_public_key_der(),
            Self::Rsa(k) => k.to_public_key_der(),
            Self::Ed25519(k) => k.to_public_key_der(),
        };
        // Encoding a key that was itself decoded or generated cannot fail; an
        // empty result would simply never match anything.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// PKIX PEM with LF line endings, as `cosign.pub` is written.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string(
            "PUBLIC KEY",
            pem_rfc7468::LineEnding::LF,
            &self.to_spki_der(),
        )
        .unwrap_or_default()
    }

    /// base64(SHA-256(SPKI DER)): the key hint cosign puts in bundles.
    pub fn hint(&self) -> String {
        B64.encode(Sha256::digest(self.to_spki_der()))
    }

    /// The modulus size in bits, for RSA keys.
    pub fn rsa_modulus_bits(&self) -> Option<usize> {
        match self {
            Self::Rsa(k) => {
                use rsa::traits::PublicKeyParts as _;
                Some(k.size() * 8)
            }
            _ => None,
        }
    }

    /// A short name for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EcdsaP256(_) => "ECDSA P-256",
            Self::EcdsaP384(_) => "ECDSA P-384",
            Self::Rsa(_) => "RSA",
            Self::Ed25519(_) => "Ed25519",
        }
    }

    /// Checks a signature made the way cosign signs with this key type.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let key = self.kind();
        let mismatch = |_| SignatureError::Mismatch { key };
        match self {
            Self::EcdsaP256(_) | Self::EcdsaP384(_) => {
                self.verify_ecdsa_prehash(&Sha256::digest(message), signature)
            }
            Self::Rsa(k) => {
                use signature::Verifier;
                let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| {
                    SignatureError::Encoding {
                        encoding: "PKCS#1 v1.5",
                        key,
                    }
                })?;
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone())
                    .verify(message, &sig)
                    .map_err(mismatch)
            }
            Self::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
                    SignatureError::Encoding {
                        encoding: "64-byte Ed25519",
                        key,
                    }
                })?;
                k.verify_strict(message, &sig).map_err(mismatch)
            }
        }
    }

    /// Checks an ECDSA signature (ASN.1 DER) over a message whose hash is
    /// `prehash`; the hash function is the one with `prehash`'s length
    /// (SHA-256, SHA-384 or SHA-512). Other key types never match.
    pub fn verify_ecdsa_prehash(
        &self,
        prehash: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let key = self.kind();
        let curve = match self {
            Self::EcdsaP256(k) => EcdsaKey::P256(k),
            Self::EcdsaP384(k) => EcdsaKey::P384(k),
            _ => return Err(SignatureError::Mismatch { key }),
        };
        verify_prehash(curve, prehash, signature).map_err(|failure| match failure {
            EcdsaFailure::Encoding => SignatureError::Encoding {
                encoding: "ASN.1 DER ECDSA",
                key,
            },
            EcdsaFailure::Mismatch => SignatureError::Mismatch { key },
        })
    }

    /// Checks a signature over `artifact`. ECDSA and RSA check against the
    /// artifact's SHA-256 digest, so the artifact need not be held in memory;
    /// Ed25519 needs its bytes and says so when they were too large to keep.
    pub fn verify_artifact(
        &self,
        artifact: &Artifact,
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match (self, artifact.bytes()) {
            (Self::Ed25519(_), Some(bytes)) => self.verify(bytes, signature),
            (Self::Ed25519(_), None) => Err(SignatureError::WholeMessageTooLarge {
                key: self.kind(),
                size: artifact.size(),
                limit: artifact.keep_limit().map(|l| l.max_bytes).unwrap_or(0),
            }),
            _ => self.verify_digest(artifact.digest(), signature),
        }
    }

    /// Checks a signature over a message whose SHA-256 digest is `digest`, as
    /// [`verify`](Self::verify) checks one over the message. Ed25519
    /// signatures cover the message itself and cannot be checked this way.
    pub fn verify_digest(&self, digest: &Digest, signature: &[u8]) -> Result<(), SignatureError> {
        let key = self.kind();
        let mismatch = |_| SignatureError::Mismatch { key };
        let digest = digest.raw();
        match self {
            Self::EcdsaP256(_) | Self::EcdsaP384(_) => {
                self.verify_ecdsa_prehash(&digest, signature)
            }
            Self::Rsa(k) => {
                let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| {
                    SignatureError::Encoding {
                        encoding: "PKCS#1 v1.5",
                        key,
                    }
                })?;
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone())
                    .verify_prehash(&digest, &sig)
                    .map_err(mismatch)
            }
            Self::Ed25519(_) => Err(SignatureError::DigestNotSigned { key }),
        }
    }

    /// Whether signatures by this key cover the message itself rather than
    /// its digest (so that the message must be held whole).
    pub fn signs_whole_message(&self) -> bool {
        matches!(self, Self::Ed25519(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COSIGN_PUB: &str = include_str!("../../../../tests/vectors/cosign-2.5/cosign.pub");
    const BLOB: &[u8] = include_bytes!("../../../../tests/vectors/cosign-2.5/blob");
    const BLOB_SIG: &str = include_str!("../../../../tests/vectors/cosign-2.5/blob.sig");

    #[test]
    fn verifies_cosign_blob_signature() {
        let key = PublicKey::from_pem(COSIGN_PUB.as_bytes()).unwrap();
        let sig = B64.decode(BLOB_SIG.trim()).unwrap();
        key.verify(BLOB, &sig).unwrap();
        assert_eq!(
            key.verify(b"tampered", &sig),
            Err(SignatureError::Mismatch { key: "ECDSA P-256" })
        );
        assert_eq!(key.to_pem(), COSIGN_PUB);
        // cosign's bundle carries this hint for the key (see blob.bundle.json).
        assert_eq!(key.hint(), "3499She4SYdnbPwso9AbHyzVXv+tlIkpGDXVafzr16g=");
    }

    #[test]
    fn rsa_keys_below_2048_bits_are_refused() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/import");
        for file in ["rsa-1024.pub", "rsa-1024-pkcs1.pub"] {
            let pem = std::fs::read(format!("{dir}/{file}")).unwrap();
            let err = PublicKey::from_pem(&pem).unwrap_err().to_string();
            assert_eq!(
                err, "unsupported key: RSA public key of 1024 bits; at least 2048 are required",
                "{file}"
            );
        }
        let pem = std::fs::read(format!("{dir}/rsa.pub")).unwrap();
        assert_eq!(PublicKey::from_pem(&pem).unwrap().kind(), "RSA");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), sig in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = PublicKey::from_spki_der(&bytes);
            let _ = PublicKey::from_pem(&bytes);
            let key = PublicKey::from_pem(COSIGN_PUB.as_bytes()).unwrap();
            let _ = key.verify(&bytes, &sig);
        }
    }
}
