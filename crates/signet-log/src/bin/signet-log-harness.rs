//! Test and benchmark harness for the log engine (not a user-facing tool).
//!
//! - `append`: appends unique entries from concurrent clients until killed
//!   (or `--count` is reached), printing `ack <identity> <index> <size> <root>`
//!   for every durable append; the crash tests kill it with SIGKILL.
//! - `head`: prints the latest tree head the store serves.
//! - `bench`: concurrent clients for a fixed time; prints throughput and
//!   latency percentiles as one JSON line.
//!
//! Stores: `redb:PATH` or `postgres:URL#LOGNAME`.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use signet_core::keys::PrivateKey;
use signet_log::{
    Log, LogConfig, LogStore, NoteCheckpointSigner, PendingEntry, PostgresStore, RedbStore,
};
use signet_tlog::note::KeyName;
use signet_tlog::note_keys::NoteSignerKey;

/// Origin and key name of the harness log's checkpoints.
const ORIGIN: &str = "harness.signet.test";
/// The harness log key (Ed25519 seed), fixed so that restarts sign alike.
const SEED: [u8; 32] = [7; 32];

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Append unique entries and print each acknowledgement.
    Append {
        #[arg(long)]
        store: String,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Stop after this many appends per client (default: until killed).
        #[arg(long)]
        count: Option<u64>,
        /// Makes entries of this run distinct from other runs'.
        #[arg(long)]
        tag: String,
        /// Also append each entry a second time (exercises de-duplication).
        #[arg(long)]
        repeat: bool,
    },
    /// Print the latest tree head.
    Head {
        #[arg(long)]
        store: String,
    },
    /// Measure durable appends per second and latency.
    Bench {
        #[arg(long)]
        store: String,
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 600)]
        entry_bytes: usize,
        /// Sign checkpoints with ECDSA P-256 (as a Rekor v1 log) instead of Ed25519.
        #[arg(long)]
        ecdsa: bool,
        /// Offered load in appends per second over all clients (0: each
        /// client appends again as soon as it is acknowledged). Latency is
        /// measured from each append's scheduled time, so a stalled log
        /// cannot hide its queueing delay.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
    },
}

async fn open_store(spec: &str) -> Result<Arc<dyn LogStore>, String> {
    if let Some(path) = spec.strip_prefix("redb:") {
        return RedbStore::open(path)
            .map(|s| Arc::new(s) as Arc<dyn LogStore>)
            .map_err(|e| e.to_string());
    }
    if let Some(rest) = spec.strip_prefix("postgres:") {
        let (url, log) = rest
            .rsplit_once('#')
            .ok_or("postgres store is postgres:URL#LOGNAME")?;
        return PostgresStore::open(url, log)
            .await
            .map(|s| Arc::new(s) as Arc<dyn LogStore>)
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "unknown store {spec:?}: use redb:PATH or postgres:URL#LOGNAME"
    ))
}

fn signer(ecdsa: bool) -> Result<Arc<NoteCheckpointSigner>, String> {
    let key = if ecdsa {
        PrivateKey::generate_p256().map_err(|e| e.to_string())?
    } else {
        PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&SEED))
    };
    let name = KeyName::new(ORIGIN).map_err(|e| e.to_string())?;
    let key = NoteSignerKey::new(name, key).map_err(|e| e.to_string())?;
    NoteCheckpointSigner::new(ORIGIN, vec![Arc::new(key)])
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// `keep_every_checkpoint` keeps the whole checkpoint history (the crash
/// tests check each one); the benchmark runs with the default.
async fn open_log(spec: &str, ecdsa: bool, keep_every_checkpoint: bool) -> Result<Log, String> {
    let store = open_store(spec).await?;
    let mut config = LogConfig::default();
    if keep_every_checkpoint {
        config.checkpoint_history_every = 1;
    }
    Log::open(store, signer(ecdsa)?, config)
        .await
        .map_err(|e| e.to_string())
}

fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout means the test stopped listening; nothing to do.
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

async fn append(
    store: &str,
    clients: usize,
    count: Option<u64>,
    tag: &str,
    repeat: bool,
) -> Result<(), String> {
    let log = open_log(store, false, true).await?;
    print_line("ready\n");
    let mut tasks = Vec::new();
    for client in 0..clients {
        let log = log.clone();
        let tag = tag.to_string();
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            while count.is_none_or(|c| seq < c) {
                let data = format!("{tag}/{client}/{seq}").into_bytes();
                let entry = PendingEntry::new(data);
                let identity = entry.identity;
                let tries = if repeat { 2 } else { 1 };
                for _ in 0..tries {
                    match log.append(entry.clone()).await {
                        Ok(a) => print_line(&format!(
                            "ack {} {} {} {}\n",
                            identity.to_hex(),
                            a.index,
                            a.tree_head.size,
                            a.tree_head.root.to_hex()
                        )),
                        Err(e) => print_line(&format!("error {e}\n")),
                    }
                }
                seq += 1;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn head(store: &str) -> Result<(), String> {
    let store = open_store(store).await?;
    let reader = signet_log::LogReader::new(store, LogConfig::default());
    let head = reader.latest().await.map_err(|e| e.to_string())?;
    print_line(&format!("head {} {}\n", head.size, head.root.to_hex()));
    Ok(())
}

async fn bench(
    store: &str,
    clients: usize,
    seconds: f64,
    entry_bytes: usize,
    ecdsa: bool,
    rate: f64,
) -> Result<(), String> {
    let log = open_log(store, ecdsa, false).await?;
    let start_size = log.latest().await.map_err(|e| e.to_string())?.size;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let log = log.clone();
        let interval = (rate > 0.0).then(|| Duration::from_secs_f64(clients as f64 / rate));
        // Spread the clients' schedules over one interval.
        let offset = interval.map(|i| i.mul_f64(client as f64 / clients as f64));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut seq = 0u64;
            let mut next = Instant::now() + offset.unwrap_or_default();
            while Instant::now() < deadline {
                let mut data = format!("bench/{}/{client}/{seq}/", std::process::id()).into_bytes();
                data.resize(entry_bytes.max(data.len()), b'x');
                let t = match interval {
                    Some(i) => {
                        tokio::time::sleep_until(next.into()).await;
                        let scheduled = next;
                        next += i;
                        scheduled
                    }
                    None => Instant::now(),
                };
                if log.append(PendingEntry::new(data)).await.is_err() {
                    return Err(());
                }
                latencies.push(t.elapsed());
                seq += 1;
            }
            Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(l)) => all.extend(l),
            _ => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let end_size = log.latest().await.map_err(|e| e.to_string())?.size;
    print_line(&format!(
        "{{\"clients\":{clients},\"offered_rate\":{rate},\"seconds\":{elapsed:.2},\"appends\":{},\"appends_per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"failed_clients\":{failed},\"entry_bytes\":{entry_bytes},\"tree_growth\":{}}}\n",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        end_size - start_size
    ));
    Ok(())
}

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match args.command {
            Command::Append {
                store,
                clients,
                count,
                tag,
                repeat,
            } => append(&store, clients, count, &tag, repeat).await,
            Command::Head { store } => head(&store).await,
            Command::Bench {
                store,
                clients,
                seconds,
                entry_bytes,
                ecdsa,
                rate,
            } => bench(&store, clients, seconds, entry_bytes, ecdsa, rate).await,
        }
    });
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}
