//! The bundle and trusted-root formats signet writes, checked by the peers
//! that must accept them: real public-good bundles re-serialized by
//! `signet-core` and the shipped trusted root re-serialized by
//! `signet-trust` verify offline in cosign 2.5, and (where installed) in
//! sigstore-go and sigstore-python.

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_core::bundle::Bundle;
use signet_trust::{ClientTrustConfig, TrustedRoot, public_good};

use crate::harness::require_env;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/sigstore-conformance/bundle-verify")
}

fn check(what: &str, mut c: Command) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} refused what signet wrote:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rewritten_public_good_bundles_verify_in_the_peers() {
    let env = require_env!();
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
    let sigstore_python = env.peers.join("venv/bin/sigstore");
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
        if sigstore_go.exists() {
            let mut c = Command::new(&sigstore_go);
            c.current_dir(d).args([
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
        } else {
            eprintln!(
                "skipped part: sigstore-go-verification is not installed in {}",
                env.peers.display()
            );
        }
        if sigstore_python.exists() {
            let mut c = Command::new(&sigstore_python);
            c.current_dir(d).env("HOME", env.peer_home.path()).args([
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
        } else {
            eprintln!(
                "skipped part: sigstore-python is not installed in {}",
                env.peers.display()
            );
        }
    }
}
