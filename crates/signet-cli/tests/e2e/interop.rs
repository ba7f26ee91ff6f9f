//! Both directions with the real peers: cosign 2.5 and skopeo 1.18.

use crate::harness::{AIR_GAPPED, Env, PASSWORD, signet_key_pair, tests, unique_repo};

tests![
    cosign_verifies_what_signet_signs_with_identical_output,
    signet_verifies_what_cosign_signs_and_both_append_to_one_manifest,
    signet_verifies_what_skopeo_signs,
    skopeo_sigstore_policy_accepts_signet_signatures,
    docker_media_types_on_request
];

const HTTP: &str = "--allow-http-registry";

fn cosign_verifies_what_signet_signs_with_identical_output(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let (image, _) = env.push_image(&unique_repo("to-cosign"));
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            "--tlog-upload=false",
            "-a",
            "env=prod",
            &image,
        ],
    )
    .ok();
    let ours = env
        .signet(
            d,
            &[
                "verify",
                "--key",
                "k.pub",
                HTTP,
                "--insecure-ignore-tlog",
                "-a",
                "env=prod",
                &image,
            ],
        )
        .ok();
    let theirs = env
        .cosign(
            d,
            &[
                "verify",
                "--key",
                "k.pub",
                "--insecure-ignore-tlog",
                HTTP,
                "-a",
                "env=prod",
                &image,
            ],
        )
        .ok();
    assert_eq!(
        ours.stdout, theirs.stdout,
        "stdout is byte-identical to cosign's"
    );
    // The header matches cosign's line for line (signet adds nothing under --insecure-ignore-tlog).
    let header = |s: &str| {
        s.lines()
            .skip_while(|l| !l.starts_with("Verification for"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(header(&ours.stderr), header(&theirs.stderr));
}

fn signet_verifies_what_cosign_signs_and_both_append_to_one_manifest(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    env.cosign(d, &["generate-key-pair", "--output-key-prefix", "c"])
        .ok();
    signet_key_pair(env, d, "s");
    let repo = unique_repo("from-cosign");
    let (image, digest) = env.push_image(&repo);
    env.cosign(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            "--tlog-upload=false",
            HTTP,
            "--yes",
            "-a",
            "by=cosign",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "c.pub",
            HTTP,
            "-a",
            "by=cosign",
            &image,
        ],
    )
    .ok();
    // signet appends to cosign's manifest; cosign appends to signet's.
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "s.key",
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            "--tlog-upload=false",
            HTTP,
            "--yes",
            "-a",
            "round=2",
            &image,
        ],
    )
    .ok();
    assert_eq!(
        env.signature_manifest(&repo, &digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    for key in ["c.pub", "s.pub"] {
        env.cosign(
            d,
            &[
                "verify",
                "--key",
                key,
                "--insecure-ignore-tlog",
                HTTP,
                &image,
            ],
        )
        .ok();
    }
    for key in ["c.pub", "s.pub"] {
        env.signet(d, &["verify", AIR_GAPPED, "--key", key, HTTP, &image])
            .ok();
    }
    // cosign's second signature is found behind the other two.
    env.signet(
        d,
        &[
            "verify", AIR_GAPPED, "--key", "c.pub", HTTP, "-a", "round=2", &image,
        ],
    )
    .ok();
    let any = env
        .signet(
            d,
            &[
                "verify", AIR_GAPPED, "--key", "c.pub", "--key", "s.pub", HTTP, &image,
            ],
        )
        .ok();
    // Verification stops at the first signature that satisfies the policy.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(any.stdout.trim())
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // cosign signs with a signet-generated key, signet with a cosign-generated one.
    let (other, _) = env.push_distinct_image(&unique_repo("cross-keys"), "cross");
    env.cosign(
        d,
        &[
            "sign",
            "--key",
            "s.key",
            "--tlog-upload=false",
            HTTP,
            "--yes",
            &other,
        ],
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "s.pub", HTTP, &other])
        .ok();
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            "--tlog-upload=false",
            &other,
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "c.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &other,
        ],
    )
    .ok();
}

fn signet_verifies_what_skopeo_signs(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pass"), PASSWORD).unwrap();
    env.skopeo(
        d,
        &[
            "generate-sigstore-key",
            "--output-prefix",
            "sk",
            "--passphrase-file",
            "pass",
        ],
    )
    .ok();
    let repo = unique_repo("from-skopeo");
    let (src, _) = env.push_image(&unique_repo("skopeo-src"));
    let dest = env.image(&repo, "v1");
    let policy = env.home.path().join("insecure-policy.json");
    env.skopeo(
        d,
        &[
            "--policy",
            policy.to_str().unwrap(),
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key",
            "sk.private",
            "--sign-passphrase-file",
            "pass",
            &format!("docker://{src}"),
            &format!("docker://{dest}"),
        ],
    )
    .ok();
    let run = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "sk.pub", HTTP, &dest])
        .ok();
    // skopeo writes the tag into docker-reference and adds creator/timestamp.
    assert!(run.stdout.contains("containers/image"), "{}", run.stdout);
    // signet also reads skopeo's private key file.
    env.signet_with(
        d,
        &["public-key", "--key", "sk.private"],
        &[("COSIGN_PASSWORD", PASSWORD)],
        None,
    )
    .ok();
}

fn skopeo_policy(
    env: &crate::harness::Env,
    dir: &std::path::Path,
    key: &str,
) -> std::path::PathBuf {
    let policy = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {env.registry.clone(): [{"type": "sigstoreSigned", "keyPath": dir.join(key), "signedIdentity": {"type": "matchRepository"}}]},
            "oci": {"": [{"type": "insecureAcceptAnything"}]}
        }
    });
    let path = dir.join(format!("policy-{key}.json"));
    std::fs::write(&path, policy.to_string()).unwrap();
    path
}

fn skopeo_sigstore_policy_accepts_signet_signatures(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    signet_key_pair(env, d, "other");
    let (image, _) = env.push_image(&unique_repo("policy"));
    let (unsigned, _) = env.push_distinct_image(&unique_repo("policy-unsigned"), "unsigned");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
    )
    .ok();
    let pull = |policy: &std::path::Path, img: &str, out: &str| {
        env.skopeo(
            d,
            &[
                "--policy",
                policy.to_str().unwrap(),
                "copy",
                "-q",
                "--remove-signatures",
                "--src-tls-verify=false",
                &format!("docker://{img}"),
                &format!("oci:{}:x", d.join(out).display()),
            ],
        )
    };
    let good = skopeo_policy(env, d, "k.pub");
    let run = pull(&good, &image, "pulled");
    assert_eq!(
        run.code, 0,
        "skopeo refused a signet signature: {}",
        run.stderr
    );
    let run = pull(&good, &unsigned, "unsigned");
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("A signature was required"),
        "{}",
        run.stderr
    );
    let wrong = skopeo_policy(env, d, "other.pub");
    let run = pull(&wrong, &image, "wrong");
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("signature verification failed")
            || run.stderr.contains("invalid signature"),
        "{}",
        run.stderr
    );
}

fn docker_media_types_on_request(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("docker-types");
    let (image, digest) = env.push_image(&repo);
    env.signet_with(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
        &[
            ("COSIGN_PASSWORD", PASSWORD),
            ("COSIGN_DOCKER_MEDIA_TYPES", "1"),
        ],
        None,
    )
    .ok();
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let out = std::process::Command::new("curl")
        .args([
            "-sf",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
        ])
        .arg(format!("http://{}/v2/{repo}/manifests/{tag}", env.registry))
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &image,
        ],
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .ok();
}
