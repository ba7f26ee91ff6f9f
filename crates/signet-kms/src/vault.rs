//! A small Vault/OpenBao HTTP client: transit keys for signing and KV v2 for
//! stored key pairs. Only the endpoints signet needs.
//!
//! Secrets are handled so that signet leaves no copy of them behind: the
//! token is a sensitive header value built once (never printed by `Debug`),
//! KV responses are read into a wiped buffer and their secret fields are
//! decoded straight into wiped buffers ([`secret_json`]). Buffers inside the
//! HTTP and TLS stacks (hyper's read buffer, rustls's plaintext queue) are
//! beyond signet's reach and are not wiped.

mod secret_json;
mod tls;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use signet_core::keys::{BoxFuture, PublicKey, Signer};
use signet_core::{Artifact, Digest, KeyError, limits};
use zeroize::Zeroizing;

use crate::KmsError;

pub(crate) use secret_json::KvKeyPair;
pub use tls::VaultTls;

/// Largest Vault response signet reads.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Where and how to reach Vault: what cosign reads from the environment.
#[derive(Clone)]
#[non_exhaustive]
pub struct VaultConfig {
    /// `VAULT_ADDR`.
    pub addr: String,
    /// `VAULT_TOKEN` (else `~/.vault-token`).
    pub token: Zeroizing<String>,
    /// `VAULT_NAMESPACE`.
    pub namespace: Option<String>,
    /// `TRANSIT_SECRET_ENGINE_PATH` (default `transit`).
    pub transit_mount: String,
    /// The `VAULT_*` TLS settings.
    pub tls: VaultTls,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("addr", &self.addr)
            .field("token", &"<redacted>")
            .field("namespace", &self.namespace)
            .field("transit_mount", &self.transit_mount)
            .field("tls", &self.tls)
            .finish()
    }
}

impl VaultConfig {
    /// A configuration for `addr` with `token` and default settings otherwise.
    pub fn new(addr: impl Into<String>, token: Zeroizing<String>) -> Self {
        Self {
            addr: addr.into(),
            token,
            namespace: None,
            transit_mount: "transit".to_owned(),
            tls: VaultTls::default(),
        }
    }

    /// Reads `VAULT_ADDR`, `VAULT_TOKEN` (else `~/.vault-token`),
    /// `VAULT_NAMESPACE`, `TRANSIT_SECRET_ENGINE_PATH` and the TLS variables
    /// ([`VaultTls::from_env`]).
    pub fn from_env() -> Result<Self, KmsError> {
        let addr =
            std::env::var("VAULT_ADDR").map_err(|_| KmsError::MissingEnv("VAULT_ADDR".into()))?;
        let token = match std::env::var("VAULT_TOKEN") {
            Ok(t) if !t.is_empty() => Zeroizing::new(t),
            _ => token_from_home()?.ok_or_else(|| KmsError::MissingEnv("VAULT_TOKEN".into()))?,
        };
        let namespace = std::env::var("VAULT_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty());
        let transit_mount = std::env::var("TRANSIT_SECRET_ENGINE_PATH")
            .ok()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "transit".to_owned());
        Ok(Self {
            addr,
            token,
            namespace,
            transit_mount,
            tls: VaultTls::from_env()?,
        })
    }
}

/// `~/.vault-token`, as the Vault CLI leaves it after `vault login`.
fn token_from_home() -> Result<Option<Zeroizing<String>>, KmsError> {
    let Some(home) = std::env::home_dir() else {
        return Ok(None);
    };
    let path = home.join(".vault-token");
    let bytes = match limits::read_secret_file(&path, limits::TOKEN_FILE) {
        Ok(b) => b,
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| KmsError::Vault {
        operation: "configuration".into(),
        message: format!("{} is not UTF-8", path.display()),
    })?;
    let token = text.trim();
    Ok((!token.is_empty()).then(|| Zeroizing::new(token.to_owned())))
}

/// A Vault or OpenBao server, addressed and authenticated as cosign does.
#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    addr: String,
    /// `X-Vault-Token`, marked sensitive so that no `Debug` output or HTTP
    /// log shows it.
    token: HeaderValue,
    namespace: Option<String>,
    transit_mount: String,
    tls: VaultTls,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A transit key's public key and the version it belongs to.
#[derive(Debug, Clone)]
pub struct TransitKey {
    /// The public key of `version`.
    pub public: PublicKey,
    /// The key version (the latest when the key was read).
    pub version: u64,
}

impl VaultClient {
    /// A client configured from the environment ([`VaultConfig::from_env`]).
    pub fn from_env() -> Result<Self, KmsError> {
        Self::new(VaultConfig::from_env()?)
    }

    /// A client for `config`. TLS files are read here, so a bad setting
    /// fails before any request.
    pub fn new(config: VaultConfig) -> Result<Self, KmsError> {
        let addr = config.addr.as_str();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(KmsError::Vault {
                operation: "configuration".into(),
                message: format!("VAULT_ADDR {addr:?} must start with http:// or https://"),
            });
        }
        let mut token = HeaderValue::from_str(&config.token).map_err(|_| KmsError::Vault {
            operation: "configuration".into(),
            message: "VAULT_TOKEN contains characters not allowed in an HTTP header".into(),
        })?;
        token.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30));
        if addr.starts_with("https://") {
            builder = builder.tls_backend_preconfigured(config.tls.client_config()?);
        }
        let http = builder.build().map_err(|e| KmsError::Vault {
            operation: "client setup".into(),
            message: root_cause(&e),
        })?;
        Ok(Self {
            http,
            addr: addr.trim_end_matches('/').to_owned(),
            token,
            namespace: config.namespace,
            transit_mount: config.transit_mount.trim_matches('/').to_owned(),
            tls: config.tls,
        })
    }

    /// Sends a request; `Ok(None)` for 404 and for empty (204) answers. The
    /// body comes back in a buffer that is wiped when dropped.
    async fn request(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, KmsError> {
        let err = |message: String| KmsError::Vault {
            operation: operation.to_owned(),
            message,
        };
        let mut req = self
            .http
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", self.token.clone())
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let mut resp = req.send().await.map_err(|e| {
            err(match tls::explain(&e, &self.tls) {
                Some(tls) => format!("cannot reach {} ({tls})", self.addr),
                None => format!("cannot reach {} ({})", self.addr, root_cause(&e)),
            })
        })?;
        let status = resp.status();
        let expected = resp
            .content_length()
            .map_or(0, |n| n.min(MAX_RESPONSE_BYTES as u64) as usize);
        let mut bytes = Zeroizing::new(Vec::with_capacity(expected));
        while let Some(chunk) = resp.chunk().await.map_err(|e| err(root_cause(&e)))? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(err(format!(
                    "response larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            extend_wiped(&mut bytes, &chunk);
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let detail = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("errors").cloned())
                .and_then(|e| {
                    e.as_array().map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .map(one_line)
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                })
                .unwrap_or_default();
            return Err(err(format!(
                "HTTP {}{}",
                status.as_u16(),
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            )));
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    /// [`request`](Self::request) for answers that hold no secret, parsed as JSON.
    async fn call(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, KmsError> {
        let Some(bytes) = self.request(operation, method, path, body).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| KmsError::Vault {
                operation: operation.to_owned(),
                message: format!("response is not JSON: {e}"),
            })
    }

    /// The public key of the latest version of transit key `name`.
    pub async fn transit_public_key(&self, name: &str) -> Result<PublicKey, KmsError> {
        Ok(self.transit_key(name).await?.public)
    }

    /// The latest version of transit key `name` and its public key.
    pub async fn transit_key(&self, name: &str) -> Result<TransitKey, KmsError> {
        let op = format!("read transit key {name:?}");
        let resp = self
            .call(
                &op,
                reqwest::Method::GET,
                &format!("{}/keys/{name}", self.transit_mount),
                None,
            )
            .await?
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: format!(
                    "no transit key {name:?} under mount {:?}",
                    self.transit_mount
                ),
            })?;
        let data = &resp["data"];
        let key_type = data["type"].as_str().unwrap_or("unknown");
        if !(key_type.starts_with("ecdsa-") || key_type.starts_with("rsa-")) {
            return Err(KmsError::Vault {
                operation: op,
                message: format!(
                    "transit key type {key_type} cannot sign cosign signatures (use ecdsa-p256, ecdsa-p384 or rsa-*)"
                ),
            });
        }
        let version = data["latest_version"].as_u64().unwrap_or(1);
        let pem = data["keys"][version.to_string()]["public_key"]
            .as_str()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: format!("transit key version {version} has no public key"),
            })?;
        let public = PublicKey::from_pem(pem.as_bytes())
            .map_err(|e| KmsError::key(format!("hashivault://{name}"), e))?;
        Ok(TransitKey { public, version })
    }

    /// Creates an ECDSA P-256 transit key (or finds the existing one).
    /// Returns its public key and whether it was newly created.
    pub async fn transit_create_key(&self, name: &str) -> Result<(PublicKey, bool), KmsError> {
        let path = format!("{}/keys/{name}", self.transit_mount);
        let existed = self
            .call(
                &format!("read transit key {name:?}"),
                reqwest::Method::GET,
                &path,
                None,
            )
            .await?
            .is_some();
        if !existed {
            self.call(
                &format!("create transit key {name:?}"),
                reqwest::Method::POST,
                &path,
                Some(json!({"type": "ecdsa-p256"})),
            )
            .await?;
        }
        Ok((self.transit_public_key(name).await?, !existed))
    }

    /// Signs a message whose SHA-256 digest is `digest` with version
    /// `key.version` of transit key `name`, and checks the signature against
    /// `key.public` before returning it: a signature that would not verify
    /// under the key the caller holds never leaves this function.
    pub async fn transit_sign(
        &self,
        name: &str,
        key: &TransitKey,
        digest: &Digest,
    ) -> Result<Vec<u8>, KmsError> {
        let op = format!("transit sign with {name:?} version {}", key.version);
        let fail = |message: String| KmsError::Vault {
            operation: op.clone(),
            message,
        };
        let mut body = json!({
            "input": B64.encode(digest.raw()),
            "prehashed": true,
            "hash_algorithm": "sha2-256",
            "key_version": key.version,
        });
        if matches!(key.public, PublicKey::Rsa(_)) {
            body["signature_algorithm"] = json!("pkcs1v15");
        }
        let resp = self
            .call(
                &op,
                reqwest::Method::POST,
                &format!("{}/sign/{name}", self.transit_mount),
                Some(body),
            )
            .await?
            .ok_or_else(|| fail("transit key not found".into()))?;
        let sig = resp["data"]["signature"].as_str().unwrap_or_default();
        // "vault:v<N>:<base64>"
        let mut parts = sig.splitn(3, ':');
        let (Some("vault"), Some(signed_version), Some(b64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("response has no signature".into()));
        };
        let expected_version = format!("v{}", key.version);
        if signed_version != expected_version {
            return Err(fail(format!(
                "signed with key version {signed_version}, expected {expected_version}; nothing was signed with it"
            )));
        }
        let signature = B64
            .decode(b64)
            .map_err(|e| fail(format!("signature is not base64: {e}")))?;
        key.public.verify_digest(digest, &signature).map_err(|e| {
            fail(format!(
                "the returned signature does not verify under the public key of version {}: {e}",
                key.version
            ))
        })?;
        Ok(signature)
    }

    /// Reads the cosign key-pair fields of KV v2 secret `path` under `mount`.
    pub(crate) async fn kv_read_key_pair(
        &self,
        mount: &str,
        path: &str,
        version: Option<u64>,
    ) -> Result<KvKeyPair, KmsError> {
        let op = format!("read secret {mount}/{path}");
        let mut api = format!("{mount}/data/{path}");
        if let Some(v) = version {
            api.push_str(&format!("?version={v}"));
        }
        let body = self
            .request(&op, reqwest::Method::GET, &api, None)
            .await?
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: format!(
                    "no such secret{} (is {mount:?} a KV v2 mount?)",
                    version.map(|v| format!(" version {v}")).unwrap_or_default()
                ),
            })?;
        secret_json::parse_kv_key_pair(&body).map_err(|e| KmsError::Vault {
            operation: op,
            message: match e {
                secret_json::KvReadError::NoData => {
                    "secret has no data (deleted or destroyed version?)".into()
                }
                secret_json::KvReadError::Malformed(m) => m,
            },
        })
    }

    /// Creates KV v2 secret `path` with `data`, failing if it already exists
    /// (check-and-set 0), so that a key pair is never overwritten. Returns the version.
    pub async fn kv_create(
        &self,
        mount: &str,
        path: &str,
        data: &std::collections::BTreeMap<String, String>,
    ) -> Result<u64, KmsError> {
        let op = format!("write secret {mount}/{path}");
        let existing = self
            .call(
                &op,
                reqwest::Method::GET,
                &format!("{mount}/metadata/{path}"),
                None,
            )
            .await?;
        if existing.is_some_and(|m| m["data"]["current_version"].as_u64().unwrap_or(0) > 0) {
            return Err(KmsError::AlreadyExists(format!(
                "vault-kv://{mount}/{path}"
            )));
        }
        let resp = self
            .call(
                &op,
                reqwest::Method::POST,
                &format!("{mount}/data/{path}"),
                Some(json!({"options": {"cas": 0}, "data": data})),
            )
            .await
            .map_err(|e| match e {
                KmsError::Vault { message, .. } if message.contains("check-and-set") => {
                    KmsError::AlreadyExists(format!("vault-kv://{mount}/{path}"))
                }
                other => other,
            })?;
        Ok(resp
            .and_then(|r| r["data"]["version"].as_u64())
            .unwrap_or(1))
    }
}

/// Appends to a wiped buffer without leaving an unwiped copy behind when it
/// grows: a larger wiped buffer takes the bytes and the old one is wiped.
fn extend_wiped(buf: &mut Zeroizing<Vec<u8>>, data: &[u8]) {
    let needed = buf.len() + data.len();
    if needed > buf.capacity() {
        let mut grown = Zeroizing::new(Vec::with_capacity(needed.max(buf.capacity() * 2)));
        grown.extend_from_slice(buf);
        *buf = grown;
    }
    buf.extend_from_slice(data);
}

/// Vault's errors may be Go multi-errors over several lines
/// ("1 error occurred:\n\t* reason\n\n"); messages here are one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(|l| l.trim().trim_start_matches("* ").trim())
        .filter(|l| !l.is_empty() && !is_multierror_header(l))
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Go's multierror header: "1 error occurred:", "2 errors occurred:".
fn is_multierror_header(line: &str) -> bool {
    line.ends_with("occurred:")
        && line
            .split(' ')
            .next()
            .is_some_and(|n| n.parse::<u32>().is_ok())
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A [`Signer`] backed by a Vault transit key, pinned to the key version
/// whose public key it loaded: every signature is made with that version and
/// checked against that public key before it is returned, so that a key
/// rotated while a batch is being signed cannot yield signatures that fail
/// to verify.
pub struct TransitSigner {
    client: VaultClient,
    name: String,
    key: TransitKey,
}

impl TransitSigner {
    /// Looks up transit key `name` (its latest version) and prepares to sign with it.
    pub async fn connect(client: VaultClient, name: &str) -> Result<Self, KmsError> {
        let key = client.transit_key(name).await?;
        Ok(Self {
            client,
            name: name.to_owned(),
            key,
        })
    }

    /// The key version every signature is made with.
    pub fn version(&self) -> u64 {
        self.key.version
    }

    fn sign_digest<'a>(&'a self, digest: Digest) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move {
            self.client
                .transit_sign(&self.name, &self.key, &digest)
                .await
                .map_err(|e| KeyError::Signing(e.to_string()))
        })
    }
}

impl Signer for TransitSigner {
    fn public_key(&self) -> &PublicKey {
        &self.key.public
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        self.sign_digest(Digest::sha256_of(message))
    }

    fn sign_artifact<'a>(
        &'a self,
        artifact: &'a Artifact,
    ) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        self.sign_digest(artifact.digest().clone())
    }

    fn describe(&self) -> String {
        format!("hashivault://{}", self.name)
    }

    fn key_version(&self) -> Option<String> {
        Some(self.key.version.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows() {
        let mut config = VaultConfig::new(
            "http://127.0.0.1:8200",
            Zeroizing::new("hvs.super-secret-token".into()),
        );
        config.namespace = Some("team".into());
        assert!(!format!("{config:?}").contains("super-secret"));
        let client = VaultClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("super-secret"));
        assert!(client.token.is_sensitive());
        assert!(!format!("{:?}", client.token).contains("super-secret"));
    }

    #[test]
    fn rejects_bad_addresses_and_tokens() {
        let err = VaultClient::new(VaultConfig::new(
            "127.0.0.1:8200",
            Zeroizing::new("t".into()),
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("must start with http"), "{err}");
        let err = VaultClient::new(VaultConfig::new(
            "http://127.0.0.1:8200",
            Zeroizing::new("bad\ntoken".into()),
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("not allowed in an HTTP header") && !err.contains("bad"),
            "{err}"
        );
    }

    #[test]
    fn vault_errors_become_one_line() {
        assert_eq!(
            one_line("1 error occurred:\n\t* requested version is too old\n\n"),
            "requested version is too old"
        );
        assert_eq!(one_line("2 errors occurred:\n\t* a\n\t* b\n"), "a; b");
        assert_eq!(one_line("permission denied"), "permission denied");
    }

    #[test]
    fn growing_a_wiped_buffer_keeps_its_bytes() {
        let mut buf = Zeroizing::new(Vec::with_capacity(2));
        for chunk in [&b"ab"[..], b"cde", b"", b"fghijk"] {
            extend_wiped(&mut buf, chunk);
        }
        assert_eq!(buf.as_slice(), b"abcdefghijk");
    }
}
