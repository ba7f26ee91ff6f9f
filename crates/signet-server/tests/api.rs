//! The server's API over HTTP on 127.0.0.1, with ID tokens from the test
//! OIDC issuer: the Fulcio endpoints (v2 with a key or a CSR, token in the
//! body or as Bearer; v1), certificates checked as a verifier checks them
//! against the served trusted root, every token defect refused, the
//! issuers' keys refreshed on an unknown `kid` but not too often, the TSA,
//! the trust files, and the operations endpoints.

mod support;

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PrivateKey;
use signet_pki::profile::SubjectAltName;
use signet_pki::timestamp::{TimestampAuthority, TimestampOptions, verify_timestamp_response};
use signet_server::config::{IssuerConfig, IssuerType};
use signet_testing::{
    Algorithm, Claims, Defect, IssuerOptions, OidcIssuer, TokenOptions, Workflow,
};
use support::{Reply, TestServer, check_leaf, openssl, pem_chain, v2_chain, v2_key_request};

const EMAIL: &str = "dev@example.test";

struct Fixture {
    server: TestServer,
    email: OidcIssuer,
    forgejo: OidcIssuer,
    gitea: OidcIssuer,
    github: OidcIssuer,
    rotating: OidcIssuer,
}

/// One server shared by the tests of this file, trusting five issuers.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let email = OidcIssuer::start().unwrap();
        let forgejo = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
        let gitea = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
        let github = OidcIssuer::start().unwrap();
        let rotating = OidcIssuer::start().unwrap();
        let issuers = vec![
            IssuerConfig::new(email.issuer_url(), IssuerType::Email),
            IssuerConfig::new(forgejo.issuer_url(), IssuerType::ForgejoActions),
            IssuerConfig::new(gitea.issuer_url(), IssuerType::GiteaActions),
            IssuerConfig {
                instance_url: Some("https://github.example.test".into()),
                ..IssuerConfig::new(github.issuer_url(), IssuerType::GithubActions)
            },
            IssuerConfig::new(rotating.issuer_url(), IssuerType::Email),
        ];
        let server = TestServer::start(
            issuers,
            |c| {
                c.rate_limit.requests_per_second = 0.0;
                c.oidc.jwks_min_refresh_seconds = 2;
            },
            None,
        );
        Fixture {
            server,
            email,
            forgejo,
            gitea,
            github,
            rotating,
        }
    })
}

fn post_v2(f: &Fixture, body: Vec<u8>, bearer: Option<&str>) -> Reply {
    f.server
        .post("/api/v2/signingCert", "application/json", body, bearer)
}

#[test]
fn email_identity_gets_a_certificate_with_an_embedded_sct() {
    let f = fixture();
    let token = f.email.token(&Claims::email(EMAIL)).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let reply = post_v2(f, v2_key_request(&key, EMAIL, Some(&token)), None).expect(200);
    let chain = v2_chain(&reply);
    assert_eq!(
        chain[0].public_key_der(),
        key.public_key().to_spki_der(),
        "the certificate is for the requested key"
    );
    let profile = check_leaf(&chain[0], &f.server.trusted_root());
    assert_eq!(
        profile.identity(),
        Some(&SubjectAltName::Email(EMAIL.into()))
    );
    assert_eq!(profile.issuer.as_deref(), Some(f.email.issuer_url()));
    assert_eq!(profile.scts.len(), 1);
    // RS256 tokens too, token as a Bearer header only (as sigstore-go sends it).
    let rs = f
        .email
        .token_with(
            &Claims::email(EMAIL),
            TokenOptions {
                algorithm: Algorithm::Rs256,
                defect: None,
            },
        )
        .unwrap();
    post_v2(f, v2_key_request(&key, EMAIL, None), Some(&rs)).expect(200);
}

#[test]
fn forgejo_and_gitea_jobs_get_workflow_identities() {
    let f = fixture();
    let workflow = Workflow {
        workflow_path: ".forgejo/workflows/release.yml".into(),
        ..Workflow::default()
    };
    let root = f.server.trusted_root();
    for (issuer, claims) in [
        (&f.forgejo, Claims::forgejo_actions(&workflow)),
        (&f.gitea, Claims::gitea_actions(&workflow)),
    ] {
        let token = issuer.token(&claims).unwrap();
        let sub = claims.get_str("sub").unwrap();
        let key = PrivateKey::generate_p256().unwrap();
        let reply = post_v2(f, v2_key_request(&key, sub, None), Some(&token)).expect(200);
        let leaf = &v2_chain(&reply)[0];
        let profile = check_leaf(leaf, &root);
        let identity = format!("{}/{}", issuer.base_url(), workflow.workflow_ref());
        assert_eq!(
            profile.identity(),
            Some(&SubjectAltName::Uri(identity.clone()))
        );
        assert_eq!(profile.issuer.as_deref(), Some(issuer.issuer_url()));
        let c = &profile.claims;
        assert_eq!(c.build_signer_uri.as_deref(), Some(identity.as_str()));
        assert_eq!(
            c.source_repository_uri.as_deref(),
            Some(format!("{}/golemtrust/app", issuer.base_url()).as_str())
        );
        assert_eq!(
            c.source_repository_digest.as_deref(),
            Some(workflow.sha.as_str())
        );
        assert_eq!(c.source_repository_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(c.source_repository_identifier.as_deref(), Some("42"));
        assert_eq!(c.build_trigger.as_deref(), Some("push"));
        assert_eq!(
            c.run_invocation_uri.as_deref(),
            Some(format!("{}/golemtrust/app/actions/runs/17", issuer.base_url()).as_str())
        );
    }
}

#[test]
fn github_jobs_get_fulcio_github_extensions() {
    let f = fixture();
    let workflow = Workflow::default();
    let claims = Claims::github_actions(&workflow);
    let token = f.github.token(&claims).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let reply = post_v2(
        f,
        v2_key_request(&key, claims.get_str("sub").unwrap(), Some(&token)),
        None,
    )
    .expect(200);
    let profile = check_leaf(&v2_chain(&reply)[0], &f.server.trusted_root());
    assert_eq!(
        profile.identity().map(SubjectAltName::value),
        Some(format!("https://github.example.test/{}", workflow.workflow_ref()).as_str())
    );
    assert_eq!(
        profile.claims.github_workflow_trigger.as_deref(),
        Some("push")
    );
    assert_eq!(
        profile.claims.runner_environment.as_deref(),
        Some("self-hosted")
    );
    assert_eq!(
        profile
            .claims
            .source_repository_visibility_at_signing
            .as_deref(),
        Some("private")
    );
}

#[test]
fn legacy_v1_endpoint_answers_a_pem_chain() {
    let f = fixture();
    let token = f.email.token(&Claims::email(EMAIL)).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let proof = key.sign(EMAIL.as_bytes()).unwrap();
    // cosign 2.x: DER key and signature as Go []byte (base64).
    let body = serde_json::json!({
        "publicKey": {"content": B64.encode(key.public_key().to_spki_der()), "algorithm": "ecdsa"},
        "signedEmailAddress": B64.encode(proof),
    });
    let reply = f
        .server
        .post(
            "/api/v1/signingCert",
            "application/json",
            body.to_string().into_bytes(),
            Some(&token),
        )
        .expect(201);
    assert_eq!(reply.content_type, "application/pem-certificate-chain");
    let chain = pem_chain(&reply.body);
    assert_eq!(chain.len(), 3);
    check_leaf(&chain[0], &f.server.trusted_root());
}

#[test]
fn signing_requests_prove_possession_with_their_signature() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let Some(out) = openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "k.pem",
        ],
    ) else {
        return;
    };
    assert!(out.status.success());
    let out = openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=ignored",
            "-out",
            "r.csr",
        ],
    )
    .unwrap();
    assert!(out.status.success());
    let csr = std::fs::read(dir.path().join("r.csr")).unwrap();
    let token = f.email.token(&Claims::email(EMAIL)).unwrap();
    // sigstore-python: base64 of the PEM, token as Bearer.
    let body = serde_json::json!({"certificateSigningRequest": B64.encode(&csr)});
    let reply = post_v2(f, body.to_string().into_bytes(), Some(&token)).expect(200);
    check_leaf(&v2_chain(&reply)[0], &f.server.trusted_root());
    // A request whose self-signature is broken is refused.
    let (_, mut der) = pem_rfc7468_decode(&csr);
    let at = der.windows(7).position(|w| w == b"ignored").unwrap();
    der[at] ^= 1;
    let body = serde_json::json!({"certificateSigningRequest": B64.encode(&der)});
    let reply = post_v2(f, body.to_string().into_bytes(), Some(&token)).expect(400);
    assert!(
        reply.message().contains("proof of possession"),
        "{}",
        reply.message()
    );
}

fn pem_rfc7468_decode(pem: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    ("CERTIFICATE REQUEST".into(), B64.decode(body).unwrap())
}

#[test]
fn every_token_defect_is_refused_with_its_own_message() {
    let f = fixture();
    let key = PrivateKey::generate_p256().unwrap();
    for defect in Defect::ALL {
        let token = f
            .email
            .token_with(
                &Claims::email(EMAIL),
                TokenOptions {
                    algorithm: Algorithm::Es256,
                    defect: Some(defect),
                },
            )
            .unwrap();
        let expected = match defect {
            Defect::BadSignature | Defect::WrongKey => "identity token signature is invalid",
            Defect::UnknownKid => "is not among the keys issuer",
            Defect::WrongAudience => "audience",
            Defect::Expired => "identity token expired at",
            Defect::NotYetValid => "not valid before",
            Defect::WrongIssuer => "is not trusted by this server",
            Defect::Unsigned => "algorithm none",
            _ => "identity token",
        };
        let reply = post_v2(f, v2_key_request(&key, EMAIL, Some(&token)), None);
        assert_eq!(reply.status, 401, "{defect:?}: {}", reply.message());
        assert!(
            reply.message().contains(expected),
            "{defect:?}: {}",
            reply.message()
        );
    }
    // Proof of possession over another subject.
    let token = f.email.token(&Claims::email(EMAIL)).unwrap();
    let reply = post_v2(
        f,
        v2_key_request(&key, "mallory@example.test", Some(&token)),
        None,
    )
    .expect(400);
    assert!(
        reply
            .message()
            .contains("proof of possession does not verify")
            && reply.message().contains("email claim \"dev@example.test\""),
        "{}",
        reply.message()
    );
    // An email issuer that does not vouch for the address.
    let token = f
        .email
        .token(&Claims::email(EMAIL).with("email_verified", false))
        .unwrap();
    let reply = post_v2(f, v2_key_request(&key, EMAIL, Some(&token)), None).expect(401);
    assert!(
        reply.message().contains("email_verified"),
        "{}",
        reply.message()
    );
    // No token at all; garbage token; no key.
    let reply = post_v2(f, v2_key_request(&key, EMAIL, None), None).expect(401);
    assert!(reply.message().contains("no identity token"));
    let reply = post_v2(f, v2_key_request(&key, EMAIL, Some("not.a.jwt")), None).expect(401);
    assert!(
        reply.message().contains("malformed identity token"),
        "{}",
        reply.message()
    );
    post_v2(f, b"{\"credentials\":{}}".to_vec(), Some(&token)).expect(400);
    post_v2(f, b"[1,2".to_vec(), Some(&token)).expect(400);
    // Refusals are counted.
    let (_, metrics) = f.server.get("/metrics");
    assert!(
        metrics.contains("signet_ca_requests_refused_total{reason=\"expired\"}"),
        "{metrics}"
    );
}

#[test]
fn keys_are_refreshed_on_an_unknown_kid_but_not_more_often_than_configured() {
    let f = fixture();
    let issuer = &f.rotating;
    let key = PrivateKey::generate_p256().unwrap();
    let sign = |token: &str| post_v2(f, v2_key_request(&key, EMAIL, Some(token)), None);
    sign(&issuer.token(&Claims::email(EMAIL)).unwrap()).expect(200);
    let first = issuer.jwks_fetches();
    assert!(first >= 1);
    // Cached: more tokens, no fetch.
    sign(&issuer.token(&Claims::email(EMAIL)).unwrap()).expect(200);
    assert_eq!(issuer.jwks_fetches(), first);
    // The issuer rotates; a token with the new kid makes the server refetch
    // (once the refresh interval since the last fetch has passed).
    std::thread::sleep(Duration::from_millis(2100));
    issuer.rotate_key(Algorithm::Es256).unwrap();
    sign(&issuer.token(&Claims::email(EMAIL)).unwrap()).expect(200);
    let after_rotation = issuer.jwks_fetches();
    assert_eq!(after_rotation, first + 1);
    // A burst of tokens naming unknown kids: refused, and they cannot make
    // the server fetch again within the interval.
    for _ in 0..20 {
        let t = issuer
            .token_with(
                &Claims::email(EMAIL),
                TokenOptions {
                    algorithm: Algorithm::Es256,
                    defect: Some(Defect::UnknownKid),
                },
            )
            .unwrap();
        sign(&t).expect(401);
    }
    assert_eq!(issuer.jwks_fetches(), after_rotation);
}

#[test]
fn the_ca_publishes_its_chain_and_configuration() {
    let f = fixture();
    let (status, bundle) = f.server.get("/api/v2/trustBundle");
    assert_eq!(status, 200);
    let bundle: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    let chain = bundle["chains"][0]["certificates"].as_array().unwrap();
    assert_eq!(chain.len(), 2);
    let (status, root_pem) = f.server.get("/api/v1/rootCert");
    assert_eq!(status, 200);
    assert_eq!(pem_chain(root_pem.as_bytes()).len(), 2);
    let (_, config) = f.server.get("/api/v2/configuration");
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let issuers = config["issuers"].as_array().unwrap();
    assert_eq!(issuers.len(), 5);
    let forgejo = issuers
        .iter()
        .find(|i| i["issuerUrl"] == f.forgejo.issuer_url())
        .unwrap();
    assert_eq!(forgejo["issuerType"], "ci-provider");
    assert_eq!(forgejo["challengeClaim"], "sub");
    assert_eq!(forgejo["audience"], "sigstore");
    let (status, roots) = f.server.get("/ct/v1/get-roots");
    assert_eq!(status, 200);
    assert!(roots.contains("certificates"));
}

#[test]
fn trust_files_describe_the_server() {
    let f = fixture();
    let root = f.server.trusted_root();
    assert_eq!(root.tlogs.len(), 2);
    let v1 = &root.tlogs[0];
    assert_eq!(v1.log_id, v1.public_key.sha256_key_id().to_vec());
    assert_eq!(v1.base_url, "http://127.0.0.1:1");
    let v2 = &root.tlogs[1];
    let v2_key = v2.public_key.to_public_key().unwrap();
    assert_eq!(
        Some(v2.log_id.as_slice()),
        signet_server::trust_files::checkpoint_key_id("127.0.0.1", &v2_key)
            .as_ref()
            .map(|a| a.as_slice())
    );
    assert_eq!(root.certificate_authorities[0].cert_chain.len(), 2);
    assert_eq!(root.timestamp_authorities[0].cert_chain.len(), 3);
    assert_eq!(
        root.timestamp_authorities[0].uri,
        "http://127.0.0.1:1/api/v1/timestamp"
    );
    // No fields cosign 2.5 and sigstore-go 0.7 refuse.
    let (_, text) = f.server.get("/trusted_root.json");
    assert!(!text.contains("operator") && !text.contains("checkpointKeyId"));
    assert!(
        text.contains(
            "\"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\""
        )
    );
    // The same files are in the data directory.
    let on_disk = std::fs::read_to_string(f.server.root().join("trusted_root.json")).unwrap();
    assert_eq!(on_disk, text);
    let (status, signing) = f.server.get("/signing_config.json");
    assert_eq!(status, 200);
    let signing = signet_trust::SigningConfig::parse(signing.as_bytes()).unwrap();
    let now = jiff::Timestamp::now();
    assert_eq!(
        signing.select_ca(&[1], now).unwrap().url,
        "http://127.0.0.1:1"
    );
    assert_eq!(
        signing.select_rekor(&[1, 2], now).unwrap()[0].major_api_version,
        2
    );
    assert_eq!(
        signing.select_rekor(&[1], now).unwrap()[0].major_api_version,
        1
    );
    assert_eq!(
        signing.select_tsa(&[1], now).unwrap()[0].url,
        "http://127.0.0.1:1/api/v1/timestamp"
    );
    let (status, client) = f.server.get("/client_trust_config.json");
    assert_eq!(status, 200);
    let client = signet_trust::ClientTrustConfig::parse(client.as_bytes()).unwrap();
    assert_eq!(client.trusted_root, root);
}

#[test]
fn the_tsa_answers_json_and_der_requests() {
    let f = fixture();
    let root = f.server.trusted_root();
    let tsa_chain: Vec<_> = root.timestamp_authorities[0]
        .cert_chain
        .iter()
        .map(|c| signet_pki::certificate::Certificate::from_der(c.der()).unwrap())
        .collect();
    let authorities =
        [TimestampAuthority::new(tsa_chain, signet_pki::time::TimeRange::UNBOUNDED).unwrap()];
    let signature = b"a signature to timestamp";
    let digest = <sha2::Sha256 as sha2::Digest>::digest(signature);
    let body = serde_json::json!({
        "artifactHash": B64.encode(digest), "hashAlgorithm": "sha256", "certificates": true, "nonce": 42
    });
    let reply = f
        .server
        .post(
            "/api/v1/timestamp",
            "application/json",
            body.to_string().into_bytes(),
            None,
        )
        .expect(201);
    assert_eq!(reply.content_type, "application/timestamp-reply");
    let verified = verify_timestamp_response(
        &reply.body,
        signature,
        &authorities,
        &TimestampOptions {
            nonce: Some(vec![42]),
            policy: None,
        },
    )
    .unwrap();
    let skew = verified
        .time
        .duration_since(std::time::SystemTime::now() - Duration::from_secs(60));
    assert!(skew.is_ok(), "genTime is now");

    // DER, as openssl makes it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sig"), signature).unwrap();
    if let Some(out) = openssl(
        dir.path(),
        &[
            "ts", "-query", "-data", "sig", "-sha256", "-cert", "-out", "q.tsq",
        ],
    ) {
        assert!(out.status.success());
        let query = std::fs::read(dir.path().join("q.tsq")).unwrap();
        let reply = f
            .server
            .post(
                "/api/v1/timestamp",
                "application/timestamp-query",
                query,
                None,
            )
            .expect(201);
        verify_timestamp_response(
            &reply.body,
            signature,
            &authorities,
            &TimestampOptions::default(),
        )
        .unwrap();
    }

    // The chain endpoint; refusals.
    let (status, pem) = f.server.get("/api/v1/timestamp/certchain");
    assert_eq!(status, 200);
    assert_eq!(pem_chain(pem.as_bytes()).len(), 3);
    let reply = f
        .server
        .post(
            "/api/v1/timestamp",
            "application/json",
            b"{\"artifactHash\":\"AAAA\"}".to_vec(),
            None,
        )
        .expect(400);
    assert!(!reply.message().is_empty());
    f.server
        .post("/api/v1/timestamp", "text/plain", b"x".to_vec(), None)
        .expect(415);
    f.server
        .post(
            "/api/v1/timestamp",
            "application/timestamp-query",
            vec![0x30; 5000],
            None,
        )
        .expect(413);
    f.server
        .post(
            "/api/v1/timestamp",
            "application/timestamp-query",
            vec![0x30, 0x03, 1, 2, 3],
            None,
        )
        .expect(400);
}

#[test]
fn operations_endpoints_and_limits() {
    let f = fixture();
    assert_eq!(f.server.get("/healthz"), (200, "ok\n".into()));
    let (status, ready) = f.server.get("/readyz");
    assert_eq!(status, 200, "{ready}");
    let token = f.email.token(&Claims::email(EMAIL)).unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    post_v2(f, v2_key_request(&key, EMAIL, Some(&token)), None).expect(200);
    let (_, metrics) = f.server.get("/metrics");
    for needle in [
        "# TYPE signet_http_requests_total counter",
        "signet_http_requests_total{route=\"/api/v2/signingCert\",method=\"POST\",status=\"200\"}",
        "signet_http_request_duration_seconds_bucket{route=\"/api/v2/signingCert\",method=\"POST\",le=\"+Inf\"}",
        "signet_ca_certificates_issued_total{issuer=",
        "signet_ct_scts_issued_total",
        "signet_oidc_jwks_fetches_total{issuer=",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
    // Unknown routes and oversized bodies.
    let (status, body) = f.server.get("/no/such/thing");
    assert_eq!(status, 404);
    assert!(body.contains("no such endpoint"));
    post_v2(f, vec![b' '; 70_000], None).expect(413);
    // A declared length over the server-wide cap is refused before any of the
    // body is read (a client still sending would see the connection close).
    let answer = raw_request(
        &f.server.url,
        "POST /api/v2/signingCert HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5242880\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 4194304 bytes"), "{answer}");
    // A malformed log entry is refused with the reason, and nothing logged.
    let reply = f
        .server
        .post(
            "/api/v1/log/entries",
            "application/json",
            b"{}".to_vec(),
            None,
        )
        .expect(400);
    assert!(reply.message().contains("malformed Rekor entry"));
}

/// Sends `head` on a fresh connection and returns what comes back.
fn raw_request(url: &str, head: &str) -> String {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
