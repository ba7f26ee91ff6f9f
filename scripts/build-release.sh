#!/usr/bin/env bash
# Builds signet as it is shipped and prints the directory that holds the
# binaries. Extra arguments go to `cargo build` (for example
# `-p signet-testing` to build the test OIDC issuer alongside).
#
# On Linux with glibc, `signet` is linked statically and position-dependent
# (`-C target-feature=+crt-static -C relocation-model=static`): with no
# dynamic loader, no shared libraries to map and no symbols to bind, a short
# command such as `verify-blob` starts in about 0.4 ms less
# (docs/PERFORMANCE.md, docs/ARCHITECTURE.md). glibc's `files` and `dns` host
# lookups are built into its static library, so registry names resolve as
# before. Rust applies `crt-static` to proc macros too unless the target is
# named, hence `--target` and a target directory of its own
# (`target/<host>/release`). On other systems it is the plain release build.
#
#   bash scripts/build-release.sh                       # target/x86_64-unknown-linux-gnu/release
#   SIGNET_RELEASE_DYNAMIC=1 bash scripts/build-release.sh  # target/release, dynamically linked
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
case $host in
  *-linux-gnu*)
    if [ -z "${SIGNET_RELEASE_DYNAMIC:-}" ]; then
      RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static -C relocation-model=static" \
        cargo build --release --locked --target "$host" -p signet-cli "$@" >&2
      echo "$target_dir/$host/release"
      exit 0
    fi
    ;;
esac
cargo build --release --locked -p signet-cli "$@" >&2
echo "$target_dir/release"
