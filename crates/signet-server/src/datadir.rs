//! The data directory: what `signet server init` creates and `signet server
//! run` reads.
//!
//! ```text
//! DIR/
//!   server.toml               configuration (written last: its presence means init finished)
//!   keys/                     mode 0700; every private key, encrypted (cosign's key format)
//!     fulcio.key              Fulcio intermediate CA key (ECDSA P-384)
//!     ctlog.key               CT log key (ECDSA P-256)
//!     rekor-v1.key            Rekor v1 API key (ECDSA P-256): SETs, checkpoints
//!     rekor-v2.key            Rekor v2 checkpoint key (Ed25519)
//!     tsa.key                 TSA signing key (ECDSA P-384)
//!   fulcio-chain.pem          intermediate, root    (SIGSTORE_ROOT_FILE)
//!   tsa-chain.pem             signing cert, intermediate, root (SIGSTORE_TSA_CERTIFICATE_FILE)
//!   ctlog.pub                 (SIGSTORE_CT_LOG_PUBLIC_KEY_FILE)
//!   rekor.pub                 Rekor v1 key (SIGSTORE_REKOR_PUBLIC_KEY)
//!   rekor-v2.pub              Rekor v2 checkpoint key
//!   trusted_root.json, signing_config.json, client_trust_config.json
//!   log/                      mode 0700; the transparency log's embedded store
//! ```
//!
//! The root CA keys (Fulcio's and the TSA's) exist only in memory while
//! `init` signs the intermediates; they are never written. A new CA means a
//! new root, which clients must trust anew (a trusted root may list several).
//!
//! Private keys are written the way `signet generate-key-pair` writes them:
//! encrypted under the server password (scrypt and NaCl secretbox), into new
//! files created with mode 0600 and linked into place, never over an
//! existing file.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use signet_core::keys::{
    EncryptedKeyOptions, PrivateKey, decrypt_private_key, encrypt_private_key,
};
use signet_core::limits::{self, InputLimit};
use signet_kms::KmsError;
use signet_pki::ca::{CaOptions, KeyAlgorithm, SigningCa, create_fulcio_ca, create_tsa};
use signet_pki::certificate::{Certificate, chain_to_pem, parse_pem_chain};
use signet_pki::sct::CtLogSigner;
use url::Url;
use zeroize::Zeroizing;

use crate::config::{IssuerConfig, LimitSettings, OidcSettings, RateLimitSettings, ServerConfig};
use crate::error::ServerError;
use crate::material::Material;
use crate::trust_files::TrustFiles;

/// How long the CA and TSA certificates made by `init` are valid.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Certificates start this long before `init` ran, for clients whose clocks
/// are a little behind.
const BACKDATE: Duration = Duration::from_secs(300);

const CONFIG_LIMIT: InputLimit =
    InputLimit::new("a server configuration", crate::config::MAX_CONFIG_BYTES);

/// A private key file in `keys/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFile {
    /// The Fulcio intermediate CA key.
    Fulcio,
    /// The CT log key.
    CtLog,
    /// The Rekor v1 key.
    RekorV1,
    /// The Rekor v2 checkpoint key.
    RekorV2,
    /// The TSA signing key.
    Tsa,
}

impl KeyFile {
    /// Every key file.
    pub const ALL: [KeyFile; 5] = [
        Self::Fulcio,
        Self::CtLog,
        Self::RekorV1,
        Self::RekorV2,
        Self::Tsa,
    ];

    fn file_name(self) -> &'static str {
        match self {
            Self::Fulcio => "fulcio.key",
            Self::CtLog => "ctlog.key",
            Self::RekorV1 => "rekor-v1.key",
            Self::RekorV2 => "rekor-v2.key",
            Self::Tsa => "tsa.key",
        }
    }
}

/// Paths inside a data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `server.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("server.toml")
    }

    /// `keys/`, holding the encrypted private keys.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// One private key file.
    pub fn key_file(&self, key: KeyFile) -> PathBuf {
        self.keys_dir().join(key.file_name())
    }

    /// `log/`, where the transparency log keeps its embedded store.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `fulcio-chain.pem`: intermediate, root.
    pub fn fulcio_chain_file(&self) -> PathBuf {
        self.root.join("fulcio-chain.pem")
    }

    /// `tsa-chain.pem`: signing certificate, intermediate, root.
    pub fn tsa_chain_file(&self) -> PathBuf {
        self.root.join("tsa-chain.pem")
    }

    /// `ctlog.pub`.
    pub fn ct_log_key_file(&self) -> PathBuf {
        self.root.join("ctlog.pub")
    }

    /// `rekor.pub` (the Rekor v1 key, as cosign's `SIGSTORE_REKOR_PUBLIC_KEY` wants it).
    pub fn rekor_v1_key_file(&self) -> PathBuf {
        self.root.join("rekor.pub")
    }

    /// `rekor-v2.pub`.
    pub fn rekor_v2_key_file(&self) -> PathBuf {
        self.root.join("rekor-v2.pub")
    }

    /// `trusted_root.json`.
    pub fn trusted_root_file(&self) -> PathBuf {
        self.root.join("trusted_root.json")
    }

    /// `signing_config.json`.
    pub fn signing_config_file(&self) -> PathBuf {
        self.root.join("signing_config.json")
    }

    /// `client_trust_config.json`.
    pub fn client_trust_config_file(&self) -> PathBuf {
        self.root.join("client_trust_config.json")
    }

    /// Reads and checks `server.toml`.
    pub fn read_config(&self) -> Result<ServerConfig, ServerError> {
        let path = self.config_file();
        if !path.exists() {
            return Err(ServerError::NotInitialised(self.root.clone()));
        }
        let bytes = limits::read_file(&path, CONFIG_LIMIT).map_err(|e| ServerError::Config {
            path: path.clone(),
            source: crate::error::ConfigError::Invalid(e.to_string()),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ServerError::Config {
            path: path.clone(),
            source: crate::error::ConfigError::Invalid("not UTF-8 text".into()),
        })?;
        ServerConfig::parse(&text).map_err(|source| ServerError::Config { path, source })
    }
}

/// What `init` is asked to make.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// The trusted OIDC issuers.
    pub issuers: Vec<IssuerConfig>,
    /// The URL clients will reach the server at.
    pub public_url: String,
    /// The time the material is made at (now, outside tests).
    pub now: SystemTime,
}

/// What `init` made, for the report to the operator.
#[derive(Clone, Debug)]
pub struct InitReport {
    /// The data directory.
    pub dir: DataDir,
    /// The configuration written.
    pub config: ServerConfig,
}

/// Creates a data directory: keys, certificates, trust files, configuration.
///
/// `dir` must not exist, or be an empty directory. Every private key is
/// encrypted under `password`. The configuration is written last, so an
/// interrupted `init` leaves a directory `run` refuses and `init` will not
/// reuse.
pub fn init(dir: &Path, options: &InitOptions, password: &[u8]) -> Result<InitReport, ServerError> {
    if password.is_empty() {
        return Err(ServerError::Password(
            "the password is empty; the private keys would be as good as unencrypted".into(),
        ));
    }
    let config = ServerConfig {
        public_url: options.public_url.clone(),
        created: crate::time::format_rfc3339(options.now - BACKDATE),
        oidc_issuers: options.issuers.clone(),
        oidc: OidcSettings::default(),
        rate_limit: RateLimitSettings::default(),
        limits: LimitSettings::default(),
    };
    config.validate()?;
    let data = DataDir::new(dir);
    create_empty_dir(dir)?;

    let generated = generate(&config, options.now)?;
    write_keys(&data, &generated, password)?;
    let material = generated.into_material()?;
    write_public_files(&data, &material)?;
    TrustFiles::build(&config, &material.public())?.write_into(&data)?;
    let log_dir = data.log_dir();
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&log_dir)
        .map_err(|e| ServerError::io(&log_dir, e))?;
    write_new(&data.config_file(), config.to_toml().as_bytes(), 0o644)?;
    Ok(InitReport { dir: data, config })
}

/// Reads the configuration and decrypts every key.
pub fn load(dir: &DataDir, password: &[u8]) -> Result<(ServerConfig, Material), ServerError> {
    let config = dir.read_config()?;
    // scrypt makes each key cost a fraction of a second; decrypt them side by side.
    let keys = std::thread::scope(|scope| {
        let handles: Vec<_> = KeyFile::ALL
            .into_iter()
            .map(|k| (k, scope.spawn(move || read_key(dir, k, password))))
            .collect();
        let mut keys = Vec::with_capacity(handles.len());
        for (k, h) in handles {
            let key = h.join().map_err(|_| ServerError::Key {
                path: dir.key_file(k),
                reason: "decrypting the key failed unexpectedly".into(),
            })??;
            keys.push((k, key));
        }
        Ok::<_, ServerError>(keys)
    })?;
    let mut keys = keys;
    let mut take = |which: KeyFile| {
        keys.iter()
            .position(|(k, _)| *k == which)
            .map(|i| keys.swap_remove(i).1)
            .ok_or_else(|| ServerError::Key {
                path: dir.key_file(which),
                reason: "missing".into(),
            })
    };
    let fulcio_key = take(KeyFile::Fulcio)?;
    let ct_key = take(KeyFile::CtLog)?;
    let rekor_v1 = take(KeyFile::RekorV1)?;
    let rekor_v2 = take(KeyFile::RekorV2)?;
    let tsa_key = take(KeyFile::Tsa)?;

    let fulcio = signing_ca(dir.fulcio_chain_file(), fulcio_key)?;
    let tsa = signing_ca(dir.tsa_chain_file(), tsa_key)?;
    let ct_log = CtLogSigner::new(ct_key).map_err(|e| ServerError::Key {
        path: dir.key_file(KeyFile::CtLog),
        reason: e.to_string(),
    })?;
    if !matches!(rekor_v2, PrivateKey::Ed25519(_)) {
        return Err(ServerError::Key {
            path: dir.key_file(KeyFile::RekorV2),
            reason: format!(
                "a {} key; the Rekor v2 checkpoint key must be Ed25519",
                rekor_v2.kind()
            ),
        });
    }
    if !matches!(rekor_v1, PrivateKey::EcdsaP256(_)) {
        return Err(ServerError::Key {
            path: dir.key_file(KeyFile::RekorV1),
            reason: format!(
                "a {} key; the Rekor v1 key must be ECDSA P-256",
                rekor_v1.kind()
            ),
        });
    }
    Ok((
        config,
        Material {
            fulcio,
            ct_log,
            tsa,
            rekor_v1,
            rekor_v2,
        },
    ))
}

fn read_key(dir: &DataDir, which: KeyFile, password: &[u8]) -> Result<PrivateKey, ServerError> {
    let path = dir.key_file(which);
    let pem = signet_kms::files::read_key_file(&path).map_err(|e| key_error(&path, e))?;
    decrypt_private_key(&pem, password).map_err(|e| ServerError::Key {
        path: path.clone(),
        reason: e.to_string(),
    })
}

fn signing_ca(chain_file: PathBuf, key: PrivateKey) -> Result<SigningCa, ServerError> {
    let pem =
        limits::read_file(&chain_file, limits::CERTIFICATE_FILE).map_err(|e| ServerError::Key {
            path: chain_file.clone(),
            reason: e.to_string(),
        })?;
    let chain = parse_pem_chain(&pem).map_err(|e| ServerError::Key {
        path: chain_file.clone(),
        reason: e.to_string(),
    })?;
    SigningCa::new(key, chain).map_err(|e| ServerError::Key {
        path: chain_file,
        reason: e.to_string(),
    })
}

fn key_error(path: &Path, e: KmsError) -> ServerError {
    match e {
        KmsError::Io { path, source } => ServerError::Io { path, source },
        other => ServerError::Key {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// Creates `dir` (and missing parents), or accepts an existing empty
/// directory; anything else is refused.
fn create_empty_dir(dir: &Path) -> Result<(), ServerError> {
    match fs::symlink_metadata(dir) {
        Ok(meta) => {
            let empty = meta.is_dir()
                && fs::read_dir(dir)
                    .map_err(|e| ServerError::io(dir, e))?
                    .next()
                    .is_none();
            if !empty {
                return Err(ServerError::AlreadyExists(dir.to_owned()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|e| ServerError::io(dir, e))?;
        }
        Err(e) => return Err(ServerError::io(dir, e)),
    }
    let keys = dir.join("keys");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&keys)
        .map_err(|e| ServerError::io(&keys, e))?;
    // The umask may have cleared bits; the key directory is exactly 0700.
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o700))
        .map_err(|e| ServerError::io(&keys, e))?;
    Ok(())
}

fn ca_options(subject: String, now: SystemTime) -> CaOptions {
    CaOptions {
        subject,
        not_before: now - BACKDATE,
        not_after: now + CA_VALIDITY,
    }
}

/// Fresh keys and certificates, before the CT key is wrapped in its signer.
struct Generated {
    fulcio: SigningCa,
    tsa: SigningCa,
    ct_key: PrivateKey,
    rekor_v1: PrivateKey,
    rekor_v2: PrivateKey,
}

impl Generated {
    fn into_material(self) -> Result<Material, ServerError> {
        Ok(Material {
            fulcio: self.fulcio,
            ct_log: CtLogSigner::new(self.ct_key).map_err(|e| ServerError::Issue {
                what: "the CT log key",
                reason: e.to_string(),
            })?,
            tsa: self.tsa,
            rekor_v1: self.rekor_v1,
            rekor_v2: self.rekor_v2,
        })
    }
}

/// Makes every key and certificate.
fn generate(config: &ServerConfig, now: SystemTime) -> Result<Generated, ServerError> {
    let org = organization(config);
    let issue = |what: &'static str| {
        move |e: signet_pki::error::IssueError| ServerError::Issue {
            what,
            reason: e.to_string(),
        }
    };
    let fulcio = create_fulcio_ca(
        KeyAlgorithm::P384,
        &ca_options(format!("CN=signet-ca-root,O={org}"), now),
        &ca_options(format!("CN=signet-ca-intermediate,O={org}"), now),
    )
    .map_err(issue("the Fulcio CA"))?;
    let tsa = create_tsa(
        KeyAlgorithm::P384,
        &ca_options(format!("CN=signet-tsa-root,O={org}"), now),
        &ca_options(format!("CN=signet-tsa-intermediate,O={org}"), now),
        &ca_options(format!("CN=signet-tsa,O={org}"), now),
    )
    .map_err(issue("the TSA chain"))?;
    let p256 = |what: &'static str| KeyAlgorithm::P256.generate().map_err(issue(what));
    let ct_key = p256("the CT log key")?;
    let rekor_v1 = p256("the Rekor v1 key")?;
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice()).map_err(|e| ServerError::Issue {
        what: "the Rekor v2 key",
        reason: e.to_string(),
    })?;
    let rekor_v2 = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed));
    Ok(Generated {
        fulcio,
        tsa,
        ct_key,
        rekor_v1,
        rekor_v2,
    })
}

/// The organisation named in certificate subjects: the public host name,
/// with characters RFC 4514 would need escaped left out.
fn organization(config: &ServerConfig) -> String {
    let host = Url::parse(&config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let clean: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        .collect();
    if clean.is_empty() {
        "signet".to_owned()
    } else {
        clean
    }
}

fn write_keys(data: &DataDir, m: &Generated, password: &[u8]) -> Result<(), ServerError> {
    let keys: [(KeyFile, &PrivateKey); 5] = [
        (KeyFile::Fulcio, m.fulcio.key()),
        (KeyFile::CtLog, &m.ct_key),
        (KeyFile::RekorV1, &m.rekor_v1),
        (KeyFile::RekorV2, &m.rekor_v2),
        (KeyFile::Tsa, m.tsa.key()),
    ];
    // scrypt takes a while per key: encrypt them side by side.
    let encrypted = std::thread::scope(|scope| {
        let handles: Vec<_> = keys
            .iter()
            .map(|(which, key)| {
                let which = *which;
                scope.spawn(move || {
                    encrypt_private_key(key, password, EncryptedKeyOptions::default())
                        .map(|pem| (which, pem))
                        .map_err(|e| ServerError::Key {
                            path: data.key_file(which),
                            reason: e.to_string(),
                        })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().map_err(|_| ServerError::Issue {
                    what: "an encrypted key file",
                    reason: "encryption failed unexpectedly".into(),
                })?
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    for (which, pem) in encrypted {
        write_new(&data.key_file(which), pem.as_bytes(), 0o600)?;
    }
    Ok(())
}

fn write_public_files(data: &DataDir, m: &Material) -> Result<(), ServerError> {
    let public = m.public();
    let files: [(PathBuf, String); 5] = [
        (data.fulcio_chain_file(), chain_to_pem(&public.fulcio_chain)),
        (data.tsa_chain_file(), chain_to_pem(&public.tsa_chain)),
        (data.ct_log_key_file(), public.ct_log.to_pem()),
        (data.rekor_v1_key_file(), public.rekor_v1.to_pem()),
        (data.rekor_v2_key_file(), public.rekor_v2.to_pem()),
    ];
    for (path, text) in files {
        write_new(&path, text.as_bytes(), 0o644)?;
    }
    Ok(())
}

/// Writes a new file (never replacing one), as key files are written.
pub(crate) fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), ServerError> {
    signet_kms::files::write_new(path, contents, mode).map_err(|e| match e {
        KmsError::Io { path, source } => ServerError::Io { path, source },
        KmsError::AlreadyExists(_) => ServerError::AlreadyExists(path.to_owned()),
        other => ServerError::Key {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// The chain of certificates in `path`, for checks in tests.
pub fn read_chain(path: &Path) -> Result<Vec<Certificate>, ServerError> {
    let pem = limits::read_file(path, limits::CERTIFICATE_FILE).map_err(|e| ServerError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    parse_pem_chain(&pem).map_err(|e| ServerError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}
