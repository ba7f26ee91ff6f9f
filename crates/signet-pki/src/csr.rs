//! PKCS#10 certificate signing requests, as Fulcio clients send them
//! (sigstore-python sends one by default): the requested public key, and the
//! request's self-signature as the proof that the sender holds the private
//! key. Nothing else in a request is used; the CA decides the certificate's
//! content.

use der::{Decode, Reader, SliceReader};
use x509_cert::request::CertReq;

use crate::algorithm::{self, SignatureScheme};
use crate::error::DecodeError;
use crate::limits::MAX_CERTIFICATE_BYTES;

const WHAT: &str = "certificate signing request";

/// A parsed signing request with the bytes its signature covers.
#[derive(Clone, Debug)]
pub struct CertificationRequest {
    info_der: Vec<u8>,
    parsed: CertReq,
}

impl CertificationRequest {
    /// Parses a DER `CertificationRequest` (at most 32 KiB).
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::check_size(WHAT, der.len(), MAX_CERTIFICATE_BYTES)?;
        let parsed = CertReq::from_der(der).map_err(|e| DecodeError::malformed(WHAT, e))?;
        let info_der = info_bytes(der)
            .map_err(|e| DecodeError::malformed(WHAT, e))?
            .to_vec();
        Ok(Self { info_der, parsed })
    }

    /// Parses one PEM `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`) block.
    pub fn from_pem(pem: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::check_size(WHAT, pem.len(), MAX_CERTIFICATE_BYTES * 2)?;
        let (label, der) =
            pem_rfc7468::decode_vec(pem).map_err(|e| DecodeError::malformed(WHAT, e))?;
        if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
            return Err(DecodeError::malformed(
                WHAT,
                format!("PEM block {label:?} is not a CERTIFICATE REQUEST"),
            ));
        }
        Self::from_der(&der)
    }

    /// The requested key, DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Result<Vec<u8>, DecodeError> {
        der::Encode::to_der(&self.parsed.info.public_key)
            .map_err(|e| DecodeError::malformed(WHAT, e))
    }

    /// Checks the request's signature with the key it carries.
    pub fn verify_signature(&self) -> Result<(), DecodeError> {
        let key = signet_core::keys::PublicKey::from_spki_der(&self.public_key_der()?)
            .map_err(|e| DecodeError::unsupported(WHAT, format!("public key: {e}")))?;
        let scheme = SignatureScheme::from_x509(&self.parsed.algorithm)
            .map_err(|e| DecodeError::unsupported(WHAT, e))?;
        let signature = self.parsed.signature.as_bytes().ok_or_else(|| {
            DecodeError::malformed(WHAT, "the signature is not a whole number of bytes")
        })?;
        algorithm::verify(&key, scheme, &self.info_der, signature).map_err(|_| {
            DecodeError::malformed(
                WHAT,
                "the signature does not verify with the requested public key",
            )
        })
    }
}

/// The `certificationRequestInfo` TLV, as received.
fn info_bytes(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let _ = der::Header::decode(&mut reader)?;
    reader.tlv_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused() {
        assert!(CertificationRequest::from_der(b"nonsense").is_err());
        assert!(
            CertificationRequest::from_pem(b"-----BEGIN X-----\nAAAA\n-----END X-----\n").is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Ok(r) = CertificationRequest::from_der(&bytes) {
                let _ = r.verify_signature();
            }
            let _ = CertificationRequest::from_pem(&bytes);
        }
    }
}
