//! The webhook against admission requests from Kubernetes admission
//! projects' own test data (see `tests/vectors/README.md`), for every
//! covered kind: which images it finds, that it decides each distinct image
//! once, that UPDATEs check only what changed, and the response's shape.
//!
//! The policies here need no registry: a scope without authorities refuses
//! (enforce) or warns about (warn) every image without looking it up. The
//! same fixtures go through the real `signet admission` against a real
//! registry in `signet-cli`'s end-to-end tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use signet_core::signature_manifest::MediaTypes;
use signet_enforce::Decider;
use signet_enforce::admission::{AdmissionConfig, Endpoint, Webhook};
use signet_enforce::cache::CacheConfig;
use signet_oci::signatures::SignatureStore;
use signet_oci::{ClientOptions, RegistryClient};
use signet_policy::{Evaluator, Policy};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// Every fixture: (name, the AdmissionReview as sent).
fn fixtures() -> Vec<(String, serde_json::Value)> {
    let out = signet_testing::admission::admission_reviews(&vectors());
    assert!(out.len() >= 25, "fixtures missing: {}", out.len());
    out
}

/// Every `image` string anywhere under `value` (an oracle independent of the
/// webhook's own per-kind paths).
fn all_images(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("image", serde_json::Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    // Not part of the object's spec.
                    ("metadata" | "status", _) => {}
                    _ => all_images(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| all_images(v, out)),
        _ => {}
    }
}

/// The images a review should check: all of the object's on CREATE; on
/// UPDATE those the old object does not have.
fn expected_images(review: &serde_json::Value) -> BTreeSet<String> {
    let request = &review["request"];
    let mut new = BTreeSet::new();
    all_images(&request["object"], &mut new);
    let mut old = BTreeSet::new();
    all_images(&request["oldObject"], &mut old);
    new.difference(&old).cloned().collect()
}

async fn webhook(policy: &str) -> std::sync::Arc<Webhook> {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::from_yaml("policy.yaml", policy, dir.path())
        .await
        .unwrap();
    let client = RegistryClient::new(ClientOptions::default()).unwrap();
    let store = SignatureStore::new(client, None, MediaTypes::Oci);
    let evaluator = Evaluator::new(policy, store).unwrap();
    let decider = Decider::new(evaluator, &CacheConfig::default(), Duration::from_secs(30));
    Webhook::new(decider, AdmissionConfig::default())
}

async fn answer(
    webhook: &Webhook,
    endpoint: Endpoint,
    review: &serde_json::Value,
) -> serde_json::Value {
    let body = serde_json::to_vec(review).unwrap();
    let out = webhook
        .review(endpoint, &body, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("not answered: {e}"));
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_refuses_every_image_of_every_kind_once() {
    let webhook = webhook("default: {mode: enforce, authorities: []}\n").await;
    let mut kinds = BTreeSet::new();
    for (name, review) in fixtures() {
        kinds.insert(
            review["request"]["kind"]["kind"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let expected = expected_images(&review);
        assert!(
            !expected.is_empty(),
            "{name}: no images found by the oracle"
        );
        for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
            let out = answer(&webhook, endpoint, &review).await;
            assert_eq!(out["apiVersion"], review["apiVersion"], "{name}");
            assert_eq!(out["kind"], "AdmissionReview", "{name}");
            let response = &out["response"];
            assert_eq!(response["uid"], review["request"]["uid"], "{name}");
            assert_eq!(response["allowed"], false, "{name}: {response}");
            assert_eq!(response["status"]["code"], 403, "{name}: {response}");
            assert!(response.get("patch").is_none(), "{name}: {response}");
            let message = response["status"]["message"].as_str().unwrap();
            for image in &expected {
                assert_eq!(
                    message.matches(&format!("image {image} refused")).count(),
                    1,
                    "{name}: {image} not refused exactly once: {message}"
                );
                assert!(message.contains("no-authorities"), "{name}: {message}");
            }
            assert_eq!(
                message.matches(" refused by policy scope ").count(),
                expected.len(),
                "{name}: images checked are not the distinct new images {expected:?}: {message}"
            );
        }
    }
    for kind in [
        "Pod",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicationController",
        "PodTemplate",
    ] {
        assert!(kinds.contains(kind), "no fixture of kind {kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_admits_with_one_warning_per_distinct_image() {
    let webhook = webhook("default: {mode: warn, authorities: []}\n").await;
    for (name, review) in fixtures() {
        let expected = expected_images(&review);
        let out = answer(&webhook, Endpoint::Validate, &review).await;
        let response = &out["response"];
        assert_eq!(response["allowed"], true, "{name}: {response}");
        let warnings: Vec<&str> = response["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no warnings: {response}"))
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(warnings.len(), expected.len(), "{name}: {warnings:?}");
        for image in &expected {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains(image.as_str()) && w.contains("no-authorities")),
                "{name}: no warning for {image}: {warnings:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_check_only_new_images() {
    let webhook = webhook("default: {mode: enforce, authorities: []}\n").await;
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(vectors().join("signet").join(name)).unwrap())
            .unwrap()
    };
    // kubectl debug: only the ephemeral container's image is new.
    let out = answer(
        &webhook,
        Endpoint::Validate,
        &read("pod_ephemeralcontainers_update.json"),
    )
    .await;
    let message = out["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("registry.example/tools/debug:1.36"),
        "{message}"
    );
    assert!(!message.contains("team-a/web"), "{message}");
    // kubectl set image: the changed image, not the unchanged sidecar.
    let out = answer(
        &webhook,
        Endpoint::Validate,
        &read("deployment_update_image.json"),
    )
    .await;
    let message = out["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("registry.example/team-a/web:3.2"),
        "{message}"
    );
    assert!(!message.contains("proxy"), "{message}");
    // An UPDATE that changes no image is admitted without a lookup.
    let mut same = read("deployment_update_image.json");
    same["request"]["object"] = same["request"]["oldObject"].clone();
    let out = answer(&webhook, Endpoint::Mutate, &same).await;
    assert_eq!(out["response"]["allowed"], true, "{out}");
    assert!(out["response"].get("patch").is_none(), "{out}");
    // DELETE and CONNECT are not the webhook's business.
    let mut delete = read("deployment_update_image.json");
    delete["request"]["operation"] = "DELETE".into();
    let out = answer(&webhook, Endpoint::Validate, &delete).await;
    assert_eq!(out["response"]["allowed"], true, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_reviews_are_refused_with_a_reason() {
    let webhook = webhook("default: {mode: enforce, authorities: []}\n").await;
    for (body, needle) in [
        (&b"not json"[..], "not an AdmissionReview"),
        (
            br#"{"apiVersion":"v1","kind":"Pod"}"#,
            "expected an admission.k8s.io/v1 AdmissionReview",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
            "no request",
        ),
    ] {
        let err = webhook
            .review(Endpoint::Validate, body, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}
