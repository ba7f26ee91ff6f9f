//! The engine against the in-memory and the embedded store: concurrent
//! appends, de-duplication, proofs against signed checkpoints, tiles,
//! restarts, storage failures and `verify_log`.

use std::sync::Arc;

use signet_core::keys::PrivateKey;
use signet_log::{
    Log, LogConfig, LogError, LogReader, LogStore, MemoryStore, NoteCheckpointSigner, PendingEntry,
    RedbStore, UncheckedCheckpoints, verify_log,
};
use signet_tlog::checkpoint::CheckpointVerifier;
use signet_tlog::note::{KeyName, NoteVerifiers};
use signet_tlog::note_keys::NoteSignerKey;
use signet_tlog::proof::{verify_consistency, verify_inclusion};
use signet_tlog::tile::{BundleId, TileId, decode_entry_bundle, decode_hash_tile};
use signet_tlog::{Hash, leaf_hash};

const ORIGIN: &str = "test.signet.example/log";

fn signer_key() -> NoteSignerKey {
    let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9; 32]));
    NoteSignerKey::new(KeyName::new(ORIGIN).unwrap(), key).unwrap()
}

fn signer() -> Arc<NoteCheckpointSigner> {
    Arc::new(NoteCheckpointSigner::new(ORIGIN, vec![Arc::new(signer_key())]).unwrap())
}

fn verifier() -> CheckpointVerifier {
    CheckpointVerifier::new(
        ORIGIN,
        NoteVerifiers::new(vec![Box::new(signer_key().verifier().clone())]).unwrap(),
    )
}

fn config() -> LogConfig {
    LogConfig {
        checkpoint_history_every: 1,
        max_batch: 64,
        ..LogConfig::default()
    }
}

async fn exercise(store: Arc<dyn LogStore>) {
    let log = Log::open(store.clone(), signer(), config()).await.unwrap();
    let first = log.latest().await.unwrap();
    assert_eq!(first.size, 0);
    verifier().verify(&first.checkpoint).unwrap();

    // 600 concurrent appends from 50 clients.
    let mut tasks = Vec::new();
    for c in 0..50u32 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..12u32 {
                let data = format!("entry {c} {i}").into_bytes();
                acks.push((
                    data.clone(),
                    log.append(PendingEntry::new(data)).await.unwrap(),
                ));
            }
            acks
        }));
    }
    let mut acks = Vec::new();
    for t in tasks {
        acks.extend(t.await.unwrap());
    }
    let mut indexes: Vec<u64> = acks.iter().map(|(_, a)| a.index).collect();
    indexes.sort();
    assert_eq!(
        indexes,
        (0..600).collect::<Vec<_>>(),
        "no gap, no double use"
    );

    // Every acknowledgement carries a signed checkpoint and a proof against it.
    let v = verifier();
    for (data, a) in &acks {
        assert!(!a.duplicate);
        assert_eq!(a.leaf_hash, leaf_hash(data));
        let cp = v.verify(&a.tree_head.checkpoint).unwrap().checkpoint;
        assert_eq!(
            (cp.size(), cp.root_hash()),
            (a.tree_head.size, &a.tree_head.root)
        );
        verify_inclusion(
            &a.leaf_hash,
            a.index,
            a.tree_head.size,
            &a.inclusion_proof,
            &a.tree_head.root,
        )
        .unwrap();
    }

    // Every checkpoint handed out is consistent with the final one.
    let head = log.latest().await.unwrap();
    assert_eq!(head.size, 600);
    for (_, a) in acks.iter().step_by(7) {
        let proof = log
            .consistency_proof(a.tree_head.size, head.size)
            .await
            .unwrap();
        verify_consistency(
            a.tree_head.size,
            head.size,
            &a.tree_head.root,
            &head.root,
            &proof,
        )
        .unwrap();
        assert_eq!(
            log.root_at(a.tree_head.size).await.unwrap(),
            a.tree_head.root
        );
    }

    // Duplicates return the original, in the same batch or later.
    let (data, original) = &acks[17];
    let again = log.append(PendingEntry::new(data.clone())).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (again.index, again.integrated_time),
        (original.index, original.integrated_time)
    );
    verify_inclusion(
        &again.leaf_hash,
        again.index,
        again.tree_head.size,
        &again.inclusion_proof,
        &again.tree_head.root,
    )
    .unwrap();
    let twins = tokio::join!(
        log.append(PendingEntry::new(b"twin".to_vec())),
        log.append(PendingEntry::new(b"twin".to_vec()))
    );
    let (t1, t2) = (twins.0.unwrap(), twins.1.unwrap());
    assert_eq!(t1.index, t2.index);
    assert!(t1.duplicate != t2.duplicate);
    // An explicit identity de-duplicates different bytes.
    let id = Hash([5; 32]);
    let a = log
        .append(PendingEntry::with_identity(b"one".to_vec(), id))
        .await
        .unwrap();
    let b = log
        .append(PendingEntry::with_identity(b"two".to_vec(), id))
        .await
        .unwrap();
    assert_eq!(a.index, b.index);
    assert!(b.duplicate);

    // Reads.
    let e = log.entry(original.index).await.unwrap();
    assert_eq!(&e.data, data);
    assert_eq!(
        log.find_by_leaf_hash(&leaf_hash(data))
            .await
            .unwrap()
            .unwrap()
            .index,
        original.index
    );
    assert_eq!(
        log.find_by_identity(&id).await.unwrap().unwrap().data,
        b"one"
    );
    assert!(
        log.find_by_leaf_hash(&Hash([0; 32]))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        log.entry(10_000).await,
        Err(LogError::NotFound(_))
    ));
    assert!(matches!(
        log.inclusion_proof(0, 10_000).await,
        Err(LogError::NotFound(_))
    ));
    assert_eq!(log.entries(0, 1000).await.unwrap().len(), 256);
    let too_big = log.append(PendingEntry::new(vec![0; 70_000])).await;
    assert!(matches!(too_big, Err(LogError::EntryTooLarge { .. })));

    // Tiles agree with the entries and with the root.
    let head = log.latest().await.unwrap();
    let level0 = TileId::at_size(0, 0, head.size).unwrap();
    let hashes = decode_hash_tile(&log.tile(level0).await.unwrap(), 256).unwrap();
    assert_eq!(hashes[3], log.entry(3).await.unwrap().leaf_hash);
    let partial = TileId::at_size(0, 2, head.size).unwrap();
    assert_eq!(partial.width(), head.size - 512);
    let narrower = TileId::new(0, 2, 10).unwrap();
    assert_eq!(log.tile(narrower).await.unwrap().len(), 320);
    assert!(log.tile(TileId::new(0, 9, 1).unwrap()).await.is_err());
    let bundle = log
        .entry_bundle(BundleId::at_size(1, head.size).unwrap())
        .await
        .unwrap();
    let entries = decode_entry_bundle(&bundle, 256).unwrap();
    assert_eq!(entries[0], log.entry(256).await.unwrap().data.as_slice());

    let report = verify_log(store.as_ref(), &verifier()).await.unwrap();
    assert_eq!((report.entries, report.root), (head.size, head.root));
    assert!(report.checkpoints > 5, "{report:?}");
    assert!(report.tiles >= 4, "{report:?}");
    log.close().await;
    assert!(matches!(
        log.append(PendingEntry::new(b"late".to_vec())).await,
        Err(LogError::Closed)
    ));
    assert_eq!(
        log.latest().await.unwrap().size,
        head.size,
        "reads work after close"
    );
}

/// Opens the redb file again once the previous handles are gone.
async fn reopen(path: &std::path::Path) -> RedbStore {
    for _ in 0..100 {
        if let Ok(s) = RedbStore::open(path) {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    RedbStore::open(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store() {
    exercise(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redb_store_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.redb");
    exercise(Arc::new(RedbStore::open(&path).unwrap())).await;
    // Reopen: the tree is there and keeps growing from where it was.
    let store: Arc<dyn LogStore> = Arc::new(reopen(&path).await);
    let before = LogReader::new(store.clone(), LogConfig::default())
        .latest()
        .await
        .unwrap();
    let log = Log::open(store.clone(), signer(), config()).await.unwrap();
    let a = log
        .append(PendingEntry::new(b"after restart".to_vec()))
        .await
        .unwrap();
    assert_eq!(a.index, before.size);
    let proof = log
        .consistency_proof(before.size, a.tree_head.size)
        .await
        .unwrap();
    verify_consistency(
        before.size,
        a.tree_head.size,
        &before.root,
        &a.tree_head.root,
        &proof,
    )
    .unwrap();
    verify_log(store.as_ref(), &UncheckedCheckpoints)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_loses_nothing_acknowledged_and_leaves_no_gap() {
    let store = Arc::new(MemoryStore::new());
    let log = Log::open(store.clone(), signer(), config()).await.unwrap();
    log.append(PendingEntry::new(b"a".to_vec())).await.unwrap();
    store.fail_next_commits(1);
    let failed = log.append(PendingEntry::new(b"b".to_vec())).await;
    assert!(matches!(failed, Err(LogError::Storage(_))));
    let c = log.append(PendingEntry::new(b"c".to_vec())).await.unwrap();
    assert_eq!(c.index, 1, "the failed entry left no gap");
    let b = log.append(PendingEntry::new(b"b".to_vec())).await.unwrap();
    assert_eq!(b.index, 2);
    verify_log(store.as_ref(), &verifier()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_log_detects_a_foreign_checkpoint() {
    // A checkpoint signed by another key fails verification.
    let store = Arc::new(MemoryStore::new());
    let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[1; 32]));
    let other = NoteSignerKey::new(KeyName::new(ORIGIN).unwrap(), key).unwrap();
    let signer = Arc::new(NoteCheckpointSigner::new(ORIGIN, vec![Arc::new(other)]).unwrap());
    let log = Log::open(store.clone(), signer, config()).await.unwrap();
    log.append(PendingEntry::new(b"x".to_vec())).await.unwrap();
    let err = verify_log(store.as_ref(), &verifier()).await.unwrap_err();
    assert!(matches!(err, LogError::Corrupt(_)), "{err}");
    verify_log(store.as_ref(), &UncheckedCheckpoints)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(signet_postgres),
    ignore = "needs PostgreSQL: run scripts/test.sh (SIGNET_TEST_POSTGRES_URL)"
)]
async fn postgres_store() {
    let url = std::env::var("SIGNET_TEST_POSTGRES_URL").unwrap();
    let log = format!(
        "engine-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    exercise(Arc::new(
        signet_log::PostgresStore::open(&url, &log).await.unwrap(),
    ))
    .await;
    // A second store object on the same log (another instance) sees the same tree.
    let other: Arc<dyn LogStore> =
        Arc::new(signet_log::PostgresStore::open(&url, &log).await.unwrap());
    let head = LogReader::new(other.clone(), LogConfig::default())
        .latest()
        .await
        .unwrap();
    assert!(head.size >= 600);
    let log2 = Log::open(other.clone(), signer(), config()).await.unwrap();
    let a = log2
        .append(PendingEntry::new(b"from the second instance".to_vec()))
        .await
        .unwrap();
    assert_eq!(a.index, head.size);
    verify_log(other.as_ref(), &verifier()).await.unwrap();
}

/// Past 65,536 entries a level-1 tile fills and a level-2 tile starts: the
/// tree, its tiles and proofs must still agree with an in-memory tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_across_level_boundaries() {
    let store = Arc::new(MemoryStore::new());
    let cfg = LogConfig {
        max_batch: 8192,
        checkpoint_history_every: 4096,
        ..LogConfig::default()
    };
    let log = Log::open(store.clone(), signer(), cfg).await.unwrap();
    let total = 66_000u32;
    // Appends run concurrently, so indices follow the order they reach the
    // sequencer: rebuild the reference tree in index order.
    let mut by_index = vec![None; total as usize];
    for chunk in (0..total).collect::<Vec<_>>().chunks(6000) {
        let appends = chunk
            .iter()
            .map(|i| log.append(PendingEntry::new(i.to_be_bytes().to_vec())));
        let acks = futures_util::future::join_all(appends).await;
        for (i, ack) in chunk.iter().zip(acks) {
            let index = ack.unwrap().index as usize;
            assert!(
                by_index[index].replace(*i).is_none(),
                "index {index} used twice"
            );
        }
    }
    let mut reference = signet_tlog::tree::MemoryTree::new();
    for i in by_index {
        reference.append(&i.expect("no gap").to_be_bytes());
    }
    let head = log.latest().await.unwrap();
    assert_eq!((head.size, head.root), (u64::from(total), reference.root()));
    for index in [0u64, 255, 256, 65_535, 65_536, 65_999] {
        let proof = log.inclusion_proof(index, head.size).await.unwrap();
        assert_eq!(
            proof,
            signet_tlog::proof::prove_inclusion(&reference, index, head.size).unwrap()
        );
    }
    let proof = log.consistency_proof(65_536, head.size).await.unwrap();
    let old = signet_tlog::tree::root_hash(&reference, 65_536).unwrap();
    verify_consistency(65_536, head.size, &old, &head.root, &proof).unwrap();
    assert_eq!(
        log.tile(TileId::at_size(2, 0, head.size).unwrap())
            .await
            .unwrap()
            .len(),
        32
    );
    let report = verify_log(store.as_ref(), &verifier()).await.unwrap();
    assert_eq!(report.entries, u64::from(total));
}
