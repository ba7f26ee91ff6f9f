//! Real material verifies offline: bundles and image signatures made by
//! cosign 2.5 and sigstore-python against the mock Sigstore
//! (tests/vectors/{cosign-2.5-keyless,sigstore-python-4.5.1,sigstore-mock}),
//! and public-good material (npm provenance and publish attestations,
//! cosign-made public bundles, a 2021 legacy keyless layer) with the shipped
//! public-good trusted root.

use std::collections::BTreeMap;
use std::path::PathBuf;

use signet_core::bundle::Bundle;
use signet_core::hash::{HashAlgorithm, HashOutput};
use signet_core::keys::PublicKey;
use signet_core::payload::SimpleSigningPayload;
use signet_core::signature_manifest::{Layer, SignatureManifest};
use signet_core::{Artifact, Digest};
use signet_pki::time::{TimeRange, from_unix_seconds};
use signet_trust::TrustedRoot;
use signet_verify::{
    CertificateIdentity, Check, ImagePolicy, Matcher, SignatureCandidate, SignedContent, Signer,
    SignerPolicy, TimeSource, TrustedKey, VerifiedBundle, Verifier, WorkflowClaim,
};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(vectors().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bundle(path: &str) -> Bundle {
    Bundle::parse(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn public_good() -> Verifier {
    Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .build()
        .unwrap()
}

fn mock_root() -> TrustedRoot {
    TrustedRoot::parse(&read("sigstore-mock/trusted_root.json")).unwrap()
}

fn mock() -> Verifier {
    Verifier::builder()
        .trusted_root(mock_root())
        .build()
        .unwrap()
}

fn mock_identity() -> (String, String) {
    let ids: serde_json::Value =
        serde_json::from_slice(&read("sigstore-mock/identities.json")).unwrap();
    (
        ids["email"]["identity"].as_str().unwrap().to_owned(),
        ids["email"]["issuer"].as_str().unwrap().to_owned(),
    )
}

fn email_identity() -> SignerPolicy {
    let (who, issuer) = mock_identity();
    SignerPolicy::identity(CertificateIdentity::exact(who, issuer))
}

fn certificate(v: &VerifiedBundle) -> &signet_verify::CertificateSigner {
    match &v.signer {
        Signer::Certificate(c) => c,
        other => panic!("signed by {other:?}"),
    }
}

fn sha512_of_tarball(name: &str) -> HashOutput {
    let text = String::from_utf8(read("public-good/npm/tarball-digests.txt")).unwrap();
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} sha512 ")))
        .unwrap();
    HashOutput::new(HashAlgorithm::Sha2_512, hex::decode(hex).unwrap()).unwrap()
}

const SIGSTORE_JS_RELEASE: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
const GITHUB_ACTIONS: &str = "https://token.actions.githubusercontent.com";

#[test]
fn npm_provenance_bundles_verify_offline() {
    let verifier = public_good();
    let policy = SignerPolicy::identity(CertificateIdentity::exact(
        SIGSTORE_JS_RELEASE,
        GITHUB_ACTIONS,
    ));
    for (file, package) in [
        (
            "public-good/npm/sigstore-1.3.0.provenance.sigstore.json",
            "sigstore@1.3.0",
        ),
        (
            "public-good/npm/sigstore-2.0.0.provenance.sigstore.json",
            "sigstore@2.0.0",
        ),
    ] {
        let digest = sha512_of_tarball(package);
        let v = verifier
            .verify_bundle(&bundle(file), SignedContent::Hash(&digest), &policy)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let signer = certificate(&v);
        assert_eq!(signer.subject, SIGSTORE_JS_RELEASE);
        assert_eq!(signer.issuer.as_deref(), Some(GITHUB_ACTIONS));
        assert_eq!(signer.certificate_authority, "https://fulcio.sigstore.dev");
        assert!(signer.claims.source_repository_uri.is_some() || file.contains("1.3.0"));
        assert_eq!(v.tlog_entries.len(), 1);
        assert!(v.tlog_entries[0].integrated_time.is_some());
        assert!(matches!(
            v.timestamps[0].source,
            TimeSource::IntegratedTime { .. }
        ));
        assert_eq!(
            v.certificate_transparency,
            ["https://ctfe.sigstore.dev/2022"]
        );
        assert!(
            v.statement
                .as_ref()
                .unwrap()
                .predicate_type
                .starts_with("https://slsa.dev/provenance/")
        );
        // Another package's digest is not what the statement is about.
        let other = sha512_of_tarball(if package.ends_with("1.3.0") {
            "sigstore@2.0.0"
        } else {
            "sigstore@1.3.0"
        });
        let e = verifier
            .verify_bundle(&bundle(file), SignedContent::Hash(&other), &policy)
            .unwrap_err();
        assert_eq!(e.check, Check::ArtifactDigest, "{e}");
    }
    // The 1.3.0 bundle (v0.1) repeats the public-good root in its chain:
    // tolerated, and said so.
    let v = verifier
        .verify_bundle(
            &bundle("public-good/npm/sigstore-1.3.0.provenance.sigstore.json"),
            SignedContent::Hash(&sha512_of_tarball("sigstore@1.3.0")),
            &policy,
        )
        .unwrap();
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("repeats the trusted root certificate")),
        "{:?}",
        v.notes
    );
}

#[test]
fn npm_publish_attestation_verifies_with_the_registry_key_in_its_window() {
    let key = PublicKey::from_pem(&read("public-good/npm/npm-registry-2023.pub")).unwrap();
    let expiry: std::time::SystemTime = "2025-01-29T00:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .into();
    let file = "public-good/npm/sigstore-1.3.0.publish.sigstore.json";
    let digest = sha512_of_tarball("sigstore@1.3.0");
    let verifier = Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .trusted_key(
            TrustedKey::new("npm registry key", key.clone())
                .valid_for(TimeRange::new(None, Some(expiry))),
        )
        .build()
        .unwrap();
    let v = verifier
        .verify_bundle(
            &bundle(file),
            SignedContent::Hash(&digest),
            &SignerPolicy::TrustedKeys,
        )
        .unwrap();
    assert_eq!(
        v.signer,
        Signer::Key {
            key: "npm registry key".into()
        }
    );
    assert_eq!(v.tlog_entries[0].kind, "intoto/0.0.2");
    // The same key, trusted only from 2024 on, did not sign in 2023.
    let later = Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .trusted_key(
            TrustedKey::new("npm registry key", key)
                .valid_for(TimeRange::new(Some(from_unix_seconds(1_704_067_200)), None)),
        )
        .build()
        .unwrap();
    let e = later
        .verify_bundle(
            &bundle(file),
            SignedContent::Hash(&digest),
            &SignerPolicy::TrustedKeys,
        )
        .unwrap_err();
    assert_eq!(e.check, Check::SigningKey, "{e}");
    assert!(
        e.message
            .contains("is trusted for [2024-01-01T00:00:00Z, +inf], but signed at 2023-"),
        "{e}"
    );
}

#[test]
fn cosign_made_public_bundles_verify_offline() {
    let verifier = public_good();
    // `cosign attest`, keyless with a GitHub login, dsse 0.0.1.
    let digest = Digest::from_raw(
        hex::decode("732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let v = verifier
        .verify_bundle(
            &bundle("public-good/cosign/oci-attestation.sigstore.json"),
            SignedContent::Digest(&digest),
            &SignerPolicy::identity(CertificateIdentity::exact(
                "cody@soyland.com",
                "https://github.com/login/oauth",
            )),
        )
        .unwrap();
    assert_eq!(certificate(&v).subject, "cody@soyland.com");
    assert_eq!(v.tlog_entries[0].kind, "dsse/0.0.1");

    // A v0.3 DSSE bundle with an RFC 3161 timestamp from the public TSA:
    // both the log and the TSA vouch for the signing time.
    let digest = Digest::from_raw(
        hex::decode("c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let policy = SignerPolicy::identity(
        CertificateIdentity::new(
            Matcher::regex("^https://github.com/kubewarden/.*/release.yml@refs/tags/v").unwrap(),
            Matcher::Exact(GITHUB_ACTIONS.into()),
        )
        .claim(WorkflowClaim::Trigger, "push"),
    );
    let v = verifier
        .verify_bundle(
            &bundle("public-good/cosign/sigstore-rs-bundle_v03.json"),
            SignedContent::Digest(&digest),
            &policy,
        )
        .unwrap();
    assert!(
        v.timestamps
            .iter()
            .any(|t| matches!(t.source, TimeSource::SignedTimestamp { .. })),
        "{:?}",
        v.timestamps
    );
    assert!(
        v.timestamps
            .iter()
            .any(|t| matches!(t.source, TimeSource::IntegratedTime { .. }))
    );
    assert_eq!(
        v.statement.as_ref().unwrap().predicate_type,
        "https://sigstore.dev/cosign/sign/v1"
    );
    // The same identity under the public-good root with signed timestamps required.
    let strict = Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .signed_timestamp_threshold(std::num::NonZeroUsize::MIN)
        .build()
        .unwrap();
    strict
        .verify_bundle(
            &bundle("public-good/cosign/sigstore-rs-bundle_v03.json"),
            SignedContent::Digest(&digest),
            &policy,
        )
        .unwrap();
}

fn legacy_layer(annotations: BTreeMap<String, String>, payload: &[u8]) -> Layer {
    Layer {
        media_type: "application/vnd.dev.cosign.simplesigning.v1+json".into(),
        size: payload.len() as u64,
        digest: Digest::sha256_of(payload),
        annotations,
    }
}

#[test]
fn legacy_keyless_layer_from_2021_verifies_offline() {
    let fixture: serde_json::Value =
        serde_json::from_slice(&read("public-good/legacy/keyless-rekord-layer.json")).unwrap();
    let annotations: BTreeMap<String, String> =
        serde_json::from_value(fixture["annotations"].clone()).unwrap();
    let image: Digest = fixture["payload"]["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let payload = SimpleSigningPayload::new(
        "registry-testing.svc.lan/kubewarden/disallow-service-nodeport",
        image.clone(),
        &BTreeMap::new(),
    )
    .to_bytes();
    let candidate = SignatureCandidate {
        bundle: legacy_layer(annotations, &payload).to_bundle().unwrap(),
        payload,
        origin: "layer 1".into(),
    };
    // October 2021: Fulcio did not embed SCTs yet, nor the OIDC issuer
    // extension; cosign needs --insecure-ignore-sct for it too.
    let verifier = Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .unsafe_skip_sct()
        .build()
        .unwrap();
    let policy = ImagePolicy::for_digest(image.clone()).signer(SignerPolicy::UnsafeAnyIdentity);
    let v = verifier
        .verify_image(std::slice::from_ref(&candidate), &policy)
        .unwrap();
    let sig = &v.signatures[0];
    assert_eq!(certificate(&sig.verification).subject, "flavio@castelli.me");
    assert_eq!(sig.verification.tlog_entries[0].kind, "rekord/0.0.1");
    assert_eq!(sig.verification.tlog_entries[0].log_index, 783607);
    assert_eq!(
        sig.verification.tlog_entries[0].integrated_time,
        Some(1634714717)
    );
    // An identity that names an issuer cannot match a certificate without one.
    let policy =
        ImagePolicy::for_digest(image).signer(SignerPolicy::identity(CertificateIdentity::new(
            Matcher::Exact("flavio@castelli.me".into()),
            Matcher::regex(".*").unwrap(),
        )));
    let e = verifier
        .verify_image(std::slice::from_ref(&candidate), &policy)
        .unwrap_err();
    assert!(e.to_string().contains("certificate issuer (none"), "{e}");
    // With SCTs required, as by default, it is refused for want of one.
    let e = public_good()
        .verify_image(
            &[candidate],
            &ImagePolicy::for_digest(Digest::sha256_of(b"x"))
                .signer(SignerPolicy::UnsafeAnyIdentity),
        )
        .unwrap_err();
    assert!(e.to_string().contains("certificate transparency"), "{e}");
}

#[test]
fn cosign_keyless_blob_bundles_from_the_mock_verify() {
    let verifier = mock();
    let blob = Artifact::from_bytes(read("cosign-2.5-keyless/blob"));
    for file in [
        "cosign-2.5-keyless/blob.sigstore.json",
        "cosign-2.5-keyless/blob-tsa.sigstore.json",
        "sigstore-python-4.5.1/blob.sigstore.json",
    ] {
        let v = verifier
            .verify_blob(&blob, &bundle(file), &email_identity())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(certificate(&v.verification).subject, mock_identity().0);
        assert_eq!(v.verification.tlog_entries.len(), 1, "{file}");
        if file.contains("tsa") || file.contains("python") {
            assert!(
                v.verification
                    .timestamps
                    .iter()
                    .any(|t| matches!(t.source, TimeSource::SignedTimestamp { .. })),
                "{file}: {:?} {:?}",
                v.verification.timestamps,
                v.verification.notes
            );
        }
    }
    // The Gitea-shaped CI identity, with its claims.
    let ids: serde_json::Value =
        serde_json::from_slice(&read("sigstore-mock/identities.json")).unwrap();
    let gitea = SignerPolicy::identity(CertificateIdentity::exact(
        ids["gitea-actions"]["identity"].as_str().unwrap(),
        ids["gitea-actions"]["issuer"].as_str().unwrap(),
    ));
    let v = verifier
        .verify_blob(
            &blob,
            &bundle("cosign-2.5-keyless/blob-gitea.sigstore.json"),
            &gitea,
        )
        .unwrap();
    assert!(
        certificate(&v.verification)
            .claims
            .build_signer_uri
            .is_some()
    );

    // Negative vectors: another artefact, a flipped signature bit.
    let tampered = Artifact::from_bytes(read("cosign-2.5-keyless/blob.tampered"));
    let e = verifier
        .verify_blob(
            &tampered,
            &bundle("cosign-2.5-keyless/blob.sigstore.json"),
            &email_identity(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("artifact digest: the signature covers"),
        "{e}"
    );
    let e = verifier
        .verify_blob(
            &blob,
            &bundle("cosign-2.5-keyless/blob.bad-signature.sigstore.json"),
            &email_identity(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("transparency log entry"), "{e}");
}

/// The layers of a `.sig` manifest vector as the registry served them.
fn image_candidates(prefix: &str) -> Vec<SignatureCandidate> {
    let manifest = SignatureManifest::parse(&read(&format!("{prefix}.manifest.json"))).unwrap();
    manifest
        .signatures()
        .enumerate()
        .map(|(i, layer)| {
            let payload = read(&format!("{prefix}.layer-{}.json", i + 1));
            assert_eq!(Digest::sha256_of(&payload), layer.digest);
            SignatureCandidate {
                bundle: layer.to_bundle().unwrap(),
                payload,
                origin: format!("layer {}", i + 1),
            }
        })
        .collect()
}

fn image_digest(file: &str) -> Digest {
    String::from_utf8(read(file))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn cosign_image_signatures_from_the_mock_verify() {
    // Keyless, legacy `.sig` layout: certificate, chain (the root) and Rekor bundle.
    let digest = image_digest("cosign-2.5-keyless/image.digest");
    let v = mock()
        .verify_image(
            &image_candidates("cosign-2.5-keyless/image.sig"),
            &ImagePolicy::for_digest(digest.clone()).signer(email_identity()),
        )
        .unwrap();
    let sig = &v.signatures[0];
    assert_eq!(certificate(&sig.verification).subject, mock_identity().0);
    assert!(sig.verification.tlog_entries[0].signed_entry_timestamp);
    // Wrong identity and wrong issuer, exact and regexp, each named.
    let (who, issuer) = mock_identity();
    for (policy, expect) in [
        (
            CertificateIdentity::exact("other@example.test", &issuer),
            "does not match --certificate-identity \"other@example.test\"",
        ),
        (
            CertificateIdentity::new(
                Matcher::regex("^admin@").unwrap(),
                Matcher::Exact(issuer.clone()),
            ),
            "does not match --certificate-identity-regexp \"^admin@\"",
        ),
        (
            CertificateIdentity::exact(&who, "https://accounts.example.test"),
            "does not match --certificate-oidc-issuer \"https://accounts.example.test\"",
        ),
        (
            CertificateIdentity::new(
                Matcher::Exact(who.clone()),
                Matcher::regex("^https://token").unwrap(),
            ),
            "does not match --certificate-oidc-issuer-regexp \"^https://token\"",
        ),
    ] {
        let e = mock()
            .verify_image(
                &image_candidates("cosign-2.5-keyless/image.sig"),
                &ImagePolicy::for_digest(digest.clone()).signer(SignerPolicy::identity(policy)),
            )
            .unwrap_err();
        assert!(e.to_string().contains(expect), "{e}");
    }

    // Key-based, uploaded to the log: verifies offline against the log key.
    let key = PublicKey::from_pem(&read("cosign-2.5-keyless/cosign.pub")).unwrap();
    let keyed = Verifier::builder()
        .trusted_root(mock_root())
        .trusted_key(TrustedKey::new("cosign.pub", key.clone()))
        .build()
        .unwrap();
    let digest = image_digest("cosign-2.5-keyless/image-key.digest");
    let v = keyed
        .verify_image(
            &image_candidates("cosign-2.5-keyless/image-key.sig"),
            &ImagePolicy::for_digest(digest.clone()),
        )
        .unwrap();
    assert_eq!(
        v.signatures[0].verification.signer,
        Signer::Key {
            key: "cosign.pub".into()
        }
    );
    assert_eq!(v.signatures[0].verification.tlog_entries.len(), 1);
    // The same signature under a root whose log is another one: fails closed.
    let foreign = Verifier::builder()
        .trusted_root(signet_trust::public_good::trusted_root().unwrap())
        .trusted_key(TrustedKey::new("cosign.pub", key))
        .build()
        .unwrap();
    let e = foreign
        .verify_image(
            &image_candidates("cosign-2.5-keyless/image-key.sig"),
            &ImagePolicy::for_digest(digest),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("transparency log: 0 of the 1 required"),
        "{e}"
    );

    // The legacy signature stored as an OCI 1.1 referrer.
    let digest = image_digest("cosign-2.5-keyless/image-oci11.digest");
    mock()
        .verify_image(
            &image_candidates("cosign-2.5-keyless/image-oci11.referrer"),
            &ImagePolicy::for_digest(digest).signer(email_identity()),
        )
        .unwrap();
}

#[test]
fn cosign_attestations_from_the_mock_verify() {
    // `.att`: a DSSE envelope as the layer, converted at the edge.
    let manifest =
        SignatureManifest::parse(&read("cosign-2.5-keyless/image.att.manifest.json")).unwrap();
    let layer = manifest.layers.first().unwrap().clone();
    let envelope = read("cosign-2.5-keyless/image.att.layer-1.json");
    let att = layer.to_attestation_bundle(&envelope).unwrap();
    let digest = image_digest("cosign-2.5-keyless/image-attest.digest");
    let v = mock()
        .verify_bundle(&att, SignedContent::Digest(&digest), &email_identity())
        .unwrap();
    assert_eq!(v.tlog_entries[0].kind, "dsse/0.0.1");
    let e = mock()
        .verify_bundle(
            &att,
            SignedContent::Digest(&Digest::sha256_of(b"x")),
            &email_identity(),
        )
        .unwrap_err();
    assert_eq!(e.check, Check::ArtifactDigest, "{e}");

    // A v0.3 bundle stored as a referrer.
    let referrer: serde_json::Value = serde_json::from_slice(&read(
        "cosign-2.5-keyless/image-bundle.referrer.manifest.json",
    ))
    .unwrap();
    assert!(
        referrer["layers"][0]["mediaType"]
            .as_str()
            .unwrap()
            .starts_with("application/vnd.dev.sigstore.bundle")
    );
    let b = bundle("cosign-2.5-keyless/image-bundle.referrer.layer-1.json");
    let digest = image_digest("cosign-2.5-keyless/image-bundle.digest");
    // It verifies as a bundle over the image digest...
    mock()
        .verify_bundle(&b, SignedContent::Digest(&digest), &email_identity())
        .unwrap();
    // ...but it is an attestation (SLSA provenance), not a signature of the
    // image: an image verification does not count it, as cosign 3 does not.
    let e = mock()
        .verify_image(
            &[SignatureCandidate {
                payload: Vec::new(),
                bundle: b,
                origin: "referrer".into(),
            }],
            &ImagePolicy::for_digest(digest).signer(email_identity()),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("predicate type https://slsa.dev/provenance/v0.2, not a signature"),
        "{e}"
    );
}
