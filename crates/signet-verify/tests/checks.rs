//! One negative test per check, each failing with its own message: evidence
//! minted by a Sigstore in memory (signet-testing's `VirtualSigstore`),
//! valid in every respect but the one each test changes.

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime};

use signet_core::bundle::{Bundle, BundleContent, VerificationMaterial};
use signet_core::keys::PrivateKey;
use signet_core::limits::MAX_BUNDLE_BYTES;
use signet_core::{Artifact, Digest};
use signet_pki::ca::{CaOptions, KeyAlgorithm, create_fulcio_ca};
use signet_pki::profile::SubjectAltName;
use signet_pki::sct::CtLogSigner;
use signet_pki::time::from_unix_seconds;
use signet_testing::virtual_sigstore::{SignOptions, Signed, VirtualSigstore};
use signet_tlog::checkpoint::Checkpoint;
use signet_tlog::note::KeyName;
use signet_tlog::note_keys::NoteSignerKey;
use signet_tlog::set::SetPayload;
use signet_verify::{
    CertificateIdentity, Check, Matcher, SignedContent, SignerPolicy, TrustedKey, Verifier,
};

const WHO: &str = "release@signet.test";
const ISSUER: &str = "https://oidc.signet.test";
const BLOB: &[u8] = b"release notes";

/// A fixed "now" for the whole test: 2026-06-01.
fn now() -> SystemTime {
    from_unix_seconds(1_780_272_000)
}

fn options(at: SystemTime) -> SignOptions {
    SignOptions {
        identity: SubjectAltName::Email(WHO.into()),
        issuer: ISSUER.into(),
        issued_at: at,
        integrated_at: at + Duration::from_secs(2),
        timestamped_at: Some(at + Duration::from_secs(1)),
    }
}

struct Fixture {
    sigstore: VirtualSigstore,
    verifier: Verifier,
}

fn fixture() -> Fixture {
    let sigstore = VirtualSigstore::new(now() - Duration::from_secs(86_400)).unwrap();
    let verifier = verifier(&sigstore, |b| b);
    Fixture { sigstore, verifier }
}

fn verifier(
    sigstore: &VirtualSigstore,
    adjust: impl FnOnce(signet_verify::VerifierBuilder) -> signet_verify::VerifierBuilder,
) -> Verifier {
    adjust(
        Verifier::builder()
            .trusted_root(sigstore.trusted_root().unwrap())
            .current_time(now()),
    )
    .build()
    .unwrap()
}

fn identity() -> SignerPolicy {
    SignerPolicy::identity(CertificateIdentity::exact(WHO, ISSUER))
}

fn blob() -> Artifact {
    Artifact::from_bytes(BLOB.to_vec())
}

fn signed(f: &mut Fixture) -> Signed {
    f.sigstore
        .sign_blob(BLOB, &options(now() - Duration::from_secs(600)))
        .unwrap()
}

/// Verifies and returns the failure (panics if it verified).
fn refused(
    verifier: &Verifier,
    bundle: &Bundle,
    policy: &SignerPolicy,
) -> signet_verify::CheckError {
    match verifier.verify_bundle(bundle, SignedContent::Artifact(&blob()), policy) {
        Ok(v) => panic!("verified: {v:?}"),
        Err(e) => {
            assert!(
                e.message.starts_with(e.check.name()),
                "a message begins with its check's name: {e}"
            );
            e
        }
    }
}

#[test]
fn the_untouched_evidence_verifies() {
    let mut f = fixture();
    let s = signed(&mut f);
    let v = f
        .verifier
        .verify_bundle(&s.bundle(), SignedContent::Artifact(&blob()), &identity())
        .unwrap();
    assert_eq!(v.tlog_entries.len(), 1);
    assert!(v.tlog_entries[0].signed_entry_timestamp && v.tlog_entries[0].inclusion_proof);
    assert_eq!(v.timestamps.len(), 2, "{:?}", v.timestamps);
    assert_eq!(v.certificate_transparency, ["https://ct.virtual.test"]);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["signer"]["type"], "certificate");
    assert_eq!(json["signer"]["subject"], WHO);
    assert_eq!(json["signer"]["issuer"], ISSUER);
    assert_eq!(
        json["tlogEntries"][0]["logUrl"],
        "https://rekor.virtual.test"
    );
    // A v0.1 bundle with the whole chain (intermediate and the trusted
    // root) verifies too: repeating the trusted root adds nothing.
    let chain = s.chain.iter().map(|c| c.as_der().to_vec()).collect();
    let mut v01 = s.bundle_with_material(VerificationMaterial::CertificateDer { chain });
    v01.media_type = signet_core::bundle::BUNDLE_V01_MEDIA_TYPE.into();
    f.verifier
        .verify_bundle(&v01, SignedContent::Artifact(&blob()), &identity())
        .unwrap();
}

#[test]
fn tampered_signature() {
    let mut f = fixture();
    let mut s = signed(&mut f);
    let BundleContent::MessageSignature(ms) = &mut s.content else {
        unreachable!()
    };
    let last = ms.signature.len() - 1;
    ms.signature[last] ^= 1;
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::LogEntryBody);
    assert!(
        e.message
            .contains("the signature it records differs from the bundle's signature"),
        "{e}"
    );
    // The timestamp covered the original signature, so it no longer counts.
    assert!(e.message.contains("entry"), "{e}");
    // Without the log (a key, --insecure-ignore-tlog), the signature check
    // itself says it.
    let key = PrivateKey::generate_p256().unwrap();
    let mut signature = key.sign(BLOB).unwrap();
    signature[8] ^= 1;
    let bundle =
        Bundle::for_key_signature(Digest::sha256_of(BLOB), signature, key.public_key().hint());
    let no_log = verifier(&f.sigstore, |b| {
        b.trusted_key(TrustedKey::new("k.pub", key.public_key()))
            .unsafe_skip_transparency_log()
    });
    let e = refused(&no_log, &bundle, &SignerPolicy::TrustedKeys);
    assert_eq!(e.check, Check::Signature, "{e}");
    assert!(e.message.ends_with("(k.pub)"), "{e}");
}

#[test]
fn wrong_artifact() {
    let mut f = fixture();
    let s = signed(&mut f);
    let other = Artifact::from_bytes(b"other notes".to_vec());
    let e = f
        .verifier
        .verify_bundle(&s.bundle(), SignedContent::Artifact(&other), &identity())
        .unwrap_err();
    assert_eq!(e.check, Check::ArtifactDigest);
    assert_eq!(
        e.message,
        format!(
            "artifact digest: the signature covers sha256:{}, but the artifact is sha256:{}",
            Digest::sha256_of(BLOB).hex(),
            Digest::sha256_of(b"other notes").hex()
        )
    );
}

#[test]
fn wrong_identity_and_issuer_exact_and_regexp() {
    let mut f = fixture();
    let bundle = signed(&mut f).bundle();
    let cases = [
        (
            CertificateIdentity::exact("other@signet.test", ISSUER),
            Check::CertificateIdentity,
            format!(
                "certificate identity \"{WHO}\" does not match --certificate-identity \"other@signet.test\""
            ),
        ),
        (
            CertificateIdentity::new(
                Matcher::regex("^ops@").unwrap(),
                Matcher::Exact(ISSUER.into()),
            ),
            Check::CertificateIdentity,
            format!(
                "certificate identity \"{WHO}\" does not match --certificate-identity-regexp \"^ops@\""
            ),
        ),
        (
            CertificateIdentity::exact(WHO, "https://accounts.example.test"),
            Check::CertificateIssuer,
            format!(
                "certificate issuer \"{ISSUER}\" does not match --certificate-oidc-issuer \"https://accounts.example.test\""
            ),
        ),
        (
            CertificateIdentity::new(
                Matcher::Exact(WHO.into()),
                Matcher::regex("github").unwrap(),
            ),
            Check::CertificateIssuer,
            format!(
                "certificate issuer \"{ISSUER}\" does not match --certificate-oidc-issuer-regexp \"github\""
            ),
        ),
    ];
    for (id, check, message) in cases {
        let e = refused(&f.verifier, &bundle, &SignerPolicy::identity(id));
        assert_eq!((e.check, e.message), (check, message));
    }
    // Regexps are unanchored, as in Go.
    f.verifier
        .verify_bundle(
            &bundle,
            SignedContent::Artifact(&blob()),
            &SignerPolicy::identity(CertificateIdentity::new(
                Matcher::regex("signet").unwrap(),
                Matcher::regex("oidc").unwrap(),
            )),
        )
        .unwrap();
}

#[test]
fn certificate_expired_at_log_time() {
    let mut f = fixture();
    let mut o = options(now() - Duration::from_secs(3600));
    // Fulcio certificates live ten minutes; the log saw it after twenty.
    o.integrated_at = o.issued_at + Duration::from_secs(20 * 60);
    o.timestamped_at = None;
    let s = f.sigstore.sign_blob(BLOB, &o).unwrap();
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::CertificateChain);
    assert!(e.message.contains("expired at"), "{e}");
    assert!(e.message.contains("integrated time of entry"), "{e}");
}

#[test]
fn set_signed_by_an_unknown_key() {
    let mut f = fixture();
    let mut s = signed(&mut f);
    let stranger = PrivateKey::generate_p256().unwrap();
    let e = &s.entry;
    s.entry.inclusion_promise = Some(
        SetPayload {
            body: e.canonicalized_body.clone(),
            integrated_time: e.integrated_time,
            log_id: e.log_id.clone().try_into().unwrap(),
            log_index: e.log_index as i64,
        }
        .sign(&stranger)
        .unwrap(),
    );
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::SignedEntryTimestamp);
    assert!(
        e.message
            .contains("does not verify with the key of the log"),
        "{e}"
    );

    // An entry naming a log the trusted root does not know is set aside,
    // and the threshold says why nothing counted.
    let mut s = signed(&mut f);
    s.entry.log_id = vec![7; 32];
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::TransparencyLog);
    assert!(e.message.contains("0 of the 1 required"), "{e}");
    assert!(
        e.message.contains("is not a log of the trusted root"),
        "{e}"
    );
}

#[test]
fn corrupted_inclusion_proof_hash() {
    let mut f = fixture();
    let mut s = signed(&mut f);
    let proof = s.entry.inclusion_proof.as_mut().unwrap();
    assert!(!proof.hashes.is_empty());
    proof.hashes[0][0] ^= 0x80;
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::InclusionProof);
    assert!(e.message.contains("computed root"), "{e}");
}

#[test]
fn checkpoint_with_a_wrong_root_hash() {
    let mut f = fixture();
    let mut s = signed(&mut f);
    // A checkpoint the log really signed, but for another tree.
    let proof = s.entry.inclusion_proof.as_mut().unwrap();
    let key = match f.sigstore.rekor_key() {
        PrivateKey::EcdsaP256(k) => PrivateKey::EcdsaP256(k.clone()),
        _ => unreachable!(),
    };
    let signer = NoteSignerKey::rekor_v1(KeyName::new("rekor.virtual.test").unwrap(), key).unwrap();
    let other = Checkpoint::new(
        "rekor.virtual.test - 1193046",
        proof.tree_size,
        signet_tlog::leaf_hash(b"another tree"),
    )
    .unwrap();
    proof.checkpoint = String::from_utf8(other.sign(&[&signer]).unwrap()).unwrap();
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::Checkpoint);
    assert!(
        e.message.contains("the signed checkpoint is for tree size"),
        "{e}"
    );

    // And one signed by another key.
    let mut s = signed(&mut f);
    let stranger = NoteSignerKey::rekor_v1(
        KeyName::new("rekor.virtual.test").unwrap(),
        PrivateKey::generate_p256().unwrap(),
    )
    .unwrap();
    let proof = s.entry.inclusion_proof.as_mut().unwrap();
    let cp = Checkpoint::new(
        "rekor.virtual.test - 1193046",
        proof.tree_size,
        signet_tlog::Hash(proof.root_hash),
    )
    .unwrap();
    proof.checkpoint = String::from_utf8(cp.sign(&[&stranger]).unwrap()).unwrap();
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::Checkpoint);
    assert!(e.message.contains("no signature by a trusted key"), "{e}");
}

#[test]
fn entry_integrated_in_the_future() {
    let mut f = fixture();
    let mut o = options(now() + Duration::from_secs(3600));
    o.timestamped_at = None;
    let s = f.sigstore.sign_blob(BLOB, &o).unwrap();
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::IntegratedTime);
    assert!(
        e.message
            .contains("in the future (now 2026-06-01T00:00:00Z)"),
        "{e}"
    );
}

#[test]
fn bundle_that_carries_a_root_certificate() {
    let mut f = fixture();
    let s = signed(&mut f);
    // A root of the bundle's own (an attacker's, or another instance's).
    let year = |subject: &str| CaOptions {
        subject: subject.into(),
        not_before: now() - Duration::from_secs(86_400),
        not_after: now() + Duration::from_secs(86_400),
    };
    let foreign = create_fulcio_ca(
        KeyAlgorithm::P256,
        &year("CN=sigstore,O=sigstore.dev"),
        &year("CN=sigstore-intermediate,O=sigstore.dev"),
    )
    .unwrap();
    let chain = vec![
        s.chain[0].as_der().to_vec(),
        foreign.root().as_der().to_vec(),
    ];
    let mut bundle = s.bundle_with_material(VerificationMaterial::CertificateDer { chain });
    bundle.media_type = signet_core::bundle::BUNDLE_V02_MEDIA_TYPE.into();
    let e = refused(&f.verifier, &bundle, &identity());
    assert_eq!(e.check, Check::BundleCertificates);
    assert!(
        e.message
            .contains("carries the root certificate \"CN=sigstore,O=sigstore.dev\""),
        "{e}"
    );
    assert!(e.message.contains("not a root of the trusted root"), "{e}");
    // A self-signed certificate in the leaf's place.
    let bundle = s.bundle_with_material(VerificationMaterial::CertificateDer {
        chain: vec![foreign.root().as_der().to_vec()],
    });
    let e = refused(&f.verifier, &bundle, &identity());
    assert_eq!(e.check, Check::BundleCertificates);
    assert!(
        e.message.contains("is a self-signed root, not a leaf"),
        "{e}"
    );
}

#[test]
fn sct_from_an_unknown_log() {
    let mut f = fixture();
    let key = PrivateKey::generate_p256().unwrap();
    let other_ct = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
    let o = options(now() - Duration::from_secs(600));
    let chain = f.sigstore.certificate(&key, &o, &other_ct).unwrap();
    let digest = Digest::sha256_of(BLOB);
    let signature = key.sign(BLOB).unwrap();
    let entry = f
        .sigstore
        .log_hashedrekord(&digest, &signature, &chain[0], o.integrated_at)
        .unwrap();
    let s = Signed {
        chain,
        content: BundleContent::MessageSignature(signet_core::bundle::MessageSignature {
            message_digest: signet_core::hash::HashOutput::from_sha256(&digest),
            signature: signature.clone(),
        }),
        signature,
        entry,
        timestamps: Vec::new(),
    };
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::CertificateTransparency);
    assert!(e.message.contains("SCT from unknown CT log"), "{e}");
    // --insecure-ignore-sct accepts it, by name.
    let lax = verifier(&f.sigstore, |b| b.unsafe_skip_sct());
    let v = lax
        .verify_bundle(&s.bundle(), SignedContent::Artifact(&blob()), &identity())
        .unwrap();
    assert!(v.notes.iter().any(|n| n.contains("--insecure-ignore-sct")));
}

#[test]
fn tsa_token_over_other_data() {
    let mut f = fixture();
    let mut s = signed(&mut f);
    s.timestamps = vec![
        f.sigstore
            .timestamp(b"other data", now() - Duration::from_secs(599))
            .unwrap(),
    ];
    // Not required: the log's time suffices, and the bad token is set aside.
    let v = f
        .verifier
        .verify_bundle(&s.bundle(), SignedContent::Artifact(&blob()), &identity())
        .unwrap();
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("timestamp is over other data")),
        "{:?}",
        v.notes
    );
    // Required (--use-signed-timestamps): refused, saying why.
    let strict = verifier(&f.sigstore, |b| {
        b.signed_timestamp_threshold(NonZeroUsize::MIN)
    });
    let e = refused(&strict, &s.bundle(), &identity());
    assert_eq!(e.check, Check::SignedTimestamp);
    assert!(
        e.message
            .contains("0 of the 1 required RFC 3161 timestamps"),
        "{e}"
    );
    assert!(
        e.message
            .contains("timestamp is over other data: message imprint"),
        "{e}"
    );
}

#[test]
fn certificate_checked_at_each_verified_time() {
    // The log's time is fine; the TSA's is after the certificate expired.
    let mut f = fixture();
    let mut o = options(now() - Duration::from_secs(3600));
    o.timestamped_at = Some(o.issued_at + Duration::from_secs(30 * 60));
    let s = f.sigstore.sign_blob(BLOB, &o).unwrap();
    let e = refused(&f.verifier, &s.bundle(), &identity());
    assert_eq!(e.check, Check::CertificateChain);
    assert!(
        e.message
            .contains("RFC 3161 timestamp by https://tsa.virtual.test"),
        "{e}"
    );
}

#[test]
fn no_log_evidence_fails_closed_for_keys_too() {
    let f = fixture();
    let key = PrivateKey::generate_p256().unwrap();
    let bundle = Bundle::for_key_signature(
        Digest::sha256_of(BLOB),
        key.sign(BLOB).unwrap(),
        key.public_key().hint(),
    );
    let keyed = verifier(&f.sigstore, |b| {
        b.trusted_key(TrustedKey::new("k.pub", key.public_key()))
    });
    let e = refused(&keyed, &bundle, &SignerPolicy::TrustedKeys);
    assert_eq!(e.check, Check::TransparencyLog);
    assert!(e.message.contains("--insecure-ignore-tlog"), "{e}");
    // Only by name.
    let skip = verifier(&f.sigstore, |b| {
        b.trusted_key(TrustedKey::new("k.pub", key.public_key()))
            .unsafe_skip_transparency_log()
    });
    let v = skip
        .verify_bundle(
            &bundle,
            SignedContent::Artifact(&blob()),
            &SignerPolicy::TrustedKeys,
        )
        .unwrap();
    assert!(v.notes.iter().any(|n| n.contains("--insecure-ignore-tlog")));
    // A keyless bundle asked for with --key: not that key, said so.
    let mut f = f;
    let s = signed(&mut f);
    let e = refused(&keyed, &s.bundle(), &SignerPolicy::TrustedKeys);
    assert!(
        matches!(e.check, Check::LogEntryBody | Check::Signature),
        "{e}"
    );
    // A key-signed bundle asked for with an identity: no certificate.
    let e = refused(&keyed, &bundle, &identity());
    assert_eq!(e.check, Check::SigningCertificate);
}

#[test]
fn duplicate_entries_are_refused() {
    let mut f = fixture();
    let s = signed(&mut f);
    let mut bundle = s.bundle();
    bundle.tlog_entries.push(s.entry.clone());
    let e = refused(&f.verifier, &bundle, &identity());
    assert_eq!(e.check, Check::TransparencyLog);
    assert!(e.message.contains("twice"), "{e}");
}

#[test]
fn dsse_bundles_check_the_statement_subject() {
    let mut f = fixture();
    let statement =
        signet_core::intoto::Statement::cosign_sign(&Digest::sha256_of(BLOB), &Default::default())
            .to_json();
    let s = f
        .sigstore
        .sign_dsse(
            statement.as_bytes(),
            &options(now() - Duration::from_secs(600)),
        )
        .unwrap();
    let v = f
        .verifier
        .verify_bundle(&s.bundle(), SignedContent::Artifact(&blob()), &identity())
        .unwrap();
    assert_eq!(v.tlog_entries[0].kind, "dsse/0.0.1");
    let other = Digest::sha256_of(b"other");
    let e = f
        .verifier
        .verify_bundle(&s.bundle(), SignedContent::Digest(&other), &identity())
        .unwrap_err();
    assert_eq!(e.check, Check::ArtifactDigest);
    assert!(
        e.message.contains("the in-toto statement is not about"),
        "{e}"
    );
}

#[test]
fn malformed_and_oversized_json() {
    for bad in [
        &b"{"[..],
        b"[]",
        b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}",
        b"\xff\xfe",
    ] {
        let e = Bundle::parse(bad).unwrap_err();
        assert!(
            e.to_string().starts_with("malformed Sigstore bundle"),
            "{e}"
        );
    }
    let big = vec![b' '; MAX_BUNDLE_BYTES + 1];
    let e = Bundle::parse(&big).unwrap_err();
    assert!(e.to_string().contains("larger than the limit"), "{e}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever a bundle's bytes are changed to, verification returns
        /// an answer and never panics.
        #[test]
        fn mutated_bundles_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            thread_local! {
                static CASE: (Verifier, Vec<u8>) = {
                    let mut f = fixture();
                    let json = signed(&mut f).bundle().to_json().into_bytes();
                    (f.verifier, json)
                };
            }
            CASE.with(|(verifier, json)| {
                let mut bytes = json.clone();
                for (at, byte) in &flips {
                    let i = at % bytes.len();
                    bytes[i] = *byte;
                }
                if let Ok(bundle) = Bundle::parse(&bytes) {
                    let _ = verifier.verify_bundle(&bundle, SignedContent::Artifact(&blob()), &identity());
                }
            });
        }
    }
}
