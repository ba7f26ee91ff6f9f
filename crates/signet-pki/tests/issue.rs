//! Certificates issued by signet's CA helpers verify with signet's chain and
//! SCT checks and with OpenSSL.

mod support;

use std::time::Duration;

use signet_core::keys::PrivateKey;
use signet_pki::ca::{KeyAlgorithm, create_intermediate};
use signet_pki::certificate::{Certificate, chain_to_pem};
use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use signet_pki::error::{ChainError, IssueError};
use signet_pki::issue::{LeafRequest, issue_with_embedded_sct, issue_without_sct, precertificate};
use signet_pki::oid;
use signet_pki::profile::{CiClaims, FulcioCertificate, SubjectAltName};
use signet_pki::sct::{
    CtLog, CtLogSigner, SignedCertificateTimestamp, verify_detached_sct, verify_embedded_scts,
};
use signet_pki::time::TimeRange;
use support::{fulcio_ca, now, openssl, options};

fn request(identity: SubjectAltName, claims: CiClaims) -> LeafRequest {
    LeafRequest {
        subject_public_key: PrivateKey::generate_p256()
            .unwrap()
            .public_key()
            .to_spki_der(),
        identity,
        issuer: "https://token.actions.example.com".into(),
        claims,
        not_before: now(),
    }
}

fn authority(ca: &signet_pki::ca::SigningCa) -> Vec<CertificateAuthority> {
    vec![CertificateAuthority::new(ca.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()]
}

fn ct_log(signer: &CtLogSigner) -> CtLog {
    CtLog::new(
        "test ct log",
        &signer.public_key().to_spki_der(),
        TimeRange::UNBOUNDED,
    )
    .unwrap()
}

#[test]
fn issued_leaves_follow_fulcio_profile_and_verify() {
    for algorithm in [KeyAlgorithm::P256, KeyAlgorithm::P384] {
        let ca = fulcio_ca(algorithm);
        let log = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
        let mut claims = CiClaims::default();
        claims.github_workflow_trigger = Some("push".into());
        claims.build_signer_uri = Some(
            "https://git.example.com/team/app/.gitea/workflows/release.yml@refs/heads/main".into(),
        );
        claims.source_repository_visibility_at_signing = Some("private".into());
        claims.token_subject = Some("repo:team/app:ref:refs/heads/main".into());
        for identity in [
            SubjectAltName::Email("dev@example.com".into()),
            SubjectAltName::Uri(
                "https://git.example.com/team/app/.gitea/workflows/release.yml@refs/heads/main"
                    .into(),
            ),
            SubjectAltName::Username("dev!oidc.example.com".into()),
        ] {
            let issued =
                issue_with_embedded_sct(&ca, &log, &request(identity.clone(), claims.clone()))
                    .unwrap();
            let leaf = &issued.certificate;
            assert_eq!(issued.chain.len(), 3);

            let chain = verify_chain(
                leaf,
                &authority(&ca),
                now() + Duration::from_secs(60),
                KeyPurpose::CodeSigning,
            )
            .unwrap();
            let issuer = chain.issuer().unwrap();
            let verified = verify_embedded_scts(leaf, issuer, &[ct_log(&log)], 1).unwrap();
            assert_eq!(verified[0].timestamp, now());

            let profile = FulcioCertificate::parse(leaf).unwrap();
            assert_eq!(profile.identity(), Some(&identity));
            assert_eq!(profile.subject_alternative_names.len(), 1);
            assert!(profile.san_critical);
            assert_eq!(
                profile.issuer.as_deref(),
                Some("https://token.actions.example.com")
            );
            assert_eq!(profile.issuer_v1, profile.issuer_v2);
            assert_eq!(profile.claims, claims);
            assert!(profile.digital_signature);
            assert_eq!(profile.extended_key_usages, vec![oid::eku::CODE_SIGNING]);
            assert_eq!(profile.not_after, now() + Duration::from_secs(600));
            assert_eq!(profile.serial.len(), 40);
            assert_eq!(profile.scts, issued.scts);
            assert_eq!(leaf.subject(), "");
            assert_eq!(
                leaf.authority_key_id().unwrap(),
                issuer.subject_key_id().unwrap()
            );

            // Ten minutes and a second later the leaf has expired.
            let late = now() + Duration::from_secs(601);
            let err =
                verify_chain(leaf, &authority(&ca), late, KeyPurpose::CodeSigning).unwrap_err();
            assert!(matches!(err, ChainError::Expired { .. }), "{err}");
        }
    }
}

#[test]
fn precertificates_do_not_verify_as_certificates() {
    let ca = fulcio_ca(KeyAlgorithm::P256);
    let log = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
    let precert = precertificate(
        &ca,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let err = verify_chain(
        &precert.certificate,
        &authority(&ca),
        now(),
        KeyPurpose::CodeSigning,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ChainError::UnhandledCriticalExtension {
            certificate: precert.certificate.describe(),
            oid: "1.3.6.1.4.1.11129.2.4.3".into()
        }
    );
    // The CT log refuses a final certificate or a precertificate from another CA.
    let issued = issue_without_sct(
        &ca,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    assert!(matches!(
        log.sign_precertificate(&issued.certificate, ca.certificate(), now()),
        Err(IssueError::InvalidRequest(_))
    ));
    let other = fulcio_ca(KeyAlgorithm::P256);
    let err = log
        .sign_precertificate(&precert.certificate, other.certificate(), now())
        .unwrap_err();
    assert!(err.to_string().contains("not signed by"), "{err}");
}

#[test]
fn an_sct_for_another_certificate_fails() {
    let ca = fulcio_ca(KeyAlgorithm::P256);
    let log = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
    let a = issue_with_embedded_sct(
        &ca,
        &log,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let b = issue_with_embedded_sct(
        &ca,
        &log,
        &request(
            SubjectAltName::Email("b@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    // Embed a's SCT into b's precertificate content: signed over the wrong TBS.
    let precert = precertificate(
        &ca,
        &request(
            SubjectAltName::Email("b@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let forged = signet_pki::issue::finish_certificate(&ca, &precert, &a.scts).unwrap();
    let err = verify_embedded_scts(&forged, ca.certificate(), &[ct_log(&log)], 1).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("SCT signature from CT log test ct log does not verify"),
        "{err}"
    );
    verify_embedded_scts(&b.certificate, ca.certificate(), &[ct_log(&log)], 1).unwrap();
}

#[test]
fn detached_scts_round_trip_through_json() {
    let ca = fulcio_ca(KeyAlgorithm::P384);
    let log = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
    let issued = issue_without_sct(
        &ca,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let sct = log.sign_certificate(&issued.certificate, now()).unwrap();
    let json = sct.to_detached_json().unwrap();
    assert!(json.starts_with("{\"sct_version\":0,\"id\":\""), "{json}");
    let back = SignedCertificateTimestamp::from_detached_json(json.as_bytes()).unwrap();
    assert_eq!(back, sct);
    let verified = verify_detached_sct(&issued.certificate, &back, &[ct_log(&log)]).unwrap();
    assert_eq!(verified.log_name, "test ct log");
    let other = issue_without_sct(
        &ca,
        &request(
            SubjectAltName::Email("b@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    assert!(verify_detached_sct(&other.certificate, &back, &[ct_log(&log)]).is_err());
}

#[test]
fn path_length_and_eku_chaining_are_enforced() {
    let ca = fulcio_ca(KeyAlgorithm::P256);
    // An intermediate under the pathlen-0 intermediate.
    let below = create_intermediate(
        &ca,
        KeyAlgorithm::P256,
        &options("CN=too-deep,O=signet.test"),
        oid::eku::CODE_SIGNING,
    )
    .unwrap();
    let leaf = issue_without_sct(
        &below,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let authorities =
        [CertificateAuthority::new(below.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()];
    let err = verify_chain(
        &leaf.certificate,
        &authorities,
        now(),
        KeyPurpose::CodeSigning,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"CN=signet-test-intermediate,O=signet.test\"")
            && err
                .to_string()
                .contains("allows 0 intermediate CAs below it but the chain has 1"),
        "{err}"
    );

    // A timeStamping-only intermediate cannot issue code-signing leaves.
    let root =
        signet_pki::ca::create_root(KeyAlgorithm::P256, &options("CN=r,O=signet.test")).unwrap();
    let tsa_ca = create_intermediate(
        &root,
        KeyAlgorithm::P256,
        &options("CN=tsa-int,O=signet.test"),
        oid::eku::TIME_STAMPING,
    )
    .unwrap();
    let leaf = issue_without_sct(
        &tsa_ca,
        &request(
            SubjectAltName::Email("a@example.com".into()),
            CiClaims::default(),
        ),
    )
    .unwrap();
    let authorities =
        [CertificateAuthority::new(tsa_ca.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()];
    let err = verify_chain(
        &leaf.certificate,
        &authorities,
        now(),
        KeyPurpose::CodeSigning,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("extended key usage timeStamping does not allow codeSigning"),
        "{err}"
    );
}

#[test]
fn bad_requests_are_refused() {
    let ca = fulcio_ca(KeyAlgorithm::P256);
    let mut r = request(SubjectAltName::Email(String::new()), CiClaims::default());
    assert!(issue_without_sct(&ca, &r).is_err());
    r.identity = SubjectAltName::Email("ümlaut@example.com".into());
    assert!(
        issue_without_sct(&ca, &r)
            .unwrap_err()
            .to_string()
            .contains("identity")
    );
    r.identity = SubjectAltName::Email("a@example.com".into());
    r.subject_public_key = b"not a key".to_vec();
    assert!(
        issue_without_sct(&ca, &r)
            .unwrap_err()
            .to_string()
            .contains("subject public key")
    );
    r = request(
        SubjectAltName::Email("a@example.com".into()),
        CiClaims::default(),
    );
    r.issuer = "x".repeat(5000);
    assert!(issue_without_sct(&ca, &r).is_err());
}

#[test]
fn openssl_accepts_issued_chains() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in [KeyAlgorithm::P256, KeyAlgorithm::P384] {
        let ca = fulcio_ca(algorithm);
        let log = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
        let issued = issue_with_embedded_sct(
            &ca,
            &log,
            &request(
                SubjectAltName::Uri("https://ci.example.com/wf".into()),
                CiClaims::default(),
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("leaf.pem"), issued.certificate.to_pem()).unwrap();
        std::fs::write(
            dir.path().join("intermediate.pem"),
            chain_to_pem(&ca.chain()[..1]),
        )
        .unwrap();
        std::fs::write(dir.path().join("root.pem"), ca.root().to_pem()).unwrap();
        let at = (signet_pki::time::unix_seconds(now()) + 60).to_string();
        let Some(out) = openssl(
            dir.path(),
            &[
                "verify",
                "-attime",
                &at,
                "-CAfile",
                "root.pem",
                "-untrusted",
                "intermediate.pem",
                "-x509_strict",
                "-purpose",
                "any",
                "leaf.pem",
            ],
        ) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("leaf.pem: OK"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let Some(text) = openssl(dir.path(), &["x509", "-in", "leaf.pem", "-noout", "-text"])
        else {
            return;
        };
        let text = String::from_utf8_lossy(&text.stdout);
        for needle in [
            "X509v3 Key Usage: critical",
            "Code Signing",
            "X509v3 Subject Alternative Name: critical",
            "URI:https://ci.example.com/wf",
            "1.3.6.1.4.1.57264.1.1:",
            "1.3.6.1.4.1.57264.1.8:",
            "CT Precertificate SCTs:",
            "Signed Certificate Timestamp:",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        let reparsed = Certificate::from_pem(issued.certificate.to_pem().as_bytes()).unwrap();
        assert_eq!(reparsed, issued.certificate);
    }
}

/// PKCS#10 requests made by OpenSSL (EC P-256, P-384, RSA, Ed25519) verify;
/// a changed byte in the signed part does not.
#[test]
fn openssl_signing_requests_verify() {
    use signet_pki::csr::CertificationRequest;
    let dir = tempfile::tempdir().unwrap();
    for (name, genkey) in [
        (
            "p256",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ][..],
        ),
        (
            "p384",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
            ][..],
        ),
        (
            "rsa",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ][..],
        ),
        ("ed25519", &["genpkey", "-algorithm", "ED25519"][..]),
    ] {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let mut args = genkey.to_vec();
        args.extend(["-out", key.as_str()]);
        let Some(out) = openssl(dir.path(), &args) else {
            return;
        };
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = openssl(
            dir.path(),
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                "/CN=ignored",
                "-out",
                &csr,
            ],
        )
        .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = std::fs::read(dir.path().join(&csr)).unwrap();
        let request = CertificationRequest::from_pem(&pem).unwrap();
        request.verify_signature().unwrap();
        let spki = request.public_key_der().unwrap();
        assert!(
            signet_core::keys::PublicKey::from_spki_der(&spki).is_ok(),
            "{name}"
        );

        // Flip one bit inside the subject (signed data): the signature no longer verifies.
        let (_, mut der) = pem_rfc7468::decode_vec(&pem).unwrap();
        let at = der.windows(7).position(|w| w == b"ignored").unwrap();
        der[at] ^= 1;
        let tampered = CertificationRequest::from_der(&der).unwrap();
        assert!(tampered.verify_signature().is_err(), "{name}");
    }
}
