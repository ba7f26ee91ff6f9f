//! A certificate for a signing key, given with the key: `sign --key K
//! --certificate C [--certificate-chain CH]`, as cosign takes it. The
//! certificate travels with each signature (the `dev.sigstore.cosign/certificate`
//! and `/chain` layer annotations, or a bundle's verification material) so that
//! verifiers who trust the CA rather than the key can check it.
//!
//! Before anything is signed, the certificate's public key must be the
//! signing key's, and a chain, when given, must lead from the certificate to
//! its last (root) certificate, with the code-signing extended key usage,
//! at the certificate's own `notBefore` time: cosign's checks, so that what
//! signet attaches cosign would also have attached.
//!
//! This is the small part of X.509 that key-based signing needs; keyless
//! certificates (Fulcio profile, SCTs, trusted roots) are checked elsewhere.

use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, UnixTime};
use thiserror::Error;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::keys::PublicKey;
use crate::limits::MAX_CERTIFICATE_FILE_BYTES;

/// The code-signing extended key usage, 1.3.6.1.5.5.7.3.3, as DER content.
const CODE_SIGNING_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// The signature algorithms a chain may use: ECDSA, RSA PKCS#1 v1.5 and
/// RSA-PSS, Ed25519.
static SIGNATURE_ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::aws_lc_rs::ECDSA_P256_SHA256,
    webpki::aws_lc_rs::ECDSA_P256_SHA384,
    webpki::aws_lc_rs::ECDSA_P384_SHA256,
    webpki::aws_lc_rs::ECDSA_P384_SHA384,
    webpki::aws_lc_rs::ECDSA_P521_SHA256,
    webpki::aws_lc_rs::ECDSA_P521_SHA384,
    webpki::aws_lc_rs::ECDSA_P521_SHA512,
    webpki::aws_lc_rs::ED25519,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA384,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA512,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// A certificate that cannot be attached to a signature.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a certificate (PEM `CERTIFICATE` or DER).
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The certificate is for another key.
    #[error("the certificate's public key ({certificate}) is not the signing key ({key})")]
    KeyMismatch {
        /// Hint of the key in the certificate.
        certificate: String,
        /// Hint of the signing key.
        key: String,
    },
    /// The chain does not lead to its root, or lacks code signing.
    #[error("certificate chain does not verify: {0}")]
    Chain(String),
}

/// A leaf certificate for a signing key, with its CA chain if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCertificate {
    leaf_der: Vec<u8>,
    chain_der: Vec<Vec<u8>>,
    not_before_unix: std::time::Duration,
}

impl KeyCertificate {
    /// Reads a leaf certificate from PEM (`CERTIFICATE`) or DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CertificateError> {
        if bytes.len() > MAX_CERTIFICATE_FILE_BYTES {
            return Err(CertificateError::Malformed(format!(
                "{} bytes, larger than the limit of {MAX_CERTIFICATE_FILE_BYTES}",
                bytes.len()
            )));
        }
        let der = if bytes.starts_with(b"-----") {
            let (label, der) = pem_rfc7468::decode_vec(bytes)
                .map_err(|e| CertificateError::Malformed(format!("PEM: {e}")))?;
            if label != "CERTIFICATE" {
                return Err(CertificateError::Malformed(format!(
                    "PEM block is {label:?}, expected \"CERTIFICATE\""
                )));
            }
            der
        } else {
            bytes.to_vec()
        };
        let parsed = parse(&der)?;
        Ok(Self {
            not_before_unix: parsed
                .tbs_certificate()
                .validity()
                .not_before
                .to_unix_duration(),
            leaf_der: der,
            chain_der: Vec::new(),
        })
    }

    /// The public key the certificate certifies.
    pub fn public_key(&self) -> Result<PublicKey, CertificateError> {
        let spki = parse(&self.leaf_der)?
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| CertificateError::Malformed(e.to_string()))?;
        PublicKey::from_spki_der(&spki)
            .map_err(|e| CertificateError::Malformed(format!("public key: {e}")))
    }

    /// Checks that the certificate is for `key`.
    pub fn check_key(&self, key: &PublicKey) -> Result<(), CertificateError> {
        let certified = self.public_key()?;
        if &certified != key {
            return Err(CertificateError::KeyMismatch {
                certificate: certified.hint(),
                key: key.hint(),
            });
        }
        Ok(())
    }

    /// Adds the CA chain (PEM, the leaf's issuer first, the root last) after
    /// checking that it leads from the leaf to the root, for code signing,
    /// at the leaf's `notBefore` time.
    pub fn with_chain(mut self, chain_pem: &[u8]) -> Result<Self, CertificateError> {
        if chain_pem.len() > MAX_CERTIFICATE_FILE_BYTES {
            return Err(CertificateError::Chain(format!(
                "{} bytes, larger than the limit of {MAX_CERTIFICATE_FILE_BYTES}",
                chain_pem.len()
            )));
        }
        let chain = Certificate::load_pem_chain(chain_pem)
            .map_err(|e| CertificateError::Chain(format!("not a PEM certificate list: {e}")))?;
        let chain_der = chain
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertificateError::Chain(e.to_string()))?;
        let Some((root, intermediates)) = chain_der.split_last() else {
            return Err(CertificateError::Chain(
                "no certificates in the chain".into(),
            ));
        };
        let root = CertificateDer::from(root.as_slice());
        let anchor = webpki::anchor_from_trusted_cert(&root)
            .map_err(|e| CertificateError::Chain(format!("root certificate: {e}")))?;
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        if !self.has_code_signing()? {
            return Err(CertificateError::Chain(
                "the certificate's extended key usage does not include code signing".into(),
            ));
        }
        let leaf = CertificateDer::from(self.leaf_der.as_slice());
        let leaf = webpki::EndEntityCert::try_from(&leaf)
            .map_err(|e| CertificateError::Chain(format!("leaf certificate: {e}")))?;
        leaf.verify_for_usage(
            SIGNATURE_ALGORITHMS,
            &[anchor],
            &intermediates,
            UnixTime::since_unix_epoch(self.not_before_unix),
            // The leaf's own EKU is checked above; CA certificates without one pass.
            webpki::KeyUsage::required_if_present(CODE_SIGNING_OID),
            None,
            None,
        )
        .map_err(|e| CertificateError::Chain(format!("{e:?}")))?;
        self.chain_der = chain_der;
        Ok(self)
    }

    fn has_code_signing(&self) -> Result<bool, CertificateError> {
        let code_signing = der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
        let eku = parse(&self.leaf_der)?
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|e| CertificateError::Malformed(format!("extended key usage: {e}")))?;
        Ok(eku.is_some_and(|(_, usages)| usages.0.contains(&code_signing)))
    }

    /// The leaf in PEM, as the `dev.sigstore.cosign/certificate` annotation holds it.
    pub fn leaf_pem(&self) -> String {
        to_pem(&self.leaf_der)
    }

    /// The leaf in DER, as a bundle's verification material holds it.
    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// The chain in PEM (issuer first), as the `dev.sigstore.cosign/chain`
    /// annotation holds it; `None` without a chain.
    pub fn chain_pem(&self) -> Option<String> {
        (!self.chain_der.is_empty()).then(|| self.chain_der.iter().map(|c| to_pem(c)).collect())
    }
}

fn parse(der: &[u8]) -> Result<Certificate, CertificateError> {
    Certificate::from_der(der).map_err(|e| CertificateError::Malformed(e.to_string()))
}

fn to_pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
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
        let pem = vector("leaf.pub");
        PublicKey::from_pem(&pem).unwrap()
    }

    #[test]
    fn leaf_in_pem_or_der_certifies_the_key_and_its_chain_verifies() {
        let pem = vector("leaf.crt.pem");
        let cert = KeyCertificate::from_bytes(&pem).unwrap();
        cert.check_key(&signing_key()).unwrap();
        let der = KeyCertificate::from_bytes(cert.leaf_der()).unwrap();
        assert_eq!(der, cert);
        assert!(cert.leaf_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(cert.chain_pem(), None);
        let chained = cert.with_chain(&vector("chain.pem")).unwrap();
        let chain = chained.chain_pem().unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    }

    #[test]
    fn wrong_key_wrong_chain_and_garbage_are_refused() {
        let cert = KeyCertificate::from_bytes(&vector("leaf.crt.pem")).unwrap();
        let other = crate::keys::PrivateKey::generate_p256()
            .unwrap()
            .public_key();
        assert!(matches!(
            cert.check_key(&other),
            Err(CertificateError::KeyMismatch { .. })
        ));
        // The chain of another CA, an empty chain, and a leaf without code signing.
        for chain in [vector("other-ca.pem"), Vec::new()] {
            let err = cert.clone().with_chain(&chain).unwrap_err();
            assert!(matches!(err, CertificateError::Chain(_)), "{err}");
        }
        let no_eku = KeyCertificate::from_bytes(&vector("leaf-no-codesigning.crt.pem")).unwrap();
        assert!(no_eku.with_chain(&vector("chain.pem")).is_err());
        for garbage in [
            b"".as_slice(),
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            b"\x30\x03\x02\x01\x00",
        ] {
            assert!(KeyCertificate::from_bytes(garbage).is_err());
        }
    }
}
