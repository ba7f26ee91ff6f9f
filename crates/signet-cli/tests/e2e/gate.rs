//! `signet gate` in front of the real registry, with real clients: skopeo
//! pulls through it, cosign signs through it right after a push, curl
//! shows the Harbor-style refusals (unsigned, wrong key, tampered, wrong
//! identity), a HEAD's bare 412, that the User-Agent changes nothing, that
//! index children fetched by digest are covered, that signature artefacts
//! pass, and that 100 concurrent first requests for one digest cause one
//! verification.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, OnceLock};

use crate::enforce_process::{ACCEPT_MANIFESTS, Answer, Daemon, curl, metric};
use crate::harness::{Context, Env, Run, signet_key_pair, tests, unique_repo};
use crate::sigstore_peers::Sigstore;

tests![
    gate_serves_what_the_policy_admits_and_refuses_the_rest,
    gate_covers_index_children_fetched_by_digest,
    cosign_signs_through_the_gate_right_after_a_push,
    gate_refuses_a_keyless_signature_of_another_identity,
    hundred_concurrent_first_requests_cause_one_verification,
    podman_pulls_through_the_gate,
    gate_serves_tls_with_the_given_certificate,
];

/// podman 4.3 as `scripts/setup-peers.sh` installs it, beside the services.
pub struct Podman {
    env: &'static Env,
    bin: PathBuf,
}

impl Context for Podman {
    fn get() -> Result<&'static Self, String> {
        static PODMAN: OnceLock<Result<Podman, String>> = OnceLock::new();
        PODMAN
            .get_or_init(|| {
                let env = Env::get()?;
                let bin = env.peers.join("bin/podman");
                if !bin.is_file() {
                    return Err(format!(
                        "{} not found: scripts/setup-peers.sh installs podman",
                        bin.display()
                    ));
                }
                Ok(Podman { env, bin })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Podman {
    /// `podman pull` of `image` into a store in `dir` (vfs, no runtime
    /// needed), plain HTTP, no signature policy of its own.
    fn pull(&self, dir: &Path, image: &str) -> Run {
        std::fs::write(
            dir.join("podman-policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        let out = Command::new(&self.bin)
            .arg("--root")
            .arg(dir.join("podman-store"))
            .arg("--runroot")
            .arg(dir.join("podman-run"))
            .args([
                "--storage-driver",
                "vfs",
                "pull",
                "-q",
                "--tls-verify=false",
            ])
            .arg("--signature-policy")
            .arg(dir.join("podman-policy.json"))
            .arg(image)
            .env("HOME", self.env.home.path())
            .env("XDG_RUNTIME_DIR", dir)
            .env("REGISTRIES_CONFIG_PATH", dir.join("registries.conf"))
            .current_dir(dir)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

const NO_TLOG: &str = "--tlog-upload=false";

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

/// A key-authority policy over `registry/project/**` (signatures made
/// without a log accepted), refusing everything else.
fn key_policy(dir: &Path, registry: &str, project: &str) -> String {
    write(
        dir,
        "gate.yaml",
        &format!(
            "policies:\n  - name: prod\n    images: \"{registry}/{project}/**\"\n    authorities:\n      - key: trusted.pub\n    transparency-log: optional\ndefault: {{mode: enforce, authorities: []}}\n"
        ),
    )
}

fn gate(env: &Env, dir: &Path, policy: &str, upstream: &str, extra: &[&str]) -> Daemon {
    let mut args = vec!["gate", "--policy", policy, "--upstream", upstream];
    args.extend_from_slice(extra);
    Daemon::start(env, dir, &args, "http")
}

fn get(gate: &Daemon, path: &str, extra: &[&str]) -> Answer {
    let mut args = vec!["-H", ACCEPT_MANIFESTS];
    args.extend_from_slice(extra);
    curl(&args, &format!("http://{}{path}", gate.addr))
}

/// Asserts a Harbor-style refusal naming `check`.
#[track_caller]
fn assert_refused(answer: &Answer, check: &str, sentence: &str) {
    assert_eq!(answer.status, 412, "{answer:?}");
    let body = answer.json();
    let error = &body["errors"][0];
    assert_eq!(error["code"], "PROJECTPOLICYVIOLATION", "{body}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("{check}:")), "{message}");
    assert!(message.contains(sentence), "{message}");
}

/// Plants `from`'s signature manifest (and its blobs) as the signature of
/// `to`'s digest: a signature copied onto another image.
fn copy_signature(env: &Env, from: &str, to: &str, to_digest: &str) {
    let from_digest = env.manifest_digest(from, "v1").unwrap();
    let sig = env.signature_manifest(from, &from_digest).unwrap();
    for digest in [&sig["layers"][0]["digest"], &sig["config"]["digest"]] {
        let blob = env.blob(from, digest.as_str().unwrap());
        env.put_blob(to, &blob);
    }
    env.put_manifest(
        to,
        &format!("sha256-{}.sig", to_digest.trim_start_matches("sha256:")),
        "application/vnd.oci.image.manifest.v1+json",
        sig.to_string().as_bytes(),
    );
}

fn gate_serves_what_the_policy_admits_and_refuses_the_rest(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "trusted");
    signet_key_pair(env, d, "stranger");
    let project = unique_repo("gate");
    let repo = |name: &str| format!("{project}/{name}");
    let push = |name: &str| env.push_distinct_image(&repo(name), &format!("{project}-{name}"));
    let (signed, signed_digest) = push("signed");
    push("unsigned");
    let (wrong_key, _) = push("wrong-key");
    let (_, tampered_digest) = push("tampered");
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &signed])
        .ok();
    env.signet(d, &["sign", "--key", "stranger.key", NO_TLOG, &wrong_key])
        .ok();
    copy_signature(env, &repo("signed"), &repo("tampered"), &tampered_digest);
    let policy = key_policy(d, &env.registry, &project);
    let mut gate = gate(env, d, &policy, &format!("http://{}", env.registry), &[]);

    // skopeo pulls a signed image through the gate, by tag and by digest.
    let via =
        |name: &str, reference: &str| format!("docker://{}/{}{reference}", gate.addr, repo(name));
    let pulled = d.join("pulled");
    env.skopeo(
        d,
        &[
            "--insecure-policy",
            "copy",
            "-q",
            "--src-tls-verify=false",
            &via("signed", ":v1"),
            &format!("dir:{}", pulled.display()),
        ],
    )
    .ok();
    assert!(pulled.join("manifest.json").is_file());
    env.skopeo(
        d,
        &[
            "--insecure-policy",
            "copy",
            "-q",
            "--src-tls-verify=false",
            &via("signed", &format!("@{signed_digest}")),
            &format!("dir:{}", d.join("by-digest").display()),
        ],
    )
    .ok();
    // The digest served is the digest verified.
    let answer = get(&gate, &format!("/v2/{}/manifests/v1", repo("signed")), &[]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.header("docker-content-digest"),
        Some(signed_digest.clone())
    );

    // skopeo is refused an unsigned image, and shows the reason.
    let run = env.skopeo(
        d,
        &[
            "--insecure-policy",
            "copy",
            "-q",
            "--src-tls-verify=false",
            &via("unsigned", ":v1"),
            &format!("dir:{}", d.join("unsigned").display()),
        ],
    );
    assert_ne!(
        run.code, 0,
        "skopeo pulled an unsigned image through the gate"
    );
    assert!(
        run.stderr.contains("412") || run.stderr.contains("not signed"),
        "{}",
        run.stderr
    );
    assert!(!d.join("unsigned").join("manifest.json").exists());

    // Each failed check, named in Harbor's body.
    let path = |name: &str| format!("/v2/{}/manifests/v1", repo(name));
    assert_refused(
        &get(&gate, &path("unsigned"), &[]),
        "unsigned",
        "The image is not signed.",
    );
    assert_refused(
        &get(&gate, &path("wrong-key"), &[]),
        "wrong-key",
        "not signed by a trusted key",
    );
    assert_refused(
        &get(&gate, &path("tampered"), &[]),
        "tampered",
        "(tampered)",
    );
    // Outside every scope: the default rule refuses.
    let (elsewhere, _) = env.push_distinct_image(&unique_repo("gate-elsewhere"), "elsewhere");
    let elsewhere_path = format!(
        "/v2/{}/manifests/v1",
        elsewhere
            .trim_start_matches(&format!("{}/", env.registry))
            .trim_end_matches(":v1")
    );
    assert_refused(
        &get(&gate, &elsewhere_path, &[]),
        "no-authorities",
        "No policy admits",
    );

    // A HEAD gets the bare 412.
    // (curl -I writes the headers where the body would go: there is none.)
    let head = get(&gate, &path("unsigned"), &["-I"]);
    assert_eq!(head.status, 412, "{head:?}");
    assert!(!head.body.contains("errors"), "{head:?}");
    assert!(
        head.header("content-length").is_none_or(|l| l == "0"),
        "{head:?}"
    );
    let head = get(&gate, &path("signed"), &["-I"]);
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(
        head.header("docker-content-digest"),
        Some(signed_digest.clone())
    );

    // The User-Agent changes nothing, whoever it claims to be.
    for agent in [
        "Harbor-Replication/2.11",
        "cosign/v2.5.0 (linux; amd64)",
        "containerd/1.7.20",
        "docker/27.0 go/go1.22 os/linux",
        "signet-gate/0.1.0",
        "notary-server",
    ] {
        assert_refused(
            &get(&gate, &path("unsigned"), &["-A", agent]),
            "unsigned",
            "not signed",
        );
        assert_eq!(
            get(&gate, &path("unsigned"), &["-A", agent, "-I"]).status,
            412
        );
    }
    // Credentials the registry does not need change nothing either: it lets
    // anyone push, so a push right proves nobody a signer.
    assert_refused(
        &get(&gate, &path("unsigned"), &["-u", "someone:anything"]),
        "unsigned",
        "not signed",
    );

    // The signature artefacts themselves pass, as do blobs.
    let sig_tag = format!("sha256-{}.sig", signed_digest.trim_start_matches("sha256:"));
    let sig = get(
        &gate,
        &format!("/v2/{}/manifests/{sig_tag}", repo("signed")),
        &[],
    );
    assert_eq!(sig.status, 200, "{sig:?}");
    let layer = sig.json()["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let blob = get(&gate, &format!("/v2/{}/blobs/{layer}", repo("signed")), &[]);
    assert_eq!(blob.status, 200);
    assert!(
        blob.body.contains("\"docker-manifest-digest\""),
        "{}",
        blob.body
    );
    // So does a signature pulled by tag of the unsigned image's neighbour: a
    // missing one is the registry's 404.
    let missing = get(
        &gate,
        &format!(
            "/v2/{}/manifests/sha256-{}.sig",
            repo("unsigned"),
            "0".repeat(64)
        ),
        &[],
    );
    assert_eq!(missing.status, 404, "{missing:?}");

    // Health, readiness, metrics.
    assert_eq!(get(&gate, "/readyz", &[]).status, 200);
    let metrics = get(&gate, "/metrics", &[]).body;
    assert!(
        metric(
            &metrics,
            "signet_gate_decisions_total{outcome=\"denied\",check=\"unsigned\"}"
        ) >= 3.0,
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "signet_gate_decisions_total{outcome=\"artefact\",check=\"none\"}"
        ) >= 1.0
    );

    // SIGTERM: a clean, logged exit.
    let status = gate.stop().expect("the gate stopped");
    assert!(status.success(), "{status}: {}", gate.log_text());
    let log = gate.log_text();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("\"message\":\"signet gate serving\""), "{log}");
}

fn gate_covers_index_children_fetched_by_digest(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "trusted");
    let project = unique_repo("gate-index");
    let repo = format!("{project}/multi");
    let (image, index_digest) = env.push_index(&repo);
    // The index alone is signed (no --recursive).
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &image])
        .ok();
    let policy = key_policy(d, &env.registry, &project);
    // Refusals are not remembered, so that signing the children shows at once.
    let gate = gate(
        env,
        d,
        &policy,
        &format!("http://{}", env.registry),
        &["--negative-ttl", "0s"],
    );
    let index = get(&gate, &format!("/v2/{repo}/manifests/v1"), &[]);
    assert_eq!(index.status, 200, "{index:?}");
    assert_eq!(index.header("docker-content-digest"), Some(index_digest));
    let children: Vec<String> = index.json()["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(children.len(), 2);
    // A child fetched by digest is decided on its own: unsigned.
    for child in &children {
        assert_refused(
            &get(&gate, &format!("/v2/{repo}/manifests/{child}"), &[]),
            "unsigned",
            "not signed",
        );
    }
    let copy_all = |to: &str| {
        env.skopeo(
            d,
            &[
                "--insecure-policy",
                "copy",
                "-q",
                "--all",
                "--src-tls-verify=false",
                &format!("docker://{}/{repo}:v1", gate.addr),
                &format!("dir:{}", d.join(to).display()),
            ],
        )
    };
    assert_ne!(copy_all("refused").code, 0, "unsigned children were served");
    // Every child signed: the whole index pulls.
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "trusted.key",
            NO_TLOG,
            "--recursive",
            &image,
        ],
    )
    .ok();
    for child in &children {
        let answer = get(&gate, &format!("/v2/{repo}/manifests/{child}"), &[]);
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    copy_all("all").ok();
}

/// The push-scope rule on the registry with basic authentication: a client
/// whose credentials the registry lets push reads the unsigned manifest it
/// just pushed (cosign must, to sign it); anonymous clients and wrong
/// credentials get the registry's own 401; once signed, the image is served
/// to everyone the registry lets pull.
fn cosign_signs_through_the_gate_right_after_a_push(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (registry, user, password) = &env.auth_registry;
    env.cosign(d, &["generate-key-pair", "--output-key-prefix", "trusted"])
        .ok();
    let project = unique_repo("gate-signer");
    let policy = key_policy(d, registry, &project);
    let gate = gate(
        env,
        d,
        &policy,
        &format!("https://{registry}"),
        &[
            "--allow-insecure-registry",
            "--registry-username",
            user,
            "--registry-password",
            password,
        ],
    );
    let creds = format!("{user}:{password}");
    // Push through the gate.
    let image = format!("{}/{project}/app:v1", gate.addr);
    let layout = d.join("layout");
    let made = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mk-oci-layout.py"))
        .arg(&layout)
        .arg(&project)
        .output()
        .unwrap();
    assert!(made.status.success());
    env.skopeo(
        d,
        &[
            "--insecure-policy",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:v1", layout.display()),
            &format!("docker://{image}"),
        ],
    )
    .ok();
    let path = format!("/v2/{project}/app/manifests/v1");
    // Anonymous and wrong credentials: the registry's 401, through the gate.
    assert_eq!(get(&gate, &path, &[]).status, 401);
    assert_eq!(
        get(&gate, &path, &["-u", &format!("{user}:wrong")]).status,
        401
    );
    // The signer reads what it pushed, unverified.
    let signer_read = get(&gate, &path, &["-u", &creds]);
    assert_eq!(signer_read.status, 200, "{signer_read:?}");
    // cosign signs through the gate right after the push.
    env.cosign(
        d,
        &[
            "sign",
            "--key",
            "trusted.key",
            NO_TLOG,
            "--yes",
            "--allow-http-registry",
            "--registry-username",
            user,
            "--registry-password",
            password,
            &image,
        ],
    )
    .ok();
    let metrics = get(&gate, "/metrics", &[]).body;
    assert!(
        metric(
            &metrics,
            "signet_gate_decisions_total{outcome=\"signer\",check=\"unsigned\"}"
        ) >= 1.0,
        "{metrics}"
    );
    // Signed now (the pushed signature dropped the cached refusal): served
    // as verified, and cosign verifies through the gate.
    let before = metric(
        &metrics,
        "signet_gate_decisions_total{outcome=\"allowed\",check=\"none\"}",
    );
    let answer = get(&gate, &path, &["-u", &creds]);
    assert_eq!(answer.status, 200, "{answer:?}");
    let metrics = get(&gate, "/metrics", &[]).body;
    assert_eq!(
        metric(
            &metrics,
            "signet_gate_decisions_total{outcome=\"allowed\",check=\"none\"}"
        ),
        before + 1.0,
        "{metrics}"
    );
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "trusted.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            "--registry-username",
            user,
            "--registry-password",
            password,
            &image,
        ],
    )
    .ok();
}

fn gate_refuses_a_keyless_signature_of_another_identity(s: &Sigstore) {
    let env = match Env::get() {
        Ok(env) => env,
        Err(why) => panic!("the registry is missing beside the mock Sigstore: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let project = unique_repo("gate-keyless");
    let reg = &env.registry;
    let (image, _) = env.push_distinct_image(&format!("{project}/app"), &project);
    s.cosign(
        d,
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--identity-token",
            &s.email_token("builder@example.test"),
            &image,
        ],
        &[],
    )
    .ok();
    let issuer = s.issuer.issuer_url().to_owned();
    let root = s.file("trusted_root.json").display().to_string();
    let policy = |name: &str, subject: &str| {
        write(
            d,
            name,
            &format!(
                "trust-roots: {{mock: \"{root}\"}}\npolicies:\n  - images: \"{reg}/{project}/**\"\n    trust-root: mock\n    authorities:\n      - keyless: {{issuer: \"{issuer}\", subject: \"{subject}\"}}\n"
            ),
        )
    };
    let path = format!("/v2/{project}/app/manifests/v1");
    let other = policy("other.yaml", "someone-else@example.test");
    let refusing = gate(env, d, &other, &format!("http://{reg}"), &[]);
    assert_refused(
        &get(&refusing, &path, &[]),
        "wrong-identity",
        "not signed by a trusted identity",
    );
    let right = policy("right.yaml", "builder@example.test");
    let admitting = gate(env, d, &right, &format!("http://{reg}"), &[]);
    let answer = get(&admitting, &path, &[]);
    assert_eq!(answer.status, 200, "{answer:?}");
}

fn hundred_concurrent_first_requests_cause_one_verification(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "trusted");
    let project = unique_repo("gate-burst");
    let (image, digest) = env.push_distinct_image(&format!("{project}/app"), &project);
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &image])
        .ok();
    let policy = key_policy(d, &env.registry, &project);
    let gate = gate(env, d, &policy, &format!("http://{}", env.registry), &[]);
    let request = format!(
        "GET /v2/{project}/app/manifests/{digest} HTTP/1.1\r\nHost: {}\r\n{ACCEPT_MANIFESTS}\r\nConnection: close\r\n\r\n",
        gate.addr
    );
    const CLIENTS: usize = 100;
    let start = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let start = Arc::clone(&start);
            let request = request.clone();
            let addr = gate.addr.clone();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut stream = std::net::TcpStream::connect(&addr).unwrap();
                start.wait();
                stream.write_all(request.as_bytes()).unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                response.lines().next().unwrap_or_default().to_owned()
            })
        })
        .collect();
    for t in threads {
        let status_line = t.join().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
    }
    let metrics = get(&gate, "/metrics", &[]).body;
    assert_eq!(
        metric(&metrics, "signet_cache_evaluations"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "signet_gate_decisions_total{outcome=\"allowed\",check=\"none\"}"
        ),
        CLIENTS as f64,
        "{metrics}"
    );
}

fn podman_pulls_through_the_gate(p: &Podman) {
    let env = p.env;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("registries.conf"), "").unwrap();
    signet_key_pair(env, d, "trusted");
    let project = unique_repo("gate-podman");
    let (signed, _) = env.push_distinct_image(&format!("{project}/signed"), &project);
    env.push_distinct_image(&format!("{project}/unsigned"), &format!("{project}-u"));
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &signed])
        .ok();
    let policy = key_policy(d, &env.registry, &project);
    let gate = gate(env, d, &policy, &format!("http://{}", env.registry), &[]);
    let run = p.pull(d, &format!("{}/{project}/signed:v1", gate.addr));
    assert_eq!(run.code, 0, "podman pull: {}", run.stderr);
    assert!(!run.stdout.trim().is_empty(), "podman printed no image ID");
    let run = p.pull(d, &format!("{}/{project}/unsigned:v1", gate.addr));
    assert_ne!(
        run.code, 0,
        "podman pulled an unsigned image through the gate"
    );
    assert!(
        run.stderr.contains("412") || run.stderr.contains("not signed"),
        "{}",
        run.stderr
    );
}

fn gate_serves_tls_with_the_given_certificate(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "trusted");
    let project = unique_repo("gate-tls");
    let (signed, digest) = env.push_distinct_image(&format!("{project}/app"), &project);
    env.push_distinct_image(&format!("{project}/unsigned"), &format!("{project}-u"));
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &signed])
        .ok();
    let policy = key_policy(d, &env.registry, &project);
    let cert = env.tls_dir.join("server.pem");
    let key = env.tls_dir.join("server.key");
    let upstream = format!("http://{}", env.registry);
    let args = [
        "gate",
        "--policy",
        &policy,
        "--upstream",
        &upstream,
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let gate = Daemon::start(env, d, &args, "https");
    let ca = env.tls_dir.join("ca.pem");
    let answer = curl(
        &["--cacert", ca.to_str().unwrap(), "-H", ACCEPT_MANIFESTS],
        &format!("https://{}/v2/{project}/app/manifests/v1", gate.addr),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("docker-content-digest"), Some(digest));
    let refused = curl(
        &["--cacert", ca.to_str().unwrap(), "-H", ACCEPT_MANIFESTS],
        &format!("https://{}/v2/{project}/unsigned/manifests/v1", gate.addr),
    );
    assert_refused(&refused, "unsigned", "not signed");
    // skopeo verifies the gate's certificate against the test CA.
    let certs = d.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&ca, certs.join("ca.crt")).unwrap();
    env.skopeo(
        d,
        &[
            "--insecure-policy",
            "copy",
            "-q",
            "--src-cert-dir",
            certs.to_str().unwrap(),
            &format!("docker://{}/{project}/app:v1", gate.addr),
            &format!("dir:{}", d.join("pulled").display()),
        ],
    )
    .ok();
}
