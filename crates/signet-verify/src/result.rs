//! What a verification established, as a record rather than a boolean:
//! who signed, which log entries and timestamps vouch for when, and what was
//! set aside. Serializable, for `--output json` and for services.

use std::time::SystemTime;

use signet_pki::profile::{CiClaims, FulcioCertificate, SubjectAltName};
use signet_pki::time::{rfc3339, unix_seconds};

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Signer {
    /// A trusted key.
    Key {
        /// The key's name (`cosign.pub`, `hashivault://release`).
        key: String,
    },
    /// A certificate from a trusted Fulcio CA.
    Certificate(Box<CertificateSigner>),
}

impl Signer {
    /// A short name for messages: the key's name, or the certificate's
    /// identity.
    pub fn name(&self) -> &str {
        match self {
            Self::Key { key } => key,
            Self::Certificate(c) => &c.subject,
        }
    }
}

/// The signer of a keyless signature, read from its certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSigner {
    /// The identity: the first email, URI or username SAN.
    pub subject: String,
    /// Every subject alternative name, typed.
    pub subject_alternative_names: Vec<SubjectAltName>,
    /// The OIDC issuer (extension .8, else .1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The CI claims (extensions .2–.6, .9–.24) the certificate carries.
    pub claims: CiClaims,
    /// The certificate's serial number, hex.
    pub serial: String,
    /// `notBefore`, RFC 3339.
    pub not_before: String,
    /// `notAfter`, RFC 3339.
    pub not_after: String,
    /// The trusted CA the chain led to (its URL in the trusted root).
    pub certificate_authority: String,
    /// The leaf certificate, DER (not serialized; for cosign's output).
    #[serde(skip)]
    pub certificate_der: Vec<u8>,
}

impl CertificateSigner {
    pub(crate) fn new(cert: &FulcioCertificate, der: &[u8], certificate_authority: &str) -> Self {
        Self {
            subject: cert
                .identity()
                .map(|s| s.value().to_owned())
                .unwrap_or_default(),
            subject_alternative_names: cert.subject_alternative_names.clone(),
            issuer: cert.issuer.clone(),
            claims: cert.claims.clone(),
            serial: cert.serial.clone(),
            not_before: rfc3339(cert.not_before),
            not_after: rfc3339(cert.not_after),
            certificate_authority: certificate_authority.to_owned(),
            certificate_der: der.to_vec(),
        }
    }
}

/// A transparency-log entry that verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedLogEntry {
    /// The log's URL.
    pub log_url: String,
    /// The log ID, hex.
    pub log_id: String,
    /// The entry's index (for Rekor v1, the global index).
    pub log_index: u64,
    /// Kind and version of the entry body (`hashedrekord/0.0.1`).
    pub kind: String,
    /// When the log integrated the entry (Unix seconds), if the log says
    /// and its signed entry timestamp verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<i64>,
    /// The same, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time_rfc3339: Option<String>,
    /// Whether a signed entry timestamp was verified.
    pub signed_entry_timestamp: bool,
    /// Whether an inclusion proof to a signed checkpoint was verified.
    pub inclusion_proof: bool,
}

/// Where a verified signing time came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TimeSource {
    /// A log's integrated time, vouched for by its signed entry timestamp.
    IntegratedTime {
        /// The log's URL.
        log_url: String,
        /// The entry's index.
        log_index: u64,
    },
    /// An RFC 3161 timestamp.
    SignedTimestamp {
        /// The timestamp authority's URL in the trusted root.
        authority: String,
    },
}

/// A verified time at which the signature existed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedTime {
    /// Where it came from.
    #[serde(flatten)]
    pub source: TimeSource,
    /// The time, RFC 3339.
    pub time: String,
    /// The time, Unix seconds.
    pub unix: i64,
    /// The time itself.
    #[serde(skip)]
    pub at: SystemTime,
}

impl VerifiedTime {
    pub(crate) fn new(source: TimeSource, at: SystemTime) -> Self {
        Self {
            source,
            time: rfc3339(at),
            unix: unix_seconds(at),
            at,
        }
    }
}

/// What a DSSE envelope's in-toto statement says, when the bundle has one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementSummary {
    /// The payload type of the envelope.
    pub payload_type: String,
    /// The statement's predicate type.
    pub predicate_type: String,
}

/// Everything one bundle's verification established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedBundle {
    /// Who signed.
    pub signer: Signer,
    /// The transparency-log entries that verified (empty when the log was
    /// skipped with `--insecure-ignore-tlog`).
    pub tlog_entries: Vec<VerifiedLogEntry>,
    /// The verified signing times the certificate was checked at.
    pub timestamps: Vec<VerifiedTime>,
    /// The CT logs whose SCTs verified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_transparency: Vec<String>,
    /// The in-toto statement, for DSSE bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementSummary>,
    /// Evidence set aside (entries from unknown logs, timestamps that did
    /// not verify, checks skipped on request), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl VerifiedBundle {
    /// The first verified log entry, if any (the one cosign reports).
    pub fn first_log_entry(&self) -> Option<&VerifiedLogEntry> {
        self.tlog_entries.first()
    }
}
