//! Image signatures: candidates read from a registry, the policy an image
//! must satisfy, and the record of what verified.

use std::collections::BTreeMap;

use signet_core::Digest;
use signet_core::bundle::Bundle;
use signet_core::payload::SimpleSigningPayload;
use signet_core::reference::{Reference, RepositoryRef};

use crate::error::{Rejection, VerifyError};
use crate::verifier::{TlogCheck, Verifier};

/// One signature found for an image, converted to the bundle model.
#[derive(Debug, Clone)]
pub struct SignatureCandidate {
    /// The signed simple-signing payload bytes.
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
}

impl ImagePolicy {
    /// A policy for the image with manifest digest `digest`. The digest is
    /// mandatory: a signature is only ever accepted for a specific manifest.
    pub fn for_digest(digest: Digest) -> Self {
        Self {
            digest,
            annotations: BTreeMap::new(),
            repository: None,
        }
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
    /// The trusted key that verified it.
    pub key: String,
    /// Where the signature was found.
    pub origin: String,
    /// Transparency-log status.
    pub tlog: TlogCheck,
    /// The parsed payload.
    #[serde(skip)]
    pub payload: SimpleSigningPayload,
    /// The payload exactly as signed.
    #[serde(skip)]
    pub payload_bytes: Vec<u8>,
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
                Err(reason) => rejected.push(Rejection {
                    origin: candidate.origin.clone(),
                    reason,
                }),
            }
        }
        if signatures.is_empty() {
            return Err(VerifyError::NoMatchingSignature {
                digest: policy.digest.clone(),
                rejections: rejected,
            });
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
    ) -> Result<VerifiedSignature, String> {
        // The signature first: nothing in an unauthenticated payload is worth reading.
        let key = self.check_signature(&c.payload, &c.bundle)?;
        let payload = SimpleSigningPayload::parse(&c.payload).map_err(|e| e.to_string())?;
        policy.check(&payload)?;
        Ok(VerifiedSignature {
            key: key.name.clone(),
            origin: c.origin.clone(),
            tlog: TlogCheck::NotChecked,
            payload,
            payload_bytes: c.payload.clone(),
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

    #[test]
    fn any_trusted_key_verifies_during_rotation() {
        let old = PrivateKey::generate_p256().unwrap();
        let new = PrivateKey::generate_p256().unwrap();
        let verifier = Verifier::new(vec![
            TrustedKey::new("old.pub", old.public_key()),
            TrustedKey::new("new.pub", new.public_key()),
        ])
        .unwrap();
        let payload = SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new());
        let policy = ImagePolicy::for_digest(digest(1));
        for (key, name) in [(&old, "old.pub"), (&new, "new.pub")] {
            let v = verifier
                .verify_image(&[candidate(key, &payload)], &policy)
                .unwrap();
            assert_eq!(v.signatures[0].key, name);
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
        let verifier = Verifier::new(vec![TrustedKey::new("k", key.public_key())]).unwrap();
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
        let verifier = Verifier::new(vec![TrustedKey::new("k", key.public_key())]).unwrap();
        let payload = SimpleSigningPayload::new("r/app", digest(1), &BTreeMap::new());
        let mut c = candidate(&key, &payload);
        c.payload = SimpleSigningPayload::new("r/app", digest(2), &BTreeMap::new()).to_bytes();
        let err = verifier
            .verify_image(&[c], &ImagePolicy::for_digest(digest(2)))
            .unwrap_err();
        assert!(
            err.to_string().contains("signed content has digest"),
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
        let verifier = Verifier::new(vec![TrustedKey::new("k", key.public_key())]).unwrap();
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
}
