//! Policy files end to end: `verify --policy` against a real registry with
//! key authorities (rotation, thresholds, warn mode, transparency-log
//! optional and required, the default rule, tampering), `policy test` over
//! a project large enough to paginate the catalog and a tag list, and
//! `policy export` to a policy.json that skopeo 1.18 enforces.

use std::path::Path;

use crate::harness::{Context, Env, PASSWORD, signet_key_pair, tests, unique_repo};
use crate::sigstore_peers::Sigstore;

tests![
    verify_policy_with_key_authorities,
    policy_test_dry_runs_a_project,
    exported_policy_json_is_enforced_by_skopeo,
    keyless_and_logged_key_authorities_against_the_mock_sigstore
];

const NO_TLOG: &str = "--tlog-upload=false";

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

fn decisions(stdout: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn verify_policy_with_key_authorities(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for k in ["old", "new", "stranger"] {
        signet_key_pair(env, d, k);
    }
    let project = unique_repo("policy");
    let reg = &env.registry;
    let push = |name: &str| {
        env.push_distinct_image(&format!("{project}/{name}"), &format!("{project}-{name}"))
    };
    let (old_only, _) = push("old-only");
    let (new_only, _) = push("new-only");
    let (both, _) = push("both");
    let (unsigned, _) = push("unsigned");
    let (stranger, _) = push("stranger");
    let (copied, copied_digest) = push("copied");
    for (key, image) in [
        ("old", &old_only),
        ("new", &new_only),
        ("old", &both),
        ("new", &both),
        ("stranger", &stranger),
    ] {
        env.signet(d, &["sign", "--key", &format!("{key}.key"), NO_TLOG, image])
            .ok();
    }
    // A signature copied onto another image: the old key signed `old-only`,
    // and its signature manifest is planted as `copied`'s.
    let old_digest = env
        .manifest_digest(&format!("{project}/old-only"), "v1")
        .unwrap();
    let sig = env
        .signature_manifest(&format!("{project}/old-only"), &old_digest)
        .unwrap();
    let payload_layer = &sig["layers"][0];
    let blob = env.blob(
        &format!("{project}/old-only"),
        payload_layer["digest"].as_str().unwrap(),
    );
    env.put_blob(&format!("{project}/copied"), &blob);
    let config = env.blob(
        &format!("{project}/old-only"),
        sig["config"]["digest"].as_str().unwrap(),
    );
    env.put_blob(&format!("{project}/copied"), &config);
    env.put_manifest(
        &format!("{project}/copied"),
        &format!("sha256-{}.sig", copied_digest.trim_start_matches("sha256:")),
        "application/vnd.oci.image.manifest.v1+json",
        sig.to_string().as_bytes(),
    );

    let scope = |extra: &str| {
        format!(
            "policies:\n  - name: rotation\n    images: \"{reg}/{project}/**\"\n    authorities:\n      - key: old.pub\n      - key: new.pub\n{extra}"
        )
    };
    // Rotation: either key, the log optional.
    let p = write(
        d,
        "rotation.yaml",
        &scope("    transparency-log: optional\n"),
    );
    let run = env
        .signet(d, &["verify", "--policy", &p, &old_only, &new_only, &both])
        .ok();
    let ds = decisions(&run.stdout);
    assert_eq!(ds.len(), 3);
    for dcs in &ds {
        assert_eq!(dcs["outcome"], "allowed", "{dcs}");
        assert_eq!(dcs["scope"], "rotation");
        assert!(dcs["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    assert_eq!(ds[0]["authorities"][0]["authority"], "old.pub");
    assert!(
        ds[0]["authorities"][0]["signature"]
            .as_str()
            .unwrap()
            .contains(".sig layer 1")
    );
    assert_eq!(ds[0]["authorities"][0]["transparency_log"], "absent");
    assert!(ds[0]["authorities"][1]["failure"]["check"] == "wrong-key");
    // The same digest by tag and by digest.
    let by_digest = format!("{reg}/{project}/old-only@{old_digest}");
    let run = env.signet(d, &["verify", "--policy", &p, &by_digest]).ok();
    assert_eq!(decisions(&run.stdout)[0]["digest"], old_digest.as_str());

    // Each failed check, with verify's exit codes.
    let run = env
        .signet(d, &["verify", "--policy", &p, &unsigned])
        .fails_with(10, "unsigned: no signatures found");
    assert_eq!(decisions(&run.stdout)[0]["failure"]["check"], "unsigned");
    env.signet(d, &["verify", "--policy", &p, &stranger])
        .fails_with(12, "wrong-key: 1 signature");
    let run = env
        .signet(d, &["verify", "--policy", &p, &copied])
        .fails_with(12, "tampered:");
    assert!(
        run.stderr.contains("a signature copied from another image"),
        "{}",
        run.stderr
    );
    env.signet(
        d,
        &[
            "verify",
            "--policy",
            &p,
            &format!("{reg}/{project}/missing:v1"),
        ],
    )
    .fails_with(11, "image-not-found");
    env.signet(
        d,
        &["verify", "--policy", &p, &format!("{reg}/elsewhere/app:v1")],
    )
    .fails_with(12, "no-authorities: no policy scope matches");

    // Threshold 2: only the image both keys signed.
    let p2 = write(
        d,
        "two.yaml",
        &scope("    transparency-log: optional\n    threshold: 2\n"),
    );
    env.signet(d, &["verify", "--policy", &p2, &both]).ok();
    let run = env
        .signet(d, &["verify", "--policy", &p2, &old_only])
        .fails_with(
            12,
            "threshold-not-met: 1 of the 2 required authorities vouched (old.pub)",
        );
    assert_eq!(decisions(&run.stdout)[0]["outcome"], "denied");

    // Warn mode: refused images are let through, with the reason.
    let p3 = write(
        d,
        "warn.yaml",
        &scope("    transparency-log: optional\n    mode: warn\n"),
    );
    let run = env
        .signet(
            d,
            &[
                "verify", "--policy", &p3, "-o", "text", &unsigned, &old_only,
            ],
        )
        .ok();
    assert!(run.stdout.contains("WARNED"), "{}", run.stdout);
    assert!(run.stdout.contains("ALLOWED"), "{}", run.stdout);
    assert!(
        run.stderr.contains("is in warn mode: unsigned"),
        "{}",
        run.stderr
    );

    // The log required (the default): an unlogged signature is refused.
    let p4 = write(d, "required.yaml", &scope(""));
    env.signet(d, &["verify", "--policy", &p4, &old_only])
        .fails_with(12, "missing-transparency-log");

    // A policy that does not load is a one-line error.
    let bad = write(
        d,
        "bad.yaml",
        "policies:\n  - images: x/**\n    autorities: []\n",
    );
    env.signet(d, &["verify", "--policy", &bad, &old_only])
        .fails_with(
            1,
            "bad.yaml:3:5: policies[0].autorities: unknown field `autorities`",
        );
    env.signet(
        d,
        &["verify", "--policy", &p, "--key", "old.pub", &old_only],
    )
    .fails_with(2, "cannot be used with");
}

/// A small image manifest in `repo` (its config blob uploaded first).
fn put_tiny_image(env: &Env, repo: &str, tag: &str, seed: &str) {
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}}}}"
    );
    let digest = env.put_blob(repo, config.as_bytes());
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{digest}\",\"size\":{}}},\"layers\":[]}}",
        config.len()
    );
    env.put_manifest(
        repo,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
}

fn policy_test_dry_runs_a_project(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    signet_key_pair(env, d, "other");
    let project = unique_repo("dryrun");
    let reg = &env.registry;
    let (signed, signed_digest) =
        env.push_distinct_image(&format!("{project}/signed"), &format!("{project}-s"));
    env.push_distinct_image(&format!("{project}/unsigned"), &format!("{project}-u"));
    let (wrong, _) = env.push_distinct_image(&format!("{project}/wrong"), &format!("{project}-w"));
    let (index, _) = env.push_index(&format!("{project}/multi"));
    env.signet(d, &["sign", "--key", "k.key", NO_TLOG, &signed])
        .ok();
    env.signet(d, &["sign", "--key", "other.key", NO_TLOG, &wrong])
        .ok();
    // The index alone is signed; its platform images are not.
    env.signet(d, &["sign", "--key", "k.key", NO_TLOG, &index])
        .ok();
    // More than a page (100) of tags naming one digest, and more than a page
    // of repositories in the catalog.
    let manifest = env
        .manifest_bytes(&format!("{project}/signed"), "v1")
        .unwrap();
    for i in 0..105 {
        env.put_manifest(
            &format!("{project}/signed"),
            &format!("t{i}"),
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        );
    }
    for i in 0..101 {
        put_tiny_image(
            env,
            &format!("{project}/filler/r{i}"),
            "v1",
            &format!("{project}-{i}"),
        );
    }
    let p = write(
        d,
        "p.yaml",
        &format!(
            "policies:\n  - images: \"{reg}/{project}/**\"\n    authorities: [{{key: k.pub}}]\n    transparency-log: optional\n"
        ),
    );
    let run = env.signet(
        d,
        &[
            "policy",
            "test",
            &p,
            &format!("{reg}/{project}"),
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 12, "{}", run.stderr);
    let reports: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let r = &reports[0];
    assert_eq!(r["repositories"], 105, "{r}");
    assert_eq!(
        r["skipped_artefacts"], 3,
        "the .sig tags of signed, wrong and multi"
    );
    let digests = r["digests"].as_array().unwrap();
    let find = |repo: &str| -> Vec<&serde_json::Value> {
        digests
            .iter()
            .filter(|x| x["repository"] == format!("{reg}/{project}/{repo}"))
            .collect()
    };
    let s = find("signed");
    assert_eq!(s.len(), 1, "106 tags, one digest");
    assert_eq!(s[0]["digest"], signed_digest.as_str());
    assert_eq!(s[0]["tags"].as_array().unwrap().len(), 106);
    assert_eq!(s[0]["decision"]["outcome"], "allowed");
    assert_eq!(
        find("unsigned")[0]["decision"]["failure"]["check"],
        "unsigned"
    );
    assert_eq!(
        find("wrong")[0]["decision"]["failure"]["check"],
        "wrong-key"
    );
    let multi = find("multi");
    assert_eq!(multi.len(), 3, "the index and its two platform images");
    let children: Vec<_> = multi.iter().filter(|x| x["index"].is_string()).collect();
    assert_eq!(children.len(), 2);
    for c in children {
        assert_eq!(c["decision"]["failure"]["check"], "unsigned", "{c}");
    }
    // Text output names what would be refused and why.
    let run = env.signet(d, &["policy", "test", &p, &format!("{reg}/{project}")]);
    assert_eq!(run.code, 12);
    assert!(
        run.stdout
            .contains(&format!("REFUSE {reg}/{project}/wrong@")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("105 repositories"), "{}", run.stdout);
    assert!(
        !run.stdout.contains(&format!("{project}/signed@")),
        "{}",
        run.stdout
    );
}

fn exported_policy_json_is_enforced_by_skopeo(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    signet_key_pair(env, d, "other");
    let project = unique_repo("export");
    let reg = &env.registry;
    let (signed, _) =
        env.push_distinct_image(&format!("{project}/signed"), &format!("{project}-s"));
    let (unsigned, _) =
        env.push_distinct_image(&format!("{project}/unsigned"), &format!("{project}-u"));
    let (wrong, _) = env.push_distinct_image(&format!("{project}/wrong"), &format!("{project}-w"));
    env.signet(d, &["sign", "--key", "k.key", NO_TLOG, &signed])
        .ok();
    env.signet(d, &["sign", "--key", "other.key", NO_TLOG, &wrong])
        .ok();
    let p = write(
        d,
        "p.yaml",
        &format!(
            "policies:\n  - images: [\"{reg}/{project}\", \"{reg}/{project}/**\"]\n    authorities: [{{key: k.pub}}]\n    transparency-log: optional\n"
        ),
    );
    let run = env
        .signet(
            d,
            &["policy", "export", "--format", "containers-policy", &p],
        )
        .ok();
    assert!(run.stderr.contains("differs:"), "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["default"][0]["type"], "reject");
    let req = &doc["transports"]["docker"][format!("{reg}/{project}")][0];
    assert_eq!(req["type"], "sigstoreSigned", "{doc}");
    assert!(req["keyPath"].as_str().unwrap().ends_with("k.pub"));
    assert_eq!(req["signedIdentity"]["type"], "matchRepository");
    std::fs::write(d.join("policy.json"), &run.stdout).unwrap();
    let copy = |image: &str, to: &str| {
        env.skopeo(
            d,
            &[
                "--policy",
                "policy.json",
                "copy",
                "-q",
                "--src-tls-verify=false",
                &format!("docker://{image}"),
                &format!("dir:{}", d.join(to).display()),
            ],
        )
    };
    copy(&signed, "signed").ok();
    let refused = copy(&unsigned, "unsigned");
    assert_ne!(refused.code, 0, "skopeo accepted an unsigned image");
    assert!(refused.stderr.contains("signature"), "{}", refused.stderr);
    let refused = copy(&wrong, "wrong");
    assert_ne!(refused.code, 0, "skopeo accepted a wrong-key image");
    // Outside the scope: the default, reject.
    let (elsewhere, _) = env.push_distinct_image(&unique_repo("export-elsewhere"), "elsewhere");
    assert_ne!(copy(&elsewhere, "elsewhere").code, 0);

    // 2 of 3 keys cannot be expressed: refused, or narrowed on request.
    signet_key_pair(env, d, "third");
    let p2 = write(
        d,
        "p2.yaml",
        &format!(
            "policies:\n  - images: [\"{reg}/{project}\", \"{reg}/{project}/**\"]\n    authorities: [{{key: k.pub}}, {{key: other.pub}}, {{key: third.pub}}]\n    threshold: 2\n    transparency-log: optional\n"
        ),
    );
    env.signet(
        d,
        &["policy", "export", "--format", "containers-policy", &p2],
    )
    .fails_with(1, "narrower:");
    let run = env
        .signet(
            d,
            &[
                "policy",
                "export",
                "--format",
                "containers-policy",
                "--allow-narrower",
                &p2,
            ],
        )
        .ok();
    assert!(
        run.stderr.contains("2 of 3 authorities become all of 3"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["transports"]["docker"][format!("{reg}/{project}")]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A glob without its namespace repository would widen trust: refused.
    let p3 = write(
        d,
        "p3.yaml",
        &format!(
            "policies:\n  - images: \"{reg}/{project}/**\"\n    authorities: [{{key: k.pub}}]\n    transparency-log: optional\n"
        ),
    );
    env.signet(
        d,
        &["policy", "export", "--format", "containers-policy", &p3],
    )
    .fails_with(1, "without widening trust");
    // ClusterImagePolicy.
    let run = env
        .signet(
            d,
            &["policy", "export", "--format", "cluster-image-policy", &p],
        )
        .ok();
    assert!(
        run.stdout.contains("kind: ClusterImagePolicy"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hashAlgorithm: sha256"),
        "{}",
        run.stdout
    );
}

const EMAIL: &str = "policy@example.test";

/// Keyless identities and logged key signatures made by cosign 2.5 against
/// the mock Sigstore, decided by policies that name the mock's trusted root.
fn keyless_and_logged_key_authorities_against_the_mock_sigstore(s: &Sigstore) {
    let env = match Env::get() {
        Ok(env) => env,
        Err(why) => panic!("the registry is missing beside the mock Sigstore: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let project = unique_repo("policy-keyless");
    let reg = &env.registry;
    let issuer = s.issuer.issuer_url().to_owned();
    let push = |name: &str| {
        env.push_distinct_image(&format!("{project}/{name}"), &format!("{project}-{name}"))
            .0
    };
    let keyless = push("keyless");
    let logged = push("logged");
    let unlogged = push("unlogged");
    let both = push("both");
    let keyless_sign = |image: &str| {
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
                &s.email_token(EMAIL),
                image,
            ],
            &[],
        )
        .ok();
    };
    let key_sign = |image: &str| {
        s.cosign(
            d,
            &[
                "sign",
                "--yes",
                "--allow-http-registry",
                "--key",
                "k.key",
                "--rekor-url",
                &s.url,
                image,
            ],
            &[("COSIGN_PASSWORD", PASSWORD.to_owned())],
        )
        .ok();
    };
    keyless_sign(&keyless);
    keyless_sign(&both);
    key_sign(&logged);
    key_sign(&both);
    env.signet(d, &["sign", "--key", "k.key", NO_TLOG, &unlogged])
        .ok();

    let root = s.file("trusted_root.json").display().to_string();
    let policy = |name: &str, authorities: &str, extra: &str| {
        write(
            d,
            name,
            &format!(
                "trust-roots: {{mock: \"{root}\"}}\npolicies:\n  - images: \"{reg}/{project}/**\"\n    trust-root: mock\n    authorities:\n{authorities}{extra}"
            ),
        )
    };
    let identity = format!("      - keyless: {{issuer: \"{issuer}\", subject: \"{EMAIL}\"}}\n");
    let key = "      - key: k.pub\n";

    // A keyless identity, exact and by regular expression.
    let p = policy("keyless.yaml", &identity, "");
    let run = env.signet(d, &["verify", "--policy", &p, &keyless]).ok();
    let ds = decisions(&run.stdout);
    assert_eq!(ds[0]["outcome"], "allowed", "{}", run.stdout);
    assert_eq!(ds[0]["authorities"][0]["transparency_log"], "verified");
    let regexp = format!(
        "      - keyless: {{issuer-regexp: \"^{issuer}$\", subject-regexp: \"^policy@\"}}\n"
    );
    let p = policy("regexp.yaml", &regexp, "");
    env.signet(d, &["verify", "--policy", &p, &keyless]).ok();
    // Another identity: refused, naming the identity check.
    let other =
        format!("      - keyless: {{issuer: \"{issuer}\", subject: \"other@example.test\"}}\n");
    let p = policy("other.yaml", &other, "");
    env.signet(d, &["verify", "--policy", &p, &keyless])
        .fails_with(12, "wrong-identity:");
    // A key signature where an identity is required.
    let p = policy("keyless.yaml", &identity, "");
    env.signet(d, &["verify", "--policy", &p, &logged])
        .fails_with(12, "wrong-identity:");

    // A key whose signatures went to the mock's log: verified offline
    // against the log's key; without a log entry, refused unless optional.
    let p = policy("key.yaml", key, "");
    let run = env.signet(d, &["verify", "--policy", &p, &logged]).ok();
    assert_eq!(
        decisions(&run.stdout)[0]["authorities"][0]["transparency_log"],
        "verified"
    );
    env.signet(d, &["verify", "--policy", &p, &unlogged])
        .fails_with(12, "missing-transparency-log: ");
    let p = policy("key-optional.yaml", key, "    transparency-log: optional\n");
    let run = env
        .signet(d, &["verify", "--policy", &p, &unlogged, &logged])
        .ok();
    let ds = decisions(&run.stdout);
    assert_eq!(ds[0]["authorities"][0]["transparency_log"], "absent");
    assert_eq!(ds[1]["authorities"][0]["transparency_log"], "verified");
    // The shipped public-good root does not trust the mock's log: its entry
    // does not count, and the policy says so.
    let p = write(
        d,
        "public-good.yaml",
        &format!(
            "policies:\n  - images: \"{reg}/{project}/**\"\n    authorities: [{{key: k.pub}}]\n"
        ),
    );
    env.signet(d, &["verify", "--policy", &p, &logged])
        .fails_with(12, "missing-transparency-log: ");

    // Two authorities of different kinds, each with a signature of its own.
    let p = policy(
        "two.yaml",
        &format!("{identity}{key}"),
        "    threshold: 2\n",
    );
    let run = env.signet(d, &["verify", "--policy", &p, &both]).ok();
    let ds = decisions(&run.stdout);
    let sigs: Vec<&str> = ds[0]["authorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["signature"].as_str().unwrap())
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_ne!(sigs[0], sigs[1], "one signature counts for one authority");
    env.signet(d, &["verify", "--policy", &p, &keyless])
        .fails_with(12, "threshold-not-met: 1 of the 2");

    // The keyless scope as policy.json: fulcio with the mock's CA, its
    // Rekor key, the e-mail identity; skopeo 1.18 enforces it.
    let p = write(
        d,
        "export.yaml",
        &format!(
            "trust-roots: {{mock: \"{root}\"}}\npolicies:\n  - images: [\"{reg}/{project}\", \"{reg}/{project}/**\"]\n    trust-root: mock\n    authorities:\n{identity}"
        ),
    );
    let run = env
        .signet(
            d,
            &["policy", "export", "--format", "containers-policy", &p],
        )
        .ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let req = &doc["transports"]["docker"][format!("{reg}/{project}")][0];
    assert_eq!(req["fulcio"]["subjectEmail"], EMAIL, "{doc}");
    assert!(req["rekorPublicKeyData"].is_string(), "{doc}");
    std::fs::write(d.join("policy.json"), &run.stdout).unwrap();
    let copy = |image: &str, to: &str| {
        env.skopeo(
            d,
            &[
                "--policy",
                "policy.json",
                "copy",
                "-q",
                "--src-tls-verify=false",
                &format!("docker://{image}"),
                &format!("dir:{}", d.join(to).display()),
            ],
        )
    };
    copy(&keyless, "keyless").ok();
    assert_ne!(
        copy(&logged, "logged").code,
        0,
        "a key signature passed a keyless policy"
    );
}
