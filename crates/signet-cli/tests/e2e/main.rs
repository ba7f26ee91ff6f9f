//! End-to-end tests: the real `signet` binary, alone, beside the real peers
//! (cosign 2.5, skopeo 1.18), and against real services: two Distribution
//! registries and an OpenBao server. `scripts/test.sh` starts the services
//! and sets:
//!
//! - `SIGNET_TEST_REGISTRY`: `127.0.0.1:PORT` of a plain-HTTP registry
//! - `SIGNET_TEST_AUTH_REGISTRY`, `SIGNET_TEST_AUTH_USER`, `SIGNET_TEST_AUTH_PASSWORD`:
//!   a registry with TLS (self-signed) and basic authentication
//! - `SIGNET_TEST_CA_REGISTRY`, `SIGNET_TEST_MTLS_REGISTRY`, `SIGNET_TEST_TLS_DIR`:
//!   registries with certificates from a test CA (the second requires a client
//!   certificate), and the CA and client certificate files
//! - `SIGNET_TEST_VAULT_ADDR`, `SIGNET_TEST_VAULT_TOKEN`: an OpenBao dev server
//! - `SIGNET_TEST_VAULT_TLS_ADDR`, `SIGNET_TEST_VAULT_MTLS_ADDR`,
//!   `SIGNET_TEST_VAULT_TLS_DIR`, `SIGNET_TEST_VAULT_TLS_TOKEN`: a second
//!   OpenBao serving TLS with a test CA (the second address requires a client
//!   certificate), for `vault_tls`
//! - `SIGNET_PEERS`: where `scripts/setup-peers.sh` put cosign, skopeo, bao,
//!   sigstore-python and sigstore-go
//! - the registry gate and the admission webhook (`gate`, `admission`) run
//!   as `signet` processes on free loopback ports in front of these
//! - `SIGNET_TEST_SIGSTORE_URL`, `SIGNET_TEST_SIGSTORE_DIR`: the mock Sigstore
//!   (Fulcio, Rekor, CT log, TSA) and its trust files, for `sigstore_peers`
//! - `SIGNET_RELEASE_BIN`: the binary as `scripts/build-release.sh` ships it,
//!   for `shipped_build`
//!
//! Without them, each test that needs them is reported as ignored, with the
//! reason, unless `SIGNET_E2E_REQUIRED=1` (as in `scripts/test.sh`), when it
//! fails. How to write a test: see `harness.rs`.

mod harness;

mod admission;
mod auth;
mod bad_input;
mod blobs;
mod cli;
mod drop_in;
mod enforce_process;
mod flags;
mod formats;
mod gate;
mod interop;
mod keyless_sign;
mod keyless_verify;
mod keys;
mod local_input;
mod policy;
mod server;
mod server_durability;
mod server_log;
mod server_process;
mod server_signet;
mod shipped_build;
mod sign_verify;
mod sigstore_peers;
mod tls;
mod vault;
mod vault_tls;

fn main() {
    harness::run_all(&[
        admission::tests,
        auth::tests,
        bad_input::tests,
        blobs::tests,
        cli::tests,
        drop_in::tests,
        flags::tests,
        formats::tests,
        gate::tests,
        interop::tests,
        keyless_verify::tests,
        keys::tests,
        keyless_sign::tests,
        local_input::tests,
        policy::tests,
        server::tests,
        server_durability::tests,
        server_log::tests,
        server_signet::tests,
        shipped_build::tests,
        sign_verify::tests,
        sigstore_peers::tests,
        tls::tests,
        vault::tests,
        vault_tls::tests,
    ])
}
