//! Image signatures: candidates read from a registry, the policy an image
//! must satisfy, and the record of what verified.

use std::collections::BTreeMap;

use signet_core::bundle::Bundle;
use signet_core::intoto::{COSIGN_SIGN_PREDICATE_TYPE, Statement};
use signet_core::limits::MAX_SIGNATURE_BYTES_PER_IMAGE;
use signet_core::payload::SimpleSigningPayload;
use signet_core::reference::{Reference, RepositoryRef};
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
    repository: Option<RepositoryRef>,
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

    /// Requires `critical.identity.docker-reference` to name `repository`,
    /// which stops a signature from being replayed for the same digest in
    /// another repository. cosign does not check this.
    ///
    /// Both sides are compared as parsed repositories, so the spellings of one
    /// repository agree (`x`, `docker.io/library/x` and
    /// `index.docker.io/library/x:tag` all name `index.docker.io/library/x`).
    pub fn require_repository(mut self, repository: RepositoryRef) -> Self {
        self.repository = Some(repository);
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
        // An attestation (SLSA provenance, an SBOM) signed by the same key
        // or identity is not a signature of the image: only cosign's
        // signing predicate counts, as in cosign 3.
        if statement.predicate_type != COSIGN_SIGN_PREDICATE_TYPE {
            return Err(format!(
                "the bundle's statement has predicate type {}, not a signature ({COSIGN_SIGN_PREDICATE_TYPE})",
                statement.predicate_type
            ));
        }
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
            let signed = signed_repository(&payload.docker_reference)?;
            if signed != *repo {
                return Err(format!("signature is for repository {signed}, not {repo}"));
            }
        }
        Ok(())
    }
}

/// The repository a payload's `docker-reference` names; any tag or digest in
/// it is not part of the repository.
fn signed_repository(docker_reference: &str) -> Result<RepositoryRef, String> {
    docker_reference
        .parse::<Reference>()
        .map(|r| r.repository_ref().clone())
        .map_err(|e| format!("the signed docker-reference does not parse: {e}"))
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

/// An image with a signature that satisfied the keys and policy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedImage {
    /// The image manifest digest.
    pub digest: Digest,
    /// The signature that satisfied the policy. Verification stops at the
    /// first one, so this holds exactly one signature.
    pub signatures: Vec<VerifiedSignature>,
    /// Signatures examined before it and not accepted, and why.
    pub rejected: Vec<Rejection>,
}

/// The verification of one image's signatures, fed one candidate at a time
/// as they arrive and stopped at the first that satisfies the policy.
///
/// What it checks is bounded whatever the registry serves: at most
/// [`MAX_SIGNATURE_BYTES_PER_IMAGE`] payload bytes are hashed and checked;
/// candidates beyond that are rejected unchecked.
#[derive(Debug)]
pub struct ImageVerification<'a> {
    verifier: &'a Verifier,
    policy: &'a ImagePolicy,
    verified: Option<VerifiedSignature>,
    rejected: Vec<Rejection>,
    checked_bytes: usize,
}

impl<'a> ImageVerification<'a> {
    /// Checks one candidate: its signature over `payload` under a trusted
    /// key, then the policy. Returns whether the image is now verified (then
    /// offering more does nothing).
    pub fn offer(&mut self, payload: &[u8], bundle: &Bundle, origin: &str) -> bool {
        if self.verified.is_some() {
            return true;
        }
        if self.checked_bytes.saturating_add(payload.len()) > MAX_SIGNATURE_BYTES_PER_IMAGE {
            self.reject(
                origin,
                format!(
                    "not checked: its {} payload bytes would take the image past the limit of {MAX_SIGNATURE_BYTES_PER_IMAGE} bytes of signature payloads",
                    payload.len()
                ),
            );
            return false;
        }
        self.checked_bytes += payload.len();
        match self
            .verifier
            .verify_candidate(payload, bundle, origin, self.policy)
        {
            Ok(signature) => {
                self.verified = Some(signature);
                true
            }
            Err(e) => {
                self.rejected.push(Rejection::failed(origin, e));
                false
            }
        }
    }

    /// Records a signature that could not even be offered (its payload could
    /// not be read, or its layer is malformed).
    pub fn reject(&mut self, origin: impl Into<String>, reason: impl Into<String>) {
        self.rejected.push(Rejection::other(origin, reason));
    }

    /// Whether a signature has satisfied the policy.
    pub fn is_verified(&self) -> bool {
        self.verified.is_some()
    }

    /// The outcome: the verified image, [`VerifyError::NoSignatures`] if
    /// nothing was offered or rejected, [`VerifyError::NoCertificate`] if a
    /// certificate identity was asked for and no signature had a
    /// certificate, or [`VerifyError::NoMatchingSignature`] with every
    /// rejection.
    pub fn finish(self) -> Result<VerifiedImage, VerifyError> {
        let digest = self.policy.digest.clone();
        match self.verified {
            Some(signature) => Ok(VerifiedImage {
                digest,
                signatures: vec![signature],
                rejected: self.rejected,
            }),
            None if self.rejected.is_empty() => Err(VerifyError::NoSignatures { digest }),
            None => Err(outcome_error(digest, self.rejected)),
        }
    }
}

impl Verifier {
    /// Starts verifying one image's signatures against `policy`; see
    /// [`ImageVerification`].
    pub fn start_image<'a>(&'a self, policy: &'a ImagePolicy) -> ImageVerification<'a> {
        ImageVerification {
            verifier: self,
            policy,
            verified: None,
            rejected: Vec::new(),
            checked_bytes: 0,
        }
    }

    /// Verifies an image's signature candidates against `policy`, in order,
    /// stopping at the first that verifies under a trusted key and satisfies
    /// the policy.
    pub fn verify_image(
        &self,
        candidates: &[SignatureCandidate],
        policy: &ImagePolicy,
    ) -> Result<VerifiedImage, VerifyError> {
        let mut verification = self.start_image(policy);
        for c in candidates {
            if verification.offer(&c.payload, &c.bundle, &c.origin) {
                break;
            }
        }
        verification.finish()
    }

    fn verify_candidate(
        &self,
        signed: &[u8],
        bundle: &Bundle,
        origin: &str,
        policy: &ImagePolicy,
    ) -> Result<VerifiedSignature, CheckError> {
        let payload_error = |e: String| CheckError::new(Check::ArtifactDigest, Blame::Policy, e);
        if let Some(envelope) = bundle.dsse_envelope() {
            // A bundle (cosign v3 `sign`, or an attestation): its statement
            // must name the image digest as a subject.
            let verification = self.verify_bundle(
                bundle,
                SignedContent::Digest(&policy.digest),
                &policy.signer,
            )?;
            let statement = Statement::parse(&envelope.payload)
                .map_err(|e| CheckError::malformed(Check::ArtifactDigest, e))?;
            policy.check_statement(&statement).map_err(payload_error)?;
            return Ok(VerifiedSignature {
                origin: origin.to_owned(),
                verification,
                payload: None,
                payload_bytes: envelope.payload.clone(),
                evidence: bundle.clone(),
            });
        }
        // A legacy signature over a simple-signing payload. The signature
        // first: nothing in an unauthenticated payload is worth reading.
        let artifact = Artifact::from_bytes(signed.to_vec());
        let verification =
            self.verify_bundle(bundle, SignedContent::Artifact(&artifact), &policy.signer)?;
        let payload = SimpleSigningPayload::parse(signed)
            .map_err(|e| CheckError::malformed(Check::ArtifactDigest, e))?;
        policy.check(&payload).map_err(payload_error)?;
        Ok(VerifiedSignature {
            origin: origin.to_owned(),
            verification,
            payload: Some(payload),
            payload_bytes: signed.to_vec(),
            evidence: bundle.clone(),
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

    /// Verifiers for signatures that were never logged.
    fn keys_only(keys: Vec<TrustedKey>) -> Verifier {
        Verifier::builder()
            .trusted_keys(keys)
            .unsafe_skip_transparency_log()
            .build()
            .unwrap()
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
            .require_repository(repo("reg.example/team/app"));
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
        let other =
            ImagePolicy::for_digest(digest(1)).require_repository(repo("reg.example/other"));
        assert!(
            verifier
                .verify_image(&c, &other)
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

    fn repo(s: &str) -> RepositoryRef {
        s.parse().unwrap()
    }

    #[test]
    fn repositories_are_compared_parsed() {
        let hub = repo("index.docker.io/library/x");
        for same in [
            "x",
            "x:v1",
            "docker.io/library/x",
            "docker.io/x",
            "index.docker.io/library/x",
            "index.docker.io/library/x:latest",
            "library/x@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert_eq!(signed_repository(same).unwrap(), hub, "{same}");
        }
        for other in [
            "y",
            "docker.io/other/x",
            "ghcr.io/library/x",
            "localhost:5000/x",
        ] {
            assert_ne!(signed_repository(other).unwrap(), hub, "{other}");
        }
        // A port is not a tag.
        assert_eq!(
            signed_repository("127.0.0.1:5000/test/app:v1").unwrap(),
            repo("127.0.0.1:5000/test/app")
        );
        assert!(signed_repository("").is_err());
        assert!(signed_repository("UPPER/case:x y").is_err());
    }

    #[test]
    fn docker_reference_spellings_satisfy_the_repository_policy() {
        let key = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let policy = ImagePolicy::for_digest(digest(1)).require_repository(repo("x"));
        for signed in ["x", "docker.io/library/x", "index.docker.io/library/x"] {
            let payload = SimpleSigningPayload::new(signed, digest(1), &BTreeMap::new());
            verifier
                .verify_image(&[candidate(&key, &payload)], &policy)
                .unwrap_or_else(|e| panic!("{signed}: {e}"));
        }
        let payload = SimpleSigningPayload::new("not a reference!", digest(1), &BTreeMap::new());
        let err = verifier
            .verify_image(&[candidate(&key, &payload)], &policy)
            .unwrap_err();
        assert!(err.to_string().contains("does not parse"), "{err}");
    }

    #[test]
    fn stops_at_the_first_signature_that_satisfies_the_policy() {
        let key = PrivateKey::generate_p256().unwrap();
        let stranger = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let payload = SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new());
        let mut first = candidate(&key, &payload);
        first.origin = "first".into();
        let mut second = candidate(&key, &payload);
        second.origin = "second".into();
        let candidates = [candidate(&stranger, &payload), first, second];
        let v = verifier
            .verify_image(&candidates, &ImagePolicy::for_digest(digest(1)))
            .unwrap();
        assert_eq!(v.signatures.len(), 1);
        assert_eq!(v.signatures[0].origin, "first");
        assert_eq!(v.rejected.len(), 1, "the one before it");
    }

    #[test]
    fn checked_payload_bytes_are_capped_per_image() {
        let key = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let policy = ImagePolicy::for_digest(digest(1));
        let big = vec![b' '; 1 << 20];
        let bundle = Layer::simple_signing(&big, "MEUCIQ==".into())
            .to_bundle()
            .unwrap();
        let mut verification = verifier.start_image(&policy);
        for n in 0..10 {
            assert!(!verification.offer(&big, &bundle, &format!("layer {n}")));
        }
        // A good signature after the budget is spent is not checked either.
        let good = candidate(
            &key,
            &SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new()),
        );
        assert!(!verification.offer(&good.payload, &good.bundle, "good"));
        let VerifyError::NoMatchingSignature { rejections, .. } =
            verification.finish().unwrap_err()
        else {
            panic!("expected no matching signature");
        };
        let unchecked = rejections
            .iter()
            .filter(|r| r.reason.starts_with("not checked"))
            .count();
        assert_eq!(unchecked, 11 - MAX_SIGNATURE_BYTES_PER_IMAGE / (1 << 20));
    }

    #[test]
    fn nothing_offered_is_no_signatures() {
        let key = PrivateKey::generate_p256().unwrap();
        let verifier = keys_only(vec![TrustedKey::new("k", key.public_key())]);
        let policy = ImagePolicy::for_digest(digest(3));
        assert_eq!(
            verifier.start_image(&policy).finish().unwrap_err(),
            VerifyError::NoSignatures { digest: digest(3) }
        );
        let mut v = verifier.start_image(&policy);
        v.reject("layer 1", "unreadable");
        assert!(matches!(
            v.finish().unwrap_err(),
            VerifyError::NoMatchingSignature { .. }
        ));
    }
}
