//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use signet_pki::ca::{CaOptions, KeyAlgorithm, SigningCa, create_fulcio_ca, create_tsa};
use signet_pki::time::from_unix_seconds;

/// A fixed instant for issued material (2027-01-15T08:00:00Z).
pub fn now() -> SystemTime {
    from_unix_seconds(1_800_000_000)
}

pub fn options(subject: &str) -> CaOptions {
    options_at(subject, now())
}

pub fn options_at(subject: &str, at: SystemTime) -> CaOptions {
    CaOptions {
        subject: subject.into(),
        not_before: at - Duration::from_secs(86_400),
        not_after: at + Duration::from_secs(365 * 86_400),
    }
}

pub fn fulcio_ca(algorithm: KeyAlgorithm) -> SigningCa {
    create_fulcio_ca(
        algorithm,
        &options("CN=signet-test-root,O=signet.test"),
        &options("CN=signet-test-intermediate,O=signet.test"),
    )
    .unwrap()
}

pub fn tsa(algorithm: KeyAlgorithm) -> SigningCa {
    tsa_at(algorithm, now())
}

/// A TSA whose certificates are valid around `at` (OpenSSL checks at the clock's time).
pub fn tsa_at(algorithm: KeyAlgorithm, at: SystemTime) -> SigningCa {
    create_tsa(
        algorithm,
        &options_at("CN=signet-tsa-root,O=signet.test", at),
        &options_at("CN=signet-tsa-intermediate,O=signet.test", at),
        &options_at("CN=signet-tsa,O=signet.test", at),
    )
    .unwrap()
}

/// Runs `openssl` with `args` in `dir` (always `Some`; a missing openssl
/// fails the test).
pub fn openssl(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(out) => Some(out),
        Err(e) => {
            // A test that cannot run must fail, never pass unseen; openssl
            // is part of every Debian base system and of scripts/test.sh.
            panic!("openssl is required for this test but cannot run: {e}")
        }
    }
}
