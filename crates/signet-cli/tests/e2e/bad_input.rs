//! Bad input of every kind: a one-line error naming what failed, a non-zero
//! exit, no panic, and nothing half-written in the registry or on disk.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::harness::{AIR_GAPPED, Env, Local, signet_key_pair, tests, unique_repo};

tests![
    broken_key_files_and_passwords,
    malformed_signature_manifests_and_layers,
    registry_down_or_failing,
    bad_references_and_unsupported_modes
];

const HTTP: &str = "--allow-http-registry";
const NO_TLOG: &str = "--tlog-upload=false";

fn broken_key_files_and_passwords(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("badkeys");
    let (image, digest) = env.push_image(&repo);
    let pem = std::fs::read_to_string(d.join("k.key")).unwrap();
    std::fs::write(d.join("truncated.key"), &pem[..pem.len() / 2]).unwrap();
    std::fs::write(d.join("garbled.key"), pem.replace('A', "B")).unwrap();
    std::fs::write(d.join("empty.key"), "").unwrap();
    let p521 = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/import/ec521-pkcs8.pem");

    env.signet_with(
        d,
        &["sign", "--key", "k.key", HTTP, NO_TLOG, &image],
        &[("COSIGN_PASSWORD", "wrong")],
        None,
    )
    .fails_with(1, "incorrect password");
    env.signet(
        d,
        &["sign", "--key", "truncated.key", HTTP, NO_TLOG, &image],
    )
    .fails_with(1, "malformed key");
    let garbled = env.signet(d, &["sign", "--key", "garbled.key", HTTP, NO_TLOG, &image]);
    assert_eq!(garbled.code, 1, "{}", garbled.stderr);
    env.signet(d, &["sign", "--key", "empty.key", HTTP, NO_TLOG, &image])
        .fails_with(1, "empty.key");
    env.signet(d, &["sign", "--key", "missing.key", HTTP, NO_TLOG, &image])
        .fails_with(1, "missing.key");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            p521.to_str().unwrap(),
            HTTP,
            NO_TLOG,
            &image,
        ],
    )
    .fails_with(1, "import-key-pair");
    env.signet(d, &["sign", "--key", "k.pub", HTTP, NO_TLOG, &image])
        .fails_with(1, "public key");
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            p521.to_str().unwrap(),
            HTTP,
            &image,
        ],
    )
    .fails_with(1, "private key");
    env.signet(
        d,
        &["verify", AIR_GAPPED, "--key", "awskms://x", HTTP, &image],
    )
    .fails_with(1, "unsupported scheme");
    // Nothing reached the registry.
    assert!(env.signature_manifest(&repo, &digest).is_none());
    // Each error is one line.
    let run = env.signet(
        d,
        &["sign", "--key", "truncated.key", HTTP, NO_TLOG, &image],
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
}

fn malformed_signature_manifests_and_layers(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let oci = "application/vnd.oci.image.manifest.v1+json";

    // A registry (scripted: a real one refuses to store such manifests) whose
    // signature tag holds something that is not a signature manifest.
    let image_digest = format!("sha256:{}", "ab".repeat(32));
    let sig_path = format!("/v2/app/manifests/sha256-{}.sig", "ab".repeat(32));
    for (body, needle) in [
        (
            b"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":1}]}".to_vec(),
            "malformed signature manifest",
        ),
        (
            b"\x00\x01 not json".to_vec(),
            "malformed signature manifest",
        ),
        (vec![b' '; 5 << 20], "larger than the limit"),
    ] {
        let (addr, _server) = scripted(vec![
            (
                "/v2/app/manifests/v1".to_owned(),
                200,
                image_digest.clone(),
                Vec::new(),
            ),
            (sig_path.clone(), 200, String::new(), body),
        ]);
        let image = format!("{addr}/app:v1");
        env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
            .fails_with(1, needle);
        // Signing refuses to build on it rather than silently replacing it.
        env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &image])
            .fails_with(1, needle);
    }

    // Layers that are unreadable in different ways, next to nothing valid.
    let repo = unique_repo("bad-layers");
    let (image, digest) = env.push_image(&repo);
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"x"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    let payload_digest = env.put_blob(&repo, payload.as_bytes());
    let config_digest = env.put_blob(&repo, b"{}");
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": config_digest},
        "layers": [
            {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(), "digest": payload_digest,
             "annotations": {"dev.cosignproject.cosign/signature": "%%% not base64 %%%"}},
            {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(), "digest": payload_digest},
            {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": 50_000_000, "digest": payload_digest,
             "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}},
            {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(), "digest": payload_digest,
             "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}
        ]
    });
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    env.put_manifest(&repo, &tag, oci, manifest.to_string().as_bytes());
    let run = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .fails_with(12, "no matching signatures");
    assert!(run.stderr.contains("not base64"), "{}", run.stderr);
    assert!(run.stderr.contains("and 1 more"), "{}", run.stderr);
    // A good signature appended beside the junk verifies; the junk is kept, not lost.
    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &image])
        .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .ok();
    assert_eq!(
        env.signature_manifest(&repo, &digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

/// A registry on 127.0.0.1 that answers GET and HEAD for fixed paths:
/// (path, status, Docker-Content-Digest, body). Anything else is a 404.
fn scripted(routes: Vec<(String, u16, String, Vec<u8>)>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(40) {
            let Ok(mut s) = stream else { break };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            let mut words = request.split_whitespace();
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let route = routes.iter().find(|r| r.0 == path);
            let (status, digest, body) = match route {
                Some((_, status, digest, body)) => (*status, digest.clone(), body.clone()),
                // The API root, which clients probe.
                None if path == "/v2/" => (200, String::new(), b"{}".to_vec()),
                None => (
                    404,
                    String::new(),
                    br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
                        .to_vec(),
                ),
            };
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if !digest.is_empty() {
                head.push_str(&format!("Docker-Content-Digest: {digest}\r\n"));
            }
            head.push_str("\r\n");
            let _ = s.write_all(head.as_bytes());
            if method != "HEAD" {
                let _ = s.write_all(&body);
            }
        }
    });
    (addr, handle)
}

/// A server on 127.0.0.1 that answers every request with `status`.
fn always(status: u16) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(false).unwrap();
    let handle = std::thread::spawn(move || {
        // Bounded: serve a fixed number of connections, then stop.
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { break };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = r#"{"errors":[{"code":"UNKNOWN","message":"backend exploded"}]}"#;
            let _ = write!(
                s,
                "HTTP/1.1 {status} Oops\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, handle)
}

fn registry_down_or_failing(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    // Nothing listens on a port we bound and released.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = format!("{closed}/app:v1");
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &down])
        .fails_with(1, "cannot reach registry");
    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &down])
        .fails_with(1, "cannot reach registry");

    let (addr, _server) = always(500);
    let failing = format!("{addr}/app:v1");
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &failing])
        .fails_with(1, "HTTP 500");
    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &failing])
        .fails_with(1, "HTTP 500");
}

fn bad_references_and_unsupported_modes(env: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    env.signet(
        d,
        &["verify", AIR_GAPPED, "--key", "k.pub", "UPPER/Case:bad tag"],
    )
    .fails_with(1, "invalid");
    env.signet(d, &["sign", HTTP, "registry.invalid/app:v1"])
        .fails_with(
            1,
            "not supported yet: signing without --key: keyless signing",
        );
    // A key and a certificate identity exclude each other, as in cosign;
    // a keyless verification needs both a subject and an issuer.
    env.signet(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--certificate-identity",
            "x",
            "registry.invalid/app:v1",
        ],
    )
    .fails_with(1, "--key and --certificate-identity exclude each other");
    env.signet(
        d,
        &[
            "verify",
            "--certificate-identity",
            "x",
            "registry.invalid/app:v1",
        ],
    )
    .fails_with(
        1,
        "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required",
    );
    env.signet(d, &["verify", "registry.invalid/app:v1"])
        .fails_with(
            1,
            "--certificate-identity or --certificate-identity-regexp is required",
        );
    env.signet(
        d,
        &[
            "verify",
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            "y",
            "registry.invalid/app:v1",
        ],
    )
    .fails_with(1, "is not a valid regular expression");
}
