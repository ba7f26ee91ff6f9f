//! Real Sigstore certificates, SCTs and timestamps (see
//! `tests/vectors/sigstore-*/README.md`) checked with signet's verifier.

use std::time::Duration;

use signet_pki::certificate::{Certificate, parse_pem_chain};
use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use signet_pki::error::{ChainError, SctError};
use signet_pki::sct::{CtLog, embedded_scts, verify_embedded_scts};
use signet_pki::time::{TimeRange, from_unix_seconds};

fn vector(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn cert(path: &str) -> Certificate {
    Certificate::from_pem(&vector(path)).unwrap()
}

fn authority(path: &str) -> CertificateAuthority {
    CertificateAuthority::new(
        parse_pem_chain(&vector(path)).unwrap(),
        TimeRange::UNBOUNDED,
    )
    .unwrap()
}

fn ct_log(path: &str) -> CtLog {
    let pem = String::from_utf8(vector(path)).unwrap();
    let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
    CtLog::new(path, &der, TimeRange::UNBOUNDED).unwrap()
}

const PUBLIC_GOOD_EMAIL_TIME: i64 = 1722976367;
const PUBLIC_GOOD_GITHUB_TIME: i64 = 1710888076;
const SCAFFOLDING_TIME: i64 = 1720811189;
const STAGING_2024_TIME: i64 = 1712085549;

#[test]
fn public_good_leaves_chain_to_the_fulcio_root_at_signing_time() {
    let ca = [authority("sigstore-public-good/fulcio-chain.pem")];
    for (leaf, time) in [
        (
            "sigstore-public-good/leaf-email.pem",
            PUBLIC_GOOD_EMAIL_TIME,
        ),
        (
            "sigstore-public-good/leaf-github-workflow.pem",
            PUBLIC_GOOD_GITHUB_TIME,
        ),
    ] {
        let leaf = cert(leaf);
        let chain =
            verify_chain(&leaf, &ca, from_unix_seconds(time), KeyPurpose::CodeSigning).unwrap();
        assert_eq!(chain.certificates.len(), 3);
        assert_eq!(
            chain.issuer().unwrap().subject(),
            "CN=sigstore-intermediate,O=sigstore.dev"
        );
    }
}

#[test]
fn expired_leaf_names_the_certificate_and_both_times() {
    let ca = [authority("sigstore-public-good/fulcio-chain.pem")];
    let leaf = cert("sigstore-public-good/leaf-email.pem");
    let later = from_unix_seconds(PUBLIC_GOOD_EMAIL_TIME) + Duration::from_secs(3600);
    let err = verify_chain(&leaf, &ca, later, KeyPurpose::CodeSigning).unwrap_err();
    assert!(matches!(err, ChainError::Expired { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "certificate \"thomas@python.org\" (serial {}) expired at 2024-08-06T20:42:47Z but signed at 2024-08-06T21:32:47Z",
            leaf.serial_hex()
        )
    );
    let before = from_unix_seconds(PUBLIC_GOOD_EMAIL_TIME) - Duration::from_secs(3600);
    let err = verify_chain(&leaf, &ca, before, KeyPurpose::CodeSigning).unwrap_err();
    assert!(
        err.to_string()
            .contains("is valid only from 2024-08-06T20:32:47Z but signed at 2024-08-06T19:32:47Z"),
        "{err}"
    );
}

#[test]
fn a_leaf_from_another_instance_with_the_same_issuer_name_fails_its_signature() {
    // Staging and public-good intermediates share the name
    // "CN=sigstore-intermediate,O=sigstore.dev"; only the key tells them apart.
    let public_good = [authority("sigstore-public-good/fulcio-chain.pem")];
    let staging = [authority("sigstore-staging/fulcio-chain.pem")];
    let leaf = cert("sigstore-staging/leaf-email-2024.pem");
    let at = from_unix_seconds(STAGING_2024_TIME);
    verify_chain(&leaf, &staging, at, KeyPurpose::CodeSigning).unwrap();
    let err = verify_chain(&leaf, &public_good, at, KeyPurpose::CodeSigning).unwrap_err();
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("signature on certificate \"william@yossarian.net\""),
        "{err}"
    );
    // With both trusted, the right one is found.
    let both = [public_good[0].clone(), staging[0].clone()];
    assert_eq!(
        verify_chain(&leaf, &both, at, KeyPurpose::CodeSigning)
            .unwrap()
            .authority,
        1
    );
}

#[test]
fn authority_trust_window_is_enforced() {
    let chain = parse_pem_chain(&vector("sigstore-public-good/fulcio-chain.pem")).unwrap();
    let leaf = cert("sigstore-public-good/leaf-email.pem");
    let at = from_unix_seconds(PUBLIC_GOOD_EMAIL_TIME);
    let window = TimeRange::new(None, Some(at - Duration::from_secs(1)));
    let ca = [CertificateAuthority::new(chain, window).unwrap()];
    let err = verify_chain(&leaf, &ca, at, KeyPurpose::CodeSigning).unwrap_err();
    assert!(
        matches!(err, ChainError::AuthorityNotValidAt { .. }),
        "{err}"
    );
}

#[test]
fn unknown_issuer_and_wrong_purpose() {
    let ca = [authority("sigstore-scaffolding/fulcio-root.pem")];
    let leaf = cert("sigstore-public-good/leaf-email.pem");
    let at = from_unix_seconds(PUBLIC_GOOD_EMAIL_TIME);
    let err = verify_chain(&leaf, &ca, at, KeyPurpose::CodeSigning).unwrap_err();
    assert!(matches!(err, ChainError::UnknownIssuer { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("was issued by CN=sigstore-intermediate,O=sigstore.dev"),
        "{err}"
    );
    let pg = [authority("sigstore-public-good/fulcio-chain.pem")];
    let err = verify_chain(&leaf, &pg, at, KeyPurpose::TimeStamping).unwrap_err();
    assert!(
        err.to_string()
            .contains("extended key usage codeSigning does not allow exactly timeStamping"),
        "{err}"
    );
    assert!(matches!(
        verify_chain(&leaf, &[], at, KeyPurpose::CodeSigning),
        Err(ChainError::NoAuthorities)
    ));
}

#[test]
fn critical_othername_san_is_tolerated() {
    let ca = [authority("sigstore-scaffolding/fulcio-root.pem")];
    let leaf = cert("sigstore-scaffolding/leaf-othername.pem");
    verify_chain(
        &leaf,
        &ca,
        from_unix_seconds(SCAFFOLDING_TIME),
        KeyPurpose::CodeSigning,
    )
    .unwrap();
}

#[test]
fn embedded_scts_verify_against_the_ct_log() {
    let cases = [
        (
            "sigstore-public-good/leaf-email.pem",
            "sigstore-public-good/fulcio-chain.pem",
            "sigstore-public-good/ctfe-2022.pub",
        ),
        (
            "sigstore-public-good/leaf-github-workflow.pem",
            "sigstore-public-good/fulcio-chain.pem",
            "sigstore-public-good/ctfe-2022.pub",
        ),
        (
            "sigstore-staging/leaf-email.pem",
            "sigstore-staging/fulcio-chain.pem",
            "sigstore-staging/ctfe-2022-2.pub",
        ),
        (
            "sigstore-staging/leaf-email-2024.pem",
            "sigstore-staging/fulcio-chain.pem",
            "sigstore-staging/ctfe-2022-2.pub",
        ),
        (
            "sigstore-scaffolding/leaf-othername.pem",
            "sigstore-scaffolding/fulcio-root.pem",
            "sigstore-scaffolding/ctfe.pub",
        ),
    ];
    for (leaf, chain, log) in cases {
        let leaf = cert(leaf);
        let issuer = parse_pem_chain(&vector(chain)).unwrap().remove(0);
        let logs = [ct_log("sigstore-public-good/ctfe-test.pub"), ct_log(log)];
        let verified =
            verify_embedded_scts(&leaf, &issuer, &logs, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].log, 1);
        assert_eq!(embedded_scts(&leaf).unwrap().unwrap().len(), 1);
    }
}

#[test]
fn sct_failures_have_their_own_messages() {
    let leaf = cert("sigstore-public-good/leaf-email.pem");
    let issuer = parse_pem_chain(&vector("sigstore-public-good/fulcio-chain.pem"))
        .unwrap()
        .remove(0);
    // Unknown log.
    let err = verify_embedded_scts(
        &leaf,
        &issuer,
        &[ct_log("sigstore-public-good/ctfe-test.pub")],
        1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SCT from unknown CT log dd3d306ac6c7113263191e1c99673702a24a5eb8de3cadff878a72802f29ee8e (no trusted CT log has this key ID)"
    );
    // Wrong issuer key hash: the staging intermediate instead of the public-good one.
    let wrong_issuer = parse_pem_chain(&vector("sigstore-staging/fulcio-chain.pem"))
        .unwrap()
        .remove(0);
    let logs = [ct_log("sigstore-public-good/ctfe-2022.pub")];
    let err = verify_embedded_scts(&leaf, &wrong_issuer, &logs, 1).unwrap_err();
    assert!(matches!(err, SctError::BadSignature { .. }), "{err}");
    // Outside the log key's window.
    let pem = String::from_utf8(vector("sigstore-public-good/ctfe-2022.pub")).unwrap();
    let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
    let expired = CtLog::new(
        "ctfe 2022",
        &der,
        TimeRange::new(None, Some(from_unix_seconds(1_700_000_000))),
    )
    .unwrap();
    let err = verify_embedded_scts(&leaf, &issuer, &[expired], 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("outside the log key's validity [-inf, 2023-11-14T22:13:20Z]"),
        "{err}"
    );
    // No SCTs at all.
    let err = verify_embedded_scts(&issuer, &issuer, &logs, 1).unwrap_err();
    assert!(matches!(err, SctError::Missing { .. }), "{err}");
    // Threshold above what the certificate has.
    let err = verify_embedded_scts(&leaf, &issuer, &logs, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 of the certificate's SCTs verified, 2 required"
    );
}

#[test]
fn github_workflow_leaf_profile() {
    use signet_pki::profile::{FulcioCertificate, SubjectAltName};
    let leaf = cert("sigstore-public-good/leaf-github-workflow.pem");
    let p = FulcioCertificate::parse(&leaf).unwrap();
    let workflow =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    assert_eq!(p.identity(), Some(&SubjectAltName::Uri(workflow.into())));
    assert!(p.san_critical);
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(p.issuer_v1, p.issuer_v2);
    let c = &p.claims;
    assert_eq!(c.github_workflow_trigger.as_deref(), Some("release"));
    assert_eq!(
        c.github_workflow_sha.as_deref(),
        Some("d8b4a6445f38c48b9137a8099706d9b8073146e4")
    );
    assert_eq!(
        c.github_workflow_repository.as_deref(),
        Some("trailofbits/rfc8785.py")
    );
    assert_eq!(c.github_workflow_ref.as_deref(), Some("refs/tags/v0.1.2"));
    assert_eq!(c.build_signer_uri.as_deref(), Some(workflow));
    assert_eq!(c.runner_environment.as_deref(), Some("github-hosted"));
    assert_eq!(
        c.source_repository_uri.as_deref(),
        Some("https://github.com/trailofbits/rfc8785.py")
    );
    assert_eq!(c.source_repository_identifier.as_deref(), Some("768213997"));
    assert_eq!(
        c.source_repository_owner_identifier.as_deref(),
        Some("2314423")
    );
    assert_eq!(c.build_trigger.as_deref(), Some("release"));
    assert_eq!(
        c.run_invocation_uri.as_deref(),
        Some("https://github.com/trailofbits/rfc8785.py/actions/runs/8351058501/attempts/1")
    );
    assert_eq!(
        c.source_repository_visibility_at_signing.as_deref(),
        Some("public")
    );
    assert_eq!(c.deployment_environment, None);
    assert_eq!(c.token_subject, None);
    assert!(p.digital_signature);
    assert_eq!(p.scts.len(), 1);
    let json = serde_json::to_value(c).unwrap();
    assert_eq!(json["sourceRepositoryVisibilityAtSigning"], "public");

    let email = FulcioCertificate::parse(&cert("sigstore-public-good/leaf-email.pem")).unwrap();
    assert_eq!(
        email.identity(),
        Some(&SubjectAltName::Email("thomas@python.org".into()))
    );
    assert_eq!(email.issuer.as_deref(), Some("https://accounts.google.com"));
    let other = FulcioCertificate::parse(&cert("sigstore-scaffolding/leaf-othername.pem")).unwrap();
    assert_eq!(
        other.identity(),
        Some(&SubjectAltName::Username("foo!oidc.local".into()))
    );
}

mod timestamps {
    use super::*;
    use signet_pki::error::TimestampError;
    use signet_pki::timestamp::{TimestampAuthority, TimestampOptions, verify_timestamp_response};

    fn staging_tsa() -> Vec<TimestampAuthority> {
        let chain = parse_pem_chain(&vector("sigstore-staging/tsa-chain.pem")).unwrap();
        vec![TimestampAuthority::new(chain, TimeRange::UNBOUNDED).unwrap()]
    }

    #[test]
    fn staging_tsa_response_verifies_over_the_signature() {
        let response = vector("sigstore-staging/timestamp-response.der");
        let signature = vector("sigstore-staging/signature.bin");
        let verified = verify_timestamp_response(
            &response,
            &signature,
            &staging_tsa(),
            &TimestampOptions::default(),
        )
        .unwrap();
        assert_eq!(
            signet_pki::time::rfc3339(verified.time),
            "2025-06-09T11:57:38Z"
        );
        assert_eq!(verified.policy.to_string(), "1.3.6.1.4.1.57264.2");
        assert_eq!(
            verified.nonce.as_deref().map(hex::encode).as_deref(),
            Some("009b7f970db782510e")
        );
        assert_eq!(verified.signer.subject(), "CN=sigstore-tsa,O=sigstore.dev");
        // The Fulcio leaf of the same bundle is valid at the timestamp's time.
        let leaf = cert("sigstore-staging/leaf-email.pem");
        let ca = [authority("sigstore-staging/fulcio-chain.pem")];
        verify_chain(&leaf, &ca, verified.time, KeyPurpose::CodeSigning).unwrap();
    }

    #[test]
    fn staging_tsa_failures() {
        let response = vector("sigstore-staging/timestamp-response.der");
        let signature = vector("sigstore-staging/signature.bin");
        let err = verify_timestamp_response(
            &response,
            b"other data",
            &staging_tsa(),
            &TimestampOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, TimestampError::ImprintMismatch { .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("timestamp is over other data: message imprint 3a360f99"),
            "{err}"
        );

        let options = TimestampOptions {
            nonce: Some(vec![1, 2, 3]),
            policy: None,
        };
        let err =
            verify_timestamp_response(&response, &signature, &staging_tsa(), &options).unwrap_err();
        assert!(matches!(err, TimestampError::NonceMismatch { .. }), "{err}");

        // Trusting another TSA (the public-good Fulcio chain stands in): not found / not chained.
        let wrong = vec![
            TimestampAuthority::new(
                parse_pem_chain(&vector("sigstore-public-good/fulcio-chain.pem")).unwrap(),
                TimeRange::UNBOUNDED,
            )
            .unwrap(),
        ];
        let err =
            verify_timestamp_response(&response, &signature, &wrong, &TimestampOptions::default())
                .unwrap_err();
        assert!(
            matches!(err, TimestampError::Chain(ChainError::UnknownIssuer { .. })),
            "{err}"
        );

        // A window that ends before the timestamp.
        let chain = parse_pem_chain(&vector("sigstore-staging/tsa-chain.pem")).unwrap();
        let early = vec![
            TimestampAuthority::new(
                chain,
                TimeRange::new(None, Some(from_unix_seconds(1_700_000_000))),
            )
            .unwrap(),
        ];
        let err =
            verify_timestamp_response(&response, &signature, &early, &TimestampOptions::default())
                .unwrap_err();
        assert!(
            err.to_string().contains(
                "trusted for [-inf, 2023-11-14T22:13:20Z] but signed at 2025-06-09T11:57:38Z"
            ),
            "{err}"
        );

        // A flipped byte never panics; in the signed parts (the TSTInfo from
        // offset 50, the signer info from 783) it always fails. The digest
        // algorithm list and the token's copy of the certificate are not
        // signed: the trusted chain's certificate is used when the copy no
        // longer matches the signer.
        for i in 0..response.len() {
            let mut bad = response.clone();
            bad[i] ^= 0x01;
            let result = verify_timestamp_response(
                &bad,
                &signature,
                &staging_tsa(),
                &TimestampOptions::default(),
            );
            if (50..248).contains(&i) || i >= 783 {
                assert!(result.is_err(), "byte {i}");
            }
        }
    }
}
