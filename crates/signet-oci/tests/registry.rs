//! Round trip against a real plain-HTTP registry, e.g. Distribution's
//! `docker-registry serve`, at `SIGNET_TEST_REGISTRY=host:port`.
//!
//! Without that variable each test is reported as ignored (with the reason),
//! and with `SIGNET_E2E_REQUIRED=1` (as in `scripts/test.sh`) as failed:
//! never as passed. A new test is an `async fn(registry: String)` added to
//! `main`'s list.

use std::future::Future;

use libtest_mimic::{Arguments, Completion, Trial};
use signet_oci::manifest::{self, OCI_MANIFEST};
use signet_oci::{
    ClientOptions, Credential, Digest, Reference, RegistryClient, RegistryError, RepositoryRef,
};

fn client(max_manifest_bytes: usize) -> RegistryClient {
    RegistryClient::new(ClientOptions {
        allow_http_registry: true,
        // Never read the developer's own docker/podman credentials.
        credentials: Some(Credential::Anonymous),
        max_manifest_bytes,
        ..ClientOptions::default()
    })
    .unwrap()
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![registry_test(
        "push_and_pull_round_trip",
        push_and_pull_round_trip,
    )];
    libtest_mimic::run(&args, trials).exit()
}

/// A test that needs the registry at `SIGNET_TEST_REGISTRY`.
fn registry_test<F>(name: &str, test: fn(String) -> F) -> Trial
where
    F: Future<Output = ()> + 'static,
{
    Trial::ignorable_test(name, move || {
        let Ok(registry) = std::env::var("SIGNET_TEST_REGISTRY") else {
            let why = "SIGNET_TEST_REGISTRY is not set: scripts/test.sh starts a registry";
            if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
                return Err(format!("cannot run: {why}").into());
            }
            return Ok(Completion::ignored_with(why));
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?
            .block_on(test(registry));
        Ok(Completion::Completed)
    })
}

async fn push_and_pull_round_trip(registry: String) {
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let repo: RepositoryRef = format!("{registry}/signet-oci-test/app-{unique}")
        .parse()
        .unwrap();
    let c = client(4 << 20);
    c.ping(&registry).await.unwrap();

    // Two blobs; the second push of the same bytes takes the "already there" path.
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let config_digest = c.push_blob(&repo, config).await.unwrap();
    let layer_digest = c.push_blob(&repo, &layer).await.unwrap();
    assert_eq!(c.push_blob(&repo, &layer).await.unwrap(), layer_digest);
    assert_eq!(layer_digest, Digest::sha256_of(&layer));
    assert!(c.blob_exists(&repo, &layer_digest).await.unwrap());
    assert_eq!(
        c.get_blob(&repo, &layer_digest, 1 << 20).await.unwrap(),
        layer
    );
    let err = c.get_blob(&repo, &layer_digest, 100).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit: 100, .. }),
        "{err}"
    );
    let missing_blob = Digest::sha256_of(b"never pushed");
    assert!(!c.blob_exists(&repo, &missing_blob).await.unwrap());
    let err = c.get_blob(&repo, &missing_blob, 1 << 20).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let manifest_json = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let bytes = manifest_json.as_bytes();
    let digest = c
        .put_manifest(&repo, "v1", bytes, OCI_MANIFEST)
        .await
        .unwrap();
    assert_eq!(digest, Digest::sha256_of(bytes));
    // By digest too (what cosign does for signature manifests' subjects).
    assert_eq!(
        c.put_manifest(&repo, &digest.to_string(), bytes, OCI_MANIFEST)
            .await
            .unwrap(),
        digest
    );

    for reference in ["v1".to_owned(), digest.to_string()] {
        let desc = c.head_manifest(&repo, &reference).await.unwrap().unwrap();
        assert_eq!(
            (desc.digest.clone(), desc.size),
            (digest.clone(), bytes.len() as u64)
        );
        assert_eq!(desc.media_type, OCI_MANIFEST);
        let m = c.get_manifest(&repo, &reference).await.unwrap();
        assert_eq!(
            (m.bytes.as_slice(), m.media_type.as_str(), &m.digest),
            (bytes, OCI_MANIFEST, &digest)
        );
        let parsed = manifest::parse_image_manifest(&m.bytes).unwrap();
        assert_eq!(parsed.layers[0].digest, layer_digest);
    }
    let tagged: Reference = format!("{repo}:v1").parse().unwrap();
    assert_eq!(c.resolve_digest(&tagged).await.unwrap(), digest);

    // Missing tag, missing repository.
    assert_eq!(c.head_manifest(&repo, "missing").await.unwrap(), None);
    let err = c.get_manifest(&repo, "missing").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string().contains("\"missing\"") && err.to_string().contains(&repo.to_string()),
        "{err}"
    );
    let err = c
        .resolve_digest(&tagged.with_tag("missing").unwrap())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let nowhere: RepositoryRef = format!("{registry}/signet-oci-test/absent-{unique}")
        .parse()
        .unwrap();
    let err = c.get_manifest(&nowhere, "latest").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(c.head_manifest(&nowhere, "latest").await.unwrap(), None);

    // Manifest size limit, enforced on the bytes received.
    let err = client(64).get_manifest(&repo, "v1").await.unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit: 64, .. }),
        "{err}"
    );

    // A digest reference that the bytes do not hash to is refused before upload.
    let err = c
        .put_manifest(&repo, &missing_blob.to_string(), bytes, OCI_MANIFEST)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");

    // Without allow_http_registry, a loopback registry still falls back to
    // plain HTTP once HTTPS fails, as go-containerregistry decides.
    let default = RegistryClient::new(ClientOptions {
        credentials: Some(Credential::Anonymous),
        ..ClientOptions::default()
    })
    .unwrap();
    assert_eq!(
        default.get_manifest(&repo, "v1").await.unwrap().digest,
        digest
    );
}
