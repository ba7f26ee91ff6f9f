//! Image signing and verification with signet alone: outcomes, exit codes,
//! annotations, rotation, recursion, batches, concurrency, COSIGN_REPOSITORY.

use crate::harness::{AIR_GAPPED, Env, signet_key_pair, tests, unique_repo};

tests![
    sign_then_verify_and_exit_codes,
    annotations_are_signed_and_checked,
    signing_again_does_not_duplicate_and_rotation_trusts_both_keys,
    recursive_signs_index_and_children,
    cosign_repository_stores_signatures_elsewhere,
    batch_sign_and_verify_many_images_in_one_invocation,
    concurrent_signers_do_not_lose_signatures,
    match_repository_stops_signature_replay_across_repositories,
    appending_keeps_what_other_tools_wrote
];

const HTTP: &str = "--allow-http-registry";
const NO_TLOG: &str = "--tlog-upload=false";

fn sign_then_verify_and_exit_codes(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "a");
    signet_key_pair(env, d, "b");
    let repo = unique_repo("basic");
    let (image, digest) = env.push_image(&repo);

    env.signet(d, &["verify", AIR_GAPPED, "--key", "a.pub", HTTP, &image])
        .fails_with(10, "no signatures found");
    let missing = env.image(&repo, "nope");
    env.signet(d, &["verify", AIR_GAPPED, "--key", "a.pub", HTTP, &missing])
        .fails_with(11, "not found");
    env.signet(d, &["sign", "--key", "a.key", HTTP, NO_TLOG, &missing])
        .fails_with(11, "not found");

    let signed = env
        .signet(d, &["sign", "--key", "a.key", HTTP, &image])
        .ok();
    assert!(
        signed.stderr.contains("no transparency-log (Rekor) upload"),
        "default tlog behaviour is stated"
    );
    let run = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "a.pub", HTTP, &image])
        .ok();
    assert!(run.stderr.contains(&format!("Verification for {image} --")));
    let payloads: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        payloads[0]["critical"]["identity"]["docker-reference"],
        format!("{}/{repo}", env.registry)
    );

    let wrong = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "b.pub", HTTP, &image])
        .fails_with(12, "no matching signatures");
    assert!(
        wrong.stderr.contains("invalid signature"),
        "{}",
        wrong.stderr
    );

    // By digest too, and text output prints the signed payload.
    let by_digest = format!("{}/{repo}@{digest}", env.registry);
    let text = env
        .signet(
            d,
            &[
                "verify", AIR_GAPPED, "--key", "a.pub", HTTP, "--output", "text", &by_digest,
            ],
        )
        .ok();
    assert!(text.stdout.starts_with("{\"critical\""));
    // Boolean flags take a value only after `=`, as in cosign: the image
    // after `--insecure-ignore-tlog` is not swallowed as its value.
    env.signet(
        d,
        &[
            "verify",
            "--key",
            "a.pub",
            HTTP,
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            "--key",
            "a.pub",
            HTTP,
            "--insecure-ignore-tlog=true",
            "--check-claims",
            &image,
        ],
    )
    .ok();
}

fn annotations_are_signed_and_checked(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let (image, _) = env.push_image(&unique_repo("ann"));
    env.signet(
        d,
        &[
            "sign", "--key", "k.key", HTTP, NO_TLOG, "-a", "env=prod", "-a", "team=a&b", &image,
        ],
    )
    .ok();
    let run = env
        .signet(
            d,
            &[
                "verify", AIR_GAPPED, "--key", "k.pub", HTTP, "-a", "env=prod", &image,
            ],
        )
        .ok();
    assert!(
        run.stderr
            .contains("The specified annotations were verified.")
    );
    assert!(
        run.stdout
            .contains(r#""optional":{"env":"prod","team":"a\u0026b"}"#),
        "{}",
        run.stdout
    );
    env.signet(
        d,
        &[
            "verify", AIR_GAPPED, "--key", "k.pub", HTTP, "-a", "env=dev", &image,
        ],
    )
    .fails_with(12, "annotation env");
    env.signet(
        d,
        &["sign", "--key", "k.key", HTTP, "-a", "novalue", &image],
    )
    .fails_with(1, "not KEY=VALUE");
}

fn signing_again_does_not_duplicate_and_rotation_trusts_both_keys(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "old");
    signet_key_pair(env, d, "new");
    let repo = unique_repo("rotate");
    let (image, digest) = env.push_image(&repo);
    env.signet(d, &["sign", "--key", "old.key", HTTP, NO_TLOG, &image])
        .ok();
    let again = env
        .signet(d, &["sign", "--key", "old.key", HTTP, NO_TLOG, &image])
        .ok();
    assert!(
        again.stderr.contains("already signed with this key"),
        "{}",
        again.stderr
    );
    assert_eq!(
        env.signature_manifest(&repo, &digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Rotation: re-sign with the new key; policy trusts both during the switch.
    env.signet(d, &["sign", "--key", "new.key", HTTP, NO_TLOG, &image])
        .ok();
    assert_eq!(
        env.signature_manifest(&repo, &digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let both = env
        .signet(
            d,
            &[
                "verify", AIR_GAPPED, "--key", "old.pub", "--key", "new.pub", HTTP, &image,
            ],
        )
        .ok();
    // Verification stops at the first signature that satisfies the policy.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(both.stdout.trim())
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.signet(d, &["verify", AIR_GAPPED, "--key", "new.pub", HTTP, &image])
        .ok();
    // An image signed only with the old key still passes a both-keys policy,
    // and fails once the old key is removed.
    let (old_only, _) = env.push_distinct_image(&unique_repo("rotate-old"), "old-only");
    env.signet(d, &["sign", "--key", "old.key", HTTP, NO_TLOG, &old_only])
        .ok();
    env.signet(
        d,
        &[
            "verify", AIR_GAPPED, "--key", "old.pub", "--key", "new.pub", HTTP, &old_only,
        ],
    )
    .ok();
    env.signet(
        d,
        &["verify", AIR_GAPPED, "--key", "new.pub", HTTP, &old_only],
    )
    .fails_with(12, "no matching signatures");
}

fn recursive_signs_index_and_children(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("multi");
    let (image, index_digest) = env.push_index(&repo);
    // Without --recursive only the index is signed, and --recursive verify says so.
    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &image])
        .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--recursive",
            &image,
        ],
    )
    .fails_with(10, "no signatures found");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--recursive",
            &image,
        ],
    )
    .ok();
    let run = env
        .signet(
            d,
            &[
                "verify",
                AIR_GAPPED,
                "--key",
                "k.pub",
                HTTP,
                "--recursive",
                &image,
            ],
        )
        .ok();
    let payloads: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(payloads.as_array().unwrap().len(), 3, "index + 2 platforms");
    assert_eq!(
        env.signature_manifest(&repo, &index_digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn cosign_repository_stores_signatures_elsewhere(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("src");
    let sigs = unique_repo("sigs");
    let (image, digest) = env.push_image(&repo);
    let sig_repo = format!("{}/{sigs}", env.registry);
    let with_repo = [
        ("COSIGN_PASSWORD", crate::harness::PASSWORD),
        ("COSIGN_REPOSITORY", sig_repo.as_str()),
    ];
    env.signet_with(
        d,
        &["sign", "--key", "k.key", HTTP, NO_TLOG, &image],
        &with_repo,
        None,
    )
    .ok();
    assert!(env.signature_manifest(&repo, &digest).is_none());
    assert!(env.signature_manifest(&sigs, &digest).is_some());
    env.signet_with(
        d,
        &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image],
        &with_repo,
        None,
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .fails_with(10, "no signatures");
    // cosign finds them with the same variable.
    env.cosign_with(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &image,
        ],
        &[("COSIGN_REPOSITORY", sig_repo.as_str())],
    )
    .ok();
}

fn batch_sign_and_verify_many_images_in_one_invocation(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let images: Vec<String> = (0..12)
        .map(|i| {
            env.push_distinct_image(&unique_repo("batch"), &format!("batch-{i}"))
                .0
        })
        .collect();
    let mut args = vec!["sign", "--key", "k.key", HTTP, NO_TLOG];
    args.extend(images.iter().map(String::as_str));
    env.signet(d, &args).ok();
    let mut args = vec!["verify", AIR_GAPPED, "--key", "k.pub", HTTP];
    args.extend(images.iter().map(String::as_str));
    let run = env.signet(d, &args).ok();
    assert_eq!(run.stderr.matches("Verification for").count(), images.len());
    // One unsigned image in the batch: the others still verify, the exit code says why.
    let (unsigned, _) = env.push_distinct_image(&unique_repo("batch"), "unsigned");
    args.push(&unsigned);
    let run = env
        .signet(d, &args)
        .fails_with(10, &format!("1 of {} images failed", images.len() + 1));
    assert_eq!(run.stderr.matches("Verification for").count(), images.len());
}

fn concurrent_signers_do_not_lose_signatures(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    const SIGNERS: usize = 20;
    for i in 0..SIGNERS {
        signet_key_pair(env, d, &format!("k{i}"));
    }
    // Each round signs a fresh image with 20 processes at once. Every round
    // must keep all 20 signatures, and the merge path must have been taken
    // (a signer saying it merged its signature again) in at least one
    // round, so that the test cannot pass without a race to survive.
    let mut merges = 0;
    for round in 0..3 {
        let repo = unique_repo("race");
        let (image, digest) = env.push_distinct_image(&repo, &format!("race-{round}"));
        let children: Vec<_> = (0..SIGNERS)
            .map(|i| {
                std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
                    .args(["sign", "--key", &format!("k{i}.key"), HTTP, NO_TLOG, &image])
                    .current_dir(d)
                    .env("COSIGN_PASSWORD", crate::harness::PASSWORD)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            merges += stderr
                .lines()
                .filter(|l| l.contains("the signature was merged again"))
                .count();
        }
        let layers = env.signature_manifest(&repo, &digest).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(layers, SIGNERS, "every concurrent signature survives");
        let keys: Vec<String> = (0..SIGNERS).map(|i| format!("k{i}.pub")).collect();
        for key in &keys {
            env.signet(d, &["verify", AIR_GAPPED, "--key", key, HTTP, &image])
                .ok();
        }
        if merges > 0 {
            return;
        }
    }
    panic!("20 concurrent signers never raced in 3 rounds: the merge path was not exercised");
}

fn match_repository_stops_signature_replay_across_repositories(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let (signed_repo, other_repo) = (unique_repo("approved"), unique_repo("replayed"));
    let (image, digest) = env.push_image(&signed_repo);
    let (other, other_digest) = env.push_image(&other_repo);
    assert_eq!(digest, other_digest, "same content, same digest");
    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &image])
        .ok();
    // Copy the signature tag into the other repository, as an attacker with
    // push access there could.
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let policy = env.home.path().join("insecure-policy.json");
    env.skopeo(
        d,
        &[
            "--policy",
            policy.to_str().unwrap(),
            "copy",
            "-q",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{}/{signed_repo}:{tag}", env.registry),
            &format!("docker://{}/{other_repo}:{tag}", env.registry),
        ],
    )
    .ok();
    // cosign's rule (digest only) accepts the replayed signature; so does
    // signet by default, for compatibility.
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &other])
        .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--match-repository",
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
            "k.pub",
            HTTP,
            "--match-repository",
            &other,
        ],
    )
    .fails_with(12, "signature is for repository");
}

fn appending_keeps_what_other_tools_wrote(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("foreign");
    let (image, digest) = env.push_image(&repo);
    // A signature manifest as some other tool might leave it: manifest
    // annotations, a subject, an artifactType, a vendor extension, a config
    // with fields of its own, and a layout unlike go-containerregistry's.
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/{repo}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":{{"tool":"other"}}}}"#,
        env.registry
    );
    let payload_digest = env.put_blob(&repo, payload.as_bytes());
    let config = format!(
        r#"{{"created":"2026-01-01T00:00:00Z","rootfs":{{"type":"layers","diff_ids":["{payload_digest}"]}},"history":[{{"comment":"other tool"}}],"x-other":1}}"#
    );
    let config_digest = env.put_blob(&repo, config.as_bytes());
    let foreign = format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.other-tool",
  "config": {{"mediaType": "application/vnd.oci.image.config.v1+json", "size": {}, "digest": "{config_digest}"}},
  "layers": [
    {{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": {}, "digest": "{payload_digest}", "annotations": {{"dev.cosignproject.cosign/signature": "bm90IGEgc2lnbmF0dXJl", "org.example/note": "kept"}}}}
  ],
  "subject": {{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": "{digest}"}},
  "annotations": {{"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}},
  "x-vendor": {{"nested": [1, 2.50, null]}}
}}"#,
        config.len(),
        payload.len()
    );
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let oci = "application/vnd.oci.image.manifest.v1+json";
    env.put_manifest(&repo, &tag, oci, foreign.as_bytes());

    env.signet(d, &["sign", "--key", "k.key", HTTP, NO_TLOG, &image])
        .ok();
    let stored = std::process::Command::new("curl")
        .args(["-sf", "-H", &format!("Accept: {oci}")])
        .arg(format!("http://{}/v2/{repo}/manifests/{tag}", env.registry))
        .output()
        .unwrap();
    let stored = String::from_utf8(stored.stdout).unwrap();
    // Byte for byte: everything up to the config digest, and everything
    // from the old last layer's end, is what the other tool wrote.
    let (head, _) = foreign.split_once(r#", "size": "#).unwrap();
    assert!(stored.starts_with(head), "{stored}");
    let (_, tail) = foreign
        .split_once(r#""org.example/note": "kept"}}"#)
        .unwrap();
    assert!(stored.ends_with(tail), "{stored}");
    let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let layers = value["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    // The config keeps its own fields and gains the new layer's entries.
    let config_digest = value["config"]["digest"].as_str().unwrap();
    let new_config = std::process::Command::new("curl")
        .arg("-sf")
        .arg(format!(
            "http://{}/v2/{repo}/blobs/{config_digest}",
            env.registry
        ))
        .output()
        .unwrap();
    let new_config: serde_json::Value = serde_json::from_slice(&new_config.stdout).unwrap();
    assert_eq!(new_config["x-other"], 1);
    assert_eq!(new_config["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        new_config["rootfs"]["diff_ids"][1],
        layers[1]["digest"].as_str().unwrap()
    );
    env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .ok();
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
}
