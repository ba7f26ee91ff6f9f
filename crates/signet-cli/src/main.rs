//! `signet`: sign and verify container images and blobs, cosign-compatible.
//!
//! This binary only parses arguments, dispatches, and maps outcomes to exit
//! codes; the work happens in the library crates.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod exit;
mod output;
mod password;
mod registry;
mod trust;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::Failure;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("Error: {:#}", failure.error);
            failure.code
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        match cli.command {
            Command::GenerateKeyPair(a) => commands::keys::generate_key_pair(a).await,
            Command::ImportKeyPair(a) => commands::keys::import_key_pair(a).await,
            Command::PublicKey(a) => commands::keys::public_key(a).await,
            Command::Sign(a) => commands::sign::sign(a).await,
            Command::Verify(a) => commands::verify::verify(a).await,
            Command::SignBlob(a) => commands::blob::sign_blob(a).await,
            Command::VerifyBlob(a) => commands::blob::verify_blob(a).await,
            Command::Version => {
                println!("signet {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
        }
    })
}
