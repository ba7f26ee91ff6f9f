//! The [`Verifier`]: built once from trust material and thresholds, then
//! asked about one bundle at a time with a per-call [`SignerPolicy`].

use std::num::NonZeroUsize;
use std::time::SystemTime;

use signet_core::bundle::{Bundle, VerificationMaterial};
use signet_core::{Artifact, Digest};
use signet_trust::TrustedRoot;

use crate::certificate;
use crate::content::{SignedContent, SignedFacts};
use crate::error::{Blame, Check, CheckError, ConfigError, Rejection, VerifyError};
use crate::identity::SignerPolicy;
use crate::keys::TrustedKey;
use crate::material::SigningMaterial;
use crate::result::{CertificateSigner, Signer, VerifiedBundle, VerifiedTime};
use crate::timestamps;
use crate::tlog::{self, LogEvidence};
use crate::trust::TrustMaterial;

/// How many of a kind of evidence a verifier requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threshold {
    Required(NonZeroUsize),
    UnsafeSkipped,
}

impl Threshold {
    fn required(self) -> Option<usize> {
        match self {
            Self::Required(n) => Some(n.get()),
            Self::UnsafeSkipped => None,
        }
    }
}

const ONE: NonZeroUsize = NonZeroUsize::MIN;

/// Builds a [`Verifier`]; see [`Verifier::builder`].
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    keys: Vec<TrustedKey>,
    root: Option<TrustedRoot>,
    tlog: Threshold,
    sct: Threshold,
    signed_timestamps: usize,
    clock: Option<SystemTime>,
}

impl VerifierBuilder {
    /// Trusts `key` (for [`SignerPolicy::TrustedKeys`]).
    pub fn trusted_key(mut self, key: TrustedKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Trusts every key of `keys`; any one verifying a signature is enough.
    pub fn trusted_keys(mut self, keys: impl IntoIterator<Item = TrustedKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Trusts the logs, CAs, CT logs and timestamp authorities of `root`.
    pub fn trusted_root(mut self, root: TrustedRoot) -> Self {
        self.root = Some(root);
        self
    }

    /// Requires entries from `n` distinct trusted transparency logs
    /// (default 1), for key-based and keyless signatures alike.
    pub fn transparency_log_threshold(mut self, n: NonZeroUsize) -> Self {
        self.tlog = Threshold::Required(n);
        self
    }

    /// Accepts signatures with no transparency-log evidence
    /// (`--insecure-ignore-tlog`): nobody can then audit that they were made.
    pub fn unsafe_skip_transparency_log(mut self) -> Self {
        self.tlog = Threshold::UnsafeSkipped;
        self
    }

    /// Requires `n` verified SCTs in keyless certificates (default 1).
    pub fn sct_threshold(mut self, n: NonZeroUsize) -> Self {
        self.sct = Threshold::Required(n);
        self
    }

    /// Accepts certificates without verified SCTs (`--insecure-ignore-sct`).
    pub fn unsafe_skip_sct(mut self) -> Self {
        self.sct = Threshold::UnsafeSkipped;
        self
    }

    /// Requires `n` RFC 3161 timestamps from distinct trusted timestamp
    /// authorities (`--use-signed-timestamps`; default none required).
    pub fn signed_timestamp_threshold(mut self, n: NonZeroUsize) -> Self {
        self.signed_timestamps = n.get();
        self
    }

    /// Uses `now` as the current time (only to refuse log entries
    /// integrated in the future); for tests and replays.
    pub fn current_time(mut self, now: SystemTime) -> Self {
        self.clock = Some(now);
        self
    }

    /// Converts the trust material once and checks that the thresholds can
    /// be met by it.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let trust = match &self.root {
            Some(root) => TrustMaterial::from_trusted_root(root),
            None => TrustMaterial::default(),
        };
        if self.keys.is_empty() && trust.fulcio.is_empty() {
            return Err(ConfigError::NoTrustMaterial);
        }
        if let Some(required) = self.tlog.required()
            && trust.rekor_logs.is_empty()
        {
            return Err(ConfigError::NoTrustedLogs { required });
        }
        if self.signed_timestamps > 0 && trust.tsas.is_empty() {
            return Err(ConfigError::NoTimestampAuthorities {
                required: self.signed_timestamps,
            });
        }
        Ok(Verifier {
            keys: self.keys,
            trust,
            tlog: self.tlog,
            sct: self.sct,
            signed_timestamps: self.signed_timestamps,
            clock: self.clock,
        })
    }
}

/// Verifies Sigstore bundles (and legacy signatures converted into them)
/// against trusted keys and/or a trusted root. Built once (for example per
/// admission-controller configuration) and shared.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Vec<TrustedKey>,
    trust: TrustMaterial,
    tlog: Threshold,
    sct: Threshold,
    signed_timestamps: usize,
    clock: Option<SystemTime>,
}

/// A blob whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedBlob {
    /// SHA-256 of the blob.
    pub digest: Digest,
    /// What the verification established.
    #[serde(flatten)]
    pub verification: VerifiedBundle,
}

impl Verifier {
    /// A builder with the safe defaults: one transparency-log entry and one
    /// SCT required, no signed timestamp required.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder {
            keys: Vec::new(),
            root: None,
            tlog: Threshold::Required(ONE),
            sct: Threshold::Required(ONE),
            signed_timestamps: 0,
            clock: None,
        }
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Whether any trusted key signs whole messages (Ed25519), so that a blob
    /// must be kept in memory to be verified.
    pub fn needs_whole_messages(&self) -> bool {
        self.keys.iter().any(|k| k.key.signs_whole_message())
    }

    /// Parts of the trusted root that could not be used and were set aside
    /// (a key type signet does not implement, a certificate it cannot
    /// parse), one line each; a CLI shows them with `--verbose`.
    pub fn trust_warnings(&self) -> &[String] {
        &self.trust.set_aside
    }

    /// Whether transparency-log evidence is required.
    pub fn requires_transparency_log(&self) -> bool {
        self.tlog.required().is_some()
    }

    /// Verifies one bundle: that its signature covers `content`, that the
    /// signer is trusted and satisfies `signer`, with the evidence the
    /// verifier requires. The checks run in sigstore-go's order:
    ///
    /// 1. the bundle's certificates (no root of its own);
    /// 2. transparency-log entries (SET, inclusion proof and checkpoint,
    ///    entry body against the bundle, time), against the threshold;
    /// 3. RFC 3161 timestamps, against the threshold;
    /// 4. the certificate chain at every verified signing time, and SCTs —
    ///    or, for keys, each key's validity at those times;
    /// 5. the signature over the artifact, its digest or the DSSE envelope,
    ///    and for DSSE the in-toto subject;
    /// 6. the certificate identity.
    pub fn verify_bundle(
        &self,
        bundle: &Bundle,
        content: SignedContent<'_>,
        signer: &SignerPolicy,
    ) -> Result<VerifiedBundle, CheckError> {
        let now = self.clock.unwrap_or_else(SystemTime::now);
        let facts = SignedFacts::of(bundle)?;
        let mut notes = Vec::new();
        let mut material = self.signing_material(bundle, signer, &mut notes)?;

        let logs = match self.tlog.required() {
            Some(n) => {
                tlog::verify_log_entries(&self.trust, bundle, &facts, &mut material, n, now)?
            }
            None => {
                notes.push("transparency log not checked (--insecure-ignore-tlog)".to_owned());
                LogEvidence::default()
            }
        };
        notes.extend(logs.notes);

        let stamps =
            timestamps::verify_timestamps(&self.trust, &bundle.rfc3161_timestamps, facts.signature);
        if stamps.times.len() < self.signed_timestamps {
            let mut message = format!(
                "{} of the {} required RFC 3161 timestamps from distinct trusted timestamp authorities verified",
                stamps.times.len(),
                self.signed_timestamps
            );
            match stamps.failures.first() {
                Some(first) => message.push_str(&format!(" ({first})")),
                None if bundle.rfc3161_timestamps.is_empty() => {
                    message.push_str(" (the bundle has no timestamp)")
                }
                None => {}
            }
            return Err(CheckError::untrusted(Check::SignedTimestamp, message));
        }
        let mut times = logs.times;
        times.extend(stamps.times);
        if times.is_empty() && matches!(material, SigningMaterial::Certificate(_)) {
            let mut message = "no verified time to check the certificate at: no transparency-log entry with a verified signed entry timestamp and no verified RFC 3161 timestamp (the current time is never used)".to_owned();
            if let Some(first) = stamps.failures.first() {
                message.push_str(&format!("; {first}"));
            }
            return Err(CheckError::untrusted(Check::SigningTime, message));
        }
        notes.extend(stamps.failures);

        facts.check_digest_claim(content)?;
        let (signer_record, ct_logs) = match material {
            SigningMaterial::Certificate(leaf) => {
                let evidence = certificate::check_certificate(
                    &self.trust,
                    &leaf,
                    &times,
                    &logs.unverified_times,
                    self.sct.required(),
                )?;
                if self.sct.required().is_none() {
                    notes.push("SCTs not checked (--insecure-ignore-sct)".to_owned());
                }
                let key = leaf.public_key().map_err(|e| {
                    CheckError::malformed(
                        Check::BundleCertificates,
                        format!("signing certificate: {e}"),
                    )
                })?;
                facts.verify_signature(&key, content)?;
                signer.check_identity(&evidence.profile)?;
                (
                    Signer::Certificate(Box::new(CertificateSigner::new(
                        &evidence.profile,
                        leaf.as_der(),
                        self.trust.fulcio_uri(evidence.authority),
                    ))),
                    evidence.ct_logs,
                )
            }
            SigningMaterial::Keys(keys) => {
                let key = verify_with_keys(&keys, &facts, content)?;
                check_key_validity(key, &times, now)?;
                (
                    Signer::Key {
                        key: key.name.clone(),
                    },
                    Vec::new(),
                )
            }
        };
        let statement = facts.check_statement(content)?;
        Ok(VerifiedBundle {
            signer: signer_record,
            tlog_entries: logs.entries,
            timestamps: times,
            certificate_transparency: ct_logs,
            statement,
            notes,
        })
    }

    /// Who may have signed: the trusted keys (hinted one first), or the
    /// bundle's leaf certificate.
    fn signing_material(
        &self,
        bundle: &Bundle,
        signer: &SignerPolicy,
        notes: &mut Vec<String>,
    ) -> Result<SigningMaterial<'_>, CheckError> {
        if signer.wants_certificate() {
            return match &bundle.verification_material {
                VerificationMaterial::CertificateDer { chain } => {
                    let (leaf, tolerated) = certificate::bundle_leaf(&self.trust, chain)?;
                    notes.extend(tolerated);
                    Ok(SigningMaterial::Certificate(Box::new(leaf)))
                }
                VerificationMaterial::PublicKey { .. } => Err(CheckError::policy(
                    Check::SigningCertificate,
                    "the signature was made with a key and carries no certificate; verify it with --key",
                )),
            };
        }
        if self.keys.is_empty() {
            return Err(CheckError::policy(
                Check::Policy,
                "no trusted key to verify with: give --key, or a certificate identity (--certificate-identity or --certificate-identity-regexp)",
            ));
        }
        let hint = match &bundle.verification_material {
            VerificationMaterial::PublicKey { hint } => hint.as_deref(),
            VerificationMaterial::CertificateDer { .. } => {
                notes.push(
                    "the signature carries a certificate; it was verified with the trusted key instead, as cosign does with --key"
                        .to_owned(),
                );
                None
            }
        };
        let (mut keys, others): (Vec<&TrustedKey>, Vec<&TrustedKey>) = self
            .keys
            .iter()
            .partition(|k| Some(k.hint.as_str()) == hint);
        keys.extend(others);
        Ok(SigningMaterial::Keys(keys))
    }

    /// Verifies a blob against a bundle (from `--bundle`, or built from
    /// `--signature`). Message signatures are checked over the blob (ECDSA
    /// and RSA over its digest, so the blob need not have been kept; Ed25519
    /// needs its bytes); DSSE statements must name its digest.
    pub fn verify_blob(
        &self,
        artifact: &Artifact,
        bundle: &Bundle,
        signer: &SignerPolicy,
    ) -> Result<VerifiedBlob, VerifyError> {
        let digest = artifact.digest().clone();
        match self.verify_bundle(bundle, SignedContent::Artifact(artifact), signer) {
            Ok(verification) => Ok(VerifiedBlob {
                digest,
                verification,
            }),
            Err(e) => Err(outcome_error(
                digest,
                vec![Rejection::failed("blob signature", e)],
            )),
        }
    }
}

/// [`VerifyError::NoCertificate`] when every rejection is a missing
/// certificate, else [`VerifyError::NoMatchingSignature`].
pub(crate) fn outcome_error(digest: Digest, rejections: Vec<Rejection>) -> VerifyError {
    if !rejections.is_empty()
        && rejections
            .iter()
            .all(|r| r.check == Some(Check::SigningCertificate))
    {
        VerifyError::NoCertificate { digest, rejections }
    } else {
        VerifyError::NoMatchingSignature { digest, rejections }
    }
}

fn verify_with_keys<'k>(
    keys: &[&'k TrustedKey],
    facts: &SignedFacts<'_>,
    content: SignedContent<'_>,
) -> Result<&'k TrustedKey, CheckError> {
    let mut last_error = None;
    for key in keys {
        match facts.verify_signature(&key.key, content) {
            Ok(()) => return Ok(key),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match (last_error, keys) {
        (Some(e), [only]) => CheckError {
            message: format!("{} ({})", e.message, only.name),
            ..e
        },
        (_, keys) => CheckError::new(
            Check::Signature,
            Blame::Untrusted,
            format!(
                "does not verify under any of the {} keys ({})",
                keys.len(),
                keys.iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    })
}

/// A trusted key must have been valid at every verified signing time (at
/// the current time when nothing vouches for one).
fn check_key_validity(
    key: &TrustedKey,
    times: &[VerifiedTime],
    now: SystemTime,
) -> Result<(), CheckError> {
    let window = key.validity();
    let outside = if times.is_empty() {
        (!key.is_valid_at(now)).then(|| signet_pki::time::rfc3339(now))
    } else {
        times
            .iter()
            .find(|t| !key.is_valid_at(t.at))
            .map(|t| t.time.clone())
    };
    match outside {
        None => Ok(()),
        Some(at) => Err(CheckError::untrusted(
            Check::SigningKey,
            format!("{} is trusted for {window}, but signed at {at}", key.name),
        )),
    }
}
