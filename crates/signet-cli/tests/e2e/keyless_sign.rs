//! Keyless and logged signing by signet against the mock Sigstore (an
//! implementation independent of signet), checked by the real peers:
//! cosign 2.5, sigstore-go and sigstore-python verify what signet signs.
//!
//! - `sign-blob --bundle` without a key: the v0.3 bundle verifies in all three.
//! - `sign IMAGE` without a key: the `.sig` layout verifies in cosign; the
//!   OCI 1.1 referrer bundle (fallback index on Distribution 2.8) is found by
//!   `oras discover` and cosign, and verifies in sigstore-go and sigstore-python.
//! - Key-based signatures go to the log too, and cosign verifies them without
//!   `--insecure-ignore-tlog`.
//! - A Gitea/Forgejo Actions job's ambient token, end to end.
//! - The public-good default, with no network, fails in one line naming the URL.
//! - The ephemeral private key is never written anywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_testing::{Claims, Workflow};

use crate::harness::{Context, Env, Run, signet_key_pair, tests, unique_repo};
use crate::sigstore_peers::Sigstore;

tests![
    keyless_blob_bundle_verifies_in_cosign_sigstore_go_and_sigstore_python,
    keyless_image_signature_verifies_in_cosign,
    keyless_image_referrer_bundle_is_found_and_verifies_in_the_peers,
    an_image_signed_only_as_a_referrer_bundle_verifies_in_signet,
    key_signatures_are_logged_and_cosign_verifies_them_without_ignoring_the_log,
    a_forgejo_actions_job_signs_with_its_ambient_token,
    the_public_good_default_without_network_fails_naming_the_url,
    the_ephemeral_private_key_never_touches_disk,
];

const EMAIL: &str = "signet-keyless@example.test";

fn env() -> &'static Env {
    match Env::get() {
        Ok(env) => env,
        Err(why) => panic!("the registry is missing beside the mock Sigstore: {why}"),
    }
}

/// The mock's services and trust, as signet's flags name them.
fn mock_flags(s: &Sigstore) -> Vec<String> {
    vec![
        "--yes".into(),
        "--signing-config".into(),
        s.file("signing_config.json").display().to_string(),
        "--trusted-root".into(),
        s.file("trusted_root.json").display().to_string(),
    ]
}

fn signet(s: &Sigstore, d: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut all: Vec<&str> = Vec::new();
    let flags = mock_flags(s);
    all.push(args[0]);
    all.extend(flags.iter().map(String::as_str));
    all.extend(&args[1..]);
    env().signet_with(d, &all, envs, None)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The checks every signet bundle passes: v0.3, the leaf only (never a
/// root), a log entry with its SET and an inclusion proof that always has
/// `logIndex` and `hashes`, and a timestamp.
fn check_bundle_shape(bundle: &serde_json::Value) {
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let material = &bundle["verificationMaterial"];
    assert!(material["certificate"]["rawBytes"].is_string(), "{bundle}");
    assert!(material["x509CertificateChain"].is_null());
    let entry = &material["tlogEntries"][0];
    assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert!(entry["inclusionProof"]["logIndex"].is_string(), "{entry}");
    assert!(entry["inclusionProof"]["hashes"].is_array(), "{entry}");
    assert!(material["timestampVerificationData"]["rfc3161Timestamps"][0].is_object());
}

fn keyless_blob_bundle_verifies_in_cosign_sigstore_go_and_sigstore_python(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"signed by signet, keyless\n").unwrap();
    let token = s.email_token(EMAIL);
    let run = signet(
        s,
        d,
        &[
            "sign-blob",
            "--identity-token",
            &token,
            "--bundle",
            "b.sigstore.json",
            "blob",
        ],
        &[],
    )
    .ok();
    assert!(
        run.stderr.contains("tlog entry created with index:"),
        "{}",
        run.stderr
    );
    check_bundle_shape(&read_json(&d.join("b.sigstore.json")));

    let issuer = s.issuer.issuer_url();
    s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            "b.sigstore.json",
            "--trusted-root",
            s.file("trusted_root.compat.json").to_str().unwrap(),
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            issuer,
            "blob",
        ],
        &[],
    )
    .ok()
    .stderr
    .contains("Verified OK")
    .then_some(())
    .expect("cosign says Verified OK");
    s.sigstore_go(
        d,
        &[
            "-expectedSAN",
            EMAIL,
            "-expectedIssuer",
            issuer,
            "-artifact",
            "blob",
            "b.sigstore.json",
        ],
    )
    .ok();
    s.sigstore_python(
        d,
        &[
            "verify",
            "identity",
            "--offline",
            "--bundle",
            "b.sigstore.json",
            "--cert-identity",
            EMAIL,
            "--cert-oidc-issuer",
            issuer,
            "blob",
        ],
    )
    .ok();
    // The same identity check fails for another identity, in every peer.
    let wrong = s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            "b.sigstore.json",
            "--trusted-root",
            s.file("trusted_root.compat.json").to_str().unwrap(),
            "--certificate-identity",
            "other@example.test",
            "--certificate-oidc-issuer",
            issuer,
            "blob",
        ],
        &[],
    );
    assert_ne!(wrong.code, 0);

    // cosign 2's service flags name the same services.
    let flags = env().signet_with(
        d,
        &[
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--timestamp-server-url",
            &format!("{}/api/v1/timestamp", s.url),
            "--trusted-root",
            s.file("trusted_root.json").to_str().unwrap(),
            "--identity-token",
            &token,
            "--bundle",
            "flags.sigstore.json",
            "blob",
        ],
        &[],
        None,
    );
    flags.ok();
    check_bundle_shape(&read_json(&d.join("flags.sigstore.json")));
}

fn keyless_image_signature_verifies_in_cosign(s: &Sigstore) {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = unique_repo("signet-keyless");
    let (image, digest) = env.push_image(&repo);
    let token = s.email_token(EMAIL);
    signet(
        s,
        d,
        &[
            "sign",
            "--allow-http-registry",
            "--identity-token",
            &token,
            &image,
        ],
        &[],
    )
    .ok();
    let manifest = env
        .signature_manifest(&repo, &digest)
        .expect("signature manifest");
    let annotations = &manifest["layers"][0]["annotations"];
    for name in [
        "dev.cosignproject.cosign/signature",
        "dev.sigstore.cosign/certificate",
        "dev.sigstore.cosign/chain",
        "dev.sigstore.cosign/bundle",
        "dev.sigstore.cosign/rfc3161timestamp",
    ] {
        assert!(annotations[name].is_string(), "{name} missing: {manifest}");
    }
    let verify = |identity: &str| {
        s.cosign(
            d,
            &[
                "verify",
                "--allow-http-registry",
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                s.issuer.issuer_url(),
                &image,
            ],
            &[],
        )
    };
    verify(EMAIL).ok();
    assert_ne!(verify("other@example.test").code, 0);
}

/// `GET` of a registry path, as bytes.
fn registry_get(env: &Env, path: &str, accept: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sf", "-H", &format!("Accept: {accept}")])
        .arg(format!("http://{}/v2/{path}", env.registry))
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {path}");
    out.stdout
}

fn keyless_image_referrer_bundle_is_found_and_verifies_in_the_peers(s: &Sigstore) {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = unique_repo("signet-referrer");
    let (image, digest) = env.push_image(&repo);
    let token = s.email_token(EMAIL);
    let run = signet(
        s,
        d,
        &[
            "sign",
            "--allow-http-registry",
            "--registry-referrers-mode=both",
            "--identity-token",
            &token,
            &image,
        ],
        &[],
    )
    .ok();
    assert!(run.stderr.contains("OCI 1.1 referrer"), "{}", run.stderr);
    // Both layouts: the .sig tag, and the sha256-<hex> fallback index.
    assert!(env.signature_manifest(&repo, &digest).is_some());
    let hex = digest.trim_start_matches("sha256:");
    let index: serde_json::Value = serde_json::from_slice(&registry_get(
        env,
        &format!("{repo}/manifests/sha256-{hex}"),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let referrer: serde_json::Value = serde_json::from_slice(&registry_get(
        env,
        &format!("{repo}/manifests/{}", entry["digest"].as_str().unwrap()),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let bundle_bytes = registry_get(
        env,
        &format!(
            "{repo}/blobs/{}",
            referrer["layers"][0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    std::fs::write(d.join("image.sigstore.json"), &bundle_bytes).unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&bundle_bytes).unwrap();
    check_bundle_shape(&bundle);
    assert!(bundle["dsseEnvelope"]["payload"].is_string());

    // oras reads the fallback index.
    let oras = Command::new(s.peers.join("bin/oras"))
        .args(["discover", "--plain-http", &image])
        .env("HOME", d)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&oras.stdout);
    assert!(
        oras.status.success() && listing.contains("application/vnd.dev.sigstore.bundle.v0.3+json"),
        "oras discover: {listing} {}",
        String::from_utf8_lossy(&oras.stderr)
    );
    // cosign 2.5 finds the bundle through the referrers (it reads new-format
    // bundles of images as attestations) and verifies its statement.
    s.cosign(
        d,
        &[
            "verify-attestation",
            "--new-bundle-format",
            "--allow-http-registry",
            "--type",
            "https://sigstore.dev/cosign/sign/v1",
            "--trusted-root",
            s.file("trusted_root.compat.json").to_str().unwrap(),
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            s.issuer.issuer_url(),
            &image,
        ],
        &[],
    )
    .ok();
    // sigstore-go and sigstore-python verify the bundle for the image digest.
    s.sigstore_go(
        d,
        &[
            "-expectedSAN",
            EMAIL,
            "-expectedIssuer",
            s.issuer.issuer_url(),
            "-artifact-digest",
            hex,
            "-artifact-digest-algorithm",
            "sha256",
            "image.sigstore.json",
        ],
    )
    .ok();
    s.sigstore_python(
        d,
        &[
            "verify",
            "identity",
            "--offline",
            "--bundle",
            "image.sigstore.json",
            "--cert-identity",
            EMAIL,
            "--cert-oidc-issuer",
            s.issuer.issuer_url(),
            &format!("sha256:{hex}"),
        ],
    )
    .ok();
}

/// `signet verify` reads Sigstore bundle referrers (bundles first, then the
/// `.sig` layout): an image signed only in the OCI 1.1 layout verifies, and
/// a wrong identity is refused naming the referrer it examined.
fn an_image_signed_only_as_a_referrer_bundle_verifies_in_signet(s: &Sigstore) {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = unique_repo("signet-referrer-only");
    let (image, digest) = env.push_image(&repo);
    let token = s.email_token(EMAIL);
    signet(
        s,
        d,
        &[
            "sign",
            "--allow-http-registry",
            "--registry-referrers-mode=oci-1-1",
            "--identity-token",
            &token,
            &image,
        ],
        &[],
    )
    .ok();
    assert!(env.signature_manifest(&repo, &digest).is_none());
    let root = s.file("trusted_root.json");
    let verify = |identity: &str| {
        env.signet_with(
            d,
            &[
                "verify",
                "--allow-http-registry",
                "--trusted-root",
                root.to_str().unwrap(),
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                s.issuer.issuer_url(),
                "--new-bundle-format",
                &image,
            ],
            &[],
            None,
        )
    };
    // What verified is the bundle's statement (printed as cosign 3 does).
    let ok = verify(EMAIL).ok();
    assert!(
        ok.stdout.contains("https://sigstore.dev/cosign/sign/v1")
            && ok.stdout.contains(digest.trim_start_matches("sha256:")),
        "{}",
        ok.stdout
    );
    // The verification record says who signed and where it was logged.
    let record = env.signet_with(
        d,
        &[
            "verify",
            "--allow-http-registry",
            "--trusted-root",
            root.to_str().unwrap(),
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            s.issuer.issuer_url(),
            "--output",
            "record",
            &image,
        ],
        &[],
        None,
    );
    let record: serde_json::Value = serde_json::from_str(&record.ok().stdout).unwrap();
    let signature = &record["images"][0]["signatures"][0];
    assert_eq!(record["images"][0]["digest"], digest.as_str());
    assert!(
        signature["origin"]
            .as_str()
            .unwrap()
            .contains("bundle referrer"),
        "{signature}"
    );
    assert_eq!(signature["signer"]["type"], "certificate");
    assert_eq!(signature["signer"]["subject"], EMAIL);
    assert_eq!(signature["signer"]["issuer"], s.issuer.issuer_url());
    let entry = &signature["tlogEntries"][0];
    assert!(
        entry["logIndex"].is_u64() && entry["integratedTime"].is_i64(),
        "{signature}"
    );
    let refused = verify("someone-else@example.test");
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("bundle referrer")
            && refused.stderr.contains("someone-else@example.test"),
        "{}",
        refused.stderr
    );
}

fn key_signatures_are_logged_and_cosign_verifies_them_without_ignoring_the_log(s: &Sigstore) {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("signet-key-tlog");
    let (image, digest) = env.push_image(&repo);
    let rekor = ["--rekor-url", &s.url];
    let root = s.file("trusted_root.json");
    let trust = ["--trusted-root", root.to_str().unwrap()];
    let sign = env
        .signet(
            d,
            &[
                "sign",
                "--key",
                "k.key",
                "--allow-http-registry",
                rekor[0],
                rekor[1],
                trust[0],
                trust[1],
                &image,
            ],
        )
        .ok();
    assert!(
        sign.stderr.contains("tlog entry created with index:"),
        "{}",
        sign.stderr
    );
    let manifest = env.signature_manifest(&repo, &digest).unwrap();
    assert!(manifest["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"].is_string());
    // No --insecure-ignore-tlog: cosign checks the SET against the mock's key.
    s.cosign(
        d,
        &["verify", "--allow-http-registry", "--key", "k.pub", &image],
        &[],
    )
    .ok();

    std::fs::write(d.join("blob"), b"logged with a key\n").unwrap();
    env.signet(
        d,
        &[
            "sign-blob",
            "--key",
            "k.key",
            rekor[0],
            rekor[1],
            trust[0],
            trust[1],
            "--bundle",
            "k.sigstore.json",
            "blob",
        ],
    )
    .ok();
    let bundle = read_json(&d.join("k.sigstore.json"));
    assert!(bundle["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"].is_object());
    s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--key",
            "k.pub",
            "--bundle",
            "k.sigstore.json",
            "--trusted-root",
            s.file("trusted_root.compat.json").to_str().unwrap(),
            "blob",
        ],
        &[],
    )
    .ok();
}

fn a_forgejo_actions_job_signs_with_its_ambient_token(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"built in a Forgejo Actions job\n").unwrap();
    // The runner's environment: no token on the command line, only the
    // Actions token request the runner offers (Forgejo's claim names).
    let job = s
        .actions_issuer
        .actions_job(Claims::forgejo_actions(&Workflow::default()))
        .unwrap();
    let before = s.actions_issuer.actions_token_requests();
    signet(
        s,
        d,
        &["sign-blob", "--bundle", "ci.sigstore.json", "blob"],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &job.request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &job.request_token),
        ],
    )
    .ok();
    assert_eq!(s.actions_issuer.actions_token_requests(), before + 1);
    // The workflow identity Fulcio gives a CI job: <instance>/<workflow ref>.
    s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            "ci.sigstore.json",
            "--trusted-root",
            s.file("trusted_root.compat.json").to_str().unwrap(),
            "--certificate-identity-regexp",
            &format!("^{}/.*workflows/.*", s.actions_issuer.base_url()),
            "--certificate-oidc-issuer",
            s.actions_issuer.issuer_url(),
            "blob",
        ],
        &[],
    )
    .ok();
    // A wrong request token gets the endpoint's refusal, named.
    signet(
        s,
        d,
        &["sign-blob", "--bundle", "x.sigstore.json", "blob"],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &job.request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong"),
        ],
    )
    .fails_with(1, "Actions token endpoint");
}

fn the_public_good_default_without_network_fails_naming_the_url(s: &Sigstore) {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"x").unwrap();
    let token = s.email_token(EMAIL);
    // The harness points every non-loopback request at a closed port.
    let run = env
        .signet_with(
            d,
            &["sign-blob", "--yes", "--identity-token", &token, "blob"],
            &[],
            None,
        )
        .fails_with(1, "fulcio https://fulcio.sigstore.dev/api/v2/signingCert: ");
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    // Without --yes and without a terminal, nothing is sent at all.
    env.signet_with(
        d,
        &["sign-blob", "--identity-token", &token, "blob"],
        &[],
        None,
    )
    .fails_with(1, "pass --yes to confirm");
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn the_ephemeral_private_key_never_touches_disk(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(d.join("blob"), b"no key on disk\n").unwrap();
    let token = s.email_token(EMAIL);
    signet(
        s,
        d,
        &[
            "sign-blob",
            "--identity-token",
            &token,
            "--bundle",
            "b.sigstore.json",
            "blob",
        ],
        &[("TMPDIR", tmp.path().to_str().unwrap())],
    )
    .ok();
    // Nothing in the temp dir; in the working dir only the blob and the
    // bundle; nowhere (temp, working dir, HOME) a private key.
    assert!(
        files_under(tmp.path()).is_empty(),
        "{:?}",
        files_under(tmp.path())
    );
    let mut written: Vec<String> = files_under(d)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["b.sigstore.json", "blob"]);
    let home = env().home.path().to_owned();
    for file in files_under(&home).into_iter().chain(files_under(d)) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a private key",
            file.display()
        );
    }
}
