//! The errors of verification, split by blame: a verifier that cannot be
//! built ([`ConfigError`], the caller), one check that failed on one
//! signature ([`CheckError`], the evidence or the policy), and the outcome
//! for an image or blob ([`VerifyError`]).

use std::fmt;

use signet_core::Digest;
use thiserror::Error;

/// A verifier that cannot be built. The caller is to blame.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Nothing to verify against: no key and no certificate authority.
    #[error(
        "no trust material: give at least one --key, or a trusted root with Fulcio certificate authorities"
    )]
    NoTrustMaterial,
    /// Transparency-log evidence is required but no log is trusted.
    #[error(
        "transparency log: {required} log entries are required but the trusted root lists no Rekor log; give a trusted root with its logs (--trusted-root, SIGSTORE_REKOR_PUBLIC_KEY) or pass --insecure-ignore-tlog"
    )]
    NoTrustedLogs {
        /// The threshold asked for.
        required: usize,
    },
    /// Signed timestamps are required but no timestamp authority is trusted.
    #[error(
        "signed timestamps: {required} are required but the trusted root lists no timestamp authority; give one (--trusted-root, SIGSTORE_TSA_CERTIFICATE_FILE, --timestamp-certificate-chain)"
    )]
    NoTimestampAuthorities {
        /// The threshold asked for.
        required: usize,
    },
}

/// Who is to blame for a failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Blame {
    /// The evidence does not parse or is not what it claims to be.
    Malformed,
    /// Well-formed evidence that does not verify against the trust material.
    Untrusted,
    /// Evidence that verifies but does not satisfy the caller's policy.
    Policy,
}

/// The checks of a verification, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Check {
    /// The bundle's certificates: no root of its own, a parseable leaf.
    BundleCertificates,
    /// Transparency-log entries: trusted logs, thresholds, duplicates.
    TransparencyLog,
    /// The signed entry timestamp (Rekor v1 inclusion promise).
    SignedEntryTimestamp,
    /// The Merkle inclusion proof.
    InclusionProof,
    /// The signed checkpoint the proof leads to.
    Checkpoint,
    /// The entry body against the bundle (signature, key, digest).
    LogEntryBody,
    /// When the log integrated the entry.
    IntegratedTime,
    /// RFC 3161 timestamps.
    SignedTimestamp,
    /// A verified signing time to check the certificate at.
    SigningTime,
    /// The certificate chain to a trusted Fulcio CA.
    CertificateChain,
    /// Embedded certificate-transparency SCTs.
    CertificateTransparency,
    /// The signing key: trusted, and valid when it signed.
    SigningKey,
    /// A certificate, where a certificate identity is asked for.
    SigningCertificate,
    /// The signature over the artifact, its digest or the DSSE envelope.
    Signature,
    /// The artifact the signature covers.
    ArtifactDigest,
    /// The certificate's subject alternative name.
    CertificateIdentity,
    /// The certificate's OIDC issuer (extensions .1/.8).
    CertificateIssuer,
    /// A CI claim of the certificate (extensions .2–.6).
    CertificateClaim,
    /// What the caller's policy asks (a certificate, an identity).
    Policy,
}

impl Check {
    /// The check's name as messages begin with it.
    pub fn name(self) -> &'static str {
        match self {
            Self::BundleCertificates => "bundle certificates",
            Self::TransparencyLog => "transparency log",
            Self::SignedEntryTimestamp => "signed entry timestamp",
            Self::InclusionProof => "inclusion proof",
            Self::Checkpoint => "checkpoint",
            Self::LogEntryBody => "transparency log entry",
            Self::IntegratedTime => "integrated time",
            Self::SignedTimestamp => "signed timestamp",
            Self::SigningTime => "signing time",
            Self::CertificateChain => "certificate chain",
            Self::CertificateTransparency => "certificate transparency",
            Self::SigningKey => "signing key",
            Self::SigningCertificate => "signing certificate",
            Self::Signature => "signature",
            Self::ArtifactDigest => "artifact digest",
            Self::CertificateIdentity => "certificate identity",
            Self::CertificateIssuer => "certificate issuer",
            Self::CertificateClaim => "certificate claim",
            Self::Policy => "policy",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One check that failed on one signature. The message begins with the
/// check's name and shows the expected and actual values.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize)]
#[error("{message}")]
pub struct CheckError {
    /// Which check failed.
    pub check: Check,
    /// Who is to blame.
    pub blame: Blame,
    /// The one-line message.
    pub message: String,
}

impl CheckError {
    /// `"<check>: <detail>"`.
    pub fn new(check: Check, blame: Blame, detail: impl fmt::Display) -> Self {
        Self {
            check,
            blame,
            message: format!("{}: {detail}", check.name()),
        }
    }

    /// `"<check> <rest>"`, for messages that read as one sentence
    /// (`certificate identity "a" does not match --certificate-identity "b"`).
    pub fn sentence(check: Check, blame: Blame, rest: impl fmt::Display) -> Self {
        Self {
            check,
            blame,
            message: format!("{} {rest}", check.name()),
        }
    }

    pub(crate) fn untrusted(check: Check, detail: impl fmt::Display) -> Self {
        Self::new(check, Blame::Untrusted, detail)
    }

    pub(crate) fn malformed(check: Check, detail: impl fmt::Display) -> Self {
        Self::new(check, Blame::Malformed, detail)
    }

    pub(crate) fn policy(check: Check, detail: impl fmt::Display) -> Self {
        Self::new(check, Blame::Policy, detail)
    }
}

/// Why one signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// Where the signature came from (`layer 2 of …:sha256-….sig`).
    pub origin: String,
    /// What failed, naming expected and actual values.
    pub reason: String,
    /// The check that failed, when one did (a layer that could not even be
    /// read has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
}

impl Rejection {
    /// A rejection for a failed check.
    pub fn failed(origin: impl Into<String>, error: CheckError) -> Self {
        Self {
            origin: origin.into(),
            reason: error.message,
            check: Some(error.check),
        }
    }

    /// A rejection with a reason and no particular check.
    pub fn other(origin: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            reason: reason.into(),
            check: None,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// Verification failed. Each variant is a distinct outcome a caller (and an
/// exit code) can act on.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The image has no signatures at all.
    #[error("no signatures found for {digest}")]
    NoSignatures {
        /// The image digest.
        digest: Digest,
    },
    /// Signatures exist, but none satisfies the trust material and the policy.
    #[error("no matching signatures for {digest}: {}", summarize(rejections))]
    NoMatchingSignature {
        /// The image (or blob) digest.
        digest: Digest,
        /// Why each candidate was rejected.
        rejections: Vec<Rejection>,
    },
    /// A certificate identity was asked for, but no signature carries a
    /// certificate (cosign's exit code 13).
    #[error(
        "no certificate found on the signatures of {digest}: {}",
        summarize(rejections)
    )]
    NoCertificate {
        /// The image (or blob) digest.
        digest: Digest,
        /// Why each candidate was rejected.
        rejections: Vec<Rejection>,
    },
}

fn summarize(rejections: &[Rejection]) -> String {
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = rejections
        .iter()
        .take(SHOWN)
        .map(|r| r.to_string())
        .collect();
    if rejections.len() > SHOWN {
        parts.push(format!("and {} more", rejections.len() - SHOWN));
    }
    parts.join("; ")
}
