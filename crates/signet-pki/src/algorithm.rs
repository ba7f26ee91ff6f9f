//! Hash and signature algorithms as X.509, CMS and RFC 6962 name them, and the
//! one place where signatures are made and checked with a chosen hash.
//!
//! `signet_core::keys` signs the way cosign does (always SHA-256); X.509 needs
//! the hash the algorithm identifier names (a P-384 CA signs with SHA-384), so
//! the dispatch lives here.

use der::asn1::{Null, ObjectIdentifier};
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashSigner;
use signet_core::KeyError;
use signet_core::keys::{PrivateKey, PublicKey};
use spki::AlgorithmIdentifierOwned;

use crate::oid;

/// A hash function used in certificates, SCTs and timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// Length of the output in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => oid::alg::SHA256,
            Self::Sha384 => oid::alg::SHA384,
            Self::Sha512 => oid::alg::SHA512,
        }
    }

    /// The algorithm with this object identifier.
    pub fn from_oid(id: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|h| &h.oid() == id)
    }

    /// The lowercase name sigstore's JSON timestamp requests use (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The algorithm with this lowercase name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
    }

    /// `AlgorithmIdentifier` with absent parameters (RFC 5754 recommends
    /// absent; NULL is accepted on input).
    pub(crate) fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }
}

/// How a signature is made: the key family and the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignatureScheme {
    /// ECDSA, ASN.1 DER signature, over the hash.
    Ecdsa(HashAlgorithm),
    /// RSA PKCS#1 v1.5 with the hash.
    RsaPkcs1(HashAlgorithm),
    /// Ed25519 over the message itself.
    Ed25519,
}

impl SignatureScheme {
    /// The scheme an X.509 / CMS signature algorithm identifier names.
    pub(crate) fn from_x509(alg: &AlgorithmIdentifierOwned) -> Result<Self, String> {
        let id = &alg.oid;
        let scheme = if id == &oid::alg::ECDSA_SHA256 {
            Self::Ecdsa(HashAlgorithm::Sha256)
        } else if id == &oid::alg::ECDSA_SHA384 {
            Self::Ecdsa(HashAlgorithm::Sha384)
        } else if id == &oid::alg::ECDSA_SHA512 {
            Self::Ecdsa(HashAlgorithm::Sha512)
        } else if id == &oid::alg::RSA_SHA256 {
            Self::RsaPkcs1(HashAlgorithm::Sha256)
        } else if id == &oid::alg::RSA_SHA384 {
            Self::RsaPkcs1(HashAlgorithm::Sha384)
        } else if id == &oid::alg::RSA_SHA512 {
            Self::RsaPkcs1(HashAlgorithm::Sha512)
        } else if id == &oid::alg::ED25519 {
            Self::Ed25519
        } else {
            return Err(format!("unsupported signature algorithm {id}"));
        };
        Ok(scheme)
    }

    /// The X.509 algorithm identifier for this scheme.
    pub(crate) fn to_x509(self) -> AlgorithmIdentifierOwned {
        let (id, null) = match self {
            Self::Ecdsa(HashAlgorithm::Sha256) => (oid::alg::ECDSA_SHA256, false),
            Self::Ecdsa(HashAlgorithm::Sha384) => (oid::alg::ECDSA_SHA384, false),
            Self::Ecdsa(HashAlgorithm::Sha512) => (oid::alg::ECDSA_SHA512, false),
            Self::RsaPkcs1(HashAlgorithm::Sha256) => (oid::alg::RSA_SHA256, true),
            Self::RsaPkcs1(HashAlgorithm::Sha384) => (oid::alg::RSA_SHA384, true),
            Self::RsaPkcs1(HashAlgorithm::Sha512) => (oid::alg::RSA_SHA512, true),
            Self::Ed25519 => (oid::alg::ED25519, false),
        };
        AlgorithmIdentifierOwned {
            oid: id,
            parameters: null.then(|| Null.into()),
        }
    }

    /// The scheme a CA or log signs with for `key`: the hash matches the
    /// curve (SHA-384 for P-384), SHA-256 for RSA.
    pub(crate) fn natural_for(key: &PublicKey) -> Result<Self, String> {
        match key {
            PublicKey::EcdsaP256(_) => Ok(Self::Ecdsa(HashAlgorithm::Sha256)),
            PublicKey::EcdsaP384(_) => Ok(Self::Ecdsa(HashAlgorithm::Sha384)),
            PublicKey::Rsa(_) => Ok(Self::RsaPkcs1(HashAlgorithm::Sha256)),
            PublicKey::Ed25519(_) => Ok(Self::Ed25519),
            other => Err(format!("{} keys cannot sign here", other.kind())),
        }
    }

    /// The hash, if the scheme hashes before signing.
    pub(crate) fn hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::Ecdsa(h) | Self::RsaPkcs1(h) => Some(h),
            Self::Ed25519 => None,
        }
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifyFailure {
    /// The key cannot make this kind of signature.
    KeyMismatch(String),
    /// The signature is not valid.
    Invalid,
}

/// Checks `signature` over `message` under `key` with `scheme`.
pub(crate) fn verify(
    key: &PublicKey,
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyFailure> {
    let mismatch = || {
        VerifyFailure::KeyMismatch(format!(
            "a {} key cannot verify a {scheme:?} signature",
            key.kind()
        ))
    };
    match (scheme, key) {
        (SignatureScheme::Ecdsa(hash), PublicKey::EcdsaP256(_) | PublicKey::EcdsaP384(_)) => key
            .verify_ecdsa_prehash(&hash.digest(message), signature)
            .map_err(|_| VerifyFailure::Invalid),
        (SignatureScheme::RsaPkcs1(hash), PublicKey::Rsa(k)) => {
            use signature::Verifier;
            let sig = rsa::pkcs1v15::Signature::try_from(signature)
                .map_err(|_| VerifyFailure::Invalid)?;
            let key = (**k).clone();
            let result = match hash {
                HashAlgorithm::Sha256 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig)
                }
                HashAlgorithm::Sha384 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig)
                }
                HashAlgorithm::Sha512 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig)
                }
            };
            result.map_err(|_| VerifyFailure::Invalid)
        }
        (SignatureScheme::Ed25519, PublicKey::Ed25519(k)) => {
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| VerifyFailure::Invalid)?;
            k.verify_strict(message, &sig)
                .map_err(|_| VerifyFailure::Invalid)
        }
        _ => Err(mismatch()),
    }
}

/// Signs `message` with `key` under `scheme`.
pub(crate) fn sign(
    key: &PrivateKey,
    scheme: SignatureScheme,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let fail = |e: signature::Error| KeyError::Signing(e.to_string());
    match (scheme, key) {
        (SignatureScheme::Ecdsa(hash), PrivateKey::EcdsaP256(k)) => {
            let sig: p256::ecdsa::Signature =
                k.sign_prehash(&hash.digest(message)).map_err(fail)?;
            Ok(sig.to_der().as_bytes().to_vec())
        }
        (SignatureScheme::Ecdsa(hash), PrivateKey::EcdsaP384(k)) => {
            let sig: p384::ecdsa::Signature =
                k.sign_prehash(&hash.digest(message)).map_err(fail)?;
            Ok(sig.to_der().as_bytes().to_vec())
        }
        (SignatureScheme::RsaPkcs1(hash), PrivateKey::Rsa(k)) => {
            use signature::{SignatureEncoding, Signer};
            let key = (**k).clone();
            let sig = match hash {
                HashAlgorithm::Sha256 => {
                    rsa::pkcs1v15::SigningKey::<Sha256>::new(key).try_sign(message)
                }
                HashAlgorithm::Sha384 => {
                    rsa::pkcs1v15::SigningKey::<Sha384>::new(key).try_sign(message)
                }
                HashAlgorithm::Sha512 => {
                    rsa::pkcs1v15::SigningKey::<Sha512>::new(key).try_sign(message)
                }
            }
            .map_err(fail)?;
            Ok(sig.to_vec())
        }
        (SignatureScheme::Ed25519, PrivateKey::Ed25519(k)) => {
            use signature::Signer;
            let sig: ed25519_dalek::Signature = k.try_sign(message).map_err(fail)?;
            Ok(sig.to_bytes().to_vec())
        }
        _ => Err(KeyError::Unsupported(format!(
            "a {} key cannot make a {scheme:?} signature",
            key.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_each_scheme() {
        let p256 = PrivateKey::generate_p256().unwrap();
        let p384 = PrivateKey::EcdsaP384(p384::ecdsa::SigningKey::from_slice(&[3u8; 48]).unwrap());
        let ed = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]));
        for (key, scheme) in [
            (&p256, SignatureScheme::Ecdsa(HashAlgorithm::Sha256)),
            (&p256, SignatureScheme::Ecdsa(HashAlgorithm::Sha384)),
            (&p384, SignatureScheme::Ecdsa(HashAlgorithm::Sha384)),
            (&p384, SignatureScheme::Ecdsa(HashAlgorithm::Sha256)),
            (&ed, SignatureScheme::Ed25519),
        ] {
            let sig = sign(key, scheme, b"tbs").unwrap();
            verify(&key.public_key(), scheme, b"tbs", &sig).unwrap();
            assert_eq!(
                verify(&key.public_key(), scheme, b"other", &sig),
                Err(VerifyFailure::Invalid)
            );
            assert_eq!(SignatureScheme::from_x509(&scheme.to_x509()), Ok(scheme));
        }
        assert!(matches!(
            verify(
                &ed.public_key(),
                SignatureScheme::Ecdsa(HashAlgorithm::Sha256),
                b"m",
                b"s"
            ),
            Err(VerifyFailure::KeyMismatch(_))
        ));
        assert_eq!(
            SignatureScheme::natural_for(&p384.public_key()),
            Ok(SignatureScheme::Ecdsa(HashAlgorithm::Sha384))
        );
        assert_eq!(
            HashAlgorithm::from_name("SHA256"),
            Some(HashAlgorithm::Sha256)
        );
        assert_eq!(
            HashAlgorithm::from_oid(&oid::alg::SHA512),
            Some(HashAlgorithm::Sha512)
        );
    }
}
