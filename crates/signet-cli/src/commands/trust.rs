//! initialize / trusted-root refresh: the trusted root and signing config
//! over TUF, into the user's cache. The only command that contacts a TUF
//! repository; verification never does.

use anyhow::{Context, anyhow};
use signet_core::limits;
use signet_sigstore::tuf::{TufConfig, default_cache_dir};

use crate::args::InitializeArgs;
use crate::exit::Failure;

/// A TUF root.json is a few kilobytes.
const ROOT_FILE: limits::InputLimit = limits::InputLimit::new("a TUF root", 1 << 20);

pub async fn initialize(args: InitializeArgs) -> Result<(), Failure> {
    let cache = default_cache_dir()
        .ok_or_else(|| anyhow!("no cache directory: set HOME or XDG_CACHE_HOME"))?;
    let root = match &args.root {
        Some(path) => {
            let bytes = limits::read_file(path, ROOT_FILE)?;
            if let Some(expected) = &args.root_checksum {
                let actual = signet_core::Digest::sha256_of(&bytes).hex();
                if !actual.eq_ignore_ascii_case(expected.trim()) {
                    return Err(Failure::other(anyhow!(
                        "--root {}: SHA-256 {actual} is not the --root-checksum {expected}",
                        path.display()
                    )));
                }
            }
            bytes
        }
        None if args.mirror.is_some() => {
            return Err(Failure::other(anyhow!(
                "--mirror needs the --root to start from (a TUF root.json)"
            )));
        }
        None => signet_trust::public_good::TUF_ROOT_JSON.to_vec(),
    };
    let mirror = args
        .mirror
        .as_deref()
        .unwrap_or(signet_trust::public_good::TUF_MIRROR);
    let config = TufConfig::new(mirror, root, cache)?;
    let fresh = config.refresh().await?;
    config
        .remember()
        .context("remembering the mirror for later commands")?;
    // Both documents must be usable, or nothing later could use them.
    signet_trust::TrustedRoot::parse(&fresh.trusted_root)
        .context("the repository's trusted_root.json")?;
    if let Some(c) = &fresh.signing_config {
        signet_trust::SigningConfig::parse(c).context("the repository's signing config")?;
    }
    eprintln!(
        "Refreshed the trusted root from {} into {} (TUF metadata valid until {})",
        fresh.mirror,
        config.mirror_dir().display(),
        signet_pki::time::rfc3339(fresh.expires)
    );
    Ok(())
}
