//! The keyless signer's certificate: what the bundle may carry, the chain to
//! a trusted Fulcio CA at each verified signing time, and the embedded SCTs.
//!
//! **Roots come from the trusted root only.** Only the leaf of the bundle's
//! material is used; paths are built from the trusted root's CA chains, as
//! sigstore-go builds them. A bundle carrying a self-signed certificate that
//! is not one of the trusted root's own is refused, with its own message,
//! before any chain is built: it is either a bundle from another instance or
//! an attempt to bring its own trust. A bundle that repeats a trusted
//! root's certificate is accepted (the repetition adds no trust): cosign's
//! legacy `dev.sigstore.cosign/chain` annotation always holds the root, and
//! real npm provenance bundles (v0.1/v0.2 chains) include it too, which
//! sigstore-python likewise accepts with a warning.

use std::time::SystemTime;

use signet_pki::certificate::Certificate;
use signet_pki::chain::{KeyPurpose, VerifiedChain, check_validity, verify_chain};
use signet_pki::profile::FulcioCertificate;
use signet_pki::sct::verify_embedded_scts;
use signet_pki::time::rfc3339;

use crate::error::{Blame, Check, CheckError};
use crate::result::VerifiedTime;
use crate::trust::TrustMaterial;

/// Reads the leaf from a bundle's certificates, refusing roots of the
/// bundle's own. Returns the leaf and notes on what was tolerated.
pub(crate) fn bundle_leaf(
    trust: &TrustMaterial,
    chain: &[Vec<u8>],
) -> Result<(Certificate, Vec<String>), CheckError> {
    let Some((leaf_der, rest)) = chain.split_first() else {
        return Err(CheckError::malformed(
            Check::BundleCertificates,
            "the certificate chain is empty",
        ));
    };
    let leaf = Certificate::from_der(leaf_der).map_err(|e| {
        CheckError::malformed(
            Check::BundleCertificates,
            format!("signing certificate: {e}"),
        )
    })?;
    if leaf.is_self_issued() {
        return Err(CheckError::new(
            Check::BundleCertificates,
            Blame::Untrusted,
            format!(
                "the signing certificate {} is a self-signed root, not a leaf issued by a trusted CA",
                leaf.describe()
            ),
        ));
    }
    let mut notes = Vec::new();
    for der in rest {
        let cert = Certificate::from_der(der).map_err(|e| {
            CheckError::malformed(Check::BundleCertificates, format!("chain certificate: {e}"))
        })?;
        if !cert.is_self_issued() {
            continue;
        }
        if trust.is_trusted_ca_certificate(der) {
            notes.push(format!(
                "the bundle repeats the trusted root certificate {}; roots are taken from the trusted root only",
                cert.describe()
            ));
        } else {
            return Err(CheckError::new(
                Check::BundleCertificates,
                Blame::Untrusted,
                format!(
                    "the bundle carries the root certificate {}, which is not a root of the trusted root; a bundle must not bring its own root",
                    cert.describe()
                ),
            ));
        }
    }
    Ok((leaf, notes))
}

/// What the certificate checks established.
#[derive(Debug)]
pub(crate) struct CertificateEvidence {
    pub(crate) profile: FulcioCertificate,
    pub(crate) authority: usize,
    pub(crate) ct_logs: Vec<String>,
}

/// Validates `leaf` at every verified signing time (the "hybrid model":
/// each time a log or TSA vouches for must fall inside the certificate's and
/// the CA's validity), checks that it was valid at the integrated times no
/// SET vouches for, and verifies at least `sct_threshold` embedded SCTs.
pub(crate) fn check_certificate(
    trust: &TrustMaterial,
    leaf: &Certificate,
    times: &[VerifiedTime],
    unverified_times: &[SystemTime],
    sct_threshold: Option<usize>,
) -> Result<CertificateEvidence, CheckError> {
    if trust.fulcio.is_empty() {
        return Err(CheckError::untrusted(
            Check::CertificateChain,
            "the trusted root lists no Fulcio certificate authority (give --trusted-root or SIGSTORE_ROOT_FILE)",
        ));
    }
    let mut first_chain: Option<VerifiedChain> = None;
    for time in times {
        let chain =
            verify_chain(leaf, &trust.fulcio, time.at, KeyPurpose::CodeSigning).map_err(|e| {
                CheckError::untrusted(
                    Check::CertificateChain,
                    format!(
                        "at the signing time {} ({}): {e}",
                        time.time,
                        describe(time)
                    ),
                )
            })?;
        first_chain.get_or_insert(chain);
    }
    let Some(chain) = first_chain else {
        return Err(CheckError::untrusted(
            Check::SigningTime,
            "no verified signing time to check the certificate at: no log entry with a verified signed entry timestamp and no verified RFC 3161 timestamp (the current time is never used)",
        ));
    };
    for at in unverified_times {
        check_validity(leaf, *at).map_err(|e| {
            CheckError::untrusted(
                Check::CertificateChain,
                format!("at the integrated time {}: {e}", rfc3339(*at)),
            )
        })?;
    }
    let mut ct_logs = Vec::new();
    if let Some(required) = sct_threshold {
        if trust.ct_logs.is_empty() {
            return Err(CheckError::untrusted(
                Check::CertificateTransparency,
                "the trusted root lists no CT log to check the certificate's SCTs against (give SIGSTORE_CT_LOG_PUBLIC_KEY_FILE or a trusted root with ctlogs, or pass --insecure-ignore-sct)",
            ));
        }
        let issuer = chain.issuer().ok_or_else(|| {
            CheckError::untrusted(
                Check::CertificateTransparency,
                "the chain has no issuer to check the SCTs with",
            )
        })?;
        let verified = verify_embedded_scts(leaf, issuer, &trust.ct_logs, required)
            .map_err(|e| CheckError::untrusted(Check::CertificateTransparency, e))?;
        ct_logs = verified.into_iter().map(|s| s.log_name).collect();
    }
    let profile = FulcioCertificate::parse(leaf).map_err(|e| {
        CheckError::malformed(
            Check::BundleCertificates,
            format!("signing certificate: {e}"),
        )
    })?;
    Ok(CertificateEvidence {
        profile,
        authority: chain.authority,
        ct_logs,
    })
}

fn describe(time: &VerifiedTime) -> String {
    match &time.source {
        crate::result::TimeSource::IntegratedTime { log_url, log_index } => {
            format!("integrated time of entry {log_index} of {log_url}")
        }
        crate::result::TimeSource::SignedTimestamp { authority } => {
            format!("RFC 3161 timestamp by {authority}")
        }
    }
}
