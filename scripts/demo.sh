#!/usr/bin/env bash
# The runbook's manual-signing workflow on a fresh machine, against a local
# registry: install the peers, build signet, start a registry on a free
# loopback port, push a small image, generate a key pair, sign, verify (and
# let cosign verify signet's signature). Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh
cargo build --release --locked -p signet-cli
signet=$PWD/target/release/signet
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-demo.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_registry
image=$SIGNET_TEST_REGISTRY/base-images/debian:bookworm
python3 scripts/mk-oci-layout.py "$SIGNET_RUN/layout" demo >/dev/null
"$SIGNET_PEERS/bin/skopeo" --insecure-policy copy -q --dest-tls-verify=false "oci:$SIGNET_RUN/layout:v1" "docker://$image"

cd "$SIGNET_RUN"
export COSIGN_PASSWORD=demo-password HOME=$SIGNET_RUN TUF_ROOT=$SIGNET_RUN/tuf
step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$signet" generate-key-pair
step "$signet" sign --key cosign.key --allow-http-registry --tlog-upload=false "$image"
step "$signet" verify --key cosign.pub --allow-http-registry "$image"
echo
echo "# cosign accepts signet's signature:"
step "$SIGNET_PEERS/bin/cosign" verify --key cosign.pub --allow-http-registry --insecure-ignore-tlog "$image" >/dev/null
echo
echo "# an unsigned image is refused with cosign's exit code 10:"
python3 "$OLDPWD/scripts/mk-oci-layout.py" "$SIGNET_RUN/other" unsigned >/dev/null
"$SIGNET_PEERS/bin/skopeo" --insecure-policy copy -q --dest-tls-verify=false "oci:$SIGNET_RUN/other:v1" "docker://$SIGNET_TEST_REGISTRY/base-images/unsigned:v1"
set +e
"$signet" verify --key cosign.pub --allow-http-registry "$SIGNET_TEST_REGISTRY/base-images/unsigned:v1"
echo "exit code: $?"
