//! A load generator for the transparency log of a running `signet server`,
//! run by `scripts/bench-server-log.sh`: concurrent clients post signed
//! hashedrekord entries (Rekor v1 `POST /api/v1/log/entries`, or Rekor v2
//! `POST /api/v2/log/entries`) over loopback HTTP/1.1 keep-alive
//! connections, and it prints one JSON line with the durable appends per
//! second (201 answers, each acknowledged only once the entry is committed
//! and in a signed checkpoint), latency percentiles and errors.
//!
//! ```text
//! log-load --url http://127.0.0.1:PORT [--api v1|v2] [--clients 100]
//!          [--seconds 10] [--rate 0]
//! ```
//!
//! Every entry is distinct: the artifacts are numbered, and each is signed
//! by the client's own P-256 key before the clock starts (so that the
//! clients' signing does not compete with the server for the CPU during the
//! measurement; the server still verifies every signature). With `--rate
//! R` the clients together offer R appends per second on a fixed schedule
//! and latency is counted from each append's scheduled time, so a stalled
//! server cannot hide its queueing delay; with 0 each client appends again
//! as soon as it is answered.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::keys::PrivateKey;

struct Args {
    url: String,
    api: String,
    clients: usize,
    seconds: f64,
    rate: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        api: "v1".into(),
        clients: 100,
        seconds: 10.0,
        rate: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--url" => args.url = value.trim_end_matches('/').to_owned(),
            "--api" if value == "v1" || value == "v2" => args.api = value,
            "--clients" => args.clients = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| bad(&e))?,
            "--rate" => args.rate = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag} (or value {value})")),
        }
    }
    if args.url.is_empty() || args.clients == 0 {
        return Err(
            "usage: log-load --url URL [--api v1|v2] [--clients N] [--seconds S] [--rate R]".into(),
        );
    }
    Ok(args)
}

/// Request bodies for one client: `n` distinct entries signed by `key`.
fn bodies(api: &str, client: usize, n: usize, tag: u128) -> Vec<Vec<u8>> {
    let key = PrivateKey::generate_p256().expect("key");
    let pem = B64.encode(key.public_key().to_pem());
    let spki = B64.encode(key.public_key().to_spki_der());
    (0..n)
        .map(|i| {
            let artifact = format!("log-load {tag} client {client} entry {i}");
            let signature = B64.encode(key.sign(artifact.as_bytes()).expect("sign"));
            let digest = Digest::sha256_of(artifact.as_bytes());
            let body = if api == "v1" {
                serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
                    "signature": {"content": signature, "publicKey": {"content": pem}},
                    "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}}}})
            } else {
                serde_json::json!({"hashedRekordRequestV002": {
                    "digest": B64.encode(digest.raw()),
                    "signature": {"content": signature, "verifier": {
                        "publicKey": {"rawBytes": spki},
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}})
            };
            body.to_string().into_bytes()
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(2);
        }
    };
    // Enough entries for the run: the offered rate, or a generous ceiling
    // on what one client can get acknowledged.
    let per_client = if args.rate > 0.0 {
        (args.rate * args.seconds / args.clients as f64).ceil() as usize + 2
    } else {
        ((20_000.0 * args.seconds) / args.clients as f64).ceil() as usize
    };
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut pools: Vec<Vec<Vec<u8>>> = Vec::with_capacity(args.clients);
    std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..threads)
            .map(|t| {
                let api = args.api.clone();
                let clients = args.clients;
                scope.spawn(move || {
                    (t..clients)
                        .step_by(threads)
                        .map(|c| (c, bodies(&api, c, per_client, tag)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Vec<Vec<u8>>)> = chunks
            .into_iter()
            .flat_map(|h| h.join().expect("signing thread"))
            .collect();
        all.sort_by_key(|(c, _)| *c);
        pools.extend(all.into_iter().map(|(_, b)| b));
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = format!("{}/api/{}/log/entries", args.url, args.api);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let result = runtime.block_on(async {
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(args.seconds);
        let interval =
            (args.rate > 0.0).then(|| Duration::from_secs_f64(args.clients as f64 / args.rate));
        let tasks: Vec<_> = pools
            .into_iter()
            .enumerate()
            .map(|(client, bodies)| {
                let http = http.clone();
                let url = url.clone();
                let clients = args.clients;
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0u64;
                    let offset = interval.map(|i| i.mul_f64(client as f64 / clients as f64));
                    for (n, body) in bodies.into_iter().enumerate() {
                        let scheduled = match (interval, offset) {
                            (Some(i), Some(o)) => started + o + i * n as u32,
                            _ => Instant::now(),
                        };
                        if scheduled >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(scheduled.into()).await;
                        let ok = match http.post(&url).body(body).send().await {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let _ = r.bytes().await;
                                status == 201
                            }
                            Err(_) => false,
                        };
                        if ok {
                            latencies.push(scheduled.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("client task");
            latencies.extend(l);
            errors += e;
        }
        (latencies, errors, started.elapsed())
    });
    let (mut latencies, errors, elapsed) = result;
    latencies.sort();
    println!(
        "{}",
        serde_json::json!({
            "api": args.api,
            "clients": args.clients,
            "rate": args.rate,
            "seconds": elapsed.as_secs_f64(),
            "appends": latencies.len(),
            "errors": errors,
            "per_second": latencies.len() as f64 / elapsed.as_secs_f64(),
            "p50_ms": percentile(&latencies, 50.0),
            "p99_ms": percentile(&latencies, 99.0),
            "max_ms": percentile(&latencies, 100.0),
        })
    );
}
