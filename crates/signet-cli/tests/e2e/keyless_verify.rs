//! signet verifies what real Sigstore clients made against the mock
//! Sigstore: keyless blob bundles from cosign 2.5 and sigstore-python, cosign's
//! keyless image signatures and its key-based signatures uploaded to the
//! log, offline, with the mock's trust given as `--trusted-root` or as
//! cosign's `SIGSTORE_*` variables; and prints what cosign prints.

use std::path::Path;

use crate::harness::{AIR_GAPPED, Context, Env, Run, signet_key_pair, tests, unique_repo};
use crate::sigstore_peers::Sigstore;

tests![
    keyless_blob_bundles_from_cosign_and_sigstore_python_verify,
    keyless_and_logged_key_images_verify_and_print_as_cosign_does,
];

const EMAIL: &str = "keyless@example.test";
const HTTP: &str = "--allow-http-registry";

fn env() -> &'static Env {
    match Env::get() {
        Ok(env) => env,
        Err(why) => panic!("the registry is missing beside the mock Sigstore: {why}"),
    }
}

/// `signet ARGS` with the mock's trust as cosign's `SIGSTORE_*` variables.
fn signet_trusting_mock(s: &Sigstore, d: &Path, args: &[&str]) -> Run {
    let trust: Vec<(&str, String)> = s
        .cosign_trust_env()
        .into_iter()
        .map(|(k, v)| (k, v.display().to_string()))
        .collect();
    let envs: Vec<(&str, &str)> = trust.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env().signet_with(d, args, &envs, None)
}

fn keyless_blob_bundles_from_cosign_and_sigstore_python_verify(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"keyless artefact\n").unwrap();
    std::fs::write(d.join("other"), b"another artefact\n").unwrap();
    let token = s.email_token(EMAIL);
    let tsa = format!("{}/api/v1/timestamp", s.url);
    let sign = |extra: &[&str], bundle: &str| {
        let mut args = vec![
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--identity-token",
            &token,
            "--bundle",
            bundle,
        ];
        args.extend_from_slice(extra);
        args.push("blob");
        s.cosign(d, &args, &[]).ok();
    };
    sign(
        &["--new-bundle-format", "--timestamp-server-url", &tsa],
        "c.sigstore.json",
    );
    // cosign 2.5's older bundle: signature, certificate, Rekor promise.
    sign(&[], "c.legacy.json");
    s.sigstore_python(
        d,
        &[
            "sign",
            "--identity-token",
            &token,
            "--bundle",
            "p.sigstore.json",
            "blob",
        ],
    )
    .ok();
    let issuer = s.issuer.issuer_url().to_owned();
    let root = s.file("trusted_root.json").display().to_string();
    let verify = |bundle: &str, extra: &[&str]| {
        let mut args = vec!["verify-blob", "--bundle", bundle, "--trusted-root", &root];
        args.extend_from_slice(extra);
        args.push("blob");
        env().signet(d, &args)
    };
    let identity = [
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        &issuer,
    ];
    for bundle in ["c.sigstore.json", "c.legacy.json", "p.sigstore.json"] {
        assert!(
            verify(bundle, &identity)
                .ok()
                .stderr
                .contains("Verified OK")
        );
        // The same trust as cosign's SIGSTORE_* variables.
        let mut args = vec!["verify-blob", "--bundle", bundle];
        args.extend_from_slice(&identity);
        args.push("blob");
        signet_trusting_mock(s, d, &args).ok();
    }
    // The RFC 3161 timestamps cosign and sigstore-python asked the TSA for.
    for bundle in ["c.sigstore.json", "p.sigstore.json"] {
        let mut extra = identity.to_vec();
        extra.push("--use-signed-timestamps");
        verify(bundle, &extra).ok();
    }
    verify(
        "c.legacy.json",
        &[&identity[..], &["--use-signed-timestamps"]].concat(),
    )
    .fails_with(
        1,
        "signed timestamp: 0 of the 1 required RFC 3161 timestamps",
    );

    // Wrong identity and wrong issuer, exact and regexp: each says which.
    let regexp_issuer = format!("^{issuer}$");
    for (flags, message) in [
        (
            vec![
                "--certificate-identity",
                "other@example.test",
                "--certificate-oidc-issuer",
                &issuer,
            ],
            format!(
                "certificate identity \"{EMAIL}\" does not match --certificate-identity \"other@example.test\""
            ),
        ),
        (
            vec![
                "--certificate-identity-regexp",
                "^admin@",
                "--certificate-oidc-issuer-regexp",
                &regexp_issuer,
            ],
            format!(
                "certificate identity \"{EMAIL}\" does not match --certificate-identity-regexp \"^admin@\""
            ),
        ),
        (
            vec![
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                "https://accounts.example.test",
            ],
            format!(
                "certificate issuer \"{issuer}\" does not match --certificate-oidc-issuer \"https://accounts.example.test\""
            ),
        ),
        (
            vec![
                "--certificate-identity-regexp",
                "@example\\.test$",
                "--certificate-oidc-issuer-regexp",
                "^https://token",
            ],
            format!(
                "certificate issuer \"{issuer}\" does not match --certificate-oidc-issuer-regexp \"^https://token\""
            ),
        ),
    ] {
        verify("c.sigstore.json", &flags).fails_with(1, &message);
    }
    // Another artefact.
    env()
        .signet(
            d,
            &[
                &[
                    "verify-blob",
                    "--bundle",
                    "c.sigstore.json",
                    "--trusted-root",
                    &root,
                ][..],
                &identity,
                &["other"],
            ]
            .concat(),
        )
        .fails_with(1, "artifact digest: the signature covers");
    // The shipped public-good root does not trust the mock: its log entry
    // is set aside, so nothing vouches for the signature.
    env()
        .signet(
            d,
            &[
                &["verify-blob", "--bundle", "c.sigstore.json"][..],
                &identity,
                &["blob"],
            ]
            .concat(),
        )
        .fails_with(1, "transparency log: 0 of the 1 required");
}

fn keyless_and_logged_key_images_verify_and_print_as_cosign_does(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let issuer = s.issuer.issuer_url().to_owned();

    // Keyless, legacy layout: certificate, chain and Rekor bundle annotations.
    let (image, _) = env().push_image(&unique_repo("keyless-verify"));
    s.cosign(
        d,
        &[
            "sign",
            "--yes",
            HTTP,
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--identity-token",
            &s.email_token(EMAIL),
            &image,
        ],
        &[],
    )
    .ok();
    let identity = [
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        &issuer,
    ];
    let args = [&["verify", HTTP][..], &identity, &[&image]].concat();
    let ours = signet_trusting_mock(s, d, &args).ok();
    let theirs = s.cosign(d, &args, &[]).ok();
    assert_eq!(ours.stdout, theirs.stdout, "stdout differs from cosign's");
    assert!(
        ours.stderr.contains(
            "  - The code-signing certificate was verified using trusted certificate authority certificates"
        ),
        "{}",
        ours.stderr
    );
    let printed: serde_json::Value = serde_json::from_str(ours.stdout.trim()).unwrap();
    assert_eq!(printed[0]["optional"]["Subject"], EMAIL);
    assert!(printed[0]["optional"]["Bundle"]["Payload"]["logIndex"].is_number());
    let wrong = [
        &[
            "verify",
            HTTP,
            "--certificate-identity",
            "other@example.test",
            "--certificate-oidc-issuer",
            &issuer,
        ][..],
        &[&image],
    ]
    .concat();
    signet_trusting_mock(s, d, &wrong).fails_with(
        12,
        &format!("certificate identity \"{EMAIL}\" does not match --certificate-identity \"other@example.test\""),
    );

    // Key-based and uploaded to the log: verifies offline against the log's
    // key, without --insecure-ignore-tlog, and prints cosign's Bundle.
    signet_key_pair(env(), d, "k");
    let (logged, _) = env().push_image(&unique_repo("logged-key"));
    s.cosign(
        d,
        &[
            "sign",
            "--yes",
            HTTP,
            "--key",
            "k.key",
            "--rekor-url",
            &s.url,
            &logged,
        ],
        &[("COSIGN_PASSWORD", crate::harness::PASSWORD.to_owned())],
    )
    .ok();
    let args = ["verify", HTTP, "--key", "k.pub", logged.as_str()];
    let ours = signet_trusting_mock(s, d, &args).ok();
    let theirs = s.cosign(d, &args, &[]).ok();
    assert_eq!(ours.stdout, theirs.stdout, "stdout differs from cosign's");
    assert!(
        ours.stdout.contains(r#""Bundle":{"SignedEntryTimestamp":"#),
        "{}",
        ours.stdout
    );
    assert!(ours.stderr.contains("verified offline"), "{}", ours.stderr);
    // A certificate identity asked of a key's signature: no certificate (13).
    signet_trusting_mock(
        s,
        d,
        &[&["verify", HTTP][..], &identity, &[&logged]].concat(),
    )
    .fails_with(13, "signing certificate");
    // The same signature with trust that names another log: fails closed.
    env()
        .signet(d, &["verify", HTTP, "--key", "k.pub", &logged])
        .fails_with(12, "transparency log: 0 of the 1 required");

    // Never logged: refused unless told, by name.
    let (unlogged, _) = env().push_image(&unique_repo("unlogged-key"));
    env()
        .signet(
            d,
            &[
                "sign",
                HTTP,
                "--key",
                "k.key",
                "--tlog-upload=false",
                &unlogged,
            ],
        )
        .ok();
    env()
        .signet(d, &["verify", HTTP, "--key", "k.pub", &unlogged])
        .fails_with(12, "the signature has no transparency-log entry");
    env()
        .signet(
            d,
            &["verify", HTTP, AIR_GAPPED, "--key", "k.pub", &unlogged],
        )
        .ok();
}
