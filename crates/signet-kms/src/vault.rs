//! A small Vault/OpenBao HTTP client: transit keys for signing and KV v2 for
//! stored key pairs. Only the endpoints signet needs.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use signet_core::KeyError;
use signet_core::keys::{BoxFuture, PublicKey, Signer};
use zeroize::Zeroizing;

use crate::KmsError;

/// Largest Vault response signet reads.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// A Vault or OpenBao server, addressed and authenticated as cosign does.
#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    addr: String,
    token: Zeroizing<String>,
    namespace: Option<String>,
    transit_mount: String,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl VaultClient {
    /// Reads `VAULT_ADDR`, `VAULT_TOKEN` (else `~/.vault-token`),
    /// `VAULT_NAMESPACE` and `TRANSIT_SECRET_ENGINE_PATH`.
    pub fn from_env() -> Result<Self, KmsError> {
        let addr =
            std::env::var("VAULT_ADDR").map_err(|_| KmsError::MissingEnv("VAULT_ADDR".into()))?;
        let token = match std::env::var("VAULT_TOKEN") {
            Ok(t) if !t.is_empty() => t,
            _ => std::env::var_os("HOME")
                .and_then(|h| {
                    std::fs::read_to_string(std::path::Path::new(&h).join(".vault-token")).ok()
                })
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| KmsError::MissingEnv("VAULT_TOKEN".into()))?,
        };
        let namespace = std::env::var("VAULT_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty());
        let transit_mount = std::env::var("TRANSIT_SECRET_ENGINE_PATH")
            .ok()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "transit".to_owned());
        Self::new(&addr, token, namespace, transit_mount)
    }

    /// A client for `addr` with `token`.
    pub fn new(
        addr: &str,
        token: String,
        namespace: Option<String>,
        transit_mount: String,
    ) -> Result<Self, KmsError> {
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(KmsError::Vault {
                operation: "configuration".into(),
                message: format!("VAULT_ADDR {addr:?} must start with http:// or https://"),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| KmsError::Vault {
                operation: "client setup".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            addr: addr.trim_end_matches('/').to_owned(),
            token: Zeroizing::new(token),
            namespace,
            transit_mount: transit_mount.trim_matches('/').to_owned(),
        })
    }

    /// Sends a request; `Ok(None)` for 404 and for empty (204) answers.
    async fn call(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, KmsError> {
        let err = |message: String| KmsError::Vault {
            operation: operation.to_owned(),
            message,
        };
        let mut req = self
            .http
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", self.token.as_str())
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| err(format!("cannot reach {} ({})", self.addr, root_cause(&e))))?;
        let status = resp.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| err(root_cause(&e)))? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(err(format!(
                    "response larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
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
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| err(format!("response is not JSON: {e}")))
    }

    /// The public key of the latest version of transit key `name`.
    pub async fn transit_public_key(&self, name: &str) -> Result<PublicKey, KmsError> {
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
        let latest = data["latest_version"].as_u64().unwrap_or(1);
        let pem = data["keys"][latest.to_string()]["public_key"]
            .as_str()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: format!("transit key version {latest} has no public key"),
            })?;
        PublicKey::from_pem(pem.as_bytes())
            .map_err(|e| KmsError::key(format!("hashivault://{name}"), e))
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

    /// Signs SHA-256(`message`) with transit key `name`; returns the DER signature.
    pub async fn transit_sign(
        &self,
        name: &str,
        public: &PublicKey,
        message: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let op = format!("transit sign with {name:?}");
        let mut body = json!({
            "input": B64.encode(signet_core::Digest::sha256_of(message).raw()),
            "prehashed": true,
            "hash_algorithm": "sha2-256",
        });
        if matches!(public, PublicKey::Rsa(_)) {
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
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: "transit key not found".into(),
            })?;
        let sig = resp["data"]["signature"].as_str().unwrap_or_default();
        // "vault:v<N>:<base64>"
        let b64 = sig.splitn(3, ':').nth(2).ok_or_else(|| KmsError::Vault {
            operation: op.clone(),
            message: "response has no signature".into(),
        })?;
        B64.decode(b64).map_err(|e| KmsError::Vault {
            operation: op,
            message: format!("signature is not base64: {e}"),
        })
    }

    /// Reads the string fields of KV v2 secret `path` under `mount`.
    pub async fn kv_read(
        &self,
        mount: &str,
        path: &str,
        version: Option<u64>,
    ) -> Result<BTreeMap<String, String>, KmsError> {
        let op = format!("read secret {mount}/{path}");
        let mut api = format!("{mount}/data/{path}");
        if let Some(v) = version {
            api.push_str(&format!("?version={v}"));
        }
        let resp = self
            .call(&op, reqwest::Method::GET, &api, None)
            .await?
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: format!(
                    "no such secret{} (is {mount:?} a KV v2 mount?)",
                    version.map(|v| format!(" version {v}")).unwrap_or_default()
                ),
            })?;
        let data = resp["data"]["data"]
            .as_object()
            .ok_or_else(|| KmsError::Vault {
                operation: op.clone(),
                message: "secret has no data (deleted or destroyed version?)".into(),
            })?;
        Ok(data
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect())
    }

    /// Creates KV v2 secret `path` with `data`, failing if it already exists
    /// (check-and-set 0), so that a key pair is never overwritten. Returns the version.
    pub async fn kv_create(
        &self,
        mount: &str,
        path: &str,
        data: &BTreeMap<String, String>,
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

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A [`Signer`] backed by a Vault transit key.
pub struct TransitSigner {
    client: VaultClient,
    name: String,
    public: PublicKey,
}

impl TransitSigner {
    /// Looks up transit key `name` and prepares to sign with it.
    pub async fn connect(client: VaultClient, name: &str) -> Result<Self, KmsError> {
        let public = client.transit_public_key(name).await?;
        Ok(Self {
            client,
            name: name.to_owned(),
            public,
        })
    }
}

impl Signer for TransitSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move {
            self.client
                .transit_sign(&self.name, &self.public, message)
                .await
                .map_err(|e| KeyError::Signing(e.to_string()))
        })
    }

    fn describe(&self) -> String {
        format!("hashivault://{}", self.name)
    }
}
