//! Marks the tests that need a registry as ignored (reported as skipped, not
//! passed) when the harness (`scripts/test.sh`) has not started one.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(signet_registry)");
    println!("cargo:rerun-if-env-changed=SIGNET_TEST_REGISTRY");
    if std::env::var_os("SIGNET_TEST_REGISTRY").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=signet_registry");
    }
}
