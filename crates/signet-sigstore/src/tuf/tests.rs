//! A TUF repository generated here with tough's editor and served on
//! loopback; the client refreshes from it, follows a root rotation, and
//! refuses tampered targets and expired metadata.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use tough::editor::RepositoryEditor;
use tough::editor::signed::SignedRole;
use tough::key_source::KeySource;
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root};
use tough::sign::{Sign, parse_keypair};

use super::*;
use crate::test_server::serve;

/// A signing key held in memory (a test TUF key, never a user's).
#[derive(Debug)]
struct MemoryKey(Vec<u8>);

#[tough::async_trait]
impl KeySource for MemoryKey {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        Ok(Box::new(parse_keypair(&self.0)?))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Ok(())
    }
}

fn new_key() -> MemoryKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    MemoryKey(key.to_pkcs8_der().unwrap().as_bytes().to_vec())
}

async fn key_id(key: &MemoryKey) -> tough::schema::decoded::Decoded<tough::schema::decoded::Hex> {
    key.as_sign().await.unwrap().tuf_key().key_id().unwrap()
}

fn in_days(days: i64) -> jiff::Timestamp {
    jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days)
}

/// A root listing `root_keys` for the root role and `key` for the others.
async fn root(version: u64, root_keys: &[&MemoryKey], key: &MemoryKey) -> Root {
    let mut keys = HashMap::new();
    let mut root_ids = Vec::new();
    for k in root_keys {
        let id = key_id(k).await;
        keys.insert(id.clone(), k.as_sign().await.unwrap().tuf_key());
        root_ids.push(id);
    }
    let id = key_id(key).await;
    keys.insert(id.clone(), key.as_sign().await.unwrap().tuf_key());
    let role = |ids: Vec<_>| RoleKeys {
        keyids: ids,
        threshold: NonZeroU64::MIN,
        _extra: HashMap::new(),
    };
    let roles = HashMap::from([
        (RoleType::Root, role(root_ids)),
        (RoleType::Snapshot, role(vec![id.clone()])),
        (RoleType::Targets, role(vec![id.clone()])),
        (RoleType::Timestamp, role(vec![id])),
    ]);
    Root {
        spec_version: "1.0.0".into(),
        consistent_snapshot: true,
        version: NonZeroU64::new(version).unwrap(),
        expires: in_days(30),
        keys,
        roles,
        _extra: HashMap::new(),
    }
}

/// The served repository: `dir/metadata` is the mirror root, its targets
/// under `targets/`.
struct TestRepo {
    dir: tempfile::TempDir,
    version: u64,
}

impl TestRepo {
    fn mirror_dir(&self) -> PathBuf {
        self.dir.path().join("mirror")
    }

    /// Signs `root` with `signers` and writes it as `N.root.json` (and
    /// `root.json`, the file a client starts from); returns its path.
    async fn write_root(&self, root: Root, signers: &[Box<dyn KeySource>]) -> PathBuf {
        let signed = SignedRole::new(
            root.clone(),
            &KeyHolder::Root(root),
            signers,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .await
        .unwrap();
        signed.write(self.mirror_dir(), true).await.unwrap();
        let path = self.dir.path().join("root.json");
        std::fs::write(&path, signed.buffer()).unwrap();
        path
    }

    /// A new version of the metadata listing `files` (name, contents),
    /// signed with `key`, expiring in `days`.
    async fn publish(
        &mut self,
        root_path: &Path,
        files: &[(&str, &[u8])],
        key: &MemoryKey,
        days: i64,
    ) {
        self.version += 1;
        let staging = self.dir.path().join(format!("staging-{}", self.version));
        std::fs::create_dir_all(&staging).unwrap();
        let mut editor = RepositoryEditor::new(root_path).await.unwrap();
        for (name, contents) in files {
            let path = staging.join(name);
            std::fs::write(&path, contents).unwrap();
            editor.add_target_path(&path).await.unwrap();
        }
        let v = NonZeroU64::new(self.version).unwrap();
        editor
            .targets_version(v)
            .unwrap()
            .targets_expires(in_days(days))
            .unwrap()
            .snapshot_version(v)
            .snapshot_expires(in_days(days))
            .timestamp_version(v)
            .timestamp_expires(in_days(days));
        let keys: Vec<Box<dyn KeySource>> = vec![Box::new(MemoryKey(key.0.clone()))];
        let signed = editor.sign(&keys).await.unwrap();
        signed.write(self.mirror_dir()).await.unwrap();
        signed
            .copy_targets(
                &staging,
                self.mirror_dir().join("targets"),
                tough::editor::signed::PathExists::Replace,
            )
            .await
            .unwrap();
    }
}

async fn serve_dir(dir: PathBuf) -> String {
    async fn file(
        State(dir): State<PathBuf>,
        UrlPath(path): UrlPath<String>,
    ) -> (StatusCode, Vec<u8>) {
        if path.split('/').any(|p| p == "..") {
            return (StatusCode::BAD_REQUEST, Vec::new());
        }
        match std::fs::read(dir.join(path)) {
            Ok(bytes) => (StatusCode::OK, bytes),
            Err(_) => (StatusCode::NOT_FOUND, Vec::new()),
        }
    }
    let router = Router::new().route("/{*path}", get(file)).with_state(dir);
    serve(router).await
}

struct Fixture {
    repo: TestRepo,
    key: MemoryKey,
    root_key: MemoryKey,
    root_path: PathBuf,
    url: String,
    cache: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let mut repo = TestRepo {
        dir: tempfile::tempdir().unwrap(),
        version: 0,
    };
    let root_key = new_key();
    let key = new_key();
    let root_v1 = root(1, &[&root_key], &key).await;
    let root_path = repo
        .write_root(root_v1, &[Box::new(MemoryKey(root_key.0.clone()))])
        .await;
    repo.publish(
        &root_path,
        &[
            ("trusted_root.json", b"{\"v\":1}"),
            ("signing_config.v0.2.json", b"{\"config\":1}"),
        ],
        &key,
        7,
    )
    .await;
    let url = serve_dir(repo.mirror_dir()).await;
    Fixture {
        repo,
        key,
        root_key,
        root_path,
        url,
        cache: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    fn config(&self) -> TufConfig {
        TufConfig::new(
            &self.url,
            std::fs::read(&self.root_path).unwrap(),
            self.cache.path().to_owned(),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn a_refresh_fetches_verified_targets_and_caches_them() {
    let mut f = fixture().await;
    let config = f.config();
    assert!(config.cached().unwrap().is_none());
    let fresh = config.refresh().await.unwrap();
    assert_eq!(fresh.trusted_root, b"{\"v\":1}");
    assert_eq!(
        fresh.signing_config.as_deref(),
        Some(&b"{\"config\":1}"[..])
    );
    assert!(!fresh.is_stale(SystemTime::now()));
    assert!(fresh.is_stale(SystemTime::now() + Duration::from_secs(8 * 86_400)));

    let cached = config.cached().unwrap().unwrap();
    assert_eq!(cached.trusted_root, fresh.trusted_root);
    assert_eq!(cached.expires, fresh.expires);
    assert_eq!(cached.mirror, config.mirror.to_string());

    // A new version replaces the cached one.
    let root_path = f.root_path.clone();
    let key = MemoryKey(f.key.0.clone());
    f.repo
        .publish(&root_path, &[("trusted_root.json", b"{\"v\":2}")], &key, 7)
        .await;
    let again = config.refresh().await.unwrap();
    assert_eq!(again.trusted_root, b"{\"v\":2}");
    assert!(again.signing_config.is_none());
    assert!(config.cached().unwrap().unwrap().signing_config.is_none());
}

#[tokio::test]
async fn a_rotated_root_is_followed_and_remembered() {
    let mut f = fixture().await;
    f.config().refresh().await.unwrap();
    // Root v2 moves every role to a new key; the old root key signs the
    // handover.
    let new_key = new_key();
    let root_v2 = root(2, &[&f.root_key, &new_key], &new_key).await;
    let signers: Vec<Box<dyn KeySource>> = vec![
        Box::new(MemoryKey(f.root_key.0.clone())),
        Box::new(MemoryKey(new_key.0.clone())),
    ];
    let root_v2_path = f.repo.write_root(root_v2, &signers).await;
    f.repo
        .publish(
            &root_v2_path,
            &[("trusted_root.json", b"{\"v\":3}")],
            &new_key,
            7,
        )
        .await;
    // The client still starts from root v1 (the cached one).
    let got = f.config().refresh().await.unwrap();
    assert_eq!(got.trusted_root, b"{\"v\":3}");
    let cached_root = std::fs::read(f.config().metadata_dir().join("root.json")).unwrap();
    let cached_root: serde_json::Value = serde_json::from_slice(&cached_root).unwrap();
    assert_eq!(cached_root["signed"]["version"], 2);
}

#[tokio::test]
async fn a_tampered_target_is_refused_and_the_cache_kept() {
    let f = fixture().await;
    let config = f.config();
    config.refresh().await.unwrap();
    // Replace the served trusted root's bytes (consistent snapshots name
    // targets by hash, so rewrite every copy).
    let targets = f.repo.mirror_dir().join("targets");
    for entry in std::fs::read_dir(&targets).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with("trusted_root.json") {
            std::fs::write(&path, b"{\"v\":666}").unwrap();
        }
    }
    let e = config.refresh().await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "TUF repository {}/: target trusted_root.json",
            f.url
        )),
        "{e}"
    );
    assert_eq!(config.cached().unwrap().unwrap().trusted_root, b"{\"v\":1}");
}

#[tokio::test]
async fn expired_metadata_is_refused() {
    let mut f = fixture().await;
    let root_path = f.root_path.clone();
    let key = MemoryKey(f.key.0.clone());
    f.repo
        .publish(&root_path, &[("trusted_root.json", b"{}")], &key, -1)
        .await;
    let e = f.config().refresh().await.unwrap_err().to_string();
    assert!(e.contains("expired"), "{e}");
    assert!(f.config().cached().unwrap().is_none());
}

#[tokio::test]
async fn a_root_from_elsewhere_is_refused() {
    let f = fixture().await;
    let other_key = new_key();
    let stranger = TestRepo {
        dir: tempfile::tempdir().unwrap(),
        version: 0,
    };
    let other_root = stranger
        .write_root(
            root(1, &[&other_key], &other_key).await,
            &[Box::new(MemoryKey(other_key.0.clone()))],
        )
        .await;
    let config = TufConfig::new(
        &f.url,
        std::fs::read(other_root).unwrap(),
        f.cache.path().to_owned(),
    )
    .unwrap();
    let e = config.refresh().await.unwrap_err().to_string();
    assert!(e.starts_with("TUF repository"), "{e}");
}

#[tokio::test]
async fn an_unreachable_mirror_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let cache = tempfile::tempdir().unwrap();
    let config = TufConfig::new(&url, signet_test_root(), cache.path().to_owned()).unwrap();
    let e = config.refresh().await.unwrap_err().to_string();
    assert!(e.starts_with(&format!("TUF repository {url}:")), "{e}");
}

fn signet_test_root() -> Vec<u8> {
    br#"{"signed":{"_type":"root"},"signatures":[]}"#.to_vec()
}

#[test]
fn mirror_urls_are_checked_and_get_their_own_directory() {
    let cache = PathBuf::from("/cache");
    let a = TufConfig::new("https://tuf.example/", Vec::new(), cache.clone()).unwrap();
    let b = TufConfig::new("https://tuf.example/other", Vec::new(), cache.clone()).unwrap();
    assert_eq!(b.mirror.as_str(), "https://tuf.example/other/");
    assert_ne!(a.mirror_dir(), b.mirror_dir());
    assert!(
        a.mirror_dir()
            .to_string_lossy()
            .starts_with("/cache/tuf.example-")
    );
    let e = TufConfig::new("ftp://x", Vec::new(), cache)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not http, https or file"), "{e}");
}

#[test]
fn tough_reads_the_shipped_public_good_root_and_its_signatures_verify() {
    // The starting point of every public-good refresh: Sigstore's ECDSA
    // keys (PEM key values) and its 3-of-5 root threshold, as tough sees them.
    let root: tough::schema::Signed<Root> =
        serde_json::from_slice(signet_trust::public_good::TUF_ROOT_JSON).unwrap();
    assert_eq!(root.signed.version.get(), 15);
    assert!(root.signed.consistent_snapshot);
    root.signed.verify_role(&root).unwrap();
    let threshold = root.signed.roles[&RoleType::Root].threshold.get();
    assert_eq!(threshold, 3);
}

#[tokio::test]
async fn an_initialized_mirror_is_the_one_used_later() {
    let f = fixture().await;
    let config = f.config();
    // Nothing chosen yet: the default mirror.
    let default =
        TufConfig::configured(f.cache.path().to_owned(), "https://tuf.example/", b"{}").unwrap();
    assert_eq!(default.mirror.as_str(), "https://tuf.example/");
    config.refresh().await.unwrap();
    config.remember().unwrap();
    let later =
        TufConfig::configured(f.cache.path().to_owned(), "https://tuf.example/", b"{}").unwrap();
    assert_eq!(later.mirror, config.mirror);
    assert_eq!(later.initial_root, config.initial_root);
    assert_eq!(later.cached().unwrap().unwrap().trusted_root, b"{\"v\":1}");
}
