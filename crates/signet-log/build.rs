//! Marks the tests that need PostgreSQL as ignored (reported as skipped,
//! not passed) when the harness has not started one.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(signet_postgres)");
    println!("cargo:rerun-if-env-changed=SIGNET_TEST_POSTGRES_URL");
    if std::env::var_os("SIGNET_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=signet_postgres");
    }
}
