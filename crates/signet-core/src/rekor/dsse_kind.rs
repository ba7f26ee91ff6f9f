//! `dsse` 0.0.1 (Rekor v1): a DSSE envelope logged by hashes.
//!
//! The client sends `proposedContent{envelope: "<envelope JSON as a string>",
//! verifiers: ["<base64 PEM>"]}`; the log records `envelopeHash` (SHA-256 of
//! that exact string), `payloadHash` (SHA-256 of the decoded payload) and
//! each signature with the canonical PEM of the key that verifies it, sorted
//! by signature. The payload itself is not logged.

use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{EntryClaims, EntryVerifier, SignatureClaim, SubjectClaim};
use super::pem;
use crate::dsse::pae;
use crate::error::FormatError;
use crate::hash::{HashAlgorithm, HashOutput};
use crate::limits::MAX_DSSE_SIGNATURES;
use crate::protojson::{decode_bytes, encode_bytes, null_as_default};

const WHAT: &str = "dsse entry";

/// One logged signature: the base64 signature string exactly as it was in
/// the envelope, and the canonical PEM of its verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsseSignatureV001 {
    /// The envelope's `sig` string.
    pub signature: String,
    /// The verifier's canonical PEM.
    pub verifier_pem: Vec<u8>,
}

/// A dsse 0.0.1 entry as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsseV001 {
    /// SHA-256 of the envelope string as submitted.
    pub envelope_hash: HashOutput,
    /// SHA-256 of the decoded payload.
    pub payload_hash: HashOutput,
    /// Signatures sorted by their string.
    pub signatures: Vec<DsseSignatureV001>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    #[serde(default)]
    proposed_content: Option<RawProposed>,
    #[serde(default)]
    envelope_hash: Option<RawRekorHash>,
    #[serde(default)]
    payload_hash: Option<RawRekorHash>,
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<RawLoggedSignature>,
}

#[derive(Deserialize)]
struct RawProposed {
    #[serde(default)]
    envelope: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    verifiers: Vec<Option<String>>,
}

#[derive(Deserialize)]
pub(crate) struct RawRekorHash {
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

impl RawRekorHash {
    pub(crate) fn read(self, what: &'static str, field: &str) -> Result<HashOutput, FormatError> {
        let name = self.algorithm.unwrap_or_default();
        if name != "sha256" {
            return Err(FormatError::malformed(
                what,
                format!(
                    "{field}.algorithm {:?} is not sha256",
                    crate::digest::truncate(&name)
                ),
            ));
        }
        let value = self.value.unwrap_or_default();
        let digest = hex::decode(&value)
            .map_err(|_| FormatError::malformed(what, format!("{field}.value is not hex")))?;
        HashOutput::new(HashAlgorithm::Sha2_256, digest)
            .map_err(|e| FormatError::malformed(what, format!("{field}: {e}")))
    }
}

#[derive(Deserialize)]
struct RawLoggedSignature {
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    verifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelopeStrings {
    #[serde(default)]
    payload: String,
    #[serde(default)]
    payload_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<RawEnvelopeSignature>,
}

#[derive(Deserialize)]
struct RawEnvelopeSignature {
    #[serde(default)]
    sig: String,
}

pub(crate) fn rekor_hash(h: &HashOutput) -> Value {
    json!({"algorithm": h.algorithm().rekor_name().unwrap_or("sha256"), "value": hex::encode(h.digest())})
}

impl DsseV001 {
    /// Reads the `spec` of a dsse 0.0.1 entry: either a proposal (which is
    /// checked as Rekor does, including that every signature verifies under
    /// one of the verifiers) or the logged form.
    pub fn from_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: RawSpec =
            serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        match raw.proposed_content {
            Some(proposed) => {
                if raw.envelope_hash.is_some()
                    || raw.payload_hash.is_some()
                    || !raw.signatures.is_empty()
                {
                    return Err(FormatError::malformed(
                        WHAT,
                        "either proposedContent or envelopeHash, payloadHash and signatures must be present, not both",
                    ));
                }
                Self::from_proposal(proposed)
            }
            None => {
                let (Some(envelope_hash), Some(payload_hash)) =
                    (raw.envelope_hash, raw.payload_hash)
                else {
                    return Err(FormatError::malformed(
                        WHAT,
                        "either proposedContent or envelopeHash, payloadHash and signatures must be present",
                    ));
                };
                if raw.signatures.is_empty() || raw.signatures.len() > MAX_DSSE_SIGNATURES {
                    return Err(FormatError::malformed(
                        WHAT,
                        format!(
                            "{} signatures (expected 1 to {MAX_DSSE_SIGNATURES})",
                            raw.signatures.len()
                        ),
                    ));
                }
                let signatures = raw
                    .signatures
                    .into_iter()
                    .map(|s| {
                        let signature = s
                            .signature
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| FormatError::malformed(WHAT, "missing signature"))?;
                        let verifier_pem = decode_bytes(
                            WHAT,
                            "signatures.verifier",
                            s.verifier.as_deref().unwrap_or_default(),
                        )?;
                        Ok(DsseSignatureV001 {
                            signature,
                            verifier_pem,
                        })
                    })
                    .collect::<Result<_, FormatError>>()?;
                Ok(Self {
                    envelope_hash: envelope_hash.read(WHAT, "envelopeHash")?,
                    payload_hash: payload_hash.read(WHAT, "payloadHash")?,
                    signatures,
                })
            }
        }
    }

    fn from_proposal(proposed: RawProposed) -> Result<Self, FormatError> {
        let envelope = proposed
            .envelope
            .ok_or_else(|| FormatError::malformed(WHAT, "proposed content envelope is missing"))?;
        let env: RawEnvelopeStrings = serde_json::from_str(&envelope)
            .map_err(|e| FormatError::malformed(WHAT, format!("envelope: {e}")))?;
        if env.signatures.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "DSSE envelope must contain 1 or more signatures",
            ));
        }
        if env.signatures.len() > MAX_DSSE_SIGNATURES
            || proposed.verifiers.len() > MAX_DSSE_SIGNATURES
        {
            return Err(FormatError::malformed(
                WHAT,
                format!("more than {MAX_DSSE_SIGNATURES} signatures or verifiers"),
            ));
        }
        let payload = decode_bytes(WHAT, "envelope payload", &env.payload)?;
        let signed = pae(&env.payload_type, &payload);
        let mut keys = Vec::with_capacity(proposed.verifiers.len());
        for v in proposed.verifiers {
            let v = v.ok_or_else(|| {
                FormatError::malformed(WHAT, "an invalid null verifier was provided")
            })?;
            let pem_bytes = decode_bytes(WHAT, "verifiers", &v)?;
            keys.push((
                pem::verifier_public_key(&pem_bytes)?,
                pem::canonical_verifier(&pem_bytes)?,
            ));
        }
        let mut signatures: Vec<DsseSignatureV001> = Vec::new();
        for s in &env.signatures {
            if signatures.iter().any(|known| known.signature == s.sig) {
                continue;
            }
            let raw_sig = decode_bytes(WHAT, "envelope sig", &s.sig)?;
            let verifier = keys
                .iter()
                .find(|(key, _)| key.verify(&signed, &raw_sig).is_ok())
                .ok_or_else(|| {
                    FormatError::malformed(WHAT, "all signatures must have a key that verifies it")
                })?;
            signatures.push(DsseSignatureV001 {
                signature: s.sig.clone(),
                verifier_pem: verifier.1.clone(),
            });
        }
        signatures.sort_by(|a, b| a.signature.cmp(&b.signature));
        Ok(Self {
            envelope_hash: HashOutput::from_sha256(&crate::Digest::sha256_of(envelope.as_bytes())),
            payload_hash: HashOutput::from_sha256(&crate::Digest::sha256_of(&payload)),
            signatures,
        })
    }

    /// The entry as Rekor logs it (before RFC 8785).
    pub fn canonical_value(&self) -> Value {
        let mut sigs = self.signatures.clone();
        sigs.sort_by(|a, b| a.signature.cmp(&b.signature));
        json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": rekor_hash(&self.envelope_hash),
                "payloadHash": rekor_hash(&self.payload_hash),
                "signatures": sigs.iter().map(|s| json!({
                    "signature": s.signature,
                    "verifier": encode_bytes(&s.verifier_pem),
                })).collect::<Vec<_>>(),
            },
        })
    }

    /// What the entry asserts.
    pub fn claims(&self) -> Result<EntryClaims, FormatError> {
        Ok(EntryClaims {
            signatures: self
                .signatures
                .iter()
                .map(|s| {
                    Ok(SignatureClaim {
                        signature: decode_bytes(WHAT, "signature", &s.signature)?,
                        verifier: EntryVerifier::Pem(s.verifier_pem.clone()),
                    })
                })
                .collect::<Result<_, FormatError>>()?,
            subject: SubjectClaim::Envelope {
                payload_hash: Some(self.payload_hash.clone()),
                envelope_hash: Some(self.envelope_hash.clone()),
            },
        })
    }
}
