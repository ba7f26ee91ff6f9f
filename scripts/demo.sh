#!/usr/bin/env bash
# The runbook on a fresh machine, against a local registry: install the
# peers, build signet, start a registry on a free loopback port, push a small
# image; then
# 1. manual signing: generate a key pair, sign, verify (and let cosign
#    verify signet's signature);
# 2. the keyless release pipeline against a private Sigstore, with no
#    external service: `signet server init` and `run` (embedded store), a
#    Gitea Actions job environment whose ID token comes from the test OIDC
#    issuer (Gitea-shaped claims), `signet sign --yes`, `signet verify` by
#    identity regexp, and cosign verifying the same image with the served
#    trust material.
# Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh
bin=$(bash scripts/build-release.sh -p signet-testing)
signet=$bin/signet
export SIGNET_TEST_OIDC_BIN=$bin/signet-test-oidc
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
# Runs a verify command and prints who signed instead of the JSON payloads.
verified_by() {
  printf '\n$ %s\n' "$*"
  "$@" > verified.json
  python3 -c 'import json,sys; print("signed by:", ", ".join(sorted({p["optional"]["Subject"] for p in json.load(open(sys.argv[1]))})))' verified.json
}
step "$signet" generate-key-pair
step "$signet" sign --key cosign.key --allow-http-registry --tlog-upload=false "$image"
step "$signet" verify --key cosign.pub --allow-http-registry --insecure-ignore-tlog "$image"
echo
echo "# cosign accepts signet's signature:"
step "$SIGNET_PEERS/bin/cosign" verify --key cosign.pub --allow-http-registry --insecure-ignore-tlog "$image" >/dev/null

echo
echo "# The keyless release pipeline against a private Sigstore (signet server)."
echo "# A Gitea instance's Actions issuer (the test issuer, <instance>/api/actions):"
start_test_oidc --path-prefix /api/actions
issuer=$SIGNET_TEST_OIDC_URL
instance=${issuer%/api/actions}
echo "issuer $issuer"
port=$(free_port)
sigstore=http://127.0.0.1:$port
export SIGNET_SERVER_PASSWORD=demo-server-password
step "$signet" server init sigstore --public-url "$sigstore" --oidc-issuer "$issuer=gitea-actions"
printf '\n$ %s &\n' "$signet server run sigstore --listen 127.0.0.1:$port"
SIGNET_LOG=warn "$signet" server run sigstore --listen "127.0.0.1:$port" 2>"$SIGNET_RUN/signet-server.log" &
echo $! > "$SIGNET_RUN/signet-server.pid"
wait_http "$sigstore/readyz"
step curl -sfO "$sigstore/trusted_root.json"

echo
echo "# The CI job: the runner offers ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN (no token on the command line)."
job=$(curl -sf -H 'Content-Type: application/json' -d '{"profile":"gitea-actions"}' "$issuer/_test/actions-job")
ACTIONS_ID_TOKEN_REQUEST_URL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["request_url"])' "$job")
ACTIONS_ID_TOKEN_REQUEST_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["request_token"])' "$job")
export ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN
app=$SIGNET_TEST_REGISTRY/golemtrust/app:v1
"$SIGNET_PEERS/bin/skopeo" --insecure-policy copy -q --dest-tls-verify=false "oci:$SIGNET_RUN/layout:v1" "docker://$app"
step "$signet" sign --yes --allow-http-registry --fulcio-url "$sigstore" --rekor-url "$sigstore" \
  --trusted-root trusted_root.json "$app"
unset ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN

echo
echo "# The release gate: any workflow of the golemtrust organisation on that instance."
verified_by "$signet" verify --allow-http-registry --trusted-root trusted_root.json \
  --certificate-oidc-issuer "$issuer" --certificate-identity-regexp "^$instance/golemtrust/.*" "$app"
echo
echo "# cosign accepts it with the server's trust material (SIGSTORE_* files from the data directory):"
SIGSTORE_ROOT_FILE=sigstore/fulcio-chain.pem SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=sigstore/ctlog.pub \
SIGSTORE_REKOR_PUBLIC_KEY=sigstore/rekor.pub SIGSTORE_TSA_CERTIFICATE_FILE=sigstore/tsa-chain.pem \
  verified_by "$SIGNET_PEERS/bin/cosign" verify --allow-http-registry --rekor-url "$sigstore" \
  --certificate-oidc-issuer "$issuer" --certificate-identity-regexp "^$instance/golemtrust/.*" "$app"
echo
echo "# another organisation's workflow is refused (exit code 12):"
set +e
"$signet" verify --allow-http-registry --trusted-root trusted_root.json \
  --certificate-oidc-issuer "$issuer" --certificate-identity-regexp "^$instance/someone-else/.*" "$app" >/dev/null
echo "exit code: $?"
set -e

echo
echo "# an unsigned image is refused with cosign's exit code 10:"
python3 "$OLDPWD/scripts/mk-oci-layout.py" "$SIGNET_RUN/other" unsigned >/dev/null
"$SIGNET_PEERS/bin/skopeo" --insecure-policy copy -q --dest-tls-verify=false "oci:$SIGNET_RUN/other:v1" "docker://$SIGNET_TEST_REGISTRY/base-images/unsigned:v1"
set +e
"$signet" verify --key cosign.pub --allow-http-registry --insecure-ignore-tlog "$SIGNET_TEST_REGISTRY/base-images/unsigned:v1"
echo "exit code: $?"
