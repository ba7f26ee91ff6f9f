//! Golden vectors from real logs and from the specifications
//! (`tests/vectors/{rekor-public-good,rekor-v2-public-good,c2sp}`; the
//! README in each says where the files come from).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PublicKey;
use signet_tlog::checkpoint::{
    Checkpoint, CheckpointVerifier, RekorV1CheckpointVerifier, RekorV1Origin,
};
use signet_tlog::note::Note;
use signet_tlog::proof::verify_inclusion;
use signet_tlog::set::SetPayload;
use signet_tlog::tree::{CompactRange, HashSource, MemoryTree};
use signet_tlog::{Hash, TlogError, leaf_hash};

fn vector(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn entry(path: &str) -> serde_json::Value {
    serde_json::from_slice(&vector(path)).unwrap()
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

fn proof_hashes(v: &serde_json::Value) -> Vec<Hash> {
    v["inclusionProof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

fn rekor_key() -> PublicKey {
    PublicKey::from_pem(&vector("rekor-public-good/rekor.pub")).unwrap()
}

#[test]
fn public_good_rekor_v1_entry_verifies_offline() {
    let e = entry("rekor-public-good/hashedrekord-1004096275.json");
    let body = B64
        .decode(e["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let proof = proof_hashes(&e);
    let index = num(&e["inclusionProof"]["logIndex"]);
    let size = num(&e["inclusionProof"]["treeSize"]);
    let root = Hash::from_base64(e["inclusionProof"]["rootHash"].as_str().unwrap()).unwrap();

    // The inclusion proof leads from the body's leaf hash to the root.
    verify_inclusion(&leaf_hash(&body), index, size, &proof, &root).unwrap();

    // The checkpoint is signed by the log and commits to that root.
    let verifier = RekorV1CheckpointVerifier::new(rekor_key()).unwrap();
    let note = e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let signed = verifier.verify(note.as_bytes()).unwrap();
    assert_eq!(signed.checkpoint.size(), size);
    assert_eq!(signed.checkpoint.root_hash(), &root);
    let origin = RekorV1Origin::parse(signed.checkpoint.origin()).unwrap();
    assert_eq!(origin.hostname, "rekor.sigstore.dev");
    assert_eq!(origin.tree_id, 1193050959916656506);
    assert_eq!(origin.to_origin(), signed.checkpoint.origin());
    assert_eq!(
        signed.note.verified()[0].name().as_str(),
        "rekor.sigstore.dev"
    );

    // The SET covers body, integrated time, log ID and the global index.
    let log_id: [u8; 32] = B64
        .decode(e["logId"]["keyId"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let payload = SetPayload {
        body: body.clone(),
        integrated_time: num(&e["integratedTime"]) as i64,
        log_id,
        log_index: num(&e["logIndex"]) as i64,
    };
    let set = B64
        .decode(
            e["inclusionPromise"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    payload.verify(&set, &rekor_key()).unwrap();

    // Each defect fails with its own error.
    let mut bad = proof.clone();
    bad[3].0[0] ^= 1;
    assert!(matches!(
        verify_inclusion(&leaf_hash(&body), index, size, &bad, &root),
        Err(TlogError::InclusionProof { .. })
    ));
    let wrong_root = note.replace("egwBdrKc", "fgwBdrKc");
    assert!(matches!(
        verifier.verify(wrong_root.as_bytes()),
        Err(TlogError::InvalidSignature { .. })
    ));
    let later = SetPayload {
        integrated_time: payload.integrated_time + 1,
        ..payload
    };
    assert!(matches!(
        later.verify(&set, &rekor_key()),
        Err(TlogError::SignedEntryTimestamp { .. })
    ));
    let other_key = signet_core::keys::PrivateKey::generate_p256()
        .unwrap()
        .public_key();
    assert!(matches!(
        RekorV1CheckpointVerifier::new(other_key)
            .unwrap()
            .verify(note.as_bytes()),
        Err(TlogError::NoTrustedSignature { .. })
    ));
}

#[test]
fn public_good_rekor_v1_checkpoints_verify() {
    let verifier = RekorV1CheckpointVerifier::new(rekor_key()).unwrap();
    for (file, size) in [
        ("rekor-public-good/checkpoint-266676745.txt", 266676745),
        ("rekor-public-good/checkpoint-1506280580.txt", 1506280580),
    ] {
        let signed = verifier.verify(&vector(file)).unwrap();
        assert_eq!(signed.checkpoint.size(), size);
        assert!(signed.note.unverified().is_empty());
        // Round trip: text re-renders byte for byte.
        let note = Note::parse(&vector(file)).unwrap();
        assert_eq!(
            Checkpoint::from_text(note.text()).unwrap().to_text(),
            note.text()
        );
        assert_eq!(note.to_bytes(), vector(file));
    }
    // A cosignature by an unknown key is set aside, not an error.
    let mut with_witness = vector("rekor-public-good/checkpoint-266676745.txt");
    with_witness.extend_from_slice("— witness.example AAAAAAAA\n".as_bytes());
    let signed = verifier.verify(&with_witness).unwrap();
    assert_eq!(signed.note.unverified().len(), 1);
}

#[test]
fn public_good_rekor_v2_entry_and_checkpoint_verify() {
    let key = PublicKey::from_pem(&vector("rekor-v2-public-good/log2025-1.pub")).unwrap();
    let verifier =
        CheckpointVerifier::for_log_key("log2025-1.rekor.sigstore.dev", key.clone()).unwrap();
    let live = verifier
        .verify(&vector("rekor-v2-public-good/checkpoint-34356369.txt"))
        .unwrap();
    assert_eq!(live.checkpoint.size(), 34356369);
    // The C2SP key ID of this key is the prefix of its trusted-root log ID.
    assert_eq!(
        live.note.verified()[0].key_id().0.to_be_bytes(),
        [0xcf, 0x11, 0x99, 0x15]
    );

    let e = entry("rekor-v2-public-good/hashedrekord-v002-412114.json");
    let body = B64
        .decode(e["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let root = Hash::from_base64(e["inclusionProof"]["rootHash"].as_str().unwrap()).unwrap();
    let (index, size) = (
        num(&e["inclusionProof"]["logIndex"]),
        num(&e["inclusionProof"]["treeSize"]),
    );
    verify_inclusion(&leaf_hash(&body), index, size, &proof_hashes(&e), &root).unwrap();
    let note = e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let signed = verifier.verify(note.as_bytes()).unwrap();
    assert_eq!(
        (signed.checkpoint.size(), signed.checkpoint.root_hash()),
        (size, &root)
    );

    // Another origin is refused even with a valid signature.
    let other = CheckpointVerifier::for_log_key("log2025-2.rekor.sigstore.dev", key).unwrap();
    assert!(matches!(
        other.verify(note.as_bytes()),
        Err(TlogError::OriginMismatch { .. })
    ));
}

#[test]
fn c2sp_examples_parse() {
    let note = Note::parse(&vector("c2sp/signed-note-example.txt")).unwrap();
    assert!(note.text().ends_with("ed è subito sera.\n"));
    assert_eq!(
        note.signatures()[0].name().as_str(),
        "quasimodo.example/salvatore"
    );
    assert_eq!(note.to_bytes(), vector("c2sp/signed-note-example.txt"));

    let note = Note::parse(&vector("c2sp/checkpoint-example.txt")).unwrap();
    let cp = Checkpoint::from_text(note.text()).unwrap();
    assert_eq!(cp.origin(), "example.com/behind-the-sofa");
    assert_eq!(cp.size(), 20852163);
    assert_eq!(
        cp.root_hash().to_base64(),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    for bad in [
        "o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        "o\n1\n",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    ] {
        assert!(Checkpoint::from_text(bad).is_err(), "{bad:?}");
    }
}

/// transparency-dev/merkle compact/range_test.go TestGetRootHashGolden:
/// leaf i is the two bytes `i` little-endian.
#[test]
fn transparency_dev_golden_roots() {
    let golden = [
        (10u64, "VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4="),
        (15, "j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI="),
        (16, "c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE="),
        (100, "dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY="),
        (255, "SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0="),
        (256, "qFI0t/tZ1MdOYgyPpPzHFiZVw86koScXy9q3FU5casA="),
        (1000, "RXrgb8xHd55Y48FbfotJwCbV82Kx22LZfEbmBGAvwlQ="),
        (4095, "cWRFdQhPcjn9WyBXE/r1f04ejxIm5lvg40DEpRBVS0w="),
        (4096, "6uU/phfHg1n/GksYT6TO9aN8EauMCCJRl3dIK0HDs2M="),
        (10000, "VZcav65F9haHVRk3wre2axFoBXRNeUh/1d9d5FQfxIg="),
        (65535, "iPuVYJhP6SEE4gUFp8qbafd2rYv9YTCDYqAxCj8HdLM="),
    ];
    let mut tree = MemoryTree::new();
    let mut range = CompactRange::new();
    let mut next = 0u64;
    for (size, root) in golden {
        while next < size {
            let data = [(next & 0xff) as u8, ((next >> 8) & 0xff) as u8];
            tree.append(&data);
            range.append(leaf_hash(&data)).unwrap();
            next += 1;
        }
        assert_eq!(tree.root().to_base64(), root, "size {size}");
        assert_eq!(range.root().to_base64(), root, "size {size}");
        assert_eq!(
            signet_tlog::tree::root_hash(&tree, size)
                .unwrap()
                .to_base64(),
            root
        );
    }
    // Go sumdb/tlog TestTree style: every proof in a 100-entry tree verifies.
    let mut small = MemoryTree::new();
    for i in 0..100u32 {
        small.append(format!("leaf {i}").as_bytes());
        let size = u64::from(i) + 1;
        for j in 0..size {
            let proof = signet_tlog::proof::prove_inclusion(&small, j, size).unwrap();
            let leaf = small
                .node_hash(signet_tlog::tree::NodeId::new(0, j))
                .unwrap();
            verify_inclusion(&leaf, j, size, &proof, &small.root()).unwrap();
        }
    }
}
