//! What a logged entry asserts, in the terms a verifier compares with a
//! bundle: which signature, made by which key or certificate, over what.

use crate::error::FormatError;
use crate::hash::HashOutput;
use crate::key_details::PublicKeyDetails;

use super::pem;

/// The key or certificate an entry records for a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryVerifier {
    /// PEM as Rekor v1 records it: a `PUBLIC KEY`, one `CERTIFICATE`, or a
    /// chain of certificates (leaf first).
    Pem(Vec<u8>),
    /// A DER SubjectPublicKeyInfo (Rekor v2).
    PublicKeyDer {
        /// The key.
        spki: Vec<u8>,
        /// Its algorithm.
        key_details: PublicKeyDetails,
    },
    /// A DER certificate (Rekor v2).
    CertificateDer {
        /// The certificate.
        der: Vec<u8>,
        /// Its key's algorithm.
        key_details: PublicKeyDetails,
    },
}

impl EntryVerifier {
    /// The leaf certificate's DER, if the verifier is a certificate.
    pub fn leaf_certificate_der(&self) -> Result<Option<Vec<u8>>, FormatError> {
        match self {
            Self::Pem(text) => {
                let blocks = pem::decode_all(text)?;
                Ok(blocks
                    .into_iter()
                    .find(|(label, _)| label == "CERTIFICATE")
                    .map(|(_, der)| der))
            }
            Self::CertificateDer { der, .. } => Ok(Some(der.clone())),
            Self::PublicKeyDer { .. } => Ok(None),
        }
    }

    /// The public key's DER SubjectPublicKeyInfo, if the verifier is a bare key.
    pub fn public_key_spki_der(&self) -> Result<Option<Vec<u8>>, FormatError> {
        match self {
            Self::Pem(text) => {
                let blocks = pem::decode_all(text)?;
                Ok(blocks
                    .into_iter()
                    .find(|(label, _)| label == "PUBLIC KEY")
                    .map(|(_, der)| der))
            }
            Self::PublicKeyDer { spki, .. } => Ok(Some(spki.clone())),
            Self::CertificateDer { .. } => Ok(None),
        }
    }
}

/// One signature an entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureClaim {
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// The key or certificate that verifies it.
    pub verifier: EntryVerifier,
}

/// What the signatures of an entry cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectClaim {
    /// The digest of the signed artifact (hashedrekord; for a DSSE envelope
    /// logged as hashedrekord 0.0.2, the digest of its PAE).
    ArtifactDigest(HashOutput),
    /// A DSSE envelope, by the hash of its payload (and, where the entry
    /// records it, of the envelope as submitted).
    Envelope {
        /// SHA-256 of the decoded payload; absent in some old intoto entries.
        payload_hash: Option<HashOutput>,
        /// SHA-256 of the envelope JSON as the client sent it.
        envelope_hash: Option<HashOutput>,
    },
}

/// What a logged entry asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryClaims {
    /// The signatures, in the entry's order.
    pub signatures: Vec<SignatureClaim>,
    /// What they cover.
    pub subject: SubjectClaim,
}
