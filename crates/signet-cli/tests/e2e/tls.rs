//! Registry transport: plain HTTP for loopback registries without a flag (as
//! go-containerregistry decides), and the TLS accept path: registries whose
//! certificates chain to a test CA trusted through `SSL_CERT_FILE`,
//! `SSL_CERT_DIR` or `--registry-cacert`, mutual TLS, and
//! `--registry-server-name`, never with `--allow-insecure-registry`.

use std::path::Path;

use crate::harness::{AIR_GAPPED, Env, signet_key_pair, tests, unique_repo};

tests![
    loopback_registry_speaks_plain_http_without_a_flag,
    registry_certificate_from_a_test_ca_is_trusted_through_the_environment_or_a_flag,
    mutual_tls_with_a_client_certificate_and_a_server_name
];

const NO_TLOG: &str = "--tlog-upload=false";

/// A skopeo certificate directory: the test CA, and the client certificate.
fn cert_dir(env: &Env, dir: &Path) -> String {
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    for (from, to) in [
        ("ca.pem", "ca.crt"),
        ("client.pem", "client.cert"),
        ("client.key", "client.key"),
    ] {
        std::fs::copy(env.tls_dir.join(from), certs.join(to)).unwrap();
    }
    certs.display().to_string()
}

fn loopback_registry_speaks_plain_http_without_a_flag(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("loopback");
    let (image, _) = env.push_image(&repo);
    assert!(image.starts_with("127.0.0.1:"), "{image}");
    // No --allow-http-registry: HTTPS is tried first, then plain HTTP.
    env.signet(d, &["sign", "--key", "k.key", NO_TLOG, &image])
        .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", &image])
        .ok();
    // cosign does the same for this registry, and accepts the signature.
    env.cosign(
        d,
        &["verify", "--key", "k.pub", "--insecure-ignore-tlog", &image],
    )
    .ok();
}

fn registry_certificate_from_a_test_ca_is_trusted_through_the_environment_or_a_flag(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let certs = cert_dir(env, d);
    let image = env.push_image_to(
        &env.ca_registry,
        &unique_repo("ca"),
        &["--dest-cert-dir", &certs],
    );
    let ca = env.tls_dir.join("ca.pem");
    let ca = ca.to_str().unwrap();

    // The platform's roots do not include the test CA.
    let run = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", &image])
        .fails_with(1, "cannot reach registry");
    assert!(run.stderr.contains("UnknownIssuer"), "{}", run.stderr);
    assert!(run.stderr.contains("--registry-cacert"), "{}", run.stderr);

    // SSL_CERT_FILE replaces the platform's roots, as OpenSSL reads it.
    let with_file = [
        ("COSIGN_PASSWORD", crate::harness::PASSWORD),
        ("SSL_CERT_FILE", ca),
    ];
    env.signet_with(
        d,
        &["sign", "--key", "k.key", NO_TLOG, &image],
        &with_file,
        None,
    )
    .ok();
    env.signet_with(
        d,
        &["verify", AIR_GAPPED, "--key", "k.pub", &image],
        &with_file,
        None,
    )
    .ok();
    // So does SSL_CERT_DIR (every certificate file in the directory).
    env.signet_with(
        d,
        &["verify", AIR_GAPPED, "--key", "k.pub", &image],
        &[("SSL_CERT_DIR", &certs)],
        None,
    )
    .ok();
    // --registry-cacert, as cosign's flag.
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--registry-cacert",
            ca,
            &image,
        ],
    )
    .ok();
    // A CA file that holds no certificate is a clear error.
    std::fs::write(d.join("empty.pem"), "not a certificate\n").unwrap();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--registry-cacert",
            "empty.pem",
            &image,
        ],
    )
    .fails_with(1, "no PEM certificate found");
}

fn mutual_tls_with_a_client_certificate_and_a_server_name(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let certs = cert_dir(env, d);
    // The certificate names registry.signet.test, not 127.0.0.1; the push
    // only needs the client certificate.
    let image = env.push_image_to(
        &env.mtls_registry,
        &unique_repo("mtls"),
        &["--dest-tls-verify=false", "--dest-cert-dir", &certs],
    );
    let file = |name: &str| env.tls_dir.join(name).display().to_string();
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    let trust = ["--registry-cacert", ca.as_str()];
    let identity = [
        "--registry-client-cert",
        cert.as_str(),
        "--registry-client-key",
        key.as_str(),
    ];
    let name = ["--registry-server-name", "registry.signet.test"];
    let args = |cmd: &[&'static str], parts: &[&[&str]]| {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        for p in parts {
            v.extend(p.iter().map(|s| s.to_string()));
        }
        v.push(image.clone());
        v
    };
    let run = |v: Vec<String>| {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        env.signet(d, &refs)
    };
    let sign: &[&str] = &["sign", "--key", "k.key", NO_TLOG];
    let verify: &[&str] = &["verify", AIR_GAPPED, "--key", "k.pub"];

    run(args(sign, &[&trust, &identity, &name])).ok();
    run(args(verify, &[&trust, &identity, &name])).ok();
    // Without a client certificate the registry refuses the handshake.
    let refused = run(args(verify, &[&trust, &name])).fails_with(1, "cannot reach registry");
    assert!(
        refused.stderr.contains("--registry-client-cert"),
        "{}",
        refused.stderr
    );
    // Without the server name, the certificate does not name 127.0.0.1.
    let wrong_name = run(args(verify, &[&trust, &identity])).fails_with(1, "not valid for name");
    assert!(
        wrong_name.stderr.contains("--registry-server-name"),
        "{}",
        wrong_name.stderr
    );
    // A client certificate needs its key.
    run(args(
        verify,
        &[&trust, &name, &["--registry-client-cert", cert.as_str()]],
    ))
    .fails_with(1, "--registry-client-cert needs --registry-client-key");
}
