//! `signet server` as a process on 127.0.0.1, driven by real clients:
//! cosign 2.5 gets a keyless certificate from the CA (its Fulcio v1 call)
//! and checks the embedded SCT against the served CT key, in both of
//! cosign's trust forms (`--trusted-root` and the `SIGSTORE_*` variables),
//! and sigstore-go 0.7 verifies the same bundle with the served trusted root;
//! sigstore-python's Fulcio client (v2, a CSR) obtains a certificate and
//! checks its SCT against the served client trust config, and its TSA client
//! gets a timestamp; `openssl ts` queries the TSA and verifies the reply.
//! `init` refuses plain-http issuers and existing directories; SIGTERM stops
//! the server cleanly.
//!
//! Tokens come from the test OIDC issuer (`signet-testing`). The full
//! sign-and-verify round trips through the transparency log are the log's
//! tests.

use std::process::Command;

use signet_testing::{Claims, IssuerOptions, OidcIssuer, Workflow};

use crate::harness::{Local, Peers, tests};
use crate::server_process::{DataDir, ServerProcess, peer, run, signet};

tests![
    init_refuses_plain_http_issuers_and_existing_directories,
    cosign_gets_a_keyless_certificate_and_its_sct_check_passes,
    sigstore_python_gets_a_certificate_from_v2_and_a_timestamp,
    openssl_timestamps_verify_with_openssl,
];

const EMAIL: &str = "release@example.test";

/// A server on a fresh data directory trusting `issuers`.
fn start(issuers: &[String]) -> (DataDir, ServerProcess) {
    let data = DataDir::init(issuers, str::to_owned);
    let server = ServerProcess::run(&data, None);
    (data, server)
}

fn init_refuses_plain_http_issuers_and_existing_directories(_: &Local) {
    let temp = tempfile::tempdir().unwrap();
    let d = temp.path();
    run(signet(
        d,
        &[
            "server",
            "init",
            "s1",
            "--oidc-issuer",
            "http://git.example.test/api/actions=gitea-actions",
        ],
    ))
    .fails_with(1, "uses plain http; only https is accepted");
    assert!(
        !d.join("s1").exists(),
        "nothing is written for a refused issuer"
    );
    run(signet(
        d,
        &[
            "server",
            "init",
            "s1",
            "--oidc-issuer",
            "https://git.example.test=jenkins",
        ],
    ))
    .fails_with(1, "unknown issuer type \"jenkins\"");
    std::fs::create_dir(d.join("taken")).unwrap();
    std::fs::write(d.join("taken/notes.txt"), "mine").unwrap();
    run(signet(
        d,
        &[
            "server",
            "init",
            "taken",
            "--oidc-issuer",
            "https://id.example.test",
        ],
    ))
    .fails_with(
        1,
        "already exists and is not empty; refusing to initialise over it",
    );
    assert_eq!(
        std::fs::read_to_string(d.join("taken/notes.txt")).unwrap(),
        "mine"
    );
    // Without a password there is no init (keys are never written in the clear).
    let mut c = signet(
        d,
        &[
            "server",
            "init",
            "s2",
            "--oidc-issuer",
            "https://id.example.test",
        ],
    );
    c.env_remove("SIGNET_SERVER_PASSWORD");
    run(c).fails_with(1, "set SIGNET_SERVER_PASSWORD or pass --password-file");
    // A good init: loopback http is fine, keys are private, a second init refuses.
    let out = run(signet(
        d,
        &[
            "server",
            "init",
            "s3",
            "--oidc-issuer",
            "http://127.0.0.1:9/api/actions=forgejo-actions",
        ],
    ))
    .ok();
    assert!(out.stdout.contains("rekor-v2.key"), "{}", out.stdout);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("s3/keys"), 0o700);
    for key in ["fulcio", "ctlog", "rekor-v1", "rekor-v2", "tsa"] {
        let path = format!("s3/keys/{key}.key");
        assert_eq!(mode(&path), 0o600, "{path}");
        let text = std::fs::read_to_string(d.join(&path)).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
            "{path}"
        );
    }
    run(signet(
        d,
        &[
            "server",
            "init",
            "s3",
            "--oidc-issuer",
            "https://id.example.test",
        ],
    ))
    .fails_with(1, "already exists");
    // run refuses a directory init did not make, and a wrong password.
    run(signet(d, &["server", "run", "nowhere"])).fails_with(1, "run `signet server init` first");
    let mut c = signet(d, &["server", "run", "s3", "--listen", "127.0.0.1:0"]);
    c.env("SIGNET_SERVER_PASSWORD", "wrong");
    run(c).fails_with(1, "keys/");
}

fn cosign_gets_a_keyless_certificate_and_its_sct_check_passes(p: &Peers) {
    let peers = &p.peers;
    let issuer = OidcIssuer::start().unwrap();
    let (_data, server) = start(&[issuer.issuer_url().to_owned()]);
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let home = d.join("home");
    std::fs::create_dir_all(home.join("tuf")).unwrap();
    std::fs::write(d.join("blob"), b"artefact signed against signet server\n").unwrap();
    std::fs::write(
        d.join("trusted_root.json"),
        server.curl("/trusted_root.json"),
    )
    .unwrap();
    let cosign_env = [
        ("SIGSTORE_ROOT_FILE", server.file("fulcio-chain.pem")),
        ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", server.file("ctlog.pub")),
        ("SIGSTORE_REKOR_PUBLIC_KEY", server.file("rekor.pub")),
        (
            "SIGSTORE_TSA_CERTIFICATE_FILE",
            server.file("tsa-chain.pem"),
        ),
    ];
    let token = issuer.token(&Claims::email(EMAIL)).unwrap();
    let tsa = format!("{}/api/v1/timestamp", server.url);
    // Keyless signing: cosign asks the CA for a certificate, checks its
    // embedded SCT against SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, and timestamps
    // the signature with the TSA; no transparency log yet.
    let mut sign = peer(&peers.join("bin/cosign"), d, &home);
    sign.envs(cosign_env.iter().cloned()).args([
        "sign-blob",
        "--yes",
        "--fulcio-url",
        &server.url,
        "--identity-token",
        &token,
        "--timestamp-server-url",
        &tsa,
        "--tlog-upload=false",
        "--new-bundle-format",
        "--bundle",
        "b.sigstore.json",
        "--output-certificate",
        "b.crt",
        "--output-signature",
        "b.sig",
        "blob",
    ]);
    run(sign).ok();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("b.sigstore.json")).unwrap()).unwrap();
    assert!(bundle["verificationMaterial"]["certificate"]["rawBytes"].is_string());
    assert!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            .is_object()
    );

    let verify = |identity: &str, root: &str| {
        let mut c = peer(&peers.join("bin/cosign"), d, &home);
        c.args([
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            "b.sigstore.json",
            "--trusted-root",
            root,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer.issuer_url(),
            "--insecure-ignore-tlog=true",
            "--use-signed-timestamps",
            "blob",
        ]);
        run(c)
    };
    // The served trusted root: chain, SCT, TSA timestamp.
    let ok = verify(EMAIL, "trusted_root.json").ok();
    assert!(ok.stderr.contains("Verified OK"), "{}", ok.stderr);
    let wrong = verify("other@example.test", "trusted_root.json");
    assert_ne!(wrong.code, 0);
    assert!(
        wrong.stderr.contains("expected SAN value"),
        "{}",
        wrong.stderr
    );
    // sigstore-go 0.7 reads the same trusted root: chain, SCT and the TSA's
    // timestamp verify (no log entry is required while the log is not there).
    let go = |identity: &str| {
        let mut c = peer(&peers.join("bin/sigstore-go-verification"), d, &home);
        c.args([
            "-trustedrootJSONpath",
            "trusted_root.json",
            "-requireTlog=false",
            "-expectedSAN",
            identity,
            "-expectedIssuer",
            issuer.issuer_url(),
            "-artifact",
            "blob",
            "b.sigstore.json",
        ]);
        run(c)
    };
    let ok = go(EMAIL).ok();
    assert!(
        (ok.stdout.clone() + &ok.stderr).contains("Verification successful"),
        "{}{}",
        ok.stdout,
        ok.stderr
    );
    assert_ne!(go("other@example.test").code, 0);
    // cosign's environment form (the files in the data directory), with the
    // certificate and signature as separate files.
    let mut c = peer(&peers.join("bin/cosign"), d, &home);
    c.envs(cosign_env.iter().cloned()).args([
        "verify-blob",
        "--certificate",
        "b.crt",
        "--signature",
        "b.sig",
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        issuer.issuer_url(),
        "--insecure-ignore-tlog=true",
        "blob",
    ]);
    let ok = run(c).ok();
    assert!(ok.stderr.contains("Verified OK"), "{}", ok.stderr);

    // The SCT check is real: a trusted root whose CT key is another log's fails.
    let mut root: serde_json::Value =
        serde_json::from_str(&server.curl("/trusted_root.json")).unwrap();
    let other = signet_core::keys::PrivateKey::generate_p256()
        .unwrap()
        .public_key();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    root["ctlogs"][0]["publicKey"]["rawBytes"] = b64.encode(other.to_spki_der()).into();
    root["ctlogs"][0]["logId"]["keyId"] = b64
        .encode(<sha2::Sha256 as sha2::Digest>::digest(other.to_spki_der()))
        .into();
    std::fs::write(d.join("foreign-ct.json"), root.to_string()).unwrap();
    let refused = verify(EMAIL, "foreign-ct.json");
    assert_ne!(refused.code, 0, "a foreign CT key must not verify the SCT");
    assert!(
        refused
            .stderr
            .contains("failed to verify signed certificate timestamp"),
        "{}",
        refused.stderr
    );
    std::fs::write(d.join("foreign-ct.pub"), other.to_pem()).unwrap();
    let mut c = peer(&peers.join("bin/cosign"), d, &home);
    c.envs(cosign_env.iter().cloned())
        .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", d.join("foreign-ct.pub"))
        .args([
            "verify-blob",
            "--certificate",
            "b.crt",
            "--signature",
            "b.sig",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            issuer.issuer_url(),
            "--insecure-ignore-tlog=true",
            "blob",
        ]);
    let refused = run(c);
    assert_ne!(refused.code, 0, "a foreign CT key must not verify the SCT");
    assert!(
        refused.stderr.contains("ctfe public key not found"),
        "{}",
        refused.stderr
    );

    // cosign 2.5 took the legacy v1 endpoint.
    let metrics = server.curl("/metrics");
    assert!(
        metrics.contains("signet_http_requests_total{route=\"/api/v1/signingCert\",method=\"POST\",status=\"201\"}"),
        "{metrics}"
    );
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("\"message\":\"certificate issued\""), "{log}");
    assert!(log.contains("server stopped"), "{log}");
}

/// sigstore-python's own Fulcio and TSA clients, configured from the served
/// client trust config, up to the transparency-log upload.
const PYTHON_CLIENT: &str = r#"
import sys, requests
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

url, token = sys.argv[1], sys.argv[2]
config = ClientTrustConfig.from_json(requests.get(url + "/client_trust_config.json").text)
ctx = SigningContext.from_trust_config(config)
with ctx.signer(IdentityToken(token)) as signer:
    # CSR to the CA (v2), then the embedded SCT checked against the trust config's CT log.
    cert = signer._signing_cert()
    san = cert.extensions.get_extension_for_class(__import__("cryptography").x509.SubjectAlternativeName)
    print("SAN", san.value.get_values_for_type(__import__("cryptography").x509.UniformResourceIdentifier)[0])
    for tsa in ctx._tsa_clients:
        response = tsa.request_timestamp(b"signature bytes")
        print("TSA", tsa.url, response.tst_info.gen_time.isoformat())
"#;

fn sigstore_python_gets_a_certificate_from_v2_and_a_timestamp(p: &Peers) {
    let peers = &p.peers;
    let issuer = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
    let (_data, server) = start(&[format!("{}=gitea-actions", issuer.issuer_url())]);
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let home = d.join("home");
    std::fs::create_dir_all(home.join("tuf")).unwrap();
    std::fs::write(d.join("client.py"), PYTHON_CLIENT).unwrap();
    let workflow = Workflow::default();
    let token = issuer.token(&Claims::gitea_actions(&workflow)).unwrap();
    let mut c = peer(&peers.join("venv/bin/python"), d, &home);
    c.args(["client.py", &server.url, &token]);
    let out = run(c).ok();
    let identity = format!("{}/{}", issuer.base_url(), workflow.workflow_ref());
    assert!(
        out.stdout.contains(&format!("SAN {identity}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("TSA {}/api/v1/timestamp", server.url)),
        "{}",
        out.stdout
    );
    let metrics = server.curl("/metrics");
    assert!(
        metrics.contains("signet_http_requests_total{route=\"/api/v2/signingCert\",method=\"POST\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signet_tsa_timestamps_issued_total{form=\"der\"} 1"),
        "{metrics}"
    );
}

fn openssl_timestamps_verify_with_openssl(_: &Local) {
    let (_data, server) = start(&[]);
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    std::fs::write(d.join("data"), b"timestamped data\n").unwrap();
    std::fs::write(
        d.join("chain.pem"),
        server.curl("/api/v1/timestamp/certchain"),
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let mut c = Command::new("openssl");
        c.args(args).current_dir(d);
        run(c)
    };
    openssl(&[
        "ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "q.tsq",
    ])
    .ok();
    let out = Command::new("curl")
        .args([
            "-sf",
            "-H",
            "Content-Type: application/timestamp-query",
            "--data-binary",
            "@q.tsq",
            "-o",
            "r.tsr",
            "-w",
            "%{http_code}",
        ])
        .arg(format!("{}/api/v1/timestamp", server.url))
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    // The chain file is leaf first; openssl wants the leaf as -untrusted and
    // the rest as the trust anchors.
    let chain =
        signet_pki::certificate::parse_pem_chain(&std::fs::read(d.join("chain.pem")).unwrap())
            .unwrap();
    std::fs::write(d.join("leaf.pem"), chain[0].to_pem()).unwrap();
    std::fs::write(
        d.join("cas.pem"),
        signet_pki::certificate::chain_to_pem(&chain[1..]),
    )
    .unwrap();
    let verified = openssl(&[
        "ts",
        "-verify",
        "-in",
        "r.tsr",
        "-queryfile",
        "q.tsq",
        "-CAfile",
        "cas.pem",
        "-untrusted",
        "leaf.pem",
    ])
    .ok();
    assert!(
        verified.stdout.contains("Verification: OK"),
        "{}",
        verified.stdout
    );
    // A reply over other data does not verify.
    std::fs::write(d.join("other"), b"other data\n").unwrap();
    let refused = openssl(&[
        "ts",
        "-verify",
        "-in",
        "r.tsr",
        "-data",
        "other",
        "-CAfile",
        "cas.pem",
        "-untrusted",
        "leaf.pem",
    ]);
    assert_ne!(refused.code, 0);
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));
}
