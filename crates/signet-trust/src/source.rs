//! Where a verifier's trusted root comes from, in cosign's order of
//! precedence (without the network): an explicit `--trusted-root` file, then
//! cosign's `SIGSTORE_*` variables, then the shipped public-good snapshot.
//! A TUF refresh, when it exists, slots in before the snapshot.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use signet_core::limits::{InputLimit, read_file};

use crate::client_config::ClientTrustConfig;
use crate::cosign_env::CosignTrustOverrides;
use crate::error::TrustError;
use crate::public_good;
use crate::signing_config::SigningConfig;
use crate::trusted_root::{MAX_TRUST_DOCUMENT_BYTES, TrustedRoot};

/// Where a trusted root came from, for messages and results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    /// A `trusted_root.json` file given explicitly.
    File(PathBuf),
    /// cosign's `SIGSTORE_*` environment variables.
    Environment,
    /// The public-good snapshot shipped with signet.
    PublicGoodSnapshot,
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "trusted root {}", p.display()),
            Self::Environment => f.write_str("SIGSTORE_* environment variables"),
            Self::PublicGoodSnapshot => f.write_str("the shipped public-good trusted root"),
        }
    }
}

/// The limit for trust documents read from files.
pub const TRUST_DOCUMENT: InputLimit =
    InputLimit::new("a trust document", MAX_TRUST_DOCUMENT_BYTES);

fn read_document(what: &str, path: &Path) -> Result<Vec<u8>, TrustError> {
    read_file(path, TRUST_DOCUMENT).map_err(|source| TrustError::Read {
        what: what.into(),
        source,
    })
}

impl TrustedRoot {
    /// Reads a `trusted_root.json` file, capped while reading.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        Self::parse(&read_document("trusted root", path)?)
    }
}

impl SigningConfig {
    /// Reads a signing config file (`--signing-config`), capped while reading.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        Self::parse(&read_document("signing config", path)?)
    }
}

impl ClientTrustConfig {
    /// Reads a client trust config file (`--trust-config`), capped while reading.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        Self::parse(&read_document("client trust config", path)?)
    }
}

/// The trusted root to verify with: `explicit` if given, else cosign's
/// `SIGSTORE_*` overrides if any is set (read through `var`), else the
/// shipped public-good snapshot. Never touches the network.
pub fn resolve_trusted_root(
    explicit: Option<&Path>,
    var: impl Fn(&str) -> Option<OsString>,
) -> Result<(TrustedRoot, TrustSource), TrustError> {
    if let Some(path) = explicit {
        return Ok((TrustedRoot::load(path)?, TrustSource::File(path.to_owned())));
    }
    let overrides = CosignTrustOverrides::from_env(var)?;
    if overrides.is_set() {
        return Ok((overrides.to_trusted_root()?, TrustSource::Environment));
    }
    Ok((
        public_good::trusted_root()?,
        TrustSource::PublicGoodSnapshot,
    ))
}
