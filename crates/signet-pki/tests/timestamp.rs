//! Timestamps issued by signet's TSA verify with signet and with OpenSSL, and
//! OpenSSL's tokens verify with signet.

mod support;

use std::time::Duration;

use base64::Engine as _;
use signet_pki::algorithm::HashAlgorithm;
use signet_pki::ca::KeyAlgorithm;
use signet_pki::certificate::chain_to_pem;
use signet_pki::error::{ChainError, TimestampError};
use signet_pki::time::TimeRange;
use signet_pki::timestamp::{
    TimestampAuthority, TimestampOptions, verify_timestamp_response, verify_timestamp_token,
};
use signet_pki::tsa::{FailureInfo, TimestampRequest, TimestampSigner, rejection_response};
use support::{now, openssl, tsa, tsa_at};

fn authorities(signer: &TimestampSigner) -> Vec<TimestampAuthority> {
    vec![TimestampAuthority::new(signer.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()]
}

#[test]
fn issued_timestamps_verify() {
    for algorithm in [KeyAlgorithm::P256, KeyAlgorithm::P384] {
        let signer = TimestampSigner::new(tsa(algorithm)).unwrap();
        let signature = b"signature bytes";
        let mut request = TimestampRequest::for_data(signature, HashAlgorithm::Sha256);
        request.nonce = Some(vec![0x01, 0x02]);
        let response = signer.respond(&request, now()).unwrap();
        let verified = verify_timestamp_response(
            &response,
            signature,
            &authorities(&signer),
            &TimestampOptions {
                nonce: Some(vec![1, 2]),
                policy: Some(signet_pki::oid::fulcio::TSA_POLICY),
            },
        )
        .unwrap();
        assert_eq!(verified.time, now());
        assert_eq!(verified.signer, signer.chain()[0]);
        assert_eq!(verified.serial.len(), 40);

        // Over other data, or with another nonce.
        let err = verify_timestamp_response(
            &response,
            b"other",
            &authorities(&signer),
            &TimestampOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, TimestampError::ImprintMismatch { .. }),
            "{err}"
        );
        // Another TSA with the same names does not verify it.
        let other = TimestampSigner::new(tsa(algorithm)).unwrap();
        let err = verify_timestamp_response(
            &response,
            signature,
            &authorities(&other),
            &TimestampOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                TimestampError::BadSignature { .. }
                    | TimestampError::CertificateIdMismatch { .. }
                    | TimestampError::Chain(_)
            ),
            "{err}"
        );
        // Without the certificate in the token, the trusted chain supplies it.
        request.cert_req = false;
        let token = signer.token(&request, now()).unwrap();
        verify_timestamp_token(
            &token,
            signature,
            &authorities(&signer),
            &TimestampOptions::default(),
        )
        .unwrap();
    }
}

#[test]
fn tsa_certificate_must_be_valid_at_gen_time() {
    let signer = TimestampSigner::new(tsa(KeyAlgorithm::P256)).unwrap();
    let late = now() + Duration::from_secs(400 * 86_400);
    let response = signer
        .respond(
            &TimestampRequest::for_data(b"x", HashAlgorithm::Sha256),
            late,
        )
        .unwrap();
    let err = verify_timestamp_response(
        &response,
        b"x",
        &authorities(&signer),
        &TimestampOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, TimestampError::Chain(ChainError::Expired { .. })),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(
            "timestamp authority certificate: certificate \"CN=signet-tsa,O=signet.test\""
        ),
        "{err}"
    );
}

#[test]
fn request_forms_parse() {
    let hash = HashAlgorithm::Sha256.digest(b"artifact");
    let json = format!(
        r#"{{"artifactHash":"{}","hashAlgorithm":"sha256","certificates":true,"nonce":1234567890123,"tsaPolicyOID":"1.3.6.1.4.1.57264.2"}}"#,
        base64::engine::general_purpose::STANDARD.encode(&hash)
    );
    let request = TimestampRequest::from_json(json.as_bytes()).unwrap();
    assert_eq!(request.hashed_message, hash);
    assert!(request.cert_req);
    assert_eq!(
        request.nonce.as_deref(),
        Some(&1234567890123u64.to_be_bytes()[2..])
    );
    assert_eq!(
        TimestampRequest::from_der(&request.to_der().unwrap()).unwrap(),
        request
    );

    for bad in [
        r#"{"artifactHash":"AAAA","hashAlgorithm":"sha256"}"#,
        r#"{"artifactHash":"!!","hashAlgorithm":"sha256"}"#,
        r#"{"artifactHash":"AAAA","hashAlgorithm":"md5"}"#,
        r#"{"artifactHash":"AAAA","nonce":-1}"#,
        r#"{"artifactHash":"AAAA","unknown":1}"#,
    ] {
        assert!(
            TimestampRequest::from_json(bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
    assert!(TimestampRequest::from_json(&vec![b' '; 2048]).is_err());

    let signer = TimestampSigner::new(tsa(KeyAlgorithm::P256)).unwrap();
    let mut other_policy = request.clone();
    other_policy.policy = Some(der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4"));
    assert!(signer.respond(&other_policy, now()).is_err());
}

#[test]
fn rejections_are_reported_with_their_text() {
    let response =
        rejection_response(FailureInfo::BadAlgorithm, "unsupported hash algorithm").unwrap();
    let signer = TimestampSigner::new(tsa(KeyAlgorithm::P256)).unwrap();
    let err = verify_timestamp_response(
        &response,
        b"x",
        &authorities(&signer),
        &TimestampOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "timestamp authority refused the request: status 2: unsupported hash algorithm (failure bits 80)"
    );
}

#[test]
fn openssl_verifies_signet_timestamps_and_signet_verifies_openssl_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = tsa_at(KeyAlgorithm::P256, std::time::SystemTime::now());
    std::fs::write(d.join("data"), b"signature bytes").unwrap();
    std::fs::write(d.join("root.pem"), ca.root().to_pem()).unwrap();
    std::fs::write(d.join("untrusted.pem"), chain_to_pem(&ca.chain()[..2])).unwrap();
    std::fs::write(d.join("tsa.pem"), ca.certificate().to_pem()).unwrap();
    let key_pem = pem_rfc7468::encode_string(
        "PRIVATE KEY",
        pem_rfc7468::LineEnding::LF,
        &ca.key().to_pkcs8_der().unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("tsa.key"), key_pem).unwrap();
    let signer = TimestampSigner::new(ca).unwrap();

    // OpenSSL asks, signet answers, OpenSSL verifies.
    let Some(out) = openssl(
        d,
        &[
            "ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "req.tsq",
        ],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = TimestampRequest::from_der(&std::fs::read(d.join("req.tsq")).unwrap()).unwrap();
    assert!(request.nonce.is_some() && request.cert_req);
    let at = std::time::SystemTime::now();
    std::fs::write(d.join("resp.tsr"), signer.respond(&request, at).unwrap()).unwrap();
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "resp.tsr",
            "-queryfile",
            "req.tsq",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "untrusted.pem",
        ],
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Verification: OK"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // OpenSSL answers (ESSCertID v1 with SHA-1, then v2 with SHA-256), signet verifies.
    for ess in ["sha1", "sha256"] {
        let config = format!(
            "[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\nserial = {d}/serial\nsigner_cert = {d}/tsa.pem\ncerts = {d}/untrusted.pem\nsigner_key = {d}/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.57264.2\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = {ess}\n",
            d = d.display()
        );
        std::fs::write(d.join("tsa.cnf"), config).unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        let out = openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                "req.tsq",
                "-out",
                "openssl.tsr",
            ],
        )
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let response = std::fs::read(d.join("openssl.tsr")).unwrap();
        let verified = verify_timestamp_response(
            &response,
            b"signature bytes",
            &authorities(&signer),
            &TimestampOptions {
                nonce: request.nonce.clone(),
                policy: None,
            },
        )
        .unwrap_or_else(|e| panic!("ess_cert_id_alg {ess}: {e}"));
        assert!(verified.time <= std::time::SystemTime::now());
        assert!(
            verify_timestamp_response(
                &response,
                b"other",
                &authorities(&signer),
                &TimestampOptions::default()
            )
            .is_err()
        );
    }
}
