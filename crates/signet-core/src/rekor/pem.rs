//! PEM as Rekor (Go's `encoding/pem`) reads and writes it, and the canonical
//! form Rekor gives a key or certificate before logging it.

use crate::error::FormatError;
use crate::keys::PublicKey;
pub(crate) use crate::pem::{decode_all, encode};

const WHAT: &str = "PEM in a Rekor entry";

/// The canonical value Rekor logs for a verifier given as PEM: a public key
/// is re-encoded as PKIX, certificates are re-armoured. Mirrors rekor's
/// `x509.NewPublicKey(…).CanonicalValue()`.
pub(crate) fn canonical_verifier(pem: &[u8]) -> Result<Vec<u8>, FormatError> {
    let blocks = decode_all(pem)?;
    match blocks.as_slice() {
        [(label, der)] if label == "PUBLIC KEY" => {
            let key = PublicKey::from_spki_der(der)
                .map_err(|e| FormatError::malformed(WHAT, format!("public key: {e}")))?;
            Ok(encode("PUBLIC KEY", &key.to_spki_der()))
        }
        blocks if blocks.iter().all(|(label, _)| label == "CERTIFICATE") => {
            let mut out = Vec::new();
            for (_, der) in blocks {
                check_certificate(der)?;
                out.extend(encode("CERTIFICATE", der));
            }
            Ok(out)
        }
        _ => Err(FormatError::malformed(
            WHAT,
            "expected one PUBLIC KEY or one or more CERTIFICATE blocks",
        )),
    }
}

fn check_certificate(der: &[u8]) -> Result<(), FormatError> {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(der)
        .map(|_| ())
        .map_err(|e| FormatError::malformed(WHAT, format!("certificate: {e}")))
}

/// The public key a PEM verifier holds (a key, or the leaf certificate's key).
pub(crate) fn verifier_public_key(pem: &[u8]) -> Result<PublicKey, FormatError> {
    let blocks = decode_all(pem)?;
    let (label, der) = blocks
        .first()
        .ok_or_else(|| FormatError::malformed(WHAT, "no PEM block"))?;
    match label.as_str() {
        "PUBLIC KEY" => PublicKey::from_spki_der(der)
            .map_err(|e| FormatError::malformed(WHAT, format!("public key: {e}"))),
        "CERTIFICATE" => {
            use x509_cert::der::{Decode as _, Encode as _};
            let cert = x509_cert::Certificate::from_der(der)
                .map_err(|e| FormatError::malformed(WHAT, format!("certificate: {e}")))?;
            let spki = cert
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .map_err(|e| FormatError::malformed(WHAT, format!("certificate key: {e}")))?;
            PublicKey::from_spki_der(&spki)
                .map_err(|e| FormatError::malformed(WHAT, format!("certificate key: {e}")))
        }
        other => Err(FormatError::malformed(
            WHAT,
            format!("PEM type {other:?} is not a key or certificate"),
        )),
    }
}
