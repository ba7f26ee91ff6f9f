//! A load generator for `signet server`, run by `scripts/bench.sh`: starts a
//! test OIDC issuer and a server on 127.0.0.1 in this process, then drives
//! certificate requests (`POST /api/v2/signingCert`, each with a fresh key
//! and proof of possession) and timestamp requests (`POST /api/v1/timestamp`)
//! from concurrent clients over loopback, and prints a Markdown table of
//! throughput and latency percentiles.
//!
//! `cargo run --release -p signet-server --example load -- [REQUESTS_PER_CLIENT]`
//!
//! The clients share the machine with the server, as any loopback benchmark
//! on one machine does.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PrivateKey;
use signet_server::config::{IssuerConfig, IssuerType};
use signet_server::datadir::{DataDir, InitOptions, init};
use signet_server::serve::{RunOptions, start};
use signet_testing::{Claims, OidcIssuer};

const EMAIL: &str = "load@example.test";
const PASSWORD: &[u8] = b"load test password";

#[derive(Clone, Copy)]
enum Kind {
    Certificate,
    Timestamp,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn client(url: String, kind: Kind, token: Arc<String>, n: usize) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let response = match kind {
            Kind::Certificate => {
                let key = PrivateKey::generate_p256().expect("key");
                let proof = key.sign(EMAIL.as_bytes()).expect("proof");
                let body = serde_json::json!({
                    "publicKeyRequest": {
                        "publicKey": {"content": key.public_key().to_pem()},
                        "proofOfPossession": B64.encode(proof),
                    }
                });
                http.post(format!("{url}/api/v2/signingCert"))
                    .bearer_auth(token.as_str())
                    .json(&body)
                    .send()
                    .await
            }
            Kind::Timestamp => {
                let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("sig {i}"));
                http.post(format!("{url}/api/v1/timestamp"))
                    .json(&serde_json::json!({"artifactHash": B64.encode(digest), "certificates": true}))
                    .send()
                    .await
            }
        };
        let response = response.expect("request");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
        let _ = response.bytes().await;
        latencies.push(started.elapsed());
    }
    latencies
}

fn main() {
    let per_client: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let issuer = OidcIssuer::start().expect("issuer");
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path().join("server");
    let report = init(
        &root,
        &InitOptions {
            issuers: vec![IssuerConfig::new(issuer.issuer_url(), IssuerType::Email)],
            public_url: "http://127.0.0.1:1".into(),
            now: SystemTime::now(),
        },
        PASSWORD,
    )
    .expect("init");
    let mut config = report.config;
    config.rate_limit.requests_per_second = 0.0;
    std::fs::write(DataDir::new(&root).config_file(), config.to_toml()).expect("config");
    let server = runtime
        .block_on(start(
            &root,
            zeroize::Zeroizing::new(PASSWORD.to_vec()),
            RunOptions {
                listen: "127.0.0.1:0".parse().expect("address"),
                database: None,
                tls: None,
            },
        ))
        .expect("server");
    let url = format!("http://{}", server.local_addr());
    let token = Arc::new(issuer.token(&Claims::email(EMAIL)).expect("token"));

    println!("| operation | clients | requests | per second | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for (kind, name) in [
        (
            Kind::Certificate,
            "certificate (v2 signingCert, fresh key + proof)",
        ),
        (Kind::Timestamp, "timestamp (JSON request)"),
    ] {
        // Warm the connection pools and the issuer's key cache.
        runtime.block_on(client(url.clone(), kind, token.clone(), 5));
        for clients in [1usize, 16, 64] {
            let started = Instant::now();
            let mut all: Vec<Duration> = runtime.block_on(async {
                let tasks: Vec<_> = (0..clients)
                    .map(|_| tokio::spawn(client(url.clone(), kind, token.clone(), per_client)))
                    .collect();
                let mut all = Vec::new();
                for t in tasks {
                    all.extend(t.await.expect("client"));
                }
                all
            });
            let elapsed = started.elapsed();
            all.sort();
            println!(
                "| {name} | {clients} | {} | {:.0} | {:.1} ms | {:.1} ms |",
                all.len(),
                all.len() as f64 / elapsed.as_secs_f64(),
                percentile(&all, 50.0).as_secs_f64() * 1000.0,
                percentile(&all, 99.0).as_secs_f64() * 1000.0,
            );
        }
    }
    runtime.block_on(server.shutdown());
}
