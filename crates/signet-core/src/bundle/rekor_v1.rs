//! Rekor v1 API responses (`POST /api/v1/log/entries`,
//! `GET /api/v1/log/entries/{uuid}`): `{"<entry ID>": LogEntry}` with a
//! base64 body, hex log ID and hex proof hashes, turned into a bundle's
//! transparency-log entry. Rekor v2 answers with the bundle form directly
//! ([`TransparencyLogEntry::from_json`]).

use serde::Deserialize;

use super::tlog_entry::{InclusionProof, KindVersion, TransparencyLogEntry, check_body_kind};
use crate::error::FormatError;
use crate::limits::{MAX_CHECKPOINT_BYTES, MAX_PROOF_HASHES, MAX_REKOR_ENTRY_BYTES};
use crate::protojson::decode_bytes;

const WHAT: &str = "Rekor v1 log entry";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogEntry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    #[serde(default)]
    verification: Option<RawVerification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVerification {
    #[serde(default)]
    signed_entry_timestamp: Option<String>,
    #[serde(default)]
    inclusion_proof: Option<RawProof>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    checkpoint: String,
    #[serde(default)]
    hashes: Vec<String>,
    log_index: i64,
    root_hash: String,
    tree_size: i64,
}

fn hex32(field: &str, text: &str) -> Result<[u8; 32], FormatError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| FormatError::malformed(WHAT, format!("{field} is not 64 hex digits")))?;
    Ok(out)
}

fn non_negative(field: &str, v: i64) -> Result<u64, FormatError> {
    u64::try_from(v).map_err(|_| FormatError::malformed(WHAT, format!("{field} is negative ({v})")))
}

impl TransparencyLogEntry {
    /// Reads a Rekor v1 response holding one entry (`{"<entry ID>": {…}}`)
    /// and returns its entry ID with the entry as a bundle carries it. The
    /// inclusion proof keeps the shard-local index Rekor gives it.
    pub fn from_rekor_v1_response(bytes: &[u8]) -> Result<(String, Self), FormatError> {
        if bytes.len() > MAX_REKOR_ENTRY_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_REKOR_ENTRY_BYTES,
            });
        }
        let map: std::collections::BTreeMap<String, RawLogEntry> =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        if map.len() != 1 {
            return Err(FormatError::malformed(
                WHAT,
                format!("expected one entry, found {}", map.len()),
            ));
        }
        let Some((id, raw)) = map.into_iter().next() else {
            return Err(FormatError::malformed(WHAT, "no entry"));
        };
        let body = decode_bytes(WHAT, "body", &raw.body)?;
        let (kind, version) = crate::rekor::body_kind_version(&body)?;
        let verification = raw.verification.unwrap_or(RawVerification {
            signed_entry_timestamp: None,
            inclusion_proof: None,
        });
        let inclusion_proof = match verification.inclusion_proof {
            Some(p) => {
                if p.hashes.len() > MAX_PROOF_HASHES || p.checkpoint.len() > MAX_CHECKPOINT_BYTES {
                    return Err(FormatError::malformed(WHAT, "inclusion proof is too large"));
                }
                Some(InclusionProof {
                    log_index: non_negative("inclusionProof.logIndex", p.log_index)?,
                    root_hash: hex32("inclusionProof.rootHash", &p.root_hash)?,
                    tree_size: non_negative("inclusionProof.treeSize", p.tree_size)?,
                    hashes: p
                        .hashes
                        .iter()
                        .map(|h| hex32("inclusionProof.hashes", h))
                        .collect::<Result<_, _>>()?,
                    checkpoint: p.checkpoint,
                })
            }
            None => None,
        };
        let entry = Self {
            log_index: non_negative("logIndex", raw.log_index)?,
            log_id: hex32("logID", &raw.log_id)?.to_vec(),
            kind_version: KindVersion { kind, version },
            integrated_time: i64::try_from(non_negative("integratedTime", raw.integrated_time)?)
                .unwrap_or_default(),
            inclusion_promise: verification
                .signed_entry_timestamp
                .map(|s| decode_bytes(WHAT, "signedEntryTimestamp", &s))
                .transpose()?,
            inclusion_proof,
            canonicalized_body: body,
        };
        check_body_kind(&entry)?;
        Ok((id, entry))
    }
}
