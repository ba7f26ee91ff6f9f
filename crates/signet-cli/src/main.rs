//! `signet`: sign and verify container images and blobs, cosign-compatible.
//!
//! This binary only parses arguments, dispatches, and maps outcomes to exit
//! codes; the work happens in the library crates.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod cosign_env;
mod exit;
mod output;
mod password;
mod progress;
mod registry;
mod services;
mod trust;
mod unsupported;

use std::pin::Pin;

use anyhow::anyhow;
use clap::{CommandFactory, FromArgMatches};

use crate::args::values::go_duration_string;
use crate::args::{Cli, Command};
use crate::exit::Failure;

/// The command line as clap sees it: the derived flags, plus cosign's
/// `COSIGN_<FLAG>` environment variables for every cosign flag.
pub fn command() -> clap::Command {
    // Binding a variable to each of a few hundred flags costs a measurable
    // part of a short command's run, and binds nothing when no `COSIGN_`
    // variable is set at all.
    if cosign_env::any_set() {
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        cosign_env::bind_invoked(Cli::command(), &args)
    } else {
        Cli::command()
    }
}

fn main() {
    let matches = command().get_matches();
    let code = match Cli::from_arg_matches(&matches) {
        Ok(cli) => match run(cli) {
            Ok(()) => 0,
            Err(failure) => {
                eprintln!("Error: {:#}", failure.error);
                failure.code
            }
        },
        Err(e) => e.exit(),
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<(), Failure> {
    unsupported::check(&cli.command)?;
    // `signet server` is a long-running service with its own logging
    // (`--log-format`, SIGNET_LOG) and no overall deadline.
    let serving = matches!(
        cli.command,
        Command::Server(_) | Command::Gate(_) | Command::Admission(_)
    );
    if cli.global.verbose && !serving {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    }
    output::redirect(cli.global.output_file.as_deref())?;
    let timeout = if serving {
        std::time::Duration::ZERO
    } else {
        cli.global.timeout
    };
    // Client commands wait on the network far more than they compute (a
    // batch of 100 images uses tens of milliseconds of CPU), so they run on
    // this thread: no worker threads to start, and no hand-offs between
    // threads, which a loaded machine makes expensive. Blocking work (key
    // decryption, credential helpers) still goes to tokio's blocking pool.
    // The servers use a worker thread per CPU.
    let mut builder = if serving {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| Failure::other(anyhow!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let work = dispatch(cli.command);
        if timeout.is_zero() {
            return work.await;
        }
        match tokio::time::timeout(timeout, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::other(anyhow!(
                "timed out after {} (--timeout)",
                go_duration_string(timeout)
            ))),
        }
    })?;
    output::finish()
}

/// The command's work, boxed: a future is as large as the largest state it
/// can be in, so an unboxed `match` over every command's future would be the
/// size of the largest (the servers', some 10 KB), built and copied on the
/// stack by every command, `version` included.
fn dispatch(command: Command) -> Pin<Box<dyn Future<Output = Result<(), Failure>>>> {
    tracing::debug!(command = command.name(), "starting");
    match command {
        Command::GenerateKeyPair(a) => Box::pin(commands::keys::generate_key_pair(a)),
        Command::ImportKeyPair(a) => Box::pin(commands::keys::import_key_pair(a)),
        Command::PublicKey(a) => Box::pin(commands::keys::public_key(a)),
        Command::Sign(a) => Box::pin(commands::sign::sign(*a)),
        Command::Verify(a) => Box::pin(commands::verify::verify(*a)),
        Command::SignBlob(a) => Box::pin(commands::blob::sign_blob(*a)),
        Command::VerifyBlob(a) => Box::pin(commands::blob::verify_blob(*a)),
        Command::Initialize(a) | Command::TrustedRoot(args::TrustedRootCommand::Refresh(a)) => {
            Box::pin(commands::trust::initialize(a))
        }
        Command::Policy(a) => Box::pin(commands::policy::policy(a)),
        Command::Completion(a) => Box::pin(std::future::ready(commands::completion::completion(a))),
        Command::Server(a) => Box::pin(commands::server::server(a)),
        Command::Gate(a) => Box::pin(commands::enforce::gate(*a)),
        Command::Admission(a) => Box::pin(commands::enforce::admission(*a)),
        Command::Version => Box::pin(std::future::ready(
            output::print(&format!("signet {}\n", env!("CARGO_PKG_VERSION")))
                .map_err(Failure::other),
        )),
    }
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Self::GenerateKeyPair(_) => "generate-key-pair",
            Self::ImportKeyPair(_) => "import-key-pair",
            Self::PublicKey(_) => "public-key",
            Self::Sign(_) => "sign",
            Self::Verify(_) => "verify",
            Self::SignBlob(_) => "sign-blob",
            Self::VerifyBlob(_) => "verify-blob",
            Self::Initialize(_) => "initialize",
            Self::TrustedRoot(_) => "trusted-root",
            Self::Policy(_) => "policy",
            Self::Completion(_) => "completion",
            Self::Server(_) => "server",
            Self::Gate(_) => "gate",
            Self::Admission(_) => "admission",
            Self::Version => "version",
        }
    }
}
