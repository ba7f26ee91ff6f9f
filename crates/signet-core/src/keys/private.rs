//! Private keys signet can sign with, and how they are read from unencrypted PEM
//! (`import-key-pair`) or from the PKCS#8 inside a cosign key file.

use std::fmt;

use getrandom::SysRng;
use p256::elliptic_curve::Generate;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sha2::{Digest as _, Sha256};
use signature::hazmat::PrehashSigner;
use zeroize::Zeroizing;

use super::{MIN_RSA_BITS, PublicKey};
use crate::artifact::Artifact;
use crate::error::KeyError;

/// A private key. Signing follows cosign's choices per key type: ECDSA over a
/// SHA-256 digest with an ASN.1 DER signature, RSA PKCS#1 v1.5 with SHA-256,
/// Ed25519 over the message itself.
#[non_exhaustive]
pub enum PrivateKey {
    /// ECDSA on NIST P-256, the key `generate-key-pair` makes.
    EcdsaP256(p256::ecdsa::SigningKey),
    /// ECDSA on NIST P-384.
    EcdsaP384(p384::ecdsa::SigningKey),
    /// RSA, 2048 bits or more.
    Rsa(Box<rsa::PrivateKey>),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(f, "PrivateKey({})", self.kind())
    }
}

impl PrivateKey {
    /// A fresh ECDSA P-256 key from the operating system's randomness.
    pub fn generate_p256() -> Result<Self, KeyError> {
        p256::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng)
            .map(Self::EcdsaP256)
            .map_err(|e| KeyError::Random(e.to_string()))
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (the plaintext of a cosign key file).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::EcdsaP256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::EcdsaP384(k));
        }
        if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(der) {
            return Self::rsa(k);
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::Ed25519(k));
        }
        match pkcs8::PrivateKeyInfoRef::try_from(der) {
            Ok(info) => Err(KeyError::Unsupported(format!(
                "PKCS#8 key with algorithm {}{} (supported: ECDSA P-256/P-384, RSA >= 2048 bits, Ed25519)",
                info.algorithm.oid,
                info.algorithm
                    .parameters_oid()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            ))),
            Err(e) => Err(KeyError::Malformed(format!(
                "not a PKCS#8 private key: {e}"
            ))),
        }
    }

    /// Reads an unencrypted PEM private key as `cosign import-key-pair` accepts
    /// it: `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY`
    /// (PKCS#8 RSA, ECDSA or Ed25519).
    pub fn from_unencrypted_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(pem)
            .map_err(|e| KeyError::Malformed(format!("not a PEM private key ({e})")))?;
        let der = Zeroizing::new(der);
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => {
                if let Ok(k) = p256::SecretKey::from_sec1_der(&der) {
                    return Ok(Self::EcdsaP256(k.into()));
                }
                if let Ok(k) = p384::SecretKey::from_sec1_der(&der) {
                    return Ok(Self::EcdsaP384(k.into()));
                }
                Err(KeyError::Unsupported(
                    "EC PRIVATE KEY on a curve other than P-256 or P-384".into(),
                ))
            }
            "RSA PRIVATE KEY" => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                let k = rsa::PrivateKey::from_pkcs1_der(&der)
                    .map_err(|e| KeyError::Malformed(format!("invalid PKCS#1 RSA key: {e}")))?;
                Self::rsa(k)
            }
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Unsupported(
                "PKCS#8-encrypted keys: decrypt it first (openssl pkcs8 -in KEY -out PLAIN.pem)"
                    .into(),
            )),
            l if l == super::SIGSTORE_KEY_PEM_LABEL || l == super::COSIGN_KEY_PEM_LABEL => {
                Err(KeyError::Unsupported(
                    "this is already an encrypted cosign key; it needs no import".into(),
                ))
            }
            other => Err(KeyError::Unsupported(format!(
                "PEM type {other:?} is not a private key"
            ))),
        }
    }

    fn rsa(key: rsa::PrivateKey) -> Result<Self, KeyError> {
        use rsa::traits::PublicKeyParts;
        let bits = key.n().bit_width() as usize;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::Unsupported(format!(
                "RSA key of {bits} bits; at least {MIN_RSA_BITS} are required"
            )));
        }
        Ok(Self::Rsa(Box::new(key)))
    }

    /// PKCS#8 DER, the plaintext of a cosign key file.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match self {
            Self::EcdsaP256(k) => k.to_pkcs8_der(),
            Self::EcdsaP384(k) => k.to_pkcs8_der(),
            Self::Rsa(k) => k.to_pkcs8_der(),
            Self::Ed25519(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Malformed(format!("PKCS#8 encoding failed: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
            Self::EcdsaP384(k) => PublicKey::EcdsaP384(*k.verifying_key()),
            Self::Rsa(k) => PublicKey::Rsa(Box::new(k.to_public_key())),
            Self::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
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

    /// Signs `message` the way cosign signs with this key type.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let fail = |e: signature::Error| KeyError::Signing(e.to_string());
        match self {
            Self::EcdsaP256(k) => {
                let digest = Sha256::digest(message);
                let sig: p256::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Self::EcdsaP384(k) => {
                let digest = Sha256::digest(message);
                let sig: p384::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Self::Rsa(k) => {
                use signature::{SignatureEncoding, Signer};
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                let sig = signer.try_sign(message).map_err(fail)?;
                Ok(sig.to_vec())
            }
            Self::Ed25519(k) => {
                use signature::Signer;
                let sig: ed25519_dalek::Signature = k.try_sign(message).map_err(fail)?;
                Ok(sig.to_bytes().to_vec())
            }
        }
    }

    /// Signs `artifact` as [`sign`](Self::sign) signs its bytes. ECDSA and
    /// RSA sign its SHA-256 digest (identical signatures, no need for the
    /// bytes); Ed25519 needs the bytes and says so when they were too large
    /// to keep.
    pub fn sign_artifact(&self, artifact: &Artifact) -> Result<Vec<u8>, KeyError> {
        let fail = |e: signature::Error| KeyError::Signing(e.to_string());
        let digest = artifact.digest().raw();
        match self {
            Self::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Self::EcdsaP384(k) => {
                let sig: p384::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Self::Rsa(k) => {
                use signature::SignatureEncoding;
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                let sig = signer.sign_prehash(&digest).map_err(fail)?;
                Ok(sig.to_vec())
            }
            Self::Ed25519(_) => match artifact.bytes() {
                Some(bytes) => self.sign(bytes),
                None => Err(KeyError::WholeMessageTooLarge {
                    key: self.kind(),
                    size: artifact.size(),
                    limit: artifact.keep_limit().map(|l| l.max_bytes).unwrap_or(0),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SignatureError;

    #[test]
    fn signs_and_verifies_with_every_key_type() {
        let keys = [
            PrivateKey::generate_p256().unwrap(),
            PrivateKey::EcdsaP384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng).unwrap(),
            ),
            PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])),
        ];
        for key in keys {
            let sig = key.sign(b"payload").unwrap();
            key.public_key().verify(b"payload", &sig).unwrap();
            assert!(key.public_key().verify(b"other", &sig).is_err());
            let back = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(back.public_key(), key.public_key());
        }
    }

    #[test]
    fn imports_pem_forms() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/import");
        for (file, kind) in [
            ("ec-sec1.pem", "ECDSA P-256"),
            ("ec-pkcs8.pem", "ECDSA P-256"),
            ("ec384-sec1.pem", "ECDSA P-384"),
            ("rsa-pkcs1.pem", "RSA"),
            ("rsa-pkcs8.pem", "RSA"),
            ("ed25519-pkcs8.pem", "Ed25519"),
        ] {
            let pem = std::fs::read(format!("{dir}/{file}")).unwrap();
            let key =
                PrivateKey::from_unencrypted_pem(&pem).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(key.kind(), kind, "{file}");
            let sig = key.sign(b"m").unwrap();
            key.public_key().verify(b"m", &sig).unwrap();
        }
        let small = std::fs::read(format!("{dir}/rsa-1024-pkcs1.pem")).unwrap();
        assert!(matches!(
            PrivateKey::from_unencrypted_pem(&small),
            Err(KeyError::Unsupported(_))
        ));
        let p521 = std::fs::read(format!("{dir}/ec521-pkcs8.pem")).unwrap();
        let err = PrivateKey::from_unencrypted_pem(&p521).unwrap_err();
        assert!(err.to_string().contains("1.3.132.0.35"), "{err}");
    }

    /// Signing a streamed artifact gives signatures that verify as signatures
    /// over the bytes do, for every key type; Ed25519, which signs the message
    /// itself, refuses an artifact whose bytes were too large to keep.
    #[test]
    fn artifact_signatures_match_message_signatures() {
        use crate::limits::InputLimit;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/import");
        let rsa = std::fs::read(format!("{dir}/rsa-pkcs1.pem")).unwrap();
        let keys = [
            PrivateKey::generate_p256().unwrap(),
            PrivateKey::EcdsaP384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng).unwrap(),
            ),
            PrivateKey::from_unencrypted_pem(&rsa).unwrap(),
            PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])),
        ];
        let message = vec![42u8; 300_000];
        let keep = InputLimit::new("a test blob", 100_000);
        let streamed = Artifact::read(&message[..], Some(keep)).unwrap();
        let kept = Artifact::read(&message[..], Some(InputLimit::new("x", 1 << 20))).unwrap();
        for key in keys {
            let public = key.public_key();
            let from_bytes = key.sign(&message).unwrap();
            public.verify_artifact(&kept, &from_bytes).unwrap();
            if public.signs_whole_message() {
                let err = key.sign_artifact(&streamed).unwrap_err().to_string();
                assert!(err.contains("100000 bytes"), "{err}");
                let err = public.verify_artifact(&streamed, &from_bytes).unwrap_err();
                assert!(
                    matches!(
                        err,
                        SignatureError::WholeMessageTooLarge { limit: 100_000, .. }
                    ),
                    "{err}"
                );
                continue;
            }
            public.verify_artifact(&streamed, &from_bytes).unwrap();
            let from_digest = key.sign_artifact(&streamed).unwrap();
            public.verify(&message, &from_digest).unwrap();
            assert!(public.verify(b"other", &from_digest).is_err());
        }
    }
}
