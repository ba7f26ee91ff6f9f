//! signet itself against `signet server` (a process on 127.0.0.1), keyless,
//! with nothing but the trust files the server serves:
//!
//! - an image signed with the CA and the Rekor v1 API (cosign 2's flags)
//!   and a blob signed through the served signing config (Rekor v2 and the
//!   TSA) verify in signet by identity; cosign 2.5 and sigstore-python
//!   verify them too; a wrong identity, another issuer or a changed blob is
//!   refused.
//! - The runbook's pipeline: a job environment shaped like Gitea Actions
//!   (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN` served by the test issuer,
//!   Gitea-shaped claims) runs `signet sign --yes IMAGE`; `signet verify
//!   --certificate-oidc-issuer ISS --certificate-identity-regexp
//!   'https://<gitea>/golemtrust/.*'` and cosign 2.5 accept the image.

use std::path::PathBuf;

use signet_testing::{Claims, IssuerOptions, OidcIssuer, Workflow};

use crate::harness::{Env, tests, unique_repo};
use crate::server_process::{ServerSetup, peer, run};

tests![
    signet_signs_and_verifies_images_and_blobs_against_the_server,
    a_gitea_actions_job_signs_with_signet_and_cosign_verifies,
];

const EMAIL: &str = "release@example.test";
const HTTP: &str = "--allow-http-registry";

fn read_json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn signet_signs_and_verifies_images_and_blobs_against_the_server(env: &Env) {
    let issuer = OidcIssuer::start().unwrap();
    let s = ServerSetup::new(&[issuer.issuer_url().to_owned()]);
    let d = s.dir();
    let url = s.server.url.clone();
    let iss = issuer.issuer_url();
    let token = issuer.token(&Claims::email(EMAIL)).unwrap();
    let root = s.trusted_root();
    let (image, _) = env.push_image(&unique_repo("server-signet"));

    // An image: the CA and the Rekor v1 API named as cosign 2 names them;
    // every answer checked against the served trusted root.
    let before = s.tree_sizes();
    env.signet(
        d,
        &[
            "sign",
            "--yes",
            HTTP,
            "--fulcio-url",
            &url,
            "--rekor-url",
            &url,
            "--trusted-root",
            &root,
            "--identity-token",
            &token,
            &image,
        ],
    )
    .ok();
    assert_eq!(
        s.tree_sizes(),
        (before.0 + 1, before.1),
        "one Rekor v1 entry"
    );
    let verify = |identity: &str, issuer: &str| {
        env.signet(
            d,
            &[
                "verify",
                HTTP,
                "--trusted-root",
                &root,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                issuer,
                &image,
            ],
        )
    };
    let verified = verify(EMAIL, iss).ok();
    let printed: serde_json::Value = serde_json::from_str(verified.stdout.trim()).unwrap();
    assert_eq!(printed[0]["optional"]["Subject"], EMAIL);
    assert!(
        verified.stderr.contains("verified offline"),
        "{}",
        verified.stderr
    );
    verify("someone@example.test", iss).fails_with(12, "someone@example.test");
    verify(EMAIL, "https://other.example.test").fails_with(12, "https://other.example.test");
    // Without the server's trusted root (the public-good one by default)
    // nothing verifies: the CA is unknown.
    env.signet(
        d,
        &[
            "verify",
            HTTP,
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            iss,
            &image,
        ],
    )
    .fails_with(12, "certificate");
    // cosign 2.5 accepts signet's signature with the served keys.
    s.cosign(
        &env.peers,
        &[
            "verify",
            HTTP,
            "--rekor-url",
            &url,
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            iss,
            &image,
        ],
    )
    .ok();

    // An image through the served signing config (Rekor v2 and the TSA):
    // its evidence fits only a Sigstore bundle, attached as an OCI 1.1
    // referrer, which verify reads first.
    // Without a layout flag signet chooses the bundle layout and says so;
    // an explicit legacy layout is refused before anything is logged.
    let (referred, referred_digest) = env.push_image(&unique_repo("server-signet-v2"));
    let before = s.tree_sizes();
    let sign_v2 = |mode: Option<&str>| {
        let mut args = vec![
            "sign",
            "--yes",
            HTTP,
            "--signing-config",
            "signing_config.json",
            "--trusted-root",
            &root,
            "--identity-token",
            &token,
        ];
        if let Some(mode) = mode {
            args.extend(["--registry-referrers-mode", mode]);
        }
        args.push(&referred);
        env.signet(d, &args)
    };
    sign_v2(Some("legacy")).fails_with(
        1,
        "is a Rekor v2 log, whose entries the legacy .sig layout cannot carry",
    );
    assert_eq!(
        s.tree_sizes(),
        before,
        "nothing logged for a refused layout"
    );
    let signed = sign_v2(None).ok();
    assert!(
        signed
            .stderr
            .contains("Storing the signature as a Sigstore bundle"),
        "{}",
        signed.stderr
    );
    assert_eq!(
        s.tree_sizes(),
        (before.0, before.1 + 1),
        "one Rekor v2 entry"
    );
    let verified = env
        .signet(
            d,
            &[
                "verify",
                HTTP,
                "--trusted-root",
                &root,
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                iss,
                &referred,
            ],
        )
        .ok();
    // What verified is the bundle's statement over the image digest.
    assert!(
        verified
            .stdout
            .contains("https://sigstore.dev/cosign/sign/v1")
            && verified
                .stdout
                .contains(referred_digest.trim_start_matches("sha256:")),
        "{}",
        verified.stdout
    );

    // A blob through the served signing config: Rekor v2 (the config's
    // first choice) and a timestamp from the server's TSA.
    std::fs::write(d.join("blob"), b"artefact signed by signet\n").unwrap();
    std::fs::write(d.join("other"), b"another artefact\n").unwrap();
    let before = s.tree_sizes();
    env.signet(
        d,
        &[
            "sign-blob",
            "--yes",
            "--signing-config",
            "signing_config.json",
            "--trusted-root",
            &root,
            "--identity-token",
            &token,
            "--bundle",
            "blob.sigstore.json",
            "blob",
        ],
    )
    .ok();
    assert_eq!(
        s.tree_sizes(),
        (before.0, before.1 + 1),
        "one Rekor v2 entry"
    );
    let bundle = read_json(d.join("blob.sigstore.json"));
    let material = &bundle["verificationMaterial"];
    assert_eq!(
        material["tlogEntries"][0]["kindVersion"]["version"], "0.0.2",
        "{material}"
    );
    assert!(
        material["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
            .is_string(),
        "{material}"
    );
    let verify_blob = |file: &str, identity: &str| {
        env.signet(
            d,
            &[
                "verify-blob",
                "--bundle",
                "blob.sigstore.json",
                "--trusted-root",
                &root,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                iss,
                file,
            ],
        )
    };
    let ok = verify_blob("blob", EMAIL).ok();
    assert!(ok.stderr.contains("Verified OK"), "{}", ok.stderr);
    verify_blob("blob", "someone@example.test").fails_with(1, "someone@example.test");
    let changed = verify_blob("other", EMAIL);
    assert_ne!(
        changed.code, 0,
        "a changed blob verified: {}",
        changed.stderr
    );
    // sigstore-python verifies signet's Rekor v2 bundle with the served
    // client trust config.
    let mut python = peer(&env.peers.join("bin/sigstore"), d, &d.join("home"));
    python.args([
        "--trust-config",
        "client_trust_config.json",
        "verify",
        "identity",
        "--bundle",
        "blob.sigstore.json",
        "--cert-identity",
        EMAIL,
        "--cert-oidc-issuer",
        iss,
        "blob",
    ]);
    run(python).ok();
}

fn a_gitea_actions_job_signs_with_signet_and_cosign_verifies(env: &Env) {
    // A Gitea instance's issuer, `<instance>/api/actions`, trusted by the
    // server as gitea-actions.
    let gitea = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
    let iss = gitea.issuer_url().to_owned();
    let instance = gitea.base_url().to_owned();
    let s = ServerSetup::new(&[format!("{iss}=gitea-actions")]);
    let d = s.dir();
    let url = s.server.url.clone();
    let root = s.trusted_root();
    let (image, _) = env.push_image(&unique_repo("golemtrust-app"));

    // The job: no token anywhere, only what the runner offers for asking one.
    let workflow = Workflow::default();
    let job = gitea.actions_job(Claims::gitea_actions(&workflow)).unwrap();
    let job_env: Vec<(&str, String)> = job.env().into_iter().collect();
    let job_env: Vec<(&str, &str)> = job_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = gitea.actions_token_requests();
    env.signet_with(
        d,
        &[
            "sign",
            "--yes",
            HTTP,
            "--fulcio-url",
            &url,
            "--rekor-url",
            &url,
            "--trusted-root",
            &root,
            &image,
        ],
        &job_env,
        None,
    )
    .ok();
    assert_eq!(
        gitea.actions_token_requests(),
        before + 1,
        "the ambient token was asked for once"
    );

    // The release gate: any workflow of the golemtrust organisation.
    let identity_regexp = format!("^{instance}/golemtrust/.*");
    let verify = |regexp: &str, issuer: &str| {
        env.signet(
            d,
            &[
                "verify",
                HTTP,
                "--trusted-root",
                &root,
                "--certificate-oidc-issuer",
                issuer,
                "--certificate-identity-regexp",
                regexp,
                &image,
            ],
        )
    };
    let verified = verify(&identity_regexp, &iss).ok();
    let printed: serde_json::Value = serde_json::from_str(verified.stdout.trim()).unwrap();
    // The workflow identity, as Fulcio names a GitHub workflow.
    let expected_identity = format!(
        "{instance}/golemtrust/app/.gitea/workflows/release.yml@{}",
        workflow.git_ref
    );
    assert_eq!(
        printed[0]["optional"]["Subject"], expected_identity,
        "{}",
        verified.stdout
    );
    verify(&format!("^{instance}/someone-else/.*"), &iss).fails_with(12, "someone-else");
    verify(
        &identity_regexp,
        "https://token.actions.githubusercontent.com",
    )
    .fails_with(12, "token.actions.githubusercontent.com");

    // cosign 2.5 verifies the same image with the served trust material.
    let ok = s
        .cosign(
            &env.peers,
            &[
                "verify",
                HTTP,
                "--rekor-url",
                &url,
                "--certificate-oidc-issuer",
                &iss,
                "--certificate-identity-regexp",
                &identity_regexp,
                &image,
            ],
        )
        .ok();
    assert!(
        ok.stderr.contains("The cosign claims were validated"),
        "{}",
        ok.stderr
    );
    let printed: serde_json::Value = serde_json::from_str(ok.stdout.trim()).unwrap();
    assert_eq!(printed[0]["optional"]["Subject"], expected_identity);
    s.cosign(
        &env.peers,
        &[
            "verify",
            HTTP,
            "--rekor-url",
            &url,
            "--certificate-oidc-issuer",
            &iss,
            "--certificate-identity-regexp",
            &format!("^{instance}/someone-else/.*"),
            &image,
        ],
    )
    .fails_with(12, "none of the expected identities matched");
}
