//! The transparency log under failure, with `signet server` as a process:
//!
//! - **Crash test**, for the embedded store and for PostgreSQL: concurrent
//!   clients append Rekor v1 entries over HTTP while the server is killed
//!   with SIGKILL at random moments and started again. Afterwards every
//!   acknowledged entry is at the index it was acknowledged with, every
//!   checkpoint a client was given is consistent with the final tree
//!   (consistency proofs from the server, checked here), and
//!   `signet server verify-log` recomputes both trees.
//! - **Two replicas on one PostgreSQL database**, each with a copy of the
//!   data directory: clients append to both at once, one replica is killed
//!   and restarted, and both then serve the same tree: the same signed tree
//!   heads, the same consistency proofs, every acknowledged entry at its
//!   index from either; `verify-log --database` passes while they serve.
//!
//! Each run is bounded in time (about ten seconds of appends) and prints
//! its random seed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PrivateKey;
use signet_tlog::Hash;
use signet_tlog::proof::verify_consistency;

use crate::harness::{Context, Local, tests, var};
use crate::server_process::{DataDir, ServerProcess, no_rate_limit, run, signet};

tests![
    embedded_store_survives_kill_9_during_concurrent_appends,
    postgres_store_survives_kill_9_during_concurrent_appends,
    two_replicas_on_one_postgres_database_serve_one_tree,
];

/// A PostgreSQL server (`scripts/test.sh` starts one); each test gets a
/// database of its own.
pub struct Postgres {
    url: String,
    counter: AtomicU64,
}

impl Context for Postgres {
    fn get() -> Result<&'static Self, String> {
        static PG: std::sync::OnceLock<Result<Postgres, String>> = std::sync::OnceLock::new();
        PG.get_or_init(|| {
            Ok(Postgres {
                url: var("SIGNET_TEST_POSTGRES_URL")?,
                counter: AtomicU64::new(0),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}

impl Postgres {
    /// A new, empty database; returns its URL.
    fn fresh_database(&self) -> String {
        let name = format!(
            "signet_e2e_{}_{}",
            std::process::id(),
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        let url = self.url.clone();
        let create = name.clone();
        runtime().block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connecting to the test PostgreSQL");
            tokio::spawn(conn);
            client
                .batch_execute(&format!("CREATE DATABASE {create}"))
                .await
                .expect("CREATE DATABASE");
        });
        match self.url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("unexpected PostgreSQL URL {}", self.url),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A small deterministic generator for the kill times (seeded per run).
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        eprintln!("crash test seed {seed}");
        Self(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One acknowledged append.
#[derive(Clone, Debug)]
struct Ack {
    index: u64,
    entry_id: String,
    tree_size: u64,
    root: Hash,
}

/// Concurrent clients appending distinct hashedrekord entries to the
/// Rekor v1 API of `urls` (client `i` uses `urls[i % len]`) until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<Ack>>>,
    failures: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(rt: &tokio::runtime::Runtime, urls: &[String], clients: usize, tag: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicU64::new(0));
        let key = Arc::new(PrivateKey::generate_p256().unwrap());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let tasks = (0..clients)
            .map(|i| {
                let url = format!("{}/api/v1/log/entries", urls[i % urls.len()]);
                let (stop, acks, failures, key, http) = (
                    stop.clone(),
                    acks.clone(),
                    failures.clone(),
                    key.clone(),
                    http.clone(),
                );
                let tag = tag.to_owned();
                rt.spawn(async move {
                    let pem = B64.encode(key.public_key().to_pem());
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let artifact = format!("{tag} client {i} entry {n}");
                        let body = serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
                            "signature": {"content": B64.encode(key.sign(artifact.as_bytes()).unwrap()),
                                          "publicKey": {"content": pem}},
                            "data": {"hash": {"algorithm": "sha256",
                                "value": signet_core::Digest::sha256_of(artifact.as_bytes()).hex()}}}});
                        match append(&http, &url, body.to_string()).await {
                            Some(ack) => acks.lock().unwrap().push(ack),
                            None => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            acks,
            failures,
            tasks,
        }
    }

    fn finish(self, rt: &tokio::runtime::Runtime) -> (Vec<Ack>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = rt.block_on(t);
        }
        let acks = self.acks.lock().unwrap().clone();
        (acks, self.failures.load(Ordering::Relaxed))
    }
}

/// Posts one entry; the acknowledgement, or `None` when there is none (the
/// server is down, the connection broke, the answer is not a 201).
async fn append(http: &reqwest::Client, url: &str, body: String) -> Option<Ack> {
    let response = http.post(url).body(body).send().await.ok()?;
    if response.status().as_u16() != 201 {
        return None;
    }
    let bytes = response.bytes().await.ok()?;
    let (entry_id, entry) =
        signet_core::bundle::TransparencyLogEntry::from_rekor_v1_response(&bytes).ok()?;
    let proof = entry.inclusion_proof?;
    Some(Ack {
        index: entry.log_index,
        entry_id,
        tree_size: proof.tree_size,
        root: Hash(proof.root_hash),
    })
}

fn get_json(rt: &tokio::runtime::Runtime, url: String) -> serde_json::Value {
    rt.block_on(async move {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "GET {url}");
        r.json().await.unwrap()
    })
}

/// The latest tree head of a server's Rekor v1 log: (size, root, signed note).
fn tree_head(rt: &tokio::runtime::Runtime, url: &str) -> (u64, Hash, String) {
    let info = get_json(rt, format!("{url}/api/v1/log"));
    (
        info["treeSize"].as_u64().unwrap(),
        Hash::from_hex(info["rootHash"].as_str().unwrap()).unwrap(),
        info["signedTreeHead"].as_str().unwrap().to_owned(),
    )
}

/// Every acknowledged entry is at its index (read back in batches of ten).
fn check_acks_present(rt: &tokio::runtime::Runtime, url: &str, acks: &[Ack]) {
    let http = reqwest::Client::new();
    for chunk in acks.chunks(10) {
        let query =
            serde_json::json!({"logIndexes": chunk.iter().map(|a| a.index).collect::<Vec<_>>()});
        let found: serde_json::Value = rt.block_on(async {
            http.post(format!("{url}/api/v1/log/entries/retrieve"))
                .body(query.to_string())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let found = found.as_array().unwrap();
        assert_eq!(
            found.len(),
            chunk.len(),
            "acknowledged entries missing: {chunk:?}"
        );
        for (ack, entry) in chunk.iter().zip(found) {
            let (id, value) = entry.as_object().unwrap().iter().next().unwrap();
            assert_eq!(id, &ack.entry_id, "index {} holds another entry", ack.index);
            assert_eq!(value["logIndex"].as_u64(), Some(ack.index));
        }
    }
}

/// Every tree head a client was given is consistent with the final tree,
/// by consistency proofs from the server (up to `limit` heads, spread out).
fn check_heads_consistent(
    rt: &tokio::runtime::Runtime,
    url: &str,
    acks: &[Ack],
    (size, root): (u64, Hash),
    limit: usize,
) -> usize {
    let mut heads: Vec<(u64, Hash)> = acks.iter().map(|a| (a.tree_size, a.root)).collect();
    heads.sort_by_key(|h| h.0);
    heads.dedup();
    // Two roots for one size would be a fork.
    for pair in heads.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "two roots for tree size {}: {} and {}",
            pair[0].0,
            pair[0].1,
            pair[1].1
        );
    }
    let step = heads.len().div_ceil(limit.max(1)).max(1);
    let mut checked = 0;
    for (old_size, old_root) in heads.iter().step_by(step) {
        let proof = get_json(
            rt,
            format!("{url}/api/v1/log/proof?firstSize={old_size}&lastSize={size}"),
        );
        assert_eq!(proof["rootHash"].as_str(), Some(root.to_hex().as_str()));
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(*old_size, size, old_root, &root, &hashes).unwrap_or_else(|e| {
            panic!("tree head {old_size} is not consistent with the final tree {size}: {e}")
        });
        checked += 1;
    }
    checked
}

fn verify_log(data: &DataDir, database: Option<&str>) {
    let mut args = vec!["server", "verify-log", data.dir.to_str().unwrap()];
    if let Some(db) = database {
        args.extend(["--database", db]);
    }
    let out = run(signet(data.dir.parent().unwrap(), &args)).ok();
    assert!(
        out.stdout.contains("rekor-v1:") && out.stdout.contains("OK:"),
        "{}",
        out.stdout
    );
}

/// Appends from 48 clients while the server is killed three times at
/// random moments; then checks everything that was acknowledged.
fn crash_test(database: Option<&str>) {
    let rt = runtime();
    let data = DataDir::init(&[], no_rate_limit);
    let mut server = ServerProcess::run(&data, database);
    let mut rng = Rng::seeded();
    let load = Load::start(&rt, std::slice::from_ref(&server.url), 48, "crash");
    let started = Instant::now();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(1000 + rng.below(1500)));
        server.kill9();
        std::thread::sleep(Duration::from_millis(rng.below(200)));
        let restarting = Instant::now();
        server.restart();
        eprintln!("restarted in {:.2} s", restarting.elapsed().as_secs_f64());
    }
    std::thread::sleep(Duration::from_millis(1000));
    let (acks, failures) = load.finish(&rt);
    eprintln!(
        "crash test ({}): {} acknowledged, {failures} unacknowledged, in {:.1} s",
        if database.is_some() {
            "PostgreSQL"
        } else {
            "embedded"
        },
        acks.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        acks.len() >= 1000,
        "only {} appends were acknowledged",
        acks.len()
    );
    let mut indexes: Vec<u64> = acks.iter().map(|a| a.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(
        indexes.len(),
        acks.len(),
        "two acknowledgements with one index"
    );

    let (size, root, _) = tree_head(&rt, &server.url);
    assert!(size > *indexes.last().unwrap());
    check_acks_present(&rt, &server.url, &acks);
    let checked = check_heads_consistent(&rt, &server.url, &acks, (size, root), 300);
    assert!(checked > 0);
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    verify_log(&data, database);
}

fn embedded_store_survives_kill_9_during_concurrent_appends(_: &Local) {
    crash_test(None);
}

fn postgres_store_survives_kill_9_during_concurrent_appends(pg: &Postgres) {
    crash_test(Some(&pg.fresh_database()));
}

fn two_replicas_on_one_postgres_database_serve_one_tree(pg: &Postgres) {
    let rt = runtime();
    let database = pg.fresh_database();
    let a_dir = DataDir::init(&[], no_rate_limit);
    let b_dir = a_dir.replica();
    let a = ServerProcess::run(&a_dir, Some(&database));
    let mut b = ServerProcess::run(&b_dir, Some(&database));
    let urls = [a.url.clone(), b.url.clone()];
    let load = Load::start(&rt, &urls, 32, "replicas");
    std::thread::sleep(Duration::from_millis(1500));
    b.kill9();
    std::thread::sleep(Duration::from_millis(300));
    b.restart();
    std::thread::sleep(Duration::from_millis(1500));
    let (acks, failures) = load.finish(&rt);
    eprintln!(
        "replicas: {} acknowledged ({} by each), {failures} unacknowledged",
        acks.len(),
        acks.len() / 2
    );
    assert!(
        acks.len() >= 500,
        "only {} appends were acknowledged",
        acks.len()
    );

    // Both serve the same signed tree head and the same v2 checkpoint.
    let head_a = tree_head(&rt, &a.url);
    let head_b = tree_head(&rt, &b.url);
    assert_eq!(head_a, head_b, "the replicas disagree on the tree head");
    assert_eq!(a.curl("/checkpoint"), b.curl("/checkpoint"));
    // Every acknowledged entry, wherever it was appended, is at its index
    // on both, and every head handed out is consistent with the tree.
    for url in &urls {
        check_acks_present(&rt, url, &acks);
        check_heads_consistent(&rt, url, &acks, (head_a.0, head_a.1), 100);
    }
    // The replicas' proofs agree.
    for first in [1, head_a.0 / 3, head_a.0 / 2] {
        let path = format!(
            "/api/v1/log/proof?firstSize={}&lastSize={}",
            first.max(1),
            head_a.0
        );
        assert_eq!(a.curl(&path), b.curl(&path), "{path}");
    }
    // verify-log runs against the database while both still serve.
    verify_log(&a_dir, Some(&database));
}
