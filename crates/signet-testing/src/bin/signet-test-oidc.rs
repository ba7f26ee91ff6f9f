//! `signet-test-oidc`: the test OIDC issuer as a process, for scripts.
//!
//! Prints `issuer <URL>` on stdout once it listens (and writes the URL to
//! `--url-file`), then serves until it is killed. Mint tokens with
//! `curl -H 'Content-Type: application/json' -d '{"profile":"email","email":"a@example.test"}' <URL>/_test/token`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use signet_testing::{IssuerOptions, OidcIssuer};

/// An OIDC issuer for tests, on loopback.
#[derive(Parser)]
#[command(name = "signet-test-oidc", version)]
struct Args {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve the issuer below this path, e.g. `/api/actions` as Gitea and Forgejo do.
    #[arg(long, default_value = "")]
    path_prefix: String,
    /// The audience of valid tokens.
    #[arg(long, default_value = signet_testing::SIGSTORE_AUDIENCE)]
    audience: String,
    /// Write the issuer URL to this file once listening (atomically).
    #[arg(long)]
    url_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = IssuerOptions {
        listen: args.listen,
        path_prefix: args.path_prefix,
        audience: args.audience,
        ..IssuerOptions::default()
    };
    let issuer = match OidcIssuer::start_with(options) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.url_file {
        let tmp = path.with_extension("tmp");
        let written = std::fs::write(&tmp, format!("{}\n", issuer.issuer_url()))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            eprintln!("Error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("issuer {}", issuer.issuer_url());
    issuer.wait();
    ExitCode::SUCCESS
}
