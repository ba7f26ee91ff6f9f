//! Transit signing pinned to the loaded key version, against a real OpenBao
//! (`SIGNET_TEST_VAULT_ADDR`/`SIGNET_TEST_VAULT_TOKEN`, started by
//! `scripts/test.sh`), and the check of every returned signature, against a
//! scripted server that answers with signatures that must be refused.

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;

use libtest_mimic::{Arguments, Completion, Trial};
use signet_core::keys::{PrivateKey, Signer};
use signet_core::{Artifact, Digest};
use signet_kms::vault::{TransitSigner, VaultClient, VaultConfig};
use zeroize::Zeroizing;

/// This file runs under its own runner (`harness = false`): a test that
/// needs OpenBao is reported as ignored without it, or as failed with
/// `SIGNET_E2E_REQUIRED=1` (as in `scripts/test.sh`); never as passed.
fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        with_bao(
            "a_key_rotated_mid_batch_keeps_signing_with_the_loaded_version",
            a_key_rotated_mid_batch_keeps_signing_with_the_loaded_version,
        ),
        Trial::test(
            "signatures_that_do_not_verify_never_leave_the_signer",
            || {
                block_on(signatures_that_do_not_verify_never_leave_the_signer());
                Ok(())
            },
        ),
    ];
    libtest_mimic::run(&args, trials).exit()
}

fn block_on(test: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(test);
}

/// A test that needs the OpenBao dev server.
fn with_bao<F: Future<Output = ()> + 'static>(name: &str, test: fn(Bao) -> F) -> Trial {
    Trial::ignorable_test(name, move || {
        let Some(bao) = bao() else {
            let why = "SIGNET_TEST_VAULT_ADDR is not set: scripts/test.sh starts OpenBao";
            if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
                return Err(format!("cannot run: {why}").into());
            }
            return Ok(Completion::ignored_with(why));
        };
        block_on(test(bao));
        Ok(Completion::Completed)
    })
}

struct Bao {
    addr: String,
    token: String,
}

/// The OpenBao dev server, if the services are running.
fn bao() -> Option<Bao> {
    match (
        std::env::var("SIGNET_TEST_VAULT_ADDR"),
        std::env::var("SIGNET_TEST_VAULT_TOKEN"),
    ) {
        (Ok(addr), Ok(token)) => Some(Bao { addr, token }),
        _ => None,
    }
}

impl Bao {
    fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H"])
            .arg(format!("X-Vault-Token: {}", self.token))
            .args(["-d", body])
            .arg(format!("{}/v1/{path}", self.addr))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_owned())
    }

    fn client(&self) -> VaultClient {
        VaultClient::new(VaultConfig::new(
            self.addr.clone(),
            Zeroizing::new(self.token.clone()),
        ))
        .unwrap()
    }

    fn new_key(&self, kind: &str) -> String {
        let (code, text) = self.call("POST", "sys/mounts/transit", r#"{"type":"transit"}"#);
        assert!(
            code == 204 || text.contains("path is already in use"),
            "{text}"
        );
        let name = format!("pinned-{kind}-{}", std::process::id());
        let (code, text) = self.call(
            "POST",
            &format!("transit/keys/{name}"),
            &format!(r#"{{"type":"{kind}"}}"#),
        );
        assert!(code == 200 || code == 204, "{code} {text}");
        name
    }
}

async fn a_key_rotated_mid_batch_keeps_signing_with_the_loaded_version(bao: Bao) {
    for kind in ["ecdsa-p256", "ecdsa-p384", "rsa-2048"] {
        let name = bao.new_key(kind);
        let signer = TransitSigner::connect(bao.client(), &name).await.unwrap();
        assert_eq!(signer.version(), 1);
        assert_eq!(signer.key_version().as_deref(), Some("1"));
        let public = signer.public_key().clone();

        let before = signer.sign(b"first image").await.unwrap();
        public.verify(b"first image", &before).unwrap();
        // The key is rotated in the middle of the batch.
        let (code, text) = bao.call("POST", &format!("transit/keys/{name}/rotate"), "{}");
        assert!(code == 200 || code == 204, "{code} {text}");
        let after = signer.sign(b"second image").await.unwrap();
        public.verify(b"second image", &after).unwrap();
        let blob = Artifact::read(&b"a blob"[..], None).unwrap();
        let streamed = signer.sign_artifact(&blob).await.unwrap();
        public.verify(b"a blob", &streamed).unwrap();

        // What pinning prevents: unpinned, Vault now signs with version 2,
        // which the public key loaded at the start does not verify.
        let digest = Digest::sha256_of(b"second image");
        let algorithm = if kind.starts_with("rsa") {
            r#","signature_algorithm":"pkcs1v15""#
        } else {
            ""
        };
        let (_, text) = bao.call(
            "POST",
            &format!("transit/sign/{name}"),
            &format!(
                r#"{{"input":"{}","prehashed":true,"hash_algorithm":"sha2-256"{algorithm}}}"#,
                base64_std(&digest.raw())
            ),
        );
        assert!(text.contains("vault:v2:"), "{text}");
        let unpinned = text
            .split("vault:v2:")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(base64_decode)
            .unwrap();
        assert!(public.verify(b"second image", &unpinned).is_err(), "{kind}");

        // Once Vault refuses the pinned version, signing fails with its reason.
        let (code, text) = bao.call(
            "POST",
            &format!("transit/keys/{name}/config"),
            r#"{"min_encryption_version":2}"#,
        );
        assert!(code == 200 || code == 204, "{code} {text}");
        let err = signer.sign(b"third image").await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("transit sign with \"{name}\" version 1"))
                && err.contains("requested version for signing is less than the minimum")
                && !err.contains('\n'),
            "{err}"
        );
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// A Vault stand-in that answers each request with the next canned JSON body.
fn scripted_vault(answers: Vec<String>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for answer in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (addr, handle)
}

/// Signatures that would not verify under the loaded public key are refused
/// before they leave the signer: one by another key, one by another version.
async fn signatures_that_do_not_verify_never_leave_the_signer() {
    let loaded = PrivateKey::generate_p256().unwrap();
    let other = PrivateKey::generate_p256().unwrap();
    let key_answer = serde_json::json!({"data": {
        "type": "ecdsa-p256", "latest_version": 1,
        "keys": {"1": {"public_key": loaded.public_key().to_pem()}}
    }})
    .to_string();
    let message = b"payload";
    let sign_answer = |version: u32, key: &PrivateKey| {
        serde_json::json!({"data": {"signature": format!(
            "vault:v{version}:{}", base64_std(&key.sign(message).unwrap())
        ), "key_version": version}})
        .to_string()
    };
    let cases = [
        (
            sign_answer(1, &other),
            "does not verify under the public key of version 1",
        ),
        (
            sign_answer(2, &loaded),
            "signed with key version v2, expected v1",
        ),
        (
            r#"{"data":{"signature":"not a vault signature"}}"#.to_owned(),
            "response has no signature",
        ),
    ];
    for (answer, needle) in cases {
        let (addr, server) = scripted_vault(vec![key_answer.clone(), answer]);
        let client = VaultClient::new(VaultConfig::new(addr, Zeroizing::new("t".into()))).unwrap();
        let signer = TransitSigner::connect(client, "k").await.unwrap();
        let err = signer.sign(message).await.unwrap_err().to_string();
        assert!(err.contains(needle), "{err} lacks {needle}");
        server.join().unwrap();
    }
    // And the good answer passes.
    let (addr, server) = scripted_vault(vec![key_answer, sign_answer(1, &loaded)]);
    let client = VaultClient::new(VaultConfig::new(addr, Zeroizing::new("t".into()))).unwrap();
    let signer = TransitSigner::connect(client, "k").await.unwrap();
    let sig = signer.sign(message).await.unwrap();
    loaded.public_key().verify(message, &sig).unwrap();
    server.join().unwrap();
}
