use proptest::prelude::*;

use super::*;

const COSIGN_PUB: &str = include_str!("../../../../tests/vectors/cosign-2.5/cosign.pub");

fn b64(bytes: &[u8]) -> String {
    crate::protojson::encode_bytes(bytes)
}

#[test]
fn hashedrekord_v001_proposal_canonicalizes_the_key() {
    // A key PEM with CRLF line endings and no final newline is re-encoded.
    let sloppy = COSIGN_PUB.trim().replace('\n', "\r\n");
    let proposal = serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
        "signature": {"content": b64(b"sig"), "publicKey": {"content": b64(sloppy.as_bytes())}},
        "data": {"hash": {"algorithm": "sha256", "value": "ab".repeat(32)}}}});
    let entry = ProposedEntry::parse_v1(proposal.to_string().as_bytes()).unwrap();
    let body = String::from_utf8(entry.canonical_body().unwrap()).unwrap();
    assert_eq!(
        body,
        format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"c2ln","publicKey":{{"content":"{}"}}}}}}}}"#,
            "ab".repeat(32),
            b64(COSIGN_PUB.as_bytes())
        )
    );
    let logged = LoggedEntry::parse(body.as_bytes()).unwrap();
    assert_eq!(logged.canonical_body().unwrap(), body.as_bytes());
}

#[test]
fn hashedrekord_v001_rejects_bad_proposals() {
    let good = serde_json::json!({"signature": {"content": b64(b"sig"), "publicKey": {"content": b64(COSIGN_PUB.as_bytes())}},
        "data": {"hash": {"algorithm": "sha256", "value": "ab".repeat(32)}}});
    assert!(HashedRekordV001::from_spec(good.clone()).is_ok());
    let mut cases = Vec::new();
    for (pointer, value) in [
        ("/data/hash/value", serde_json::json!("ab")),
        ("/data/hash/value", serde_json::json!("zz".repeat(32))),
        ("/data/hash/algorithm", serde_json::json!("md5")),
        ("/signature/content", serde_json::json!("")),
        (
            "/signature/publicKey/content",
            serde_json::json!(b64(b"not pem")),
        ),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        cases.push(v);
    }
    for bad in cases {
        let err = HashedRekordV001::from_spec(bad.clone())
            .and_then(|e| e.canonical_value())
            .unwrap_err();
        assert!(
            err.to_string().contains("hashedrekord") || err.to_string().contains("PEM"),
            "{err}"
        );
    }
}

#[test]
fn hashedrekord_v002_request_becomes_the_logged_entry() {
    let spki = crate::keys::PublicKey::from_pem(COSIGN_PUB.as_bytes())
        .unwrap()
        .to_spki_der();
    let request = serde_json::json!({"hashedRekordRequestV002": {"digest": b64(&[7; 32]),
        "signature": {"content": b64(b"sig"), "verifier": {"publicKey": {"rawBytes": b64(&spki)},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
    let entry = ProposedEntry::parse_v2(request.to_string().as_bytes()).unwrap();
    let body = String::from_utf8(entry.canonical_body().unwrap()).unwrap();
    assert_eq!(
        body,
        format!(
            r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":{{"content":"c2ln","verifier":{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}}}}}}}}}"#,
            b64(&[7; 32]),
            b64(&spki)
        )
    );
    assert_eq!(LoggedEntry::parse(body.as_bytes()).unwrap(), *entry.entry());
    // Wrong digest size, pure Ed25519, unknown fields, DSSE requests.
    for bad in [
        request.to_string().replace(&b64(&[7; 32]), &b64(&[7; 48])),
        request
            .to_string()
            .replace("PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519"),
        request
            .to_string()
            .replace("\"digest\"", "\"extra\":1,\"digest\""),
        r#"{"dsseRequestV002":{}}"#.to_owned(),
        r#"{}"#.to_owned(),
    ] {
        assert!(ProposedEntry::parse_v2(bad.as_bytes()).is_err(), "{bad}");
    }
    assert!(
        ProposedEntry::parse_v1(br#"{"kind":"hashedrekord","apiVersion":"0.0.2","spec":{}}"#)
            .is_err()
    );
}

#[test]
fn dsse_proposal_is_verified_hashed_and_sorted() {
    use crate::keys::PrivateKey;
    let key_a = PrivateKey::generate_p256().unwrap();
    let key_b = PrivateKey::generate_p256().unwrap();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let signed = crate::dsse::pae(crate::dsse::IN_TOTO_PAYLOAD_TYPE, payload);
    let env = crate::dsse::Envelope {
        payload: payload.to_vec(),
        payload_type: crate::dsse::IN_TOTO_PAYLOAD_TYPE.into(),
        signatures: vec![
            crate::dsse::Signature {
                sig: key_a.sign(&signed).unwrap(),
                keyid: String::new(),
            },
            crate::dsse::Signature {
                sig: key_b.sign(&signed).unwrap(),
                keyid: "b".into(),
            },
        ],
    };
    let envelope = env.to_json();
    let verifiers = [key_b.public_key().to_pem(), key_a.public_key().to_pem()];
    let proposal = serde_json::json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent": {
        "envelope": envelope, "verifiers": verifiers.iter().map(|p| b64(p.as_bytes())).collect::<Vec<_>>()}}});
    let entry = ProposedEntry::parse_v1(proposal.to_string().as_bytes()).unwrap();
    let LoggedEntry::DsseV001(logged) = entry.entry() else {
        panic!()
    };
    assert_eq!(
        logged.payload_hash.digest(),
        crate::Digest::sha256_of(payload).raw()
    );
    assert_eq!(
        logged.envelope_hash.digest(),
        crate::Digest::sha256_of(envelope.as_bytes()).raw()
    );
    assert!(logged.signatures[0].signature < logged.signatures[1].signature);
    let body = entry.canonical_body().unwrap();
    assert_eq!(
        LoggedEntry::parse(&body).unwrap().canonical_body().unwrap(),
        body
    );
    // A signature no verifier accepts is refused.
    let only_a = serde_json::json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent": {
        "envelope": envelope, "verifiers": [b64(verifiers[1].as_bytes())]}}});
    let err = ProposedEntry::parse_v1(only_a.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("all signatures must have a key"),
        "{err}"
    );
}

#[test]
fn intoto_proposals_hash_what_the_client_sent() {
    let envelope = r#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AQ=="}]}"#;
    let v1 = serde_json::json!({"kind": "intoto", "apiVersion": "0.0.1", "spec": {
        "content": {"envelope": envelope}, "publicKey": b64(COSIGN_PUB.as_bytes())}});
    let entry = ProposedEntry::parse_v1(v1.to_string().as_bytes()).unwrap();
    let LoggedEntry::IntotoV001(e) = entry.entry() else {
        panic!()
    };
    assert_eq!(
        e.envelope_hash.digest(),
        crate::Digest::sha256_of(envelope.as_bytes()).raw()
    );
    assert_eq!(
        e.payload_hash.as_ref().unwrap().digest(),
        crate::Digest::sha256_of(b"{}").raw()
    );
    let body = entry.canonical_body().unwrap();
    assert_eq!(LoggedEntry::parse(&body).unwrap(), *entry.entry());

    let v2 = serde_json::json!({"kind": "intoto", "apiVersion": "0.0.2", "spec": {"content": {
        "envelope": {"payloadType": "application/vnd.in-toto+json", "payload": b64(b"e30="),
            "signatures": [{"sig": b64(b"AQ=="), "publicKey": b64(COSIGN_PUB.as_bytes())}]},
        "hash": {"algorithm": "sha256", "value": "00".repeat(32)}}}});
    let entry = ProposedEntry::parse_v1(v2.to_string().as_bytes()).unwrap();
    let body = String::from_utf8(entry.canonical_body().unwrap()).unwrap();
    assert!(
        !body.contains(&b64(b"e30=")),
        "the payload is not logged: {body}"
    );
    let logged = LoggedEntry::parse(body.as_bytes()).unwrap();
    assert_eq!(logged, *entry.entry());
    let claims = logged.claims().unwrap();
    assert_eq!(claims.signatures[0].signature, [1]);
}

#[test]
fn proposal_signatures_are_checked_like_rekor() {
    use crate::keys::PrivateKey;
    let key = PrivateKey::generate_p256().unwrap();
    let artifact = b"artifact";
    let digest = crate::Digest::sha256_of(artifact);
    let sig = key.sign(artifact).unwrap();
    let pem = key.public_key().to_pem();
    let v1 = |sig: &[u8]| {
        serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {
            "signature": {"content": b64(sig), "publicKey": {"content": b64(pem.as_bytes())}},
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}}}})
        .to_string()
    };
    ProposedEntry::parse_v1(v1(&sig).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap();
    let mut bad = sig.clone();
    let last = bad.len() - 3;
    bad[last] ^= 1;
    let err = ProposedEntry::parse_v1(v1(&bad).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap_err();
    assert!(err.to_string().contains("verifying signature"), "{err}");
    let v2 = |sig: &[u8]| {
        serde_json::json!({"hashedRekordRequestV002": {"digest": b64(&digest.raw()),
            "signature": {"content": b64(sig), "verifier": {"publicKey": {"rawBytes": b64(&key.public_key().to_spki_der())},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}})
        .to_string()
    };
    ProposedEntry::parse_v2(v2(&sig).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap();
    assert!(
        ProposedEntry::parse_v2(v2(&bad).as_bytes())
            .unwrap()
            .verify_signatures()
            .is_err()
    );
}

/// A public-good intoto 0.0.1 entry as Rekor v1 served it (log index
/// 16028007): its body is reproduced, its payload hash is that of the logged
/// attestation, and the response converts into a bundle entry.
#[test]
fn public_good_intoto_v001_entry() {
    let response = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/public-good/rekor/intoto-0.0.1-entry.json"),
    )
    .unwrap();
    let (id, entry) =
        crate::bundle::TransparencyLogEntry::from_rekor_v1_response(&response).unwrap();
    // The entry ID ends with the leaf hash: SHA-256(0x00 || body).
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&entry.canonicalized_body);
    assert!(id.ends_with(&crate::Digest::sha256_of(&leaf).hex()));
    assert_eq!(entry.log_index, 16028007);
    assert_eq!(entry.kind_version.kind, "intoto");
    let proof = entry.inclusion_proof.as_ref().unwrap();
    assert_eq!(
        (proof.log_index, proof.tree_size, proof.hashes.len()),
        (11864576, 11956977, 22)
    );
    assert!(entry.inclusion_promise.is_some());
    let logged = LoggedEntry::parse(&entry.canonicalized_body).unwrap();
    assert_eq!(logged.canonical_body().unwrap(), entry.canonicalized_body);
    let raw: serde_json::Value = serde_json::from_slice(&response).unwrap();
    let attestation = crate::protojson::decode_bytes(
        "t",
        "data",
        raw[&id]["attestation"]["data"].as_str().unwrap(),
    )
    .unwrap();
    match logged.claims().unwrap().subject {
        SubjectClaim::Envelope { payload_hash, .. } => {
            assert_eq!(
                payload_hash.unwrap().as_sha256(),
                Some(crate::Digest::sha256_of(&attestation))
            )
        }
        other => panic!("{other:?}"),
    }
    // The bundle form reads back.
    assert_eq!(
        crate::bundle::TransparencyLogEntry::from_json(entry.to_json().as_bytes()).unwrap(),
        entry
    );
    assert!(crate::bundle::TransparencyLogEntry::from_rekor_v1_response(b"{}").is_err());
}

#[test]
fn unknown_kinds_are_named() {
    let err =
        LoggedEntry::parse(br#"{"kind":"alpine","apiVersion":"0.0.1","spec":{}}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("unsupported entry kind alpine/0.0.1"),
        "{err}"
    );
    assert_eq!(
        body_kind_version(br#"{"kind":"rekord","apiVersion":"0.0.1"}"#).unwrap(),
        ("rekord".to_owned(), "0.0.1".to_owned())
    );
}

proptest! {
    #[test]
    fn logged_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = LoggedEntry::parse(&bytes);
        let _ = ProposedEntry::parse_v1(&bytes);
        let _ = ProposedEntry::parse_v2(&bytes);
        let _ = crate::bundle::TransparencyLogEntry::from_rekor_v1_response(&bytes);
        let _ = crate::bundle::TransparencyLogEntry::from_json(&bytes);
    }

    #[test]
    fn mutated_rekor_response_never_panics(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let response = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/public-good/rekor/intoto-0.0.1-entry.json")).unwrap();
        let mut m = response.clone();
        let i = pos.index(m.len());
        m[i] = byte;
        if let Ok((_, e)) = crate::bundle::TransparencyLogEntry::from_rekor_v1_response(&m) {
            prop_assert_eq!(crate::bundle::TransparencyLogEntry::from_json(e.to_json().as_bytes()).unwrap(), e);
        }
    }

    #[test]
    fn shaped_entries_never_panic(kind in "hashedrekord|dsse|intoto|x", version in "0\\.0\\.[0-3]",
                                  s in "[A-Za-z0-9+/=]{0,40}", h in "[0-9a-f]{0,64}") {
        let spec = serde_json::json!({
            "signature": {"content": s, "publicKey": {"content": s}, "verifier": {"publicKey": {"rawBytes": s}}},
            "data": {"hash": {"algorithm": "sha256", "value": h}},
            "hashedRekordV002": {"data": {"algorithm": "SHA2_256", "digest": s}},
            "envelopeHash": {"algorithm": "sha256", "value": h}, "payloadHash": {"algorithm": "sha256", "value": h},
            "signatures": [{"signature": s, "verifier": s}],
            "content": {"envelope": {"payloadType": s, "payload": s, "signatures": [{"sig": s, "publicKey": s}]},
                        "hash": {"algorithm": "sha256", "value": h}},
            "publicKey": s, "proposedContent": {"envelope": s, "verifiers": [s]}});
        let doc = serde_json::json!({"kind": kind, "apiVersion": version, "spec": spec});
        if let Ok(e) = LoggedEntry::parse(doc.to_string().as_bytes()) {
            let _ = e.canonical_body();
            let _ = e.claims();
        }
        let _ = ProposedEntry::parse_v1(doc.to_string().as_bytes());
    }
}

#[test]
fn rekord_v001_logged_entry_of_a_2021_cosign_signature() {
    // The public-good entry of a keyless cosign signature from October 2021,
    // as cosign's `dev.sigstore.cosign/bundle` annotation records it.
    let layer: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/public-good/legacy/keyless-rekord-layer.json"
    ))
    .unwrap();
    let annotation = layer["annotations"]["dev.sigstore.cosign/bundle"]
        .as_str()
        .unwrap();
    let bundle = crate::bundle::RekorBundle::parse(annotation).unwrap();
    let entry = LoggedEntry::parse(&bundle.body).unwrap();
    assert_eq!(entry.kind_version(), ("rekord", "0.0.1"));
    assert_eq!(entry.canonical_body().unwrap(), bundle.body);
    let claims = entry.claims().unwrap();
    assert_eq!(claims.signatures.len(), 1);
    assert!(
        claims.signatures[0]
            .verifier
            .leaf_certificate_der()
            .unwrap()
            .is_some()
    );
    // Only logged entries: a client cannot propose one.
    let proposal = serde_json::json!({"kind": "rekord", "apiVersion": "0.0.1",
        "spec": serde_json::from_slice::<serde_json::Value>(&bundle.body).unwrap()["spec"].clone()});
    assert!(ProposedEntry::parse_v1(proposal.to_string().as_bytes()).is_err());
    let mut other = serde_json::from_slice::<serde_json::Value>(&bundle.body).unwrap();
    other["spec"]["signature"]["format"] = "minisign".into();
    assert!(
        LoggedEntry::parse(other.to_string().as_bytes())
            .unwrap_err()
            .to_string()
            .contains("minisign")
    );
}

#[test]
fn intoto_envelopes_are_verified_before_logging() {
    use crate::keys::PrivateKey;
    let key = PrivateKey::generate_p256().unwrap();
    let other = PrivateKey::generate_p256().unwrap();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[]}"#;
    let payload_type = "application/vnd.in-toto+json";
    let pae = crate::dsse::pae(payload_type, payload);
    let sig = b64(&key.sign(&pae).unwrap());
    let pem = key.public_key().to_pem();
    let envelope = |sig: &str| {
        serde_json::json!({"payloadType": payload_type, "payload": b64(payload),
            "signatures": [{"keyid": "", "sig": sig}]})
        .to_string()
    };
    let v1 = |env: &str, pem: &str| {
        serde_json::json!({"kind": "intoto", "apiVersion": "0.0.1", "spec": {
            "content": {"envelope": env}, "publicKey": b64(pem.as_bytes())}})
        .to_string()
    };
    ProposedEntry::parse_v1(v1(&envelope(&sig), &pem).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap();
    // Another key's envelope, or a signature over something else, is refused.
    let err = ProposedEntry::parse_v1(v1(&envelope(&sig), &other.public_key().to_pem()).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap_err();
    assert!(err.to_string().contains("no signature verifies"), "{err}");
    let forged = b64(&key.sign(b"something else").unwrap());
    assert!(
        ProposedEntry::parse_v1(v1(&envelope(&forged), &pem).as_bytes())
            .unwrap()
            .verify_signatures()
            .is_err()
    );
    // A proposal must carry its envelope: hashes alone prove nothing.
    let hashes_only = serde_json::json!({"kind": "intoto", "apiVersion": "0.0.1", "spec": {
        "content": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)},
                    "payloadHash": {"algorithm": "sha256", "value": "00".repeat(32)}},
        "publicKey": b64(pem.as_bytes())}});
    let err = ProposedEntry::parse_v1(hashes_only.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("missing envelope content"),
        "{err}"
    );

    // 0.0.2: every signature must verify under one of the keys.
    let v2 = |sigs: &[(&str, &str)]| {
        let sigs: Vec<_> = sigs
            .iter()
            .map(|(s, k)| serde_json::json!({"sig": b64(s.as_bytes()), "publicKey": b64(k.as_bytes())}))
            .collect();
        serde_json::json!({"kind": "intoto", "apiVersion": "0.0.2", "spec": {"content": {
            "envelope": {"payloadType": payload_type, "payload": b64(b64(payload).as_bytes()),
                "signatures": sigs},
            "hash": {"algorithm": "sha256", "value": "00".repeat(32)}}}})
        .to_string()
    };
    ProposedEntry::parse_v1(v2(&[(&sig, &pem)]).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap();
    let other_pem = other.public_key().to_pem();
    let err = ProposedEntry::parse_v1(v2(&[(&sig, &pem), (&forged, &other_pem)]).as_bytes())
        .unwrap()
        .verify_signatures()
        .unwrap_err();
    assert!(
        err.to_string().contains("all signatures must have a key"),
        "{err}"
    );
}
