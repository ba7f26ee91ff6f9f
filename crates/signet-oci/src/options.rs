//! How a registry client talks to registries: schemes, trust, credentials
//! and the limits on what it reads.

use crate::auth::Credential;

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Use plain `http://` instead of `https://` for registries.
    pub allow_http_registry: bool,
    /// Use https without verifying the registry's certificate.
    pub allow_insecure_registry: bool,
    /// Credentials for every registry, overriding the config files
    /// (`--registry-username` / `--registry-password`).
    pub credentials: Option<Credential>,
    /// Largest manifest accepted (default 4 MiB, the distribution limit).
    pub max_manifest_bytes: usize,
    /// Largest blob accepted by callers that use it as their limit (default
    /// 128 MiB, cosign's `COSIGN_MAX_ATTACHMENT_SIZE`).
    pub max_blob_bytes: usize,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            allow_http_registry: false,
            allow_insecure_registry: false,
            credentials: None,
            max_manifest_bytes: 4 << 20,
            max_blob_bytes: 128 << 20,
            user_agent: concat!("signet/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = ClientOptions::default();
        assert_eq!(
            (o.max_manifest_bytes, o.max_blob_bytes),
            (4 << 20, 128 << 20)
        );
        assert!(o.user_agent.starts_with("signet/"));
    }
}
