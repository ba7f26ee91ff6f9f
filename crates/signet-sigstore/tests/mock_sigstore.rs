//! The clients against the mock Sigstore (`scripts/services.sh`
//! `start_mock_sigstore`: the sigstore-js `@sigstore/mock` Fulcio, CT log,
//! Rekor v1 and TSA on 127.0.0.1), an implementation independent of signet,
//! with ID tokens from `signet-testing`'s issuer. Skipped (and said so)
//! without the mock; required under `SIGNET_E2E_REQUIRED=1`.

use std::path::PathBuf;

use signet_core::Digest;
use signet_core::keys::{PrivateKey, Signer};
use signet_sigstore::HttpClient;
use signet_sigstore::oidc::{IdentityToken, TokenEnvironment, TokenOptions, find_token};
use signet_sigstore::services::{ServiceOptions, select_services};
use signet_sigstore::signing::{
    KeylessSigner, SignedContent, SignerMaterial, bundle, connect, legacy_annotations,
};
use signet_testing::{Claims, IssuerOptions, OidcIssuer, Workflow};
use signet_trust::{SigningConfig, TrustedRoot};

struct Mock {
    dir: PathBuf,
}

fn mock() -> Option<Mock> {
    match std::env::var("SIGNET_TEST_SIGSTORE_DIR") {
        Ok(dir) => Some(Mock {
            dir: PathBuf::from(dir),
        }),
        Err(_) => {
            if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
                panic!("the mock Sigstore is not running: run scripts/test.sh");
            }
            eprintln!("skipped: the mock Sigstore is not running (run scripts/test.sh)");
            None
        }
    }
}

impl Mock {
    fn root(&self) -> TrustedRoot {
        TrustedRoot::load(&self.dir.join("trusted_root.json")).unwrap()
    }

    fn signing_config(&self) -> SigningConfig {
        SigningConfig::load(&self.dir.join("signing_config.json")).unwrap()
    }

    fn connected(&self) -> signet_sigstore::signing::Connected {
        let services = select_services(
            &ServiceOptions {
                signing_config: Some(self.signing_config()),
                tlog_upload: true,
                ..Default::default()
            },
            &signet_trust::public_good::signing_config().unwrap(),
            jiff::Timestamp::now(),
        )
        .unwrap();
        connect(
            &HttpClient::new(&Default::default()).unwrap(),
            &services,
            &self.root(),
            true,
        )
        .unwrap()
    }
}

#[tokio::test]
#[cfg_attr(
    not(signet_mock_sigstore),
    ignore = "needs the mock Sigstore (SIGNET_TEST_SIGSTORE_DIR; run scripts/test.sh)"
)]
async fn keyless_signature_against_the_mock_fulcio_rekor_and_tsa() {
    let Some(mock) = mock() else { return };
    let issuer = OidcIssuer::start().unwrap();
    let token = IdentityToken::parse(
        &issuer
            .token(&Claims::email("keyless@example.test"))
            .unwrap(),
        "test",
    )
    .unwrap();
    let connected = mock.connected();
    assert_eq!(connected.recorder.rekor.len(), 1);
    assert_eq!(connected.recorder.tsa.len(), 1);
    let signer = KeylessSigner::new(&connected.fulcio, &token).await.unwrap();
    assert_eq!(signer.identity(), "keyless@example.test");
    assert_eq!(
        signer.certificate().identity.issuer.as_deref(),
        Some(issuer.issuer_url())
    );

    let blob = b"signed against an independent Sigstore\n";
    let signature = signer.sign(blob).await.unwrap();
    let material = SignerMaterial::Certificate(Box::new(signer.certificate().clone()));
    let digest = Digest::sha256_of(blob);
    let content = SignedContent::Message {
        digest: &digest,
        signature: &signature,
    };
    let evidence = connected
        .recorder
        .record(&content, &material)
        .await
        .unwrap();
    let entry = &evidence.tlog_entries[0];
    assert!(entry.inclusion_promise.is_some());
    let proof = entry.inclusion_proof.as_ref().unwrap();
    assert!(!proof.hashes.is_empty());
    assert_eq!(evidence.timestamps.len(), 1);

    let written = bundle(&content, &material, &evidence).to_json();
    let read = signet_core::bundle::Bundle::parse(written.as_bytes()).unwrap();
    assert_eq!(read.tlog_entries, evidence.tlog_entries);
    let annotations = legacy_annotations(&material, &evidence);
    assert_eq!(annotations.len(), 4, "{:?}", annotations.keys());
}

#[tokio::test]
#[cfg_attr(
    not(signet_mock_sigstore),
    ignore = "needs the mock Sigstore (SIGNET_TEST_SIGSTORE_DIR; run scripts/test.sh)"
)]
async fn gitea_and_forgejo_actions_job_tokens_get_workflow_certificates() {
    let Some(mock) = mock() else { return };
    let connected = mock.connected();
    let http = HttpClient::new(&Default::default()).unwrap();
    for (forge, claims) in [
        ("gitea", Claims::gitea_actions(&Workflow::default())),
        ("forgejo", Claims::forgejo_actions(&Workflow::default())),
    ] {
        // The runner's environment, as an Actions job sees it.
        let issuer = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
        let job = issuer.actions_job(claims).unwrap();
        let env = TokenEnvironment {
            actions_request_url: Some(job.request_url.clone()),
            actions_request_token: Some(job.request_token.clone()),
            filesystem_token_path: PathBuf::from("/nonexistent/oidc-token"),
            ..Default::default()
        };
        let token = find_token(&TokenOptions::default(), &env, &http)
            .await
            .unwrap();
        assert!(
            token.source().contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
            "{forge}"
        );
        assert_eq!(token.claims().audience, ["sigstore"], "{forge}");
        assert_eq!(token.claims().issuer, issuer.issuer_url(), "{forge}");
        assert_eq!(issuer.actions_token_requests(), 1, "{forge}");
        let signer = KeylessSigner::new(&connected.fulcio, &token).await.unwrap();
        // Fulcio's CI identity: <instance>/<workflow ref>.
        let identity = signer.identity();
        assert!(
            identity.starts_with(issuer.base_url()) && identity.contains("workflows/"),
            "{forge}: {identity}"
        );
        assert_eq!(
            signer.certificate().identity.issuer.as_deref(),
            Some(issuer.issuer_url()),
            "{forge}"
        );
    }
}

#[tokio::test]
#[cfg_attr(
    not(signet_mock_sigstore),
    ignore = "needs the mock Sigstore (SIGNET_TEST_SIGSTORE_DIR; run scripts/test.sh)"
)]
async fn a_key_signature_is_logged_in_the_mock_rekor() {
    let Some(mock) = mock() else { return };
    let connected = mock.connected();
    let key = PrivateKey::generate_p256().unwrap();
    let signature = key.sign(b"artifact").unwrap();
    let material = SignerMaterial::PublicKey(key.public_key());
    let evidence = connected
        .recorder
        .record(
            &SignedContent::Message {
                digest: &Digest::sha256_of(b"artifact"),
                signature: &signature,
            },
            &material,
        )
        .await
        .unwrap();
    assert_eq!(evidence.tlog_entries.len(), 1);
}
