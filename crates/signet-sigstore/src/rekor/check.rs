//! Checks on a log's answer before signet keeps it: the same checks a
//! verifier makes offline later, so that signet never stores log evidence
//! that would not verify.

use signet_core::bundle::TransparencyLogEntry;
use signet_core::rekor::LoggedEntry;
use signet_tlog::checkpoint::{CheckpointVerifier, RekorV1CheckpointVerifier, SignedCheckpoint};
use signet_tlog::proof::verify_inclusion;
use signet_tlog::set::SetPayload;
use signet_tlog::{Hash, TlogError, leaf_hash};
use signet_trust::TransparencyLog;

/// A log answer that failed a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRejected {
    /// The check that failed.
    pub check: &'static str,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for EntryRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.reason)
    }
}

fn reject(check: &'static str, reason: impl ToString) -> EntryRejected {
    EntryRejected {
        check,
        reason: reason.to_string(),
    }
}

/// Checks a Rekor v1 answer: a trusted log, the proposed body, a SET that
/// verifies under the log key at a time the key was valid, and (when the
/// log sent one) an inclusion proof up to a checkpoint the log signed.
pub fn check_v1_entry<'a>(
    entry: &TransparencyLogEntry,
    logs: &'a [TransparencyLog],
    expected: &LoggedEntry,
) -> Result<&'a TransparencyLog, EntryRejected> {
    let log = logs
        .iter()
        .find(|l| l.log_id == entry.log_id)
        .ok_or_else(|| {
            reject(
                "log",
                format!(
                    "log ID {} is not a Rekor log of the trusted root",
                    entry.log_id_hex()
                ),
            )
        })?;
    check_body(entry, expected)?;
    let key = log
        .public_key
        .to_public_key()
        .map_err(|e| reject("log key", e))?;
    let set = entry
        .inclusion_promise
        .as_deref()
        .ok_or_else(|| reject("signed entry timestamp", "the log sent none"))?;
    let log_id: [u8; 32] = entry
        .log_id
        .as_slice()
        .try_into()
        .map_err(|_| reject("log", "a Rekor v1 log ID is 32 bytes"))?;
    let log_index = i64::try_from(entry.log_index)
        .map_err(|_| reject("signed entry timestamp", "log index out of range"))?;
    SetPayload {
        body: entry.canonicalized_body.clone(),
        integrated_time: entry.integrated_time,
        log_id,
        log_index,
    }
    .verify(set, &key)
    .map_err(|e| reject("signed entry timestamp", e))?;
    if let Some(window) = log.public_key.valid_for() {
        let at = jiff::Timestamp::from_second(entry.integrated_time)
            .map_err(|e| reject("integrated time", e))?;
        if !window.contains(at) {
            return Err(reject(
                "integrated time",
                format!("{at} is outside the log key's validity"),
            ));
        }
    }
    if let Some(proof) = &entry.inclusion_proof {
        let verifier = RekorV1CheckpointVerifier::new(key).map_err(|e| reject("checkpoint", e))?;
        let signed = verifier
            .verify(proof.checkpoint.as_bytes())
            .map_err(|e| reject("checkpoint", e))?;
        check_proof(entry, &signed)?;
    }
    Ok(log)
}

/// Checks a Rekor v2 answer: a trusted log, the proposed body, and an
/// inclusion proof up to a C2SP checkpoint the log signed (its origin is the
/// host of the log's URL, as sigstore-go expects).
pub fn check_v2_entry<'a>(
    entry: &TransparencyLogEntry,
    logs: &'a [TransparencyLog],
    expected: &LoggedEntry,
) -> Result<&'a TransparencyLog, EntryRejected> {
    let log = logs
        .iter()
        .find(|l| l.log_id == entry.log_id || l.checkpoint_key_id.as_ref() == Some(&entry.log_id))
        .ok_or_else(|| {
            reject(
                "log",
                format!(
                    "log ID {} is not a Rekor log of the trusted root",
                    entry.log_id_hex()
                ),
            )
        })?;
    check_body(entry, expected)?;
    let key = log
        .public_key
        .to_public_key()
        .map_err(|e| reject("log key", e))?;
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| reject("inclusion proof", "the log sent none"))?;
    let url = url::Url::parse(&log.base_url).map_err(|e| reject("log", e))?;
    let host = url
        .host_str()
        .ok_or_else(|| reject("log", "the trusted log's URL has no host"))?;
    // sigstore-go names the checkpoint key after the URL's host; a log on a
    // non-default port may put the port in its origin too.
    let mut origins = vec![host.to_owned()];
    if let Some(port) = url.port() {
        origins.push(format!("{host}:{port}"));
    }
    let mut first_error = None;
    for origin in origins {
        let verified = CheckpointVerifier::for_log_key(&origin, key.clone())
            .and_then(|v| v.verify(proof.checkpoint.as_bytes()));
        match verified {
            Ok(signed) => {
                check_proof(entry, &signed)?;
                return Ok(log);
            }
            Err(e) => {
                if first_error.is_none() || !matches!(e, TlogError::OriginMismatch { .. }) {
                    first_error = Some(e);
                }
            }
        }
    }
    Err(reject(
        "checkpoint",
        first_error.map_or_else(|| "not verified".to_owned(), |e| e.to_string()),
    ))
}

fn check_body(entry: &TransparencyLogEntry, expected: &LoggedEntry) -> Result<(), EntryRejected> {
    let logged =
        LoggedEntry::parse(&entry.canonicalized_body).map_err(|e| reject("entry body", e))?;
    let ours = expected
        .canonical_body()
        .map_err(|e| reject("entry body", e))?;
    let theirs = logged
        .canonical_body()
        .map_err(|e| reject("entry body", e))?;
    if ours != theirs {
        return Err(reject(
            "entry body",
            "the logged entry is not the one proposed",
        ));
    }
    Ok(())
}

fn check_proof(
    entry: &TransparencyLogEntry,
    signed: &SignedCheckpoint,
) -> Result<(), EntryRejected> {
    let Some(proof) = &entry.inclusion_proof else {
        return Ok(());
    };
    let root = Hash(proof.root_hash);
    if *signed.checkpoint.root_hash() != root || signed.checkpoint.size() != proof.tree_size {
        return Err(reject(
            "checkpoint",
            format!(
                "the checkpoint is for tree size {} with root {}, the proof for size {} with root {}",
                signed.checkpoint.size(),
                signed.checkpoint.root_hash(),
                proof.tree_size,
                root
            ),
        ));
    }
    let hashes: Vec<Hash> = proof.hashes.iter().map(|h| Hash(*h)).collect();
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        proof.log_index,
        proof.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| reject("inclusion proof", e))
}
