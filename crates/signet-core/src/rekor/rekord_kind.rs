//! `rekord` 0.0.1: the older Rekor v1 kind cosign used before hashedrekord
//! (2021), read as logged so that old legacy signatures still verify. The
//! logged form keeps the data's hash and the signature with its format and
//! key: `{"data":{"hash":{"algorithm","value"}},"signature":{"content",
//! "format","publicKey":{"content"}}}`. Only the `x509` format (a PEM key or
//! certificate) is read; minisign, SSH and PGP signatures are refused by name.

use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{EntryClaims, EntryVerifier, SignatureClaim, SubjectClaim};
use super::data_hash::{RawData, checked_hash};
use crate::error::FormatError;
use crate::hash::{HashAlgorithm, HashOutput};
use crate::protojson::{decode_bytes, encode_bytes};

const WHAT: &str = "rekord entry";

/// A logged rekord 0.0.1 entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekordV001 {
    /// The raw signature.
    pub signature: Vec<u8>,
    /// The PEM key or certificate, as logged.
    pub verifier_pem: Vec<u8>,
    /// The algorithm of the data's hash.
    pub algorithm: HashAlgorithm,
    /// The data's hash as hex, exactly as logged.
    pub digest_hex: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    signature: Option<RawSignature>,
    data: Option<RawData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSignature {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    public_key: Option<RawContent>,
}

#[derive(Deserialize)]
struct RawContent {
    #[serde(default)]
    content: Option<String>,
}

impl RekordV001 {
    /// Reads the `spec` of a logged rekord 0.0.1 entry.
    pub fn from_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: Raw = serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        let sig = raw
            .signature
            .ok_or_else(|| FormatError::malformed(WHAT, "missing signature"))?;
        let format = sig.format.unwrap_or_default();
        if format != "x509" {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "signature format {:?} is not supported (signet reads x509)",
                    crate::digest::truncate(&format)
                ),
            ));
        }
        let signature = decode_bytes(
            WHAT,
            "signature.content",
            sig.content.as_deref().unwrap_or_default(),
        )?;
        let verifier_pem = decode_bytes(
            WHAT,
            "signature.publicKey.content",
            sig.public_key
                .and_then(|k| k.content)
                .as_deref()
                .unwrap_or_default(),
        )?;
        if signature.is_empty() || verifier_pem.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "missing signature content or public key",
            ));
        }
        let (algorithm, digest_hex) = checked_hash(WHAT, raw.data)?;
        Ok(Self {
            signature,
            verifier_pem,
            algorithm,
            digest_hex,
        })
    }

    /// The entry as Rekor logged it (before RFC 8785).
    pub fn canonical_value(&self) -> Value {
        json!({
            "apiVersion": "0.0.1",
            "kind": "rekord",
            "spec": {
                "data": {"hash": {
                    "algorithm": self.algorithm.rekor_name().unwrap_or("sha256"),
                    "value": self.digest_hex,
                }},
                "signature": {
                    "content": encode_bytes(&self.signature),
                    "format": "x509",
                    "publicKey": {"content": encode_bytes(&self.verifier_pem)},
                },
            },
        })
    }

    /// What the entry asserts.
    pub fn claims(&self) -> Result<EntryClaims, FormatError> {
        let digest = hex::decode(&self.digest_hex)
            .map_err(|_| FormatError::malformed(WHAT, "hash value is not hex"))?;
        Ok(EntryClaims {
            signatures: vec![SignatureClaim {
                signature: self.signature.clone(),
                verifier: EntryVerifier::Pem(self.verifier_pem.clone()),
            }],
            subject: SubjectClaim::ArtifactDigest(HashOutput::new(self.algorithm, digest)?),
        })
    }
}
