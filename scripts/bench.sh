#!/usr/bin/env bash
# Benchmarks signet against cosign in one run on this machine: release build,
# a fresh registry on a free loopback port, the same keys and images for both;
# and keyless verification against cosign, sigstore-go and sigstore-python,
# of signatures cosign made against the mock Sigstore (scripts/mock-sigstore.js)
# on loopback. Prints Markdown tables (medians, ratios) for docs/PERFORMANCE.md.
#   BENCH_ONLY=keyless bash scripts/bench.sh   # only the keyless part
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh >&2
# The shipped build (scripts/build-release.sh); the test OIDC issuer mints the
# ID tokens the keyless part signs with.
bin=$(bash scripts/build-release.sh -p signet-testing)
export SIGNET_TEST_OIDC_BIN=$bin/signet-test-oidc
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-bench.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_registry
start_mock_sigstore
start_test_oidc
export SIGNET_BIN=$bin/signet COSIGN_BIN=$SIGNET_PEERS/bin/cosign SKOPEO_BIN=$SIGNET_PEERS/bin/skopeo
COSIGN_VERSION="$(dpkg-deb -f "$(ls "$SIGNET_PEERS"/debs/cosign_*.deb | head -n1)" Version) (Debian package)"
export COSIGN_VERSION
SIGSTORE_GO_VERSION="$(dpkg-deb -f "$(ls "$SIGNET_PEERS"/debs/sigstore-go_*.deb | head -n1)" Version) (Debian package)"
export SIGSTORE_GO_VERSION SIGSTORE_GO_BIN=$SIGNET_PEERS/bin/sigstore-go-verification SIGSTORE_PYTHON_BIN=$SIGNET_PEERS/bin/sigstore
python3 scripts/bench.py
[ "${BENCH_ONLY:-}" = keyless ] && exit 0
# signet server: certificates and timestamps per second over loopback
# (no local Fulcio or TSA exists to compare against).
load=$(bash scripts/build-release.sh -p signet-server --example load)/examples/load
echo
SIGNET_LOG=warn "$load" "${BENCH_SERVER_REQUESTS:-200}"
