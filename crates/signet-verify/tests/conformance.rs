//! The sigstore-conformance `bundle-verify` cases (tests/vectors/sigstore-conformance),
//! run offline: each with its own trusted root, or the shipped public-good
//! root; each as the conformance suite runs it, once with the artifact and
//! once with only its digest. Cases named `*_fail` must fail, the others
//! must verify.

use std::path::{Path, PathBuf};

use signet_core::bundle::Bundle;
use signet_core::keys::PublicKey;
use signet_core::{Artifact, Digest};
use signet_trust::TrustedRoot;
use signet_verify::{
    CertificateIdentity, SignedContent, SignerPolicy, TrustedKey, VerifiedBundle, Verifier,
};

/// The identity the suite verifies against unless a case names another.
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases signet does not agree with, and why. Each is listed with the
/// outcome signet gives; the test fails if one starts to pass or a case
/// not listed here disagrees.
const XFAIL: &[(&str, &str)] = &[];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/sigstore-conformance/bundle-verify")
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

fn text(path: &Path) -> Option<String> {
    read(path).map(|b| String::from_utf8_lossy(&b).trim().to_owned())
}

/// Runs one case; `Ok` when it verified.
fn run(dir: &Path, by_digest: bool) -> Result<VerifiedBundle, String> {
    let bundle = Bundle::parse(&read(&dir.join("bundle.sigstore.json")).ok_or("no bundle")?)
        .map_err(|e| format!("bundle: {e}"))?;
    let root = match read(&dir.join("trusted_root.json")) {
        Some(bytes) => TrustedRoot::parse(&bytes).map_err(|e| format!("trusted root: {e}"))?,
        None => signet_trust::public_good::trusted_root().map_err(|e| e.to_string())?,
    };
    let artifact = read(&dir.join("artifact"))
        .or_else(|| read(&dir.join("../a.txt")))
        .ok_or("no artifact")?;
    let mut builder = Verifier::builder().trusted_root(root);
    let policy = match read(&dir.join("key.pub")) {
        Some(pem) => {
            let key = PublicKey::from_pem(&pem).map_err(|e| format!("key: {e}"))?;
            builder = builder.trusted_key(TrustedKey::new("key.pub", key));
            SignerPolicy::TrustedKeys
        }
        None => SignerPolicy::identity(CertificateIdentity::exact(
            text(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
            text(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
        )),
    };
    let verifier = builder.build().map_err(|e| format!("verifier: {e}"))?;
    let artifact = Artifact::from_bytes(artifact);
    let digest: Digest = artifact.digest().clone();
    let content = if by_digest {
        SignedContent::Digest(&digest)
    } else {
        SignedContent::Artifact(&artifact)
    };
    verifier
        .verify_bundle(&bundle, content, &policy)
        .map_err(|e| e.to_string())
}

#[test]
fn bundle_verify_cases() {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 70, "{} cases", names.len());
    let mut disagreements = Vec::new();
    let mut report = String::new();
    for name in &names {
        let expect_pass = !name.ends_with("_fail");
        for by_digest in [false, true] {
            let outcome = run(&cases_dir().join(name), by_digest);
            let mode = if by_digest { "digest" } else { "path" };
            report.push_str(&format!(
                "{name} [{mode}]: {}\n",
                match &outcome {
                    Ok(_) => "verified".to_owned(),
                    Err(e) => format!("refused: {e}"),
                }
            ));
            let agrees = outcome.is_ok() == expect_pass;
            let xfail = XFAIL.iter().any(|(n, _)| n == name);
            if agrees == xfail {
                disagreements.push(format!(
                    "{name} [{mode}]: expected {}, got {}{}",
                    if expect_pass { "pass" } else { "failure" },
                    match &outcome {
                        Ok(_) => "pass".to_owned(),
                        Err(e) => format!("failure: {e}"),
                    },
                    if xfail { " (listed as xfail)" } else { "" }
                ));
            }
        }
    }
    eprintln!("{report}");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
