//! Transparency-log evidence, checked offline as sigstore-go checks it.
//!
//! For each entry of a bundle (at most [`MAX_TLOG_ENTRIES`], no two with
//! the same log and index), from a log of the trusted root (others are set
//! aside, not failed):
//!
//! 1. Rekor v1: the signed entry timestamp (SET), if present, verifies under
//!    the log key, at an integrated time inside the key's validity.
//! 2. The inclusion proof, if present (required for Rekor v2 entries), leads
//!    from the leaf (the entry body as the bundle carries it) to the proof's
//!    root, and a checkpoint signed by the log (Rekor v1 signed note; for
//!    Rekor v2 a C2SP signed note named after the host of the log's URL,
//!    cosignatures ignored) commits to that root and tree size.
//! 3. The entry body says what the bundle says: the same signature, by the
//!    same certificate or key, over the same digest (DSSE envelopes by their
//!    payload hash; a Rekor v2 hashedrekord by the hash of the envelope's PAE).
//! 4. The integrated time is not in the future.
//!
//! Entries from distinct logs are counted against the threshold. An
//! integrated time is a signing time only when its SET verified.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use signet_core::bundle::{Bundle, TransparencyLogEntry};
use signet_core::limits::MAX_TLOG_ENTRIES;
use signet_core::rekor::{EntryClaims, LoggedEntry, SubjectClaim};
use signet_pki::time::{from_unix_seconds, rfc3339};
use signet_tlog::checkpoint::{CheckpointVerifier, RekorV1CheckpointVerifier, SignedCheckpoint};
use signet_tlog::proof::verify_inclusion;
use signet_tlog::set::SetPayload;
use signet_tlog::{Hash, TlogError, leaf_hash};

use crate::content::{Signed, SignedFacts};
use crate::error::{Blame, Check, CheckError};
use crate::material::SigningMaterial;
use crate::result::{TimeSource, VerifiedLogEntry, VerifiedTime};
use crate::trust::{RekorLog, TrustMaterial};

/// How far ahead of the verifier's clock an integrated time may be before
/// the entry is refused as being "in the future" (clocks drift).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// What the log entries established.
#[derive(Debug, Default)]
pub(crate) struct LogEvidence {
    pub(crate) entries: Vec<VerifiedLogEntry>,
    /// Integrated times vouched for by a verified SET.
    pub(crate) times: Vec<VerifiedTime>,
    /// Integrated times without a SET: the certificate must still have been
    /// valid then, but they do not count as signing times.
    pub(crate) unverified_times: Vec<SystemTime>,
    pub(crate) notes: Vec<String>,
}

/// Checks every entry of `bundle` and requires `threshold` distinct trusted
/// logs to vouch for it.
pub(crate) fn verify_log_entries(
    trust: &TrustMaterial,
    bundle: &Bundle,
    facts: &SignedFacts<'_>,
    signer: &mut SigningMaterial<'_>,
    threshold: usize,
    now: SystemTime,
) -> Result<LogEvidence, CheckError> {
    if bundle.tlog_entries.len() > MAX_TLOG_ENTRIES {
        return Err(CheckError::malformed(
            Check::TransparencyLog,
            format!(
                "{} entries, more than the limit of {MAX_TLOG_ENTRIES}",
                bundle.tlog_entries.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for entry in &bundle.tlog_entries {
        if !seen.insert((entry.log_id.as_slice(), entry.log_index)) {
            return Err(CheckError::malformed(
                Check::TransparencyLog,
                format!(
                    "the bundle lists entry {} of log {} twice",
                    entry.log_index,
                    entry.log_id_hex()
                ),
            ));
        }
    }
    let mut evidence = LogEvidence::default();
    let mut logs_vouching: HashSet<&[u8]> = HashSet::new();
    for entry in &bundle.tlog_entries {
        let Some(log) = trust.rekor_log(&entry.log_id) else {
            evidence.notes.push(match trust.unusable_log(&entry.log_id) {
                Some(why) => format!("transparency log entry {} set aside: {why}", entry.log_index),
                None => format!(
                    "transparency log entry {} set aside: log ID {} is not a log of the trusted root",
                    entry.log_index,
                    entry.log_id_hex()
                ),
            });
            continue;
        };
        let verified = verify_entry(log, entry, facts, signer, now)?;
        if let Some(at) = verified.verified_time {
            evidence.times.push(VerifiedTime::new(
                TimeSource::IntegratedTime {
                    log_url: log.base_url.clone(),
                    log_index: entry.log_index,
                },
                at,
            ));
        } else if entry.integrated_time != 0 {
            evidence
                .unverified_times
                .push(from_unix_seconds(entry.integrated_time));
        }
        logs_vouching.insert(log.log_id.as_slice());
        evidence.entries.push(verified.record);
    }
    if logs_vouching.len() < threshold {
        let mut message = format!(
            "{} of the {threshold} required entries from distinct trusted logs verified",
            logs_vouching.len()
        );
        if bundle.tlog_entries.is_empty() {
            message.push_str(
                " (the signature has no transparency-log entry; pass --insecure-ignore-tlog only if it was deliberately never logged)",
            );
        } else if !evidence.notes.is_empty() {
            message.push_str(&format!(" ({})", evidence.notes.join("; ")));
        }
        return Err(CheckError::untrusted(Check::TransparencyLog, message));
    }
    Ok(evidence)
}

struct EntryOutcome {
    record: VerifiedLogEntry,
    verified_time: Option<SystemTime>,
}

/// Checks one entry from a trusted log.
fn verify_entry(
    log: &RekorLog,
    entry: &TransparencyLogEntry,
    facts: &SignedFacts<'_>,
    signer: &mut SigningMaterial<'_>,
    now: SystemTime,
) -> Result<EntryOutcome, CheckError> {
    let at = |check: Check, blame: Blame, detail: String| {
        CheckError::new(
            check,
            blame,
            format!("entry {} of {}: {detail}", entry.log_index, log.base_url),
        )
    };
    let body = LoggedEntry::parse(&entry.canonicalized_body)
        .map_err(|e| at(Check::LogEntryBody, Blame::Malformed, e.to_string()))?;
    let (kind, version) = body.kind_version();
    let rekor_v2 = version == "0.0.2" && kind == "hashedrekord";

    // 1. The signed entry timestamp (Rekor v1).
    let mut verified_time = None;
    let set_verified = match (&entry.inclusion_promise, rekor_v2) {
        (Some(set), false) => {
            verify_set(log, entry, set)
                .map_err(|d| at(Check::SignedEntryTimestamp, Blame::Untrusted, d))?;
            true
        }
        _ => false,
    };
    if set_verified {
        let time = from_unix_seconds(entry.integrated_time);
        if !log.valid_for.contains(time) {
            return Err(at(
                Check::SignedEntryTimestamp,
                Blame::Untrusted,
                format!(
                    "integrated at {}, outside the validity of the log's key {}",
                    rfc3339(time),
                    log.valid_for
                ),
            ));
        }
        verified_time = Some(time);
    }

    // 2. The inclusion proof and its checkpoint.
    let proof_verified = match &entry.inclusion_proof {
        Some(_) => {
            verify_proof(log, entry, rekor_v2)?;
            true
        }
        None if rekor_v2 => {
            return Err(at(
                Check::InclusionProof,
                Blame::Malformed,
                "a Rekor v2 entry needs an inclusion proof, and this one has none".into(),
            ));
        }
        None => false,
    };
    if !set_verified && !proof_verified {
        return Err(at(
            Check::TransparencyLog,
            Blame::Malformed,
            "neither a signed entry timestamp nor an inclusion proof".into(),
        ));
    }

    // 3. The body says what the bundle says.
    let claims = body
        .claims()
        .map_err(|e| at(Check::LogEntryBody, Blame::Malformed, e.to_string()))?;
    agree(&claims, facts, signer).map_err(|d| at(Check::LogEntryBody, Blame::Untrusted, d))?;

    // 4. Not in the future.
    if entry.integrated_time != 0 {
        let time = from_unix_seconds(entry.integrated_time);
        if time > now + MAX_CLOCK_SKEW {
            return Err(at(
                Check::IntegratedTime,
                Blame::Untrusted,
                format!(
                    "integrated at {}, in the future (now {})",
                    rfc3339(time),
                    rfc3339(now)
                ),
            ));
        }
    }

    Ok(EntryOutcome {
        record: VerifiedLogEntry {
            log_url: log.base_url.clone(),
            log_id: entry.log_id_hex(),
            log_index: entry.log_index,
            kind: format!("{kind}/{version}"),
            integrated_time: verified_time.map(|_| entry.integrated_time),
            integrated_time_rfc3339: verified_time.map(rfc3339),
            signed_entry_timestamp: set_verified,
            inclusion_proof: proof_verified,
        },
        verified_time,
    })
}

fn verify_set(log: &RekorLog, entry: &TransparencyLogEntry, set: &[u8]) -> Result<(), String> {
    let log_id: [u8; 32] = entry
        .log_id
        .as_slice()
        .try_into()
        .map_err(|_| format!("a Rekor v1 log ID is 32 bytes, not {}", entry.log_id.len()))?;
    let log_index = i64::try_from(entry.log_index)
        .map_err(|_| format!("log index {} is out of range", entry.log_index))?;
    SetPayload {
        body: entry.canonicalized_body.clone(),
        integrated_time: entry.integrated_time,
        log_id,
        log_index,
    }
    .verify(set, &log.key)
    .map_err(|e| match e {
        TlogError::SignedEntryTimestamp { reason, .. } => {
            format!("does not verify with the key of the log ({reason})")
        }
        other => other.to_string(),
    })
}

fn verify_proof(
    log: &RekorLog,
    entry: &TransparencyLogEntry,
    rekor_v2: bool,
) -> Result<(), CheckError> {
    let Some(proof) = &entry.inclusion_proof else {
        return Ok(());
    };
    let at = |check: Check, blame: Blame, detail: String| {
        CheckError::new(
            check,
            blame,
            format!("entry {} of {}: {detail}", entry.log_index, log.base_url),
        )
    };
    let root = Hash(proof.root_hash);
    let hashes: Vec<Hash> = proof.hashes.iter().map(|h| Hash(*h)).collect();
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        proof.log_index,
        proof.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| at(Check::InclusionProof, Blame::Untrusted, e.to_string()))?;

    let signed = verify_checkpoint(log, proof.checkpoint.as_bytes(), rekor_v2)
        .map_err(|e| at(Check::Checkpoint, e.blame_of(), e.to_string()))?;
    if *signed.checkpoint.root_hash() != root || signed.checkpoint.size() != proof.tree_size {
        return Err(at(
            Check::Checkpoint,
            Blame::Untrusted,
            format!(
                "the signed checkpoint is for tree size {} with root {}, but the proof is for tree size {} with root {}",
                signed.checkpoint.size(),
                signed.checkpoint.root_hash(),
                proof.tree_size,
                root
            ),
        ));
    }
    Ok(())
}

trait BlameOf {
    fn blame_of(&self) -> Blame;
}

impl BlameOf for TlogError {
    fn blame_of(&self) -> Blame {
        match self.blame() {
            signet_tlog::Blame::Input => Blame::Malformed,
            _ => Blame::Untrusted,
        }
    }
}

fn verify_checkpoint(
    log: &RekorLog,
    note: &[u8],
    rekor_v2: bool,
) -> Result<SignedCheckpoint, TlogError> {
    if !rekor_v2 {
        return RekorV1CheckpointVerifier::new(log.key.clone())?.verify(note);
    }
    let mut first_error = None;
    for origin in log.checkpoint_origins() {
        match CheckpointVerifier::for_log_key(&origin, log.key.clone()).and_then(|v| v.verify(note))
        {
            Ok(signed) => return Ok(signed),
            Err(e) => {
                // A mismatch on the first name says less than any other error.
                if first_error.is_none()
                    || matches!(first_error, Some(TlogError::OriginMismatch { .. }))
                {
                    first_error = Some(e);
                }
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        TlogError::Misuse(format!(
            "the trusted log's URL {:?} has no host to name its checkpoints",
            log.base_url
        ))
    }))
}

/// Compares what an entry records with what the bundle carries.
fn agree(
    claims: &EntryClaims,
    facts: &SignedFacts<'_>,
    signer: &mut SigningMaterial<'_>,
) -> Result<(), String> {
    match (&claims.subject, &facts.signed) {
        (SubjectClaim::ArtifactDigest(logged), Signed::Message { digest }) => {
            if logged != *digest {
                return Err(format!(
                    "it is for digest {}:{}, but the bundle signs {}:{}",
                    logged.algorithm(),
                    hex::encode(logged.digest()),
                    digest.algorithm(),
                    hex::encode(digest.digest())
                ));
            }
        }
        (SubjectClaim::ArtifactDigest(logged), Signed::Dsse { pae_sha256, .. }) => {
            if logged != pae_sha256 {
                return Err(format!(
                    "it is for digest {}, but the DSSE envelope's PAE hashes to {}",
                    hex::encode(logged.digest()),
                    hex::encode(pae_sha256.digest())
                ));
            }
        }
        (SubjectClaim::Envelope { payload_hash, .. }, Signed::Dsse { payload_sha256, .. }) => {
            match payload_hash {
                Some(logged) if logged == payload_sha256 => {}
                Some(logged) => {
                    return Err(format!(
                        "it records payload hash {}, but the DSSE payload hashes to {}",
                        hex::encode(logged.digest()),
                        hex::encode(payload_sha256.digest())
                    ));
                }
                None => {
                    return Err("it records no payload hash to compare with the envelope".into());
                }
            }
        }
        (SubjectClaim::Envelope { .. }, Signed::Message { .. }) => {
            return Err(
                "it records a DSSE envelope, but the bundle has a message signature".into(),
            );
        }
    }
    if claims.signatures.is_empty() {
        return Err("it records no signature".into());
    }
    let Some(claim) = claims
        .signatures
        .iter()
        .find(|c| c.signature == facts.signature)
    else {
        return Err("the signature it records differs from the bundle's signature".into());
    };
    signer.agree_with(&claim.verifier)
}
