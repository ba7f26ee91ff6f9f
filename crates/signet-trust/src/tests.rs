use std::path::PathBuf;

use jiff::Timestamp;
use proptest::prelude::*;
use signet_core::key_details::PublicKeyDetails;

use super::*;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// protojson writers print timestamps with 0, 3, 6 or 9 fraction digits;
/// compare the instants, not the spelling.
fn normalise(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if (k == "start" || k == "end")
                    && let Some(t) = x.as_str().and_then(|s| s.parse::<Timestamp>().ok())
                {
                    *x = serde_json::Value::String(t.to_string());
                } else {
                    normalise(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(normalise),
        _ => {}
    }
}

#[test]
fn public_good_trusted_root_is_read_and_written_back() {
    let root = public_good::trusted_root().unwrap();
    assert_eq!(root.tlogs.len(), 2);
    let v1 = root.tlog(&root.tlogs[0].log_id).unwrap();
    assert_eq!(v1.base_url, "https://rekor.sigstore.dev");
    assert_eq!(
        v1.public_key.key_details(),
        &PublicKeyDetails::PkixEcdsaP256Sha256
    );
    assert_eq!(v1.log_id, v1.public_key.sha256_key_id());
    assert!(v1.public_key.to_public_key().is_ok());
    let v2 = &root.tlogs[1];
    assert_eq!(v2.base_url, "https://log2025-1.rekor.sigstore.dev");
    assert_eq!(v2.public_key.key_details(), &PublicKeyDetails::PkixEd25519);
    assert!(!root.certificate_authorities.is_empty());
    assert!(!root.ctlogs.is_empty());
    assert!(!root.timestamp_authorities.is_empty());
    for ca in &root.certificate_authorities {
        assert!(ca.cert_chain.last().unwrap().is_self_signed());
    }
    // Field for field the same document (timestamps compared as instants).
    let mut original: serde_json::Value =
        serde_json::from_slice(public_good::TRUSTED_ROOT_JSON).unwrap();
    let mut ours: serde_json::Value = serde_json::from_str(&root.to_json()).unwrap();
    normalise(&mut original);
    normalise(&mut ours);
    assert_eq!(ours, original);
    assert_eq!(TrustedRoot::parse(root.to_json().as_bytes()).unwrap(), root);
}

#[test]
fn conformance_trusted_roots_are_read_as_sigstore_go_reads_them() {
    let dir = vectors().join("sigstore-conformance/bundle-verify");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path().join("trusted_root.json");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        match TrustedRoot::parse(&bytes) {
            Ok(root) => {
                let back = TrustedRoot::parse(root.to_json().as_bytes()).unwrap();
                assert_eq!(back.tlogs, root.tlogs, "{name}");
                assert_eq!(
                    back.certificate_authorities, root.certificate_authorities,
                    "{name}"
                );
                assert_eq!(
                    back.timestamp_authorities, root.timestamp_authorities,
                    "{name}"
                );
                read += 1;
            }
            Err(e) => {
                assert_eq!(name, "trust-root-tlog-missing-validity-start_fail", "{e}");
                assert!(e.to_string().contains("validity period start"), "{e}");
            }
        }
    }
    assert!(read >= 30, "{read}");
}

#[test]
fn v02_fields_are_tolerated_on_read_and_left_out_on_write() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(public_good::TRUSTED_ROOT_JSON).unwrap();
    doc["mediaType"] = "application/vnd.dev.sigstore.trustedroot.v0.2+json".into();
    doc["tlogs"][1]["operator"] = "sigstore.dev".into();
    doc["tlogs"][1]["checkpointKeyId"] = serde_json::json!({"keyId": "zxGZFQ=="});
    doc["certificateAuthorities"][0]["operator"] = "sigstore.dev".into();
    let root = TrustedRoot::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(root.tlogs[1].operator.as_deref(), Some("sigstore.dev"));
    assert_eq!(
        root.tlogs[1].checkpoint_key_id.as_deref(),
        Some(&[0xcf, 0x11, 0x99, 0x15][..])
    );
    let written = root.to_json();
    assert!(!written.contains("operator") && !written.contains("checkpointKeyId"));
    assert!(written.starts_with(
        r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1""#
    ));
}

#[test]
fn malformed_trusted_roots_name_the_problem() {
    let good: serde_json::Value = serde_json::from_slice(public_good::TRUSTED_ROOT_JSON).unwrap();
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unsupported mediaType",
            Box::new(|d| d["mediaType"] = "x".into()),
        ),
        (
            "unsupported hash algorithm",
            Box::new(|d| d["tlogs"][0]["hashAlgorithm"] = "SHA2_384".into()),
        ),
        (
            "missing log ID",
            Box::new(|d| d["tlogs"][0]["logId"] = serde_json::json!({})),
        ),
        (
            "missing public key validity period",
            Box::new(|d| {
                d["tlogs"][0]["publicKey"]
                    .as_object_mut()
                    .unwrap()
                    .remove("validFor");
            }),
        ),
        (
            "not a DER SubjectPublicKeyInfo",
            Box::new(|d| d["ctlogs"][0]["publicKey"]["rawBytes"] = "AAAA".into()),
        ),
        (
            "empty certificate chain",
            Box::new(|d| {
                d["certificateAuthorities"][0]["certChain"]["certificates"] = serde_json::json!([])
            }),
        ),
        (
            "not a DER X.509 certificate",
            Box::new(|d| {
                d["timestampAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] =
                    "AAAA".into()
            }),
        ),
        (
            "is not RFC 3339",
            Box::new(|d| d["certificateAuthorities"][0]["validFor"]["start"] = "yesterday".into()),
        ),
        (
            "before it starts",
            Box::new(|d| {
                d["certificateAuthorities"][0]["validFor"]["end"] = "2000-01-01T00:00:00Z".into()
            }),
        ),
    ];
    for (message, mutate) in cases {
        let mut doc = good.clone();
        mutate(&mut doc);
        let err = TrustedRoot::parse(doc.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{message}: {err}");
        assert!(!err.contains('\n'));
    }
}

#[test]
fn public_good_signing_config_selects_like_sigstore_go() {
    let sc = public_good::signing_config().unwrap();
    let now = at("2026-11-28T00:00:00Z");
    assert_eq!(
        sc.select_ca(&[1], now).unwrap().url,
        "https://fulcio.sigstore.dev"
    );
    assert_eq!(
        sc.select_oidc(&[1], now).unwrap().url,
        "https://oauth2.sigstore.dev/auth"
    );
    let rekor = sc.select_rekor(&[1, 2], now).unwrap();
    assert_eq!(rekor.len(), 1);
    assert_eq!(rekor[0].url, "https://rekor.sigstore.dev");
    let tsa = sc.select_tsa(&[1], now).unwrap();
    assert_eq!(
        tsa[0].url,
        "https://timestamp.sigstore.dev/api/v1/timestamp"
    );
    // The TSA became valid on 2025-07-04.
    assert!(sc.select_tsa(&[1], at("2025-01-01T00:00:00Z")).is_err());
    assert!(
        sc.select_ca(&[2], now)
            .unwrap_err()
            .to_string()
            .contains("API versions [2]")
    );

    // With Rekor v2 listed, the highest supported version wins once valid.
    let v2 = public_good::signing_config_rekor_v2().unwrap();
    assert_eq!(
        v2.select_rekor(&[1, 2], now).unwrap()[0].major_api_version,
        2
    );
    assert_eq!(
        v2.select_rekor(&[1], now).unwrap()[0].url,
        "https://rekor.sigstore.dev"
    );
    assert_eq!(
        v2.select_rekor(&[1, 2], at("2025-12-31T23:59:59Z"))
            .unwrap()[0]
            .major_api_version,
        1
    );

    assert_eq!(SigningConfig::parse(sc.to_json().as_bytes()).unwrap(), sc);
    let mut original: serde_json::Value =
        serde_json::from_slice(public_good::SIGNING_CONFIG_JSON).unwrap();
    let mut ours: serde_json::Value = serde_json::from_str(&sc.to_json()).unwrap();
    normalise(&mut original);
    normalise(&mut ours);
    assert_eq!(ours, original);
}

fn service(url: &str, version: u32, start: &str, end: Option<&str>, operator: &str) -> Service {
    Service {
        url: url.into(),
        major_api_version: version,
        valid_for: TimeRange {
            start: Some(at(start)),
            end: end.map(at),
        },
        operator: operator.into(),
    }
}

#[test]
fn selectors_pick_one_per_operator_from_the_highest_version() {
    let services = vec![
        service("a-old", 1, "2020-01-01T00:00:00Z", None, "a"),
        service("a-new", 1, "2024-01-01T00:00:00Z", None, "a"),
        service("b", 1, "2021-01-01T00:00:00Z", None, "b"),
        service(
            "c-expired",
            1,
            "2020-01-01T00:00:00Z",
            Some("2022-01-01T00:00:00Z"),
            "c",
        ),
        service("d-v2-future", 2, "2030-01-01T00:00:00Z", None, "d"),
    ];
    let now = at("2025-01-01T00:00:00Z");
    let urls = |v: Vec<&Service>| v.into_iter().map(|s| s.url.clone()).collect::<Vec<_>>();
    assert_eq!(
        urls(select_services("log", &services, Some(ServiceSelector::All), &[1, 2], now).unwrap()),
        ["a-new", "b"]
    );
    assert_eq!(
        urls(select_services("log", &services, Some(ServiceSelector::Any), &[1, 2], now).unwrap()),
        ["a-new"]
    );
    assert_eq!(
        urls(
            select_services("log", &services, Some(ServiceSelector::Exact(2)), &[1], now).unwrap()
        ),
        ["a-new", "b"]
    );
    let err =
        select_services("log", &services, Some(ServiceSelector::Exact(3)), &[1], now).unwrap_err();
    assert!(
        err.to_string().contains("EXACT asks for 3, but only 2"),
        "{err}"
    );
    assert!(select_services("log", &services, Some(ServiceSelector::Exact(0)), &[1], now).is_err());
    assert!(select_services("log", &services, None, &[1], now).is_err());
    assert!(select_services("log", &services, Some(ServiceSelector::All), &[], now).is_err());
    // Once the v2 service is valid, only v2 services are considered.
    assert_eq!(
        urls(
            select_services(
                "log",
                &services,
                Some(ServiceSelector::All),
                &[1, 2],
                at("2031-01-01T00:00:00Z")
            )
            .unwrap()
        ),
        ["d-v2-future"]
    );
    assert_eq!(
        select_service("ca", &services, &[1], now).unwrap().url,
        "a-new"
    );
    // Validity ends are inclusive.
    assert_eq!(
        select_service("ca", &services[3..4], &[1], at("2022-01-01T00:00:00Z"))
            .unwrap()
            .url,
        "c-expired"
    );
}

#[test]
fn enum_numbers_are_read_like_names() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(public_good::TRUSTED_ROOT_JSON).unwrap();
    doc["tlogs"][0]["hashAlgorithm"] = 1.into();
    doc["tlogs"][0]["publicKey"]["keyDetails"] = 5.into();
    let root = TrustedRoot::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(root, public_good::trusted_root().unwrap());
    let mut sc: serde_json::Value =
        serde_json::from_slice(public_good::SIGNING_CONFIG_JSON).unwrap();
    sc["rekorTlogConfig"] = serde_json::json!({"selector": 3, "count": "1"});
    sc["tsaUrls"][0].as_object_mut().unwrap().remove("validFor");
    let sc = SigningConfig::parse(sc.to_string().as_bytes()).unwrap();
    assert_eq!(sc.rekor_tlog_config, Some(ServiceSelector::Exact(1)));
    assert_eq!(sc.tsa_urls[0].valid_for, TimeRange::default());
}

#[test]
fn client_trust_config_round_trips() {
    let config = ClientTrustConfig {
        trusted_root: public_good::trusted_root().unwrap(),
        signing_config: public_good::signing_config().unwrap(),
    };
    let json = config.to_json();
    assert!(json.starts_with(
        r#"{"mediaType":"application/vnd.dev.sigstore.clienttrustconfig.v0.1+json","trustedRoot":{"#
    ));
    assert_eq!(ClientTrustConfig::parse(json.as_bytes()).unwrap(), config);
    assert!(
        ClientTrustConfig::parse(
            br#"{"mediaType":"application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}"#
        )
        .is_err()
    );
    assert!(
        ClientTrustConfig::parse(
            json.replace("v0.1+json\",\"trustedRoot", "v9+json\",\"trustedRoot")
                .as_bytes()
        )
        .is_err()
    );
}

fn pem(label: &str, der: &[u8]) -> String {
    String::from_utf8(signet_core::pem::encode(label, der)).unwrap()
}

#[test]
fn cosign_environment_overrides_become_a_trusted_root() {
    let public = public_good::trusted_root().unwrap();
    let fulcio = public.certificate_authorities.last().unwrap();
    let tsa = &public.timestamp_authorities[0];
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // Root first and intermediates after: order does not matter.
    let roots = write(
        "fulcio.pem",
        fulcio
            .cert_chain
            .iter()
            .rev()
            .map(|c| pem("CERTIFICATE", c.der()))
            .collect(),
    );
    let rekor = write(
        "rekor.pub",
        pem("PUBLIC KEY", public.tlogs[0].public_key.raw_bytes()),
    );
    let ctlog = write(
        "ctlog.pub",
        pem("PUBLIC KEY", public.ctlogs[0].public_key.raw_bytes()),
    );
    let tsa_chain = write(
        "tsa.pem",
        tsa.cert_chain
            .iter()
            .rev()
            .map(|c| pem("CERTIFICATE", c.der()))
            .collect(),
    );
    let vars = [
        (SIGSTORE_ROOT_FILE, roots),
        (SIGSTORE_REKOR_PUBLIC_KEY, rekor),
        (SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, ctlog),
        (SIGSTORE_TSA_CERTIFICATE_FILE, tsa_chain),
    ];
    let overrides = CosignTrustOverrides::from_env(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, p)| p.clone().into_os_string())
    })
    .unwrap();
    assert!(overrides.is_set());
    let root = overrides.to_trusted_root().unwrap();
    assert_eq!(root.certificate_authorities.len(), 1);
    let chain = &root.certificate_authorities[0].cert_chain;
    assert_eq!(
        chain.last().unwrap().der(),
        fulcio.cert_chain.last().unwrap().der()
    );
    assert_eq!(chain.len(), fulcio.cert_chain.len());
    assert_eq!(root.tlogs[0].log_id, public.tlogs[0].log_id);
    assert_eq!(
        root.tlogs[0].public_key.key_details(),
        public.tlogs[0].public_key.key_details()
    );
    assert_eq!(root.ctlogs[0].log_id, public.ctlogs[0].log_id);
    let tsa_out = &root.timestamp_authorities[0].cert_chain;
    assert_eq!(tsa_out[0].der(), tsa.cert_chain[0].der(), "leaf first");
    assert!(tsa_out.last().unwrap().is_self_signed());
    assert!(
        root.tlogs[0]
            .public_key
            .valid_for()
            .unwrap()
            .contains(at("1999-01-01T00:00:00Z"))
    );
    // What it writes reads back.
    assert_eq!(
        TrustedRoot::parse(root.to_json().as_bytes()).unwrap().tlogs,
        root.tlogs
    );

    // Nothing set, a missing file, an oversized file, the wrong PEM type.
    assert!(!CosignTrustOverrides::from_env(|_| None).unwrap().is_set());
    let err = CosignTrustOverrides::from_env(|k| {
        (k == SIGSTORE_ROOT_FILE).then(|| "/nonexistent/x.pem".into())
    })
    .unwrap_err();
    assert!(err.to_string().contains("SIGSTORE_ROOT_FILE"), "{err}");
    let big = write("big.pem", "x".repeat(MAX_PEM_FILE_BYTES + 1));
    let err = CosignTrustOverrides::from_env(|k| {
        (k == SIGSTORE_REKOR_PUBLIC_KEY).then(|| big.clone().into_os_string())
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the limit for a PEM file named by a SIGSTORE_* variable"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("SIGSTORE_REKOR_PUBLIC_KEY: "),
        "{err}"
    );
    let wrong = CosignTrustOverrides {
        rekor_public_keys_pem: Some(pem("CERTIFICATE", fulcio.cert_chain[0].der()).into_bytes()),
        ..Default::default()
    };
    assert!(
        wrong
            .to_trusted_root()
            .unwrap_err()
            .to_string()
            .contains("expected PUBLIC KEY")
    );
    let no_root = CosignTrustOverrides {
        fulcio_certificates_pem: Some(pem("CERTIFICATE", fulcio.cert_chain[0].der()).into_bytes()),
        ..Default::default()
    };
    if !fulcio.cert_chain[0].is_self_signed() {
        assert!(
            no_root
                .to_trusted_root()
                .unwrap_err()
                .to_string()
                .contains("no self-signed root")
        );
    }
}

#[test]
fn trusted_root_sources_follow_cosigns_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trusted_root.json");
    std::fs::write(&file, public_good::TRUSTED_ROOT_JSON).unwrap();
    let public = public_good::trusted_root().unwrap();
    let rekor_pem = dir.path().join("rekor.pub");
    std::fs::write(
        &rekor_pem,
        pem("PUBLIC KEY", public.tlogs[0].public_key.raw_bytes()),
    )
    .unwrap();
    let env =
        |k: &str| (k == SIGSTORE_REKOR_PUBLIC_KEY).then(|| rekor_pem.clone().into_os_string());

    let (root, source) = resolve_trusted_root(Some(&file), env).unwrap();
    assert_eq!(
        (root, source),
        (public.clone(), TrustSource::File(file.clone()))
    );
    let (root, source) = resolve_trusted_root(None, env).unwrap();
    assert_eq!(source, TrustSource::Environment);
    assert_eq!(root.tlogs.len(), 1);
    let (root, source) = resolve_trusted_root(None, |_| None).unwrap();
    assert_eq!((root, source), (public, TrustSource::PublicGoodSnapshot));
    let err = resolve_trusted_root(Some(&dir.path().join("missing.json")), |_| None).unwrap_err();
    assert!(err.to_string().starts_with("trusted root: "), "{err}");
    assert_eq!(
        TrustSource::PublicGoodSnapshot.to_string(),
        "the shipped public-good trusted root"
    );
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = TrustedRoot::parse(&bytes);
        let _ = SigningConfig::parse(&bytes);
        let _ = ClientTrustConfig::parse(&bytes);
        let _ = CosignTrustOverrides { fulcio_certificates_pem: Some(bytes.clone()), rekor_public_keys_pem: Some(bytes.clone()),
            ctlog_public_keys_pem: Some(bytes.clone()), tsa_certificates_pem: Some(bytes), }.to_trusted_root();
    }

    #[test]
    fn mutated_real_documents_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        for doc in [public_good::TRUSTED_ROOT_JSON, public_good::SIGNING_CONFIG_REKOR_V2_JSON] {
            let mut m = doc.to_vec();
            let i = pos.index(m.len());
            m[i] = byte;
            if let Ok(root) = TrustedRoot::parse(&m) {
                prop_assert!(TrustedRoot::parse(root.to_json().as_bytes()).is_ok());
            }
            if let Ok(sc) = SigningConfig::parse(&m) {
                prop_assert_eq!(SigningConfig::parse(sc.to_json().as_bytes()).unwrap(), sc);
            }
        }
    }

    #[test]
    fn selection_never_panics(versions in proptest::collection::vec(0u32..4, 0..4), count in 0u32..5, secs in 0i64..4_000_000_000) {
        let sc = public_good::signing_config_rekor_v2().unwrap();
        let now = Timestamp::from_second(secs).unwrap();
        let _ = sc.select_ca(&versions, now);
        let _ = sc.select_rekor(&versions, now);
        let _ = select_services("x", &sc.rekor_tlog_urls, Some(ServiceSelector::Exact(count)), &versions, now);
    }
}
