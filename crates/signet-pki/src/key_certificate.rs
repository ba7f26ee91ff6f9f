//! A certificate for a signing key, given with the key: `sign --key K
//! --certificate C [--certificate-chain CH]`, as cosign takes it. The
//! certificate travels with each signature (the `dev.sigstore.cosign/certificate`
//! and `/chain` layer annotations, or a bundle's verification material) so that
//! verifiers who trust the CA rather than the key can check it.
//!
//! Before anything is signed, the certificate's public key must be the
//! signing key, and a chain, when given, must lead from the certificate to
//! its last (root) certificate for code signing at the certificate's own
//! `notBefore` time: cosign's checks, so that what signet attaches cosign
//! would also have attached.

use signet_core::keys::PublicKey;
use thiserror::Error;

use crate::certificate::{Certificate, chain_to_pem, parse_pem_chain};
use crate::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use crate::error::{ChainError, DecodeError};
use crate::time::TimeRange;

/// A certificate that cannot be attached to a signature.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyCertificateError {
    /// Not a certificate (PEM `CERTIFICATE` or DER), or a key signet does not handle.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The certificate is for another key.
    #[error("the certificate's public key ({certificate}) is not the signing key ({key})")]
    KeyMismatch {
        /// Hint of the key in the certificate.
        certificate: String,
        /// Hint of the signing key.
        key: String,
    },
    /// The chain does not lead from the certificate to its root.
    #[error("certificate chain does not verify: {0}")]
    Chain(#[from] ChainError),
    /// The chain file holds no certificate.
    #[error("certificate chain does not verify: no certificates in the chain")]
    EmptyChain,
}

/// A leaf certificate for a signing key, with its CA chain if one was given.
#[derive(Debug, Clone)]
pub struct KeyCertificate {
    leaf: Certificate,
    chain: Vec<Certificate>,
}

impl KeyCertificate {
    /// Reads a leaf certificate from PEM (`CERTIFICATE`) or DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyCertificateError> {
        let leaf = if bytes.trim_ascii_start().starts_with(b"-----") {
            Certificate::from_pem(bytes)?
        } else {
            Certificate::from_der(bytes)?
        };
        Ok(Self {
            leaf,
            chain: Vec::new(),
        })
    }

    /// Checks that the certificate is for `key`.
    pub fn check_key(&self, key: &PublicKey) -> Result<(), KeyCertificateError> {
        let certified = self.leaf.public_key()?;
        if &certified != key {
            return Err(KeyCertificateError::KeyMismatch {
                certificate: certified.hint(),
                key: key.hint(),
            });
        }
        Ok(())
    }

    /// Adds the CA chain (PEM, the leaf's issuer first, the root last) after
    /// checking that it leads from the leaf to the root, for code signing,
    /// at the leaf's `notBefore` time.
    pub fn with_chain(mut self, chain_pem: &[u8]) -> Result<Self, KeyCertificateError> {
        let chain = parse_pem_chain(chain_pem)?;
        if chain.is_empty() {
            return Err(KeyCertificateError::EmptyChain);
        }
        let authority = CertificateAuthority::new(chain.clone(), TimeRange::UNBOUNDED)?;
        verify_chain(
            &self.leaf,
            &[authority],
            self.leaf.not_before(),
            KeyPurpose::CodeSigning,
        )?;
        self.chain = chain;
        Ok(self)
    }

    /// The leaf in PEM, as the `dev.sigstore.cosign/certificate` annotation holds it.
    pub fn leaf_pem(&self) -> String {
        self.leaf.to_pem()
    }

    /// The leaf in DER, as a bundle's verification material holds it.
    pub fn leaf_der(&self) -> &[u8] {
        self.leaf.as_der()
    }

    /// The chain in PEM (issuer first), as the `dev.sigstore.cosign/chain`
    /// annotation holds it; `None` without a chain.
    pub fn chain_pem(&self) -> Option<String> {
        (!self.chain.is_empty()).then(|| chain_to_pem(&self.chain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/certificates")
            .join(name);
        std::fs::read(path).unwrap()
    }

    fn signing_key() -> PublicKey {
        PublicKey::from_pem(&vector("leaf.pub")).unwrap()
    }

    #[test]
    fn leaf_in_pem_or_der_certifies_the_key_and_its_chain_verifies() {
        let cert = KeyCertificate::from_bytes(&vector("leaf.crt.pem")).unwrap();
        cert.check_key(&signing_key()).unwrap();
        let der = KeyCertificate::from_bytes(&vector("leaf.crt.der")).unwrap();
        assert_eq!(der.leaf_der(), cert.leaf_der());
        assert!(cert.leaf_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(cert.chain_pem(), None);
        let chained = cert.with_chain(&vector("chain.pem")).unwrap();
        let chain = chained.chain_pem().unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    }

    #[test]
    fn wrong_key_wrong_chain_and_garbage_are_refused() {
        let cert = KeyCertificate::from_bytes(&vector("leaf.crt.pem")).unwrap();
        let other = signet_core::keys::PrivateKey::generate_p256()
            .unwrap()
            .public_key();
        assert!(matches!(
            cert.check_key(&other),
            Err(KeyCertificateError::KeyMismatch { .. })
        ));
        // The chain of another CA, and an empty chain.
        let err = cert
            .clone()
            .with_chain(&vector("other-ca.pem"))
            .unwrap_err();
        assert!(matches!(err, KeyCertificateError::Chain(_)), "{err}");
        assert!(cert.clone().with_chain(b"").is_err());
        // A leaf without code signing is refused with a chain.
        let no_eku = KeyCertificate::from_bytes(&vector("leaf-no-codesigning.crt.pem")).unwrap();
        let err = no_eku.with_chain(&vector("chain.pem")).unwrap_err();
        assert!(matches!(err, KeyCertificateError::Chain(_)), "{err}");
        for garbage in [
            b"".as_slice(),
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            b"\x30\x03\x02\x01\x00",
        ] {
            assert!(KeyCertificate::from_bytes(garbage).is_err());
        }
    }
}
