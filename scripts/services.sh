# Sourced by test.sh, demo.sh and bench.sh: starts Distribution registries,
# OpenBao dev servers (one plain, one with TLS), a mock Sigstore (Fulcio,
# Rekor, CT log, TSA) and PostgreSQL on free 127.0.0.1 ports inside
# $SIGNET_RUN (a temp dir the caller owns; PostgreSQL in a temp dir of its
# own), and stops them again. Nothing listens beyond loopback.
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

# A test CA and two registries whose certificates it signs, for the TLS
# accept path: one for IP 127.0.0.1 (trusted through SSL_CERT_FILE,
# SSL_CERT_DIR or --registry-cacert), and one whose certificate names
# registry.signet.test only and which requires a client certificate signed by
# the same CA (--registry-server-name, mutual TLS). Keys and certificates
# live in $SIGNET_TEST_TLS_DIR: ca.pem, client.pem, client.key.
start_ca_registries() {
  local dir=$SIGNET_RUN/tls
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=signet test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  tls_cert "$dir" server "/CN=signet test registry" "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth" ca
  tls_cert "$dir" mtls "/CN=signet mutual-TLS registry" "subjectAltName=DNS:registry.signet.test\nextendedKeyUsage=serverAuth" ca
  tls_cert "$dir" client "/CN=signet test client" "extendedKeyUsage=clientAuth" ca
  export SIGNET_TEST_TLS_DIR=$dir
  local name port extra
  for name in ca-registry mtls-registry; do
    port=$(free_port)
    mkdir -p "$dir/$name"
    if [ "$name" = ca-registry ]; then
      extra="certificate: $dir/server.pem, key: $dir/server.key"
      export SIGNET_TEST_CA_REGISTRY=127.0.0.1:$port
    else
      extra="certificate: $dir/mtls.pem, key: $dir/mtls.key, clientcas: [$dir/ca.pem]"
      export SIGNET_TEST_MTLS_REGISTRY=127.0.0.1:$port
    fi
    cat > "$dir/$name.yml" <<EOC
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $dir/$name}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
  tls: {$extra}
EOC
    docker-registry serve "$dir/$name.yml" > "$SIGNET_RUN/$name.log" 2>&1 &
    echo $! > "$SIGNET_RUN/$name.pid"
  done
  local ok=""
  for _ in $(seq 1 200); do
    if curl -sf -o /dev/null --cacert "$dir/ca.pem" "https://$SIGNET_TEST_CA_REGISTRY/v2/" &&
       curl -sf -o /dev/null --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key" \
         --resolve "registry.signet.test:${SIGNET_TEST_MTLS_REGISTRY##*:}:127.0.0.1" \
         "https://registry.signet.test:${SIGNET_TEST_MTLS_REGISTRY##*:}/v2/"; then
      ok=1; break
    fi
    sleep 0.05
  done
  [ -n "$ok" ] || { echo "services: the CA-signed TLS registries did not come up" >&2; return 1; }
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

# Signs a certificate for a test: tls_cert DIR NAME SUBJECT EXTENSIONS CA.
# Writes DIR/NAME.pem and DIR/NAME.key (EC P-256).
tls_cert() {
  local dir=$1 name=$2 subject=$3 ext=$4 ca=$5
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subject" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf '%b\n' "$ext" > "$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

# A second OpenBao dev server for Vault TLS: its API listens with TLS on two
# ports, with a certificate signed by a test CA made here and valid only for
# the name vault.signet.test (not for 127.0.0.1, so that the
# VAULT_TLS_SERVER_NAME path is exercised); the second port also requires a
# client certificate from that CA. A second, untrusted CA signs the
# certificates that must be refused. Exports SIGNET_TEST_VAULT_TLS_ADDR,
# SIGNET_TEST_VAULT_MTLS_ADDR, SIGNET_TEST_VAULT_TLS_DIR (ca.pem, client.pem,
# client.key, untrusted-ca.pem, untrusted-client.pem/.key) and
# SIGNET_TEST_VAULT_TLS_TOKEN.
start_openbao_tls() {
  local dir=$SIGNET_RUN/openbao-tls
  mkdir -p "$dir"
  for ca in ca untrusted-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=signet test $ca" -keyout "$dir/$ca.key" -out "$dir/$ca.pem" 2>/dev/null
  done
  tls_cert "$dir" server "/CN=vault.signet.test" "subjectAltName=DNS:vault.signet.test\nextendedKeyUsage=serverAuth" ca
  tls_cert "$dir" client "/CN=signet test client" "extendedKeyUsage=clientAuth" ca
  tls_cert "$dir" untrusted-client "/CN=signet untrusted client" "extendedKeyUsage=clientAuth" untrusted-ca
  export SIGNET_TEST_VAULT_TLS_DIR=$dir SIGNET_TEST_VAULT_TLS_TOKEN=signet-test-root
  # Each listener also takes a cluster port; on a collision try other ports.
  local dev tls mtls pid
  for _ in 1 2 3; do
    dev=$(free_port); tls=$(free_port); mtls=$(free_port)
    cat > "$dir/listeners.hcl" <<EOC
listener "tcp" {
  address         = "127.0.0.1:$tls"
  cluster_address = "127.0.0.1:$(free_port)"
  tls_cert_file   = "$dir/server.pem"
  tls_key_file    = "$dir/server.key"
}
listener "tcp" {
  address         = "127.0.0.1:$mtls"
  cluster_address = "127.0.0.1:$(free_port)"
  tls_cert_file   = "$dir/server.pem"
  tls_key_file    = "$dir/server.key"
  tls_require_and_verify_client_cert = true
  tls_client_ca_file = "$dir/ca.pem"
}
EOC
    "$SIGNET_PEERS/bin/bao" server -dev -dev-no-store-token -dev-root-token-id="$SIGNET_TEST_VAULT_TLS_TOKEN" \
      -dev-listen-address="127.0.0.1:$dev" -config="$dir/listeners.hcl" > "$SIGNET_RUN/openbao-tls.log" 2>&1 &
    pid=$!
    echo "$pid" > "$SIGNET_RUN/openbao-tls.pid"
    export SIGNET_TEST_VAULT_TLS_ADDR=https://127.0.0.1:$tls SIGNET_TEST_VAULT_MTLS_ADDR=https://127.0.0.1:$mtls
    for _ in $(seq 1 200); do
      if curl -sf -o /dev/null --cacert "$dir/ca.pem" --resolve "vault.signet.test:$tls:127.0.0.1" \
           "https://vault.signet.test:$tls/v1/sys/health" &&
         curl -sf -o /dev/null --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key" \
           --resolve "vault.signet.test:$mtls:127.0.0.1" "https://vault.signet.test:$mtls/v1/sys/health"; then
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "services: OpenBao with TLS did not come up (see $SIGNET_RUN/openbao-tls.log)" >&2; return 1
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
# `curl -H 'Content-Type: application/json' -d '{"profile":"email","email":"a@example.test"}' $SIGNET_TEST_OIDC_URL/_test/token`.
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

# `signet server` (the private Sigstore) for scripts: a data directory in
# $SIGNET_RUN trusting the issuers given as arguments (URL[=TYPE], e.g.
# "$SIGNET_TEST_OIDC_URL=gitea-actions"), served on a free port. Build it
# first (`cargo build -p signet-cli`) or set SIGNET_BIN. Exports
# SIGNET_TEST_SERVER_URL and SIGNET_TEST_SERVER_DIR (trust files, keys).
start_signet_server() {
  local bin=${SIGNET_BIN:-${CARGO_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target}/debug/signet}
  local dir=$SIGNET_RUN/signet-server port issuer
  local args=()
  [ -x "$bin" ] || { echo "services: $bin not built (cargo build -p signet-cli)" >&2; return 1; }
  for issuer in "$@"; do args+=(--oidc-issuer "$issuer"); done
  export SIGNET_SERVER_PASSWORD=${SIGNET_SERVER_PASSWORD:-signet test server}
  port=$(free_port)
  "$bin" server init "$dir" --public-url "http://127.0.0.1:$port" "${args[@]}" > "$SIGNET_RUN/signet-server-init.log" 2>&1 \
    || { echo "services: signet server init failed (see $SIGNET_RUN/signet-server-init.log)" >&2; return 1; }
  "$bin" server run "$dir" --listen "127.0.0.1:$port" > "$SIGNET_RUN/signet-server.log" 2>&1 &
  echo $! > "$SIGNET_RUN/signet-server.pid"
  export SIGNET_TEST_SERVER_URL=http://127.0.0.1:$port SIGNET_TEST_SERVER_DIR=$dir
  wait_http "$SIGNET_TEST_SERVER_URL/readyz"
}

# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# `postgres` user in a directory of its own (the caller's $SIGNET_RUN is
# private to root). Exports SIGNET_TEST_POSTGRES_URL.
pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bindir; bindir=$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -n1)")
  [ -x "$bindir/initdb" ] || { echo "services: PostgreSQL is not installed (scripts/setup-peers.sh)" >&2; return 1; }
  local dir; dir=$(mktemp -d /tmp/signet-pg.XXXXXX)
  echo "$dir" > "$SIGNET_RUN/postgres.dir"
  echo "$bindir" > "$SIGNET_RUN/postgres.bin"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  pg_as "$bindir/initdb" -D "$dir/data" -U signet -A trust -E UTF8 --no-sync >"$SIGNET_RUN/postgres-init.log" 2>&1 \
    || { echo "services: initdb failed (see $SIGNET_RUN/postgres-init.log)" >&2; return 1; }
  local port
  for _ in 1 2 3; do
    port=$(free_port)
    if pg_as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=200" start >/dev/null 2>&1; then
      export SIGNET_TEST_POSTGRES_URL="postgres://signet@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  echo "services: PostgreSQL did not start (see $dir/server.log)" >&2; return 1
}

stop_postgres() {
  [ -f "$SIGNET_RUN/postgres.dir" ] || return 0
  local dir bindir; dir=$(cat "$SIGNET_RUN/postgres.dir"); bindir=$(cat "$SIGNET_RUN/postgres.bin")
  pg_as "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  rm -f "$SIGNET_RUN/postgres.dir" "$SIGNET_RUN/postgres.bin"
}

stop_services() {
  stop_postgres
  for s in registry auth-registry ca-registry mtls-registry openbao openbao-tls mock-sigstore test-oidc signet-server; do
    [ -f "$SIGNET_RUN/$s.pid" ] || continue
    local pid; pid=$(cat "$SIGNET_RUN/$s.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$SIGNET_RUN/$s.pid"
  done
}
