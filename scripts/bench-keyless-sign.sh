#!/usr/bin/env bash
# Times keyless `sign-blob --bundle` by signet and by cosign 2.5 in one run,
# against the same mock Sigstore (Fulcio, Rekor v1, TSA on a free loopback
# port): token → ephemeral key → certificate → signature → timestamp → log
# entry → bundle. Prints medians and the ratio for docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh >&2
bin=$(bash scripts/build-release.sh)
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-bench-keyless.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_mock_sigstore
# The venv's python has `cryptography` (sigstore-python's dependency) to sign
# the ID token cosign insists on parsing.
"$SIGNET_PEERS/venv/bin/python" scripts/bench_keyless_sign.py "$bin/signet" "${RUNS:-15}"
