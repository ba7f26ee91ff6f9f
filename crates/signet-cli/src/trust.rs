//! The verifier a command uses: trusted keys, the trusted root (offline:
//! `--trusted-root`, then cosign's `SIGSTORE_*` variables, then the shipped
//! public-good snapshot) and the thresholds the flags set.

use std::path::Path;

use anyhow::Context;
use signet_trust::resolve_trusted_root;
use signet_verify::{TrustedKey, Verifier};

/// What the flags ask of the verifier.
pub struct VerifierFlags<'a> {
    pub trusted_root: Option<&'a Path>,
    pub insecure_ignore_tlog: bool,
}

pub fn build_verifier(
    keys: Vec<TrustedKey>,
    flags: &VerifierFlags<'_>,
) -> anyhow::Result<Verifier> {
    let (root, source) = resolve_trusted_root(flags.trusted_root, |name| std::env::var_os(name))
        .context("loading the trusted root")?;
    let mut builder = Verifier::builder().trusted_keys(keys).trusted_root(root);
    if flags.insecure_ignore_tlog {
        builder = builder.unsafe_skip_transparency_log();
    }
    builder
        .build()
        .with_context(|| format!("trust material from {source}"))
}
