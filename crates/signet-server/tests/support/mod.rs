//! A `signet server` in the test process on 127.0.0.1, with test OIDC
//! issuers, and the checks the tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PrivateKey;
use signet_pki::certificate::{Certificate, parse_pem_chain};
use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use signet_pki::profile::FulcioCertificate;
use signet_pki::sct::{CtLog, verify_embedded_scts};
use signet_pki::time::TimeRange;
use signet_server::config::{IssuerConfig, ServerConfig};
use signet_server::datadir::{DataDir, InitOptions, init};
use signet_server::serve::{RunOptions, RunningServer, TlsFiles, start};
use signet_trust::TrustedRoot;

pub const PASSWORD: &[u8] = b"server test password";

/// A server with its own runtime and data directory.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
}

impl TestServer {
    /// Initialises a data directory trusting `issuers`, lets `tweak` change
    /// the configuration, and starts the server (TLS when `tls` is given).
    pub fn start(
        issuers: Vec<IssuerConfig>,
        tweak: impl FnOnce(&mut ServerConfig),
        tls: Option<TlsFiles>,
    ) -> Self {
        Self::start_with(issuers, tweak, tls, None)
    }

    /// [`Self::start`], with the transparency log in `database` when given.
    pub fn start_with(
        issuers: Vec<IssuerConfig>,
        tweak: impl FnOnce(&mut ServerConfig),
        tls: Option<TlsFiles>,
        database: Option<String>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("server");
        let report = init(
            &root,
            &InitOptions {
                issuers,
                public_url: "http://127.0.0.1:1".into(),
                now: SystemTime::now(),
            },
            PASSWORD,
        )
        .unwrap();
        let mut config = report.config;
        tweak(&mut config);
        std::fs::write(DataDir::new(&root).config_file(), config.to_toml()).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(start(
                &root,
                zeroize::Zeroizing::new(PASSWORD.to_vec()),
                RunOptions {
                    listen: "127.0.0.1:0".parse().unwrap(),
                    database,
                    tls: tls.clone(),
                },
            ))
            .unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        Self {
            url: format!("{scheme}://{}", server.local_addr()),
            dir,
            runtime,
            server: Some(server),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("server")
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().unwrap()
    }

    /// Shuts the server down gracefully (in the background) and returns
    /// the task that completes when it stopped.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<()> {
        let server = self.server.take().unwrap();
        self.runtime.spawn(server.shutdown())
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        self.block_on(async move {
            let r = reqwest::get(&url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> Reply {
        let url = format!("{}{path}", self.url);
        let content_type = content_type.to_owned();
        let bearer = bearer.map(str::to_owned);
        self.block_on(async move {
            let mut r = reqwest::Client::new()
                .post(&url)
                .header("content-type", content_type)
                .body(body);
            if let Some(t) = bearer {
                r = r.bearer_auth(t);
            }
            Reply::read(r.send().await.unwrap()).await
        })
    }

    /// A GET with the whole answer (status, headers, bytes).
    pub fn fetch(&self, path: &str) -> Reply {
        let url = format!("{}{path}", self.url);
        self.block_on(async move { Reply::read(reqwest::get(&url).await.unwrap()).await })
    }

    pub fn trusted_root(&self) -> TrustedRoot {
        let (status, body) = self.get("/trusted_root.json");
        assert_eq!(status, 200);
        TrustedRoot::parse(body.as_bytes()).unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    async fn read(r: reqwest::Response) -> Self {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Reply {
            status: r.status().as_u16(),
            content_type: header("content-type").unwrap_or_default(),
            retry_after: header("retry-after"),
            headers: r.headers().clone(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    /// A response header, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

/// A v2 request body: an ephemeral P-256 key and a proof over `challenge`.
pub fn v2_key_request(key: &PrivateKey, challenge: &str, token: Option<&str>) -> Vec<u8> {
    let proof = key.sign(challenge.as_bytes()).unwrap();
    let mut body = serde_json::json!({
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": B64.encode(proof),
        }
    });
    if let Some(t) = token {
        body["credentials"] = serde_json::json!({"oidcIdentityToken": t});
    }
    body.to_string().into_bytes()
}

/// The leaf and chain of a v2 answer.
pub fn v2_chain(reply: &Reply) -> Vec<Certificate> {
    let json = reply.json();
    let certs = json["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Certificate::from_pem(c.as_str().unwrap().as_bytes()).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(certs.len(), 3, "leaf, intermediate, root");
    certs
}

/// Checks `leaf` the way a Sigstore verifier does against the served trusted
/// root: chain at issuance, embedded SCT from the served CT log. Returns the
/// parsed Fulcio profile.
pub fn check_leaf(leaf: &Certificate, root: &TrustedRoot) -> FulcioCertificate {
    let ca = &root.certificate_authorities[0];
    let chain: Vec<Certificate> = ca
        .cert_chain
        .iter()
        .map(|c| Certificate::from_der(c.der()).unwrap())
        .collect();
    let authorities = [CertificateAuthority::new(chain, TimeRange::UNBOUNDED).unwrap()];
    let at = leaf.not_before() + std::time::Duration::from_secs(1);
    let verified = verify_chain(leaf, &authorities, at, KeyPurpose::CodeSigning).unwrap();
    let ct = &root.ctlogs[0];
    let log = CtLog::new("served", ct.public_key.raw_bytes(), TimeRange::UNBOUNDED).unwrap();
    assert_eq!(log.log_id().to_vec(), ct.log_id);
    verify_embedded_scts(leaf, verified.issuer().unwrap(), &[log], 1).unwrap();
    let profile = FulcioCertificate::parse(leaf).unwrap();
    assert!(profile.san_critical);
    assert!(profile.digital_signature);
    assert_eq!(
        profile
            .not_after
            .duration_since(profile.not_before)
            .unwrap()
            .as_secs(),
        600
    );
    assert_eq!(profile.issuer_v1, profile.issuer_v2);
    profile
}

/// The PEM chain of a v1 answer.
pub fn pem_chain(body: &[u8]) -> Vec<Certificate> {
    parse_pem_chain(body).unwrap()
}

/// `openssl ARGS` in `dir` (always `Some`; a missing openssl fails the
/// test).
pub fn openssl(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(out) => Some(out),
        Err(e) => {
            // A test that cannot run must fail, never pass unseen; openssl
            // is part of every Debian base system and of scripts/test.sh.
            panic!("openssl is required for this test but cannot run: {e}")
        }
    }
}
