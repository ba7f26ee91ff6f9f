//! Transparency-log entries as bundles carry them
//! (`dev.sigstore.rekor.v1.TransparencyLogEntry`).

use serde::Deserialize;

use crate::error::FormatError;
use crate::limits::{MAX_CHECKPOINT_BYTES, MAX_PROOF_HASHES, MAX_REKOR_ENTRY_BYTES};
use crate::protojson::{self, Int64, decode_bytes, encode_bytes, null_as_default};

const WHAT: &str = "transparency-log entry";

/// The kind and version of a Rekor entry (`hashedrekord` / `0.0.1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KindVersion {
    /// Entry kind, e.g. `hashedrekord`, `dsse`, `intoto`.
    pub kind: String,
    /// Entry API version, e.g. `0.0.1`.
    pub version: String,
}

/// A Merkle inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Index of the entry in the tree the proof is for (for Rekor v1, the
    /// shard-local index; for Rekor v2, the same as the entry's index).
    pub log_index: u64,
    /// The tree's root hash.
    pub root_hash: [u8; 32],
    /// The tree's size.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up; always written, even when empty.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint (a signed note), verbatim.
    pub checkpoint: String,
}

/// One transparency-log entry of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLogEntry {
    /// The entry's index in the log (for Rekor v1, the global index).
    pub log_index: u64,
    /// The log's ID: SHA-256 of its key (Rekor v1) or its checkpoint key ID
    /// (Rekor v2).
    pub log_id: Vec<u8>,
    /// The kind and version of the entry body.
    pub kind_version: KindVersion,
    /// Unix seconds at which the log integrated the entry; 0 when the log
    /// does not say (Rekor v2).
    pub integrated_time: i64,
    /// The signed entry timestamp (SET), if the log issued one.
    pub inclusion_promise: Option<Vec<u8>>,
    /// The inclusion proof, if present.
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonicalized entry body exactly as logged (the Merkle leaf).
    pub canonicalized_body: Vec<u8>,
}

impl TransparencyLogEntry {
    /// The log ID as lowercase hex (how trusted roots are looked up).
    pub fn log_id_hex(&self) -> String {
        hex::encode(&self.log_id)
    }

    /// Reads one entry in protobuf-JSON, as a bundle holds it and as Rekor v2
    /// answers `POST /api/v2/log/entries`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_REKOR_ENTRY_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_REKOR_ENTRY_BYTES,
            });
        }
        let raw: RawTlogEntry =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        raw.into_entry()
    }

    /// The entry in protobuf-JSON, as a bundle holds it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Writes the entry as protobuf-JSON. `logIndex` and `hashes` of the
    /// inclusion proof are always written (sigstore-python requires them even
    /// for a tree of size 1), as is `integratedTime`.
    pub(crate) fn write_json(&self, out: &mut String) {
        out.push_str(&format!(
            "{{\"logIndex\":\"{}\",\"logId\":{{\"keyId\":",
            self.log_index
        ));
        protojson::string(out, &encode_bytes(&self.log_id));
        out.push_str("},\"kindVersion\":{\"kind\":");
        protojson::string(out, &self.kind_version.kind);
        out.push_str(",\"version\":");
        protojson::string(out, &self.kind_version.version);
        out.push_str(&format!(
            "}},\"integratedTime\":\"{}\"",
            self.integrated_time
        ));
        if let Some(set) = &self.inclusion_promise {
            out.push_str(",\"inclusionPromise\":{\"signedEntryTimestamp\":");
            protojson::string(out, &encode_bytes(set));
            out.push('}');
        }
        if let Some(p) = &self.inclusion_proof {
            out.push_str(&format!(
                ",\"inclusionProof\":{{\"logIndex\":\"{}\",\"rootHash\":",
                p.log_index
            ));
            protojson::string(out, &encode_bytes(&p.root_hash));
            out.push_str(&format!(",\"treeSize\":\"{}\",\"hashes\":[", p.tree_size));
            for (i, h) in p.hashes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                protojson::string(out, &encode_bytes(h));
            }
            out.push_str("],\"checkpoint\":{\"envelope\":");
            protojson::string(out, &p.checkpoint);
            out.push_str("}}");
        }
        if !self.canonicalized_body.is_empty() {
            out.push_str(",\"canonicalizedBody\":");
            protojson::string(out, &encode_bytes(&self.canonicalized_body));
        }
        out.push('}');
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawTlogEntry {
    #[serde(default)]
    log_index: Option<Int64>,
    #[serde(default)]
    log_id: Option<RawLogId>,
    #[serde(default)]
    kind_version: Option<RawKindVersion>,
    #[serde(default)]
    integrated_time: Option<Int64>,
    #[serde(default)]
    inclusion_promise: Option<RawPromise>,
    #[serde(default)]
    inclusion_proof: Option<RawProof>,
    #[serde(default)]
    canonicalized_body: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    #[serde(default)]
    key_id: Option<String>,
}

#[derive(Deserialize)]
struct RawKindVersion {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    #[serde(default)]
    signed_entry_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    #[serde(default)]
    log_index: Option<Int64>,
    #[serde(default)]
    root_hash: Option<String>,
    #[serde(default)]
    tree_size: Option<Int64>,
    #[serde(default, deserialize_with = "null_as_default")]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    #[serde(default)]
    envelope: String,
}

fn non_negative(field: &str, value: Option<Int64>) -> Result<u64, FormatError> {
    let v = value.unwrap_or_default().0;
    u64::try_from(v).map_err(|_| FormatError::malformed(WHAT, format!("{field} is negative ({v})")))
}

fn hash32(field: &str, text: &str) -> Result<[u8; 32], FormatError> {
    let raw = decode_bytes(WHAT, field, text)?;
    raw.as_slice().try_into().map_err(|_| {
        FormatError::malformed(WHAT, format!("{field} is {} bytes, expected 32", raw.len()))
    })
}

impl RawTlogEntry {
    /// Checks the entry as sigstore-go's `ParseTransparencyLogEntry` does:
    /// index non-negative, log ID, kind/version and body present, a proof
    /// has a checkpoint, and the body's kind and version match.
    pub(crate) fn into_entry(self) -> Result<TransparencyLogEntry, FormatError> {
        let log_index = non_negative("logIndex", self.log_index)?;
        let log_id = match self.log_id.and_then(|l| l.key_id) {
            Some(k) => decode_bytes(WHAT, "logId.keyId", &k)?,
            None => Vec::new(),
        };
        if log_id.is_empty() {
            return Err(FormatError::malformed(WHAT, "no logId.keyId"));
        }
        let kind_version = self
            .kind_version
            .ok_or_else(|| FormatError::malformed(WHAT, "no kindVersion"))?;
        let kind_version = KindVersion {
            kind: kind_version.kind,
            version: kind_version.version,
        };
        let integrated_time = self.integrated_time.unwrap_or_default().0;
        if integrated_time < 0 {
            return Err(FormatError::malformed(
                WHAT,
                format!("integratedTime is negative ({integrated_time})"),
            ));
        }
        let inclusion_promise = match self
            .inclusion_promise
            .and_then(|p| p.signed_entry_timestamp)
        {
            Some(set) => {
                Some(decode_bytes(WHAT, "signedEntryTimestamp", &set)?).filter(|s| !s.is_empty())
            }
            None => None,
        };
        let inclusion_proof = self.inclusion_proof.map(RawProof::into_proof).transpose()?;
        let canonicalized_body = match self.canonicalized_body {
            Some(b) => decode_bytes(WHAT, "canonicalizedBody", &b)?,
            None => Vec::new(),
        };
        let entry = TransparencyLogEntry {
            log_index,
            log_id,
            kind_version,
            integrated_time,
            inclusion_promise,
            inclusion_proof,
            canonicalized_body,
        };
        check_body_kind(&entry)?;
        Ok(entry)
    }
}

impl RawProof {
    fn into_proof(self) -> Result<InclusionProof, FormatError> {
        if self.hashes.len() > MAX_PROOF_HASHES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "inclusion proof has {} hashes, more than the limit of {MAX_PROOF_HASHES}",
                    self.hashes.len()
                ),
            ));
        }
        let checkpoint = self.checkpoint.map(|c| c.envelope).unwrap_or_default();
        if checkpoint.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "inclusion proof has no checkpoint",
            ));
        }
        if checkpoint.len() > MAX_CHECKPOINT_BYTES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "checkpoint is {} bytes, more than the limit of {MAX_CHECKPOINT_BYTES}",
                    checkpoint.len()
                ),
            ));
        }
        Ok(InclusionProof {
            log_index: non_negative("inclusionProof.logIndex", self.log_index)?,
            root_hash: hash32(
                "inclusionProof.rootHash",
                self.root_hash.as_deref().unwrap_or_default(),
            )?,
            tree_size: non_negative("inclusionProof.treeSize", self.tree_size)?,
            hashes: self
                .hashes
                .iter()
                .map(|h| hash32("inclusionProof.hashes", h))
                .collect::<Result<_, _>>()?,
            checkpoint,
        })
    }
}

/// The body must be present, small, JSON, and of the kind and version the
/// entry claims.
pub(crate) fn check_body_kind(entry: &TransparencyLogEntry) -> Result<(), FormatError> {
    let body = &entry.canonicalized_body;
    if body.is_empty() {
        return Err(FormatError::malformed(WHAT, "no canonicalizedBody"));
    }
    if body.len() > MAX_REKOR_ENTRY_BYTES {
        return Err(FormatError::malformed(
            WHAT,
            format!(
                "canonicalizedBody is {} bytes, more than the limit of {MAX_REKOR_ENTRY_BYTES}",
                body.len()
            ),
        ));
    }
    let (kind, version) = crate::rekor::body_kind_version(body)?;
    if kind != entry.kind_version.kind || version != entry.kind_version.version {
        return Err(FormatError::malformed(
            WHAT,
            format!(
                "kindVersion says {}/{}, but the body is {kind}/{version}",
                crate::digest::truncate(&entry.kind_version.kind),
                crate::digest::truncate(&entry.kind_version.version)
            ),
        ));
    }
    Ok(())
}
