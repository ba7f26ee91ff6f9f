//! Crash safety: the harness binary appends from concurrent clients and is
//! killed with SIGKILL at random moments, then restarted, a few dozen
//! times. Afterwards every acknowledged entry must be in the log at the
//! index it was acknowledged with, no index may have been handed out
//! twice, and every checkpoint any client saw must be consistent with the
//! final tree. For PostgreSQL also with two instances appending to one
//! log at once, one of them killed and restarted.
//!
//! The PostgreSQL tests need `SIGNET_TEST_POSTGRES_URL` (started by
//! `scripts/test.sh`); without it they are reported as ignored, and under
//! `SIGNET_E2E_REQUIRED=1` the `postgres_is_available_when_required` test fails.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use signet_log::{LogConfig, LogReader, LogStore, RedbStore, UncheckedCheckpoints, verify_log};
use signet_tlog::Hash;
use signet_tlog::proof::verify_consistency;

/// One acknowledged append as the harness printed it.
#[derive(Debug, Clone)]
struct Ack {
    identity: Hash,
    index: u64,
    size: u64,
    root: Hash,
}

struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_signet-log-harness"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the harness");
        let stdout = child.stdout.take().expect("harness stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            // A line cut short by the kill has no newline and is dropped.
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line.ends_with('\n') {
                    sink.lock().unwrap().push(line.trim_end().to_string());
                }
                line.clear();
            }
        });
        Self {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn wait_ready(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if self.lines.lock().unwrap().iter().any(|l| l == "ready") {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the harness did not become ready");
    }

    /// SIGKILL, then every complete line it printed.
    fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_acks(lines: &[String]) -> Vec<Ack> {
    lines
        .iter()
        .filter_map(|l| {
            let mut f = l.strip_prefix("ack ")?.split(' ');
            Some(Ack {
                identity: Hash::from_hex(f.next()?).ok()?,
                index: f.next()?.parse().ok()?,
                size: f.next()?.parse().ok()?,
                root: Hash::from_hex(f.next()?).ok()?,
            })
        })
        .collect()
}

/// A small deterministic generator, seeded from the clock (and printed, so a
/// failure can be replayed by hard-coding the seed).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        eprintln!("kill-timing seed {seed}");
        Self(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Where the log under test lives.
enum Store {
    Redb(std::path::PathBuf),
    Postgres(String),
}

/// Checks the acknowledgements against the store after the last kill.
fn check(store: Store, acks: &[Ack]) {
    assert!(
        acks.len() >= 200,
        "only {} appends were acknowledged",
        acks.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store: Arc<dyn LogStore> = match store {
            Store::Redb(path) => Arc::new(RedbStore::open(path).unwrap()),
            Store::Postgres(log) => Arc::new(
                signet_log::PostgresStore::open(&postgres_url(), &log)
                    .await
                    .unwrap(),
            ),
        };
        // No index was given to two entries; no size had two roots.
        let mut by_index: HashMap<u64, Hash> = HashMap::new();
        let mut heads: BTreeMap<u64, Hash> = BTreeMap::new();
        for a in acks {
            let prev = by_index.insert(a.index, a.identity);
            assert!(
                prev.is_none_or(|p| p == a.identity),
                "index {} acknowledged for two entries",
                a.index
            );
            let prev = heads.insert(a.size, a.root);
            assert!(
                prev.is_none_or(|p| p == a.root),
                "tree size {} acknowledged with two roots",
                a.size
            );
        }
        let reader = LogReader::new(store.clone(), LogConfig::default());
        let head = reader.latest().await.unwrap();
        // Every acknowledged entry is there, at its index.
        for a in acks {
            let e = reader
                .entry(a.index)
                .await
                .unwrap_or_else(|e| panic!("acknowledged entry {} lost: {e}", a.index));
            assert_eq!(e.identity, a.identity, "entry {} changed", a.index);
        }
        // Every checkpoint a client saw is consistent with the final tree.
        for (size, root) in &heads {
            let proof = reader.consistency_proof(*size, head.size).await.unwrap();
            verify_consistency(*size, head.size, root, &head.root, &proof).unwrap_or_else(|e| {
                panic!("fork: checkpoint at size {size} is inconsistent with the final tree: {e}")
            });
        }
        let report = verify_log(store.as_ref(), &UncheckedCheckpoints)
            .await
            .unwrap();
        assert_eq!(report.entries, head.size);
        eprintln!(
            "{} acknowledged appends, {} distinct checkpoints, final size {}",
            acks.len(),
            heads.len(),
            head.size
        );
    });
}

/// Kill-restart cycles of one harness process; returns every acknowledgement.
fn kill_cycles(store: &str, cycles: usize, budget: Duration) -> Vec<Ack> {
    let mut rng = Rng::new();
    let deadline = Instant::now() + budget;
    let mut acks = Vec::new();
    for cycle in 0..cycles {
        if Instant::now() > deadline {
            break;
        }
        let tag = format!("run{}-{cycle}", std::process::id());
        let run = Running::start(&[
            "append",
            "--store",
            store,
            "--clients",
            "24",
            "--tag",
            &tag,
            "--repeat",
        ]);
        run.wait_ready(Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        acks.extend(parse_acks(&run.kill()));
    }
    acks
}

#[test]
fn redb_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.redb");
    let acks = kill_cycles(
        &format!("redb:{}", path.display()),
        30,
        Duration::from_secs(40),
    );
    check(Store::Redb(path), &acks);
}

fn postgres_url() -> String {
    std::env::var("SIGNET_TEST_POSTGRES_URL").expect("SIGNET_TEST_POSTGRES_URL")
}

fn unique_log(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    )
}

#[test]
fn postgres_is_available_when_required() {
    let built_with_postgres = cfg!(signet_postgres);
    if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") && !built_with_postgres {
        panic!(
            "PostgreSQL is required (SIGNET_E2E_REQUIRED=1) but SIGNET_TEST_POSTGRES_URL was not set when the tests were built"
        );
    }
}

#[test]
#[cfg_attr(
    not(signet_postgres),
    ignore = "needs PostgreSQL: run scripts/test.sh (SIGNET_TEST_POSTGRES_URL)"
)]
fn postgres_survives_sigkill() {
    let log = unique_log("crash");
    let store = format!("postgres:{}#{log}", postgres_url());
    let acks = kill_cycles(&store, 30, Duration::from_secs(40));
    check(Store::Postgres(log.clone()), &acks);
}

#[test]
#[cfg_attr(
    not(signet_postgres),
    ignore = "needs PostgreSQL: run scripts/test.sh (SIGNET_TEST_POSTGRES_URL)"
)]
fn two_postgres_instances_serve_one_tree_through_a_kill() {
    let log = unique_log("replicas");
    let store = format!("postgres:{}#{log}", postgres_url());
    let start = |name: &str, round: usize| {
        let tag = format!("{name}-{}-{round}", std::process::id());
        let run = Running::start(&[
            "append",
            "--store",
            &store,
            "--clients",
            "16",
            "--tag",
            &tag,
            "--repeat",
        ]);
        run.wait_ready(Duration::from_secs(20));
        run
    };
    let mut rng = Rng::new();
    let mut acks = Vec::new();
    let mut a = start("a", 0);
    let mut b = start("b", 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    for round in 1..=12 {
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(300)));
        // Kill one of the two (at random) while the other keeps appending.
        if rng.below(2) == 0 {
            acks.extend(parse_acks(&a.kill()));
            a = start("a", round);
        } else {
            acks.extend(parse_acks(&b.kill()));
            b = start("b", round);
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let (la, lb) = (a.kill(), b.kill());
    let (acks_a, acks_b) = (parse_acks(&la), parse_acks(&lb));
    assert!(
        !acks_a.is_empty() && !acks_b.is_empty(),
        "both instances appended"
    );
    acks.extend(acks_a);
    acks.extend(acks_b);
    check(Store::Postgres(log.clone()), &acks);

    // Both instances serve the same head.
    let heads: Vec<String> = (0..2)
        .map(|_| {
            let out = Command::new(env!("CARGO_BIN_EXE_signet-log-harness"))
                .args(["head", "--store", &store])
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    assert!(heads[0].starts_with("head "), "{heads:?}");
    assert_eq!(heads[0], heads[1]);
}
