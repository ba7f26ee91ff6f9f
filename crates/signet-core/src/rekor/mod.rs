//! Rekor entry kinds: what a client proposes, what the log records (the
//! RFC 8785 canonical body, which is the Merkle leaf), and what a verifier
//! compares with a bundle.
//!
//! | kind | version | log | module |
//! |---|---|---|---|
//! | `hashedrekord` | 0.0.1 | Rekor v1 | [`HashedRekordV001`] |
//! | `hashedrekord` | 0.0.2 | Rekor v2 | [`HashedRekordV002`] |
//! | `dsse` | 0.0.1 | Rekor v1 | [`DsseV001`] |
//! | `intoto` | 0.0.1, 0.0.2 | Rekor v1 | [`IntotoV001`], [`IntotoV002`] |
//! | `rekord` | 0.0.1 (logged entries only) | Rekor v1 | [`RekordV001`] |

mod claims;
mod data_hash;
mod dsse_kind;
mod hashedrekord;
mod intoto_kind;
mod pem;
mod rekord_kind;

use serde::Deserialize;
use serde_json::Value;

pub use claims::{EntryClaims, EntryVerifier, SignatureClaim, SubjectClaim};
pub use dsse_kind::{DsseSignatureV001, DsseV001};
pub use hashedrekord::{HashedRekordV001, HashedRekordV002, V002Verifier};
pub use intoto_kind::{IntotoSignatureV002, IntotoV001, IntotoV002};
pub use rekord_kind::RekordV001;

use intoto_kind::IntotoProposal;

use crate::error::FormatError;
use crate::jcs;
use crate::limits::MAX_REKOR_ENTRY_BYTES;

const WHAT: &str = "Rekor entry";

/// An entry of a kind and version signet understands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoggedEntry {
    /// `hashedrekord` 0.0.1.
    HashedRekordV001(HashedRekordV001),
    /// `hashedrekord` 0.0.2.
    HashedRekordV002(HashedRekordV002),
    /// `dsse` 0.0.1.
    DsseV001(DsseV001),
    /// `intoto` 0.0.1.
    IntotoV001(IntotoV001),
    /// `intoto` 0.0.2.
    IntotoV002(IntotoV002),
    /// `rekord` 0.0.1 (logged entries of old cosign signatures).
    RekordV001(RekordV001),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    spec: Option<Value>,
}

fn read_envelope(bytes: &[u8]) -> Result<Envelope, FormatError> {
    if bytes.len() > MAX_REKOR_ENTRY_BYTES {
        return Err(FormatError::TooLarge {
            what: WHAT,
            size: bytes.len(),
            limit: MAX_REKOR_ENTRY_BYTES,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))
}

/// The `kind` and `apiVersion` of an entry body.
pub fn body_kind_version(body: &[u8]) -> Result<(String, String), FormatError> {
    let e = read_envelope(body)?;
    if e.kind.is_empty() || e.api_version.is_empty() {
        return Err(FormatError::malformed(
            WHAT,
            "entry body has no kind or apiVersion",
        ));
    }
    Ok((e.kind, e.api_version))
}

impl LoggedEntry {
    /// Reads a logged entry body (a bundle's `canonicalizedBody`, a Rekor v1
    /// response's `body`). Bodies are parsed, not trusted: a verifier that
    /// needs the leaf hashes the original bytes, and can compare them with
    /// [`Self::canonical_body`].
    pub fn parse(body: &[u8]) -> Result<Self, FormatError> {
        let e = read_envelope(body)?;
        let spec = e
            .spec
            .ok_or_else(|| FormatError::malformed(WHAT, "entry has no spec"))?;
        Self::from_parts(&e.kind, &e.api_version, spec, Origin::Logged)
    }

    fn from_parts(
        kind: &str,
        version: &str,
        spec: Value,
        origin: Origin,
    ) -> Result<Self, FormatError> {
        Ok(match (kind, version) {
            ("hashedrekord", "0.0.1") => Self::HashedRekordV001(HashedRekordV001::from_spec(spec)?),
            ("hashedrekord", "0.0.2") if origin == Origin::Logged => {
                let inner = match spec {
                    Value::Object(mut m) => m.remove("hashedRekordV002"),
                    _ => None,
                }
                .ok_or_else(|| FormatError::malformed(WHAT, "spec has no hashedRekordV002"))?;
                Self::HashedRekordV002(HashedRekordV002::from_logged_spec(inner)?)
            }
            ("dsse", "0.0.1") => Self::DsseV001(DsseV001::from_spec(spec)?),
            ("intoto", "0.0.1") => Self::IntotoV001(IntotoV001::from_spec(spec)?),
            ("intoto", "0.0.2") => Self::IntotoV002(IntotoV002::from_spec(spec)?),
            ("rekord", "0.0.1") if origin == Origin::Logged => {
                Self::RekordV001(RekordV001::from_spec(spec)?)
            }
            (kind, version) => {
                return Err(FormatError::malformed(
                    WHAT,
                    format!(
                        "unsupported entry kind {}/{}",
                        crate::digest::truncate(kind),
                        crate::digest::truncate(version)
                    ),
                ));
            }
        })
    }

    /// The kind and API version.
    pub fn kind_version(&self) -> (&'static str, &'static str) {
        match self {
            Self::HashedRekordV001(_) => ("hashedrekord", "0.0.1"),
            Self::HashedRekordV002(_) => ("hashedrekord", "0.0.2"),
            Self::DsseV001(_) => ("dsse", "0.0.1"),
            Self::IntotoV001(_) => ("intoto", "0.0.1"),
            Self::IntotoV002(_) => ("intoto", "0.0.2"),
            Self::RekordV001(_) => ("rekord", "0.0.1"),
        }
    }

    /// The canonical body the log hashes into its tree, exactly as Rekor
    /// (v1: `types.CanonicalizeEntry`; v2: protojson then RFC 8785) makes it.
    pub fn canonical_body(&self) -> Result<Vec<u8>, FormatError> {
        let value = match self {
            Self::HashedRekordV001(e) => e.canonical_value()?,
            Self::HashedRekordV002(e) => e.canonical_value(),
            Self::DsseV001(e) => e.canonical_value(),
            Self::IntotoV001(e) => e.canonical_value(),
            Self::IntotoV002(e) => e.canonical_value(),
            Self::RekordV001(e) => e.canonical_value(),
        };
        jcs::canonicalize(&value)
    }

    /// What the entry asserts: signatures with their keys or certificates,
    /// and the digest or payload hash they cover.
    pub fn claims(&self) -> Result<EntryClaims, FormatError> {
        match self {
            Self::HashedRekordV001(e) => e.claims(),
            Self::HashedRekordV002(e) => Ok(e.claims()),
            Self::DsseV001(e) => e.claims(),
            Self::IntotoV001(e) => Ok(e.claims()),
            Self::IntotoV002(e) => e.claims(),
            Self::RekordV001(e) => e.claims(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Logged,
    Proposed,
}

/// An entry as a client proposes it, checked and turned into what the log
/// will record. Rekor v1 requests are `{"kind","apiVersion","spec"}`; Rekor
/// v2 requests are `{"hashedRekordRequestV002":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedEntry {
    entry: LoggedEntry,
    /// An intoto proposal's envelope, for [`Self::verify_signatures`] (the
    /// logged entry keeps only its hashes).
    intoto: Option<IntotoProposal>,
}

impl ProposedEntry {
    /// Reads a Rekor v1 `POST /api/v1/log/entries` body.
    pub fn parse_v1(bytes: &[u8]) -> Result<Self, FormatError> {
        let e = read_envelope(bytes)?;
        let spec = e
            .spec
            .ok_or_else(|| FormatError::malformed(WHAT, "entry has no spec"))?;
        if e.kind == "hashedrekord" && e.api_version == "0.0.2" {
            return Err(FormatError::malformed(
                WHAT,
                "hashedrekord 0.0.2 is a Rekor v2 entry; send it to /api/v2/log/entries",
            ));
        }
        let intoto = match (e.kind.as_str(), e.api_version.as_str()) {
            ("intoto", "0.0.1") => Some(IntotoProposal::from_v001_spec(&spec)?),
            ("intoto", "0.0.2") => Some(IntotoProposal::from_v002_spec(&spec)?),
            _ => None,
        };
        Ok(Self {
            entry: LoggedEntry::from_parts(&e.kind, &e.api_version, spec, Origin::Proposed)?,
            intoto,
        })
    }

    /// Reads a Rekor v2 `POST /api/v2/log/entries` body. Only
    /// `hashedRekordRequestV002` is accepted (Rekor v2 dropped DSSE); unknown
    /// fields are refused, as rekor-tiles does.
    pub fn parse_v2(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_REKOR_ENTRY_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_REKOR_ENTRY_BYTES,
            });
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        let Value::Object(mut map) = value else {
            return Err(FormatError::malformed(WHAT, "request is not a JSON object"));
        };
        let request = map.remove("hashedRekordRequestV002");
        if let Some(other) = map.keys().next() {
            return Err(FormatError::malformed(
                WHAT,
                if other == "dsseRequestV002" {
                    "invalid type, must be hashedrekord".to_owned()
                } else {
                    format!("unknown field {:?}", crate::digest::truncate(other))
                },
            ));
        }
        let request =
            request.ok_or_else(|| FormatError::malformed(WHAT, "no hashedRekordRequestV002"))?;
        Ok(Self {
            entry: LoggedEntry::HashedRekordV002(HashedRekordV002::from_request(request)?),
            intoto: None,
        })
    }

    /// Checks the proposal's signatures as Rekor does before logging it.
    /// hashedrekord signatures are checked here (SHA-256 digests, ECDSA and
    /// RSA keys); dsse proposals were already checked when read (every
    /// signature must verify under a verifier to be logged); intoto
    /// envelopes are checked here over their PAE (0.0.1: a signature
    /// verifies with the entry's key; 0.0.2: every signature verifies with
    /// one of the keys given beside the signatures).
    pub fn verify_signatures(&self) -> Result<(), FormatError> {
        match &self.entry {
            LoggedEntry::HashedRekordV001(e) => e.verify_signature(),
            LoggedEntry::HashedRekordV002(e) => e.verify_signature(),
            LoggedEntry::DsseV001(_) => Ok(()),
            LoggedEntry::IntotoV001(_) | LoggedEntry::IntotoV002(_) => match &self.intoto {
                Some(envelope) => envelope.verify(),
                None => Err(FormatError::malformed(WHAT, "intoto entry has no envelope")),
            },
            LoggedEntry::RekordV001(_) => Err(FormatError::malformed(
                WHAT,
                "rekord proposals are not accepted; use hashedrekord",
            )),
        }
    }

    /// The entry the log records.
    pub fn entry(&self) -> &LoggedEntry {
        &self.entry
    }

    /// The canonical body (the Merkle leaf).
    pub fn canonical_body(&self) -> Result<Vec<u8>, FormatError> {
        self.entry.canonical_body()
    }
}

#[cfg(test)]
mod tests;
