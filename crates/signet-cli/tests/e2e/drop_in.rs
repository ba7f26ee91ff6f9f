//! cosign flags that signet honours, checked against cosign itself where
//! both ends can be: signatures kept off the registry, detached signatures,
//! certificates with a key, custom payloads and identities, images saved by
//! `cosign save`, and the older blob bundle.

use std::path::Path;

use crate::harness::{AIR_GAPPED, Env, Peers, signet_key_pair, tests, unique_repo};

tests![
    sign_without_upload_writes_files_and_leaves_the_registry_alone,
    certificate_and_chain_travel_with_key_signatures,
    payload_and_claimed_identity,
    images_saved_by_cosign_verify_offline,
    blob_flags_as_cosign_has_them,
];

const HTTP: &str = "--allow-http-registry";
const NO_TLOG: &str = "--tlog-upload=false";

fn vectors(dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(dir)
}

fn sign_without_upload_writes_files_and_leaves_the_registry_alone(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("no-upload");
    let (image, digest) = env.push_image(&repo);
    let run = env
        .signet(
            d,
            &[
                "sign",
                "--key",
                "k.key",
                HTTP,
                "--upload=false",
                "--output-signature",
                "s.sig",
                "--output-payload",
                "s.payload",
                &image,
            ],
        )
        .ok();
    assert!(!run.stderr.contains("Pushing"), "{}", run.stderr);
    assert!(
        env.signature_manifest(&repo, &digest).is_none(),
        "nothing was stored"
    );
    let payload: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("s.payload")).unwrap()).unwrap();
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    // The detached signature verifies, in signet and in cosign, with and
    // without the payload (cosign's default payload is the one signed).
    for extra in [&["--payload", "s.payload"][..], &[]] {
        let mut args = vec![
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--signature",
            "s.sig",
        ];
        args.extend_from_slice(extra);
        args.push(&image);
        env.signet(d, &args).ok();
        let mut args = vec![
            "verify",
            "--key",
            "k.pub",
            HTTP,
            "--insecure-ignore-tlog",
            "--signature",
            "s.sig",
        ];
        args.extend_from_slice(extra);
        args.push(&image);
        env.cosign(d, &args).ok();
    }
    // The signature content itself, as cosign also takes it.
    let content = std::fs::read_to_string(d.join("s.sig")).unwrap();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--signature",
            &content,
            &image,
        ],
    )
    .ok();
    // A signature for another image does not verify for this one.
    let (other, _) = env.push_distinct_image(&unique_repo("no-upload-other"), "other");
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--signature",
            "s.sig",
            &other,
        ],
    )
    .fails_with(12, "no matching signatures");
    // By digest, nothing needs the registry at all: here, no registry listens.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let offline = format!("127.0.0.1:{port}/app@{digest}");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            "--upload=false",
            "--output-signature",
            "offline.sig",
            &offline,
        ],
    )
    .ok();
    assert!(d.join("offline.sig").exists());
    // Files are never overwritten, and one file cannot hold two images.
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--output-signature",
            "s.sig",
            &image,
        ],
    )
    .fails_with(1, "already exists");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--output-signature",
            "two.sig",
            &image,
            &other,
        ],
    )
    .fails_with(1, "2 images were given");
    // With -r, one file per manifest, named as cosign names them.
    let index_repo = unique_repo("no-upload-index");
    let (index, index_digest) = env.push_index(&index_repo);
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            "-r",
            "--upload=false",
            "--output-signature",
            "r.sig",
            &index,
        ],
    )
    .ok();
    let written: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("r.sig-sha256-"))
        .collect();
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(written.contains(&format!("r.sig-{}", index_digest.replace(':', "-"))));
    assert!(env.signature_manifest(&index_repo, &index_digest).is_none());
}

fn certificate_and_chain_travel_with_key_signatures(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let certs = vectors("certificates");
    let key = vectors("import").join("ec-pkcs8.pem");
    env.signet(
        d,
        &["import-key-pair", "--key", key.to_str().unwrap(), "-o", "c"],
    )
    .ok();
    signet_key_pair(env, d, "other");
    let (leaf, leaf_der, chain, other_ca) = (
        certs.join("leaf.crt.pem"),
        certs.join("leaf.crt.der"),
        certs.join("chain.pem"),
        certs.join("other-ca.pem"),
    );
    let (leaf, leaf_der, chain, other_ca) = (
        leaf.to_str().unwrap(),
        leaf_der.to_str().unwrap(),
        chain.to_str().unwrap(),
        other_ca.to_str().unwrap(),
    );
    let repo = unique_repo("cert");
    let (image, digest) = env.push_image(&repo);
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            NO_TLOG,
            "--certificate",
            leaf,
            "--certificate-chain",
            chain,
            "--output-certificate",
            "out.crt",
            &image,
        ],
    )
    .ok();
    let manifest = env.signature_manifest(&repo, &digest).unwrap();
    let annotations = &manifest["layers"][0]["annotations"];
    let leaf_pem = std::fs::read_to_string(leaf).unwrap();
    assert_eq!(
        annotations["dev.sigstore.cosign/certificate"],
        leaf_pem.as_str()
    );
    let stored_chain = annotations["dev.sigstore.cosign/chain"].as_str().unwrap();
    assert_eq!(stored_chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert_eq!(
        std::fs::read_to_string(d.join("out.crt")).unwrap(),
        leaf_pem
    );
    // Both tools verify it with the key.
    env.signet(d, &["verify", AIR_GAPPED, "--key", "c.pub", HTTP, &image])
        .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "c.pub",
            HTTP,
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .ok();
    // A DER certificate works too; cosign's own certificate-bearing signature verifies in signet.
    let (second, _) = env.push_distinct_image(&unique_repo("cert-der"), "der");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            NO_TLOG,
            "--certificate",
            leaf_der,
            &second,
        ],
    )
    .ok();
    let (third, _) = env.push_distinct_image(&unique_repo("cert-cosign"), "cosign");
    env.cosign(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            NO_TLOG,
            "--yes",
            "--certificate",
            leaf,
            "--certificate-chain",
            chain,
            &third,
        ],
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "c.pub", HTTP, &third])
        .ok();
    // Refused before signing: another key's certificate, a chain of another
    // CA, a chain without its certificate.
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "other.key",
            HTTP,
            NO_TLOG,
            "--certificate",
            leaf,
            &image,
        ],
    )
    .fails_with(1, "is not the signing key");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            NO_TLOG,
            "--certificate",
            leaf,
            "--certificate-chain",
            other_ca,
            &image,
        ],
    )
    .fails_with(1, "certificate chain does not verify");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "c.key",
            HTTP,
            NO_TLOG,
            "--certificate-chain",
            chain,
            &image,
        ],
    )
    .fails_with(1, "needs the --certificate");
    // sign-blob puts the certificate in the bundle, and writes it on request.
    std::fs::write(d.join("blob"), "blob").unwrap();
    env.signet(
        d,
        &[
            "sign-blob",
            "--key",
            "c.key",
            NO_TLOG,
            "--certificate",
            leaf,
            "--bundle",
            "c.bundle",
            "--output-certificate",
            "blob.crt",
            "blob",
        ],
    )
    .ok();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("c.bundle")).unwrap()).unwrap();
    assert!(
        bundle["verificationMaterial"]["certificate"]["rawBytes"].is_string(),
        "{bundle}"
    );
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "c.pub",
            "--bundle",
            "c.bundle",
            "blob",
        ],
    )
    .ok();
    // As cosign writes it: base64 of the PEM.
    use base64::Engine as _;
    let written = std::fs::read_to_string(d.join("blob.crt")).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(written.trim())
            .unwrap(),
        leaf_pem.as_bytes()
    );
}

fn payload_and_claimed_identity(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    let repo = unique_repo("identity");
    let (image, _) = env.push_image(&repo);
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--sign-container-identity",
            "registry.example/claimed",
            &image,
        ],
    )
    .ok();
    let run = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", HTTP, &image])
        .ok();
    let payloads: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        payloads[0]["critical"]["identity"]["docker-reference"],
        "registry.example/claimed"
    );
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            HTTP,
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .ok();
    // signet's repository check sees the claimed identity for what it is.
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            HTTP,
            "--match-repository",
            &image,
        ],
    )
    .fails_with(12, "not");

    // A payload made elsewhere (here: by an earlier run) is signed as given.
    let (second, _) = env.push_distinct_image(&unique_repo("payload"), "payload");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            "--upload=false",
            "-a",
            "team=a,stage=b",
            "--output-payload",
            "p.json",
            &second,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--payload",
            "p.json",
            &second,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify", AIR_GAPPED, "--key", "k.pub", HTTP, "-a", "team=a", "-a", "stage=b", &second,
        ],
    )
    .ok();
    // It must be for the image being signed.
    env.signet(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            HTTP,
            NO_TLOG,
            "--payload",
            "p.json",
            &image,
        ],
    )
    .fails_with(1, "the payload given is not for this image");
}

fn images_saved_by_cosign_verify_offline(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "k");
    signet_key_pair(env, d, "other");
    let (image, digest) = env.push_image(&unique_repo("saved"));
    env.signet(
        d,
        &[
            "sign", "--key", "k.key", HTTP, NO_TLOG, "-a", "env=prod", &image,
        ],
    )
    .ok();
    env.cosign(d, &["save", HTTP, "--dir", "layout", &image])
        .ok();
    let run = env
        .signet(
            d,
            &[
                "verify",
                AIR_GAPPED,
                "--key",
                "k.pub",
                "--local-image",
                "-a",
                "env=prod",
                "layout",
            ],
        )
        .ok();
    assert!(
        run.stderr.contains("Verification for layout --"),
        "{}",
        run.stderr
    );
    let payloads: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--local-image",
            "--insecure-ignore-tlog",
            "layout",
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "other.pub",
            "--local-image",
            "layout",
        ],
    )
    .fails_with(12, "no matching signatures");
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--local-image",
            "-a",
            "env=dev",
            "layout",
        ],
    )
    .fails_with(12, "annotation env");
    // An unsigned image saved: no signatures (exit 10); not a layout: one line.
    let (unsigned, _) = env.push_distinct_image(&unique_repo("saved-unsigned"), "unsigned");
    env.cosign(d, &["save", HTTP, "--dir", "unsigned", &unsigned])
        .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--local-image",
            "unsigned",
        ],
    )
    .fails_with(10, "no signatures");
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--local-image",
            "k.pub",
        ],
    )
    .fails_with(1, "not an OCI image layout");
    // A payload changed on disk is caught by its digest.
    let layout = d.join("layout/blobs/sha256");
    for entry in std::fs::read_dir(&layout).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("docker-manifest-digest") {
            std::fs::write(&path, text.replace("env", "vne")).unwrap();
        }
    }
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--local-image",
            "layout",
        ],
    )
    .fails_with(12, "expected sha256:");
}

fn blob_flags_as_cosign_has_them(peers: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(peers, d, "s");
    peers
        .cosign(d, &["generate-key-pair", "--output-key-prefix", "c"])
        .ok();
    std::fs::write(d.join("blob"), "release notes\n").unwrap();
    // cosign 2.5's default bundle is the older format: each tool reads the other's.
    peers
        .signet(
            d,
            &[
                "sign-blob",
                "--key",
                "s.key",
                NO_TLOG,
                "--new-bundle-format=false",
                "--bundle",
                "old.json",
                "blob",
            ],
        )
        .ok();
    let old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("old.json")).unwrap()).unwrap();
    assert!(old["base64Signature"].is_string() && old.get("mediaType").is_none());
    peers
        .cosign(
            d,
            &[
                "verify-blob",
                "--key",
                "s.pub",
                "--bundle",
                "old.json",
                "--insecure-ignore-tlog=true",
                "blob",
            ],
        )
        .ok();
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "s.pub",
                "--bundle",
                "old.json",
                "blob",
            ],
        )
        .ok();
    peers
        .cosign(
            d,
            &[
                "sign-blob",
                "--key",
                "c.key",
                NO_TLOG,
                "--yes",
                "--bundle",
                "cold.json",
                "blob",
            ],
        )
        .ok();
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "c.pub",
                "--bundle",
                "cold.json",
                "blob",
            ],
        )
        .ok();
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "s.pub",
                "--bundle",
                "cold.json",
                "blob",
            ],
        )
        .fails_with(1, "invalid signature");
    // --b64=false: raw signature bytes, which verify-blob also reads.
    peers
        .signet(
            d,
            &[
                "sign-blob",
                "--key",
                "s.key",
                NO_TLOG,
                "--b64=false",
                "--output-signature",
                "raw.sig",
                "blob",
            ],
        )
        .ok();
    let raw = std::fs::read(d.join("raw.sig")).unwrap();
    assert_eq!(raw[0], 0x30, "DER, not base64");
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "s.pub",
                "--signature",
                "raw.sig",
                "blob",
            ],
        )
        .ok();
    // The base64 signature itself as --signature, as cosign accepts it.
    let printed = peers
        .signet(d, &["sign-blob", "--key", "s.key", NO_TLOG, "blob"])
        .ok();
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "s.pub",
                "--signature",
                printed.stdout.trim(),
                "blob",
            ],
        )
        .ok();
    peers
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "s.pub",
                "--signature",
                "no-such-file",
                "blob",
            ],
        )
        .fails_with(1, "no such file, and not a base64 signature");
    // --signing-algorithm must name the key's algorithm.
    peers
        .signet(
            d,
            &[
                "sign-blob",
                "--key",
                "s.key",
                NO_TLOG,
                "--signing-algorithm",
                "ecdsa-sha2-256-nistp256",
                "blob",
            ],
        )
        .ok();
    peers
        .signet(
            d,
            &[
                "sign-blob",
                "--key",
                "s.key",
                NO_TLOG,
                "--signing-algorithm",
                "ecdsa-sha2-384-nistp384",
                "blob",
            ],
        )
        .fails_with(1, "does not match the key");
}
