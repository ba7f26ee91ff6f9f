//! Keyless signing and verification flags (Fulcio certificates, OIDC
//! identity tokens, transparency logs, timestamp authorities), declared with
//! cosign's names, types and defaults.
//!
//! The signing flags work (see `crate::sigstore`), except the interactive
//! OAuth flows and TLS client settings for the timestamp authority, which
//! `first_unsupported` names. The verification flags work (`crate::trust`
//! turns them into a verifier and a signer policy).

use std::path::PathBuf;

use clap::{ArgAction, Args};

use super::values::go_bool;

/// cosign's default OIDC issuer.
pub const DEFAULT_OIDC_ISSUER: &str = "https://oauth2.sigstore.dev/auth";
/// cosign's default OIDC client.
pub const DEFAULT_OIDC_CLIENT_ID: &str = "sigstore";

/// The first of `flags` (name, set?) that is set.
fn first(flags: &[(&'static str, bool)]) -> Option<&'static str> {
    flags.iter().find(|(_, set)| *set).map(|(name, _)| *name)
}

fn differs(value: &Option<String>, default: &str) -> bool {
    value.as_deref().is_some_and(|v| v != default)
}

// `sign` and `sign-blob`: where a keyless certificate and a log entry come from.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Keyless signing and transparency log")]
pub struct KeylessSignArgs {
    /// Fulcio URL (default: the public-good instance, or the signing config's).
    #[arg(long, value_name = "URL")]
    pub fulcio_url: Option<String>,
    /// OIDC identity token, or a file holding one (else SIGSTORE_ID_TOKEN,
    /// then the CI job's token: GitHub, Gitea or Forgejo Actions).
    #[arg(long, value_name = "TOKEN|FILE")]
    pub identity_token: Option<String>,
    /// Interactive OAuth flow: normal, device, token or client_credentials (not supported).
    #[arg(long, hide = true, value_name = "FLOW")]
    pub fulcio_auth_flow: Option<String>,
    /// Do not require an SCT from a trusted CT log on Fulcio's certificate.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub insecure_skip_verify: bool,
    /// Get a Fulcio certificate even though a key is given (not supported).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub issue_certificate: bool,
    /// OIDC issuer of the interactive flow (not supported; cosign's default accepted).
    #[arg(long, hide = true, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// OIDC client ID of the interactive flow (not supported; cosign's default accepted).
    #[arg(long, hide = true, value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// File holding the OIDC client secret (not supported).
    #[arg(long, hide = true, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// OIDC redirect URL (not supported).
    #[arg(long, hide = true, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// Use only this ambient token provider: github-actions (also Gitea and
    /// Forgejo Actions; aliases gitea-actions, forgejo-actions), filesystem.
    #[arg(long, value_name = "PROVIDER")]
    pub oidc_provider: Option<String>,
    /// Do not read ambient OIDC credentials (CI job tokens, the filesystem provider).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub oidc_disable_ambient_providers: bool,
    /// Rekor URL (default: the public-good instance, or the signing config's).
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// A signing config (v0.2) naming Fulcio, the Rekor logs (v1 or v2) and
    /// timestamp authorities, chosen by its selection rules.
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
    /// Use the public-good signing config (cosign 3's default; signet's too
    /// when no service URL is given).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub use_signing_config: bool,
    /// The trusted root (trusted_root.json) Fulcio's certificate, the log's
    /// answers and timestamps are checked against.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessSignArgs {
    /// The first flag that signet does not honour, set to anything but
    /// cosign's default.
    pub fn first_unsupported(&self) -> Option<&'static str> {
        first(&[
            ("--fulcio-auth-flow", self.fulcio_auth_flow.is_some()),
            ("--issue-certificate", self.issue_certificate),
            (
                "--oidc-issuer",
                differs(&self.oidc_issuer, DEFAULT_OIDC_ISSUER),
            ),
            (
                "--oidc-client-id",
                differs(&self.oidc_client_id, DEFAULT_OIDC_CLIENT_ID),
            ),
            (
                "--oidc-client-secret-file",
                self.oidc_client_secret_file.is_some(),
            ),
            ("--oidc-redirect-url", self.oidc_redirect_url.is_some()),
        ])
    }
}

// `sign` and `sign-blob`: an RFC 3161 timestamp authority.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Keyless signing and transparency log")]
pub struct TimestampSignArgs {
    /// Timestamp authority URL (the full endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp).
    #[arg(long, value_name = "URL")]
    pub timestamp_server_url: Option<String>,
    /// CA certificate (PEM) for the TSA connection (not supported).
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_cacert: Option<PathBuf>,
    /// Client certificate (PEM) for the TSA connection (not supported).
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_cert: Option<PathBuf>,
    /// Client key (PEM) for the TSA connection (not supported).
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_key: Option<PathBuf>,
    /// Server name for the TSA connection (not supported).
    #[arg(long, hide = true, value_name = "NAME")]
    pub timestamp_server_name: Option<String>,
}

impl TimestampSignArgs {
    /// The first flag signet does not honour.
    pub fn first_unsupported(&self) -> Option<&'static str> {
        first(&[
            (
                "--timestamp-client-cacert",
                self.timestamp_client_cacert.is_some(),
            ),
            (
                "--timestamp-client-cert",
                self.timestamp_client_cert.is_some(),
            ),
            (
                "--timestamp-client-key",
                self.timestamp_client_key.is_some(),
            ),
            (
                "--timestamp-server-name",
                self.timestamp_server_name.is_some(),
            ),
        ])
    }
}

// `verify` and `verify-blob`: who must have signed (a Fulcio certificate's
// identity), and the certificate material to check it with.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Keyless verification")]
pub struct CertificateVerifyArgs {
    /// The identity (SAN) the certificate must carry.
    #[arg(long, value_name = "IDENTITY", alias = "cert-identity")]
    pub certificate_identity: Option<String>,
    /// A regular expression the certificate's identity must match.
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the certificate must name.
    #[arg(long, value_name = "ISSUER", alias = "cert-oidc-issuer")]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression the certificate's OIDC issuer must match.
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// GitHub workflow trigger claim.
    #[arg(long, value_name = "VALUE")]
    pub certificate_github_workflow_trigger: Option<String>,
    /// GitHub workflow SHA claim.
    #[arg(long, value_name = "VALUE")]
    pub certificate_github_workflow_sha: Option<String>,
    /// GitHub workflow name claim.
    #[arg(long, value_name = "VALUE")]
    pub certificate_github_workflow_name: Option<String>,
    /// GitHub workflow repository claim.
    #[arg(long, value_name = "VALUE")]
    pub certificate_github_workflow_repository: Option<String>,
    /// GitHub workflow ref claim.
    #[arg(long, value_name = "VALUE")]
    pub certificate_github_workflow_ref: Option<String>,
    /// The signing certificate (PEM).
    #[arg(long, hide = true, value_name = "FILE", alias = "cert")]
    pub certificate: Option<PathBuf>,
    /// The signing certificate's chain (PEM).
    #[arg(long, hide = true, value_name = "FILE", alias = "cert-chain")]
    pub certificate_chain: Option<PathBuf>,
    /// Root CA certificates (PEM).
    #[arg(long, hide = true, value_name = "FILE")]
    pub ca_roots: Option<PathBuf>,
    /// Intermediate CA certificates (PEM).
    #[arg(long, hide = true, value_name = "FILE")]
    pub ca_intermediates: Option<PathBuf>,
    /// A detached SCT.
    #[arg(long, hide = true, value_name = "FILE")]
    pub sct: Option<PathBuf>,
    /// Do not require an embedded SCT.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub insecure_ignore_sct: bool,
    /// Accept certificate chains in bundles.
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub allow_certificate_chain: bool,
}

// `verify` and `verify-blob`: transparency-log and timestamp evidence.
#[derive(Args, Clone, Default)]
pub struct TlogVerifyArgs {
    /// Rekor URL (accepted for cosign scripts; signet never searches a log:
    /// the evidence the signature carries is checked offline).
    #[arg(long, hide = true, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// Require a verified RFC 3161 timestamp from a trusted timestamp authority.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub use_signed_timestamps: bool,
    /// Also trust this timestamp authority (PEM chain, signing certificate first).
    #[arg(long, value_name = "FILE")]
    pub timestamp_certificate_chain: Option<PathBuf>,
}
