//! Rekor clients against scripted logs: synthetic logs signed with
//! signet-tlog (every way an answer can be wrong), and the real public-good
//! Rekor v1 and v2 entries of `tests/vectors/` served back as the logs
//! answered them, checked against the shipped public-good trusted root.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::hash::HashAlgorithm;
use signet_core::key_details::PublicKeyDetails;
use signet_core::keys::PrivateKey;
use signet_core::rekor::{LoggedEntry, ProposedEntry, V002Verifier};
use signet_tlog::checkpoint::Checkpoint;
use signet_tlog::note::KeyName;
use signet_tlog::note_keys::NoteSignerKey;
use signet_tlog::proof::prove_inclusion;
use signet_tlog::set::SetPayload;
use signet_tlog::tree::MemoryTree;
use signet_tlog::{Hash, leaf_hash};
use signet_trust::{TransparencyLog, TrustedPublicKey};

use super::*;
use crate::HttpClient;
use crate::test_server::serve;

fn http() -> HttpClient {
    HttpClient::new(&Default::default()).unwrap()
}

fn trusted(base_url: &str, key: &PrivateKey, log_id: Vec<u8>) -> TransparencyLog {
    TransparencyLog {
        base_url: base_url.into(),
        hash_algorithm: HashAlgorithm::Sha2_256,
        public_key: TrustedPublicKey::from_public_key(&key.public_key(), None).unwrap(),
        log_id,
        checkpoint_key_id: None,
        operator: None,
    }
}

/// A second handle on a key (keys are deliberately not `Clone`).
fn copy(key: &PrivateKey) -> PrivateKey {
    PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Digest::sha256_of(bytes).raw().to_vec()
}

fn hashedrekord_v001(signer: &PrivateKey) -> Proposal {
    Proposal::HashedRekordV001 {
        digest: Digest::sha256_of(b"artifact"),
        signature: signer.sign(b"artifact").unwrap(),
        verifier_pem: signer.public_key().to_pem().into_bytes(),
    }
}

// ---- a synthetic Rekor v1 log -------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum V1Fault {
    None,
    Duplicate,
    SetByOtherKey,
    OtherBody,
    CorruptProofHash,
    CheckpointForOtherRoot,
    NoSet,
    Refuse,
}

struct V1Log {
    key: PrivateKey,
    fault: V1Fault,
    last: Option<String>,
}

fn v1_answer(log: &V1Log, body: &[u8]) -> String {
    let log_id: [u8; 32] = Digest::sha256_of(&log.key.public_key().to_spki_der()).raw();
    let mut tree = MemoryTree::new();
    tree.append(b"first leaf");
    tree.append(body);
    let mut hashes = prove_inclusion(&tree, 1, 2).unwrap();
    if log.fault == V1Fault::CorruptProofHash {
        hashes[0] = leaf_hash(b"not the first leaf");
    }
    let root = tree.root();
    let checkpoint_root = if log.fault == V1Fault::CheckpointForOtherRoot {
        leaf_hash(b"other root")
    } else {
        root
    };
    let note = Checkpoint::new("rekor.test - 42", 2, checkpoint_root)
        .unwrap()
        .with_extension("Timestamp: 1")
        .unwrap()
        .sign(&[
            &NoteSignerKey::rekor_v1(KeyName::new("rekor.test").unwrap(), copy(&log.key)).unwrap(),
        ])
        .unwrap();
    let integrated_time = 1_800_000_000;
    let set_key = if log.fault == V1Fault::SetByOtherKey {
        PrivateKey::generate_p256().unwrap()
    } else {
        copy(&log.key)
    };
    let set = SetPayload {
        body: body.to_vec(),
        integrated_time,
        log_id,
        log_index: 1001,
    }
    .sign(&set_key)
    .unwrap();
    let mut verification = serde_json::json!({
        "inclusionProof": {
            "checkpoint": String::from_utf8(note).unwrap(),
            "hashes": hashes.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "logIndex": 1,
            "rootHash": root.to_hex(),
            "treeSize": 2,
        }
    });
    if log.fault != V1Fault::NoSet {
        verification["signedEntryTimestamp"] = B64.encode(set).into();
    }
    let uuid = hex::encode(leaf_hash(body).as_bytes());
    serde_json::json!({ uuid: {
        "body": B64.encode(body),
        "integratedTime": integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": 1001,
        "verification": verification,
    }})
    .to_string()
}

async fn v1_post(
    State(log): State<Arc<Mutex<V1Log>>>,
    body: String,
) -> (StatusCode, HeaderMap, String) {
    let mut log = log.lock().unwrap();
    let proposed = ProposedEntry::parse_v1(body.as_bytes()).unwrap();
    proposed.verify_signatures().unwrap();
    let mut logged = proposed.canonical_body().unwrap();
    if log.fault == V1Fault::OtherBody {
        let other = PrivateKey::generate_p256().unwrap();
        let p = hashedrekord_v001(&other).v1_request().unwrap().to_string();
        logged = ProposedEntry::parse_v1(p.as_bytes())
            .unwrap()
            .canonical_body()
            .unwrap();
    }
    let answer = v1_answer(&log, &logged);
    let mut headers = HeaderMap::new();
    match log.fault {
        V1Fault::Refuse => (
            StatusCode::BAD_REQUEST,
            headers,
            r#"{"code":400,"message":"error processing entry: invalid signature"}"#.into(),
        ),
        V1Fault::Duplicate => {
            headers.insert(
                "location",
                format!(
                    "/api/v1/log/entries/{}",
                    hex::encode(leaf_hash(&logged).as_bytes())
                )
                .parse()
                .unwrap(),
            );
            log.last = Some(answer);
            (StatusCode::CONFLICT, headers, r#"{"code":409,"message":"an equivalent entry already exists in the transparency log"}"#.into())
        }
        _ => (StatusCode::CREATED, headers, answer),
    }
}

async fn v1_get(State(log): State<Arc<Mutex<V1Log>>>) -> (StatusCode, String) {
    match log.lock().unwrap().last.clone() {
        Some(a) => (StatusCode::OK, a),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

pub(crate) async fn v1_log(fault: V1Fault) -> (RekorV1Client, PrivateKey) {
    let key = PrivateKey::generate_p256().unwrap();
    let state = Arc::new(Mutex::new(V1Log {
        key: copy(&key),
        fault,
        last: None,
    }));
    let router = Router::new()
        .route("/api/v1/log/entries", post(v1_post))
        .route("/api/v1/log/entries/{uuid}", get(v1_get))
        .with_state(state);
    let url = serve(router).await;
    let log_id = sha256(&key.public_key().to_spki_der());
    let client = RekorV1Client::new(http(), &url, vec![trusted(&url, &key, log_id)]).unwrap();
    (client, key)
}

async fn v1_outcome(
    fault: V1Fault,
) -> Result<signet_core::bundle::TransparencyLogEntry, crate::ServiceError> {
    let (client, _) = v1_log(fault).await;
    let signer = PrivateKey::generate_p256().unwrap();
    client.create_entry(&hashedrekord_v001(&signer)).await
}

#[tokio::test]
async fn a_v1_entry_is_checked_and_kept_with_its_set_and_proof() {
    let entry = v1_outcome(V1Fault::None).await.unwrap();
    assert_eq!(entry.log_index, 1001);
    assert_eq!(entry.integrated_time, 1_800_000_000);
    assert!(entry.inclusion_promise.is_some());
    let proof = entry.inclusion_proof.unwrap();
    assert_eq!(
        (proof.log_index, proof.tree_size, proof.hashes.len()),
        (1, 2, 1)
    );
    assert_eq!(entry.kind_version.kind, "hashedrekord");
}

#[tokio::test]
async fn a_duplicate_v1_entry_is_fetched_from_the_log() {
    let entry = v1_outcome(V1Fault::Duplicate).await.unwrap();
    assert_eq!(entry.log_index, 1001);
}

#[tokio::test]
async fn v1_answers_that_do_not_verify_are_refused_by_check() {
    for (fault, expected) in [
        (V1Fault::SetByOtherKey, "signed entry timestamp: "),
        (V1Fault::NoSet, "signed entry timestamp: the log sent none"),
        (
            V1Fault::OtherBody,
            "entry body: the logged entry is not the one proposed",
        ),
        (V1Fault::CorruptProofHash, "inclusion proof: "),
        (
            V1Fault::CheckpointForOtherRoot,
            "checkpoint: the checkpoint is for tree size 2 with root",
        ),
        (
            V1Fault::Refuse,
            "HTTP 400, error processing entry: invalid signature",
        ),
    ] {
        let e = v1_outcome(fault).await.unwrap_err().to_string();
        assert!(e.starts_with("rekor http://127.0.0.1:"), "{fault:?}: {e}");
        assert!(e.contains(expected), "{fault:?}: {e}");
    }
}

#[tokio::test]
async fn a_v1_log_outside_the_trusted_root_is_refused() {
    let (honest, _) = v1_log(V1Fault::None).await;
    let other = PrivateKey::generate_p256().unwrap();
    let url = honest.url().to_string();
    let client = RekorV1Client::new(
        http(),
        &url,
        vec![trusted(
            &url,
            &other,
            sha256(&other.public_key().to_spki_der()),
        )],
    )
    .unwrap();
    let signer = PrivateKey::generate_p256().unwrap();
    let e = client
        .create_entry(&hashedrekord_v001(&signer))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("log: log ID") && e.contains("is not a Rekor log of the trusted root"),
        "{e}"
    );
}

#[tokio::test]
async fn a_v1_log_refuses_v2_proposals_before_sending() {
    let (client, _) = v1_log(V1Fault::None).await;
    let key = PrivateKey::generate_p256().unwrap();
    let e = client
        .create_entry(&v002_proposal(&key))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "rekor: a Rekor v1 log does not take hashedrekord 0.0.2 entries"
    );
}

// ---- a synthetic Rekor v2 log -------------------------------------------

fn v002_proposal(signer: &PrivateKey) -> Proposal {
    Proposal::HashedRekordV002 {
        digest: Digest::sha256_of(b"artifact"),
        signature: signer.sign(b"artifact").unwrap(),
        verifier: V002Verifier::PublicKey(signer.public_key().to_spki_der()),
        key_details: PublicKeyDetails::PkixEcdsaP256Sha256,
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum V2Fault {
    None,
    WrongOrigin,
    CorruptProofHash,
    Duplicate,
    WrongKind,
}

const V2_LOG_ID: [u8; 32] = [7; 32];

pub(crate) async fn v2_log(fault: V2Fault) -> (RekorV2Client, String) {
    let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9; 32]));
    let seed = [9u8; 32];
    let router = Router::new().route(
        "/api/v2/log/entries",
        post(move |body: String| {
            let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed));
            async move {
                let proposed = ProposedEntry::parse_v2(body.as_bytes()).unwrap();
                proposed.verify_signatures().unwrap();
                let logged = proposed.canonical_body().unwrap();
                let mut tree = MemoryTree::new();
                for i in 0..5u8 {
                    tree.append(&[i]);
                }
                tree.append(&logged);
                let mut hashes = prove_inclusion(&tree, 5, 6).unwrap();
                if fault == V2Fault::CorruptProofHash {
                    hashes[1] = leaf_hash(b"x");
                }
                let origin = if fault == V2Fault::WrongOrigin {
                    "other.log.test"
                } else {
                    "127.0.0.1"
                };
                let note = Checkpoint::new(origin, 6, tree.root())
                    .unwrap()
                    .sign(&[&NoteSignerKey::new(KeyName::new(origin).unwrap(), key).unwrap()])
                    .unwrap();
                let mut headers = HeaderMap::new();
                if fault == V2Fault::Duplicate {
                    headers.insert("x-log-index", "5".parse().unwrap());
                    return (
                        StatusCode::CONFLICT,
                        headers,
                        "{\"code\":6,\"message\":\"already exists\"}".to_owned(),
                    );
                }
                let version = if fault == V2Fault::WrongKind {
                    "0.0.1"
                } else {
                    "0.0.2"
                };
                // The protobuf-JSON a rekor-tiles server answers: int64 as
                // strings, bytes as base64, no SET and integratedTime "0".
                let answer = serde_json::json!({
                    "logIndex": "5",
                    "logId": {"keyId": B64.encode(V2_LOG_ID)},
                    "kindVersion": {"kind": "hashedrekord", "version": version},
                    "integratedTime": "0",
                    "inclusionPromise": null,
                    "inclusionProof": {
                        "logIndex": "5",
                        "rootHash": tree.root().to_base64(),
                        "treeSize": "6",
                        "hashes": hashes.iter().map(Hash::to_base64).collect::<Vec<_>>(),
                        "checkpoint": {"envelope": String::from_utf8(note).unwrap()},
                    },
                    "canonicalizedBody": B64.encode(&logged),
                });
                (StatusCode::CREATED, headers, answer.to_string())
            }
        }),
    );
    let url = serve(router).await;
    let client =
        RekorV2Client::new(http(), &url, vec![trusted(&url, &key, V2_LOG_ID.to_vec())]).unwrap();
    (client, url)
}

#[tokio::test]
async fn a_v2_entry_is_checked_against_its_c2sp_checkpoint() {
    let (client, _) = v2_log(V2Fault::None).await;
    let signer = PrivateKey::generate_p256().unwrap();
    let entry = client.create_entry(&v002_proposal(&signer)).await.unwrap();
    assert_eq!(entry.log_index, 5);
    assert_eq!(entry.integrated_time, 0);
    assert!(entry.inclusion_promise.is_none());
    assert_eq!(entry.inclusion_proof.unwrap().tree_size, 6);
    let LoggedEntry::HashedRekordV002(logged) =
        LoggedEntry::parse(&entry.canonicalized_body).unwrap()
    else {
        panic!("not hashedrekord 0.0.2")
    };
    assert!(logged.signature.len() > 60);
}

#[tokio::test]
async fn v2_answers_that_do_not_verify_are_refused() {
    for (fault, expected) in [
        (V2Fault::WrongOrigin, "checkpoint: "),
        (V2Fault::CorruptProofHash, "inclusion proof: "),
        (
            V2Fault::Duplicate,
            "HTTP 409, the entry is already logged (index 5)",
        ),
        (
            V2Fault::WrongKind,
            "malformed response: malformed transparency-log entry: kindVersion says hashedrekord/0.0.1",
        ),
    ] {
        let (client, _) = v2_log(fault).await;
        let signer = PrivateKey::generate_p256().unwrap();
        let e = client
            .create_entry(&v002_proposal(&signer))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("rekor v2 http://127.0.0.1:"),
            "{fault:?}: {e}"
        );
        assert!(e.contains(expected), "{fault:?}: {e}");
    }
}

#[tokio::test]
async fn a_v2_log_refuses_v1_proposals_before_sending() {
    let (client, _) = v2_log(V2Fault::None).await;
    let signer = PrivateKey::generate_p256().unwrap();
    let e = client
        .create_entry(&hashedrekord_v001(&signer))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("takes hashedrekord 0.0.2 entries only"), "{e}");
}

// ---- real public-good answers --------------------------------------------

fn vector(path: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    std::fs::read(root.join(path)).unwrap()
}

/// The proposal a client would have sent for a logged entry.
fn proposal_for(logged: &LoggedEntry) -> Proposal {
    match logged {
        LoggedEntry::HashedRekordV001(e) => Proposal::HashedRekordV001 {
            digest: Digest::from_raw(hex::decode(&e.digest_hex).unwrap().try_into().unwrap()),
            signature: e.signature.clone(),
            verifier_pem: e.verifier_pem.clone(),
        },
        LoggedEntry::HashedRekordV002(e) => Proposal::HashedRekordV002 {
            digest: Digest::from_raw(e.data.digest().try_into().unwrap()),
            signature: e.signature.clone(),
            verifier: e.verifier.clone(),
            key_details: e.key_details.clone(),
        },
        _ => panic!("not a hashedrekord"),
    }
}

#[tokio::test]
async fn a_real_public_good_v1_answer_verifies_against_the_shipped_root() {
    let bundle_entry = signet_core::bundle::TransparencyLogEntry::from_json(&vector(
        "rekor-public-good/hashedrekord-1004096275.json",
    ))
    .unwrap();
    let proof = bundle_entry.inclusion_proof.clone().unwrap();
    // The entry as Rekor v1's API served it.
    let answer =
        serde_json::json!({ hex::encode(leaf_hash(&bundle_entry.canonicalized_body).as_bytes()): {
            "body": B64.encode(&bundle_entry.canonicalized_body),
            "integratedTime": bundle_entry.integrated_time,
            "logID": hex::encode(&bundle_entry.log_id),
            "logIndex": bundle_entry.log_index,
            "verification": {
                "signedEntryTimestamp": B64.encode(bundle_entry.inclusion_promise.clone().unwrap()),
                "inclusionProof": {
                    "checkpoint": proof.checkpoint,
                    "hashes": proof.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": proof.log_index,
                    "rootHash": hex::encode(proof.root_hash),
                    "treeSize": proof.tree_size,
                },
            },
        }})
        .to_string();
    let router = Router::new().route(
        "/api/v1/log/entries",
        post(move || {
            let answer = answer.clone();
            async move { (StatusCode::CREATED, answer) }
        }),
    );
    let url = serve(router).await;
    let root = signet_trust::public_good::trusted_root().unwrap();
    let client = RekorV1Client::new(http(), &url, root.tlogs.clone()).unwrap();
    let logged = LoggedEntry::parse(&bundle_entry.canonicalized_body).unwrap();
    let entry = client.create_entry(&proposal_for(&logged)).await.unwrap();
    assert_eq!(entry, bundle_entry);

    // The same answer for another signature is refused.
    let signer = PrivateKey::generate_p256().unwrap();
    let e = client
        .create_entry(&hashedrekord_v001(&signer))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry body"), "{e}");
}

#[tokio::test]
async fn a_real_public_good_v2_answer_verifies_against_the_shipped_root() {
    let answer = vector("rekor-v2-public-good/hashedrekord-v002-412114.json");
    let expected = signet_core::bundle::TransparencyLogEntry::from_json(&answer).unwrap();
    let router = Router::new().route(
        "/api/v2/log/entries",
        post(move || {
            let answer = answer.clone();
            async move { (StatusCode::CREATED, answer) }
        }),
    );
    let url = serve(router).await;
    let root = signet_trust::public_good::trusted_root().unwrap();
    let client = RekorV2Client::new(http(), &url, root.tlogs.clone()).unwrap();
    let logged = LoggedEntry::parse(&expected.canonicalized_body).unwrap();
    let entry = client.create_entry(&proposal_for(&logged)).await.unwrap();
    assert_eq!(entry, expected);
}
