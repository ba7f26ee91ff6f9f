//! OCI 1.1 referrers against a real registry without the referrers API
//! (Distribution 2.8): the `sha256-<hex>` fallback index, and concurrent
//! writers that must all end up listed. Needs `SIGNET_TEST_REGISTRY`
//! (`scripts/test.sh` starts one); without it the tests say they are skipped,
//! and fail under `SIGNET_E2E_REQUIRED=1`.

use std::sync::Arc;

use signet_core::referrer::{
    BundleReferrer, ContentDescriptor, OCI_MANIFEST_MEDIA_TYPE, fallback_tag,
};
use signet_oci::manifest::OCI_MANIFEST;
use signet_oci::referrers::{Indexed, ReferrerStore};
use signet_oci::{ClientOptions, Credential, Digest, RegistryClient, RepositoryRef};

const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

fn registry() -> Option<String> {
    match std::env::var("SIGNET_TEST_REGISTRY") {
        Ok(r) => Some(r),
        Err(_) => {
            if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
                panic!("SIGNET_TEST_REGISTRY is not set: run scripts/test.sh");
            }
            eprintln!("skipped: SIGNET_TEST_REGISTRY is not set (run scripts/test.sh)");
            None
        }
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(ClientOptions {
        allow_http_registry: true,
        credentials: Some(Credential::Anonymous),
        ..ClientOptions::default()
    })
    .unwrap()
}

fn unique() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Pushes a one-layer image and returns its repository and descriptor.
async fn image(c: &RegistryClient, registry: &str) -> (RepositoryRef, ContentDescriptor) {
    let repo: RepositoryRef = format!("{registry}/signet-referrers/app-{}", unique())
        .parse()
        .unwrap();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = c.push_blob(&repo, config).await.unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[]}}"#,
        config.len()
    );
    let digest = c
        .put_manifest(&repo, "v1", manifest.as_bytes(), OCI_MANIFEST)
        .await
        .unwrap();
    (
        repo,
        ContentDescriptor {
            media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
            digest,
            size: manifest.len() as u64,
        },
    )
}

fn referrer(subject: &ContentDescriptor, bundle: &[u8]) -> Vec<u8> {
    BundleReferrer {
        bundle_media_type: BUNDLE_TYPE.into(),
        bundle_digest: Digest::sha256_of(bundle),
        bundle_size: bundle.len() as u64,
        subject: subject.clone(),
        content: "message-signature".into(),
        predicate_type: None,
        created: "2026-11-28T00:00:00Z".into(),
    }
    .manifest_bytes()
}

#[tokio::test]
#[cfg_attr(
    not(signet_registry),
    ignore = "needs the test registry (SIGNET_TEST_REGISTRY; run scripts/test.sh)"
)]
async fn a_referrer_is_listed_in_the_fallback_index() {
    let Some(registry) = registry() else { return };
    let c = client();
    let (repo, subject) = image(&c, &registry).await;
    let store = ReferrerStore::new(c.clone());
    assert!(store.list(&repo, &subject.digest).await.unwrap().is_empty());

    let bundle = br#"{"bundle":1}"#;
    let manifest = referrer(&subject, bundle);
    let attached = store
        .attach(&repo, &subject.digest, &manifest, &[bundle], BUNDLE_TYPE)
        .await
        .unwrap();
    // Distribution 2.8 has no referrers API.
    assert!(
        matches!(attached.indexed, Indexed::FallbackTag { .. }),
        "{attached:?}"
    );
    let listed = store.list(&repo, &subject.digest).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].digest, Digest::sha256_of(&manifest));
    assert_eq!(listed[0].artifact_type.as_deref(), Some(BUNDLE_TYPE));
    // The manifest and its blobs are there.
    let stored = c
        .get_manifest(&repo, &attached.manifest.to_string())
        .await
        .unwrap();
    assert_eq!(stored.bytes, manifest);
    assert!(
        c.blob_exists(&repo, &Digest::sha256_of(bundle))
            .await
            .unwrap()
    );
    // Attaching again changes nothing.
    let again = store
        .attach(&repo, &subject.digest, &manifest, &[bundle], BUNDLE_TYPE)
        .await
        .unwrap();
    assert_eq!(again.indexed, Indexed::AlreadyListed);
    let index = c
        .get_manifest(&repo, &fallback_tag(&subject.digest))
        .await
        .unwrap();
    assert_eq!(index.media_type, "application/vnd.oci.image.index.v1+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(signet_registry),
    ignore = "needs the test registry (SIGNET_TEST_REGISTRY; run scripts/test.sh)"
)]
async fn concurrent_writers_all_end_up_in_the_fallback_index() {
    let Some(registry) = registry() else { return };
    let c = client();
    let (repo, subject) = image(&c, &registry).await;
    const WRITERS: usize = 8;
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        // Each writer has its own client (its own connections), as separate
        // signet processes would.
        let store = ReferrerStore::new(client());
        let repo = repo.clone();
        let subject = subject.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let bundle = format!("{{\"writer\":{i}}}").into_bytes();
            let manifest = referrer(&subject, &bundle);
            start.wait().await;
            store
                .attach(&repo, &subject.digest, &manifest, &[&bundle], BUNDLE_TYPE)
                .await
                .map(|a| (a, Digest::sha256_of(&manifest)))
        }));
    }
    let mut expected = Vec::new();
    let mut merges = 0;
    for t in tasks {
        let (attached, digest) = t.await.unwrap().unwrap();
        if let Indexed::FallbackTag { merged_again, .. } = attached.indexed {
            merges += merged_again;
        }
        expected.push(digest);
    }
    let listed = ReferrerStore::new(c)
        .list(&repo, &subject.digest)
        .await
        .unwrap();
    let mut got: Vec<Digest> = listed.into_iter().map(|e| e.digest).collect();
    got.sort_by_key(|d| d.to_string());
    expected.sort_by_key(|d| d.to_string());
    assert_eq!(got, expected, "every writer's referrer is listed");
    eprintln!("{WRITERS} concurrent writers: {merges} merges after losing a race");
}
