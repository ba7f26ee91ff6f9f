//! Image signatures: candidates read from a registry, the policy an image
//! must satisfy, and the record of what verified.

use std::collections::BTreeMap;

use signet_core::bundle::Bundle;
use signet_core::intoto::Statement;
use signet_core::payload::SimpleSigningPayload;
use signet_core::{Artifact, Digest};

use crate::content::SignedContent;
use crate::error::{Blame, Check, CheckError, Rejection, VerifyError};
use crate::identity::SignerPolicy;
use crate::result::VerifiedBundle;
use crate::verifier::{Verifier, outcome_error};

/// One signature found for an image, converted to the bundle model.
#[derive(Debug, Clone)]
pub struct SignatureCandidate {
    /// The signed simple-signing payload bytes of a legacy signature; empty
    /// for a bundle whose DSSE envelope carries its own payload.
    pub payload: Vec<u8>,
    /// The signature and its verification material.
    pub bundle: Bundle,
    /// Where it was found, for messages.
    pub origin: String,
}

/// What an image's signature must establish, per verification call.
#[derive(Debug, Clone)]
pub struct ImagePolicy {
    digest: Digest,
    annotations: BTreeMap<String, String>,
    repository: Option<String>,
    signer: SignerPolicy,
}

impl ImagePolicy {
    /// A policy for the image with manifest digest `digest`. The digest is
    /// mandatory: a signature is only ever accepted for a specific manifest.
    pub fn for_digest(digest: Digest) -> Self {
        Self {
            digest,
            annotations: BTreeMap::new(),
            repository: None,
            signer: SignerPolicy::TrustedKeys,
        }
    }

    /// Who may have signed (default: any of the verifier's trusted keys).
    pub fn signer(mut self, signer: SignerPolicy) -> Self {
        self.signer = signer;
        self
    }

    /// Who may have signed.
    pub fn signer_policy(&self) -> &SignerPolicy {
        &self.signer
    }

    /// Requires `optional.<key> == value` in the payload (`-a key=value`).
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Requires `critical.identity.docker-reference` to name `repository`
    /// (ignoring any tag), which stops a signature from being replayed for the
    /// same digest in another repository. cosign does not check this.
    pub fn require_repository(mut self, repository: impl Into<String>) -> Self {
        self.repository = Some(repository.into());
        self
    }

    /// The digest this policy is for.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The annotations this policy requires.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// The annotations an in-toto statement's subject for this digest must
    /// carry (`cosign sign` v3 writes `-a` annotations there).
    fn check_statement(&self, statement: &Statement) -> Result<(), String> {
        if self.annotations.is_empty() {
            return Ok(());
        }
        let hex = self.digest.hex();
        let annotations: BTreeMap<String, serde_json::Value> = statement
            .subjects
            .iter()
            .find(|s| {
                s.digest
                    .get("sha256")
                    .is_some_and(|d| d.eq_ignore_ascii_case(&hex))
            })
            .and_then(|s| s.annotations.as_ref())
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or_default();
        for (key, want) in &self.annotations {
            match annotations.get(key) {
                Some(serde_json::Value::String(got)) if got == want => {}
                Some(got) => return Err(format!("annotation {key} is {got}, expected {want:?}")),
                None => return Err(format!("annotation {key} is missing, expected {want:?}")),
            }
        }
        Ok(())
    }

    fn check(&self, payload: &SimpleSigningPayload) -> Result<(), String> {
        if payload.manifest_digest != self.digest {
            return Err(format!(
                "payload is for image {}, not {}",
                payload.manifest_digest, self.digest
            ));
        }
        for (key, want) in &self.annotations {
            match payload.optional.as_ref().and_then(|o| o.get(key)) {
                Some(serde_json::Value::String(got)) if got == want => {}
                Some(got) => return Err(format!("annotation {key} is {got}, expected {want:?}")),
                None => return Err(format!("annotation {key} is missing, expected {want:?}")),
            }
        }
        if let Some(repo) = &self.repository {
            let signed = strip_tag(&payload.docker_reference);
            if signed != repo {
                return Err(format!("signature is for repository {signed}, not {repo}"));
            }
        }
        Ok(())
    }
}

/// `registry/repo:tag` → `registry/repo` (a `:` after the last `/` is a tag).
fn strip_tag(reference: &str) -> &str {
    let reference = reference.split('@').next().unwrap_or(reference);
    match reference.rfind(':') {
        Some(colon) if !reference[colon..].contains('/') => &reference[..colon],
        _ => reference,
    }
}

/// One signature that verified.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedSignature {
    /// Where the signature was found.
    pub origin: String,
    /// What its verification established: who signed, log entries, times.
    #[serde(flatten)]
    pub verification: VerifiedBundle,
    /// The parsed simple-signing payload (legacy signatures).
    #[serde(skip)]
    pub payload: Option<SimpleSigningPayload>,
    /// The payload exactly as signed: the simple-signing payload, or the
    /// DSSE envelope's payload (an in-toto statement).
    #[serde(skip)]
    pub payload_bytes: Vec<u8>,
    /// The signature's evidence as it was found (converted to the bundle
    /// model): what cosign-compatible output reports back (the Rekor bundle,
    /// the certificate).
    #[serde(skip)]
    pub evidence: Bundle,
}

/// An image with at least one signature that satisfied the keys and policy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedImage {
    /// The image manifest digest.
    pub digest: Digest,
    /// Every signature that verified.
    pub signatures: Vec<VerifiedSignature>,
    /// Signatures present but not accepted, and why.
    pub rejected: Vec<Rejection>,
}

impl Verifier {
    /// Verifies an image's signature candidates against `policy`.
    /// At least one candidate must verify under a trusted key and satisfy the policy.
    pub fn verify_image(
        &self,
        candidates: &[SignatureCandidate],
        policy: &ImagePolicy,
    ) -> Result<VerifiedImage, VerifyError> {
        if candidates.is_empty() {
            return Err(VerifyError::NoSignatures {
                digest: policy.digest.clone(),
            });
        }
        let mut signatures = Vec::new();
        let mut rejected = Vec::new();
        for candidate in candidates {
            match self.verify_candidate(candidate, policy) {
                Ok(sig) => signatures.push(sig),
                Err(e) => rejected.push(Rejection::failed(candidate.origin.clone(), e)),
            }
        }
        if signatures.is_empty() {
            return Err(outcome_error(policy.digest.clone(), rejected));
        }
        Ok(VerifiedImage {
            digest: policy.digest.clone(),
            signatures,
            rejected,
        })
    }

    fn verify_candidate(
        &self,
        c: &SignatureCandidate,
        policy: &ImagePolicy,
    ) -> Result<VerifiedSignature, CheckError> {
        let payload_error = |e: String| CheckError::new(Check::ArtifactDigest, Blame::Policy, e);
        if let Some(envelope) = c.bundle.dsse_envelope() {
            // A bundle (cosign v3 `sign`, or an attestation): its statement
            // must name the image digest as a subject.
            let verification = self.verify_bundle(
                &c.bundle,
                SignedContent::Digest(&policy.digest),
                &policy.signer,
            )?;
            let statement = Statement::parse(&envelope.payload)
                .map_err(|e| CheckError::malformed(Check::ArtifactDigest, e))?;
            policy.check_statement(&statement).map_err(payload_error)?;
            return Ok(VerifiedSignature {
                origin: c.origin.clone(),
                verification,
                payload: None,
                payload_bytes: envelope.payload.clone(),
                evidence: c.bundle.clone(),
            });
        }
        // A legacy signature over a simple-signing payload. The signature
        // first: nothing in an unauthenticated payload is worth reading.
        let artifact = Artifact::from_bytes(c.payload.clone());
        let verification = self.verify_bundle(
            &c.bundle,
            SignedContent::Artifact(&artifact),
            &policy.signer,
        )?;
        let payload = SimpleSigningPayload::parse(&c.payload)
            .map_err(|e| CheckError::malformed(Check::ArtifactDigest, e))?;
        policy.check(&payload).map_err(payload_error)?;
        Ok(VerifiedSignature {
            origin: c.origin.clone(),
            verification,
            payload: Some(payload),
            payload_bytes: c.payload.clone(),
            evidence: c.bundle.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustedKey;
    use signet_core::keys::PrivateKey;
    use signet_core::signature_manifest::Layer;

    fn digest(n: u8) -> Digest {
        Digest::from_raw([n; 32])
    }

    fn candidate(key: &PrivateKey, payload: &SimpleSigningPayload) -> SignatureCandidate {
        use base64::Engine as _;
        let bytes = payload.to_bytes();
        let sig = key.sign(&bytes).unwrap();
        let layer = Layer::simple_signing(
            &bytes,
            base64::engine::general_purpose::STANDARD.encode(sig),
        );
        SignatureCandidate {
            payload: bytes,
            bundle: layer.to_bundle().unwrap(),
            origin: "test".into(),
        }
    }

    /// Verifiers for signatures that were never logged.
    fn keys_only(keys: Vec<TrustedKey>) -> Verifier {
        Verifier::builder()
            .trusted_keys(keys)
            .unsafe_skip_transparency_log()
            .build()
            .unwrap()
    }

    #[test]
    fn any_trusted_key_verifies_during_rotation() {
        let old = PrivateKey::generate_p256().unwrap();
        let new = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![
            TrustedKey::new("old.pub", old.public_key()),
            TrustedKey::new("new.pub", new.public_key()),
        ]);
        let payload = SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new());
        let policy = ImagePolicy::for_digest(digest(1));
        for (key, name) in [(&old, "old.pub"), (&new, "new.pub")] {
            let v = verifier
                .verify_image(&[candidate(key, &payload)], &policy)
                .unwrap();
            assert_eq!(v.signatures[0].verification.signer.name(), name);
        }
        let stranger = PrivateKey::generate_p256().unwrap();
        let err = verifier
            .verify_image(&[candidate(&stranger, &payload)], &policy)
            .unwrap_err();
        assert!(err.to_string().contains("any of the 2 keys"), "{err}");
    }

    #[test]
    fn policy_checks_digest_annotations_and_repository() {
        let key = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let ann = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let payload = SimpleSigningPayload::new("reg.example/team/app", digest(1), &ann);
        let c = [candidate(&key, &payload)];

        let err = verifier
            .verify_image(&c, &ImagePolicy::for_digest(digest(2)))
            .unwrap_err();
        assert!(matches!(&err, VerifyError::NoMatchingSignature { .. }));
        assert!(err.to_string().contains("payload is for image"), "{err}");

        let ok = ImagePolicy::for_digest(digest(1))
            .annotation("env", "prod")
            .require_repository("reg.example/team/app");
        verifier.verify_image(&c, &ok).unwrap();

        let wrong = ImagePolicy::for_digest(digest(1)).annotation("env", "dev");
        assert!(
            verifier
                .verify_image(&c, &wrong)
                .unwrap_err()
                .to_string()
                .contains("annotation env")
        );
        let missing = ImagePolicy::for_digest(digest(1)).annotation("team", "x");
        assert!(
            verifier
                .verify_image(&c, &missing)
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
        let repo = ImagePolicy::for_digest(digest(1)).require_repository("reg.example/other");
        assert!(
            verifier
                .verify_image(&c, &repo)
                .unwrap_err()
                .to_string()
                .contains("repository")
        );
    }

    #[test]
    fn tampered_payload_is_rejected_before_parsing() {
        let key = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let payload = SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new());
        let mut c = candidate(&key, &payload);
        c.payload = SimpleSigningPayload::new("r/app", digest(2), &BTreeMap::new()).to_bytes();
        let err = verifier
            .verify_image(&[c], &ImagePolicy::for_digest(digest(2)))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("artifact digest: the signature covers"),
            "{err}"
        );
        assert_eq!(
            verifier
                .verify_image(&[], &ImagePolicy::for_digest(digest(2)))
                .unwrap_err(),
            VerifyError::NoSignatures { digest: digest(2) }
        );
    }

    #[test]
    fn strips_tags_not_ports() {
        assert_eq!(
            strip_tag("127.0.0.1:5000/test/app:v1"),
            "127.0.0.1:5000/test/app"
        );
        assert_eq!(
            strip_tag("127.0.0.1:5000/test/app"),
            "127.0.0.1:5000/test/app"
        );
        assert_eq!(strip_tag("r/app@sha256:abc"), "r/app");
    }
}
