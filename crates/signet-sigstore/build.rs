//! Marks the tests that need the mock Sigstore as ignored (reported as skipped, not
//! passed) when the harness (`scripts/test.sh`) has not started one.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(signet_mock_sigstore)");
    println!("cargo:rerun-if-env-changed=SIGNET_TEST_SIGSTORE_DIR");
    if std::env::var_os("SIGNET_TEST_SIGSTORE_DIR").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=signet_mock_sigstore");
    }
}
