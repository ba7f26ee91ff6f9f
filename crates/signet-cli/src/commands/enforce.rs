//! `signet gate`, `signet admission` and `signet admission manifests`:
//! flags, logging and the process's life (start, SIGTERM/SIGINT, graceful
//! shutdown). The gate and the webhook themselves are `signet-enforce`;
//! both decide with `signet-policy`'s `Evaluator`, as `verify --policy` does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use signet_core::limits;
use signet_enforce::Decider;
use signet_enforce::admission::manifests::{self, ManifestOptions};
use signet_enforce::admission::{AdmissionConfig, FailureMode, Webhook};
use signet_enforce::cache::CacheConfig;
use signet_enforce::gate::{Gate, GateConfig, UpstreamTls};
use signet_enforce::serve::{self, ServeLimits};
use signet_policy::{Evaluator, Policy};
use signet_serve::install_logging;

use super::server::LogFormatArg;
use crate::args::RegistryArgs;
use crate::args::values::go_duration;
use crate::exit::Failure;
use crate::output;

/// What an image that cannot be verified in time does.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailureModeArg {
    /// Refuse it (`failurePolicy: Fail`).
    FailClosed,
    /// Admit it with a warning (`failurePolicy: Ignore`).
    FailOpen,
}

impl FailureModeArg {
    fn mode(self) -> FailureMode {
        match self {
            Self::FailClosed => FailureMode::Closed,
            Self::FailOpen => FailureMode::Open,
        }
    }
}

// The verification cache's flags, shared by the gate and the webhook.
#[derive(Args, Clone)]
#[command(next_help_heading = "Cache")]
pub struct CacheArgs {
    /// Allowed digests remembered, at most.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub cache_size: usize,
    /// How long a refusal is remembered (an image signed after it is
    /// admitted at most this much later).
    #[arg(long, value_parser = go_duration, default_value = "10s", value_name = "DURATION")]
    pub negative_ttl: Duration,
    /// Verifications running at once, at most.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_verifications: usize,
}

impl CacheArgs {
    fn config(&self) -> CacheConfig {
        CacheConfig {
            positive_capacity: self.cache_size,
            positive_ttl: None,
            negative_capacity: (self.cache_size / 10).max(1),
            negative_ttl: self.negative_ttl,
            max_concurrent_evaluations: self.max_verifications.max(1),
        }
    }
}

// `signet gate`.
#[derive(Args)]
pub struct GateArgs {
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The registry behind the gate (`https://registry.example`); the
    /// policy names images by its host.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5050")]
    pub listen: SocketAddr,
    /// Serve TLS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL clients reach the gate at (for the token realm and upload
    /// locations); default: the scheme and Host of each request.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Connections served at once.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// How long in-flight requests may finish after SIGTERM.
    #[arg(long, value_parser = go_duration, default_value = "20s", value_name = "DURATION")]
    pub shutdown_grace: Duration,
    /// Log lines as text or JSON (filter with SIGNET_LOG, e.g. `info`,
    /// `warn,signet_enforce=debug`).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormatArg,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The registry flags apply to the upstream, for the proxied requests
    /// and for reading signatures.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

// `signet admission`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AdmissionArgs {
    #[command(subcommand)]
    pub command: Option<AdmissionCommand>,
    #[command(flatten)]
    pub run: AdmissionRunArgs,
}

#[derive(Subcommand)]
pub enum AdmissionCommand {
    /// Print the ValidatingWebhookConfiguration and
    /// MutatingWebhookConfiguration that register the webhook.
    Manifests(ManifestsArgs),
}

// `signet admission --policy FILE --listen ADDR --tls-cert F --tls-key F`.
#[derive(Args)]
pub struct AdmissionRunArgs {
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Address to listen on (0.0.0.0:8443 inside a cluster).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The PEM certificate chain served (the API server requires TLS).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// What an image that cannot be verified within the latency budget does.
    #[arg(long, value_enum, default_value = "fail-closed")]
    pub failure_mode: FailureModeArg,
    /// The webhook's timeoutSeconds, when a request does not name its own
    /// (the budget is 80 % of it).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout_seconds: u64,
    /// How long a tag stays resolved to the digest it named (0s: resolve
    /// every time).
    #[arg(long, value_parser = go_duration, default_value = "30s", value_name = "DURATION")]
    pub tag_ttl: Duration,
    /// How long in-flight reviews may finish after SIGTERM.
    #[arg(long, value_parser = go_duration, default_value = "20s", value_name = "DURATION")]
    pub shutdown_grace: Duration,
    /// Log lines as text or JSON (filter with SIGNET_LOG).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormatArg,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

// `signet admission manifests`.
#[derive(Args)]
pub struct ManifestsArgs {
    /// The CA (or self-signed) certificate, PEM, that the webhook's serving
    /// certificate chains to (the configurations' caBundle).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: PathBuf,
    /// The configurations' and the Service's name.
    #[arg(long, default_value = "signet-admission")]
    pub name: String,
    /// The webhook's namespace (its requests are not checked, nor
    /// kube-system's).
    #[arg(long, default_value = "signet-system")]
    pub namespace: String,
    /// The Service's port.
    #[arg(long, default_value_t = 443)]
    pub port: u16,
    /// Call this https:// URL instead of the Service.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// failurePolicy: Fail (fail-closed) or Ignore (fail-open).
    #[arg(long, value_enum, default_value = "fail-closed")]
    pub failure_mode: FailureModeArg,
    /// timeoutSeconds (1 to 30).
    #[arg(long, default_value_t = 10)]
    pub timeout_seconds: u64,
}

async fn decider(
    policy: &Path,
    registry: &RegistryArgs,
    cache: &CacheArgs,
    tag_ttl: Duration,
) -> Result<Decider, Failure> {
    let policy = Policy::load(policy).await?;
    let store = crate::registry::signature_store(registry)?;
    let evaluator = Evaluator::new(policy, store)?;
    tracing::info!(
        policy_hash = %evaluator.policy_hash(),
        trust_root = %evaluator.trust_root_version(),
        scopes = evaluator.policy().scopes().len(),
        "policy loaded"
    );
    Ok(Decider::new(evaluator, &cache.config(), tag_ttl))
}

/// `signet gate`: serves until SIGTERM or SIGINT.
pub async fn gate(args: GateArgs) -> Result<(), Failure> {
    install_logging(args.log_format.into()).map_err(|e| anyhow!(e))?;
    let acceptor = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(serve::tls_acceptor(cert, key)?),
        _ => None,
    };
    let upstream_tls = UpstreamTls {
        ca_pem: match &args.registry.registry_cacert {
            Some(path) => Some(
                limits::read_file(path, limits::CERTIFICATE_FILE).context("--registry-cacert")?,
            ),
            None => None,
        },
        insecure: args.registry.allow_insecure_registry,
    };
    // The gate serves exactly what it verified, so tags are never looked up
    // apart from the one read of the manifest: no tag cache.
    let decider = decider(&args.policy, &args.registry, &args.cache, Duration::ZERO).await?;
    let config = GateConfig {
        upstream: args.upstream.clone(),
        upstream_tls,
        public_url: args.public_url.clone(),
        tls: acceptor.is_some(),
        limits: ServeLimits {
            max_connections: args.max_connections.max(1),
            shutdown_grace: args.shutdown_grace,
        },
    };
    let gate = Gate::new(config, decider)?;
    let listener = serve::bind(args.listen).await?;
    let server = gate.serve(listener, acceptor.clone())?;
    tracing::info!(
        listen = %server.local_addr(),
        upstream = %args.upstream,
        registry = gate.registry(),
        tls = acceptor.is_some(),
        "signet gate serving"
    );
    server.run_until(serve::shutdown_signal()).await;
    tracing::info!("signet gate stopped");
    Ok(())
}

/// `signet admission` and `signet admission manifests`.
pub async fn admission(args: AdmissionArgs) -> Result<(), Failure> {
    match args.command {
        Some(AdmissionCommand::Manifests(m)) => manifests(&m),
        None => run_webhook(args.run).await,
    }
}

fn manifests(args: &ManifestsArgs) -> Result<(), Failure> {
    let ca_bundle_pem = limits::read_file(&args.ca_bundle, limits::CERTIFICATE_FILE)
        .with_context(|| format!("--ca-bundle {}", args.ca_bundle.display()))?;
    let yaml = manifests::render(&ManifestOptions {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        port: args.port,
        url: args.url.clone(),
        ca_bundle_pem,
        failure_mode: args.failure_mode.mode(),
        timeout_seconds: args.timeout_seconds,
    })
    .map_err(|e| anyhow!(e))?;
    output::print(&yaml)?;
    Ok(())
}

async fn run_webhook(args: AdmissionRunArgs) -> Result<(), Failure> {
    let Some(policy) = &args.policy else {
        return Err(Failure::other(anyhow!(
            "signet admission needs --policy FILE"
        )));
    };
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Err(Failure::other(anyhow!(
            "signet admission needs --tls-cert FILE and --tls-key FILE (the API server calls webhooks over TLS only)"
        )));
    };
    if !(1..=30).contains(&args.timeout_seconds) {
        return Err(Failure::other(anyhow!(
            "--timeout-seconds {}: the API server accepts 1 to 30",
            args.timeout_seconds
        )));
    }
    install_logging(args.log_format.into()).map_err(|e| anyhow!(e))?;
    let acceptor = serve::tls_acceptor(cert, key)?;
    let decider = decider(policy, &args.registry, &args.cache, args.tag_ttl).await?;
    let config = AdmissionConfig {
        failure_mode: args.failure_mode.mode(),
        timeout: Duration::from_secs(args.timeout_seconds),
        limits: ServeLimits {
            shutdown_grace: args.shutdown_grace,
            ..ServeLimits::default()
        },
    };
    let webhook = Webhook::new(decider, config);
    let listener = serve::bind(args.listen).await?;
    let server = webhook.serve(listener, Some(acceptor))?;
    tracing::info!(
        listen = %server.local_addr(),
        failure_mode = args.failure_mode.mode().name(),
        timeout_seconds = args.timeout_seconds,
        "signet admission serving /validate and /mutate"
    );
    server.run_until(serve::shutdown_signal()).await;
    tracing::info!("signet admission stopped");
    Ok(())
}
