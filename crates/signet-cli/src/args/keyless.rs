//! Keyless signing and verification flags (Fulcio certificates, OIDC
//! identity tokens, transparency logs, timestamp authorities), declared with
//! cosign's names, types and defaults.
//!
//! The verification flags work (`crate::trust` turns them into a verifier and
//! a signer policy); of the signing flags, `first_given` names the first one
//! a command line sets to anything but cosign's default, and
//! `crate::unsupported::keyless` turns it into a one-line error until keyless
//! signing replaces that check.

use std::path::PathBuf;

use clap::{ArgAction, Args};

use super::values::go_bool;

/// cosign's default Fulcio.
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// cosign's default Rekor.
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";
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

/// `sign` and `sign-blob`: where a keyless certificate and a log entry come from.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Keyless (not supported yet)")]
pub struct KeylessSignArgs {
    /// Fulcio URL (cosign's default: https://fulcio.sigstore.dev).
    #[arg(long, hide = true, value_name = "URL")]
    pub fulcio_url: Option<String>,
    /// OIDC identity token, or a file holding one.
    #[arg(long, hide = true, value_name = "TOKEN|FILE")]
    pub identity_token: Option<String>,
    /// Interactive OAuth flow: normal, device, token or client_credentials.
    #[arg(long, hide = true, value_name = "FLOW")]
    pub fulcio_auth_flow: Option<String>,
    /// Skip verifying Fulcio's SCT.
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub insecure_skip_verify: bool,
    /// Get a Fulcio certificate even though a key is given.
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub issue_certificate: bool,
    /// OIDC issuer (cosign's default: https://oauth2.sigstore.dev/auth).
    #[arg(long, hide = true, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// OIDC client ID (cosign's default: sigstore).
    #[arg(long, hide = true, value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// File holding the OIDC client secret.
    #[arg(long, hide = true, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// OIDC redirect URL.
    #[arg(long, hide = true, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// OIDC token provider: spiffe, google, github-actions, filesystem, buildkite-agent.
    #[arg(long, hide = true, value_name = "PROVIDER")]
    pub oidc_provider: Option<String>,
    /// Do not read ambient OIDC credentials.
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub oidc_disable_ambient_providers: bool,
    /// Rekor URL (cosign's default: https://rekor.sigstore.dev).
    #[arg(long, hide = true, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// A signing config (v0.2) naming the services.
    #[arg(long, hide = true, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
    /// Fetch the signing config over TUF (cosign 3's default).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub use_signing_config: bool,
    /// A trusted root to check the new signature against.
    #[arg(long, hide = true, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessSignArgs {
    /// The first flag set to anything but cosign's default.
    pub fn first_given(&self) -> Option<&'static str> {
        first(&[
            (
                "--fulcio-url",
                differs(&self.fulcio_url, DEFAULT_FULCIO_URL),
            ),
            ("--identity-token", self.identity_token.is_some()),
            ("--fulcio-auth-flow", self.fulcio_auth_flow.is_some()),
            ("--insecure-skip-verify", self.insecure_skip_verify),
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
            ("--oidc-provider", self.oidc_provider.is_some()),
            (
                "--oidc-disable-ambient-providers",
                self.oidc_disable_ambient_providers,
            ),
            ("--rekor-url", differs(&self.rekor_url, DEFAULT_REKOR_URL)),
            ("--signing-config", self.signing_config.is_some()),
            ("--use-signing-config", self.use_signing_config),
            ("--trusted-root", self.trusted_root.is_some()),
        ])
    }
}

/// `sign` and `sign-blob`: an RFC 3161 timestamp authority.
#[derive(Args, Clone, Default)]
pub struct TimestampSignArgs {
    /// Timestamp authority URL.
    #[arg(long, hide = true, value_name = "URL")]
    pub timestamp_server_url: Option<String>,
    /// CA certificate (PEM) for the TSA connection.
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_cacert: Option<PathBuf>,
    /// Client certificate (PEM) for the TSA connection.
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_cert: Option<PathBuf>,
    /// Client key (PEM) for the TSA connection.
    #[arg(long, hide = true, value_name = "FILE")]
    pub timestamp_client_key: Option<PathBuf>,
    /// Server name for the TSA connection.
    #[arg(long, hide = true, value_name = "NAME")]
    pub timestamp_server_name: Option<String>,
}

impl TimestampSignArgs {
    /// The first flag given.
    pub fn first_given(&self) -> Option<&'static str> {
        first(&[
            (
                "--timestamp-server-url",
                self.timestamp_server_url.is_some(),
            ),
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

/// `verify` and `verify-blob`: who must have signed (a Fulcio certificate's
/// identity), and the certificate material to check it with.
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

/// `verify` and `verify-blob`: transparency-log and timestamp evidence.
#[derive(Args, Clone, Default)]
pub struct TlogVerifyArgs {
    /// Rekor URL (cosign's default: https://rekor.sigstore.dev).
    #[arg(long, hide = true, value_name = "URL")]
    pub rekor_url: Option<String>,
    /// Require a verified RFC 3161 timestamp from a trusted timestamp authority.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub use_signed_timestamps: bool,
    /// Also trust this timestamp authority (PEM chain, signing certificate first).
    #[arg(long, value_name = "FILE")]
    pub timestamp_certificate_chain: Option<PathBuf>,
}

impl TlogVerifyArgs {
    /// The first flag set to anything but cosign's default.
    pub fn first_given(&self) -> Option<&'static str> {
        first(&[
            ("--rekor-url", differs(&self.rekor_url, DEFAULT_REKOR_URL)),
            ("--use-signed-timestamps", self.use_signed_timestamps),
            (
                "--timestamp-certificate-chain",
                self.timestamp_certificate_chain.is_some(),
            ),
        ])
    }
}
