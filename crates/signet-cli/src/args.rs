//! Command-line arguments, named, typed and defaulted as cosign 2.5 names
//! them, so that runbooks work with `signet` in place of `cosign`.
//!
//! These are the raw flags. Every flag cosign has is declared; the ones
//! signet cannot honour are refused in one place (`crate::unsupported`)
//! before any command runs, with a one-line `not supported: why`, never with
//! a usage error. Each command's handler then turns the flags it honours
//! into library options.
//!
//! Boolean flags follow Go's `flag` rules: `--flag`, `--flag=true`,
//! `--flag=false` (any `strconv.ParseBool` spelling); a value only after `=`,
//! so `--flag IMAGE` leaves IMAGE alone.

pub mod keyless;
pub mod values;

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use keyless::{CertificateVerifyArgs, KeylessSignArgs, TimestampSignArgs, TlogVerifyArgs};
use values::{go_bool, go_duration};

#[derive(Parser)]
#[command(
    name = "signet",
    version,
    about = "Sign and verify container images and blobs (cosign-compatible)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

// cosign's global flags, accepted before or after the command.
#[derive(Args)]
#[command(next_help_heading = "Global")]
pub struct GlobalArgs {
    /// Give up after this long (30s, 5m, 1h30m; 0 = no limit).
    #[arg(short = 't', long, global = true, value_parser = go_duration, default_value = "3m0s", value_name = "DURATION")]
    pub timeout: Duration,
    /// Debug output on standard error.
    #[arg(short = 'd', long, global = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub verbose: bool,
    /// Write what would go to standard output to FILE (created or truncated).
    #[arg(long, global = true, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

// `defer`: a command's flags are defined only when that command runs, so a
// short command does not pay for defining the few hundred flags of all the
// others (measured: about a sixth of `verify-blob`'s CPU time).
#[derive(Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Generate a key pair: an encrypted cosign private key and its public key.
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Import an unencrypted PEM private key as an encrypted cosign key pair.
    ImportKeyPair(ImportKeyPairArgs),
    /// Print the public key of a key reference.
    PublicKey(PublicKeyArgs),
    /// Sign container images and store the signatures in the registry.
    Sign(Box<SignArgs>),
    /// Verify container image signatures.
    Verify(Box<VerifyArgs>),
    /// Sign a file.
    SignBlob(Box<SignBlobArgs>),
    /// Verify a file's signature or bundle.
    VerifyBlob(Box<VerifyBlobArgs>),
    /// Refresh the trusted root and signing config over TUF into the user's
    /// cache (cosign's `initialize`): the public-good repository, or
    /// --mirror with --root.
    Initialize(InitializeArgs),
    /// Trust material: `trusted-root refresh` (the same as `initialize`).
    #[command(subcommand)]
    TrustedRoot(TrustedRootCommand),
    /// Policy files: dry-run one over a registry project, export one.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    Completion(CompletionArgs),
    /// Run a private Sigstore: CA with CT log, timestamp authority, transparency log.
    Server(crate::commands::server::ServerArgs),
    /// Serve a verifying registry proxy: manifests are checked against a
    /// policy before they are served (a Harbor-style 412 otherwise).
    Gate(Box<crate::commands::enforce::GateArgs>),
    /// Serve a Kubernetes admission webhook (POST /validate and /mutate)
    /// deciding with a policy; `admission manifests` prints its configurations.
    Admission(Box<crate::commands::enforce::AdmissionArgs>),
    /// Print the version.
    Version,
}

// `initialize` and `trusted-root refresh`.
#[derive(Args, Clone)]
pub struct InitializeArgs {
    /// The TUF repository (default: the public-good one).
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// The TUF root.json to start from (default: the one signet ships for
    /// the public-good repository).
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// SHA-256 (hex) the --root file must have.
    #[arg(long, value_name = "HEX")]
    pub root_checksum: Option<String>,
    /// The staging repository (not supported: signet ships no staging root; pass --mirror and --root).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub staging: bool,
}

/// `trusted-root` subcommands.
#[derive(clap::Subcommand, Clone)]
pub enum TrustedRootCommand {
    /// Refresh the trusted root over TUF (as `initialize`).
    Refresh(InitializeArgs),
}

#[derive(Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// cosign's key destinations (k8s://NS/NAME, github://, gitlab://): not supported.
    #[arg(value_name = "DESTINATION", hide = true)]
    pub destination: Option<String>,
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
    #[arg(short = 'y', long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub yes: bool,
}

#[derive(Args)]
pub struct PublicKeyArgs {
    /// Key reference: file, env://VAR, hashivault://NAME, vault-kv://MOUNT/PATH.
    #[arg(long, value_name = "KEYREF")]
    pub key: Option<String>,
    /// Write the public key to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub outfile: Option<PathBuf>,
    #[command(flatten)]
    pub security_key: SecurityKeyArgs,
}

// PIV hardware keys (`--sk`, `--slot`): declared so that cosign lines parse;
// refused, since no hardware token is reachable.
#[derive(Args, Clone, Default)]
pub struct SecurityKeyArgs {
    /// Sign with a PIV hardware key (not supported).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub sk: bool,
    /// PIV slot (not supported).
    #[arg(long, hide = true, value_name = "SLOT")]
    pub slot: Option<String>,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Let any registry fall back to plain HTTP when HTTPS fails (loopback,
    /// localhost and private-address registries may without it).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub allow_http_registry: bool,
    /// Accept registries whose TLS certificate does not verify.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub allow_insecure_registry: bool,
    /// Registry user name (instead of docker/podman credentials).
    #[arg(long)]
    pub registry_username: Option<String>,
    /// Registry password (with --registry-username).
    #[arg(long)]
    pub registry_password: Option<String>,
    /// Registry bearer token (takes precedence over a user name and password).
    #[arg(long)]
    pub registry_token: Option<String>,
    /// CA certificates (PEM) to trust for registries, instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub registry_cacert: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS with the registry.
    #[arg(long, value_name = "FILE")]
    pub registry_client_cert: Option<PathBuf>,
    /// Private key (PEM) of --registry-client-cert.
    #[arg(long, value_name = "FILE")]
    pub registry_client_key: Option<PathBuf>,
    /// Name to check the registry's TLS certificate against, instead of the registry host.
    #[arg(long, value_name = "NAME")]
    pub registry_server_name: Option<String>,
    /// Use the Kubernetes keychain (not supported).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub k8s_keychain: bool,
}

/// cosign's `--registry-referrers-mode`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReferrersMode {
    /// Signatures under the `sha256-<hex>.sig` tag (cosign 2, skopeo,
    /// podman and Harbor read them; signet's default).
    Legacy,
    /// A Sigstore bundle attached as an OCI 1.1 referrer (cosign 3's layout;
    /// the `sha256-<hex>` fallback index where the registry has no referrers API).
    #[value(name = "oci-1-1")]
    Oci11,
    /// Both layouts.
    Both,
}

// Legacy signature attachments, deprecated in cosign (`--attachment`,
// `--attachment-tag-prefix`): declared, refused.
#[derive(Args, Clone, Default)]
pub struct AttachmentArgs {
    /// Sign or verify an attachment (deprecated in cosign; not supported).
    #[arg(long, hide = true, value_name = "NAME")]
    pub attachment: Option<String>,
    /// A prefix for attachment tags (not supported).
    #[arg(long, hide = true, value_name = "PREFIX")]
    pub attachment_tag_prefix: Option<String>,
}

#[derive(Args)]
pub struct SignArgs {
    /// Images to sign. Several may be given; each is resolved to a digest once.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Signing key: file, env://VAR, hashivault://NAME, vault-kv://MOUNT/PATH.
    #[arg(long, value_name = "KEYREF")]
    pub key: Option<String>,
    /// Claim to include in the signed payload (KEY=VALUE; repeatable or comma-separated).
    #[arg(
        short = 'a',
        long = "annotations",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
    /// Sign an image index and every manifest it lists.
    #[arg(short, long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub recursive: bool,
    /// Skip the confirmation prompt before uploading to the public-good instance.
    #[arg(short = 'y', long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub yes: bool,
    /// Record each signature in the transparency log (Rekor), with keys as
    /// without (as cosign does); false stores it in the registry only.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub tlog_upload: bool,
    /// Store the signature in the registry (false: only write the --output-* files).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub upload: bool,
    /// Also write the base64 signature to FILE (with -r: one file per manifest, FILE-sha256-HEX).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output_signature: Option<PathBuf>,
    /// Also write the signed payload to FILE (with -r: FILE-sha256-HEX).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output_payload: Option<PathBuf>,
    /// Write the --certificate given, or else the public key, to FILE (PEM).
    #[arg(
        long,
        value_name = "FILE",
        alias = "output-cert",
        help_heading = "Output"
    )]
    pub output_certificate: Option<PathBuf>,
    /// Sign this simple-signing payload instead of building one; it must name the image's digest.
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// The docker-reference to claim in the payload instead of the image's repository.
    #[arg(long, value_name = "REFERENCE")]
    pub sign_container_identity: Option<String>,
    /// X.509 certificate (PEM or DER) for the key, stored with each signature.
    #[arg(long, value_name = "FILE", alias = "cert")]
    pub certificate: Option<PathBuf>,
    /// The certificate's CA chain (PEM, parent first, root last), checked and stored.
    #[arg(long, value_name = "FILE", alias = "cert-chain")]
    pub certificate_chain: Option<PathBuf>,
    /// Where signatures are stored: legacy (the .sig tag; the default),
    /// oci-1-1 (a Sigstore bundle as an OCI 1.1 referrer, as cosign 3 stores
    /// it) or both.
    #[arg(long, value_enum, value_name = "MODE")]
    pub registry_referrers_mode: Option<ReferrersMode>,
    /// Set the signature image's creation time (not supported).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub record_creation_timestamp: bool,
    /// Write a Sigstore bundle for the image (cosign 3; not supported yet).
    #[arg(long, hide = true, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Store a Sigstore bundle as an OCI 1.1 referrer instead of the legacy
    /// layout (as --registry-referrers-mode=oci-1-1).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub new_bundle_format: bool,
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
    pub keyless: KeylessSignArgs,
    #[command(flatten)]
    pub timestamp: TimestampSignArgs,
    #[command(flatten)]
    pub security_key: SecurityKeyArgs,
    #[command(flatten)]
    pub attachment: AttachmentArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// cosign's JSON: the verified payloads.
    Json,
    /// cosign's text form.
    Text,
    /// signet's verification record, as JSON: per image digest, the
    /// signature that satisfied the policy and who made it (key, or
    /// certificate subject, issuer and CI claims), its log entries (log,
    /// index, integrated time) and timestamps, and the signatures rejected
    /// before it with the check each failed.
    Record,
}

/// cosign's `--signature-digest-algorithm`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestAlgorithm {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Images to verify (with --local-image: OCI layout directories written
    /// by `cosign save`). Several may be given; they are verified concurrently.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Trusted public key (repeatable: any one key verifying is enough).
    #[arg(long, value_name = "KEYREF")]
    pub key: Vec<String>,
    /// Decide with a signet policy file instead of keys: the image's scope
    /// says who must have signed (prints one decision per image).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "annotations", "local_image", "signature", "recursive", "match_repository", "insecure_ignore_tlog", "trusted_root", "certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "certificate_oidc_issuer_regexp"])]
    pub policy: Option<PathBuf>,
    /// Require this claim in the signed payload (KEY=VALUE; repeatable or comma-separated).
    #[arg(
        short = 'a',
        long = "annotations",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub annotations: Vec<String>,
    /// Output format of the verified payloads on standard output.
    #[arg(short, long, value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Also verify every manifest of an image index; all must be signed.
    #[arg(short, long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub recursive: bool,
    /// Require the signed docker-reference to name the image's repository
    /// (stops replaying a signature from another repository). Off by default, as in cosign.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub match_repository: bool,
    /// Accept signatures without transparency-log evidence (insecure: nobody
    /// can audit that they were made). Without it, every signature, key-based
    /// or keyless, needs a log entry that verifies offline.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,
    /// Private deployment without a transparency log: skip it, without the warning.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub private_infrastructure: bool,
    /// Verify without network calls beyond the registry (signet never makes others).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub offline: bool,
    /// Check the signed claims (digest, annotations). Always done; false is refused.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub check_claims: bool,
    /// The IMAGE arguments are OCI layout directories written by `cosign save`.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub local_image: bool,
    /// Verify this signature (a file, or base64 content) instead of the registry's.
    #[arg(long, value_name = "FILE|BASE64")]
    pub signature: Option<String>,
    /// The payload --signature signs (default: the payload cosign would have signed).
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// Hash the signatures were made over (sha256; others are refused).
    #[arg(long, value_enum, default_value = "sha256", value_name = "ALGORITHM")]
    pub signature_digest_algorithm: DigestAlgorithm,
    /// A trusted_root.json: the Rekor logs, Fulcio CAs, CT logs and TSAs to
    /// trust (default: SIGSTORE_* variables, else the shipped public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Look for Sigstore bundle referrers first, then `.sig` manifests
    /// (default: `.sig` first; the second layout is read when the first has
    /// no signature that satisfies the policy).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub new_bundle_format: bool,
    /// The same as --new-bundle-format for `verify`.
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub experimental_oci11: bool,
    /// Images verified at the same time.
    #[arg(long, alias = "max-workers", default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    #[command(flatten)]
    pub certificate: CertificateVerifyArgs,
    #[command(flatten)]
    pub tlog: TlogVerifyArgs,
    #[command(flatten)]
    pub security_key: SecurityKeyArgs,
    #[command(flatten)]
    pub attachment: AttachmentArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Dry-run a policy over every tag and digest of registry projects and
    /// print what would be refused, and why.
    Test(Box<PolicyTestArgs>),
    /// Write the policy as containers-image policy.json or sigstore
    /// ClusterImagePolicy resources.
    Export(PolicyExportArgs),
}

#[derive(Args)]
pub struct PolicyTestArgs {
    /// The policy file.
    #[arg(value_name = "FILE")]
    pub policy: PathBuf,
    /// Projects: a registry and a path (`registry.example/team`); every
    /// repository under it is listed.
    #[arg(required = true, value_name = "REGISTRY/PROJECT")]
    pub projects: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Requests to the registry at the same time.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `policy export --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// containers-image policy.json (podman, skopeo, CRI-O).
    ContainersPolicy,
    /// sigstore policy-controller ClusterImagePolicy resources (YAML).
    ClusterImagePolicy,
}

#[derive(Args)]
pub struct PolicyExportArgs {
    /// The policy file.
    #[arg(value_name = "FILE")]
    pub policy: PathBuf,
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Emit a narrower approximation of what the format cannot express
    /// (refusing images the policy admits) instead of refusing to export.
    #[arg(long)]
    pub allow_narrower: bool,
}

#[derive(Args)]
pub struct SignBlobArgs {
    /// The file to sign (`-` for standard input).
    #[arg(value_name = "BLOB")]
    pub blob: PathBuf,
    /// Signing key reference.
    #[arg(long, value_name = "KEYREF")]
    pub key: Option<String>,
    /// Write the signature to FILE (base64 unless --b64=false).
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,
    /// Same as --output-signature (cosign's older name).
    #[arg(long, value_name = "FILE", hide = true)]
    pub output: Option<PathBuf>,
    /// Write the --certificate given, or else the public key, to FILE (PEM).
    #[arg(long, value_name = "FILE", alias = "output-cert")]
    pub output_certificate: Option<PathBuf>,
    /// Write a Sigstore bundle to FILE.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// The bundle format: true (default) a Sigstore bundle v0.3; false
    /// cosign's older `{"base64Signature": ...}` file.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub new_bundle_format: bool,
    /// Base64-encode the signature on standard output and in --output-signature.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub b64: bool,
    /// X.509 certificate (PEM or DER) for the key, put in the bundle.
    #[arg(long, value_name = "FILE", alias = "cert")]
    pub certificate: Option<PathBuf>,
    /// The certificate's CA chain (PEM, parent first, root last), checked.
    #[arg(long, value_name = "FILE", alias = "cert-chain")]
    pub certificate_chain: Option<PathBuf>,
    /// Signing algorithm (must match the key, e.g. ecdsa-sha2-256-nistp256).
    #[arg(long, value_name = "ALGORITHM")]
    pub signing_algorithm: Option<String>,
    /// Record the signature in the transparency log (Rekor), with keys as without.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub tlog_upload: bool,
    /// Skip the confirmation prompt before uploading to the public-good instance.
    #[arg(short = 'y', long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub yes: bool,
    /// Write the RFC 3161 timestamp to FILE (not supported yet).
    #[arg(long, hide = true, value_name = "FILE")]
    pub rfc3161_timestamp: Option<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessSignArgs,
    #[command(flatten)]
    pub timestamp: TimestampSignArgs,
    #[command(flatten)]
    pub security_key: SecurityKeyArgs,
}

#[derive(Args)]
pub struct VerifyBlobArgs {
    /// The file to verify (`-` for standard input).
    #[arg(value_name = "BLOB")]
    pub blob: PathBuf,
    /// Trusted public key (repeatable).
    #[arg(long, value_name = "KEYREF")]
    pub key: Vec<String>,
    /// The signature: a file holding base64 (as sign-blob writes) or raw
    /// bytes, or the base64 signature itself.
    #[arg(long, value_name = "FILE|BASE64")]
    pub signature: Option<String>,
    /// A Sigstore bundle (v0.1 to v0.3), or cosign's older signature file.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Accepted: both bundle formats are read either way.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub new_bundle_format: bool,
    /// Accept signatures without transparency-log evidence (insecure).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,
    /// Private deployment without a transparency log: skip it.
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub private_infrastructure: bool,
    /// Verify without network calls (signet makes none for blobs).
    #[arg(long, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub offline: bool,
    /// A trusted_root.json: the Rekor logs, Fulcio CAs, CT logs and TSAs to
    /// trust (default: SIGSTORE_* variables, else the shipped public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Parallel workers (accepted; one blob needs one).
    #[arg(long, default_value_t = 10, value_name = "N", hide = true)]
    pub max_workers: usize,
    /// OCI 1.1 behaviour (accepted; blobs involve no registry).
    #[arg(long, hide = true, value_parser = go_bool, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_name = "BOOL")]
    pub experimental_oci11: bool,
    /// An RFC 3161 timestamp of the signature (cosign's JSON file).
    #[arg(long, value_name = "FILE")]
    pub rfc3161_timestamp: Option<PathBuf>,
    #[command(flatten)]
    pub certificate: CertificateVerifyArgs,
    #[command(flatten)]
    pub tlog: TlogVerifyArgs,
    #[command(flatten)]
    pub security_key: SecurityKeyArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and subcommand, with its description, as `--help`
    /// shows it.
    fn descriptions(command: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        // `help` is added by clap when it builds the command.
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{path} {}", sub.get_name());
            let about = format!("{:?} / {:?}", sub.get_about(), sub.get_long_about());
            out.push((name.clone(), about));
            descriptions(sub, &name, out);
        }
    }

    /// Commands define their flags only when they run (`defer`). Defining
    /// them must not replace a command's description with the doc comment
    /// of a flag group it includes.
    #[test]
    fn defining_the_flags_leaves_each_description_alone() {
        let mut lazy = Vec::new();
        descriptions(&Cli::command(), "signet", &mut lazy);
        let mut command = Cli::command();
        command.build();
        let mut built = Vec::new();
        descriptions(&command, "signet", &mut built);
        let lazy_top: Vec<_> = lazy
            .iter()
            .filter(|(n, _)| n.matches(' ').count() == 1)
            .collect();
        let built_top: Vec<_> = built
            .iter()
            .filter(|(n, _)| n.matches(' ').count() == 1)
            .collect();
        assert_eq!(lazy_top, built_top);
        for (name, about) in &built {
            assert!(!about.starts_with("None"), "{name} has no description");
        }
    }
}
