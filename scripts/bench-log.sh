#!/usr/bin/env bash
# Benchmarks the transparency-log engine (crates/signet-log) at the library
# level: durable appends per second and latency percentiles from concurrent
# clients, on the embedded store (redb) and on PostgreSQL, release build.
# Each case runs RUNS times (default 3) for BENCH_SECONDS (default 10) with
# 100 clients; checkpoints are signed with ECDSA P-256 as a Rekor v1 log's.
# Prints the JSON of every run and a Markdown table of medians for
# docs/PERFORMANCE.md. Set BENCH_POSTGRES=0 to skip PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
cargo build --release --locked -p signet-log --bin signet-log-harness >&2
H=$PWD/target/release/signet-log-harness
SIGNET_RUN=$(mktemp -d -t signet-bench-log.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'stop_services; rm -rf "$SIGNET_RUN"' EXIT
results=$SIGNET_RUN/results.jsonl

run_case() { # name store-kind rate
  local name=$1 kind=$2 rate=$3 store
  for i in $(seq 1 "$RUNS"); do
    case $kind in
      redb) store="redb:$SIGNET_RUN/bench-$rate-$i.redb" ;;
      postgres) store="postgres:$SIGNET_TEST_POSTGRES_URL#bench-$rate-$i-$$" ;;
    esac
    local line rss
    line=$(/usr/bin/time -f "%M" -o "$SIGNET_RUN/rss" "$H" bench --store "$store" --clients 100 \
      --seconds "$SECONDS_PER_RUN" --ecdsa --rate "$rate")
    rss=$(cat "$SIGNET_RUN/rss")
    echo "$line" >&2
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["case"]=sys.argv[2]; d["max_rss_kb"]=int(sys.argv[3]); print(json.dumps(d))' \
      "$line" "$name" "$rss" >> "$results"
    rm -f "$SIGNET_RUN"/bench-*.redb
  done
}

run_case "redb, as fast as acknowledged" redb 0
run_case "redb, offered 2,000/s" redb 2000
if [ "${BENCH_POSTGRES:-1}" = 1 ]; then
  start_postgres
  run_case "PostgreSQL, as fast as acknowledged" postgres 0
  run_case "PostgreSQL, offered 2,000/s" postgres 2000
fi

python3 - "$results" "$RUNS" "$SECONDS_PER_RUN" <<'PY'
import json, statistics, sys, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = []
for r in rows:
    if r["case"] not in cases:
        cases.append(r["case"])
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
load = os.getloadavg()[0]
print(f"\nMeasured {now} on {os.cpu_count()} cores (load average {load:.1f} at the end); "
      f"{sys.argv[2]} runs of {sys.argv[3]} s per case, 100 clients, 600-byte entries, ECDSA P-256 checkpoints.\n")
print("| case | appends/s (median) | p50 latency | p99 latency | max latency | peak RSS |")
print("|---|---:|---:|---:|---:|---:|")
for c in cases:
    rs = [r for r in rows if r["case"] == c]
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"| {c} | {med('appends_per_second'):,.0f} | {med('p50_ms'):.1f} ms | {med('p99_ms'):.1f} ms "
          f"| {med('max_ms'):.1f} ms | {med('max_rss_kb')/1024:.0f} MiB |")
PY
