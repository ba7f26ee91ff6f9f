//! Vault over TLS, configured as cosign and the Vault CLI configure it
//! (`VAULT_CACERT`, `VAULT_CACERT_BYTES`, `VAULT_CAPATH`,
//! `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`, `VAULT_SKIP_VERIFY`,
//! `VAULT_TLS_SERVER_NAME`), against a real OpenBao serving TLS with a test
//! CA. Its certificate names only `vault.signet.test`, so reaching it at
//! 127.0.0.1 needs `VAULT_TLS_SERVER_NAME`; a second port requires a client
//! certificate. `scripts/services.sh` (`start_openbao_tls`) sets it up.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{Context, Env, Run, tests, unique_repo, var};

tests![
    trust_roots_server_name_and_skip_verify,
    mutual_tls_with_client_certificates
];

const NAME: &str = "vault.signet.test";

/// The OpenBao serving TLS, beside the other services.
struct TlsVault {
    env: &'static Env,
    addr: String,
    mtls_addr: String,
    dir: PathBuf,
    token: String,
}

impl Context for TlsVault {
    fn get() -> Result<&'static Self, String> {
        static VAULT: OnceLock<Result<TlsVault, String>> = OnceLock::new();
        VAULT
            .get_or_init(|| {
                let v = TlsVault {
                    env: Env::get()?,
                    addr: var("SIGNET_TEST_VAULT_TLS_ADDR")?,
                    mtls_addr: var("SIGNET_TEST_VAULT_MTLS_ADDR")?,
                    dir: PathBuf::from(var("SIGNET_TEST_VAULT_TLS_DIR")?),
                    token: var("SIGNET_TEST_VAULT_TLS_TOKEN")?,
                };
                for (path, body) in [
                    ("sys/mounts/transit", r#"{"type":"transit"}"#),
                    (
                        "sys/mounts/kv",
                        r#"{"type":"kv","options":{"version":"2"}}"#,
                    ),
                ] {
                    let (code, text) = v.curl("POST", path, body);
                    if !(code == 204 || text.contains("path is already in use")) {
                        return Err(format!("OpenBao with TLS: {path}: {code} {text}"));
                    }
                }
                Ok(v)
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl TlsVault {
    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A request to the TLS listener with curl, trusting the test CA.
    fn curl(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let port = self.addr.rsplit(':').next().unwrap();
        let out = Command::new("curl")
            .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method])
            .args(["--cacert", &self.file("ca.pem")])
            .arg("--resolve")
            .arg(format!("{NAME}:{port}:127.0.0.1"))
            .arg("-H")
            .arg(format!("X-Vault-Token: {}", self.token))
            .args(["-d", body])
            .arg(format!("https://{NAME}:{port}/v1/{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_owned())
    }

    /// `signet ARGS` against `addr` with the token and the given TLS variables.
    fn signet(
        &self,
        env: &Env,
        dir: &Path,
        addr: &str,
        tls: &[(&str, &str)],
        args: &[&str],
    ) -> Run {
        let mut envs = vec![
            ("VAULT_ADDR", addr),
            ("VAULT_TOKEN", self.token.as_str()),
            ("COSIGN_PASSWORD", crate::harness::PASSWORD),
        ];
        envs.extend_from_slice(tls);
        env.signet_with(dir, args, &envs, None)
    }
}

fn unique(name: &str) -> String {
    unique_repo(name).replace('/', "-")
}

fn trust_roots_server_name_and_skip_verify(vault: &TlsVault) {
    let env = vault.env;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = vault.file("ca.pem");
    let untrusted = vault.file("untrusted-ca.pem");
    let key = format!("hashivault://{}", unique("tls"));
    let trusted = [
        ("VAULT_CACERT", ca.as_str()),
        ("VAULT_TLS_SERVER_NAME", NAME),
    ];
    let addr = vault.addr.as_str();

    vault
        .signet(
            env,
            d,
            addr,
            &trusted,
            &[
                "generate-key-pair",
                "--kms",
                &key,
                "--output-key-prefix",
                "tls",
            ],
        )
        .ok();
    let public_key = ["public-key", "--key", key.as_str()];
    let expected = std::fs::read_to_string(d.join("tls.pub")).unwrap();

    // What fails, and says what to set.
    vault
        .signet(env, d, addr, &[], &public_key)
        .fails_with(1, "the server's certificate is not signed by the system's trusted CAs (set VAULT_CACERT or VAULT_CAPATH");
    vault
        .signet(env, d, addr, &[("VAULT_CACERT", &ca)], &public_key)
        .fails_with(
            1,
            "not valid for the host in VAULT_ADDR; it holds vault.signet.test (set VAULT_TLS_SERVER_NAME",
        );
    vault
        .signet(
            env,
            d,
            addr,
            &[
                ("VAULT_CACERT", &ca),
                ("VAULT_TLS_SERVER_NAME", "wrong.signet.test"),
            ],
            &public_key,
        )
        .fails_with(
            1,
            "not valid for VAULT_TLS_SERVER_NAME=\"wrong.signet.test\"",
        );
    vault
        .signet(
            env,
            d,
            addr,
            &[
                ("VAULT_CACERT", &untrusted),
                ("VAULT_TLS_SERVER_NAME", NAME),
            ],
            &public_key,
        )
        .fails_with(1, "not signed by the CA in VAULT_CACERT");
    vault
        .signet(env, d, addr, &[("VAULT_SKIP_VERIFY", "maybe")], &public_key)
        .fails_with(1, "VAULT_SKIP_VERIFY=\"maybe\" is not a boolean");

    // What works: the CA as a file, as PEM text, in a directory tree, or no
    // verification at all.
    let cas = d.join("cas/nested");
    std::fs::create_dir_all(&cas).unwrap();
    std::fs::copy(&ca, cas.join("signet-ca.pem")).unwrap();
    std::fs::copy(&untrusted, d.join("cas/other-ca.pem")).unwrap();
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    let cas_dir = d.join("cas").display().to_string();
    for settings in [
        &trusted[..],
        &[
            ("VAULT_CACERT_BYTES", ca_pem.as_str()),
            ("VAULT_TLS_SERVER_NAME", NAME),
        ],
        &[
            ("VAULT_CAPATH", cas_dir.as_str()),
            ("VAULT_TLS_SERVER_NAME", NAME),
        ],
        &[("VAULT_SKIP_VERIFY", "true")],
    ] {
        let run = vault.signet(env, d, addr, settings, &public_key).ok();
        assert_eq!(run.stdout, expected, "{settings:?}");
    }
    // VAULT_CACERT wins over VAULT_CAPATH, as in Vault's client.
    vault
        .signet(
            env,
            d,
            addr,
            &[
                ("VAULT_CACERT", &untrusted),
                ("VAULT_CAPATH", &cas_dir),
                ("VAULT_TLS_SERVER_NAME", NAME),
            ],
            &public_key,
        )
        .fails_with(1, "not signed by the CA in VAULT_CACERT");

    // A whole signing round over TLS, checked by cosign.
    let (image, _) = env.push_image(&unique_repo("vault-tls"));
    vault
        .signet(
            env,
            d,
            addr,
            &trusted,
            &[
                "sign",
                "--key",
                &key,
                "--allow-http-registry",
                "--tlog-upload=false",
                &image,
            ],
        )
        .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "tls.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &image,
        ],
    )
    .ok();
}

fn mutual_tls_with_client_certificates(vault: &TlsVault) {
    let env = vault.env;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = vault.file("ca.pem");
    let (cert, key) = (vault.file("client.pem"), vault.file("client.key"));
    let (bad_cert, bad_key) = (
        vault.file("untrusted-client.pem"),
        vault.file("untrusted-client.key"),
    );
    let addr = vault.mtls_addr.as_str();
    let server = [
        ("VAULT_CACERT", ca.as_str()),
        ("VAULT_TLS_SERVER_NAME", NAME),
    ];
    fn with_client<'a>(
        server: &[(&'a str, &'a str)],
        c: &'a str,
        k: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut v = server.to_vec();
        v.push(("VAULT_CLIENT_CERT", c));
        v.push(("VAULT_CLIENT_KEY", k));
        v
    }
    let client = with_client(&server, &cert, &key);
    let secret = format!("vault-kv://kv/{}/cosign", unique("mtls"));

    // A key pair in KV, created and used over mutual TLS.
    vault
        .signet(
            env,
            d,
            addr,
            &client,
            &[
                "generate-key-pair",
                "--kms",
                &secret,
                "--output-key-prefix",
                "mtls",
            ],
        )
        .ok();
    std::fs::write(d.join("blob"), b"over mutual TLS").unwrap();
    vault
        .signet(
            env,
            d,
            addr,
            &client,
            &[
                "sign-blob",
                "--key",
                &secret,
                "--tlog-upload=false",
                "--output-signature",
                "blob.sig",
                "blob",
            ],
        )
        .ok();
    env.cosign(
        d,
        &[
            "verify-blob",
            "--key",
            "mtls.pub",
            "--signature",
            "blob.sig",
            "--insecure-ignore-tlog=true",
            "blob",
        ],
    )
    .ok();

    let public_key = ["public-key", "--key", secret.as_str()];
    vault.signet(env, d, addr, &server, &public_key).fails_with(
        1,
        "the server requires a client certificate (set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)",
    );
    vault
        .signet(
            env,
            d,
            addr,
            &with_client(&server, &bad_cert, &bad_key),
            &public_key,
        )
        .fails_with(
            1,
            "the server refused the client certificate in VAULT_CLIENT_CERT",
        );
    vault
        .signet(
            env,
            d,
            addr,
            &with_client(&server, &cert, &bad_key),
            &public_key,
        )
        .fails_with(1, "client certificate and key");
    let mut half = server.to_vec();
    half.push(("VAULT_CLIENT_CERT", cert.as_str()));
    vault
        .signet(env, d, addr, &half, &public_key)
        .fails_with(1, "VAULT_CLIENT_CERT is set but VAULT_CLIENT_KEY is not");
}
