//! Manifests crafted to multiply a verifier's work, served by a scripted
//! registry: distinct payloads are read once, reading and checking are capped
//! per image, and verification stops at the first good signature.

mod scripted;

use std::collections::BTreeMap;

use base64::Engine as _;
use scripted::{Body, Registry};
use signet_core::keys::PrivateKey;
use signet_core::limits::MAX_SIGNATURE_BYTES_PER_IMAGE;
use signet_core::payload::SimpleSigningPayload;
use signet_core::signature_manifest::{Layer, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use signet_flow::verify::{ImageVerifyError, LayoutOrder, verify_image};
use signet_verify::{ImagePolicy, Rejection, TrustedKey, Verifier, VerifyError};

const MIB: usize = 1 << 20;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn layer(digest: signet_core::Digest, size: u64, signature: String) -> Layer {
    Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        size,
        digest,
        annotations: [(SIGNATURE_ANNOTATION.to_owned(), signature)].into(),
    }
}

fn verifier() -> (PrivateKey, Verifier) {
    let key = PrivateKey::generate_p256().unwrap();
    // The signatures here are never logged: the log check is skipped, by name.
    let verifier = Verifier::builder()
        .trusted_key(TrustedKey::new("k", key.public_key()))
        .unsafe_skip_transparency_log()
        .build()
        .unwrap();
    (key, verifier)
}

async fn rejections(registry: &Registry, verifier: &Verifier) -> Vec<Rejection> {
    let err = verify_image(
        &registry.store(),
        verifier,
        &registry.reference(),
        false,
        LayoutOrder::LegacyFirst,
        ImagePolicy::for_digest,
    )
    .await
    .unwrap_err();
    match err {
        ImageVerifyError::Verify {
            error: VerifyError::NoMatchingSignature { rejections, .. },
            ..
        } => rejections,
        other => panic!("expected no matching signature, got {other}"),
    }
}

#[tokio::test]
async fn distinct_signatures_over_one_large_payload_are_checked_within_the_budget() {
    let registry = Registry::start().await;
    let image = registry.image();
    let (blob, size) = registry.blob(Body::Filled {
        byte: b'y',
        len: MIB,
    });
    // Each layer has its own (bad) signature, so none is a duplicate.
    let layers = (0..1000u32)
        .map(|n| layer(blob.clone(), size, b64(&n.to_be_bytes())))
        .collect();
    registry.signatures(&image, layers);
    let (_, verifier) = verifier();
    let rejections = rejections(&registry, &verifier).await;
    assert_eq!(registry.blob_gets(), 1);
    assert_eq!(rejections.len(), 1000);
    let unchecked = rejections
        .iter()
        .filter(|r| r.reason.starts_with("not checked"))
        .count();
    assert_eq!(unchecked, 1000 - MAX_SIGNATURE_BYTES_PER_IMAGE / MIB);
}

#[tokio::test]
async fn distinct_large_payloads_are_read_within_the_budget() {
    let registry = Registry::start().await;
    let image = registry.image();
    let layers = (0..100u8)
        .map(|n| {
            let (blob, size) = registry.blob(Body::Filled { byte: n, len: MIB });
            layer(blob, size, b64(b"junk"))
        })
        .collect();
    registry.signatures(&image, layers);
    let (_, verifier) = verifier();
    let rejections = rejections(&registry, &verifier).await;
    assert_eq!(registry.blob_gets(), MAX_SIGNATURE_BYTES_PER_IMAGE / MIB);
    let not_read = rejections
        .iter()
        .filter(|r| r.reason.starts_with("not read"))
        .count();
    assert_eq!(not_read, 100 - MAX_SIGNATURE_BYTES_PER_IMAGE / MIB);
    assert!(registry.bytes_served() < (MAX_SIGNATURE_BYTES_PER_IMAGE + MIB) as u64);
}

#[tokio::test]
async fn verification_stops_at_the_first_good_signature() {
    let registry = Registry::start().await;
    let image = registry.image();
    let (key, verifier) = verifier();
    // Signed with an annotation the policy does not ask for, so the payload
    // is not predicted and has to be read.
    let claims = BTreeMap::from([("by".to_owned(), "test".to_owned())]);
    let reference = registry.reference();
    let payload =
        SimpleSigningPayload::new(reference.repo_name(), image.clone(), &claims).to_bytes();
    let (good, good_size) = registry.blob(Body::Bytes(payload.clone().into()));
    let mut layers = vec![layer(good, good_size, b64(&key.sign(&payload).unwrap()))];
    for n in 0..999u32 {
        let (blob, size) = registry.blob(Body::Bytes(format!("junk {n}").into_bytes().into()));
        layers.push(layer(blob, size, b64(b"junk")));
    }
    registry.signatures(&image, layers);
    let verified = verify_image(
        &registry.store(),
        &verifier,
        &reference,
        false,
        LayoutOrder::LegacyFirst,
        ImagePolicy::for_digest,
    )
    .await
    .unwrap();
    assert_eq!(verified[0].signatures.len(), 1);
    assert!(verified[0].signatures[0].origin.ends_with("layer 1"));
    // The good payload, plus at most the few read ahead of it.
    assert!(
        registry.blob_gets() <= 9,
        "{} blob reads",
        registry.blob_gets()
    );
}
