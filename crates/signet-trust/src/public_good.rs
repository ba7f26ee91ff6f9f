//! The Sigstore public-good instance's trust material, shipped with signet
//! so that verification needs no network. `data/README.md` says where each
//! file came from and how to refresh it.

use crate::error::TrustError;
use crate::signing_config::SigningConfig;
use crate::trusted_root::TrustedRoot;

/// `trusted_root.json` of the public-good TUF repository.
pub const TRUSTED_ROOT_JSON: &[u8] = include_bytes!("../data/trusted_root.json");
/// `signing_config.v0.2.json` of the public-good TUF repository (Rekor v1).
pub const SIGNING_CONFIG_JSON: &[u8] = include_bytes!("../data/signing_config.v0.2.json");
/// `signing_config_rekor_v2.v0.2.json`: the opt-in config with Rekor v2 first.
pub const SIGNING_CONFIG_REKOR_V2_JSON: &[u8] =
    include_bytes!("../data/signing_config_rekor_v2.v0.2.json");
/// The TUF `root.json` (version 15) a TUF refresh starts from.
pub const TUF_ROOT_JSON: &[u8] = include_bytes!("../data/root.json");
/// Where the public-good TUF repository is served.
pub const TUF_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The shipped public-good trusted root.
pub fn trusted_root() -> Result<TrustedRoot, TrustError> {
    TrustedRoot::parse(TRUSTED_ROOT_JSON)
}

/// The shipped public-good signing config.
pub fn signing_config() -> Result<SigningConfig, TrustError> {
    SigningConfig::parse(SIGNING_CONFIG_JSON)
}

/// The shipped opt-in signing config that prefers Rekor v2.
pub fn signing_config_rekor_v2() -> Result<SigningConfig, TrustError> {
    SigningConfig::parse(SIGNING_CONFIG_REKOR_V2_JSON)
}
