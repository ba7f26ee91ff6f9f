//! The trust material a signer checks the services' answers with, and where
//! it comes from.
//!
//! Order of precedence (cosign's, plus a TUF cache):
//!
//! 1. `--trusted-root FILE`;
//! 2. cosign's `SIGSTORE_*` variables (`SIGSTORE_ROOT_FILE`,
//!    `SIGSTORE_REKOR_PUBLIC_KEY`, `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`,
//!    `SIGSTORE_TSA_CERTIFICATE_FILE`);
//! 3. the public-good root refreshed over TUF into the user's cache
//!    (`signet trusted-root refresh`), refreshed again when its metadata has
//!    expired and a refresh is allowed;
//! 4. the public-good snapshot shipped with signet.
//!
//! The signing config follows the same order for its public-good default
//! (TUF cache, then the shipped one); `--signing-config` replaces it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::SystemTime;

use signet_pki::certificate::Certificate;
use signet_pki::chain::CertificateAuthority;
use signet_pki::sct::CtLog;
use signet_pki::time::TimeRange as PkiTimeRange;
use signet_pki::timestamp::TimestampAuthority;
use signet_trust::{CosignTrustOverrides, SigningConfig, TrustedRoot};

use crate::error::{SigningError, TufError};
use crate::fulcio::CertificateTrust;
use crate::tuf::TufConfig;

/// A trusted root's validity window in `signet-pki`'s terms.
fn window(range: Option<&signet_trust::TimeRange>) -> PkiTimeRange {
    match range {
        None => PkiTimeRange::UNBOUNDED,
        Some(r) => PkiTimeRange::new(r.start.map(SystemTime::from), r.end.map(SystemTime::from)),
    }
}

fn certificates(
    what: &str,
    chain: &[signet_trust::TrustedCertificate],
) -> Result<Vec<Certificate>, SigningError> {
    chain
        .iter()
        .map(|c| {
            Certificate::from_der(c.der()).map_err(|e| SigningError::Trust(format!("{what}: {e}")))
        })
        .collect()
}

/// The Fulcio CAs and CT logs of `root`, to check a new certificate with.
pub fn certificate_trust(
    root: &TrustedRoot,
    require_sct: bool,
) -> Result<CertificateTrust, SigningError> {
    let mut authorities = Vec::new();
    for ca in &root.certificate_authorities {
        let what = format!("certificate authority {}", ca.uri);
        let chain = certificates(&what, &ca.cert_chain)?;
        authorities.push(
            CertificateAuthority::new(chain, window(ca.valid_for.as_ref()))
                .map_err(|e| SigningError::Trust(format!("{what}: {e}")))?,
        );
    }
    let mut ct_logs = Vec::new();
    for log in &root.ctlogs {
        ct_logs.push(
            CtLog::new(
                log.base_url.clone(),
                log.public_key.raw_bytes(),
                window(log.public_key.valid_for()),
            )
            .map_err(|e| SigningError::Trust(format!("CT log {}: {e}", log.base_url)))?,
        );
    }
    Ok(CertificateTrust {
        authorities,
        ct_logs,
        require_sct,
    })
}

/// The timestamp authorities of `root`.
pub fn timestamp_authorities(root: &TrustedRoot) -> Result<Vec<TimestampAuthority>, SigningError> {
    root.timestamp_authorities
        .iter()
        .map(|tsa| {
            let what = format!("timestamp authority {}", tsa.uri);
            TimestampAuthority::new(
                certificates(&what, &tsa.cert_chain)?,
                window(tsa.valid_for.as_ref()),
            )
            .map_err(|e| SigningError::Trust(format!("{what}: {e}")))
        })
        .collect()
}

/// Where the trusted root came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootSource {
    /// `--trusted-root FILE`.
    File(PathBuf),
    /// cosign's `SIGSTORE_*` variables.
    Environment,
    /// The TUF cache of a mirror.
    TufCache(String),
    /// The snapshot shipped with signet.
    Shipped,
}

impl std::fmt::Display for RootSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "trusted root {}", p.display()),
            Self::Environment => f.write_str("the SIGSTORE_* environment variables"),
            Self::TufCache(m) => write!(f, "the trusted root refreshed from {m}"),
            Self::Shipped => f.write_str("the shipped public-good trusted root"),
        }
    }
}

/// Whether a stale or missing TUF cache may be refreshed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Never touch the network (verification).
    Never,
    /// Refresh an existing cache whose metadata has expired (keyless signing
    /// against the public-good services, which needs the network anyway).
    IfStale,
}

/// What [`resolve`] reads.
pub struct TrustOptions<'a> {
    /// `--trusted-root`.
    pub trusted_root: Option<PathBuf>,
    /// The environment (for `SIGSTORE_*`).
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    /// The TUF cache of the public-good mirror, if a cache directory exists.
    pub tuf: Option<TufConfig>,
    /// Whether a stale cache may be refreshed.
    pub refresh: Refresh,
}

/// The trust material for signing.
#[derive(Debug, Clone)]
pub struct SigningTrust {
    /// The trusted root.
    pub root: TrustedRoot,
    /// Where it came from.
    pub source: RootSource,
    /// The default signing config (public-good, from the TUF cache or the
    /// shipped one).
    pub default_signing_config: SigningConfig,
    /// Warnings to show the user (a refresh that failed, say).
    pub warnings: Vec<String>,
}

/// Resolves the trusted root and the default signing config.
pub async fn resolve(options: TrustOptions<'_>) -> Result<SigningTrust, SigningError> {
    let mut warnings = Vec::new();
    let mut cached = None;
    if let Some(tuf) = &options.tuf {
        match tuf.cached() {
            Ok(Some(c)) if options.refresh == Refresh::IfStale && c.is_stale(SystemTime::now()) => {
                match tuf.refresh().await {
                    Ok(fresh) => cached = Some(fresh),
                    Err(e) => {
                        warnings.push(format!(
                            "the cached trusted root has expired and could not be refreshed ({e}); using it anyway"
                        ));
                        cached = Some(c);
                    }
                }
            }
            Ok(c) => cached = c,
            Err(e) => warnings.push(format!("ignoring the TUF cache: {e}")),
        }
    }
    let default_signing_config = match cached
        .as_ref()
        .and_then(|c| c.signing_config.as_deref())
        .map(SigningConfig::parse)
    {
        Some(Ok(config)) => config,
        Some(Err(e)) => {
            warnings.push(format!("ignoring the cached signing config: {e}"));
            shipped_signing_config()?
        }
        None => shipped_signing_config()?,
    };
    let (root, source) = if let Some(path) = &options.trusted_root {
        (
            TrustedRoot::load(path).map_err(|e| SigningError::Trust(e.to_string()))?,
            RootSource::File(path.clone()),
        )
    } else {
        let overrides = CosignTrustOverrides::from_env(options.env)
            .map_err(|e| SigningError::Trust(e.to_string()))?;
        if overrides.is_set() {
            (
                overrides
                    .to_trusted_root()
                    .map_err(|e| SigningError::Trust(e.to_string()))?,
                RootSource::Environment,
            )
        } else {
            match cached
                .as_ref()
                .map(|c| (TrustedRoot::parse(&c.trusted_root), c))
            {
                Some((Ok(root), c)) => (root, RootSource::TufCache(c.mirror.clone())),
                Some((Err(e), _)) => {
                    warnings.push(format!("ignoring the cached trusted root: {e}"));
                    (shipped_root()?, RootSource::Shipped)
                }
                None => (shipped_root()?, RootSource::Shipped),
            }
        }
    };
    Ok(SigningTrust {
        root,
        source,
        default_signing_config,
        warnings,
    })
}

fn shipped_root() -> Result<TrustedRoot, SigningError> {
    signet_trust::public_good::trusted_root().map_err(|e| SigningError::Trust(e.to_string()))
}

fn shipped_signing_config() -> Result<SigningConfig, SigningError> {
    signet_trust::public_good::signing_config().map_err(|e| SigningError::Trust(e.to_string()))
}

/// The TUF configuration in the user's cache directory: the mirror
/// `initialize` chose, or else the public-good mirror starting from the
/// shipped TUF root.
pub fn default_tuf() -> Result<Option<TufConfig>, TufError> {
    let Some(dir) = crate::tuf::default_cache_dir() else {
        return Ok(None);
    };
    TufConfig::configured(
        dir,
        signet_trust::public_good::TUF_MIRROR,
        signet_trust::public_good::TUF_ROOT_JSON,
    )
    .map(Some)
}
