//! Keys and certificates of trust material, held as parsed values.

use signet_core::key_details::PublicKeyDetails;
use signet_core::keys::PublicKey;
use spki::der::{Decode as _, Encode as _};
use x509_cert::Certificate;

use crate::error::TrustError;
use crate::time::TimeRange;

/// A log or CA key as a trusted root lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPublicKey {
    raw: Vec<u8>,
    key_details: PublicKeyDetails,
    spki: Option<spki::SubjectPublicKeyInfoOwned>,
    valid_for: Option<TimeRange>,
}

impl TrustedPublicKey {
    /// A key from its encoded bytes. PKIX encodings are parsed as a
    /// SubjectPublicKeyInfo; the deprecated raw PKCS#1 RSA encodings are kept
    /// as bytes.
    pub fn new(
        raw: Vec<u8>,
        key_details: PublicKeyDetails,
        valid_for: Option<TimeRange>,
    ) -> Result<Self, TrustError> {
        const WHAT: &str = "public key";
        if raw.is_empty() {
            return Err(TrustError::malformed(WHAT, "no rawBytes"));
        }
        let spki = if key_details.is_pkix() {
            let info = spki::SubjectPublicKeyInfoOwned::from_der(&raw).map_err(|e| {
                TrustError::malformed(WHAT, format!("not a DER SubjectPublicKeyInfo: {e}"))
            })?;
            Some(info)
        } else {
            None
        };
        Ok(Self {
            raw,
            key_details,
            spki,
            valid_for,
        })
    }

    /// A key from a signet public key, with the key details that describe it.
    pub fn from_public_key(
        key: &PublicKey,
        valid_for: Option<TimeRange>,
    ) -> Result<Self, TrustError> {
        Self::new(key.to_spki_der(), key_details_of(key)?, valid_for)
    }

    /// The encoded key bytes (DER SPKI for PKIX details).
    pub fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The key's encoding and signature algorithm.
    pub fn key_details(&self) -> &PublicKeyDetails {
        &self.key_details
    }

    /// The parsed SubjectPublicKeyInfo, for PKIX keys.
    pub fn spki(&self) -> Option<&spki::SubjectPublicKeyInfoOwned> {
        self.spki.as_ref()
    }

    /// When the key may be used.
    pub fn valid_for(&self) -> Option<&TimeRange> {
        self.valid_for.as_ref()
    }

    /// The key as a signet verification key (ECDSA P-256/P-384, RSA, Ed25519).
    pub fn to_public_key(&self) -> Result<PublicKey, TrustError> {
        let spki = if self.spki.is_some() {
            self.raw.clone()
        } else {
            return Err(TrustError::malformed(
                "public key",
                format!(
                    "{} keys are not PKIX; signet cannot use them",
                    self.key_details
                ),
            ));
        };
        PublicKey::from_spki_der(&spki).map_err(|e| TrustError::malformed("public key", e))
    }

    /// SHA-256 of the DER key: a Rekor v1 or CT log's ID.
    pub fn sha256_key_id(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(&self.raw).into()
    }
}

/// The key details a key is used with in Sigstore (ECDSA with its curve's
/// hash, RSA PKCS#1 v1.5 with SHA-256 by modulus size, Ed25519).
pub fn key_details_of(key: &PublicKey) -> Result<PublicKeyDetails, TrustError> {
    Ok(match key {
        PublicKey::EcdsaP256(_) => PublicKeyDetails::PkixEcdsaP256Sha256,
        PublicKey::EcdsaP384(_) => PublicKeyDetails::PkixEcdsaP384Sha384,
        PublicKey::Ed25519(_) => PublicKeyDetails::PkixEd25519,
        PublicKey::Rsa(_) => match key.rsa_modulus_bits() {
            Some(2048) => PublicKeyDetails::PkixRsaPkcs1v15_2048Sha256,
            Some(3072) => PublicKeyDetails::PkixRsaPkcs1v15_3072Sha256,
            Some(4096) => PublicKeyDetails::PkixRsaPkcs1v15_4096Sha256,
            bits => {
                return Err(TrustError::malformed(
                    "public key",
                    format!(
                        "RSA key of {} bits (Sigstore names 2048, 3072 and 4096)",
                        bits.unwrap_or_default()
                    ),
                ));
            }
        },
        other => {
            return Err(TrustError::malformed(
                "public key",
                format!("{} keys have no Sigstore key details", other.kind()),
            ));
        }
    })
}

/// A certificate of trust material: its DER bytes and parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCertificate {
    der: Vec<u8>,
    parsed: Certificate,
}

impl TrustedCertificate {
    /// Parses a DER certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self, TrustError> {
        let parsed = Certificate::from_der(&der).map_err(|e| {
            TrustError::malformed("certificate", format!("not a DER X.509 certificate: {e}"))
        })?;
        Ok(Self { der, parsed })
    }

    /// The DER bytes, exactly as given.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.parsed
    }

    /// Whether the certificate is self-signed (issuer equals subject): a root.
    pub fn is_self_signed(&self) -> bool {
        self.parsed.tbs_certificate().issuer() == self.parsed.tbs_certificate().subject()
    }

    /// Whether the certificate's basic constraints say it is a CA.
    pub fn is_ca(&self) -> bool {
        use x509_cert::ext::pkix::BasicConstraints;
        self.parsed
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, bc)| bc.ca)
    }

    /// The DER SubjectPublicKeyInfo of the certificate's key.
    pub fn spki_der(&self) -> Result<Vec<u8>, TrustError> {
        self.parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| TrustError::malformed("certificate", e))
    }

    /// The validity window the certificate states.
    pub fn validity(&self) -> TimeRange {
        let v = self.parsed.tbs_certificate().validity();
        let ts = |t: x509_cert::time::Time| {
            jiff::Timestamp::from_second(t.to_unix_duration().as_secs() as i64).ok()
        };
        TimeRange {
            start: ts(v.not_before),
            end: ts(v.not_after),
        }
    }
}
