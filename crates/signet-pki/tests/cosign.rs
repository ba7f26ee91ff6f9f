//! cosign 2.5 (a real Sigstore verifier in Go) accepts certificates issued by
//! signet's CA, with the embedded SCT checked against signet's CT log key, and
//! RFC 3161 timestamps from signet's TSA.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use base64::Engine as _;
use libtest_mimic::{Arguments, Completion, Trial};
use signet_core::keys::PrivateKey;
use signet_pki::ca::{KeyAlgorithm, create_fulcio_ca};
use signet_pki::certificate::chain_to_pem;
use signet_pki::issue::{LeafRequest, issue_with_embedded_sct};
use signet_pki::profile::{CiClaims, SubjectAltName};
use signet_pki::sct::CtLogSigner;
use signet_pki::tsa::{TimestampRequest, TimestampSigner};
use support::{options_at, tsa_at};

/// This file runs under its own runner (`harness = false`): without cosign
/// the test is reported as ignored, or as failed with `SIGNET_E2E_REQUIRED=1`
/// (as in `scripts/test.sh`); never as passed.
fn main() {
    let args = Arguments::from_args();
    let trials = vec![Trial::ignorable_test(
        "cosign_verifies_a_blob_signed_under_a_signet_issued_certificate",
        || match cosign() {
            Some(cosign) => {
                cosign_verifies_a_blob_signed_under_a_signet_issued_certificate(cosign);
                Ok(Completion::Completed)
            }
            None => {
                let why =
                    "cosign not found under $SIGNET_PEERS: scripts/setup-peers.sh installs it";
                if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
                    return Err(format!("cannot run: {why}").into());
                }
                Ok(Completion::ignored_with(why))
            }
        },
    )];
    libtest_mimic::run(&args, trials).exit()
}

/// The cosign binary from the test peers, if installed.
fn cosign() -> Option<PathBuf> {
    std::env::var("SIGNET_PEERS")
        .ok()
        .map(|p| PathBuf::from(p).join("bin/cosign"))
        .filter(|p| p.exists())
}

fn cosign_verifies_a_blob_signed_under_a_signet_issued_certificate(cosign: PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = SystemTime::now();
    for algorithm in [KeyAlgorithm::P256, KeyAlgorithm::P384] {
        let ca = create_fulcio_ca(
            algorithm,
            &options_at("CN=signet-root,O=signet.test", now),
            &options_at("CN=signet-intermediate,O=signet.test", now),
        )
        .unwrap();
        let ct_key = PrivateKey::generate_p256().unwrap();
        let ct = CtLogSigner::new(ct_key).unwrap();
        let signing_key = PrivateKey::generate_p256().unwrap();
        let mut claims = CiClaims::default();
        claims.build_signer_uri = Some(
            "https://git.example.com/team/app/.forgejo/workflows/release.yml@refs/heads/main"
                .into(),
        );
        claims.source_repository_uri = Some("https://git.example.com/team/app".into());
        let issued = issue_with_embedded_sct(
            &ca,
            &ct,
            &LeafRequest {
                subject_public_key: signing_key.public_key().to_spki_der(),
                identity: SubjectAltName::Uri(
                    "https://git.example.com/team/app/.forgejo/workflows/release.yml@refs/heads/main".into(),
                ),
                issuer: "https://git.example.com/api/actions".into(),
                claims,
                not_before: now,
            },
        )
        .unwrap();
        let blob = b"artifact signed under a signet certificate";
        let signature = signing_key.sign(blob).unwrap();
        std::fs::write(d.join("blob"), blob).unwrap();
        std::fs::write(
            d.join("blob.sig"),
            base64::engine::general_purpose::STANDARD.encode(&signature),
        )
        .unwrap();
        std::fs::write(d.join("leaf.pem"), issued.certificate.to_pem()).unwrap();
        std::fs::write(d.join("chain.pem"), chain_to_pem(ca.chain())).unwrap();
        std::fs::write(d.join("ct.pub"), ct.public_key().to_pem()).unwrap();

        // A timestamp over the signature from signet's TSA.
        let tsa = TimestampSigner::new(tsa_at(KeyAlgorithm::P256, now)).unwrap();
        let response = tsa
            .respond(
                &TimestampRequest::for_data(
                    &signature,
                    signet_pki::algorithm::HashAlgorithm::Sha256,
                ),
                now,
            )
            .unwrap();
        // cosign's legacy timestamp file: {"SignedRFC3161Timestamp": base64(TimeStampResp)}.
        let json = format!(
            "{{\"SignedRFC3161Timestamp\":\"{}\"}}",
            base64::engine::general_purpose::STANDARD.encode(&response)
        );
        std::fs::write(d.join("blob.tsr.json"), json).unwrap();
        std::fs::write(d.join("tsa-chain.pem"), chain_to_pem(tsa.chain())).unwrap();

        let home = d.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let verify = || {
            Command::new(&cosign)
                .current_dir(d)
                .env("HOME", &home)
                .env("TUF_ROOT", home.join("tuf"))
                .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", d.join("ct.pub"))
                .args([
                    "verify-blob",
                    "--certificate",
                    "leaf.pem",
                    "--certificate-chain",
                    "chain.pem",
                    "--signature",
                    "blob.sig",
                    "--certificate-identity-regexp",
                    "^https://git.example.com/team/.*",
                    "--certificate-oidc-issuer",
                    "https://git.example.com/api/actions",
                    "--insecure-ignore-tlog",
                    "--rfc3161-timestamp",
                    "blob.tsr.json",
                    "--timestamp-certificate-chain",
                    "tsa-chain.pem",
                    "--use-signed-timestamps",
                    "blob",
                ])
                .output()
                .unwrap()
        };
        let out = verify();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.contains("Verified OK"),
            "{algorithm:?}: {stderr}"
        );

        // A timestamp over other data is refused.
        let other_ts = tsa
            .respond(
                &TimestampRequest::for_data(b"other", signet_pki::algorithm::HashAlgorithm::Sha256),
                now,
            )
            .unwrap();
        let json = format!(
            "{{\"SignedRFC3161Timestamp\":\"{}\"}}",
            base64::engine::general_purpose::STANDARD.encode(&other_ts)
        );
        std::fs::write(d.join("blob.tsr.json"), json).unwrap();
        assert!(
            !verify().status.success(),
            "cosign accepted a timestamp over other data"
        );

        // The same with another CT log key: cosign refuses the SCT.
        let other = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
        std::fs::write(d.join("other-ct.pub"), other.public_key().to_pem()).unwrap();
        let out = Command::new(&cosign)
            .current_dir(d)
            .env("HOME", &home)
            .env("TUF_ROOT", home.join("tuf"))
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", d.join("other-ct.pub"))
            .args([
                "verify-blob",
                "--certificate",
                "leaf.pem",
                "--certificate-chain",
                "chain.pem",
                "--signature",
                "blob.sig",
                "--certificate-identity-regexp",
                ".*",
                "--certificate-oidc-issuer-regexp",
                ".*",
                "--insecure-ignore-tlog",
                "blob",
            ])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "cosign accepted an SCT from an unknown log"
        );
    }
}
