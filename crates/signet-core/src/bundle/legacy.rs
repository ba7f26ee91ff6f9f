//! cosign's legacy layer annotations that carry log and timestamp evidence:
//! `dev.sigstore.cosign/bundle` (a Rekor SET with its payload) and
//! `dev.sigstore.cosign/rfc3161timestamp`. They are converted into the
//! bundle model where a layer is read, so one code path verifies both.

use serde::Deserialize;

use super::tlog_entry::{KindVersion, TransparencyLogEntry, check_body_kind};
use crate::error::FormatError;
use crate::limits::MAX_REKOR_ENTRY_BYTES;
use crate::protojson::{self, decode_bytes, encode_bytes};

const WHAT: &str = "cosign bundle annotation";

/// A Rekor v1 entry as cosign's `dev.sigstore.cosign/bundle` annotation
/// records it: `{"SignedEntryTimestamp":…,"Payload":{"body","integratedTime",
/// "logIndex","logID"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    /// The signed entry timestamp.
    pub signed_entry_timestamp: Vec<u8>,
    /// The canonical entry body.
    pub body: Vec<u8>,
    /// Unix seconds at which the entry was integrated.
    pub integrated_time: i64,
    /// The entry's global log index.
    pub log_index: u64,
    /// The log ID (SHA-256 of the log's public key).
    pub log_id: [u8; 32],
}

impl RekorBundle {
    /// Reads the annotation value.
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        if text.len() > MAX_REKOR_ENTRY_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: text.len(),
                limit: MAX_REKOR_ENTRY_BYTES,
            });
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "SignedEntryTimestamp")]
            set: String,
            #[serde(rename = "Payload")]
            payload: RawPayload,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct RawPayload {
            body: String,
            integrated_time: i64,
            log_index: i64,
            #[serde(rename = "logID")]
            log_id: String,
        }
        let raw: Raw = serde_json::from_str(text).map_err(|e| FormatError::malformed(WHAT, e))?;
        let mut log_id = [0u8; 32];
        hex::decode_to_slice(&raw.payload.log_id, &mut log_id).map_err(|_| {
            FormatError::malformed(WHAT, "logID is not 64 hex digits (SHA-256 of the log key)")
        })?;
        let log_index = u64::try_from(raw.payload.log_index)
            .map_err(|_| FormatError::malformed(WHAT, "logIndex is negative"))?;
        if raw.payload.integrated_time < 0 {
            return Err(FormatError::malformed(WHAT, "integratedTime is negative"));
        }
        Ok(Self {
            signed_entry_timestamp: decode_bytes(WHAT, "SignedEntryTimestamp", &raw.set)?,
            body: decode_bytes(WHAT, "Payload.body", &raw.payload.body)?,
            integrated_time: raw.payload.integrated_time,
            log_index,
            log_id,
        })
    }

    /// The annotation value as cosign writes it.
    pub fn to_annotation(&self) -> String {
        let mut out = String::from("{\"SignedEntryTimestamp\":");
        protojson::string(&mut out, &encode_bytes(&self.signed_entry_timestamp));
        out.push_str(",\"Payload\":{\"body\":");
        protojson::string(&mut out, &encode_bytes(&self.body));
        out.push_str(&format!(
            ",\"integratedTime\":{},\"logIndex\":{},\"logID\":\"{}\"}}}}",
            self.integrated_time,
            self.log_index,
            hex::encode(self.log_id)
        ));
        out
    }

    /// The same evidence as a bundle's transparency-log entry: an inclusion
    /// promise, no proof.
    pub fn to_tlog_entry(&self) -> Result<TransparencyLogEntry, FormatError> {
        let (kind, version) = crate::rekor::body_kind_version(&self.body)?;
        let entry = TransparencyLogEntry {
            log_index: self.log_index,
            log_id: self.log_id.to_vec(),
            kind_version: KindVersion { kind, version },
            integrated_time: self.integrated_time,
            inclusion_promise: Some(self.signed_entry_timestamp.clone()),
            inclusion_proof: None,
            canonicalized_body: self.body.clone(),
        };
        check_body_kind(&entry)?;
        Ok(entry)
    }

    /// The annotation for a bundle entry that has a SET, if it has one.
    pub fn from_tlog_entry(entry: &TransparencyLogEntry) -> Option<Self> {
        Some(Self {
            signed_entry_timestamp: entry.inclusion_promise.clone()?,
            body: entry.canonicalized_body.clone(),
            integrated_time: entry.integrated_time,
            log_index: entry.log_index,
            log_id: entry.log_id.as_slice().try_into().ok()?,
        })
    }
}

/// Reads cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation
/// (`{"SignedRFC3161Timestamp":"<base64 DER>"}`) into the token bytes.
pub fn parse_rfc3161_annotation(text: &str) -> Result<Vec<u8>, FormatError> {
    const WHAT: &str = "cosign RFC 3161 timestamp annotation";
    if text.len() > MAX_REKOR_ENTRY_BYTES {
        return Err(FormatError::TooLarge {
            what: WHAT,
            size: text.len(),
            limit: MAX_REKOR_ENTRY_BYTES,
        });
    }
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "SignedRFC3161Timestamp")]
        token: String,
    }
    let raw: Raw = serde_json::from_str(text).map_err(|e| FormatError::malformed(WHAT, e))?;
    let token = decode_bytes(WHAT, "SignedRFC3161Timestamp", &raw.token)?;
    if token.is_empty() {
        return Err(FormatError::malformed(WHAT, "empty timestamp"));
    }
    Ok(token)
}

/// The `dev.sigstore.cosign/rfc3161timestamp` annotation for a token.
pub fn rfc3161_annotation(token: &[u8]) -> String {
    format!("{{\"SignedRFC3161Timestamp\":\"{}\"}}", encode_bytes(token))
}
