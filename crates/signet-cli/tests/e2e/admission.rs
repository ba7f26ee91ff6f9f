//! `signet admission` over TLS against the real registry, fed the admission
//! requests of Kubernetes admission projects' own test data
//! (`crates/signet-enforce/tests/vectors/`) with their images pointed at
//! test images: the mutating webhook pins every new tag to the verified
//! digest at exactly the paths where the images are, the validating one
//! refuses unsigned images naming the check; and `signet admission
//! manifests`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::enforce_process::{Answer, Daemon, curl};
use crate::harness::{Env, Local, signet_key_pair, tests, unique_repo};

tests![
    webhook_pins_and_refuses_every_fixture_over_tls,
    admission_manifests_register_both_webhooks,
    admission_refuses_to_start_without_tls,
];

const NO_TLOG: &str = "--tlog-upload=false";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../signet-enforce/tests/vectors")
}

/// Every fixture as an `AdmissionReview` (kubewarden's files are the
/// `request` member alone).
fn fixtures() -> Vec<(String, serde_json::Value)> {
    signet_testing::admission::admission_reviews(&vectors())
}

/// Every `image` field outside metadata and status: (JSON Pointer, image).
fn image_fields(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (k.as_str(), v) {
                    ("image", serde_json::Value::String(s)) => out.push((here, s.clone())),
                    ("metadata" | "status", _) => {}
                    _ => image_fields(v, &here, out),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                image_fields(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Rewrites every image field of the object and old object with `map`.
fn rewrite(value: &mut serde_json::Value, map: &BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k == "image"
                    && let serde_json::Value::String(s) = v
                {
                    if let Some(to) = map.get(s.as_str()) {
                        *s = to.clone();
                    }
                } else if k != "metadata" {
                    rewrite(v, map);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, map)),
        _ => {}
    }
}

fn post(webhook: &Daemon, tls_dir: &Path, endpoint: &str, review: &serde_json::Value) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("review.json");
    std::fs::write(&body, review.to_string()).unwrap();
    let ca = tls_dir.join("ca.pem");
    curl(
        &[
            "--cacert",
            ca.to_str().unwrap(),
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &format!("@{}", body.display()),
        ],
        &format!("https://{}/{endpoint}?timeout=10s", webhook.addr),
    )
}

fn webhook_pins_and_refuses_every_fixture_over_tls(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "trusted");
    let project = unique_repo("admission");
    let reg = &env.registry;
    let (signed, digest) =
        env.push_distinct_image(&format!("{project}/signed"), &format!("{project}-signed"));
    let (unsigned, _) = env.push_distinct_image(
        &format!("{project}/unsigned"),
        &format!("{project}-unsigned"),
    );
    env.signet(d, &["sign", "--key", "trusted.key", NO_TLOG, &signed])
        .ok();
    // More tags of the signed image, so that distinct images in a fixture
    // stay distinct.
    let manifest = env
        .manifest_bytes(&format!("{project}/signed"), "v1")
        .unwrap();
    for i in 0..6 {
        env.put_manifest(
            &format!("{project}/signed"),
            &format!("t{i}"),
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        );
    }
    std::fs::write(
        d.join("policy.yaml"),
        format!(
            "policies:\n  - name: prod\n    images: \"{reg}/{project}/**\"\n    authorities: [{{key: trusted.pub}}]\n    transparency-log: optional\ndefault: {{mode: enforce, authorities: []}}\n"
        ),
    )
    .unwrap();
    let tls = &env.tls_dir;
    let cert = tls.join("server.pem");
    let key = tls.join("server.key");
    let mut webhook = Daemon::start(
        env,
        d,
        &[
            "admission",
            "--policy",
            "policy.yaml",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        "https",
    );
    let fixtures = fixtures();
    assert!(fixtures.len() >= 25);
    let mut patched_images = 0;
    for (name, original) in fixtures {
        // Each distinct image becomes a distinct tag of the signed image;
        // one pinned by digest stays pinned (to the signed digest).
        let mut all = Vec::new();
        image_fields(&original["request"]["object"], "", &mut all);
        image_fields(&original["request"]["oldObject"], "", &mut all);
        let distinct: BTreeSet<String> = all.into_iter().map(|(_, i)| i).collect();
        assert!(distinct.len() <= 6, "{name}: too many images");
        let map: BTreeMap<String, String> = distinct
            .iter()
            .enumerate()
            .map(|(i, image)| {
                let to = if image.contains('@') {
                    format!("{reg}/{project}/signed:t{i}@{digest}")
                } else {
                    format!("{reg}/{project}/signed:t{i}")
                };
                (image.clone(), to)
            })
            .collect();
        let mut review = original.clone();
        rewrite(&mut review["request"], &map);

        // What must be patched: the new object's images that the old one
        // does not run, and that carry no digest yet.
        let mut new_fields = Vec::new();
        image_fields(&review["request"]["object"], "", &mut new_fields);
        let mut old_fields = Vec::new();
        image_fields(&review["request"]["oldObject"], "", &mut old_fields);
        let old: BTreeSet<&str> = old_fields.iter().map(|(_, i)| i.as_str()).collect();
        let expected: BTreeSet<(String, String)> = new_fields
            .iter()
            .filter(|(_, image)| !old.contains(image.as_str()) && !image.contains('@'))
            .map(|(path, image)| (path.clone(), format!("{image}@{digest}")))
            .collect();

        let answer = post(&webhook, tls, "mutate", &review);
        assert_eq!(answer.status, 200, "{name}: {answer:?}");
        let out = answer.json();
        let response = &out["response"];
        assert_eq!(response["uid"], review["request"]["uid"], "{name}");
        assert_eq!(response["allowed"], true, "{name}: {response}");
        let patch: Vec<serde_json::Value> = match response.get("patch") {
            Some(p) => {
                assert_eq!(response["patchType"], "JSONPatch", "{name}");
                serde_json::from_slice(
                    &base64::engine::general_purpose::STANDARD
                        .decode(p.as_str().unwrap())
                        .unwrap(),
                )
                .unwrap()
            }
            None => Vec::new(),
        };
        let got: BTreeSet<(String, String)> = patch
            .iter()
            .map(|op| {
                assert_eq!(op["op"], "replace", "{name}: {op}");
                (
                    op["path"].as_str().unwrap().to_owned(),
                    op["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name}: patch {patch:?}");
        if name == "k8tz/review-pod.json" {
            // An init container and a container of one image: two paths,
            // one verification.
            assert_eq!(got.len(), 2, "{patch:?}");
        }
        patched_images += got.len();
        // Applied, the patch changes nothing but those images.
        let mut patched = review["request"]["object"].clone();
        for (path, value) in &got {
            let field = patched
                .pointer_mut(path)
                .unwrap_or_else(|| panic!("{name}: no {path}"));
            assert!(field.is_string(), "{name}: {path} is not an image");
            *field = serde_json::Value::String(value.clone());
        }
        let mut again = review.clone();
        again["request"]["object"] = patched;
        // Reinvoked on its own output, the mutation is idempotent.
        let answer = post(&webhook, tls, "mutate", &again);
        assert!(
            answer.json()["response"].get("patch").is_none(),
            "{name}: {answer:?}"
        );

        let validated = post(&webhook, tls, "validate", &review).json();
        assert_eq!(
            validated["response"]["allowed"], true,
            "{name}: {validated}"
        );
        assert!(validated["response"].get("patch").is_none());

        // The same objects running the unsigned image are refused, naming it.
        if review["request"]["operation"] == "CREATE" {
            let to_unsigned: BTreeMap<String, String> = map
                .values()
                .map(|v| (v.clone(), unsigned.clone()))
                .collect();
            let mut bad = review.clone();
            rewrite(&mut bad["request"], &to_unsigned);
            for endpoint in ["validate", "mutate"] {
                let out = post(&webhook, tls, endpoint, &bad).json();
                let response = &out["response"];
                assert_eq!(response["allowed"], false, "{name}: {response}");
                assert_eq!(response["status"]["code"], 403, "{name}: {response}");
                let message = response["status"]["message"].as_str().unwrap();
                assert!(
                    message.contains(&format!("image {unsigned} refused")),
                    "{message}"
                );
                assert!(message.contains("unsigned:"), "{message}");
                assert_eq!(
                    message.matches(" refused by policy scope ").count(),
                    1,
                    "{message}"
                );
            }
        }
    }
    assert!(patched_images >= 25, "only {patched_images} images pinned");
    let metrics = curl(
        &["--cacert", tls.join("ca.pem").to_str().unwrap()],
        &format!("https://{}/metrics", webhook.addr),
    )
    .body;
    assert!(
        metrics.contains("signet_admission_reviews_total{endpoint=\"mutate\",result=\"allowed\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signet_cache_lookups_total{source=\"hit\"}"),
        "{metrics}"
    );
    // SIGTERM: a clean exit; the log lines are JSON objects.
    let status = webhook.stop().expect("the webhook stopped");
    assert!(status.success(), "{status}: {}", webhook.log_text());
    let log = webhook.log_text();
    for line in log.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(entry["level"].is_string(), "{line}");
    }
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("image refused"), "{log}");
}

fn admission_manifests_register_both_webhooks(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2lq\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let run = local
        .signet(
            d,
            &[
                "admission",
                "manifests",
                "--ca-bundle",
                "ca.pem",
                "--namespace",
                "signet",
            ],
        )
        .ok();
    let yaml = &run.stdout;
    for needle in [
        "kind: ValidatingWebhookConfiguration",
        "kind: MutatingWebhookConfiguration",
        "matchPolicy: Equivalent",
        "sideEffects: None",
        "failurePolicy: Fail",
        "values: [\"kube-system\", \"signet\"]",
        "\"pods/ephemeralcontainers\"",
        "path: /validate",
        "path: /mutate",
    ] {
        assert!(yaml.contains(needle), "missing {needle}: {yaml}");
    }
    let open = local
        .signet(
            d,
            &[
                "admission",
                "manifests",
                "--ca-bundle",
                "ca.pem",
                "--failure-mode",
                "fail-open",
            ],
        )
        .ok();
    assert!(
        open.stdout.contains("failurePolicy: Ignore"),
        "{}",
        open.stdout
    );
    local
        .signet(
            d,
            &[
                "admission",
                "manifests",
                "--ca-bundle",
                "ca.pem",
                "--timeout-seconds",
                "31",
            ],
        )
        .fails_with(1, "the API server accepts 1 to 30");
    local
        .signet(d, &["admission", "manifests", "--ca-bundle", "missing.pem"])
        .fails_with(1, "missing.pem");
}

fn admission_refuses_to_start_without_tls(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("p.yaml"),
        "default: {mode: enforce, authorities: []}\n",
    )
    .unwrap();
    local
        .signet(d, &["admission", "--policy", "p.yaml"])
        .fails_with(1, "needs --tls-cert FILE and --tls-key FILE");
    local
        .signet(d, &["admission", "--tls-cert", "c", "--tls-key", "k"])
        .fails_with(1, "needs --policy FILE");
    local
        .signet(d, &["gate", "--policy", "p.yaml", "--upstream", "ftp://x"])
        .fails_with(1, "the scheme must be http or https");
}
