//! What one ECDSA P-256 operation costs on this machine, single-threaded:
//! signet-core's keys (the pure-Rust `p256` crate, which `signet server`
//! uses to verify every proposed log entry and to sign every Rekor v1 SET)
//! against aws-lc-rs (already linked as rustls's provider), and parsing the
//! PEM public key a hashedrekord entry carries. Prints one line per
//! operation with microseconds per call (median of five rounds).
//!
//! ```text
//! cargo run --release -p signet-sigstore --example ecdsa-cost [-- ROUNDS_OF_N]
//! ```

use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use signet_core::Digest;
use signet_core::keys::{PrivateKey, PublicKey};

/// Microseconds per call of `f`, the median of five rounds of `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let message = b"an artefact of about this size, signed and then logged".repeat(4);
    let digest = Digest::sha256_of(&message);

    let ours = PrivateKey::generate_p256().expect("p256 key");
    let ours_public = ours.public_key();
    let ours_pem = ours_public.to_pem();
    let ours_signature = ours.sign(&message).expect("sign");

    let pkcs8 = ours.to_pkcs8_der().expect("pkcs8");
    let theirs =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).expect("aws-lc key");
    let theirs_public = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_ASN1,
        theirs.public_key().as_ref().to_vec(),
    );
    let rng = SystemRandom::new();

    let rows = [
        (
            "verify (signet-core, p256 crate)",
            per_call(n, || {
                ours_public
                    .verify_digest(&digest, &ours_signature)
                    .expect("verifies");
            }),
        ),
        (
            "verify (aws-lc-rs)",
            per_call(n, || {
                theirs_public
                    .verify(&message, &ours_signature)
                    .expect("verifies");
            }),
        ),
        (
            "sign (signet-core, p256 crate)",
            per_call(n, || {
                ours.sign(&message).expect("sign");
            }),
        ),
        (
            "sign (aws-lc-rs)",
            per_call(n, || {
                theirs.sign(&rng, &message).expect("sign");
            }),
        ),
        (
            "parse PEM public key (signet-core)",
            per_call(n, || {
                PublicKey::from_pem(ours_pem.as_bytes()).expect("pem");
            }),
        ),
    ];
    for (name, micros) in rows {
        println!("{name}: {micros:.1} µs");
    }
}
