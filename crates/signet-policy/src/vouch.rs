//! Whether one authority vouches for an image with one signature: the only
//! module that talks to `signet-verify`. Each authority gets verifiers of
//! its own, built once; the signatures are fetched once per digest and
//! offered to each.

use signet_core::payload::SimpleSigningPayload;
use signet_verify::{
    CertificateIdentity, Check, ImagePolicy, Matcher, SignatureCandidate, SignerPolicy, TrustedKey,
    Verifier, VerifyError, WorkflowClaim,
};

use crate::decision::{FailedCheck, Failure, TlogEvidence};
use crate::error::PolicyError;
use crate::file::TlogRequirement;
use crate::policy::{Authority, AuthorityKind, Claim, Policy, StringMatch};

/// One authority, ready to check signatures.
#[derive(Debug)]
pub(crate) struct CompiledAuthority {
    pub(crate) name: String,
    /// Requires transparency-log evidence from the trust root's logs.
    logged: Verifier,
    /// The same without the log: for `transparency-log: optional`, and to
    /// tell a missing log entry from a bad signature.
    unlogged: Verifier,
    signer: SignerPolicy,
}

fn matcher(m: &StringMatch) -> Matcher {
    match m {
        StringMatch::Exact(s) => Matcher::Exact(s.clone()),
        StringMatch::Regexp(r) => Matcher::Regex(r.clone()),
    }
}

fn claim(c: Claim) -> WorkflowClaim {
    match c {
        Claim::GithubWorkflowTrigger => WorkflowClaim::Trigger,
        Claim::GithubWorkflowSha => WorkflowClaim::Sha,
        Claim::GithubWorkflowName => WorkflowClaim::Name,
        Claim::GithubWorkflowRepository => WorkflowClaim::Repository,
        Claim::GithubWorkflowRef => WorkflowClaim::Ref,
    }
}

fn is_log_check(check: Option<Check>) -> bool {
    matches!(
        check,
        Some(
            Check::TransparencyLog
                | Check::SignedEntryTimestamp
                | Check::InclusionProof
                | Check::Checkpoint
                | Check::LogEntryBody
                | Check::IntegratedTime
        )
    )
}

impl CompiledAuthority {
    pub(crate) fn compile(
        policy: &Policy,
        at: &str,
        authority: &Authority,
    ) -> Result<Self, PolicyError> {
        let file = policy.file();
        let root = policy
            .trust_roots()
            .get(&authority.trust_root)
            .ok_or_else(|| {
                PolicyError::invalid(
                    file,
                    at,
                    format!("trust root {} is not loaded", authority.trust_root),
                )
            })?;
        let (base, signer) = match &authority.kind {
            AuthorityKind::Key { key, .. } => (
                Verifier::builder().trusted_key(TrustedKey::new(&authority.name, key.clone())),
                SignerPolicy::TrustedKeys,
            ),
            AuthorityKind::Keyless(id) => {
                let identity = id.claims.iter().fold(
                    CertificateIdentity::new(matcher(&id.subject), matcher(&id.issuer)),
                    |i, (c, v)| i.claim(claim(*c), v.clone()),
                );
                (Verifier::builder(), SignerPolicy::identity(identity))
            }
        };
        let base = base.trusted_root(root.root.clone());
        let build = |b: signet_verify::VerifierBuilder| {
            b.build().map_err(|e| {
                PolicyError::invalid(
                    file,
                    at,
                    format!("trust root {}: {e}", authority.trust_root),
                )
            })
        };
        let unlogged = build(base.clone().unsafe_skip_transparency_log())?;
        // A trust root without a log can still serve `transparency-log:
        // optional`; `required` then refuses every signature, by name.
        let logged = match build(base) {
            Ok(v) => v,
            Err(_) => unlogged.clone(),
        };
        Ok(Self {
            name: authority.name.clone(),
            logged,
            unlogged,
            signer,
        })
    }

    /// Whether this authority vouches for the image with `candidate`, and
    /// with what log evidence; or the failure, labelled with the check.
    pub(crate) fn check(
        &self,
        candidate: &SignatureCandidate,
        policy: &ImagePolicy,
        tlog: TlogRequirement,
    ) -> Result<TlogEvidence, Failure> {
        let policy = policy.clone().signer(self.signer.clone());
        let one = std::slice::from_ref(candidate);
        let logged = if self.logged.requires_transparency_log() {
            self.logged.verify_image(one, &policy)
        } else {
            Err(VerifyError::NoSignatures {
                digest: policy.digest().clone(),
            })
        };
        let first = match logged {
            Ok(_) => return Ok(TlogEvidence::Verified),
            Err(e) => first_rejection(e),
        };
        if !is_log_check(first.0) && self.logged.requires_transparency_log() {
            return Err(self.label(candidate, &policy, first));
        }
        // The log is what failed (or no log is trusted): is the rest sound?
        match self.unlogged.verify_image(one, &policy) {
            Ok(_) => {
                let logged = !candidate.bundle.tlog_entries.is_empty();
                match (tlog, logged) {
                    (TlogRequirement::Optional, false) => Ok(TlogEvidence::Absent),
                    (_, true) => Err(Failure::new(
                        FailedCheck::MissingTransparencyLog,
                        format!("{}: {}", candidate.origin, first.1),
                    )),
                    (TlogRequirement::Required, false) => Err(Failure::new(
                        FailedCheck::MissingTransparencyLog,
                        format!(
                            "{}: the signature verifies under {}, but it has no transparency-log entry, which the scope requires (transparency-log: required)",
                            candidate.origin, self.name
                        ),
                    )),
                }
            }
            Err(e) => {
                let r = first_rejection(e);
                if r.0 == Some(Check::SigningTime) {
                    // Without a log entry or a timestamp, a certificate has
                    // no verified time to be checked at.
                    return Err(Failure::new(
                        FailedCheck::MissingTransparencyLog,
                        format!("{}: {}", candidate.origin, first.1),
                    ));
                }
                Err(self.label(candidate, &policy, r))
            }
        }
    }

    /// Names the failure from the check the verifier reports. A payload
    /// problem is told apart by asking again with less: if the signature
    /// verifies for the digest its own payload names, without the scope's
    /// annotations and repository, the payload is what is wrong.
    fn label(
        &self,
        candidate: &SignatureCandidate,
        policy: &ImagePolicy,
        (check, reason): (Option<Check>, String),
    ) -> Failure {
        let at = &candidate.origin;
        let kind = match check {
            // No certificate where an identity is asked for counts as the
            // wrong identity: someone signed, not the one named.
            Some(
                Check::CertificateIdentity
                | Check::CertificateIssuer
                | Check::CertificateClaim
                | Check::SigningCertificate
                | Check::Policy,
            ) => FailedCheck::WrongIdentity,
            Some(
                Check::BundleCertificates
                | Check::CertificateChain
                | Check::CertificateTransparency
                | Check::SigningTime
                | Check::SignedTimestamp,
            ) => FailedCheck::UntrustedCertificate,
            c if is_log_check(c) => FailedCheck::MissingTransparencyLog,
            Some(Check::ArtifactDigest) => return self.payload_label(candidate, policy, reason),
            Some(Check::Signature | Check::SigningKey) => {
                if matches!(self.signer, SignerPolicy::TrustedKeys) {
                    return Failure::new(
                        FailedCheck::WrongKey,
                        format!(
                            "{at}: the signature does not verify under {} (signed with another key, or altered after signing)",
                            self.name
                        ),
                    );
                }
                // A certificate came with it: the signature does not match
                // the key the certificate certifies.
                FailedCheck::Tampered
            }
            _ => FailedCheck::Tampered,
        };
        Failure::new(kind, format!("{at}: {reason}"))
    }

    fn payload_label(
        &self,
        candidate: &SignatureCandidate,
        policy: &ImagePolicy,
        reason: String,
    ) -> Failure {
        let at = &candidate.origin;
        let Ok(payload) = SimpleSigningPayload::parse(&candidate.payload) else {
            return Failure::new(FailedCheck::Tampered, format!("{at}: {reason}"));
        };
        let digest = policy.digest();
        if &payload.manifest_digest != digest {
            return Failure::new(
                FailedCheck::Tampered,
                format!(
                    "{at}: signed by {} for {}, not for this image ({digest}): a signature copied from another image",
                    self.name, payload.manifest_digest
                ),
            );
        }
        let bare = ImagePolicy::for_digest(digest.clone()).signer(self.signer.clone());
        let with_annotations = policy
            .annotations()
            .iter()
            .fold(bare, |p, (k, v)| p.annotation(k.clone(), v.clone()));
        if self
            .unlogged
            .verify_image(std::slice::from_ref(candidate), &with_annotations)
            .is_err()
        {
            return Failure::new(
                FailedCheck::AnnotationMismatch,
                format!("{at}: signed by {}, but {reason}", self.name),
            );
        }
        Failure::new(
            FailedCheck::Tampered,
            format!(
                "{at}: signed by {} for repository {}, not this one (match-repository): {reason}",
                self.name, payload.docker_reference
            ),
        )
    }
}

/// The check and reason of the (only) rejection of a one-candidate
/// verification.
fn first_rejection(e: VerifyError) -> (Option<Check>, String) {
    match e {
        VerifyError::NoMatchingSignature { rejections, .. }
        | VerifyError::NoCertificate { rejections, .. } => rejections
            .into_iter()
            .next()
            .map(|r| (r.check, r.reason))
            .unwrap_or((None, "no signature".into())),
        other => (None, other.to_string()),
    }
}
