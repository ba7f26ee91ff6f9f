# Sourced by test.sh, demo.sh and bench.sh: starts a Distribution registry,
# an OpenBao dev server and a mock Sigstore (Fulcio, Rekor, CT log, TSA) on free
# 127.0.0.1 ports inside $SIGNET_RUN (a temp dir the caller owns), and stops
# them again. Nothing listens beyond loopback.
# shellcheck shell=bash

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "services: $1 did not come up" >&2; return 1
}

start_registry() {
  local port; port=$(free_port)
  mkdir -p "$SIGNET_RUN/registry"
  cat > "$SIGNET_RUN/registry.yml" <<EOC
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $SIGNET_RUN/registry}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http: {addr: 127.0.0.1:$port}
EOC
  docker-registry serve "$SIGNET_RUN/registry.yml" > "$SIGNET_RUN/registry.log" 2>&1 &
  echo $! > "$SIGNET_RUN/registry.pid"
  export SIGNET_TEST_REGISTRY=127.0.0.1:$port
  wait_http "http://$SIGNET_TEST_REGISTRY/v2/"
}

# A second registry with TLS (a self-signed certificate for 127.0.0.1) and
# htpasswd (basic) authentication, for --allow-insecure-registry and the
# docker/podman credential files.
start_auth_registry() {
  local port; port=$(free_port)
  local dir=$SIGNET_RUN/auth-registry
  mkdir -p "$dir/data"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=signet test registry" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  export SIGNET_TEST_AUTH_USER=signet-tester SIGNET_TEST_AUTH_PASSWORD=s3cret-pw
  "$SIGNET_PEERS/venv/bin/python" -c 'import bcrypt, sys; print(sys.argv[1] + ":" + bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt(5)).decode())' \
    "$SIGNET_TEST_AUTH_USER" "$SIGNET_TEST_AUTH_PASSWORD" > "$dir/htpasswd"
  cat > "$dir/config.yml" <<EOC
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
auth:
  htpasswd: {realm: signet-test, path: $dir/htpasswd}
http:
  addr: 127.0.0.1:$port
  tls: {certificate: $dir/cert.pem, key: $dir/key.pem}
EOC
  docker-registry serve "$dir/config.yml" > "$SIGNET_RUN/auth-registry.log" 2>&1 &
  echo $! > "$SIGNET_RUN/auth-registry.pid"
  export SIGNET_TEST_AUTH_REGISTRY=127.0.0.1:$port
  for _ in $(seq 1 200); do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://$SIGNET_TEST_AUTH_REGISTRY/v2/")" = 401 ] && return 0
    sleep 0.05
  done
  echo "services: the TLS registry did not come up" >&2; return 1
}

start_openbao() {
  # bao also listens on its port + 1 (cluster), which may be taken: try again
  # on another port if the server does not come up.
  local port pid
  for _ in 1 2 3; do
    port=$(free_port)
    "$SIGNET_PEERS/bin/bao" server -dev -dev-root-token-id=signet-test-root \
      -dev-listen-address="127.0.0.1:$port" > "$SIGNET_RUN/openbao.log" 2>&1 &
    pid=$!
    echo "$pid" > "$SIGNET_RUN/openbao.pid"
    export SIGNET_TEST_VAULT_ADDR=http://127.0.0.1:$port SIGNET_TEST_VAULT_TOKEN=signet-test-root
    for _ in $(seq 1 200); do
      curl -sf -o /dev/null "$SIGNET_TEST_VAULT_ADDR/v1/sys/health" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "services: OpenBao did not come up (see $SIGNET_RUN/openbao.log)" >&2; return 1
}

# The sigstore-js mock services behind scripts/mock-sigstore.js: Fulcio v1/v2
# with an embedded-SCT CT log, Rekor v1/v2, an RFC 3161 TSA. Exports the URL
# and the trust files that describe it:
#   SIGNET_TEST_SIGSTORE_URL            base URL of every service
#   SIGNET_TEST_SIGSTORE_DIR            the directory holding the files below
#   SIGNET_TEST_TRUSTED_ROOT            trusted_root.json (protobuf-specs, current)
#   SIGNET_TEST_TRUSTED_ROOT_COMPAT     the same for cosign 2.5 / sigstore-go 0.7
#   SIGNET_TEST_SIGNING_CONFIG          signing_config v0.2
#   SIGNET_TEST_CLIENT_TRUST_CONFIG     for sigstore-python --trust-config
#   SIGNET_TEST_FULCIO_ROOT, SIGNET_TEST_REKOR_PUBLIC_KEY,
#   SIGNET_TEST_CTLOG_PUBLIC_KEY, SIGNET_TEST_TSA_CHAIN   for cosign's SIGSTORE_* variables
start_mock_sigstore() {
  local dir=$SIGNET_RUN/mock-sigstore here pid
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  rm -rf "$dir"
  NODE_PATH=$SIGNET_PEERS/npm/node_modules node "$here/mock-sigstore.js" "$dir" > "$SIGNET_RUN/mock-sigstore.log" 2>&1 &
  pid=$!
  echo "$pid" > "$SIGNET_RUN/mock-sigstore.pid"
  # The server picks its own free port and writes its URL last.
  for _ in $(seq 1 200); do
    [ -s "$dir/url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$dir/url" ]; then
    echo "services: the mock Sigstore did not come up (see $SIGNET_RUN/mock-sigstore.log)" >&2; return 1
  fi
  export SIGNET_TEST_SIGSTORE_URL; SIGNET_TEST_SIGSTORE_URL=$(cat "$dir/url")
  export SIGNET_TEST_SIGSTORE_DIR=$dir
  export SIGNET_TEST_TRUSTED_ROOT=$dir/trusted_root.json
  export SIGNET_TEST_TRUSTED_ROOT_COMPAT=$dir/trusted_root.compat.json
  export SIGNET_TEST_SIGNING_CONFIG=$dir/signing_config.json
  export SIGNET_TEST_CLIENT_TRUST_CONFIG=$dir/client_trust_config.json
  export SIGNET_TEST_FULCIO_ROOT=$dir/fulcio-root.pem
  export SIGNET_TEST_REKOR_PUBLIC_KEY=$dir/rekor.pub
  export SIGNET_TEST_CTLOG_PUBLIC_KEY=$dir/ctlog.pub
  export SIGNET_TEST_TSA_CHAIN=$dir/tsa-chain.pem
  wait_http "$SIGNET_TEST_SIGSTORE_URL/healthz"
}

# The test OIDC issuer (crates/signet-testing, binary signet-test-oidc) for
# scripts; Rust tests start it in-process instead. Build it first
# (`cargo build -p signet-testing`) or set SIGNET_TEST_OIDC_BIN. Arguments go
# to the binary (e.g. `--path-prefix /api/actions` for a Gitea/Forgejo-shaped
# issuer). Exports SIGNET_TEST_OIDC_URL, the issuer URL; tokens come from
# `curl -d '{"profile":"email","email":"a@example.test"}' $SIGNET_TEST_OIDC_URL/_test/token`.
start_test_oidc() {
  local bin=${SIGNET_TEST_OIDC_BIN:-${CARGO_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target}/debug/signet-test-oidc}
  local pid
  [ -x "$bin" ] || { echo "services: $bin not built (cargo build -p signet-testing)" >&2; return 1; }
  rm -f "$SIGNET_RUN/test-oidc.url"
  "$bin" --url-file "$SIGNET_RUN/test-oidc.url" "$@" > "$SIGNET_RUN/test-oidc.log" 2>&1 &
  pid=$!
  echo "$pid" > "$SIGNET_RUN/test-oidc.pid"
  for _ in $(seq 1 200); do
    [ -s "$SIGNET_RUN/test-oidc.url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$SIGNET_RUN/test-oidc.url" ] || { echo "services: the test OIDC issuer did not come up (see $SIGNET_RUN/test-oidc.log)" >&2; return 1; }
  export SIGNET_TEST_OIDC_URL; SIGNET_TEST_OIDC_URL=$(cat "$SIGNET_RUN/test-oidc.url")
}

stop_services() {
  for s in registry auth-registry openbao mock-sigstore test-oidc; do
    [ -f "$SIGNET_RUN/$s.pid" ] || continue
    local pid; pid=$(cat "$SIGNET_RUN/$s.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$SIGNET_RUN/$s.pid"
  done
}
