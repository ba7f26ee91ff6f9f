//! Errors, one enum per concept and split by blame: bytes that do not parse
//! ([`DecodeError`]), certificates that do not chain ([`ChainError`]), SCTs
//! that do not verify ([`SctError`]), timestamps that do not verify
//! ([`TimestampError`]), and failures while producing certificates, SCTs or
//! timestamps ([`IssueError`]).
//!
//! Messages are one line, lowercase, and name the failed check with the
//! expected and actual values.

use thiserror::Error;

/// Bytes that are not the structure they claim to be. The input is to blame.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not parse.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// More bytes than signet reads for this structure.
    #[error("{what} is {size} bytes, larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More items than signet reads for this structure.
    #[error("{what} has more than {limit} entries")]
    TooMany {
        /// What was being read.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// Well-formed, but of a kind signet does not handle.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// What was being read.
        what: &'static str,
        /// What is unsupported.
        detail: String,
    },
}

impl DecodeError {
    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn unsupported(what: &'static str, detail: impl ToString) -> Self {
        Self::Unsupported {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn check_size(what: &'static str, size: usize, limit: usize) -> Result<(), Self> {
        if size > limit {
            Err(Self::TooLarge { what, size, limit })
        } else {
            Ok(())
        }
    }
}

/// A certificate chain that does not validate. The certificates (or the trust
/// material chosen) are to blame. Each message names the certificate.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// The certificate's validity ended before the signing time.
    #[error("certificate {certificate} expired at {not_after} but signed at {at}")]
    Expired {
        /// The certificate.
        certificate: String,
        /// Its `notAfter`.
        not_after: String,
        /// The time it was checked at.
        at: String,
    },
    /// The certificate's validity starts after the signing time.
    #[error("certificate {certificate} is valid only from {not_before} but signed at {at}")]
    NotYetValid {
        /// The certificate.
        certificate: String,
        /// Its `notBefore`.
        not_before: String,
        /// The time it was checked at.
        at: String,
    },
    /// The trust material restricts this CA to a window that excludes the time.
    #[error("certificate authority {authority} is trusted for {window} but signed at {at}")]
    AuthorityNotValidAt {
        /// The CA (its root certificate).
        authority: String,
        /// The window the trust root gives it.
        window: String,
        /// The time it was checked at.
        at: String,
    },
    /// No trusted certificate is named as this certificate's issuer.
    #[error(
        "certificate {certificate} was issued by {issuer}, which is not a trusted certificate authority"
    )]
    UnknownIssuer {
        /// The certificate.
        certificate: String,
        /// Its issuer name.
        issuer: String,
    },
    /// The issuer's key does not verify the certificate's signature.
    #[error("signature on certificate {certificate} does not verify with the key of {issuer}")]
    BadSignature {
        /// The certificate.
        certificate: String,
        /// The issuer tried.
        issuer: String,
    },
    /// A signature or key algorithm signet does not check.
    #[error("certificate {certificate}: {detail}")]
    UnsupportedAlgorithm {
        /// The certificate.
        certificate: String,
        /// Which algorithm.
        detail: String,
    },
    /// A certificate in the issuer position is not a CA.
    #[error(
        "certificate {certificate} issues certificates but is not a CA (basic constraints CA:TRUE missing)"
    )]
    NotCa {
        /// The certificate.
        certificate: String,
    },
    /// A CA whose key usage does not allow certificate signing.
    #[error("certificate {certificate} issues certificates but its key usage lacks keyCertSign")]
    NoCertSign {
        /// The certificate.
        certificate: String,
    },
    /// A CA's path length constraint is exceeded.
    #[error(
        "certificate {certificate} allows {allowed} intermediate CAs below it but the chain has {actual}"
    )]
    PathLength {
        /// The certificate.
        certificate: String,
        /// Its `pathLenConstraint`.
        allowed: u8,
        /// Intermediates below it in this chain.
        actual: usize,
    },
    /// The extended key usage does not allow the requested use.
    #[error("certificate {certificate} extended key usage {actual} does not allow {required}")]
    ExtendedKeyUsage {
        /// The certificate.
        certificate: String,
        /// What was required.
        required: String,
        /// What the certificate has.
        actual: String,
    },
    /// The leaf's key usage does not allow digital signatures.
    #[error("certificate {certificate} key usage does not include digitalSignature")]
    KeyUsage {
        /// The certificate.
        certificate: String,
    },
    /// A critical extension signet does not process.
    #[error(
        "certificate {certificate} has a critical extension {oid} that signet does not process"
    )]
    UnhandledCriticalExtension {
        /// The certificate.
        certificate: String,
        /// The extension.
        oid: String,
    },
    /// An extension that does not decode.
    #[error("certificate {certificate}: {detail}")]
    MalformedExtension {
        /// The certificate.
        certificate: String,
        /// What was wrong.
        detail: String,
    },
    /// The chain would be longer than signet follows.
    #[error("no chain of at most {limit} certificates leads from {certificate} to a trusted root")]
    TooLong {
        /// The leaf.
        certificate: String,
        /// The limit.
        limit: usize,
    },
    /// No certificate authorities were given.
    #[error("no trusted certificate authorities are configured")]
    NoAuthorities,
    /// A CA chain from the trust material that cannot be used.
    #[error("invalid certificate authority: {0}")]
    InvalidAuthority(String),
}

/// An SCT that is missing, malformed or does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SctError {
    /// The SCT bytes do not parse.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The certificate carries no SCT list extension.
    #[error("certificate {certificate} has no embedded SCTs (extension 1.3.6.1.4.1.11129.2.4.2)")]
    Missing {
        /// The certificate.
        certificate: String,
    },
    /// The SCT names a log that is not trusted.
    #[error("SCT from unknown CT log {log_id} (no trusted CT log has this key ID)")]
    UnknownLog {
        /// Hex log ID (SHA-256 of the log's public key).
        log_id: String,
    },
    /// The log's key does not verify the SCT signature.
    #[error("SCT signature from CT log {log} does not verify over {entry}")]
    BadSignature {
        /// The log.
        log: String,
        /// What was signed (`the precertificate of …`).
        entry: String,
    },
    /// The SCT's time lies outside the window the log's key is trusted for.
    #[error(
        "SCT from CT log {log} has timestamp {timestamp}, outside the log key's validity {window}"
    )]
    OutsideValidity {
        /// The log.
        log: String,
        /// The SCT timestamp.
        timestamp: String,
        /// The window.
        window: String,
    },
    /// Fewer SCTs verified than required.
    #[error("{verified} of the certificate's SCTs verified, {required} required")]
    Threshold {
        /// How many verified.
        verified: usize,
        /// How many were required.
        required: usize,
    },
    /// An SCT signature with an algorithm pair signet does not check.
    #[error(
        "SCT from CT log {log} uses unsupported algorithm (hash {hash}, signature {signature})"
    )]
    UnsupportedAlgorithm {
        /// The log.
        log: String,
        /// TLS `HashAlgorithm`.
        hash: u8,
        /// TLS `SignatureAlgorithm`.
        signature: u8,
    },
}

/// An RFC 3161 timestamp that is malformed, refused or does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampError {
    /// The response or token does not parse.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The TSA refused the request.
    #[error("timestamp authority refused the request: status {status}{detail}")]
    Refused {
        /// The `PKIStatus` value.
        status: i64,
        /// Status text and failure bits, prefixed with ": ", or empty.
        detail: String,
    },
    /// The timestamp covers other data.
    #[error("timestamp is over other data: message imprint {actual}, expected {expected}")]
    ImprintMismatch {
        /// Hex of the hash of the given bytes.
        expected: String,
        /// Hex of the imprint in the token.
        actual: String,
    },
    /// The nonce in the token differs from the request's.
    #[error("timestamp nonce {actual} does not match the request's nonce {expected}")]
    NonceMismatch {
        /// Hex nonce expected.
        expected: String,
        /// Hex nonce found.
        actual: String,
    },
    /// The token's policy differs from the one required.
    #[error("timestamp policy {actual} is not the required policy {expected}")]
    PolicyMismatch {
        /// Policy required.
        expected: String,
        /// Policy found.
        actual: String,
    },
    /// The signed attributes do not bind the token content.
    #[error("timestamp signed attributes: {0}")]
    SignedAttributes(String),
    /// The signing-certificate attribute does not name the signer's certificate.
    #[error(
        "timestamp signing-certificate attribute does not match the signer certificate {certificate}: {detail}"
    )]
    CertificateIdMismatch {
        /// The signer certificate.
        certificate: String,
        /// What differs.
        detail: String,
    },
    /// The signer's certificate could not be found.
    #[error("timestamp signer certificate not found in the token or the trusted TSA chains ({0})")]
    SignerNotFound(String),
    /// The CMS signature does not verify.
    #[error("timestamp signature does not verify with the key of {certificate}")]
    BadSignature {
        /// The signer certificate.
        certificate: String,
    },
    /// The TSA's certificate chain does not validate at the timestamp's time.
    #[error("timestamp authority certificate: {0}")]
    Chain(#[from] ChainError),
    /// No trusted TSA is configured.
    #[error("no trusted timestamp authorities are configured")]
    NoAuthorities,
    /// The TSA's trust window excludes the timestamp.
    #[error("timestamp time {time} is outside the timestamp authority's validity {window}")]
    OutsideValidity {
        /// genTime.
        time: String,
        /// The window.
        window: String,
    },
}

/// A failure while producing a certificate, SCT or timestamp: bad requests,
/// key problems or encoding limits. The caller is to blame.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The key could not sign.
    #[error("signing failed: {0}")]
    Key(#[from] signet_core::KeyError),
    /// The request is not something signet issues.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A value could not be encoded (too long, out of range).
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// The CA's own material is unusable.
    #[error("certificate authority: {0}")]
    Authority(String),
    /// A request that does not parse.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl From<der::Error> for IssueError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}
