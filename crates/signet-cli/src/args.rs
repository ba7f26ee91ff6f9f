//! Command-line arguments, named as cosign names them so that runbooks work
//! with `signet` in place of `cosign`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "signet",
    version,
    about = "Sign and verify container images and blobs (cosign-compatible)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Boolean options are written `--flag=false` in cosign runbooks, so they take
// an optional value, but only after `=` (`--flag IMAGE` must leave IMAGE alone).
#[derive(Subcommand)]
pub enum Command {
    /// Generate a key pair: an encrypted cosign private key and its public key.
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Import an unencrypted PEM private key as an encrypted cosign key pair.
    ImportKeyPair(ImportKeyPairArgs),
    /// Print the public key of a key reference.
    PublicKey(PublicKeyArgs),
    /// Sign container images and store the signatures in the registry.
    Sign(SignArgs),
    /// Verify container image signatures.
    Verify(VerifyArgs),
    /// Sign a file.
    SignBlob(SignBlobArgs),
    /// Verify a file's signature or bundle.
    VerifyBlob(VerifyBlobArgs),
    /// Run a private Sigstore: CA with CT log, timestamp authority, transparency log.
    Server(crate::commands::server::ServerArgs),
    /// Print the version.
    Version,
}

#[derive(Args)]
pub struct GenerateKeyPairArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub output_key_prefix: String,
    /// Create the key in a KMS instead: hashivault://NAME (transit key) or
    /// vault-kv://MOUNT/PATH (encrypted key pair in a new KV v2 secret).
    /// Only the public key is written to disk.
    #[arg(long, value_name = "URI")]
    pub kms: Option<String>,
}

#[derive(Args)]
pub struct ImportKeyPairArgs {
    /// The unencrypted PEM private key (PKCS#1 RSA, SEC1 EC, or PKCS#8).
    #[arg(short, long, value_name = "FILE")]
    pub key: PathBuf,
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(short, long, default_value = "import-cosign", value_name = "PREFIX")]
    pub output_key_prefix: String,
    /// Accepted for cosign compatibility; signet never overwrites key files.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct PublicKeyArgs {
    /// Key reference: file, env://VAR, hashivault://NAME, vault-kv://MOUNT/PATH.
    #[arg(long, value_name = "KEYREF")]
    pub key: String,
    /// Write the public key to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub outfile: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct RegistryArgs {
    /// Talk plain HTTP to registries (for a local registry).
    #[arg(long)]
    pub allow_http_registry: bool,
    /// Accept registries whose TLS certificate does not verify.
    #[arg(long)]
    pub allow_insecure_registry: bool,
    /// Registry user name (instead of docker/podman credentials).
    #[arg(long, requires = "registry_password")]
    pub registry_username: Option<String>,
    /// Registry password.
    #[arg(long, requires = "registry_username")]
    pub registry_password: Option<String>,
    /// Registry bearer token.
    #[arg(long, conflicts_with_all = ["registry_username", "registry_password"])]
    pub registry_token: Option<String>,
}

#[derive(Args)]
pub struct SignArgs {
    /// Images to sign. Several may be given; each is resolved to a digest once.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Signing key: file, env://VAR, hashivault://NAME, vault-kv://MOUNT/PATH.
    #[arg(long, value_name = "KEYREF")]
    pub key: Option<String>,
    /// Claim to include in the signed payload (KEY=VALUE, repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Sign an image index and every manifest it lists.
    #[arg(short, long)]
    pub recursive: bool,
    /// Skip confirmation prompts (accepted; signet does not prompt).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Upload to the transparency log. signet has no Rekor client yet, so the
    /// default (true) prints a notice and stores the signature in the registry only.
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,
    /// Store the signature in the registry (false: print the signature payload and signature only).
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub upload: bool,
    /// Images signed at the same time.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub concurrency: usize,
    /// Record the version of the KMS key that signs (the transit key version
    /// of hashivault://, the secret version of vault-kv://) in the signed
    /// payload as annotation NAME (default: kms-key-version), so that
    /// `verify -a NAME=N` can require it. Off unless given.
    #[arg(long, value_name = "NAME", num_args = 0..=1, require_equals = true, default_missing_value = "kms-key-version")]
    pub record_key_version: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Text,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Images to verify. Several may be given; they are verified concurrently.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Trusted public key (repeatable: any one key verifying is enough).
    #[arg(long, value_name = "KEYREF")]
    pub key: Vec<String>,
    /// Require this claim in the signed payload (KEY=VALUE, repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Output format of the verified payloads on standard output.
    #[arg(short, long, value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Also verify every manifest of an image index; all must be signed.
    #[arg(short, long)]
    pub recursive: bool,
    /// Require the signed docker-reference to name the image's repository
    /// (stops replaying a signature from another repository). Off by default, as in cosign.
    #[arg(long)]
    pub match_repository: bool,
    /// Do not check the transparency log (signet cannot check it yet either way).
    #[arg(long, default_value = "false", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,
    /// Check the signed claims (always done; accepted for cosign compatibility).
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub check_claims: bool,
    /// Keyless identity (not available yet).
    #[arg(long, value_name = "IDENTITY")]
    pub certificate_identity: Option<String>,
    /// Keyless identity pattern (not available yet).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless OIDC issuer (not available yet).
    #[arg(long, value_name = "ISSUER")]
    pub certificate_oidc_issuer: Option<String>,
    /// Keyless OIDC issuer pattern (not available yet).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Images verified at the same time.
    #[arg(long, alias = "max-workers", default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args)]
pub struct SignBlobArgs {
    /// The file to sign (`-` for standard input).
    #[arg(value_name = "BLOB")]
    pub blob: PathBuf,
    /// Signing key reference.
    #[arg(long, value_name = "KEYREF")]
    pub key: String,
    /// Write the base64 signature to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,
    /// Write a Sigstore bundle (v0.3) to FILE.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Accepted for cosign compatibility (bundles are always the v0.3 format).
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: bool,
    /// Upload to the transparency log (not available yet; see `sign`).
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,
    /// Skip confirmation prompts (accepted).
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct VerifyBlobArgs {
    /// The file to verify (`-` for standard input).
    #[arg(value_name = "BLOB")]
    pub blob: PathBuf,
    /// Trusted public key (repeatable).
    #[arg(long, value_name = "KEYREF", required = true)]
    pub key: Vec<String>,
    /// The signature: a file holding base64 (as sign-blob writes) or raw bytes.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    pub signature: Option<PathBuf>,
    /// A Sigstore bundle.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Accepted for cosign compatibility.
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: bool,
    /// Do not check the transparency log.
    #[arg(long, default_value = "false", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,
    /// A trusted-root file (accepted; key verification needs none, and signet never fetches one).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}
