//! The bundle and trusted-root formats signet writes, checked by the peers
//! that must accept them: real public-good bundles re-serialized by
//! `signet-core` and the shipped trusted root re-serialized by
//! `signet-trust` verify offline in cosign 2.5, sigstore-go 0.7 and
//! sigstore-python 4.5 (all installed by `scripts/setup-peers.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_core::bundle::Bundle;
use signet_trust::{ClientTrustConfig, TrustedRoot, public_good};

use crate::harness::{Peers, tests};

tests![
    rewritten_public_good_bundles_verify_in_the_peers,
    rewritten_rekor_v2_and_dsse_bundles_verify_in_sigstore_python,
];

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/sigstore-conformance/bundle-verify")
}

fn check(what: &str, mut c: Command) {
    // Offline by construction: any attempt to leave loopback hits a dead proxy.
    c.env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost");
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} refused what signet wrote:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rewritten_public_good_bundles_verify_in_the_peers(env: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = TrustedRoot::parse(public_good::TRUSTED_ROOT_JSON).unwrap();
    std::fs::write(d.join("trusted_root.json"), root.to_json()).unwrap();
    let client = ClientTrustConfig {
        trusted_root: root,
        signing_config: public_good::signing_config().unwrap(),
    };
    std::fs::write(d.join("trust_config.json"), client.to_json()).unwrap();
    let artifact = conformance().join("a.txt");
    let artifact = artifact.to_str().unwrap();
    let sigstore_go = env.peers.join("bin/sigstore-go-verification");
    let sigstore_python = env.peers.join("bin/sigstore");
    for case in [
        "happy-path-v0.1",
        "happy-path-v0.2",
        "happy-path-v0.3",
        "happy-path-v0.3-new-mediaType",
    ] {
        let bytes = std::fs::read(conformance().join(case).join("bundle.sigstore.json")).unwrap();
        let bundle = d.join(format!("{case}.json"));
        std::fs::write(&bundle, Bundle::parse(&bytes).unwrap().to_json()).unwrap();
        let bundle = bundle.to_str().unwrap();
        env.cosign(
            d,
            &[
                "verify-blob",
                "--new-bundle-format",
                "--bundle",
                bundle,
                "--trusted-root",
                "trusted_root.json",
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                ISSUER,
                artifact,
            ],
        )
        .ok();
        let mut c = Command::new(&sigstore_go);
        c.current_dir(d).env("HOME", env.home.path()).args([
            "-trustedrootJSONpath",
            "trusted_root.json",
            "-expectedSAN",
            IDENTITY,
            "-expectedIssuer",
            ISSUER,
            "-artifact",
            artifact,
            bundle,
        ]);
        check("sigstore-go", c);
        let mut c = Command::new(&sigstore_python);
        c.current_dir(d).env("HOME", env.home.path()).args([
            "--trust-config",
            "trust_config.json",
            "verify",
            "identity",
            "--offline",
            "--bundle",
            bundle,
            "--cert-identity",
            IDENTITY,
            "--cert-oidc-issuer",
            ISSUER,
            artifact,
        ]);
        check("sigstore-python", c);
    }
}

/// Rekor v2 (hashedrekord 0.0.2 with a C2SP checkpoint and a timestamp) and
/// DSSE bundles, re-serialized by signet, verify in sigstore-python under a
/// client trust config signet wrote from the case's own trusted root; a
/// tampered artifact is still refused.
fn rewritten_rekor_v2_and_dsse_bundles_verify_in_sigstore_python(env: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let python = env.peers.join("bin/sigstore");
    std::fs::write(d.join("tampered.txt"), b"not the signed artifact\n").unwrap();
    for case in [
        "rekor2-happy-path",
        "rekor2-dsse-happy-path",
        "happy-path-intoto-in-dsse-v3",
    ] {
        let case_dir = conformance().join(case);
        let root = match std::fs::read(case_dir.join("trusted_root.json")) {
            Ok(bytes) => TrustedRoot::parse(&bytes).unwrap(),
            Err(_) => public_good::trusted_root().unwrap(),
        };
        let config = ClientTrustConfig {
            trusted_root: root,
            signing_config: public_good::signing_config().unwrap(),
        };
        let trust = d.join(format!("{case}.trust.json"));
        std::fs::write(&trust, config.to_json()).unwrap();
        let bytes = std::fs::read(case_dir.join("bundle.sigstore.json")).unwrap();
        let bundle = d.join(format!("{case}.json"));
        std::fs::write(&bundle, Bundle::parse(&bytes).unwrap().to_json()).unwrap();
        let verify = |artifact: &Path| {
            let mut c = Command::new(&python);
            c.current_dir(d)
                .env("HOME", env.home.path())
                .env("HTTPS_PROXY", "http://127.0.0.1:9")
                .env("HTTP_PROXY", "http://127.0.0.1:9")
                .arg("--trust-config")
                .arg(&trust)
                .args(["verify", "identity", "--offline", "--bundle"])
                .arg(&bundle)
                .args(["--cert-identity", IDENTITY, "--cert-oidc-issuer", ISSUER])
                .arg(artifact);
            c
        };
        let artifact = conformance().join("a.txt");
        check(&format!("sigstore-python ({case})"), verify(&artifact));
        let out = verify(&d.join("tampered.txt")).output().unwrap();
        assert!(
            !out.status.success(),
            "{case}: sigstore-python accepted a tampered artifact"
        );
    }
}
