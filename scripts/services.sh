# Sourced by test.sh, demo.sh and bench.sh: starts a Distribution registry and
# an OpenBao dev server on free 127.0.0.1 ports inside $SIGNET_RUN (a temp dir
# the caller owns), and stops them again. Nothing listens beyond loopback.
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
  (
    cd "$dir"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=signet test CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # name, subject, extensions
    issue() {
      openssl req "${ec[@]}" -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      printf '%s\n' "basicConstraints=critical,CA:FALSE" "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    issue server "signet test registry" "subjectAltName=IP:127.0.0.1"$'\n'"extendedKeyUsage=serverAuth"
    issue mtls "signet mutual-TLS registry" "subjectAltName=DNS:registry.signet.test"$'\n'"extendedKeyUsage=serverAuth"
    issue client "signet test client" "extendedKeyUsage=clientAuth"
  )
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

stop_services() {
  for s in registry auth-registry ca-registry mtls-registry openbao; do
    [ -f "$SIGNET_RUN/$s.pid" ] || continue
    local pid; pid=$(cat "$SIGNET_RUN/$s.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$SIGNET_RUN/$s.pid"
  done
}
