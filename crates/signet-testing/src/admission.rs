//! The admission-webhook fixtures (`signet-enforce/tests/vectors`), read the
//! same way by the webhook's library tests and by the end-to-end tests of
//! `signet admission`.

use std::path::{Path, PathBuf};

/// The fixture directories: kubewarden's and k8tz's published
/// `AdmissionReview`s, and signet's own.
const FIXTURE_DIRS: [&str; 3] = ["kubewarden", "k8tz", "signet"];

/// Every fixture under `vectors` as (name, the `AdmissionReview` as sent), in
/// name order. kubewarden's files are the `request` member alone; they are
/// wrapped in an `AdmissionReview`. Panics on a missing or malformed file:
/// these are test fixtures.
pub fn admission_reviews(vectors: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for dir in FIXTURE_DIRS {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors.join(dir))
            .expect("the fixture directory")
            .map(|e| e.expect("a fixture directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).expect("a fixture file");
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).expect("a fixture that is JSON");
            let review = if value.get("request").is_some() {
                value
            } else {
                serde_json::json!({
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "request": value,
                })
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            out.push((format!("{dir}/{}", name.unwrap_or_default()), review));
        }
    }
    out
}
