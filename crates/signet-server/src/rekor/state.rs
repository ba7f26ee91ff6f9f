//! The two logs behind the Rekor APIs and what each API needs besides its
//! [`Log`]: keys, log IDs, checkpoint origins; where their stores live.
//!
//! - **Rekor v1** signs SETs and checkpoints with the ECDSA P-256 key. Its
//!   log ID is SHA-256 of the key's DER; its tree ID (Trillian's, in Rekor)
//!   is derived from the same hash, so every replica sharing the key agrees
//!   on it; its checkpoint origin is `"<host> - <treeID>"` with the bare host
//!   on the signature line, as Rekor writes them.
//! - **Rekor v2** signs C2SP checkpoints with the Ed25519 key under the
//!   public URL's host name (what sigstore-go checks); its log ID is the full
//!   C2SP key ID.
//!
//! Each is a `signet-log` [`Log`] in its own store: `DIR/log/rekor-v1.redb`
//! and `DIR/log/rekor-v2.redb`, or the logs `rekor-v1` and `rekor-v2` of
//! the `--database`.
//!
//! **No client entry has index 0.** A new log's first entry is the log's
//! own (a hashedrekord by the Rekor v1 key over the digest of
//! `"signet transparency log <origin>"`), because cosign 2.x's verifier
//! (sigstore-go before its Rekor v2 support) treats a log index of 0 as a
//! missing value and refuses the entry, and protobuf-JSON writers leave a
//! zero index out of bundles, which sigstore-python then reports as a
//! missing field. Replicas starting together on one database append it
//! once: it has a fixed de-duplication identity.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256};
use signet_core::keys::{PrivateKey, PublicKey};
use signet_core::rekor::ProposedEntry;
use signet_log::{
    Log, LogConfig, LogStore, NoteCheckpointSigner, PendingEntry, PostgresStore, RedbStore,
    TreeHead,
};
use signet_tlog::note::{KeyName, NoteSigner};
use signet_tlog::note_keys::NoteSignerKey;

use crate::error::ServerError;
use crate::metrics::Metrics;

/// Name of the Rekor v1 log in its store.
pub const REKOR_V1_LOG: &str = "rekor-v1";
/// Name of the Rekor v2 log in its store.
pub const REKOR_V2_LOG: &str = "rekor-v2";

/// Metric: entries appended, by API, kind and result (`created`, `duplicate`).
pub const METRIC_APPENDS: &str = "signet_tlog_entries_total";
/// Metric: entries refused before logging, by API and reason.
pub const METRIC_REFUSED: &str = "signet_tlog_entries_refused_total";
/// Metric: the size of each log's tree, by API.
pub const METRIC_TREE_SIZE: &str = "signet_tlog_tree_size";

/// What the log is started with.
pub struct LogSettings {
    /// The Rekor v1 key (ECDSA P-256): SETs and checkpoints.
    pub rekor_v1_key: PrivateKey,
    /// The Rekor v2 checkpoint key (Ed25519).
    pub rekor_v2_key: PrivateKey,
    /// Where the embedded store lives (`DIR/log`).
    pub store_dir: PathBuf,
    /// `--database`: a PostgreSQL URL; the embedded store when `None`.
    pub database: Option<String>,
    /// The public URL (base of entry URLs).
    pub base_url: String,
    /// The Rekor v2 checkpoint origin (the public URL's host name).
    pub checkpoint_origin: String,
}

impl std::fmt::Debug for LogSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSettings")
            .field("store_dir", &self.store_dir)
            .field("database", &self.database.as_deref().map(redact_url))
            .field("base_url", &self.base_url)
            .field("checkpoint_origin", &self.checkpoint_origin)
            .finish_non_exhaustive()
    }
}

/// A URL with any password replaced by `***`, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

/// Where the logs are stored.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded store: one redb file per log in this directory.
    Embedded(PathBuf),
    /// A PostgreSQL database holding both logs.
    Postgres(String),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded(dir) => write!(f, "Embedded({})", dir.display()),
            Self::Postgres(url) => write!(f, "Postgres({})", redact_url(url)),
        }
    }
}

impl StoreLocation {
    /// The embedded store in `store_dir`, or the database.
    pub fn new(store_dir: &Path, database: Option<&str>) -> Self {
        match database {
            Some(url) => Self::Postgres(url.to_owned()),
            None => Self::Embedded(store_dir.to_path_buf()),
        }
    }

    /// What to call it in messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded(dir) => format!("embedded store in {}", dir.display()),
            Self::Postgres(url) => format!("PostgreSQL at {}", redact_url(url)),
        }
    }

    /// Opens (creating if need be) the store of the log `name`.
    pub async fn open(&self, name: &'static str) -> Result<Arc<dyn LogStore>, ServerError> {
        let failed = |reason: String| ServerError::Service {
            service: "transparency log",
            reason: format!(
                "opening the {name} log in the {}: {reason}",
                self.describe()
            ),
        };
        match self {
            Self::Embedded(dir) => {
                let path = dir.join(format!("{name}.redb"));
                let store = tokio::task::spawn_blocking(move || RedbStore::open(path))
                    .await
                    .map_err(|e| failed(e.to_string()))?
                    .map_err(|e| failed(store_hint(&e.to_string())))?;
                Ok(Arc::new(store))
            }
            Self::Postgres(url) => {
                let store = PostgresStore::open(url, name)
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                Ok(Arc::new(store))
            }
        }
    }
}

/// redb refuses a file another process holds open; say what that means here.
fn store_hint(reason: &str) -> String {
    if reason.contains("already open") {
        format!(
            "{reason} (another signet server, or verify-log, is using this data directory; \
             replicas share a log through --database, not through one directory)"
        )
    } else {
        reason.to_owned()
    }
}

/// The Rekor v1 tree ID of a log key: the first 8 bytes of SHA-256 of its
/// DER, as a positive 63-bit number (never 0).
pub fn tree_id(key: &PublicKey) -> u64 {
    let hash = Sha256::digest(key.to_spki_der());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(first) & (i64::MAX as u64)).max(1)
}

/// The Rekor v1 checkpoint origin: `"<host> - <treeID>"`.
pub fn rekor_v1_origin(host: &str, key: &PublicKey) -> String {
    format!("{host} - {}", tree_id(key))
}

/// A copy of a private key (keys are not `Clone`, so that copies are deliberate).
fn duplicate(key: &PrivateKey) -> Result<PrivateKey, ServerError> {
    let der = key.to_pkcs8_der().map_err(|e| ServerError::Service {
        service: "transparency log",
        reason: format!("copying the log key: {e}"),
    })?;
    PrivateKey::from_pkcs8_der(&der).map_err(|e| ServerError::Service {
        service: "transparency log",
        reason: format!("copying the log key: {e}"),
    })
}

/// What a log's first entry says.
fn genesis_statement(origin: &str) -> Vec<u8> {
    format!("signet transparency log {origin}").into_bytes()
}

/// The first entry of a new log: a hashedrekord (0.0.1 for the v1 log,
/// 0.0.2 for the v2 log) by `key` over the digest of the genesis statement.
fn genesis_entry(key: &PrivateKey, origin: &str, v2: bool) -> Result<PendingEntry, ServerError> {
    let statement = genesis_statement(origin);
    let digest = Sha256::digest(&statement);
    let signature = key.sign(&statement).map_err(service)?;
    let request = if v2 {
        serde_json::json!({"hashedRekordRequestV002": {
            "digest": B64.encode(digest),
            "signature": {"content": B64.encode(&signature), "verifier": {
                "publicKey": {"rawBytes": B64.encode(key.public_key().to_spki_der())},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}})
    } else {
        serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
            "signature": {"content": B64.encode(&signature),
                          "publicKey": {"content": B64.encode(key.public_key().to_pem())}},
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}}}})
    }
    .to_string();
    let proposal = if v2 {
        ProposedEntry::parse_v2(request.as_bytes())
    } else {
        ProposedEntry::parse_v1(request.as_bytes())
    }
    .map_err(service)?;
    proposal.verify_signatures().map_err(service)?;
    let body = proposal.canonical_body().map_err(service)?;
    // A fixed identity: replicas racing to start one log append it once.
    let identity = signet_tlog::leaf_hash(&statement);
    Ok(PendingEntry::with_identity(body, identity))
}

/// Appends the genesis entry to a log that has none.
async fn ensure_genesis(log: &Log, entry: PendingEntry) -> Result<(), ServerError> {
    if log.latest().await.map_err(service)?.size == 0 {
        log.append(entry).await.map_err(service)?;
    }
    Ok(())
}

/// The Rekor v1 API's log.
pub struct RekorV1Log {
    /// The engine.
    pub log: Log,
    /// Signs SETs.
    pub key: PrivateKey,
    /// The public key, as served at `/api/v1/log/publicKey`.
    pub public_key: PublicKey,
    /// SHA-256 of the key's DER.
    pub log_id: [u8; 32],
    /// The tree ID in entry IDs and checkpoints.
    pub tree_id: u64,
}

/// The Rekor v2 API's log.
pub struct RekorV2Log {
    /// The engine.
    pub log: Log,
    /// The C2SP checkpoint key ID (32 bytes, as bundles name the log).
    pub log_id: [u8; 32],
}

/// The transparency log: both APIs' logs, started before the server
/// accepts connections and closed after the last request.
pub struct TransparencyLog {
    /// The Rekor v1 log.
    pub v1: RekorV1Log,
    /// The Rekor v2 log.
    pub v2: RekorV2Log,
    /// The public URL without a trailing slash (base of entry URLs).
    pub base_url: String,
    /// Where the logs are stored.
    pub location: StoreLocation,
    /// The server's metrics.
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for TransparencyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparencyLog")
            .field("location", &self.location)
            .field("tree_id", &self.v1.tree_id)
            .finish_non_exhaustive()
    }
}

fn service(reason: impl std::fmt::Display) -> ServerError {
    ServerError::Service {
        service: "transparency log",
        reason: reason.to_string(),
    }
}

impl TransparencyLog {
    /// Opens both logs' stores and starts their sequencers.
    pub async fn start(settings: LogSettings, metrics: Arc<Metrics>) -> Result<Self, ServerError> {
        let LogSettings {
            rekor_v1_key,
            rekor_v2_key,
            store_dir,
            database,
            base_url,
            checkpoint_origin,
        } = settings;
        let location = StoreLocation::new(&store_dir, database.as_deref());
        let host = KeyName::new(checkpoint_origin.clone()).map_err(|e| {
            service(format!(
                "the public URL's host {checkpoint_origin:?} cannot name checkpoints: {e}"
            ))
        })?;
        let config = LogConfig::default();

        let v1_public = rekor_v1_key.public_key();
        let v1_origin = rekor_v1_origin(host.as_str(), &v1_public);
        let v1_signer =
            NoteSignerKey::rekor_v1(host.clone(), duplicate(&rekor_v1_key)?).map_err(service)?;
        let v1_signer = NoteCheckpointSigner::new(
            v1_origin.clone(),
            vec![Arc::new(v1_signer) as Arc<dyn NoteSigner>],
        )
        .map_err(service)?;
        let v1_log = Log::open(
            location.open(REKOR_V1_LOG).await?,
            Arc::new(v1_signer),
            config.clone(),
        )
        .await
        .map_err(|e| service(format!("the {REKOR_V1_LOG} log: {e}")))?;
        ensure_genesis(&v1_log, genesis_entry(&rekor_v1_key, &v1_origin, false)?).await?;

        let v2_public = rekor_v2_key.public_key();
        let v2_log_id = crate::trust_files::checkpoint_key_id(host.as_str(), &v2_public)
            .ok_or_else(|| service("the Rekor v2 key is not Ed25519"))?;
        let v2_signer = NoteSignerKey::new(host.clone(), rekor_v2_key).map_err(service)?;
        let v2_signer = NoteCheckpointSigner::new(
            host.as_str(),
            vec![Arc::new(v2_signer) as Arc<dyn NoteSigner>],
        )
        .map_err(service)?;
        let v2_log = Log::open(
            location.open(REKOR_V2_LOG).await?,
            Arc::new(v2_signer),
            config,
        )
        .await
        .map_err(|e| service(format!("the {REKOR_V2_LOG} log: {e}")))?;
        ensure_genesis(&v2_log, genesis_entry(&rekor_v1_key, host.as_str(), true)?).await?;

        metrics.describe_counter(
            METRIC_APPENDS,
            "Transparency-log entries appended, by API, kind and result.",
        );
        metrics.describe_counter(
            METRIC_REFUSED,
            "Transparency-log entries refused before logging, by API and reason.",
        );
        metrics.describe_gauge(METRIC_TREE_SIZE, "Entries in each log's tree, by API.");
        let log = Self {
            v1: RekorV1Log {
                log: v1_log,
                key: rekor_v1_key,
                log_id: Sha256::digest(v1_public.to_spki_der()).into(),
                tree_id: tree_id(&v1_public),
                public_key: v1_public,
            },
            v2: RekorV2Log {
                log: v2_log,
                log_id: v2_log_id,
            },
            base_url: base_url.trim_end_matches('/').to_owned(),
            location,
            metrics,
        };
        for (api, head) in [
            ("v1", log.v1.log.latest().await),
            ("v2", log.v2.log.latest().await),
        ] {
            let head = head.map_err(service)?;
            log.record_size(api, &head);
            tracing::info!(
                api,
                tree_size = head.size,
                store = %log.location.describe(),
                "transparency log open"
            );
        }
        Ok(log)
    }

    /// Publishes a log's tree size as a metric.
    pub fn record_size(&self, api: &'static str, head: &TreeHead) {
        self.metrics
            .set(METRIC_TREE_SIZE, &[("api", api)], head.size as f64);
    }

    /// Stops both sequencers after their current step (reads keep working).
    pub async fn shutdown(&self) {
        self.v1.log.close().await;
        self.v2.log.close().await;
    }

    /// Whether both stores answer.
    pub async fn check(&self) -> Result<(), String> {
        self.v1
            .log
            .latest()
            .await
            .map_err(|e| format!("{REKOR_V1_LOG}: {e}"))?;
        self.v2
            .log
            .latest()
            .await
            .map_err(|e| format!("{REKOR_V2_LOG}: {e}"))?;
        Ok(())
    }
}
