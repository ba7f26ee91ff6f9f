use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use signet_core::keys::{PrivateKey, PublicKey};
use signet_pki::certificate::Certificate;

use super::*;
use crate::test_pki::TestFulcio;
use crate::test_server::{jwt, serve};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Embedded,
    Detached,
    NoSct,
    OtherKey,
    Refuse,
    Garbage,
    Huge,
}

struct Script {
    fulcio: TestFulcio,
    mode: Mode,
    seen: Vec<serde_json::Value>,
    bearer: Vec<String>,
}

type Shared = Arc<Mutex<Script>>;

fn pem_list(certs: &[Certificate]) -> Vec<String> {
    certs.iter().map(Certificate::to_pem).collect()
}

async fn signing_cert(
    State(script): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let mut s = script.lock().unwrap();
    let request: serde_json::Value = serde_json::from_str(&body).unwrap();
    if let Some(auth) = headers.get("authorization") {
        s.bearer.push(auth.to_str().unwrap().to_owned());
    }
    s.seen.push(request.clone());
    let pem = request["publicKeyRequest"]["publicKey"]["content"]
        .as_str()
        .unwrap();
    let key = PublicKey::from_pem(pem.as_bytes()).unwrap();
    // The proof of possession signs the token's email.
    let proof = base64::engine::general_purpose::STANDARD
        .decode(
            request["publicKeyRequest"]["proofOfPossession"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    key.verify(b"dev@example.test", &proof).unwrap();
    let spki = match s.mode {
        Mode::OtherKey => PrivateKey::generate_p256()
            .unwrap()
            .public_key()
            .to_spki_der(),
        _ => key.to_spki_der(),
    };
    match s.mode {
        Mode::Refuse => (
            StatusCode::UNAUTHORIZED,
            r#"{"code":16,"message":"There was an error processing the identity token","details":[]}"#.into(),
        ),
        Mode::Garbage => (StatusCode::CREATED, "{\"unexpected\":true}".into()),
        Mode::Huge => (StatusCode::CREATED, "x".repeat(MAX_RESPONSE_BYTES + 1)),
        Mode::Embedded | Mode::OtherKey => {
            let issued = s.fulcio.issue(spki, "dev@example.test");
            let body = serde_json::json!({"signedCertificateEmbeddedSct":{"chain":{"certificates": pem_list(&issued.chain)}}});
            (StatusCode::CREATED, body.to_string())
        }
        Mode::Detached | Mode::NoSct => {
            let issued = signet_pki::issue::issue_without_sct(
                &s.fulcio.ca,
                &signet_pki::issue::LeafRequest {
                    subject_public_key: spki,
                    identity: signet_pki::profile::SubjectAltName::Email(
                        "dev@example.test".into(),
                    ),
                    issuer: "https://issuer.example.test".into(),
                    claims: Default::default(),
                    not_before: std::time::SystemTime::now(),
                },
            )
            .unwrap();
            let mut detached =
                serde_json::json!({"chain":{"certificates": pem_list(&issued.chain)}});
            if s.mode == Mode::Detached {
                let sct = s
                    .fulcio
                    .ct
                    .sign_certificate(&issued.certificate, std::time::SystemTime::now())
                    .unwrap();
                detached["signedCertificateTimestamp"] = base64::engine::general_purpose::STANDARD
                    .encode(sct.to_detached_json().unwrap())
                    .into();
            }
            (
                StatusCode::OK,
                serde_json::json!({ "signedCertificateDetachedSct": detached }).to_string(),
            )
        }
    }
}

async fn start(mode: Mode) -> (String, Shared) {
    let script = Arc::new(Mutex::new(Script {
        fulcio: TestFulcio::new(),
        mode,
        seen: Vec::new(),
        bearer: Vec::new(),
    }));
    let router = Router::new()
        .route("/api/v2/signingCert", post(signing_cert))
        .with_state(script.clone());
    (serve(router).await, script)
}

fn token() -> IdentityToken {
    IdentityToken::parse(
        &jwt(&serde_json::json!({"iss":"https://issuer.example.test","sub":"123","email":"dev@example.test","aud":"sigstore"})),
        "test",
    )
    .unwrap()
}

async fn request(mode: Mode) -> (Result<SigningCertificate, ServiceError>, Shared, PrivateKey) {
    let (url, script) = start(mode).await;
    let trust = script.lock().unwrap().fulcio.trust();
    let client =
        FulcioClient::new(HttpClient::new(&Default::default()).unwrap(), &url, trust).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let result = client.request_certificate(&token(), &key).await;
    (result, script, key)
}

#[tokio::test]
async fn an_embedded_sct_certificate_is_checked_and_returned() {
    let (cert, script, key) = request(Mode::Embedded).await;
    let cert = cert.unwrap();
    assert_eq!(cert.leaf.public_key_der(), key.public_key().to_spki_der());
    assert!(cert.detached_sct.is_none());
    assert_eq!(
        cert.identity.issuer.as_deref(),
        Some("https://issuer.example.test")
    );
    // The chain as sent (intermediate and root); bundles drop the root.
    assert_eq!(cert.chain.len(), 2);
    assert_eq!(cert.chain_without_root().len(), 2);
    let s = script.lock().unwrap();
    // The token went both in the body and as a Bearer header.
    assert_eq!(
        s.seen[0]["credentials"]["oidcIdentityToken"],
        token().as_str()
    );
    assert_eq!(s.bearer, [format!("Bearer {}", token().as_str())]);
    assert_eq!(
        s.seen[0]["publicKeyRequest"]["publicKey"]["algorithm"],
        "ECDSA"
    );
}

#[tokio::test]
async fn a_detached_sct_is_verified() {
    let (cert, _, _) = request(Mode::Detached).await;
    assert!(cert.unwrap().detached_sct.is_some());
}

#[tokio::test]
async fn a_certificate_without_an_sct_is_refused() {
    let (cert, _, _) = request(Mode::NoSct).await;
    let e = cert.unwrap_err().to_string();
    assert!(e.contains("embedded SCT"), "{e}");
}

#[tokio::test]
async fn a_certificate_for_another_key_is_refused() {
    let (cert, _, _) = request(Mode::OtherKey).await;
    let e = cert.unwrap_err().to_string();
    assert!(
        e.contains("certificate key") && e.contains("does not carry the key that was sent"),
        "{e}"
    );
}

#[tokio::test]
async fn the_servers_message_is_quoted() {
    let (cert, _, _) = request(Mode::Refuse).await;
    let e = cert.unwrap_err().to_string();
    assert!(
        e.starts_with("fulcio http://127.0.0.1:")
            && e.ends_with(
                "/api/v2/signingCert: HTTP 401, There was an error processing the identity token"
            ),
        "{e}"
    );
}

#[tokio::test]
async fn malformed_and_oversized_answers_are_refused() {
    let (cert, _, _) = request(Mode::Garbage).await;
    let e = cert.unwrap_err().to_string();
    assert!(e.contains("malformed response: neither"), "{e}");
    let (cert, _, _) = request(Mode::Huge).await;
    let e = cert.unwrap_err().to_string();
    assert!(e.contains("response larger than"), "{e}");
}

#[tokio::test]
async fn a_chain_from_an_untrusted_ca_or_log_is_refused() {
    let (url, script) = start(Mode::Embedded).await;
    let other = TestFulcio::new();
    let mut trust = script.lock().unwrap().fulcio.trust();
    trust.authorities = other.trust().authorities;
    let http = HttpClient::new(&Default::default()).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let e = FulcioClient::new(http.clone(), &url, trust)
        .unwrap()
        .request_certificate(&token(), &key)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("certificate chain"), "{e}");

    let mut trust = script.lock().unwrap().fulcio.trust();
    trust.ct_logs = vec![other.ct_log()];
    let e = FulcioClient::new(http, &url, trust)
        .unwrap()
        .request_certificate(&token(), &key)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("embedded SCT"), "{e}");
}

#[tokio::test]
async fn an_unreachable_fulcio_is_named() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = FulcioClient::new(
        HttpClient::new(&Default::default()).unwrap(),
        &url,
        CertificateTrust::default(),
    )
    .unwrap();
    let e = client
        .request_certificate(&token(), &PrivateKey::generate_p256().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("fulcio {url}/api/v2/signingCert: cannot connect")),
        "{e}"
    );
}

#[test]
fn pem_chains_are_read_as_go_reads_them() {
    let fulcio = TestFulcio::new();
    let key = PrivateKey::generate_p256().unwrap();
    let issued = fulcio.issue(key.public_key().to_spki_der(), "dev@example.test");
    let wrapped = issued.certificate.to_pem();
    // One unwrapped line, as some Fulcio implementations send it.
    let body: String = wrapped
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let unwrapped = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    for text in [&wrapped, &unwrapped] {
        let certs = pem_certificates(text).unwrap();
        assert_eq!(certs[0].as_der(), issued.certificate.as_der());
    }
    let two = pem_certificates(&format!("{wrapped}{unwrapped}")).unwrap();
    assert_eq!(two.len(), 2);
    for bad in [
        "",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\nAAAA",
    ] {
        assert!(pem_certificates(bad).is_err(), "{bad}");
    }
}
