//! Building and signing certificates: a template that becomes a DER
//! `TBSCertificate`, signed with the issuer's key in the scheme that fits it,
//! and helpers for the extensions every profile here uses.

use std::str::FromStr;
use std::time::SystemTime;

use der::asn1::{AnyRef, BitString, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use sha2::{Digest as _, Sha256};
use signet_core::keys::PrivateKey;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::algorithm::{self, SignatureScheme};
use crate::certificate::Certificate;
use crate::error::IssueError;
use crate::time::to_x509;

/// `TBSCertificate` as signet writes it: always v3, no unique identifiers.
#[derive(Sequence)]
struct TbsCertificateOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// `Certificate` around already-encoded TBS bytes.
#[derive(Sequence)]
struct CertificateOut<'a> {
    tbs_certificate: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// Everything a certificate says, before it is signed.
#[derive(Clone, Debug)]
pub struct CertificateTemplate {
    /// Serial number, big-endian, positive (see [`random_serial`]).
    pub serial: Vec<u8>,
    /// Issuer name (the issuing CA's subject; the subject for a self-signed root).
    pub issuer: Name,
    /// Subject name (empty for Fulcio leaves).
    pub subject: Name,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// The subject's DER `SubjectPublicKeyInfo`.
    pub subject_public_key: Vec<u8>,
    /// Extensions in the order they are written.
    pub extensions: Vec<Extension>,
}

impl CertificateTemplate {
    /// DER `TBSCertificate` for signing with `scheme`.
    pub(crate) fn tbs_der(&self, scheme: SignatureScheme) -> Result<Vec<u8>, IssueError> {
        let spki = SubjectPublicKeyInfoOwned::from_der(&self.subject_public_key)
            .map_err(|e| IssueError::InvalidRequest(format!("subject public key: {e}")))?;
        let serial = SerialNumber::new(&self.serial)
            .map_err(|e| IssueError::Encoding(format!("serial number: {e}")))?;
        let tbs = TbsCertificateOut {
            version: 2,
            serial_number: serial,
            signature: scheme.to_x509(),
            issuer: self.issuer.clone(),
            validity: Validity::new(to_x509(self.not_before)?, to_x509(self.not_after)?),
            subject: self.subject.clone(),
            subject_public_key_info: spki,
            extensions: (!self.extensions.is_empty()).then(|| self.extensions.clone()),
        };
        Ok(tbs.to_der()?)
    }

    /// Signs the template with `issuer_key`, choosing the signature algorithm
    /// from the key (ECDSA P-256 with SHA-256, P-384 with SHA-384, RSA PKCS#1
    /// v1.5 with SHA-256, Ed25519).
    pub fn sign(&self, issuer_key: &PrivateKey) -> Result<Certificate, IssueError> {
        let scheme = SignatureScheme::natural_for(&issuer_key.public_key())
            .map_err(IssueError::Authority)?;
        let tbs = self.tbs_der(scheme)?;
        let signature = algorithm::sign(issuer_key, scheme, &tbs)?;
        assemble(&tbs, scheme, &signature)
    }
}

/// A certificate from its TBS bytes, algorithm and signature.
pub(crate) fn assemble(
    tbs: &[u8],
    scheme: SignatureScheme,
    signature: &[u8],
) -> Result<Certificate, IssueError> {
    let cert = CertificateOut {
        tbs_certificate: AnyRef::from_der(tbs)?,
        signature_algorithm: scheme.to_x509(),
        signature: BitString::from_bytes(signature)?,
    };
    Ok(Certificate::from_der(&cert.to_der()?)?)
}

/// A random positive 160-bit serial number, as Fulcio issues them.
pub fn random_serial() -> Result<Vec<u8>, IssueError> {
    let mut serial = vec![0u8; 20];
    getrandom::fill(&mut serial)
        .map_err(|e| IssueError::Key(signet_core::KeyError::Random(e.to_string())))?;
    // Positive (top bit clear) and exactly 20 bytes long (a non-zero first byte).
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(serial)
}

/// The key identifier of a DER `SubjectPublicKeyInfo`: the leftmost 160 bits of
/// SHA-256 over the `subjectPublicKey` bits (RFC 7093, method 1).
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, IssueError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|e| IssueError::InvalidRequest(format!("subject public key: {e}")))?;
    let hash = Sha256::digest(spki.subject_public_key.raw_bytes());
    Ok(hash.get(..20).unwrap_or_default().to_vec())
}

/// An extension whose value is the DER encoding of `value`.
pub fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, IssueError> {
    raw_extension(oid, critical, value.to_der()?)
}

/// An extension whose value is `bytes` as they are (Fulcio's .1–.6).
pub fn raw_extension(
    oid: ObjectIdentifier,
    critical: bool,
    bytes: Vec<u8>,
) -> Result<Extension, IssueError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(bytes)?,
    })
}

/// A name from RFC 4514 text (`CN=sigstore,O=sigstore.dev`); `""` is the empty name.
pub fn name(rfc4514: &str) -> Result<Name, IssueError> {
    if rfc4514.is_empty() {
        return Ok(Name::default());
    }
    Name::from_str(rfc4514)
        .map_err(|e| IssueError::InvalidRequest(format!("name {rfc4514:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn signs_a_template_that_parses_back() {
        let key = PrivateKey::generate_p256().unwrap();
        let spki = key.public_key().to_spki_der();
        let now = crate::time::from_unix_seconds(1_800_000_000);
        let template = CertificateTemplate {
            serial: random_serial().unwrap(),
            issuer: name("CN=test,O=signet").unwrap(),
            subject: name("CN=test,O=signet").unwrap(),
            not_before: now,
            not_after: now + Duration::from_secs(600),
            subject_public_key: spki.clone(),
            extensions: vec![],
        };
        let cert = template.sign(&key).unwrap();
        assert_eq!(cert.subject(), "CN=test,O=signet");
        assert_eq!(cert.not_before(), now);
        assert_eq!(cert.public_key_der(), spki);
        assert_eq!(cert.serial_hex().len(), 40);
        let scheme = SignatureScheme::from_x509(cert.x509().signature_algorithm()).unwrap();
        algorithm::verify(&key.public_key(), scheme, cert.tbs_der(), cert.signature()).unwrap();
        assert_eq!(key_identifier(&spki).unwrap().len(), 20);
    }
}
