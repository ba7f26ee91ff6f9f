use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::rekor::{EntryVerifier, HashedRekordV001, LoggedEntry, SubjectClaim};
use crate::signature_manifest::{
    CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, Layer, REKOR_BUNDLE_ANNOTATION, RFC3161_ANNOTATION,
    SIGNATURE_ANNOTATION,
};

const COSIGN_BUNDLE: &[u8] =
    include_bytes!("../../../../tests/vectors/cosign-2.5/blob.bundle.json");
const BLOB: &[u8] = include_bytes!("../../../../tests/vectors/cosign-2.5/blob");

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Every conformance case directory with its bundle bytes.
fn conformance_bundles() -> Vec<(String, Vec<u8>)> {
    let dir = vectors().join("sigstore-conformance/bundle-verify");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((
                name,
                std::fs::read(path.join("bundle.sigstore.json")).unwrap(),
            ));
        }
    }
    out.sort();
    assert!(
        out.len() >= 60,
        "conformance vectors missing: {}",
        out.len()
    );
    out
}

fn public_good_bundles() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["npm", "cosign"] {
        for entry in std::fs::read_dir(vectors().join("public-good").join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".json") {
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Cases the conformance suite expects to fail that fail before any
/// cryptography, at parse time, as they do in sigstore-go.
const PARSE_FAILURES: &[(&str, &str)] = &[
    (
        "bundle-empty-certificate-chain_fail",
        "empty certificate chain",
    ),
    ("bundle-invalid-base64-signature_fail", "not base64"),
    ("bundle-malformed-json_fail", "malformed Sigstore bundle"),
    ("bundle-negative-log-index_fail", "logIndex is negative"),
    (
        "invalid-inclusion-proof_fail",
        "inclusion proof has no checkpoint",
    ),
    // Its inclusion proof lacks a checkpoint, which sigstore-go refuses at
    // parse time too (before it reaches the root certificate).
    (
        "bundle-with-root-cert_fail",
        "inclusion proof has no checkpoint",
    ),
    ("bundle-unknown-version_fail", "unsupported mediaType"),
    (
        "intoto-missing-inclusion-proof_fail",
        "inclusion proof missing",
    ),
    ("rekor2-no-inclusion-proof_fail", "inclusion proof missing"),
];

#[test]
fn conformance_bundles_parse_or_fail_as_sigstore_go_does() {
    for (name, bytes) in conformance_bundles() {
        let result = Bundle::parse(&bytes);
        match PARSE_FAILURES.iter().find(|(n, _)| *n == name) {
            Some((_, message)) => {
                let err = result.expect_err(&name).to_string();
                assert!(err.contains(message), "{name}: {err}");
            }
            None => {
                let bundle = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!bundle.tlog_entries.is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn written_bundles_read_back_identically_and_drop_roots() {
    for (name, bytes) in conformance_bundles()
        .into_iter()
        .chain(public_good_bundles())
    {
        let Ok(bundle) = Bundle::parse(&bytes) else {
            continue;
        };
        let written = bundle.to_json();
        let back = Bundle::parse(written.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let had_root = bundle
            .verification_material
            .certificates()
            .iter()
            .any(|c| is_self_signed(c));
        if had_root {
            assert!(
                back.verification_material
                    .certificates()
                    .iter()
                    .all(|c| !is_self_signed(c))
            );
            assert_eq!(
                back.verification_material.leaf_certificate(),
                bundle.verification_material.leaf_certificate()
            );
        } else {
            assert_eq!(back, bundle, "{name}");
        }
        // What sigstore-python insists on, even for a tree of size 1.
        for entry in serde_json::from_str::<serde_json::Value>(&written).unwrap()
            ["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
        {
            assert!(entry["logIndex"].is_string(), "{name}");
            assert!(entry["integratedTime"].is_string(), "{name}");
            if let Some(proof) = entry.get("inclusionProof") {
                assert!(proof["logIndex"].is_string(), "{name}");
                assert!(proof["hashes"].is_array(), "{name}");
            }
        }
    }
}

/// Protobuf-JSON writers differ only in whitespace and in omitting zero
/// values; with those normalised, signet writes the same document.
#[test]
fn rewrites_real_bundles_field_for_field() {
    fn normalise(v: &mut serde_json::Value) {
        // Wrapped base64 (accepted on input) is written unwrapped.
        if let serde_json::Value::String(s) = v {
            *s = s.replace('\n', "");
        }
        if let serde_json::Value::Object(m) = v {
            m.retain(|_, x| {
                !x.is_null()
                    && !matches!(x, serde_json::Value::String(s) if s == "0" || s.is_empty())
            });
            for x in m.values_mut() {
                normalise(x);
            }
        } else if let serde_json::Value::Array(a) = v {
            a.iter_mut().for_each(normalise);
        }
    }
    fn drop_empty(v: &mut serde_json::Value) {
        if let serde_json::Value::Object(m) = v {
            for x in m.values_mut() {
                drop_empty(x);
            }
            m.retain(|_, x| {
                !matches!(x, serde_json::Value::Array(a) if a.is_empty())
                    && !matches!(x, serde_json::Value::Object(o) if o.is_empty())
            });
        } else if let serde_json::Value::Array(a) = v {
            a.iter_mut().for_each(drop_empty);
        }
    }
    let mut compared = 0;
    for (name, bytes) in conformance_bundles()
        .into_iter()
        .chain(public_good_bundles())
    {
        let Ok(bundle) = Bundle::parse(&bytes) else {
            continue;
        };
        if bundle
            .verification_material
            .certificates()
            .iter()
            .any(|c| is_self_signed(c))
        {
            continue;
        }
        let mut original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut ours: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
        // Empty proof hashes are written by signet and omitted by others.
        for e in ours["verificationMaterial"]["tlogEntries"]
            .as_array_mut()
            .unwrap()
        {
            if let Some(p) = e.get_mut("inclusionProof").and_then(|p| p.as_object_mut())
                && p["hashes"].as_array().is_some_and(Vec::is_empty)
            {
                p.remove("hashes");
            }
        }
        normalise(&mut original);
        normalise(&mut ours);
        drop_empty(&mut original);
        drop_empty(&mut ours);
        assert_eq!(ours, original, "{name}");
        compared += 1;
    }
    assert!(compared > 60, "{compared}");
}

#[test]
fn canonical_bodies_are_reproduced_exactly() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut signatures_checked = 0;
    for (name, bytes) in conformance_bundles()
        .into_iter()
        .chain(public_good_bundles())
    {
        let Ok(bundle) = Bundle::parse(&bytes) else {
            continue;
        };
        for entry in &bundle.tlog_entries {
            let logged = match LoggedEntry::parse(&entry.canonicalized_body) {
                Ok(logged) => logged,
                // Cases built to fail may carry doctored bodies.
                Err(_) if name.ends_with("_fail") => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            // A test log (the conformance suite's mock, log ID 9ybKo…) keeps
            // the payload in intoto 0.0.2 bodies, which Rekor drops.
            let mock_intoto = entry.kind_version.kind == "intoto"
                && entry
                    .canonicalized_body
                    .windows(9)
                    .any(|w| w == b"\"payload\"");
            if mock_intoto {
                assert!(entry.log_id_hex().starts_with("f726ca"), "{name}");
                continue;
            }
            assert_eq!(
                logged.canonical_body().unwrap(),
                entry.canonicalized_body,
                "{name}: canonical body differs"
            );
            let (kind, version) = logged.kind_version();
            kinds.insert(format!("{kind}/{version}"));
            // Logged hashedrekord signatures verify, as Rekor checked them.
            let verified = match &logged {
                LoggedEntry::HashedRekordV001(e) => Some(e.verify_signature()),
                LoggedEntry::HashedRekordV002(e) => Some(e.verify_signature()),
                _ => None,
            };
            if let Some(result) = verified
                && !name.ends_with("_fail")
            {
                result.unwrap_or_else(|e| panic!("{name}: {e}"));
                signatures_checked += 1;
            }
            assert!(!logged.claims().unwrap().signatures.is_empty() || kind == "intoto");
        }
    }
    for kind in [
        "hashedrekord/0.0.1",
        "hashedrekord/0.0.2",
        "dsse/0.0.1",
        "intoto/0.0.2",
    ] {
        assert!(
            kinds.contains(kind),
            "no golden vector for {kind}: {kinds:?}"
        );
    }
    assert!(signatures_checked >= 15, "{signatures_checked}");
}

/// Rebuilding a hashedrekord entry from a bundle's signature, certificate
/// and digest gives the very bytes Rekor logged (its PEM re-armouring
/// included).
#[test]
fn hashedrekord_rebuilt_from_bundle_matches_the_log() {
    let mut checked = 0;
    for (name, bytes) in conformance_bundles() {
        if !name.starts_with("happy-path-v0") {
            continue;
        }
        let bundle = Bundle::parse(&bytes).unwrap();
        let ms = bundle.message_signature().unwrap();
        let leaf = bundle.verification_material.leaf_certificate().unwrap();
        let rebuilt = HashedRekordV001 {
            signature: ms.signature.clone(),
            verifier_pem: crate::pem::encode("CERTIFICATE", leaf),
            algorithm: ms.message_digest.algorithm(),
            digest_hex: hex::encode(ms.message_digest.digest()),
        };
        let body = crate::jcs::canonicalize(&rebuilt.canonical_value().unwrap()).unwrap();
        assert_eq!(body, bundle.tlog_entries[0].canonicalized_body, "{name}");
        let claims = LoggedEntry::parse(&body).unwrap().claims().unwrap();
        assert_eq!(claims.signatures[0].signature, ms.signature);
        assert_eq!(
            claims.signatures[0]
                .verifier
                .leaf_certificate_der()
                .unwrap()
                .unwrap(),
            leaf
        );
        assert_eq!(
            claims.subject,
            SubjectClaim::ArtifactDigest(ms.message_digest.clone())
        );
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn npm_provenance_bundles_cover_the_published_tarballs() {
    let digests =
        std::fs::read_to_string(vectors().join("public-good/npm/tarball-digests.txt")).unwrap();
    for line in digests.lines() {
        let mut parts = line.split_whitespace();
        let (package, _, sha512) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
        let version = package.rsplit('@').next().unwrap();
        let file = format!("public-good/npm/sigstore-{version}.provenance.sigstore.json");
        let bundle = Bundle::parse(&std::fs::read(vectors().join(file)).unwrap()).unwrap();
        let env = bundle.dsse_envelope().unwrap();
        assert_eq!(env.payload_type, crate::dsse::IN_TOTO_PAYLOAD_TYPE);
        let statement = crate::intoto::Statement::parse(&env.payload).unwrap();
        let subject = &statement.subjects[0];
        assert_eq!(subject.name, format!("pkg:npm/{package}"));
        assert_eq!(subject.digest["sha512"], sha512);
        assert!(matches!(
            bundle.verification_material,
            VerificationMaterial::CertificateDer { .. }
        ));
    }
}

#[test]
fn a_self_signed_leaf_is_kept_and_a_root_after_it_dropped() {
    let trusted: serde_json::Value = serde_json::from_slice(include_bytes!(
        "../../../signet-trust/data/trusted_root.json"
    ))
    .unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let root = b64
        .decode(
            trusted["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert!(is_self_signed(&root));
    let mut b = Bundle::for_key_signature(Digest::sha256_of(b"x"), vec![1], String::new());
    b.media_type = BUNDLE_V02_MEDIA_TYPE.into();
    b.verification_material = VerificationMaterial::CertificateDer {
        chain: vec![root.clone(), root.clone()],
    };
    let back = Bundle::parse(b.to_json().as_bytes()).unwrap();
    assert_eq!(
        back.verification_material,
        VerificationMaterial::CertificateDer {
            chain: vec![root.clone()]
        }
    );
    b.media_type = BUNDLE_V03_MEDIA_TYPE.into();
    let back = Bundle::parse(b.to_json().as_bytes()).unwrap();
    assert_eq!(
        back.verification_material,
        VerificationMaterial::CertificateDer { chain: vec![root] }
    );
}

#[test]
fn reads_cosign_key_bundle_and_writes_it_back() {
    let b = Bundle::parse(COSIGN_BUNDLE).unwrap();
    assert_eq!(
        b.message_signature().unwrap().sha256(),
        Some(Digest::sha256_of(BLOB))
    );
    assert_eq!(
        b.verification_material,
        VerificationMaterial::PublicKey {
            hint: Some("3499She4SYdnbPwso9AbHyzVXv+tlIkpGDXVafzr16g=".into())
        }
    );
    // cosign's protojson inserts random spaces; compare without them.
    let cosign_compact: String = String::from_utf8_lossy(COSIGN_BUNDLE)
        .replace(", ", ",")
        .replace(": ", ":");
    assert_eq!(b.to_json(), cosign_compact.trim());
    assert_eq!(Bundle::parse(b.to_json().as_bytes()).unwrap(), b);
}

#[test]
fn version_rules() {
    let base = |media: &str, material: &str, entries: &str| {
        format!(
            r#"{{"mediaType":"{media}","verificationMaterial":{{{material}"tlogEntries":[{entries}]}},"messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":"AQ=="}}}}"#,
            B64.encode([0u8; 32])
        )
    };
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    let body = B64.encode(r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#);
    let promise_only = format!(
        r#"{{"logIndex":"1","logId":{{"keyId":"AQ=="}},"kindVersion":{{"kind":"hashedrekord","version":"0.0.1"}},"integratedTime":"5","inclusionPromise":{{"signedEntryTimestamp":"AQ=="}},"canonicalizedBody":"{body}"}}"#
    );
    let key = r#""publicKey":{"hint":"x"},"#;
    // v0.1 accepts a promise alone; v0.2 and v0.3 need a proof.
    assert!(Bundle::parse(base(BUNDLE_V01_MEDIA_TYPE, key, &promise_only).as_bytes()).is_ok());
    for media in [BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE] {
        let err = Bundle::parse(base(media, key, &promise_only).as_bytes()).unwrap_err();
        assert!(err.to_string().contains("inclusion proof missing"), "{err}");
    }
    let no_promise =
        promise_only.replace(r#""inclusionPromise":{"signedEntryTimestamp":"AQ=="},"#, "");
    let err = Bundle::parse(base(BUNDLE_V01_MEDIA_TYPE, key, &no_promise).as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("inclusion promise missing"),
        "{err}"
    );
    // v0.3 refuses a chain.
    let chain = r#""x509CertificateChain":{"certificates":[{"rawBytes":"AQ=="}]},"#;
    let err = Bundle::parse(base(BUNDLE_V03_MEDIA_TYPE, chain, "").as_bytes()).unwrap_err();
    assert!(err.to_string().contains("certificate chain"), "{err}");
    assert!(Bundle::parse(base(BUNDLE_V02_MEDIA_TYPE, chain, "").as_bytes()).is_ok());
    // v0.4 and beyond are refused, as are kind/body mismatches.
    for media in [
        "application/vnd.dev.sigstore.bundle.v0.4+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.4",
        "application/json",
    ] {
        assert!(
            Bundle::parse(base(media, key, "").as_bytes()).is_err(),
            "{media}"
        );
    }
    let mismatched = promise_only.replace(r#""kind":"hashedrekord""#, r#""kind":"dsse""#);
    let err = Bundle::parse(base(BUNDLE_V01_MEDIA_TYPE, key, &mismatched).as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("kindVersion says dsse/0.0.1"),
        "{err}"
    );
    // Enum numbers are read as names.
    let numeric = base(BUNDLE_V01_MEDIA_TYPE, key, "")
        .replace(r#""algorithm":"SHA2_256""#, r#""algorithm":1"#);
    assert_eq!(
        Bundle::parse(numeric.as_bytes())
            .unwrap()
            .message_signature()
            .unwrap()
            .message_digest
            .algorithm(),
        HashAlgorithm::Sha2_256
    );
    // Too many entries.
    let many = vec![promise_only.as_str(); MAX_TLOG_ENTRIES + 1].join(",");
    let err = Bundle::parse(base(BUNDLE_V01_MEDIA_TYPE, key, &many).as_bytes()).unwrap_err();
    assert!(err.to_string().contains("tlog entries"), "{err}");
}

#[test]
fn dsse_bundles_are_read_and_written() {
    let bytes = std::fs::read(vectors().join(
        "sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
    ))
    .unwrap();
    let b = Bundle::parse(&bytes).unwrap();
    let env = b.dsse_envelope().unwrap();
    assert_eq!(env.signatures.len(), 1);
    let claims = LoggedEntry::parse(&b.tlog_entries[0].canonicalized_body)
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims.signatures[0].signature, env.signatures[0].sig);
    match claims.subject {
        SubjectClaim::Envelope { payload_hash, .. } => {
            assert_eq!(
                payload_hash.unwrap().as_sha256(),
                Some(Digest::sha256_of(&env.payload))
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        claims.signatures[0].verifier,
        EntryVerifier::Pem(_)
    ));
}

/// A legacy `.sig` layer carrying the same public-good evidence as a v0.1
/// bundle (signature, certificate, SET) converts into that bundle, minus
/// the inclusion proof legacy layers never had.
#[test]
fn legacy_layer_converts_to_the_equivalent_bundle() {
    let bytes = std::fs::read(
        vectors().join("sigstore-conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json"),
    )
    .unwrap();
    let bundle = Bundle::parse(&bytes).unwrap();
    let entry = &bundle.tlog_entries[0];
    let ms = bundle.message_signature().unwrap();
    let certs = bundle.verification_material.certificates();
    let pem = |der: &Vec<u8>| String::from_utf8(crate::pem::encode("CERTIFICATE", der)).unwrap();
    let mut layer = Layer {
        media_type: crate::signature_manifest::SIMPLE_SIGNING_MEDIA_TYPE.into(),
        size: 1,
        digest: ms.sha256().unwrap(),
        annotations: Default::default(),
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), b64.encode(&ms.signature));
    layer
        .annotations
        .insert(CERTIFICATE_ANNOTATION.into(), pem(&certs[0]));
    layer.annotations.insert(
        CHAIN_ANNOTATION.into(),
        certs[1..].iter().map(pem).collect(),
    );
    let rekor = RekorBundle::from_tlog_entry(entry).unwrap();
    layer
        .annotations
        .insert(REKOR_BUNDLE_ANNOTATION.into(), rekor.to_annotation());
    layer
        .annotations
        .insert(RFC3161_ANNOTATION.into(), rfc3161_annotation(b"token"));
    let converted = layer.to_bundle().unwrap();
    assert_eq!(converted.version().unwrap(), BundleVersion::V0_1);
    assert_eq!(converted.content, bundle.content);
    assert_eq!(converted.verification_material.certificates(), certs);
    let mut expected = entry.clone();
    expected.inclusion_proof = None;
    assert_eq!(converted.tlog_entries, vec![expected]);
    assert_eq!(converted.rfc3161_timestamps, vec![b"token".to_vec()]);
    // The converted bundle is itself a valid v0.1 bundle.
    assert_eq!(
        Bundle::parse(converted.to_json().as_bytes())
            .unwrap()
            .tlog_entries,
        converted.tlog_entries
    );
}

#[test]
fn legacy_rekord_layer_from_the_public_instance() {
    let fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(vectors().join("public-good/legacy/keyless-rekord-layer.json")).unwrap(),
    )
    .unwrap();
    let annotations: std::collections::BTreeMap<String, String> =
        serde_json::from_value(fixture["annotations"].clone()).unwrap();
    let layer = Layer {
        media_type: crate::signature_manifest::SIMPLE_SIGNING_MEDIA_TYPE.into(),
        size: 1,
        digest: Digest::sha256_of(b"payload"),
        annotations,
    };
    let bundle = layer.to_bundle().unwrap();
    let entry = &bundle.tlog_entries[0];
    assert_eq!(entry.kind_version.kind, "rekord");
    assert_eq!(entry.log_index, 783607);
    assert_eq!(entry.integrated_time, 1634714717);
    assert_eq!(
        entry.log_id_hex(),
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
    assert!(matches!(
        bundle.verification_material,
        VerificationMaterial::CertificateDer { chain } if chain.len() == 1
    ));
    // The annotation is reproduced byte for byte from the entry.
    let text = &layer.annotations[REKOR_BUNDLE_ANNOTATION];
    assert_eq!(
        &RekorBundle::from_tlog_entry(entry).unwrap().to_annotation(),
        text
    );
}

#[test]
fn malformed_legacy_annotations_are_rejected() {
    let mut layer = Layer::simple_signing(b"p", "AQ==".into());
    for (key, value) in [
        (CERTIFICATE_ANNOTATION, "not pem"),
        (REKOR_BUNDLE_ANNOTATION, "{}"),
        (RFC3161_ANNOTATION, r#"{"SignedRFC3161Timestamp":"!"}"#),
    ] {
        let mut bad = layer.clone();
        bad.annotations.insert(key.into(), value.into());
        assert!(bad.to_bundle().is_err(), "{key}");
    }
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), "".into());
    assert!(layer.to_bundle().is_err());
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Bundle::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_json_shapes(sig in ".{0,20}", digest in ".{0,50}", alg in "SHA2_256|SHA2_384|x",
                                         index in any::<i64>(), hash in "[A-Za-z0-9+/=]{0,60}") {
        let doc = serde_json::json!({"mediaType": BUNDLE_V03_MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": "x"}, "tlogEntries": [{"logIndex": index.to_string(),
                "logId": {"keyId": hash}, "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "inclusionProof": {"logIndex": index, "rootHash": hash, "treeSize": "1", "hashes": [hash], "checkpoint": {"envelope": sig}},
                "canonicalizedBody": hash}]},
            "messageSignature": {"messageDigest": {"algorithm": alg, "digest": digest}, "signature": sig}});
        let _ = Bundle::parse(doc.to_string().as_bytes());
    }

    #[test]
    fn legacy_annotation_parsers_never_panic(text in ".{0,200}", set in "[A-Za-z0-9+/=]{0,20}", id in "[0-9a-f]{0,70}", n in any::<i64>()) {
        let _ = RekorBundle::parse(&text);
        let _ = parse_rfc3161_annotation(&text);
        let doc = serde_json::json!({"SignedEntryTimestamp": set, "Payload": {"body": set, "integratedTime": n, "logIndex": n, "logID": id}});
        if let Ok(b) = RekorBundle::parse(&doc.to_string()) {
            let _ = b.to_tlog_entry();
            prop_assert_eq!(RekorBundle::parse(&b.to_annotation()).unwrap(), b);
        }
        let layer = Layer::simple_signing(b"p", "AQ==".into());
        let _ = layer.to_attestation_bundle(text.as_bytes());
    }

    #[test]
    fn mutated_real_bundles_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let bytes = std::fs::read(vectors().join("sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json")).unwrap();
        let mut mutated = bytes.clone();
        let i = pos.index(mutated.len());
        mutated[i] = byte;
        if let Ok(b) = Bundle::parse(&mutated) {
            prop_assert!(Bundle::parse(b.to_json().as_bytes()).is_ok());
        }
    }
}

/// A dsse entry rebuilt from a bundle: the payload hash always matches;
/// the envelope hash is reproduced from the layout its signer sent
/// (protobuf-JSON from sigstore-go and sigstore-rs, go-securesystemslib's
/// from cosign).
#[test]
fn dsse_entries_rebuilt_from_bundles() {
    let mut go_layout = 0;
    for (name, bytes) in conformance_bundles()
        .into_iter()
        .chain(public_good_bundles())
    {
        let Ok(bundle) = Bundle::parse(&bytes) else {
            continue;
        };
        let Some(env) = bundle.dsse_envelope() else {
            continue;
        };
        for entry in &bundle.tlog_entries {
            let Ok(LoggedEntry::DsseV001(logged)) = LoggedEntry::parse(&entry.canonicalized_body)
            else {
                continue;
            };
            if name.ends_with("_fail") {
                continue;
            }
            assert_eq!(
                logged.payload_hash.as_sha256(),
                Some(Digest::sha256_of(&env.payload)),
                "{name}"
            );
            let hash = logged.envelope_hash.as_sha256();
            if hash == Some(Digest::sha256_of(env.to_json().as_bytes()))
                || hash == Some(Digest::sha256_of(env.to_cosign_json().as_bytes()))
            {
                go_layout += 1;
            }
        }
    }
    assert!(go_layout >= 3, "{go_layout}");
}
