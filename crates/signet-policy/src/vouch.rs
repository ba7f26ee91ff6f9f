//! Whether one authority vouches for an image with one signature: the only
//! module that talks to `signet-verify`. Each authority gets a
//! [`Verifier`](signet_verify::Verifier) of its own, built once; the
//! signatures are fetched once per digest and offered to each.

use signet_core::payload::SimpleSigningPayload;
use signet_verify::{ImagePolicy, SignatureCandidate, TrustedKey, Verifier};

use crate::decision::{FailedCheck, Failure, TlogEvidence};
use crate::error::PolicyError;
use crate::file::TlogRequirement;
use crate::policy::{Authority, AuthorityKind};

/// One authority, ready to check signatures.
#[derive(Debug)]
pub(crate) struct CompiledAuthority {
    pub(crate) name: String,
    verifier: Verifier,
}

impl CompiledAuthority {
    pub(crate) fn compile(
        file: &str,
        at: &str,
        authority: &Authority,
    ) -> Result<Self, PolicyError> {
        match &authority.kind {
            AuthorityKind::Key { key, .. } => {
                let verifier = Verifier::new(vec![TrustedKey::new(&authority.name, key.clone())])
                    .map_err(|e| PolicyError::invalid(file, at, e.to_string()))?;
                Ok(Self {
                    name: authority.name.clone(),
                    verifier,
                })
            }
            AuthorityKind::Keyless(_) => Err(PolicyError::invalid(
                file,
                at,
                "keyless authorities need certificate verification, which this build of signet-verify does not have yet",
            )),
        }
    }

    /// Whether this authority vouches for the image with `candidate`, and
    /// with what log evidence; or the failure, labelled with the check.
    pub(crate) fn check(
        &self,
        candidate: &SignatureCandidate,
        policy: &ImagePolicy,
        tlog: TlogRequirement,
    ) -> Result<TlogEvidence, Failure> {
        match self
            .verifier
            .verify_image(std::slice::from_ref(candidate), policy)
        {
            Ok(_) => {}
            Err(e) => {
                return Err(self.label(candidate, policy, e.to_string()));
            }
        }
        let logged = !candidate.bundle.tlog_entries.is_empty();
        match (tlog, logged) {
            (TlogRequirement::Optional, false) => Ok(TlogEvidence::Absent),
            // Evidence is there but this verifier cannot check it: it is
            // not counted either way.
            (TlogRequirement::Optional, true) => Ok(TlogEvidence::Unchecked),
            (TlogRequirement::Required, false) => Err(Failure::new(
                FailedCheck::MissingTransparencyLog,
                format!(
                    "{}: the signature verifies under {}, but it has no transparency-log entry, which the scope requires (transparency-log: required)",
                    candidate.origin, self.name
                ),
            )),
            (TlogRequirement::Required, true) => Err(Failure::new(
                FailedCheck::MissingTransparencyLog,
                format!(
                    "{}: the signature verifies under {}, but its transparency-log entry cannot be verified by this build (no Rekor checks yet); the scope requires verified evidence",
                    candidate.origin, self.name
                ),
            )),
        }
    }

    /// Names the check a signature failed. The verifier's answer is the
    /// verdict; the label comes from asking it again with less: if the
    /// signature verifies for the digest its payload names, without the
    /// scope's annotations and repository, then the payload is what is
    /// wrong; if not, the signature is.
    fn label(
        &self,
        candidate: &SignatureCandidate,
        policy: &ImagePolicy,
        reason: String,
    ) -> Failure {
        let at = &candidate.origin;
        let Ok(payload) = SimpleSigningPayload::parse(&candidate.payload) else {
            return Failure::new(
                FailedCheck::Tampered,
                format!("{at}: the signed payload is not a simple-signing payload ({reason})"),
            );
        };
        let bare = ImagePolicy::for_digest(payload.manifest_digest.clone());
        if self
            .verifier
            .verify_image(std::slice::from_ref(candidate), &bare)
            .is_err()
        {
            return Failure::new(
                FailedCheck::WrongKey,
                format!(
                    "{at}: the signature does not verify under {} (signed with another key, or altered after signing)",
                    self.name
                ),
            );
        }
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
        let with_annotations = policy
            .annotations()
            .iter()
            .fold(bare, |p, (k, v)| p.annotation(k.clone(), v.clone()));
        if self
            .verifier
            .verify_image(std::slice::from_ref(candidate), &with_annotations)
            .is_err()
        {
            return Failure::new(
                FailedCheck::AnnotationMismatch,
                format!("{at}: signed by {}, but {reason}", self.name),
            );
        }
        // What is left is the repository the payload names.
        Failure::new(
            FailedCheck::Tampered,
            format!(
                "{at}: signed by {} for repository {}, not this one (match-repository): {reason}",
                self.name, payload.docker_reference
            ),
        )
    }
}
