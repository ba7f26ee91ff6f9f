//! `signet server init`, `run` and `verify-log`: flags, the key password,
//! and what is printed. The server itself is `signet-server`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use signet_serve::{LogFormat, install_logging, shutdown_signal};
use signet_server::config::IssuerSpec;
use signet_server::datadir::{self, InitOptions};
use signet_server::rekor::StoreLocation;
use signet_server::rekor::verify::verify_logs;
use signet_server::serve::{RunOptions, TlsFiles, start};
use zeroize::Zeroizing;

use crate::exit::Failure;

/// Environment variable holding the password of the server's key files.
const PASSWORD_ENV: &str = "SIGNET_SERVER_PASSWORD";

#[derive(Args)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub command: ServerCommand,
}

#[derive(Subcommand)]
pub enum ServerCommand {
    /// Create a data directory: Fulcio CA, CT log key, transparency-log keys,
    /// TSA chain, trust files, and the configuration listing trusted OIDC issuers.
    Init(InitArgs),
    /// Serve the CA, CT log, TSA, trust files and transparency log on one port.
    Run(RunArgs),
    /// Recompute the transparency logs' trees from their entries and check
    /// every stored checkpoint against them (exit 1 if any disagrees).
    VerifyLog(VerifyLogArgs),
}

#[derive(Args)]
pub struct InitArgs {
    /// The data directory to create (it must not exist, or be empty).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// A trusted OIDC issuer: URL[=TYPE], TYPE one of email (default),
    /// github-actions, gitea-actions, forgejo-actions, gitlab-ci. Repeatable.
    /// Plain http is refused unless the host is loopback.
    #[arg(long = "oidc-issuer", value_name = "URL[=TYPE]")]
    pub oidc_issuers: Vec<String>,
    /// The URL clients reach the server at; the trust files name it.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000")]
    pub public_url: String,
    /// Read the password that encrypts the private keys from FILE (else
    /// SIGNET_SERVER_PASSWORD, else a terminal prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// Log lines as text or JSON (`signet server`, the gate, the webhook).
#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Args)]
pub struct RunArgs {
    /// The data directory `signet server init` created.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Keep the transparency log in PostgreSQL (postgres://...) instead of
    /// the embedded store in DIR.
    #[arg(
        long,
        value_name = "URL",
        env = "SIGNET_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Serve TLS with this PEM certificate chain (with --tls-key); plain
    /// HTTP, for a TLS-terminating proxy, without.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Read the key password from FILE (else SIGNET_SERVER_PASSWORD, else a
    /// terminal prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Log lines as text or JSON (filter with SIGNET_LOG, e.g. `info`,
    /// `warn,signet_server=info`).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormatArg,
}

#[derive(Args)]
pub struct VerifyLogArgs {
    /// The data directory (its server.toml and published log keys are read;
    /// no password is needed). Stop the server first when the log is in the
    /// embedded store.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Check the log in PostgreSQL (postgres://...) instead of the embedded
    /// store in DIR; replicas may keep serving meanwhile.
    #[arg(
        long,
        value_name = "URL",
        env = "SIGNET_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

pub async fn server(args: ServerArgs) -> Result<(), Failure> {
    match args.command {
        ServerCommand::Init(a) => init(a).await,
        ServerCommand::Run(a) => run(a).await,
        ServerCommand::VerifyLog(a) => verify_log(a).await,
    }
}

async fn verify_log(args: VerifyLogArgs) -> Result<(), Failure> {
    let dir = datadir::DataDir::new(&args.dir);
    let location = StoreLocation::new(&dir.log_dir(), args.database.as_deref());
    let checks = verify_logs(&dir, args.database.as_deref()).await?;
    println!(
        "Checked the transparency logs in the {}",
        location.describe()
    );
    let mut failed = Vec::new();
    for check in &checks {
        match &check.result {
            Ok(r) => println!(
                "  {}: {} entries, {} tiles and {} checkpoints agree; root {} at size {}",
                check.name, r.entries, r.tiles, r.checkpoints, r.root, r.entries
            ),
            Err(reason) => {
                println!("  {}: INCONSISTENT: {reason}", check.name);
                failed.push(check.name);
            }
        }
    }
    if failed.is_empty() {
        println!("OK: every stored checkpoint is consistent with the recomputed trees");
        Ok(())
    } else {
        Err(Failure::other(anyhow::anyhow!(
            "the transparency log is inconsistent: {}",
            failed.join(", ")
        )))
    }
}

/// The key password: a file, the environment, or the terminal.
fn password(file: Option<&PathBuf>, confirm: bool) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(path) = file {
        let mut p = signet_core::limits::read_secret_file(path, signet_core::limits::PASSWORD)?;
        while matches!(p.last(), Some(b'\n' | b'\r')) {
            p.pop();
        }
        return Ok(p);
    }
    if let Some(p) = std::env::var_os(PASSWORD_ENV) {
        return Ok(Zeroizing::new(p.into_encoded_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password for the server's keys: set {PASSWORD_ENV} or pass --password-file FILE");
    }
    let read = |prompt: &str| -> anyhow::Result<Zeroizing<Vec<u8>>> {
        rpassword::prompt_password(prompt)
            .map(|p| Zeroizing::new(p.into_bytes()))
            .context("cannot read the password from the terminal")
    };
    let first = read("Password for the server's private keys: ")?;
    if confirm && first != read("Password again: ")? {
        bail!("the passwords do not match");
    }
    Ok(first)
}

async fn init(args: InitArgs) -> Result<(), Failure> {
    let issuers = args
        .oidc_issuers
        .iter()
        .map(|s| s.parse::<IssuerSpec>().map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()
        .context("--oidc-issuer")?;
    let password = password(args.password_file.as_ref(), true)?;
    let options = InitOptions {
        issuers,
        public_url: args.public_url,
        now: std::time::SystemTime::now(),
    };
    let dir = args.dir.clone();
    let report =
        tokio::task::spawn_blocking(move || datadir::init(&dir, &options, &password)).await??;
    let d = &report.dir;
    let root = d.root().display();
    println!("Initialised the signet server data directory {root}");
    println!();
    println!("Private keys, each encrypted with the server password (scrypt + secretbox),");
    println!("in {} (mode 0700, files 0600):", d.keys_dir().display());
    println!("  fulcio.key     Fulcio intermediate CA (ECDSA P-384)");
    println!("  ctlog.key      CT log (ECDSA P-256)");
    println!("  rekor-v1.key   transparency log, Rekor v1 API (ECDSA P-256)");
    println!("  rekor-v2.key   transparency log, Rekor v2 checkpoints (Ed25519)");
    println!("  tsa.key        timestamp authority (ECDSA P-384)");
    println!(
        "The CA and TSA root keys were used once to sign the intermediates and were not kept."
    );
    println!("Protect the keys: keep DIR on an encrypted volume readable only by the server's");
    println!("user, back up DIR and the password separately, and pass the password through");
    println!(
        "{PASSWORD_ENV} or --password-file (e.g. a systemd credential), never on the command line."
    );
    println!();
    println!(
        "Trust files: {} (also served at {}/trusted_root.json),",
        d.trusted_root_file().display(),
        report.config.base_url()
    );
    println!(
        "  {}, {}",
        d.signing_config_file().display(),
        d.client_trust_config_file().display()
    );
    println!("Configuration: {}", d.config_file().display());
    if report.config.oidc_issuers.is_empty() {
        println!("No OIDC issuer is trusted yet: add [[oidc-issuers]] to the configuration.");
    } else {
        for i in &report.config.oidc_issuers {
            println!(
                "  trusts {} ({}, audience {})",
                i.url, i.issuer_type, i.audience
            );
        }
    }
    println!();
    println!("Start it with: signet server run {root}");
    Ok(())
}

async fn run(args: RunArgs) -> Result<(), Failure> {
    install_logging(args.log_format.into()).map_err(|e| anyhow::anyhow!(e))?;
    let password = password(args.password_file.as_ref(), false)?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let running = start(
        &args.dir,
        password,
        RunOptions {
            listen: args.listen,
            database: args.database,
            tls,
        },
    )
    .await?;
    running.run_until(shutdown_signal()).await;
    Ok(())
}
