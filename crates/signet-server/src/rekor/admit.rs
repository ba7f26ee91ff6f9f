//! What happens to a proposed entry before anything is logged, as Rekor
//! does it: the request is read (capped), parsed strictly, its signatures
//! are verified (hashedrekord over the digest with its key or certificate,
//! dsse and intoto envelopes over their PAE), and it is turned into the
//! canonical body that becomes the Merkle leaf. Anything that fails is a
//! 400 with the reason, and the log never sees it.

use axum::http::StatusCode;
use signet_core::rekor::{LoggedEntry, ProposedEntry};
use signet_log::{LogError, PendingEntry};

use crate::api::ApiError;

/// Largest Rekor v1 request body: an intoto or dsse proposal carries the
/// whole envelope (the log keeps only its hashes).
pub const MAX_V1_REQUEST: usize = signet_core::limits::MAX_REKOR_ENTRY_BYTES;
/// Largest Rekor v2 request body: one hashedrekord with a key or certificate.
pub const MAX_V2_REQUEST: usize = 128 << 10;
/// Largest canonical body the logs accept (entry bundles use a uint16 length).
pub const MAX_LEAF: usize = signet_tlog::tile::MAX_BUNDLE_ENTRY;

/// A proposal that passed every check.
#[derive(Debug)]
pub struct Admitted {
    /// What the log appends.
    pub entry: PendingEntry,
    /// The entry's kind and version.
    pub kind_version: (&'static str, &'static str),
}

/// Why a proposal was refused, for the refusal metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The body could not be read or is larger than the endpoint accepts.
    Body,
    /// The JSON is not an entry of a supported kind.
    Malformed,
    /// A signature does not verify.
    Signature,
    /// The canonical body is larger than a log entry may be.
    TooLarge,
}

impl Refusal {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Malformed => "malformed",
            Self::Signature => "signature",
            Self::TooLarge => "too-large",
        }
    }
}

/// A refusal and its answer.
#[derive(Debug)]
pub struct Refused {
    /// Why, for the metric.
    pub reason: Refusal,
    /// What the client is told.
    pub error: ApiError,
}

fn refuse(reason: Refusal, message: impl Into<String>) -> Refused {
    Refused {
        reason,
        error: ApiError::bad_request(message),
    }
}

/// Reads a request body of at most `limit` bytes. A body over the limit is
/// refused with 400 and the sizes, as Rekor refuses an unreadable entry.
pub async fn read_request(body: axum::body::Body, limit: usize) -> Result<Vec<u8>, Refused> {
    match crate::api::read_body(body, limit).await {
        Ok(b) => Ok(b.to_vec()),
        Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => Err(refuse(
            Refusal::Body,
            format!("entry request larger than {limit} bytes, the limit for this endpoint"),
        )),
        Err(e) => Err(Refused {
            reason: Refusal::Body,
            error: e,
        }),
    }
}

/// Checks a Rekor v1 `POST /api/v1/log/entries` body (hashedrekord 0.0.1,
/// dsse 0.0.1, intoto 0.0.1 and 0.0.2).
pub fn admit_v1(bytes: &[u8]) -> Result<Admitted, Refused> {
    let proposal = ProposedEntry::parse_v1(bytes)
        .map_err(|e| refuse(Refusal::Malformed, format!("invalid entry: {e}")))?;
    admit(proposal)
}

/// Checks a Rekor v2 `POST /api/v2/log/entries` body
/// (`hashedRekordRequestV002`, unknown fields refused).
pub fn admit_v2(bytes: &[u8]) -> Result<Admitted, Refused> {
    let proposal = ProposedEntry::parse_v2(bytes)
        .map_err(|e| refuse(Refusal::Malformed, format!("invalid entry: {e}")))?;
    admit(proposal)
}

fn admit(proposal: ProposedEntry) -> Result<Admitted, Refused> {
    proposal.verify_signatures().map_err(|e| {
        refuse(
            Refusal::Signature,
            format!("entry signature does not verify: {e}"),
        )
    })?;
    let body = proposal
        .canonical_body()
        .map_err(|e| refuse(Refusal::Malformed, format!("invalid entry: {e}")))?;
    if body.len() > MAX_LEAF {
        return Err(refuse(
            Refusal::TooLarge,
            format!(
                "the entry's canonical body is {} bytes, larger than the limit of {MAX_LEAF} bytes",
                body.len()
            ),
        ));
    }
    Ok(Admitted {
        kind_version: proposal.entry().kind_version(),
        entry: PendingEntry::new(body),
    })
}

/// The kind and version of a logged body, for responses (`hashedrekord`,
/// `0.0.1`), or `None` when the body is not an entry signet reads.
pub fn logged_kind(body: &[u8]) -> Option<(&'static str, &'static str)> {
    LoggedEntry::parse(body).ok().map(|e| e.kind_version())
}

/// The answer to a failed append or read.
pub fn log_error(e: LogError) -> ApiError {
    match e {
        LogError::EntryTooLarge { .. } | LogError::Misuse(_) => {
            ApiError::bad_request(e.to_string())
        }
        LogError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
        LogError::Storage(_) | LogError::Closed => {
            ApiError::unavailable(format!("the transparency log is unavailable: {e}"))
                .retry_after(1)
        }
        _ => ApiError::internal(format!("the transparency log failed: {e}")),
    }
}
