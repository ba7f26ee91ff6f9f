//! Refreshing the trusted root (and the signing config) over TUF.
//!
//! signet ships a snapshot of the public-good `trusted_root.json`, so
//! verification never needs the network. The snapshot ages: keys rotate and
//! logs shard. A refresh walks the TUF repository (by default the public-good
//! mirror) from the last root signet trusted (the cached one, else the
//! shipped TUF `root.json`), verifies timestamp, snapshot and targets
//! metadata, and downloads the targets by hash with the `tough` client. The
//! result is cached under the user's cache directory:
//!
//! ```text
//! <cache>/<mirror id>/metadata/    tough's datastore: the newest root and the
//!                                  last timestamp/snapshot/targets (rollback checks)
//! <cache>/<mirror id>/targets/     trusted_root.json, signing_config.v0.2.json
//! <cache>/<mirror id>/state.json   mirror, fetch time, metadata expiry
//! ```
//!
//! Refreshes happen only when asked (`signet trusted-root refresh`, cosign's
//! `initialize`) or, for keyless signing against the public-good services,
//! when the cached metadata has expired. Nothing here runs for key-based
//! signing or verification.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::Digest as _;
use tough::{
    DefaultTransport, ExpirationEnforcement, HttpTransportBuilder, IntoVec as _, Limits,
    RepositoryLoader, TargetName,
};
use url::Url;

use crate::error::{TufError, error_chain};

/// The trusted root target.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The signing config target (v0.2).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";
/// The largest target read.
const MAX_TARGET_BYTES: usize = 4 << 20;
/// The largest cached file read back.
const MAX_CACHE_FILE_BYTES: u64 = 4 << 20;

/// Which repository to refresh from and where to keep the result.
#[derive(Debug, Clone)]
pub struct TufConfig {
    /// The mirror: metadata at its root, targets under `targets/`.
    pub mirror: Url,
    /// The TUF `root.json` trusted when nothing is cached yet.
    pub initial_root: Vec<u8>,
    /// The cache directory (shared by every mirror; each gets a
    /// subdirectory).
    pub cache_dir: PathBuf,
}

/// The trust material a refresh produced, as cached.
#[derive(Debug, Clone)]
pub struct CachedTrust {
    /// `trusted_root.json`, verified by TUF.
    pub trusted_root: Vec<u8>,
    /// `signing_config.v0.2.json`, if the repository has it.
    pub signing_config: Option<Vec<u8>>,
    /// When the refresh happened.
    pub fetched: SystemTime,
    /// When the earliest of the TUF metadata expires; after that the cache
    /// is stale.
    pub expires: SystemTime,
    /// The mirror it came from.
    pub mirror: String,
}

impl CachedTrust {
    /// Whether the TUF metadata this came with has expired at `now`.
    pub fn is_stale(&self, now: SystemTime) -> bool {
        now >= self.expires
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct State {
    mirror: String,
    fetched: u64,
    expires: u64,
}

impl TufConfig {
    /// A configuration for `mirror`, starting from `initial_root`, caching
    /// in `cache_dir`.
    pub fn new(mirror: &str, initial_root: Vec<u8>, cache_dir: PathBuf) -> Result<Self, TufError> {
        let mut mirror = Url::parse(mirror.trim())
            .map_err(|e| TufError::Config(format!("mirror URL {mirror:?}: {e}")))?;
        if !matches!(mirror.scheme(), "http" | "https" | "file") {
            return Err(TufError::Config(format!(
                "mirror URL {mirror}: scheme {:?} is not http, https or file",
                mirror.scheme()
            )));
        }
        // A base URL must end with '/' for joins to stay under it.
        if !mirror.path().ends_with('/') {
            let path = format!("{}/", mirror.path());
            mirror.set_path(&path);
        }
        Ok(Self {
            mirror,
            initial_root,
            cache_dir,
        })
    }

    /// This mirror's directory in the cache: its host and a hash of its URL.
    pub fn mirror_dir(&self) -> PathBuf {
        let host: String = self
            .mirror
            .host_str()
            .unwrap_or("local")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let hash = sha2::Sha256::digest(self.mirror.as_str().as_bytes());
        self.cache_dir
            .join(format!("{host}-{}", hex::encode(&hash[..6])))
    }

    fn metadata_dir(&self) -> PathBuf {
        self.mirror_dir().join("metadata")
    }

    fn targets_dir(&self) -> PathBuf {
        self.mirror_dir().join("targets")
    }

    fn state_path(&self) -> PathBuf {
        self.mirror_dir().join("state.json")
    }

    /// The cached trust material, if a refresh stored some.
    pub fn cached(&self) -> Result<Option<CachedTrust>, TufError> {
        let state = match read_cache_file(&self.state_path())? {
            Some(bytes) => bytes,
            None => return Ok(None),
        };
        let state: State = serde_json::from_slice(&state).map_err(|e| TufError::Cache {
            path: self.state_path().display().to_string(),
            reason: e.to_string(),
        })?;
        let Some(trusted_root) = read_cache_file(&self.targets_dir().join(TRUSTED_ROOT_TARGET))?
        else {
            return Ok(None);
        };
        let signing_config = read_cache_file(&self.targets_dir().join(SIGNING_CONFIG_TARGET))?;
        Ok(Some(CachedTrust {
            trusted_root,
            signing_config,
            fetched: UNIX_EPOCH + Duration::from_secs(state.fetched),
            expires: UNIX_EPOCH + Duration::from_secs(state.expires),
            mirror: state.mirror,
        }))
    }

    /// Walks the repository and caches its trusted root and signing config.
    pub async fn refresh(&self) -> Result<CachedTrust, TufError> {
        let mirror = self.mirror.to_string();
        let repo_error = |e: &dyn std::error::Error| TufError::Repository {
            mirror: mirror.clone(),
            reason: error_chain(e),
        };
        let metadata_dir = self.metadata_dir();
        create_dir(&metadata_dir)?;
        create_dir(&self.targets_dir())?;
        // Start from the newest root a previous refresh verified.
        let root = match read_cache_file(&metadata_dir.join("root.json"))? {
            Some(cached) => cached,
            None => self.initial_root.clone(),
        };
        let targets_url = self
            .mirror
            .join("targets/")
            .map_err(|e| TufError::Config(format!("mirror URL {mirror}: {e}")))?;
        let transport = DefaultTransport::new_with_http_settings(
            HttpTransportBuilder::new()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(10))
                .tries(2),
        );
        let repo = RepositoryLoader::new(&root, self.mirror.clone(), targets_url)
            .transport(transport)
            .datastore(metadata_dir.clone())
            .limits(Limits {
                max_root_size: 1 << 20,
                max_targets_size: 4 << 20,
                max_timestamp_size: 1 << 20,
                max_snapshot_size: 1 << 20,
                max_root_updates: 256,
            })
            .expiration_enforcement(ExpirationEnforcement::Safe)
            .load()
            .await
            .map_err(|e| repo_error(&e))?;

        let trusted_root = read_target(&repo, &mirror, TRUSTED_ROOT_TARGET)
            .await?
            .ok_or_else(|| TufError::Target {
                mirror: mirror.clone(),
                target: TRUSTED_ROOT_TARGET.into(),
                reason: "not listed in the repository's targets".into(),
            })?;
        let signing_config = read_target(&repo, &mirror, SIGNING_CONFIG_TARGET).await?;

        let expires = [
            repo.root().signed.expires,
            repo.timestamp().signed.expires,
            repo.snapshot().signed.expires,
            repo.targets().signed.expires,
        ]
        .into_iter()
        .min()
        .map_or(0, |t| u64::try_from(t.as_second()).unwrap_or(0));
        let fetched = SystemTime::now();
        let state = State {
            mirror: mirror.clone(),
            fetched: fetched
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            expires,
        };
        // Targets first, the state last: a reader that finds the state finds
        // the targets it describes.
        write_atomic(&self.targets_dir().join(TRUSTED_ROOT_TARGET), &trusted_root)?;
        match &signing_config {
            Some(config) => write_atomic(&self.targets_dir().join(SIGNING_CONFIG_TARGET), config)?,
            None => remove_if_present(&self.targets_dir().join(SIGNING_CONFIG_TARGET))?,
        }
        let state_json = serde_json::to_vec_pretty(&state).map_err(|e| TufError::Cache {
            path: self.state_path().display().to_string(),
            reason: e.to_string(),
        })?;
        write_atomic(&self.state_path(), &state_json)?;
        Ok(CachedTrust {
            trusted_root,
            signing_config,
            fetched,
            expires: UNIX_EPOCH + Duration::from_secs(expires),
            mirror,
        })
    }
}

/// The file naming the mirror `initialize` chose, in the cache directory.
const CURRENT_MIRROR_FILE: &str = "mirror.json";
/// The root a mirror's refreshes start from, in its directory.
const INITIAL_ROOT_FILE: &str = "initial_root.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct CurrentMirror {
    mirror: String,
}

impl TufConfig {
    /// Makes this mirror the one later commands use (`initialize --mirror
    /// --root`), keeping its initial root beside its cache.
    pub fn remember(&self) -> Result<(), TufError> {
        create_dir(&self.mirror_dir())?;
        write_atomic(
            &self.mirror_dir().join(INITIAL_ROOT_FILE),
            &self.initial_root,
        )?;
        let current = serde_json::to_vec(&CurrentMirror {
            mirror: self.mirror.to_string(),
        })
        .map_err(|e| TufError::Config(e.to_string()))?;
        create_dir(&self.cache_dir)?;
        write_atomic(&self.cache_dir.join(CURRENT_MIRROR_FILE), &current)
    }

    /// The mirror `initialize` chose in `cache_dir`, if any; otherwise
    /// `default_mirror` starting from `default_root`.
    pub fn configured(
        cache_dir: PathBuf,
        default_mirror: &str,
        default_root: &[u8],
    ) -> Result<Self, TufError> {
        if let Some(bytes) = read_cache_file(&cache_dir.join(CURRENT_MIRROR_FILE))? {
            let current: CurrentMirror =
                serde_json::from_slice(&bytes).map_err(|e| TufError::Cache {
                    path: cache_dir.join(CURRENT_MIRROR_FILE).display().to_string(),
                    reason: e.to_string(),
                })?;
            let mut config = Self::new(&current.mirror, Vec::new(), cache_dir)?;
            if let Some(root) = read_cache_file(&config.mirror_dir().join(INITIAL_ROOT_FILE))? {
                config.initial_root = root;
                return Ok(config);
            }
            return Err(TufError::Cache {
                path: config
                    .mirror_dir()
                    .join(INITIAL_ROOT_FILE)
                    .display()
                    .to_string(),
                reason: "missing; run `signet initialize` again".into(),
            });
        }
        Self::new(default_mirror, default_root.to_vec(), cache_dir)
    }
}

/// The user's cache directory for TUF material: `$XDG_CACHE_HOME/signet/tuf`,
/// else `$HOME/.cache/signet/tuf`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .map(|base| base.join("signet").join("tuf"))
}

async fn read_target(
    repo: &tough::Repository,
    mirror: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, TufError> {
    let target_error = |reason: String| TufError::Target {
        mirror: mirror.to_owned(),
        target: name.to_owned(),
        reason,
    };
    let target = TargetName::new(name).map_err(|e| target_error(error_chain(&e)))?;
    // The length tough checks against comes from the signed targets
    // metadata; refuse anything listed larger than we read.
    if let Some(listed) = repo.targets().signed.targets.get(&target)
        && listed.length > MAX_TARGET_BYTES as u64
    {
        return Err(target_error(format!(
            "listed at {} bytes, more than the limit of {MAX_TARGET_BYTES}",
            listed.length
        )));
    }
    let Some(stream) = repo
        .read_target(&target)
        .await
        .map_err(|e| target_error(error_chain(&e)))?
    else {
        return Ok(None);
    };
    let bytes = stream
        .into_vec()
        .await
        .map_err(|e| target_error(error_chain(&e)))?;
    Ok(Some(bytes))
}

fn cache_error(path: &Path, e: &dyn std::error::Error) -> TufError {
    TufError::Cache {
        path: path.display().to_string(),
        reason: error_chain(e),
    }
}

fn create_dir(path: &Path) -> Result<(), TufError> {
    std::fs::create_dir_all(path).map_err(|e| cache_error(path, &e))
}

fn read_cache_file(path: &Path) -> Result<Option<Vec<u8>>, TufError> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cache_error(path, &e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cache_error(path, &e))?;
    if bytes.len() as u64 > MAX_CACHE_FILE_BYTES {
        return Err(TufError::Cache {
            path: path.display().to_string(),
            reason: format!("larger than {MAX_CACHE_FILE_BYTES} bytes"),
        });
    }
    Ok(Some(bytes))
}

/// Writes through a temporary file in the same directory and renames it, so
/// that a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TufError> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| cache_error(path, &e))?;
    tmp.write_all(bytes).map_err(|e| cache_error(path, &e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| cache_error(path, &e))?;
    tmp.persist(path).map_err(|e| cache_error(path, &e.error))?;
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), TufError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(cache_error(path, &e)),
    }
}

#[cfg(test)]
mod tests;
