//! `intoto` entries (Rekor v1), written by cosign 2's `attest`.
//!
//! - 0.0.1: `{"content":{"envelope":"<JSON string>"},"publicKey":"<b64 PEM>"}`;
//!   logged as the envelope's and payload's SHA-256 with the canonical key.
//! - 0.0.2: `{"content":{"envelope":{"payloadType","payload","signatures":
//!   [{"keyid","sig","publicKey"}]},"hash","payloadHash"}}` where `payload`
//!   and `sig` are base64 of the envelope's (already base64) strings; logged
//!   without the payload, keeping the client's `hash`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{EntryClaims, EntryVerifier, SignatureClaim, SubjectClaim};
use super::dsse_kind::{RawRekorHash, rekor_hash};
use super::pem;
use crate::error::FormatError;
use crate::hash::HashOutput;
use crate::limits::MAX_DSSE_SIGNATURES;
use crate::protojson::{decode_bytes, encode_bytes, null_as_default};

const WHAT: &str = "intoto entry";

/// An intoto 0.0.1 entry as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntotoV001 {
    /// SHA-256 of the envelope string as submitted.
    pub envelope_hash: HashOutput,
    /// SHA-256 of the decoded payload (absent in old entries).
    pub payload_hash: Option<HashOutput>,
    /// The canonical PEM of the signing key or certificate.
    pub public_key_pem: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawV001 {
    #[serde(default)]
    content: Option<RawContentV001>,
    #[serde(default)]
    public_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContentV001 {
    #[serde(default)]
    envelope: Option<String>,
    #[serde(default)]
    hash: Option<RawRekorHash>,
    #[serde(default)]
    payload_hash: Option<RawRekorHash>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelopeV001 {
    #[serde(default)]
    payload: String,
}

impl IntotoV001 {
    /// Reads the `spec`: a proposal (with the envelope, whose hashes are
    /// computed here) or the logged form (hashes only). Signature
    /// verification is left to the caller.
    pub fn from_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: RawV001 =
            serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        let key = decode_bytes(
            WHAT,
            "publicKey",
            raw.public_key.as_deref().unwrap_or_default(),
        )?;
        if key.is_empty() {
            return Err(FormatError::malformed(WHAT, "missing public key"));
        }
        let public_key_pem = pem::canonical_verifier(&key)?;
        let content = raw
            .content
            .ok_or_else(|| FormatError::malformed(WHAT, "missing content"))?;
        match content.envelope.filter(|e| !e.is_empty()) {
            Some(envelope) => {
                let env: RawEnvelopeV001 = serde_json::from_str(&envelope)
                    .map_err(|e| FormatError::malformed(WHAT, format!("envelope: {e}")))?;
                use base64::Engine as _;
                let payload = base64::engine::general_purpose::STANDARD
                    .decode(&env.payload)
                    .map_err(|e| {
                        FormatError::malformed(WHAT, format!("envelope payload is not base64: {e}"))
                    })?;
                Ok(Self {
                    envelope_hash: HashOutput::from_sha256(&crate::Digest::sha256_of(
                        envelope.as_bytes(),
                    )),
                    payload_hash: Some(HashOutput::from_sha256(&crate::Digest::sha256_of(
                        &payload,
                    ))),
                    public_key_pem,
                })
            }
            None => Ok(Self {
                envelope_hash: content
                    .hash
                    .ok_or_else(|| FormatError::malformed(WHAT, "missing hash value for envelope"))?
                    .read(WHAT, "content.hash")?,
                payload_hash: content
                    .payload_hash
                    .map(|h| h.read(WHAT, "content.payloadHash"))
                    .transpose()?,
                public_key_pem,
            }),
        }
    }

    /// The entry as Rekor logs it (before RFC 8785).
    pub fn canonical_value(&self) -> Value {
        let mut content = serde_json::Map::new();
        content.insert("hash".into(), rekor_hash(&self.envelope_hash));
        if let Some(p) = &self.payload_hash {
            content.insert("payloadHash".into(), rekor_hash(p));
        }
        json!({
            "apiVersion": "0.0.1",
            "kind": "intoto",
            "spec": {
                "content": Value::Object(content),
                "publicKey": encode_bytes(&self.public_key_pem),
            },
        })
    }

    /// What the entry asserts. 0.0.1 does not record the signature itself.
    pub fn claims(&self) -> EntryClaims {
        EntryClaims {
            signatures: Vec::new(),
            subject: SubjectClaim::Envelope {
                payload_hash: self.payload_hash.clone(),
                envelope_hash: Some(self.envelope_hash.clone()),
            },
        }
    }
}

/// One signature of an intoto 0.0.2 entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntotoSignatureV002 {
    /// The key ID, possibly empty.
    pub keyid: String,
    /// The envelope's `sig` string (base64 of the raw signature).
    pub sig: String,
    /// The verifier's PEM, as submitted.
    pub public_key_pem: Vec<u8>,
}

/// An intoto 0.0.2 entry as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntotoV002 {
    /// The envelope's payload type.
    pub payload_type: String,
    /// The signatures, in the submitted order.
    pub signatures: Vec<IntotoSignatureV002>,
    /// The envelope hash the client gave.
    pub envelope_hash: HashOutput,
    /// SHA-256 of the decoded payload.
    pub payload_hash: HashOutput,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawV002 {
    #[serde(default)]
    content: Option<RawContentV002>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContentV002 {
    #[serde(default)]
    envelope: Option<RawEnvelopeV002>,
    #[serde(default)]
    hash: Option<RawRekorHash>,
    #[serde(default)]
    payload_hash: Option<RawRekorHash>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelopeV002 {
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    payload_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<Option<RawSignatureV002>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSignatureV002 {
    #[serde(default)]
    keyid: Option<String>,
    #[serde(default)]
    sig: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
}

fn double_decoded(field: &str, outer: &str) -> Result<(String, Vec<u8>), FormatError> {
    let inner = decode_bytes(WHAT, field, outer)?;
    let inner = String::from_utf8(inner)
        .map_err(|_| FormatError::malformed(WHAT, format!("{field} is not base64 of text")))?;
    let raw = decode_bytes(WHAT, field, &inner)?;
    Ok((inner, raw))
}

impl IntotoV002 {
    /// Reads the `spec` of a proposal (with the payload: its hash is computed
    /// here) or of a logged entry (without it). Signature verification is
    /// left to the caller.
    pub fn from_spec(spec: Value) -> Result<Self, FormatError> {
        let raw: RawV002 =
            serde_json::from_value(spec).map_err(|e| FormatError::malformed(WHAT, e))?;
        let content = raw
            .content
            .ok_or_else(|| FormatError::malformed(WHAT, "missing content"))?;
        let envelope = content
            .envelope
            .ok_or_else(|| FormatError::malformed(WHAT, "missing content or envelope"))?;
        let payload_type = envelope
            .payload_type
            .ok_or_else(|| FormatError::malformed(WHAT, "missing payload type"))?;
        let sigs: Vec<RawSignatureV002> = envelope.signatures.into_iter().flatten().collect();
        if sigs.is_empty() || sigs.len() > MAX_DSSE_SIGNATURES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} signatures (expected 1 to {MAX_DSSE_SIGNATURES})",
                    sigs.len()
                ),
            ));
        }
        let signatures = sigs
            .into_iter()
            .map(|s| {
                let (sig, _) = double_decoded("sig", s.sig.as_deref().unwrap_or_default())?;
                let public_key_pem = decode_bytes(
                    WHAT,
                    "publicKey",
                    s.public_key.as_deref().unwrap_or_default(),
                )?;
                if sig.is_empty() || public_key_pem.is_empty() {
                    return Err(FormatError::malformed(
                        WHAT,
                        "a signature lacks sig or publicKey",
                    ));
                }
                Ok(IntotoSignatureV002 {
                    keyid: s.keyid.unwrap_or_default(),
                    sig,
                    public_key_pem,
                })
            })
            .collect::<Result<_, FormatError>>()?;
        let envelope_hash = content
            .hash
            .ok_or_else(|| FormatError::malformed(WHAT, "missing envelope digest"))?
            .read(WHAT, "content.hash")?;
        let payload_hash = match envelope.payload.filter(|p| !p.is_empty()) {
            Some(outer) => {
                let (_, payload) = double_decoded("payload", &outer)?;
                HashOutput::from_sha256(&crate::Digest::sha256_of(&payload))
            }
            None => content
                .payload_hash
                .ok_or_else(|| FormatError::malformed(WHAT, "missing payload digest"))?
                .read(WHAT, "content.payloadHash")?,
        };
        Ok(Self {
            payload_type,
            signatures,
            envelope_hash,
            payload_hash,
        })
    }

    /// The entry as Rekor logs it (before RFC 8785).
    pub fn canonical_value(&self) -> Value {
        let signatures: Vec<Value> = self
            .signatures
            .iter()
            .map(|s| {
                let mut m = serde_json::Map::new();
                if !s.keyid.is_empty() {
                    m.insert("keyid".into(), Value::String(s.keyid.clone()));
                }
                m.insert(
                    "publicKey".into(),
                    Value::String(encode_bytes(&s.public_key_pem)),
                );
                m.insert("sig".into(), Value::String(encode_bytes(s.sig.as_bytes())));
                Value::Object(m)
            })
            .collect();
        json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {"payloadType": self.payload_type, "signatures": signatures},
                "hash": rekor_hash(&self.envelope_hash),
                "payloadHash": rekor_hash(&self.payload_hash),
            }},
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
                        signature: decode_bytes(WHAT, "sig", &s.sig)?,
                        verifier: EntryVerifier::Pem(s.public_key_pem.clone()),
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

/// The envelope of an intoto proposal, kept until its signatures are
/// checked: the log records only hashes of it, so the check must happen
/// before logging, as Rekor's `Unmarshal` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IntotoProposal {
    /// `PAE(payloadType, payload)`, what each signature covers.
    pae: Vec<u8>,
    /// The raw signatures.
    signatures: Vec<Vec<u8>>,
    /// The PEM keys or certificates offered to verify them.
    keys: Vec<Vec<u8>>,
    /// 0.0.2: every signature must verify under one of the keys; 0.0.1:
    /// one verifying signature is enough (Rekor's DSSE verifier, threshold 1).
    every_signature: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProposalEnvelopeV001 {
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    payload_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<Option<RawProposalSignatureV001>>,
}

#[derive(Deserialize)]
struct RawProposalSignatureV001 {
    #[serde(default)]
    sig: Option<String>,
}

impl IntotoProposal {
    /// The envelope of an intoto 0.0.1 proposal: `content.envelope` (a JSON
    /// string) signed by `publicKey`. A proposal without an envelope (the
    /// logged form, hashes only) proves nothing and is refused.
    pub(crate) fn from_v001_spec(spec: &Value) -> Result<Self, FormatError> {
        let text = spec
            .pointer("/content/envelope")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| FormatError::malformed(WHAT, "missing envelope content"))?;
        let key = spec
            .get("publicKey")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let key = decode_bytes(WHAT, "publicKey", key)?;
        let env: RawProposalEnvelopeV001 = serde_json::from_str(text)
            .map_err(|e| FormatError::malformed(WHAT, format!("envelope: {e}")))?;
        let payload_type = env.payload_type.unwrap_or_default();
        let payload = decode_bytes(WHAT, "envelope payload", &env.payload.unwrap_or_default())?;
        let signatures = env
            .signatures
            .into_iter()
            .flatten()
            .map(|s| decode_bytes(WHAT, "envelope sig", s.sig.as_deref().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(&payload_type, &payload, signatures, vec![key], false)
    }

    /// The envelope of an intoto 0.0.2 proposal: `content.envelope` with
    /// `payload` and each `sig` base64 of the envelope's own base64 strings,
    /// and a `publicKey` beside each signature.
    pub(crate) fn from_v002_spec(spec: &Value) -> Result<Self, FormatError> {
        let env = spec
            .pointer("/content/envelope")
            .ok_or_else(|| FormatError::malformed(WHAT, "missing envelope property"))?;
        let env: RawEnvelopeV002 = serde_json::from_value(env.clone())
            .map_err(|e| FormatError::malformed(WHAT, format!("envelope: {e}")))?;
        let outer = env
            .payload
            .filter(|p| !p.is_empty())
            .ok_or_else(|| FormatError::malformed(WHAT, "missing envelope content"))?;
        let (_, payload) = double_decoded("payload", &outer)?;
        let mut signatures = Vec::new();
        let mut keys = Vec::new();
        for s in env.signatures.into_iter().flatten() {
            let (_, sig) = double_decoded("sig", s.sig.as_deref().unwrap_or_default())?;
            signatures.push(sig);
            keys.push(decode_bytes(
                WHAT,
                "publicKey",
                s.public_key.as_deref().unwrap_or_default(),
            )?);
        }
        let payload_type = env.payload_type.unwrap_or_default();
        Self::new(&payload_type, &payload, signatures, keys, true)
    }

    fn new(
        payload_type: &str,
        payload: &[u8],
        signatures: Vec<Vec<u8>>,
        keys: Vec<Vec<u8>>,
        every_signature: bool,
    ) -> Result<Self, FormatError> {
        if payload.is_empty() || payload_type.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "invalid DSSE envelope: payload and payloadType are required",
            ));
        }
        if signatures.is_empty() || signatures.len() > MAX_DSSE_SIGNATURES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "invalid DSSE envelope: {} signatures (expected 1 to {MAX_DSSE_SIGNATURES})",
                    signatures.len()
                ),
            ));
        }
        if signatures.iter().any(Vec::is_empty) || keys.iter().any(Vec::is_empty) {
            return Err(FormatError::malformed(
                WHAT,
                "a signature lacks sig or publicKey",
            ));
        }
        Ok(Self {
            pae: crate::dsse::pae(payload_type, payload),
            signatures,
            keys,
            every_signature,
        })
    }

    /// Checks the envelope's signatures against the offered keys.
    pub(crate) fn verify(&self) -> Result<(), FormatError> {
        let keys = self
            .keys
            .iter()
            .map(|pem_bytes| pem::verifier_public_key(pem_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let verified = |sig: &Vec<u8>| keys.iter().any(|k| k.verify(&self.pae, sig).is_ok());
        let ok = if self.every_signature {
            self.signatures.iter().all(verified)
        } else {
            self.signatures.iter().any(verified)
        };
        if ok {
            Ok(())
        } else if self.every_signature {
            Err(FormatError::malformed(
                WHAT,
                "could not verify envelope: all signatures must have a key that verifies it",
            ))
        } else {
            Err(FormatError::malformed(
                WHAT,
                "could not verify envelope: no signature verifies with the public key",
            ))
        }
    }
}
