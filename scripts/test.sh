#!/usr/bin/env bash
# The whole test suite: installs the real peers if missing, starts registries,
# an OpenBao dev server, a mock Sigstore and PostgreSQL on free 127.0.0.1 ports in temp dirs, runs lints
# and every test (unit, property, end-to-end), then stops the services and
# removes the temp dir, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-test.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_registry
start_auth_registry
start_ca_registries
start_openbao
start_openbao_tls
start_mock_sigstore
start_postgres
echo "test.sh: registries on $SIGNET_TEST_REGISTRY (HTTP), $SIGNET_TEST_AUTH_REGISTRY (TLS, basic auth), $SIGNET_TEST_CA_REGISTRY (TLS, test CA) and $SIGNET_TEST_MTLS_REGISTRY (mutual TLS), OpenBao on $SIGNET_TEST_VAULT_ADDR and $SIGNET_TEST_VAULT_TLS_ADDR (TLS; mutual TLS on $SIGNET_TEST_VAULT_MTLS_ADDR), mock Sigstore on $SIGNET_TEST_SIGSTORE_URL, PostgreSQL on ${SIGNET_TEST_POSTGRES_URL#postgres://signet@}"

# Lints, where the toolchain has them (a toolchain cannot be fetched here).
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check; else echo "test.sh: rustfmt not installed; format check skipped"; fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --locked -- -D warnings
else
  echo "test.sh: clippy not installed; lint skipped"
fi

# The binary as it is shipped, linked differently from the test profile's
# (scripts/build-release.sh); the end-to-end tests in shipped_build drive it.
SIGNET_RELEASE_BIN=$(bash scripts/build-release.sh)/signet
export SIGNET_RELEASE_BIN

# End-to-end tests fail (rather than skip) when the services are missing.
export SIGNET_E2E_REQUIRED=1
log=$SIGNET_RUN/cargo-test.log
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test binaries.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1); if ($i ~ /^ignored/) s += $(i-1) } }
     END { printf "signet: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
