//! The trust files that describe this server, so that a client needs nothing
//! else: `trusted_root.json` (what to trust when verifying),
//! `signing_config.json` v0.2 (where to sign) and `client_trust_config.json`
//! (both, the form sigstore-python's `--trust-config` reads).
//!
//! They are built from the configuration and the public keys at start-up
//! with `signet-trust`'s models and writers, served at `/trusted_root.json`,
//! `/signing_config.json` and `/client_trust_config.json`, and written into
//! the data directory.
//!
//! The trusted root is written with the v0.1 media type and without
//! `operator` or `checkpointKeyId` fields: cosign 2.5 and sigstore-go 0.7
//! refuse unknown fields there.
//!
//! What it lists:
//! - `tlogs`: the Rekor v1 log (ECDSA P-256; `logId` = SHA-256 of the key's
//!   DER), and the Rekor v2 log (Ed25519; `logId` = the C2SP checkpoint key
//!   ID over the checkpoint origin, which is the public URL's host name),
//!   both at the public URL.
//! - `certificateAuthorities`: the Fulcio chain (intermediate, root).
//! - `ctlogs`: the CT log key.
//! - `timestampAuthorities`: the TSA chain (signing certificate first).
//!
//! The signing config lists the CA, the Rekor v2 and v1 APIs (one operator:
//! clients pick the newest API they speak), the TSA, and the email-type
//! issuers as interactive OIDC providers.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use sha2::{Digest as _, Sha256};
use signet_core::hash::HashAlgorithm;
use signet_core::keys::PublicKey;
use signet_pki::certificate::Certificate;
use signet_trust::{
    CertificateAuthority, ClientTrustConfig, DistinguishedName, Service, ServiceSelector,
    SigningConfig, TimeRange, TransparencyLog, TrustedCertificate, TrustedPublicKey, TrustedRoot,
};

use crate::config::{IssuerType, ServerConfig};
use crate::datadir::DataDir;
use crate::error::ServerError;
use crate::material::PublicMaterial;

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
        let signing_config = signing_config(config)?;
        let client = ClientTrustConfig {
            trusted_root: trusted_root.clone(),
            signing_config: signing_config.clone(),
        };
        Ok(Self {
            trusted_root: pretty(&trusted_root.to_json()),
            signing_config: pretty(&signing_config.to_json()),
            client_trust_config: pretty(&client.to_json()),
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

/// Indents a compact JSON document for people reading the files.
fn pretty(compact: &str) -> String {
    let mut out = serde_json::from_str::<serde_json::Value>(compact)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| compact.to_owned());
    out.push('\n');
    out
}

/// The C2SP signed-note key ID of an Ed25519 key named `origin`:
/// SHA-256(origin ‖ "\n" ‖ 0x01 ‖ public key). Rekor v2 logs are identified
/// by the whole hash in a trusted root; notes carry its first 4 bytes
/// (`signet_tlog::note_keys::named_key_id`, which keeps only those).
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

fn trust_error(what: &'static str) -> impl Fn(signet_trust::TrustError) -> ServerError {
    move |e| ServerError::Issue {
        what,
        reason: e.to_string(),
    }
}

fn timestamp(t: std::time::SystemTime) -> Result<jiff::Timestamp, ServerError> {
    jiff::Timestamp::try_from(t).map_err(|e| ServerError::Issue {
        what: "the trust files",
        reason: format!("time out of range: {e}"),
    })
}

fn log_entry(
    base_url: &str,
    key: &PublicKey,
    log_id: Vec<u8>,
    start: jiff::Timestamp,
) -> Result<TransparencyLog, ServerError> {
    Ok(TransparencyLog {
        base_url: base_url.to_owned(),
        hash_algorithm: HashAlgorithm::Sha2_256,
        public_key: TrustedPublicKey::from_public_key(key, Some(TimeRange::since(start)))
            .map_err(trust_error("the trusted root"))?,
        log_id,
        checkpoint_key_id: None,
        operator: None,
    })
}

/// The `O=` and `CN=` of a certificate's subject.
fn subject(cert: &Certificate) -> DistinguishedName {
    let name = cert.x509().tbs_certificate().subject();
    let text = |v: der::Result<Option<x509_cert::ext::pkix::name::DirectoryString>>| {
        v.ok()
            .flatten()
            .map(|s| s.value().into_owned())
            .unwrap_or_default()
    };
    DistinguishedName {
        organization: text(name.organization()),
        common_name: text(name.common_name()),
    }
}

fn certificate_authority(
    chain: &[Certificate],
    uri: &str,
) -> Result<CertificateAuthority, ServerError> {
    let start = match chain.first() {
        Some(c) => Some(TimeRange::since(timestamp(c.not_before())?)),
        None => None,
    };
    Ok(CertificateAuthority {
        subject: chain.first().map(subject).unwrap_or_default(),
        uri: uri.to_owned(),
        cert_chain: chain
            .iter()
            .map(|c| TrustedCertificate::from_der(c.as_der().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(trust_error("the trusted root"))?,
        valid_for: start,
        operator: None,
    })
}

fn created(config: &ServerConfig) -> Result<jiff::Timestamp, ServerError> {
    let t = crate::time::parse_rfc3339(&config.created).ok_or_else(|| ServerError::Issue {
        what: "the trust files",
        reason: format!("created {:?} is not an RFC 3339 time", config.created),
    })?;
    timestamp(t)
}

fn trusted_root(config: &ServerConfig, m: &PublicMaterial) -> Result<TrustedRoot, ServerError> {
    let base = config.base_url();
    let start = created(config)?;
    let sha256 = |k: &PublicKey| Sha256::digest(k.to_spki_der()).to_vec();
    let origin = config.checkpoint_origin();
    let v2_id = checkpoint_key_id(&origin, &m.rekor_v2).ok_or_else(|| ServerError::Issue {
        what: "the trusted root",
        reason: "the Rekor v2 key is not Ed25519".into(),
    })?;
    Ok(TrustedRoot {
        tlogs: vec![
            log_entry(&base, &m.rekor_v1, sha256(&m.rekor_v1), start)?,
            log_entry(&base, &m.rekor_v2, v2_id.to_vec(), start)?,
        ],
        certificate_authorities: vec![certificate_authority(&m.fulcio_chain, &base)?],
        ctlogs: vec![log_entry(&base, &m.ct_log, sha256(&m.ct_log), start)?],
        timestamp_authorities: vec![certificate_authority(
            &m.tsa_chain,
            &format!("{base}/api/v1/timestamp"),
        )?],
        ..TrustedRoot::default()
    })
}

fn signing_config(config: &ServerConfig) -> Result<SigningConfig, ServerError> {
    let base = config.base_url();
    let operator = config.checkpoint_origin();
    let start = created(config)?;
    let service = |url: String, version: u32| Service {
        url,
        major_api_version: version,
        valid_for: TimeRange::since(start),
        operator: operator.clone(),
    };
    // Interactive sign-in providers; CI issuers hand out tokens themselves.
    let oidc_urls = config
        .oidc_issuers
        .iter()
        .filter(|i| i.issuer_type == IssuerType::Email)
        .map(|i| service(i.url.clone(), 1))
        .collect();
    Ok(SigningConfig {
        ca_urls: vec![service(base.clone(), 1)],
        oidc_urls,
        rekor_tlog_urls: vec![service(base.clone(), 2), service(base.clone(), 1)],
        rekor_tlog_config: Some(ServiceSelector::Any),
        tsa_urls: vec![service(format!("{base}/api/v1/timestamp"), 1)],
        tsa_config: Some(ServiceSelector::Any),
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
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

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

    /// The trusted root names the log by the whole hash; checkpoints carry
    /// its first four bytes, as `signet-tlog` computes them.
    #[test]
    fn checkpoint_key_id_agrees_with_the_note_key_id() {
        use signet_tlog::note::{KeyName, NoteVerifier as _};
        use signet_tlog::note_keys::NoteVerifierKey;
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let full = checkpoint_key_id(
            "sigstore.example.test",
            &PublicKey::Ed25519(key.verifying_key()),
        )
        .unwrap();
        let note = NoteVerifierKey::ed25519(
            KeyName::new("sigstore.example.test").unwrap(),
            key.verifying_key(),
        );
        assert_eq!(
            note.key_id().0,
            u32::from_be_bytes([full[0], full[1], full[2], full[3]])
        );
    }
}
