#!/usr/bin/env bash
# Regenerates the keyless interop vectors under tests/vectors/: real cosign 2.5
# and sigstore-python 4.5.1 signing against the mock Sigstore
# (scripts/mock-sigstore.js) with ID tokens from signet's test issuer
# (signet-test-oidc), and a Distribution registry for the image signatures.
# Every vector is verified again by the peers before the script ends; the
# READMEs beside the vectors say what each file is.
#
#   bash scripts/make-keyless-vectors.sh     # overwrites the vector directories
#
# The mock makes new keys on every run, so a run replaces all of them together.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup-peers.sh >/dev/null
export SIGNET_PEERS=${SIGNET_PEERS:-$root/.peers}
B=$SIGNET_PEERS/bin
cargo build -q -p signet-testing --bin signet-test-oidc
SIGNET_TEST_OIDC_BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/signet-test-oidc
export SIGNET_TEST_OIDC_BIN

SIGNET_RUN=$(mktemp -d -t signet-vectors.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
start_registry
start_mock_sigstore
start_test_oidc
OIDC=$SIGNET_TEST_OIDC_URL
M=$SIGNET_TEST_SIGSTORE_URL
REG=$SIGNET_TEST_REGISTRY

# Stable identities: the mock CA does not check token signatures, so the
# tokens name fixed issuers instead of the test issuer's random port.
EMAIL=keyless@example.test
EMAIL_ISSUER=https://oidc.signet.test
GITEA=https://gitea.signet.test
GITEA_ISSUER=$GITEA/api/actions
token() { curl -sf -H 'Content-Type: application/json' -d "$1" "$OIDC/_test/token"; }
TOK=$(token "{\"profile\":\"email\",\"email\":\"$EMAIL\",\"claims\":{\"iss\":\"$EMAIL_ISSUER\"}}")

W=$SIGNET_RUN/work
mkdir -p "$W" "$W/home/tuf"
export HOME=$W/home TUF_ROOT=$W/home/tuf COSIGN_PASSWORD=vector-password
export SIGSTORE_ROOT_FILE=$SIGNET_TEST_FULCIO_ROOT SIGSTORE_REKOR_PUBLIC_KEY=$SIGNET_TEST_REKOR_PUBLIC_KEY
export SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=$SIGNET_TEST_CTLOG_PUBLIC_KEY SIGSTORE_TSA_CERTIFICATE_FILE=$SIGNET_TEST_TSA_CHAIN
# Everything stays on loopback: a peer that tries to reach the public Sigstore
# (its TUF mirror, say) hits a closed local proxy port and fails at once.
export HTTPS_PROXY=${SIGNET_VECTORS_PROXY:-http://127.0.0.1:9} HTTP_PROXY=${SIGNET_VECTORS_PROXY:-http://127.0.0.1:9} NO_PROXY=127.0.0.1,localhost
unset ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN GITHUB_ACTIONS SIGSTORE_ID_TOKEN
cd "$W"
# Runs a peer quietly; on failure shows what it said and stops.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "make-keyless-vectors: failed: $*" >&2
    exit 1
  fi
}
keyless=(--fulcio-url "$M" --rekor-url "$M")

TRUST=$root/tests/vectors/sigstore-mock
COSIGN=$root/tests/vectors/cosign-2.5-keyless
PY=$root/tests/vectors/sigstore-python-4.5.1
for d in "$TRUST" "$COSIGN" "$PY"; do
  mkdir -p "$d"
  find "$d" -mindepth 1 ! -name README.md -delete
done

# --- trust material -----------------------------------------------------------
for f in trusted_root.json trusted_root.compat.json signing_config.json client_trust_config.json \
         fulcio-root.pem rekor.pub ctlog.pub tsa-chain.pem; do
  cp "$SIGNET_TEST_SIGSTORE_DIR/$f" "$TRUST/$f"
done
cat > "$TRUST/identities.json" <<EOF
{
  "email": {"identity": "$EMAIL", "issuer": "$EMAIL_ISSUER"},
  "gitea-actions": {
    "identity": "$GITEA/golemtrust/app/.gitea/workflows/release.yml@refs/heads/main",
    "issuer": "$GITEA_ISSUER",
    "repository": "golemtrust/app"
  },
  "mock-url": "$M"
}
EOF

# --- registry helpers -----------------------------------------------------------
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json'
manifest() { curl -sf -H "Accept: $ACCEPT" "http://$REG/v2/$1/manifests/$2"; }
digest_of() { curl -sfI -H "Accept: $ACCEPT" "http://$REG/v2/$1/manifests/$2" | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}'; }
blob() { curl -sf "http://$REG/v2/$1/blobs/$2"; }
# save_manifest REPO REF PREFIX: PREFIX.manifest.json, PREFIX.config.json and
# PREFIX.layer-N.<ext> for every layer, byte for byte as the registry has them.
save_manifest() {
  local repo=$1 ref=$2 prefix=$3
  manifest "$repo" "$ref" > "$prefix.manifest.json"
  python3 - "$prefix" <<'PY' | while read -r digest file; do blob "$repo" "$digest" > "$file"; done
import json, sys
prefix = sys.argv[1]
m = json.load(open(prefix + ".manifest.json"))
print(m["config"]["digest"], prefix + ".config.json")
for i, layer in enumerate(m.get("layers", []), 1):
    ext = "json" if layer["mediaType"].endswith("json") else "bin"
    print(layer["digest"], f"{prefix}.layer-{i}.{ext}")
PY
}
push_image() {
  python3 "$root/scripts/mk-oci-layout.py" "$W/layout-$1" "$1" >/dev/null
  "$B/skopeo" --insecure-policy copy -q --dest-tls-verify=false "oci:$W/layout-$1:v1" "docker://$REG/vectors/$1:v1"
  digest_of "vectors/$1" v1
}

# --- cosign 2.5: blobs -------------------------------------------------------------
printf 'signet keyless interop vector\n' > "$COSIGN/blob"
cp "$COSIGN/blob" blob
quiet "$B/cosign" sign-blob --yes "${keyless[@]}" --identity-token "$TOK" \
  --new-bundle-format --bundle "$COSIGN/blob.sigstore.json" blob
quiet "$B/cosign" sign-blob --yes "${keyless[@]}" --timestamp-server-url "$M/api/v1/timestamp" --identity-token "$TOK" \
  --new-bundle-format --bundle "$COSIGN/blob-tsa.sigstore.json" blob
quiet "$B/cosign" sign-blob --yes "${keyless[@]}" --identity-token "$TOK" \
  --bundle "$COSIGN/blob.legacy-bundle.json" --output-signature "$COSIGN/blob.sig" \
  --output-certificate "$COSIGN/blob.pem" blob
# A Gitea-shaped CI job: no token on the command line, cosign asks the
# Actions token endpoint of the job environment (audience sigstore).
job=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"profile\":\"gitea-actions\",\"claims\":{\"iss\":\"$GITEA_ISSUER\"}}" "$OIDC/_test/actions-job")
ACTIONS_ID_TOKEN_REQUEST_URL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["request_url"])' "$job") \
ACTIONS_ID_TOKEN_REQUEST_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["request_token"])' "$job") \
  quiet "$B/cosign" sign-blob --yes "${keyless[@]}" --new-bundle-format --bundle "$COSIGN/blob-gitea.sigstore.json" blob

# Negative variants: another artefact, and a bundle whose signature has one bit flipped.
printf 'signet keyless interop vector!\n' > "$COSIGN/blob.tampered"
python3 - "$COSIGN/blob.sigstore.json" "$COSIGN/blob.bad-signature.sigstore.json" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
sig = bytearray(base64.b64decode(b["messageSignature"]["signature"]))
sig[-1] ^= 1
b["messageSignature"]["signature"] = base64.b64encode(bytes(sig)).decode()
json.dump(b, open(sys.argv[2], "w"))
PY

# --- cosign 2.5: images -------------------------------------------------------------
img_digest=$(push_image keyless)
echo "$img_digest" > "$COSIGN/image.digest"
quiet "$B/cosign" sign --yes --allow-http-registry "${keyless[@]}" --identity-token "$TOK" "$REG/vectors/keyless@$img_digest"
save_manifest vectors/keyless "sha256-${img_digest#sha256:}.sig" "$COSIGN/image.sig"

key_digest=$(push_image keyed)
echo "$key_digest" > "$COSIGN/image-key.digest"
quiet "$B/cosign" generate-key-pair --output-key-prefix "$COSIGN/cosign"
quiet "$B/cosign" sign --yes --allow-http-registry --key "$COSIGN/cosign.key" --rekor-url "$M" "$REG/vectors/keyed@$key_digest"
save_manifest vectors/keyed "sha256-${key_digest#sha256:}.sig" "$COSIGN/image-key.sig"

att_digest=$(push_image attested)
echo "$att_digest" > "$COSIGN/image-attest.digest"
printf '{"buildType":"https://signet.test/build","builder":{"id":"https://gitea.signet.test/runner"}}\n' > "$COSIGN/predicate.json"
quiet "$B/cosign" attest --yes --allow-http-registry "${keyless[@]}" --identity-token "$TOK" \
  --type slsaprovenance --predicate "$COSIGN/predicate.json" "$REG/vectors/attested@$att_digest"
save_manifest vectors/attested "sha256-${att_digest#sha256:}.att" "$COSIGN/image.att"

# OCI 1.1: a legacy-format signature stored as a referrer; Distribution 2.8
# has no referrers API, so cosign also writes the sha256-<hex> fallback index.
oci_digest=$(push_image oci11)
echo "$oci_digest" > "$COSIGN/image-oci11.digest"
COSIGN_EXPERIMENTAL=1 quiet "$B/cosign" sign --yes --allow-http-registry "${keyless[@]}" --identity-token "$TOK" \
  --registry-referrers-mode=oci-1-1 "$REG/vectors/oci11@$oci_digest"
manifest vectors/oci11 "sha256-${oci_digest#sha256:}" > "$COSIGN/image-oci11.index.json"
ref=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$COSIGN/image-oci11.index.json")
save_manifest vectors/oci11 "$ref" "$COSIGN/image-oci11.referrer"

# A Sigstore bundle v0.3 (DSSE) stored as a referrer: `attest --new-bundle-format`.
bun_digest=$(push_image bundle)
echo "$bun_digest" > "$COSIGN/image-bundle.digest"
quiet "$B/cosign" attest --yes --allow-http-registry "${keyless[@]}" --identity-token "$TOK" --new-bundle-format \
  --type slsaprovenance --predicate "$COSIGN/predicate.json" "$REG/vectors/bundle@$bun_digest"
manifest vectors/bundle "sha256-${bun_digest#sha256:}" > "$COSIGN/image-bundle.index.json"
ref=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$COSIGN/image-bundle.index.json")
save_manifest vectors/bundle "$ref" "$COSIGN/image-bundle.referrer"

# --- sigstore-python 4.5.1 -----------------------------------------------------------
cp "$COSIGN/blob" "$PY/blob"
quiet "$B/sigstore" --trust-config "$SIGNET_TEST_CLIENT_TRUST_CONFIG" sign --identity-token "$TOK" \
  --bundle "$PY/blob.sigstore.json" "$PY/blob"

# --- every vector verifies with the peers, offline, against the saved trust ---------
export SIGSTORE_ROOT_FILE=$TRUST/fulcio-root.pem SIGSTORE_REKOR_PUBLIC_KEY=$TRUST/rekor.pub
export SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=$TRUST/ctlog.pub SIGSTORE_TSA_CERTIFICATE_FILE=$TRUST/tsa-chain.pem
ok() { echo "make-keyless-vectors: verified $*"; }
id=(--certificate-identity "$EMAIL" --certificate-oidc-issuer "$EMAIL_ISSUER")
for b in "$COSIGN/blob.sigstore.json" "$COSIGN/blob-tsa.sigstore.json" "$PY/blob.sigstore.json"; do
  quiet "$B/cosign" verify-blob --new-bundle-format --bundle "$b" --trusted-root "$TRUST/trusted_root.compat.json" "${id[@]}" "$COSIGN/blob"
  quiet "$B/sigstore-go-verification" -trustedrootJSONpath "$TRUST/trusted_root.compat.json" -expectedSAN "$EMAIL" \
    -expectedIssuer "$EMAIL_ISSUER" -artifact "$COSIGN/blob" "$b"
  quiet "$B/sigstore" --trust-config "$TRUST/client_trust_config.json" verify identity --offline --bundle "$b" \
    --cert-identity "$EMAIL" --cert-oidc-issuer "$EMAIL_ISSUER" "$COSIGN/blob"
  ok "$(basename "$(dirname "$b")")/$(basename "$b") (cosign, sigstore-go, sigstore-python)"
done
quiet "$B/cosign" verify-blob --new-bundle-format --bundle "$COSIGN/blob-gitea.sigstore.json" --trusted-root "$TRUST/trusted_root.compat.json" \
  --certificate-identity "$GITEA/golemtrust/app/.gitea/workflows/release.yml@refs/heads/main" \
  --certificate-oidc-issuer "$GITEA_ISSUER" --certificate-github-workflow-repository golemtrust/app "$COSIGN/blob"
ok "blob-gitea.sigstore.json (cosign)"
quiet "$B/cosign" verify-blob --bundle "$COSIGN/blob.legacy-bundle.json" "${id[@]}" "$COSIGN/blob"
ok "blob.legacy-bundle.json (cosign)"
quiet "$B/cosign" verify-blob --signature "$COSIGN/blob.sig" --certificate "$COSIGN/blob.pem" --insecure-ignore-tlog=true \
  --insecure-ignore-sct=false "${id[@]}" "$COSIGN/blob"
ok "blob.sig + blob.pem (cosign, no log)"
if "$B/cosign" verify-blob --new-bundle-format --bundle "$COSIGN/blob.sigstore.json" --trusted-root "$TRUST/trusted_root.compat.json" "${id[@]}" "$COSIGN/blob.tampered" >/dev/null 2>&1 \
  || "$B/cosign" verify-blob --new-bundle-format --bundle "$COSIGN/blob.bad-signature.sigstore.json" --trusted-root "$TRUST/trusted_root.compat.json" "${id[@]}" "$COSIGN/blob" >/dev/null 2>&1; then
  echo "make-keyless-vectors: a negative vector verified" >&2; exit 1
fi
ok "the negative vectors fail"
quiet "$B/cosign" verify --allow-http-registry "${id[@]}" "$REG/vectors/keyless@$img_digest"
ok "image.sig (cosign verify)"
quiet "$B/cosign" verify --allow-http-registry --key "$COSIGN/cosign.pub" "$REG/vectors/keyed@$key_digest"
ok "image-key.sig (cosign verify --key, with the log)"
quiet "$B/cosign" verify-attestation --allow-http-registry --type slsaprovenance "${id[@]}" "$REG/vectors/attested@$att_digest"
ok "image.att (cosign verify-attestation)"
COSIGN_EXPERIMENTAL=1 quiet "$B/cosign" verify --allow-http-registry --experimental-oci11 "${id[@]}" "$REG/vectors/oci11@$oci_digest"
ok "image-oci11 (cosign verify --experimental-oci11)"
quiet "$B/cosign" verify-attestation --allow-http-registry --new-bundle-format --trusted-root "$TRUST/trusted_root.compat.json" --type slsaprovenance "${id[@]}" "$REG/vectors/bundle@$bun_digest"
ok "image-bundle (cosign verify-attestation --new-bundle-format)"
echo "make-keyless-vectors: written to tests/vectors/{sigstore-mock,cosign-2.5-keyless,sigstore-python-4.5.1}"
