//! Real clients sign and verify against `signet server` (a process on
//! 127.0.0.1) through its transparency log, with identities from the test
//! OIDC issuer:
//!
//! - cosign 2.5 signs an image, a blob and two attestations (dsse and
//!   intoto entries) keyless, uploading to the Rekor v1 API, and verifies
//!   them with the served trust: the SCT against the CT key, the SET against
//!   the log key, and (new bundle format, served trusted root) the inclusion
//!   proof up to a signed checkpoint; a foreign log key, a changed proof
//!   hash or a changed SET fails. sigstore-go 0.7 verifies the blob bundle.
//! - sigstore-python signs a blob with `--trust-config` pointing at the
//!   served client trust config, which takes it to the Rekor v2 API and the
//!   TSA, and verifies it; it verifies cosign's bundle too.
//! - Every token defect is refused through the real signing path, with the
//!   server's reason in cosign's error, and nothing reaches the log.

use signet_testing::{Claims, Defect, IssuerOptions, OidcIssuer, TokenOptions, Workflow};

use crate::harness::{Env, Peers, tests, unique_repo};
use crate::server_process::{ServerSetup, cosign_trust_env, peer, run};

tests![
    cosign_signs_and_verifies_images_blobs_and_attestations_through_the_log,
    sigstore_python_signs_and_verifies_through_rekor_v2_and_the_tsa,
    every_token_defect_is_refused_through_cosign,
];

const EMAIL: &str = "release@example.test";

/// A server trusting `issuers`, with the blob the tests sign in its work
/// directory.
fn setup(issuers: &[String]) -> ServerSetup {
    let s = ServerSetup::new(issuers);
    std::fs::write(s.dir().join("blob"), b"artefact logged in signet server\n").unwrap();
    s
}

fn cosign_signs_and_verifies_images_blobs_and_attestations_through_the_log(env: &Env) {
    let issuer = OidcIssuer::start().unwrap();
    let s = setup(&[issuer.issuer_url().to_owned()]);
    let url = s.server.url.clone();
    let token = issuer.token(&Claims::email(EMAIL)).unwrap();
    let iss = issuer.issuer_url();
    let (image, _) = env.push_image(&unique_repo("server-log"));

    // An image, signed keyless and logged (hashedrekord).
    let signed = s
        .cosign(
            &env.peers,
            &[
                "sign",
                "--yes",
                "--allow-http-registry",
                "--fulcio-url",
                &url,
                "--rekor-url",
                &url,
                "--identity-token",
                &token,
                &image,
            ],
        )
        .ok();
    assert!(
        signed.stderr.contains("tlog entry created with index"),
        "{}",
        signed.stderr
    );
    let verify_image = |identity: &str, extra: &[(&str, std::path::PathBuf)]| {
        let mut c = peer(
            &env.peers.join("bin/cosign"),
            s.dir(),
            &s.dir().join("home"),
        );
        c.envs(cosign_trust_env(&s.server.dir))
            .envs(extra.iter().cloned())
            .args([
                "verify",
                "--allow-http-registry",
                "--rekor-url",
                &url,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                iss,
                &image,
            ]);
        run(c)
    };
    // SCT against the CT key, SET against the log key.
    let ok = verify_image(EMAIL, &[]).ok();
    assert!(
        ok.stderr.contains("The cosign claims were validated"),
        "{}",
        ok.stderr
    );
    assert!(
        ok.stderr
            .contains("Existence of the claims in the transparency log was verified offline"),
        "{}",
        ok.stderr
    );
    verify_image("someone@example.test", &[])
        .fails_with(12, "none of the expected identities matched");
    // Another log key does not verify the SET.
    let foreign = signet_core::keys::PrivateKey::generate_p256().unwrap();
    std::fs::write(
        s.dir().join("foreign-rekor.pub"),
        foreign.public_key().to_pem(),
    )
    .unwrap();
    let refused = verify_image(
        EMAIL,
        &[(
            "SIGSTORE_REKOR_PUBLIC_KEY",
            s.dir().join("foreign-rekor.pub"),
        )],
    );
    assert_ne!(refused.code, 0, "{}", refused.stderr);

    // Attestations: cosign 2.5 logs dsse entries, or intoto on request.
    std::fs::write(s.dir().join("predicate.json"), br#"{"built":"here"}"#).unwrap();
    for (predicate_type, entry_type) in [
        ("https://example.test/dsse", "dsse"),
        ("https://example.test/intoto", "intoto"),
    ] {
        s.cosign(
            &env.peers,
            &[
                "attest",
                "--yes",
                "--allow-http-registry",
                "--fulcio-url",
                &url,
                "--rekor-url",
                &url,
                "--identity-token",
                &token,
                "--type",
                predicate_type,
                "--rekor-entry-type",
                entry_type,
                "--predicate",
                "predicate.json",
                &image,
            ],
        )
        .ok();
        let verified = s
            .cosign(
                &env.peers,
                &[
                    "verify-attestation",
                    "--allow-http-registry",
                    "--rekor-url",
                    &url,
                    "--type",
                    predicate_type,
                    "--certificate-identity",
                    EMAIL,
                    "--certificate-oidc-issuer",
                    iss,
                    &image,
                ],
            )
            .ok();
        assert!(verified.stdout.contains("in-toto"), "{}", verified.stdout);
    }

    // A blob in the new bundle format, verified with the served trusted
    // root: chain, SCT, SET, inclusion proof and signed checkpoint.
    std::fs::write(
        s.dir().join("trusted_root.json"),
        s.server.curl("/trusted_root.json"),
    )
    .unwrap();
    s.cosign(
        &env.peers,
        &[
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &url,
            "--rekor-url",
            &url,
            "--identity-token",
            &token,
            "--new-bundle-format",
            "--bundle",
            "b.sigstore.json",
            "blob",
        ],
    )
    .ok();
    let verify_blob = |bundle: &str| {
        s.cosign(
            &env.peers,
            &[
                "verify-blob",
                "--new-bundle-format",
                "--bundle",
                bundle,
                "--trusted-root",
                "trusted_root.json",
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                iss,
                "blob",
            ],
        )
    };
    assert!(
        verify_blob("b.sigstore.json")
            .ok()
            .stderr
            .contains("Verified OK")
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir().join("b.sigstore.json")).unwrap()).unwrap();
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
    assert!(
        !entry["inclusionProof"]["hashes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A changed proof hash, a changed SET: each refused.
    let tamper = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut b = bundle.clone();
        edit(&mut b["verificationMaterial"]["tlogEntries"][0]);
        std::fs::write(s.dir().join(name), b.to_string()).unwrap();
        let refused = verify_blob(name);
        assert_ne!(refused.code, 0, "{name} verified: {}", refused.stderr);
        refused.stderr
    };
    let flip = |text: &str| {
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
        bytes[4] ^= 1;
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
    };
    tamper("proof.json", &|e| {
        let h = flip(e["inclusionProof"]["hashes"][0].as_str().unwrap());
        e["inclusionProof"]["hashes"][0] = h.into();
    });
    tamper("set.json", &|e| {
        let set = flip(
            e["inclusionPromise"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        );
        e["inclusionPromise"]["signedEntryTimestamp"] = set.into();
    });
    // sigstore-go 0.7 verifies the same bundle with the served trusted root.
    let mut go = peer(
        &env.peers.join("bin/sigstore-go-verification"),
        s.dir(),
        &s.dir().join("home"),
    );
    go.args([
        "-trustedrootJSONpath",
        "trusted_root.json",
        "-expectedSAN",
        EMAIL,
        "-expectedIssuer",
        iss,
        "-artifact",
        "blob",
        "b.sigstore.json",
    ]);
    let out = run(go).ok();
    assert!(
        (out.stdout.clone() + &out.stderr).contains("Verification successful"),
        "{}{}",
        out.stdout,
        out.stderr
    );

    let metrics = s.server.curl("/metrics");
    for kind in ["hashedrekord", "dsse", "intoto"] {
        assert!(
            metrics.contains(&format!(
                "signet_tlog_entries_total{{api=\"v1\",kind=\"{kind}\",result=\"created\"}}"
            )),
            "{kind}: {metrics}"
        );
    }
}

fn sigstore_python_signs_and_verifies_through_rekor_v2_and_the_tsa(p: &Peers) {
    let issuer = OidcIssuer::start().unwrap();
    let s = setup(&[issuer.issuer_url().to_owned()]);
    let token = issuer.token(&Claims::email(EMAIL)).unwrap();
    let iss = issuer.issuer_url();
    std::fs::write(
        s.dir().join("client_trust_config.json"),
        s.server.curl("/client_trust_config.json"),
    )
    .unwrap();
    let python = |args: &[&str]| {
        let mut c = peer(
            &p.peers.join("bin/sigstore"),
            s.dir(),
            &s.dir().join("home"),
        );
        c.args(["--trust-config", "client_trust_config.json"])
            .args(args);
        run(c)
    };
    let before = s.tree_sizes();
    python(&[
        "sign",
        "--identity-token",
        &token,
        "--bundle",
        "py.sigstore.json",
        "blob",
    ])
    .ok();
    let after = s.tree_sizes();
    assert_eq!(after, (before.0, before.1 + 1), "one Rekor v2 entry");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir().join("py.sigstore.json")).unwrap()).unwrap();
    let material = &bundle["verificationMaterial"];
    assert_eq!(
        material["tlogEntries"][0]["kindVersion"]["version"],
        "0.0.2"
    );
    assert!(
        material["tlogEntries"][0]
            .get("inclusionPromise")
            .is_none_or(|v| v.is_null())
    );
    assert!(
        material["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
            .is_string(),
        "Rekor v2 needs a TSA timestamp: {material}"
    );
    let ok = python(&[
        "verify",
        "identity",
        "--bundle",
        "py.sigstore.json",
        "--cert-identity",
        EMAIL,
        "--cert-oidc-issuer",
        iss,
        "blob",
    ])
    .ok();
    assert!(
        ok.stderr.contains("OK: blob") || ok.stdout.contains("OK: blob"),
        "{}",
        ok.stderr
    );
    let wrong = python(&[
        "verify",
        "identity",
        "--bundle",
        "py.sigstore.json",
        "--cert-identity",
        "someone@example.test",
        "--cert-oidc-issuer",
        iss,
        "blob",
    ]);
    assert_ne!(wrong.code, 0);

    // A Rekor v1 bundle made by cosign verifies with sigstore-python too.
    s.cosign(
        &p.peers,
        &[
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &s.server.url,
            "--rekor-url",
            &s.server.url,
            "--identity-token",
            &token,
            "--new-bundle-format",
            "--bundle",
            "cosign.sigstore.json",
            "blob",
        ],
    )
    .ok();
    python(&[
        "verify",
        "identity",
        "--bundle",
        "cosign.sigstore.json",
        "--cert-identity",
        EMAIL,
        "--cert-oidc-issuer",
        iss,
        "blob",
    ])
    .ok();
    let metrics = s.server.curl("/metrics");
    assert!(
        metrics.contains(
            "signet_tlog_entries_total{api=\"v2\",kind=\"hashedrekord\",result=\"created\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("signet_tsa_timestamps_issued_total{form=\"der\"} 1"),
        "{metrics}"
    );
}

fn every_token_defect_is_refused_through_cosign(p: &Peers) {
    let email = OidcIssuer::start().unwrap();
    let gitea = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
    let s = setup(&[
        email.issuer_url().to_owned(),
        format!("{}=gitea-actions", gitea.issuer_url()),
    ]);
    let url = s.server.url.clone();
    let before = s.tree_sizes();
    let sign = |token: &str| {
        s.cosign(
            &p.peers,
            &[
                "sign-blob",
                "--yes",
                "--fulcio-url",
                &url,
                "--rekor-url",
                &url,
                "--identity-token",
                token,
                "--bundle",
                "refused.json",
                "blob",
            ],
        )
    };
    let defective = |defect: Defect| {
        email
            .token_with(
                &Claims::email(EMAIL),
                TokenOptions {
                    defect: Some(defect),
                    ..TokenOptions::default()
                },
            )
            .unwrap()
    };
    for (defect, reason) in [
        (Defect::BadSignature, "identity token signature is invalid"),
        (Defect::WrongIssuer, "is not trusted by this server"),
        (Defect::WrongAudience, "not-sigstore"),
        (Defect::Expired, "identity token expired at"),
        (Defect::WrongKey, "signature does not verify with key kid="),
        (Defect::UnknownKid, "is not among the keys issuer"),
    ] {
        let refused = sign(&defective(defect));
        assert_ne!(refused.code, 0, "{defect:?} was accepted");
        assert!(
            refused.stderr.contains("401 Unauthorized") && refused.stderr.contains(reason),
            "{defect:?}: {}",
            refused.stderr
        );
    }
    // A proof of possession over the wrong subject: a Gitea job's token that
    // also carries an email. cosign signs the email; the server expects the
    // proof over `sub`, as Fulcio does for CI issuers.
    let claims = Claims::gitea_actions(&Workflow::default())
        .with("email", EMAIL)
        .with("email_verified", true);
    let refused = sign(&gitea.token(&claims).unwrap());
    assert!(
        refused.stderr.contains("400 Bad Request")
            && refused
                .stderr
                .contains("proof of possession does not verify")
            && refused.stderr.contains("sub claim"),
        "{}",
        refused.stderr
    );
    assert_eq!(s.tree_sizes(), before, "nothing refused reached the log");
    // The same job's token without the email signs.
    let ok = sign(
        &gitea
            .token(&Claims::gitea_actions(&Workflow::default()))
            .unwrap(),
    )
    .ok();
    assert!(ok.stderr.contains("tlog entry created"), "{}", ok.stderr);
}
