#!/usr/bin/env bash
# Benchmarks signet against cosign in one run on this machine: release build,
# a fresh registry on a free loopback port, the same keys and images for both.
# Prints a Markdown table (medians, ratios) for docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh >&2
cargo build --release --locked -p signet-cli >&2
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-bench.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_registry
export SIGNET_BIN=$PWD/target/release/signet COSIGN_BIN=$SIGNET_PEERS/bin/cosign SKOPEO_BIN=$SIGNET_PEERS/bin/skopeo
COSIGN_VERSION="$(dpkg-deb -f "$(ls "$SIGNET_PEERS"/debs/cosign_*.deb | head -n1)" Version) (Debian package)"
export COSIGN_VERSION
python3 scripts/bench.py
# signet server: certificates and timestamps per second over loopback
# (no local Fulcio or TSA exists to compare against).
cargo build --release --locked -p signet-server --example load >&2
echo
SIGNET_LOG=warn "$PWD/target/release/examples/load" "${BENCH_SERVER_REQUESTS:-200}"
