//! A `.sig` manifest of 1,000 layers that all name one 1 MiB blob: the blob
//! is read once, the layer is checked once, and memory stays flat. (Alone in
//! its test binary so that the peak-memory reading is this test's own.)

mod scripted;

use base64::Engine as _;
use scripted::{Body, Registry, peak_rss};
use signet_core::keys::PrivateKey;
use signet_core::signature_manifest::{Layer, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_flow::verify::{ImageVerifyError, LayoutOrder, verify_image};
use signet_verify::{ImagePolicy, TrustedKey, Verifier, VerifyError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_identical_layers_cost_one_fetch_and_one_check() {
    let registry = Registry::start().await;
    let image = registry.image();
    let (blob, size) = registry.blob(Body::Filled {
        byte: b'x',
        len: 1 << 20,
    });
    let junk_signature =
        base64::engine::general_purpose::STANDARD.encode([0x30, 0x06, 2, 1, 1, 2, 1, 1]);
    let layer = Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        size,
        digest: blob,
        annotations: [(
            "dev.cosignproject.cosign/signature".to_owned(),
            junk_signature,
        )]
        .into(),
    };
    registry.signatures(&image, vec![layer; 1000]);

    let key = PrivateKey::generate_p256().unwrap();
    // The signatures here are never logged: the log check is skipped, by name.
    let verifier = Verifier::builder()
        .trusted_key(TrustedKey::new("k", key.public_key()))
        .unsafe_skip_transparency_log()
        .build()
        .unwrap();
    let before = peak_rss();
    let started = std::time::Instant::now();
    let err = verify_image(
        &registry.store(),
        &verifier,
        &registry.reference(),
        false,
        LayoutOrder::LegacyFirst,
        ImagePolicy::for_digest,
    )
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    let grown = peak_rss().saturating_sub(before);

    assert_eq!(registry.blob_gets(), 1, "one fetch for one distinct digest");
    let ImageVerifyError::Verify {
        error: VerifyError::NoMatchingSignature { rejections, .. },
        ..
    } = err
    else {
        panic!("expected no matching signature, got {err}");
    };
    assert_eq!(rejections.len(), 1000);
    let duplicates = rejections
        .iter()
        .filter(|r| r.reason == "identical to layer 1")
        .count();
    assert_eq!(duplicates, 999, "only the first layer is checked");
    // Keeping every layer's payload would take 1000 MiB.
    assert!(grown < 48 << 20, "peak memory grew by {grown} bytes");
    assert!(registry.bytes_served() < 3 << 20);
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
}
