# Sourced by test.sh, demo.sh and bench.sh: starts a Distribution registry,
# an OpenBao dev server and PostgreSQL on free 127.0.0.1 ports inside
# $SIGNET_RUN (a temp dir the caller owns), and stops them again. Nothing
# listens beyond loopback.
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
  for s in registry auth-registry openbao; do
    [ -f "$SIGNET_RUN/$s.pid" ] || continue
    local pid; pid=$(cat "$SIGNET_RUN/$s.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$SIGNET_RUN/$s.pid"
  done
}
