//! The trust files that describe this server, so that a client needs nothing
//! else: `trusted_root.json` (what to trust when verifying),
//! `signing_config.json` v0.2 (where to sign) and `client_trust_config.json`
//! (both, the form sigstore-python's `--trust-config` reads).
//!
//! They are built from the configuration and the public keys at start-up,
//! served at `/trusted_root.json`, `/signing_config.json` and
//! `/client_trust_config.json`, and written into the data directory.
//!
//! The trusted root uses the v0.1 media type and no `operator` or
//! `checkpointKeyId` fields: cosign 2.5 and sigstore-go 0.7 refuse unknown
//! fields there.
//!
//! What it lists:
//! - `tlogs`: the Rekor v1 log (ECDSA P-256; `logId` = SHA-256 of the key's
//!   DER), and the Rekor v2 log (Ed25519; `logId` = the C2SP checkpoint key
//!   ID over the checkpoint origin, which is the public URL's host name),
//!   both at the public URL.
//! - `certificateAuthorities`: the Fulcio chain (intermediate, root).
//! - `ctlogs`: the CT log key.
//! - `timestampAuthorities`: the TSA chain (signing certificate first).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use signet_core::keys::PublicKey;
use signet_pki::certificate::Certificate;

use crate::config::{IssuerType, ServerConfig};
use crate::datadir::DataDir;
use crate::error::ServerError;
use crate::material::PublicMaterial;

/// `trusted_root.json`'s media type (v0.1, which cosign 2.5 and sigstore-go 0.7 read).
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// `signing_config.json`'s media type.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// `client_trust_config.json`'s media type.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// The three documents, as served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustFiles {
    /// `trusted_root.json`.
    pub trusted_root: String,
    /// `signing_config.json`.
    pub signing_config: String,
    /// `client_trust_config.json`.
    pub client_trust_config: String,
}

impl TrustFiles {
    /// Builds the documents for `config` and `material`.
    pub fn build(config: &ServerConfig, material: &PublicMaterial) -> Result<Self, ServerError> {
        let trusted_root = trusted_root(config, material)?;
        let signing_config = signing_config(config);
        let client = json!({
            "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": trusted_root,
            "signingConfig": signing_config,
        });
        Ok(Self {
            trusted_root: pretty(&trusted_root),
            signing_config: pretty(&signing_config),
            client_trust_config: pretty(&client),
        })
    }

    /// Writes the documents into the data directory, replacing older ones
    /// atomically (they are public and derived, unlike keys).
    pub fn write_into(&self, dir: &DataDir) -> Result<(), ServerError> {
        for (path, text) in self.files(dir) {
            replace_file(&path, text.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the documents whose copy in the data directory differs;
    /// whether any did.
    pub fn write_if_changed(&self, dir: &DataDir) -> Result<bool, ServerError> {
        let mut wrote = false;
        for (path, text) in self.files(dir) {
            let current = signet_core::limits::read_file(
                &path,
                signet_core::limits::InputLimit::new("a trust file", 4 << 20),
            )
            .ok();
            if current.as_deref() != Some(text.as_bytes()) {
                replace_file(&path, text.as_bytes())?;
                wrote = true;
            }
        }
        Ok(wrote)
    }

    fn files<'a>(&'a self, dir: &DataDir) -> [(std::path::PathBuf, &'a String); 3] {
        [
            (dir.trusted_root_file(), &self.trusted_root),
            (dir.signing_config_file(), &self.signing_config),
            (dir.client_trust_config_file(), &self.client_trust_config),
        ]
    }
}

/// `GET /trusted_root.json`, `/signing_config.json`, `/client_trust_config.json`.
pub fn router(files: Arc<TrustFiles>) -> Router {
    async fn trusted_root(State(f): State<Arc<TrustFiles>>) -> impl IntoResponse {
        json_file(f.trusted_root.clone())
    }
    async fn signing_config(State(f): State<Arc<TrustFiles>>) -> impl IntoResponse {
        json_file(f.signing_config.clone())
    }
    async fn client_trust_config(State(f): State<Arc<TrustFiles>>) -> impl IntoResponse {
        json_file(f.client_trust_config.clone())
    }
    Router::new()
        .route("/trusted_root.json", get(trusted_root))
        .route("/signing_config.json", get(signing_config))
        .route("/client_trust_config.json", get(client_trust_config))
        .with_state(files)
}

fn json_file(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// The C2SP signed-note key ID of an Ed25519 key named `origin`:
/// SHA-256(origin ‖ "\n" ‖ 0x01 ‖ public key). Rekor v2 logs are identified
/// by it in a trusted root (the whole hash; notes carry its first 4 bytes).
pub fn checkpoint_key_id(origin: &str, key: &PublicKey) -> Option<[u8; 32]> {
    let PublicKey::Ed25519(k) = key else {
        return None;
    };
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update(b"\n\x01");
    h.update(k.as_bytes());
    Some(h.finalize().into())
}

fn key_details(key: &PublicKey) -> Result<&'static str, ServerError> {
    Ok(match key {
        PublicKey::EcdsaP256(_) => "PKIX_ECDSA_P256_SHA_256",
        PublicKey::EcdsaP384(_) => "PKIX_ECDSA_P384_SHA_384",
        PublicKey::Ed25519(_) => "PKIX_ED25519",
        other => {
            return Err(ServerError::Issue {
                what: "the trusted root",
                reason: format!(
                    "a {} log key has no trusted-root key type here",
                    other.kind()
                ),
            });
        }
    })
}

fn log_entry(
    base_url: &str,
    key: &PublicKey,
    log_id: &[u8],
    start: &str,
) -> Result<Value, ServerError> {
    Ok(json!({
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": B64.encode(key.to_spki_der()),
            "keyDetails": key_details(key)?,
            "validFor": {"start": start},
        },
        "logId": {"keyId": B64.encode(log_id)},
    }))
}

/// The `O=` and `CN=` of a certificate's subject.
fn subject(cert: &Certificate) -> Value {
    let name = cert.x509().tbs_certificate().subject();
    let text = |v: der::Result<Option<x509_cert::ext::pkix::name::DirectoryString>>| {
        v.ok()
            .flatten()
            .map(|s| s.value().into_owned())
            .unwrap_or_default()
    };
    json!({
        "organization": text(name.organization()),
        "commonName": text(name.common_name()),
    })
}

fn certificate_authority(chain: &[Certificate], uri: &str) -> Value {
    let start = chain
        .first()
        .map(|c| crate::time::format_rfc3339(c.not_before()))
        .unwrap_or_default();
    json!({
        "subject": chain.first().map(subject).unwrap_or_else(|| json!({})),
        "uri": uri,
        "certChain": {
            "certificates": chain
                .iter()
                .map(|c| json!({"rawBytes": B64.encode(c.as_der())}))
                .collect::<Vec<_>>(),
        },
        "validFor": {"start": start},
    })
}

fn trusted_root(config: &ServerConfig, m: &PublicMaterial) -> Result<Value, ServerError> {
    let base = config.base_url();
    let start = config.created.as_str();
    let sha256 = |k: &PublicKey| -> [u8; 32] { Sha256::digest(k.to_spki_der()).into() };
    let origin = config.checkpoint_origin();
    let v2_id = checkpoint_key_id(&origin, &m.rekor_v2).ok_or_else(|| ServerError::Issue {
        what: "the trusted root",
        reason: "the Rekor v2 key is not Ed25519".into(),
    })?;
    Ok(json!({
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [
            log_entry(&base, &m.rekor_v1, &sha256(&m.rekor_v1), start)?,
            log_entry(&base, &m.rekor_v2, &v2_id, start)?,
        ],
        "certificateAuthorities": [certificate_authority(&m.fulcio_chain, &base)],
        "ctlogs": [log_entry(&base, &m.ct_log, &sha256(&m.ct_log), start)?],
        "timestampAuthorities": [
            certificate_authority(&m.tsa_chain, &format!("{base}/api/v1/timestamp")),
        ],
    }))
}

fn signing_config(config: &ServerConfig) -> Value {
    let base = config.base_url();
    let operator = config.checkpoint_origin();
    let service = |url: String, version: u32| {
        json!({
            "url": url,
            "majorApiVersion": version,
            "validFor": {"start": config.created},
            "operator": operator,
        })
    };
    // Interactive sign-in providers; CI issuers hand out tokens themselves.
    let oidc: Vec<Value> = config
        .oidc_issuers
        .iter()
        .filter(|i| i.issuer_type == IssuerType::Email)
        .map(|i| service(i.url.clone(), 1))
        .collect();
    json!({
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(base.clone(), 1)],
        "oidcUrls": oidc,
        "rekorTlogUrls": [service(base.clone(), 2), service(base.clone(), 1)],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [service(format!("{base}/api/v1/timestamp"), 1)],
        "tsaConfig": {"selector": "ANY"},
    })
}

/// Replaces `path` with `contents` atomically (a temporary file in the same
/// directory, then a rename).
fn replace_file(path: &Path, contents: &[u8]) -> Result<(), ServerError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| ServerError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_key_id_matches_the_public_good_rekor_v2_log() {
        // log2025-1.rekor.sigstore.dev in the public-good trusted root.
        let spki = B64
            .decode("MCowBQYDK2VwAyEAt8rlp1knGwjfbcXAYPYAkn0XiLz1x8O4t0YkEhie244=")
            .unwrap();
        let key = PublicKey::from_spki_der(&spki).unwrap();
        let id = checkpoint_key_id("log2025-1.rekor.sigstore.dev", &key).unwrap();
        assert_eq!(
            B64.encode(id),
            "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A="
        );
    }
}
