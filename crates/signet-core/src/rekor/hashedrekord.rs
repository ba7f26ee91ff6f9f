//! `hashedrekord`: a signature over an artifact's digest.
//!
//! - 0.0.1 (Rekor v1): `{"signature":{"content","publicKey":{"content"}},
//!   "data":{"hash":{"algorithm","value"}}}`, base64 signature, base64 PEM key
//!   or certificate, hex digest.
//! - 0.0.2 (Rekor v2): the client sends `hashedRekordRequestV002{digest,
//!   signature{content, verifier}}`; the log records `hashedRekordV002{data,
//!   signature}` with the digest algorithm implied by the key details.

use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{EntryClaims, EntryVerifier, SignatureClaim, SubjectClaim};
use super::data_hash::{RawData, checked_hash};
use super::pem;
use crate::error::FormatError;
use crate::hash::{HashAlgorithm, HashOutput};
use crate::key_details::PublicKeyDetails;
use crate::protojson::{decode_bytes, encode_bytes};

const WHAT: &str = "hashedrekord entry";

fn sha256_digest(algorithm: HashAlgorithm, digest: &[u8]) -> Result<crate::Digest, FormatError> {
    match (algorithm, <[u8; 32]>::try_from(digest)) {
        (HashAlgorithm::Sha2_256, Ok(raw)) => Ok(crate::Digest::from_raw(raw)),
        _ => Err(FormatError::malformed(
            WHAT,
            format!("signet verifies SHA2_256 digests only, not {algorithm}"),
        )),
    }
}

/// A hashedrekord 0.0.1 entry, proposed or logged (the shapes are the same;
/// logging canonicalizes the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedRekordV001 {
    /// The raw signature.
    pub signature: Vec<u8>,
    /// The PEM key or certificate(s), as given.
    pub verifier_pem: Vec<u8>,
    /// The algorithm of the signed digest.
    pub algorithm: HashAlgorithm,
    /// The digest as hex, exactly as given (Rekor keeps its case).
    pub digest_hex: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawV001 {
    signature: Option<RawSignature>,
    data: Option<RawData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSignature {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    public_key: Option<RawContent>,
}

#[derive(Deserialize)]
struct RawContent {
    #[serde(default)]
    content: Option<String>,
}

impl HashedRekordV001 {
    /// Reads the `spec` of a 0.0.1 entry and checks it as Rekor does (apart
    /// from verifying the signature, which needs the key's crypto).
    pub fn from_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: RawV001 =
            serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        let sig = raw
            .signature
            .ok_or_else(|| FormatError::malformed(WHAT, "missing signature"))?;
        let signature = decode_bytes(
            WHAT,
            "signature.content",
            sig.content.as_deref().unwrap_or_default(),
        )?;
        if signature.is_empty() {
            return Err(FormatError::malformed(WHAT, "missing signature content"));
        }
        let verifier_pem = decode_bytes(
            WHAT,
            "signature.publicKey.content",
            sig.public_key
                .and_then(|k| k.content)
                .as_deref()
                .unwrap_or_default(),
        )?;
        if verifier_pem.is_empty() {
            return Err(FormatError::malformed(WHAT, "missing public key"));
        }
        let (algorithm, digest_hex) = checked_hash(WHAT, raw.data)?;
        Ok(Self {
            signature,
            verifier_pem,
            algorithm,
            digest_hex,
        })
    }

    /// The entry as Rekor logs it (before RFC 8785): the key re-encoded.
    pub fn canonical_value(&self) -> Result<Value, FormatError> {
        let key = pem::canonical_verifier(&self.verifier_pem)?;
        Ok(json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {
                    "algorithm": self.algorithm.rekor_name().unwrap_or("sha256"),
                    "value": self.digest_hex,
                }},
                "signature": {
                    "content": encode_bytes(&self.signature),
                    "publicKey": {"content": encode_bytes(&key)},
                },
            },
        }))
    }

    /// Checks the signature over the digest with the entry's key or leaf
    /// certificate, as Rekor does before logging. signet checks SHA-256
    /// digests (ECDSA and RSA keys); other digests are refused by name.
    pub fn verify_signature(&self) -> Result<(), FormatError> {
        let digest = sha256_digest(
            self.algorithm,
            &hex::decode(&self.digest_hex).unwrap_or_default(),
        )?;
        let key = pem::verifier_public_key(&self.verifier_pem)?;
        key.verify_digest(&digest, &self.signature)
            .map_err(|e| FormatError::malformed(WHAT, format!("verifying signature: {e}")))
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

/// The verifier of a hashedrekord 0.0.2 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V002Verifier {
    /// A DER SubjectPublicKeyInfo.
    PublicKey(Vec<u8>),
    /// A DER certificate.
    X509Certificate(Vec<u8>),
}

/// A hashedrekord 0.0.2 entry as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedRekordV002 {
    /// The signed digest.
    pub data: HashOutput,
    /// The raw signature.
    pub signature: Vec<u8>,
    /// The key or certificate.
    pub verifier: V002Verifier,
    /// The key's algorithm.
    pub key_details: PublicKeyDetails,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRequestV002 {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    signature: Option<RawSignatureV002>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSignatureV002 {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    verifier: Option<RawVerifierV002>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawVerifierV002 {
    #[serde(default)]
    public_key: Option<RawRawBytes>,
    #[serde(default)]
    x509_certificate: Option<RawRawBytes>,
    #[serde(default)]
    key_details: Option<crate::protojson::Enum>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRawBytes {
    #[serde(default)]
    raw_bytes: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawLoggedV002 {
    #[serde(default)]
    data: Option<RawHashOutput>,
    #[serde(default)]
    signature: Option<RawSignatureV002>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawHashOutput {
    #[serde(default)]
    algorithm: Option<crate::protojson::Enum>,
    #[serde(default)]
    digest: Option<String>,
}

impl RawSignatureV002 {
    fn read(self) -> Result<(Vec<u8>, V002Verifier, PublicKeyDetails), FormatError> {
        let signature = decode_bytes(
            WHAT,
            "signature.content",
            self.content.as_deref().unwrap_or_default(),
        )?;
        if signature.is_empty() {
            return Err(FormatError::malformed(WHAT, "missing signature"));
        }
        let v = self
            .verifier
            .ok_or_else(|| FormatError::malformed(WHAT, "missing verifier"))?;
        let verifier = match (v.public_key, v.x509_certificate) {
            (Some(k), None) => V002Verifier::PublicKey(raw_bytes("publicKey.rawBytes", k)?),
            (None, Some(c)) => {
                V002Verifier::X509Certificate(raw_bytes("x509Certificate.rawBytes", c)?)
            }
            _ => {
                return Err(FormatError::malformed(
                    WHAT,
                    "verifier must have exactly one of publicKey and x509Certificate",
                ));
            }
        };
        let key_details = v
            .key_details
            .as_ref()
            .map(PublicKeyDetails::from_proto)
            .unwrap_or(PublicKeyDetails::Unspecified);
        Ok((signature, verifier, key_details))
    }
}

fn raw_bytes(field: &str, raw: RawRawBytes) -> Result<Vec<u8>, FormatError> {
    let bytes = decode_bytes(WHAT, field, raw.raw_bytes.as_deref().unwrap_or_default())?;
    if bytes.is_empty() {
        return Err(FormatError::malformed(WHAT, format!("missing {field}")));
    }
    Ok(bytes)
}

impl HashedRekordV002 {
    /// Reads a Rekor v2 request body's `hashedRekordRequestV002` and turns
    /// it into the entry the log records, as rekor-tiles does: unknown
    /// fields are refused, the digest algorithm comes from the key details
    /// (pure Ed25519 and other non-prehashing algorithms are refused), and
    /// the digest must have that algorithm's length.
    pub fn from_request(request: Value) -> Result<Self, FormatError> {
        let raw: RawRequestV002 =
            serde_json::from_value(request).map_err(|e| FormatError::malformed(WHAT, e))?;
        let digest = decode_bytes(WHAT, "digest", raw.digest.as_deref().unwrap_or_default())?;
        if digest.is_empty() {
            return Err(FormatError::malformed(WHAT, "missing digest"));
        }
        let (signature, verifier, key_details) = raw
            .signature
            .ok_or_else(|| FormatError::malformed(WHAT, "missing signature"))?
            .read()?;
        let algorithm = key_details.hash_algorithm().ok_or_else(|| {
            FormatError::malformed(
                WHAT,
                format!(
                    "unsupported signing algorithm {key_details} for hashedrekord: no associated digest algorithm"
                ),
            )
        })?;
        if digest.len() != algorithm.digest_len() {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "digest length ({}) does not match expected size ({}) for algorithm {algorithm}",
                    digest.len(),
                    algorithm.digest_len()
                ),
            ));
        }
        Ok(Self {
            data: HashOutput::new(algorithm, digest)?,
            signature,
            verifier,
            key_details,
        })
    }

    /// Reads the `spec.hashedRekordV002` object of a logged entry.
    pub fn from_logged_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: RawLoggedV002 =
            serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        let data = raw
            .data
            .ok_or_else(|| FormatError::malformed(WHAT, "missing data"))?;
        let name = data
            .algorithm
            .as_ref()
            .and_then(|a| a.name(&HashAlgorithm::PROTO_NAMES))
            .unwrap_or_default()
            .to_owned();
        let algorithm = HashAlgorithm::from_proto_name(&name).ok_or_else(|| {
            FormatError::malformed(
                WHAT,
                format!(
                    "data.algorithm {:?} is not supported",
                    crate::digest::truncate(&name)
                ),
            )
        })?;
        let digest = decode_bytes(
            WHAT,
            "data.digest",
            data.digest.as_deref().unwrap_or_default(),
        )?;
        let (signature, verifier, key_details) = raw
            .signature
            .ok_or_else(|| FormatError::malformed(WHAT, "missing signature"))?
            .read()?;
        Ok(Self {
            data: HashOutput::new(algorithm, digest)?,
            signature,
            verifier,
            key_details,
        })
    }

    /// The entry as rekor-tiles logs it (protobuf-JSON, before RFC 8785).
    /// protojson leaves out an unspecified enum, so `keyDetails` is omitted
    /// when unspecified.
    pub fn canonical_value(&self) -> Value {
        let mut verifier = serde_json::Map::new();
        match &self.verifier {
            V002Verifier::PublicKey(der) => {
                verifier.insert("publicKey".into(), json!({"rawBytes": encode_bytes(der)}));
            }
            V002Verifier::X509Certificate(der) => {
                verifier.insert(
                    "x509Certificate".into(),
                    json!({"rawBytes": encode_bytes(der)}),
                );
            }
        }
        if self.key_details != PublicKeyDetails::Unspecified {
            verifier.insert(
                "keyDetails".into(),
                Value::String(self.key_details.proto_name().to_owned()),
            );
        }
        json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {
                    "algorithm": self.data.algorithm().proto_name(),
                    "digest": encode_bytes(self.data.digest()),
                },
                "signature": {
                    "content": encode_bytes(&self.signature),
                    "verifier": Value::Object(verifier),
                },
            }},
        })
    }

    /// Checks the signature over the digest, as rekor-tiles does before
    /// logging (SHA-256 digests; ECDSA and RSA keys).
    pub fn verify_signature(&self) -> Result<(), FormatError> {
        let digest = sha256_digest(self.data.algorithm(), self.data.digest())?;
        let spki = match &self.verifier {
            V002Verifier::PublicKey(der) => der.clone(),
            V002Verifier::X509Certificate(der) => {
                use x509_cert::der::{Decode as _, Encode as _};
                x509_cert::Certificate::from_der(der)
                    .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der())
                    .map_err(|e| FormatError::malformed(WHAT, format!("x509Certificate: {e}")))?
            }
        };
        let key = crate::keys::PublicKey::from_spki_der(&spki)
            .map_err(|e| FormatError::malformed(WHAT, format!("verifier: {e}")))?;
        key.verify_digest(&digest, &self.signature)
            .map_err(|e| FormatError::malformed(WHAT, format!("verifying signature: {e}")))
    }

    /// What the entry asserts.
    pub fn claims(&self) -> EntryClaims {
        let verifier = match &self.verifier {
            V002Verifier::PublicKey(der) => EntryVerifier::PublicKeyDer {
                spki: der.clone(),
                key_details: self.key_details.clone(),
            },
            V002Verifier::X509Certificate(der) => EntryVerifier::CertificateDer {
                der: der.clone(),
                key_details: self.key_details.clone(),
            },
        };
        EntryClaims {
            signatures: vec![SignatureClaim {
                signature: self.signature.clone(),
                verifier,
            }],
            subject: SubjectClaim::ArtifactDigest(self.data.clone()),
        }
    }
}
