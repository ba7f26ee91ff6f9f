//! The transparency log over HTTP on 127.0.0.1: the Rekor v1 API (entries
//! of every kind, their SETs, inclusion proofs and checkpoints checked
//! against the served trusted root; reads by UUID, entry ID, index and
//! search; tree head, public key, consistency proofs; duplicates), the
//! Rekor v2 API (protobuf-JSON entries, C2SP checkpoints, tiles and entry
//! bundles), refusals that leave the tree as it was, and `verify-log`.

mod support;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::bundle::TransparencyLogEntry;
use signet_core::keys::{PrivateKey, PublicKey};
use signet_server::datadir::DataDir;
use signet_server::rekor::verify::verify_logs;
use signet_tlog::checkpoint::{CheckpointVerifier, RekorV1CheckpointVerifier};
use signet_tlog::proof::{verify_consistency, verify_inclusion};
use signet_tlog::set::SetPayload;
use signet_tlog::tile::{decode_entry_bundle, decode_hash_tile};
use signet_tlog::{Hash, leaf_hash};
use support::{Reply, TestServer};

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// One server shared by the tests that only add entries.
fn shared() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        TestServer::start(Vec::new(), |c| c.rate_limit.requests_per_second = 0.0, None)
    })
}

/// The v1 and v2 log keys from the served trusted root.
fn log_keys(server: &TestServer) -> (PublicKey, PublicKey) {
    let root = server.trusted_root();
    let key = |i: usize| PublicKey::from_spki_der(root.tlogs[i].public_key.raw_bytes()).unwrap();
    (key(0), key(1))
}

/// A hashedrekord 0.0.1 proposal as cosign makes it: a signature over the
/// artifact, the key as base64 PEM, the digest in hex.
fn hashedrekord_v1(key: &PrivateKey, artifact: &[u8]) -> Vec<u8> {
    serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
        "signature": {"content": b64(&key.sign(artifact).unwrap()),
                      "publicKey": {"content": b64(key.public_key().to_pem().as_bytes())}},
        "data": {"hash": {"algorithm": "sha256", "value": Digest::sha256_of(artifact).hex()}}}})
    .to_string()
    .into_bytes()
}

fn hashedrekord_v2(key: &PrivateKey, artifact: &[u8]) -> Vec<u8> {
    serde_json::json!({"hashedRekordRequestV002": {
        "digest": b64(&Digest::sha256_of(artifact).raw()),
        "signature": {"content": b64(&key.sign(artifact).unwrap()),
            "verifier": {"publicKey": {"rawBytes": b64(&key.public_key().to_spki_der())},
                         "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}})
    .to_string()
    .into_bytes()
}

const IN_TOTO: &str = "application/vnd.in-toto+json";

fn statement(name: &str) -> Vec<u8> {
    serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": Digest::sha256_of(name.as_bytes()).hex()}}],
        "predicateType": "https://example.test/predicate", "predicate": {}})
    .to_string()
    .into_bytes()
}

fn envelope(key: &PrivateKey, payload: &[u8]) -> String {
    let sig = key.sign(&signet_core::dsse::pae(IN_TOTO, payload)).unwrap();
    serde_json::json!({"payload": b64(payload), "payloadType": IN_TOTO,
        "signatures": [{"keyid": "", "sig": b64(&sig)}]})
    .to_string()
}

fn dsse_v1(key: &PrivateKey, envelope: &str) -> Vec<u8> {
    serde_json::json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent": {
        "envelope": envelope, "verifiers": [b64(key.public_key().to_pem().as_bytes())]}}})
    .to_string()
    .into_bytes()
}

fn intoto_v001(key: &PrivateKey, envelope: &str) -> Vec<u8> {
    serde_json::json!({"kind": "intoto", "apiVersion": "0.0.1", "spec": {
        "content": {"envelope": envelope}, "publicKey": b64(key.public_key().to_pem().as_bytes())}})
    .to_string()
    .into_bytes()
}

fn intoto_v002(key: &PrivateKey, envelope: &str) -> Vec<u8> {
    let env: serde_json::Value = serde_json::from_str(envelope).unwrap();
    let payload = env["payload"].as_str().unwrap();
    let sig = env["signatures"][0]["sig"].as_str().unwrap();
    serde_json::json!({"kind": "intoto", "apiVersion": "0.0.2", "spec": {"content": {
        "envelope": {"payloadType": IN_TOTO, "payload": b64(payload.as_bytes()),
            "signatures": [{"sig": b64(sig.as_bytes()),
                            "publicKey": b64(key.public_key().to_pem().as_bytes())}]},
        "hash": {"algorithm": "sha256", "value": Digest::sha256_of(envelope.as_bytes()).hex()}}}})
    .to_string()
    .into_bytes()
}

fn post_v1(server: &TestServer, body: Vec<u8>) -> Reply {
    server.post("/api/v1/log/entries", "application/json", body, None)
}

fn post_v2(server: &TestServer, body: Vec<u8>) -> Reply {
    server.post("/api/v2/log/entries", "application/json", body, None)
}

/// Checks a Rekor v1 answer as a client does: one entry, its SET over the
/// canonical payload with the log key, its inclusion proof to the root of a
/// checkpoint signed by the log key with Rekor v1's origin.
fn check_v1(server: &TestServer, body: &[u8]) -> (String, TransparencyLogEntry) {
    let (v1_key, _) = log_keys(server);
    let (id, entry) = TransparencyLogEntry::from_rekor_v1_response(body).unwrap();
    assert_eq!(id.len(), 80, "entry IDs carry the tree ID");
    let leaf = leaf_hash(&entry.canonicalized_body);
    assert_eq!(&id[16..], leaf.to_hex(), "the UUID is the leaf hash");
    let log_id: [u8; 32] = entry.log_id.as_slice().try_into().unwrap();
    assert_eq!(
        log_id.to_vec(),
        <sha2::Sha256 as sha2::Digest>::digest(v1_key.to_spki_der()).to_vec()
    );
    SetPayload {
        body: entry.canonicalized_body.clone(),
        integrated_time: entry.integrated_time,
        log_id,
        log_index: entry.log_index as i64,
    }
    .verify(entry.inclusion_promise.as_ref().unwrap(), &v1_key)
    .unwrap();
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let hashes: Vec<Hash> = proof.hashes.iter().map(|h| Hash(*h)).collect();
    verify_inclusion(
        &leaf,
        proof.log_index,
        proof.tree_size,
        &hashes,
        &Hash(proof.root_hash),
    )
    .unwrap();
    let signed = RekorV1CheckpointVerifier::new(v1_key)
        .unwrap()
        .verify(proof.checkpoint.as_bytes())
        .unwrap();
    assert_eq!(signed.checkpoint.size(), proof.tree_size);
    assert_eq!(signed.checkpoint.root_hash(), &Hash(proof.root_hash));
    let origin = signed.checkpoint.origin().to_owned();
    let tree_id = u64::from_str_radix(&id[..16], 16).unwrap();
    assert_eq!(origin, format!("127.0.0.1 - {tree_id}"));
    (id, entry)
}

/// Checks a Rekor v2 answer: protobuf-JSON, no SET, an inclusion proof to a
/// C2SP checkpoint signed by the Ed25519 key under the host name.
fn check_v2(server: &TestServer, body: &[u8]) -> TransparencyLogEntry {
    let (_, v2_key) = log_keys(server);
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert!(json["logIndex"].is_string(), "int64 as a string: {json}");
    assert_eq!(json["integratedTime"], "0");
    assert!(json.get("inclusionPromise").is_none());
    assert_eq!(json["kindVersion"]["version"], "0.0.2");
    let entry = TransparencyLogEntry::from_json(body).unwrap();
    assert_eq!(
        entry.log_id,
        server.trusted_root().tlogs[1].log_id,
        "the log ID is the trusted root's"
    );
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let hashes: Vec<Hash> = proof.hashes.iter().map(|h| Hash(*h)).collect();
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        entry.log_index,
        proof.tree_size,
        &hashes,
        &Hash(proof.root_hash),
    )
    .unwrap();
    let signed = CheckpointVerifier::for_log_key("127.0.0.1", v2_key)
        .unwrap()
        .verify(proof.checkpoint.as_bytes())
        .unwrap();
    assert_eq!(signed.checkpoint.size(), proof.tree_size);
    assert_eq!(signed.checkpoint.root_hash(), &Hash(proof.root_hash));
    entry
}

fn tree_size(server: &TestServer) -> u64 {
    let (status, body) = server.get("/api/v1/log");
    assert_eq!(status, 200);
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["treeSize"]
        .as_u64()
        .unwrap()
}

#[test]
fn v1_entries_of_every_kind_are_logged_with_sets_and_proofs() {
    let server = shared();
    let key = PrivateKey::generate_p256().unwrap();
    let env = envelope(&key, &statement("v1-kinds"));
    for (kind, body) in [
        ("hashedrekord", hashedrekord_v1(&key, b"v1 artifact")),
        ("dsse", dsse_v1(&key, &env)),
        ("intoto", intoto_v001(&key, &env)),
        ("intoto", intoto_v002(&key, &env)),
    ] {
        let reply = post_v1(server, body).expect(201);
        assert_eq!(reply.content_type, "application/json");
        let (id, entry) = check_v1(server, &reply.body);
        assert_eq!(entry.kind_version.kind, kind);
        assert_eq!(reply.header("etag").as_deref(), Some(id.as_str()));
        assert_eq!(
            reply.header("location").unwrap(),
            format!("http://127.0.0.1:1/api/v1/log/entries/{id}")
        );
        // The same entry, read back by entry ID, UUID and index, against
        // the tree as it is now.
        for path in [
            format!("/api/v1/log/entries/{id}"),
            format!("/api/v1/log/entries/{}", &id[16..]),
            format!("/api/v1/log/entries?logIndex={}", entry.log_index),
        ] {
            let got = server.fetch(&path).expect(200);
            let (got_id, got_entry) = check_v1(server, &got.body);
            assert_eq!(got_id, id, "{path}");
            assert_eq!(got_entry.canonicalized_body, entry.canonicalized_body);
            assert_eq!(got_entry.integrated_time, entry.integrated_time);
        }
    }
}

#[test]
fn no_client_entry_has_index_0() {
    let server = shared();
    let key = PrivateKey::generate_p256().unwrap();
    let reply = post_v1(server, hashedrekord_v1(&key, b"not first")).expect(201);
    assert!(check_v1(server, &reply.body).1.log_index > 0);
    let reply = post_v2(server, hashedrekord_v2(&key, b"not first")).expect(201);
    assert!(check_v2(server, &reply.body).log_index > 0);
    // Index 0 is the log's own entry, signed with its key.
    let first = server.fetch("/api/v1/log/entries?logIndex=0").expect(200);
    let (_, entry) = check_v1(server, &first.body);
    let body: serde_json::Value = serde_json::from_slice(&entry.canonicalized_body).unwrap();
    let (v1_key, _) = log_keys(server);
    let pem = B64
        .decode(
            body["spec"]["signature"]["publicKey"]["content"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(PublicKey::from_pem(&pem).unwrap(), v1_key);
}

#[test]
fn v1_duplicates_answer_409_with_the_existing_entry() {
    let server = shared();
    let key = PrivateKey::generate_p256().unwrap();
    let body = hashedrekord_v1(&key, b"logged twice");
    let first = post_v1(server, body.clone()).expect(201);
    let (id, entry) = check_v1(server, &first.body);
    let again = post_v1(server, body).expect(409);
    let (again_id, again_entry) = check_v1(server, &again.body);
    assert_eq!(again_id, id);
    assert_eq!(again_entry.log_index, entry.log_index);
    assert_eq!(again_entry.integrated_time, entry.integrated_time);
    assert!(again.header("location").unwrap().ends_with(&id));
}

#[test]
fn v1_reads_search_tree_head_key_and_consistency() {
    let server = shared();
    let key = PrivateKey::generate_p256().unwrap();
    let mut ids = Vec::new();
    let mut first_head: Option<(u64, Hash)> = None;
    for i in 0..3 {
        let reply = post_v1(
            server,
            hashedrekord_v1(&key, format!("search {i}").as_bytes()),
        );
        let (id, entry) = check_v1(server, &reply.expect(201).body);
        if first_head.is_none() {
            let p = entry.inclusion_proof.unwrap();
            first_head = Some((p.tree_size, Hash(p.root_hash)));
        }
        ids.push((id, entry.log_index));
    }
    // retrieve: by UUID, by entry ID, by index, by proposed entry; unknown
    // ones are left out.
    let query = serde_json::json!({
        "entryUUIDs": [&ids[0].0[16..], ids[1].0, "00".repeat(32)],
        "logIndexes": [ids[2].1, 1_000_000_000],
        "entries": [serde_json::from_slice::<serde_json::Value>(
            &hashedrekord_v1(&key, b"search 0")).unwrap()],
    });
    let found = server
        .post(
            "/api/v1/log/entries/retrieve",
            "application/json",
            query.to_string().into_bytes(),
            None,
        )
        .expect(200)
        .json();
    let found: Vec<String> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_object().unwrap().keys().next().unwrap().clone())
        .collect();
    // In Rekor's order: UUIDs, proposed entries (signed again, with the
    // same RFC 6979 signature, so the same entry), indexes.
    assert_eq!(
        found,
        vec![
            ids[0].0.clone(),
            ids[1].0.clone(),
            ids[0].0.clone(),
            ids[2].0.clone()
        ]
    );
    let too_many = serde_json::json!({"logIndexes": (0..11).collect::<Vec<_>>()});
    server
        .post(
            "/api/v1/log/entries/retrieve",
            "application/json",
            too_many.to_string().into_bytes(),
            None,
        )
        .expect(422);

    // The tree head is the latest signed checkpoint.
    let info = server.fetch("/api/v1/log").expect(200).json();
    let (v1_key, _) = log_keys(server);
    let signed = RekorV1CheckpointVerifier::new(v1_key.clone())
        .unwrap()
        .verify(info["signedTreeHead"].as_str().unwrap().as_bytes())
        .unwrap();
    let size = info["treeSize"].as_u64().unwrap();
    assert_eq!(signed.checkpoint.size(), size);
    assert_eq!(signed.checkpoint.root_hash().to_hex(), info["rootHash"]);
    let tree_id = info["treeID"].as_str().unwrap();
    assert!(
        ids[0]
            .0
            .starts_with(&format!("{:016x}", tree_id.parse::<u64>().unwrap()))
    );
    let pem = server.fetch("/api/v1/log/publicKey").expect(200);
    assert_eq!(PublicKey::from_pem(&pem.body).unwrap(), v1_key);
    server
        .fetch(&format!("/api/v1/log/publicKey?treeID={tree_id}"))
        .expect(200);
    server.fetch("/api/v1/log/publicKey?treeID=12").expect(404);

    // A consistency proof from the first entry's tree to the latest one.
    let (old_size, old_root) = first_head.unwrap();
    let proof = server
        .fetch(&format!(
            "/api/v1/log/proof?firstSize={old_size}&lastSize={size}"
        ))
        .expect(200)
        .json();
    assert_eq!(proof["rootHash"], info["rootHash"]);
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    verify_consistency(
        old_size,
        size,
        &old_root,
        &Hash::from_hex(info["rootHash"].as_str().unwrap()).unwrap(),
        &hashes,
    )
    .unwrap();
    for bad in [
        "/api/v1/log/proof?firstSize=2&lastSize=1".to_owned(),
        format!(
            "/api/v1/log/proof?firstSize=1&lastSize={}",
            size + 1_000_000
        ),
        "/api/v1/log/proof?firstSize=1".to_owned(),
        "/api/v1/log/proof?firstSize=x&lastSize=1".to_owned(),
    ] {
        server.fetch(&bad).expect(400);
    }
    server
        .fetch("/api/v1/log/entries?logIndex=999999999")
        .expect(404);
    server
        .fetch(&format!("/api/v1/log/entries/{}", "ab".repeat(32)))
        .expect(404);
    server.fetch("/api/v1/log/entries/not-hex").expect(400);
    // An entry ID of another tree names nothing here.
    server
        .fetch(&format!(
            "/api/v1/log/entries/0000000000000001{}",
            &ids[0].0[16..]
        ))
        .expect(404);
}

#[test]
fn v2_entries_are_protojson_with_c2sp_checkpoints_and_tiles() {
    let server = shared();
    let key = PrivateKey::generate_p256().unwrap();
    let body = hashedrekord_v2(&key, b"v2 artifact");
    let reply = post_v2(server, body.clone()).expect(201);
    let entry = check_v2(server, &reply.body);
    assert_eq!(entry.kind_version.kind, "hashedrekord");
    // A duplicate answers 409 with the existing entry and its index.
    let again = post_v2(server, body).expect(409);
    assert_eq!(
        again.header("x-log-index"),
        Some(entry.log_index.to_string())
    );
    assert_eq!(check_v2(server, &again.body).log_index, entry.log_index);

    // The tiles hold the same tree: the checkpoint, the level-0 tile and the
    // entry bundle at the checkpoint's size.
    let cp = server.fetch("/checkpoint").expect(200);
    assert_eq!(cp.header("cache-control").as_deref(), Some("no-cache"));
    let (_, v2_key) = log_keys(server);
    let signed = CheckpointVerifier::for_log_key("127.0.0.1", v2_key)
        .unwrap()
        .verify(&cp.body)
        .unwrap();
    let size = signed.checkpoint.size();
    assert!(size > entry.log_index);
    assert_eq!(
        server.fetch("/api/v2/checkpoint").expect(200).body.len(),
        cp.body.len()
    );
    let width = size.min(256);
    let suffix = if width == 256 {
        String::new()
    } else {
        format!(".p/{width}")
    };
    let tile = server.fetch(&format!("/tile/0/000{suffix}")).expect(200);
    let hashes = decode_hash_tile(&tile.body, width).unwrap();
    assert_eq!(
        hashes[entry.log_index as usize],
        leaf_hash(&entry.canonicalized_body)
    );
    let bundle = server
        .fetch(&format!("/api/v2/tile/entries/000{suffix}"))
        .expect(200);
    let entries = decode_entry_bundle(&bundle.body, width).unwrap();
    assert_eq!(entries[entry.log_index as usize], entry.canonicalized_body);
    if width < 256 {
        assert_eq!(tile.header("cache-control").as_deref(), Some("no-cache"));
        server.fetch("/tile/0/000").expect(404);
    }
    server.fetch("/tile/0/x").expect(400);
    server.fetch("/tile/0/000.p/0").expect(400);
}

#[test]
fn full_tiles_are_immutable() {
    let server = TestServer::start(Vec::new(), |c| c.rate_limit.requests_per_second = 0.0, None);
    let key = PrivateKey::generate_p256().unwrap();
    // 256 entries fill the first tile; send them concurrently.
    server.block_on(async {
        let http = reqwest::Client::new();
        let mut tasks = Vec::new();
        for i in 0..256 {
            let body = hashedrekord_v2(&key, format!("tile entry {i}").as_bytes());
            let url = format!("{}/api/v2/log/entries", server.url);
            let http = http.clone();
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 201);
        }
    });
    let tile = server.fetch("/tile/0/000").expect(200);
    assert_eq!(tile.body.len(), 256 * 32);
    assert_eq!(
        tile.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let bundle = server.fetch("/tile/entries/000").expect(200);
    assert_eq!(decode_entry_bundle(&bundle.body, 256).unwrap().len(), 256);
    // The level-1 tile holds the first tile's root.
    let level1 = server.fetch("/tile/1/000.p/1").expect(200);
    assert_eq!(level1.body.len(), 32);
}

/// Posts `body` to `path` and checks that it is refused with 400 and a
/// message containing `reason`, and that neither log grew.
fn refused(server: &TestServer, path: &str, body: Vec<u8>, reason: &str) {
    let before = (tree_size(server), v2_size(server));
    let reply = server.post(path, "application/json", body, None);
    assert_eq!(
        reply.status,
        400,
        "{path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let message = reply.message();
    assert!(
        message.contains(reason),
        "{path}: {message:?} lacks {reason:?}"
    );
    assert_eq!((tree_size(server), v2_size(server)), before, "{reason}");
}

fn v2_size(server: &TestServer) -> u64 {
    let cp = server.fetch("/checkpoint").expect(200);
    String::from_utf8(cp.body)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn unverifiable_malformed_and_oversized_entries_are_refused_and_nothing_is_logged() {
    let server = TestServer::start(Vec::new(), |c| c.rate_limit.requests_per_second = 0.0, None);
    let key = PrivateKey::generate_p256().unwrap();
    let other = PrivateKey::generate_p256().unwrap();
    // One good entry first, so the sizes are not trivially zero.
    post_v1(&server, hashedrekord_v1(&key, b"good")).expect(201);
    post_v2(&server, hashedrekord_v2(&key, b"good")).expect(201);

    // hashedrekord: a signature by another key, over another artifact.
    let mut wrong_key: serde_json::Value =
        serde_json::from_slice(&hashedrekord_v1(&other, b"artifact")).unwrap();
    wrong_key["spec"]["signature"]["publicKey"]["content"] =
        b64(key.public_key().to_pem().as_bytes()).into();
    refused(
        &server,
        "/api/v1/log/entries",
        wrong_key.to_string().into_bytes(),
        "signature does not verify",
    );
    let mut wrong_digest: serde_json::Value =
        serde_json::from_slice(&hashedrekord_v1(&key, b"artifact")).unwrap();
    wrong_digest["spec"]["data"]["hash"]["value"] = Digest::sha256_of(b"other").hex().into();
    refused(
        &server,
        "/api/v1/log/entries",
        wrong_digest.to_string().into_bytes(),
        "signature does not verify",
    );
    // dsse and intoto envelopes whose signature is not the key's.
    let env = envelope(&other, &statement("refused"));
    refused(
        &server,
        "/api/v1/log/entries",
        dsse_v1(&key, &env),
        "all signatures must have a key",
    );
    refused(
        &server,
        "/api/v1/log/entries",
        intoto_v001(&key, &env),
        "no signature verifies",
    );
    refused(
        &server,
        "/api/v1/log/entries",
        intoto_v002(&key, &env),
        "all signatures must have a key",
    );
    // Malformed: not JSON, an unknown kind, a missing signature, a v2 entry on v1.
    refused(
        &server,
        "/api/v1/log/entries",
        b"{".to_vec(),
        "invalid entry",
    );
    refused(
        &server,
        "/api/v1/log/entries",
        br#"{"kind":"rpm","apiVersion":"0.0.1","spec":{}}"#.to_vec(),
        "unsupported entry kind rpm/0.0.1",
    );
    refused(
        &server,
        "/api/v1/log/entries",
        br#"{"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"data":{}}}"#.to_vec(),
        "missing signature",
    );
    // Oversized: a canonical body beyond what a log entry may hold (intoto
    // 0.0.2 logs each signature's key ID as given).
    let mut long_keyid: serde_json::Value =
        serde_json::from_slice(&intoto_v002(&key, &envelope(&key, &statement("long")))).unwrap();
    long_keyid["spec"]["content"]["envelope"]["signatures"][0]["keyid"] = "k".repeat(70_000).into();
    refused(
        &server,
        "/api/v1/log/entries",
        long_keyid.to_string().into_bytes(),
        "larger than the limit of 65535 bytes",
    );

    // v2: unknown fields, a digest of the wrong length, a bad signature, DSSE.
    let mut unknown: serde_json::Value =
        serde_json::from_slice(&hashedrekord_v2(&key, b"artifact")).unwrap();
    unknown["hashedRekordRequestV002"]["extra"] = 1.into();
    refused(
        &server,
        "/api/v2/log/entries",
        unknown.to_string().into_bytes(),
        "unknown field",
    );
    let mut short: serde_json::Value =
        serde_json::from_slice(&hashedrekord_v2(&key, b"artifact")).unwrap();
    short["hashedRekordRequestV002"]["digest"] = b64(&[0u8; 20]).into();
    refused(
        &server,
        "/api/v2/log/entries",
        short.to_string().into_bytes(),
        "digest length (20) does not match expected size (32)",
    );
    let mut forged: serde_json::Value =
        serde_json::from_slice(&hashedrekord_v2(&key, b"artifact")).unwrap();
    forged["hashedRekordRequestV002"]["digest"] = b64(&Digest::sha256_of(b"other").raw()).into();
    refused(
        &server,
        "/api/v2/log/entries",
        forged.to_string().into_bytes(),
        "signature does not verify",
    );
    refused(
        &server,
        "/api/v2/log/entries",
        br#"{"dsseRequestV002":{}}"#.to_vec(),
        "invalid type, must be hashedrekord",
    );
    refused(
        &server,
        "/api/v2/log/entries",
        vec![b'x'; 200 << 10],
        "larger than",
    );

    let metrics = server.get("/metrics").1;
    // Two hashedrekord and two intoto signatures; a dsse proposal's
    // signatures are checked while it is read, so it counts as malformed.
    assert!(
        metrics.contains("signet_tlog_entries_refused_total{api=\"v1\",reason=\"signature\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "signet_tlog_entries_total{api=\"v1\",kind=\"hashedrekord\",result=\"created\"} 1"
        ),
        "{metrics}"
    );
    // The log's own first entry and the good one.
    assert!(
        metrics.contains("signet_tlog_tree_size{api=\"v2\"} 2"),
        "{metrics}"
    );
}

#[test]
fn verify_log_recomputes_both_trees_after_a_restart() {
    let mut server =
        TestServer::start(Vec::new(), |c| c.rate_limit.requests_per_second = 0.0, None);
    let key = PrivateKey::generate_p256().unwrap();
    for i in 0..20 {
        post_v1(
            &server,
            hashedrekord_v1(&key, format!("verify {i}").as_bytes()),
        )
        .expect(201);
        post_v2(
            &server,
            hashedrekord_v2(&key, format!("verify {i}").as_bytes()),
        )
        .expect(201);
    }
    // The embedded store is held by the running server.
    let dir = DataDir::new(server.root());
    let busy = server.block_on(verify_logs(&dir, None)).unwrap_err();
    assert!(busy.to_string().contains("another signet server"), "{busy}");
    let stopped = server.begin_shutdown();
    server.block_on(stopped).unwrap();
    let checks = server.block_on(verify_logs(&dir, None)).unwrap();
    assert_eq!(checks.len(), 2);
    for check in checks {
        let report = check.result.unwrap();
        assert_eq!(report.entries, 21, "{}: 20 and the first", check.name);
        assert!(report.checkpoints >= 2, "{}: {report:?}", check.name);
    }
}
