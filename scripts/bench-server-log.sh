#!/usr/bin/env bash
# Load test of `signet server`'s transparency log over HTTP on loopback,
# bounded in count and time: a release build of `signet server run` (rate
# limit off, access log off) and `crates/signet-server/examples/log-load.rs`
# with 100 concurrent keep-alive clients posting distinct, signed
# hashedrekord entries to the Rekor v1 API (`POST /api/v1/log/entries`) and
# the Rekor v2 API (`POST /api/v2/log/entries`). An append counts when the
# server answers 201, which it does only once the entry is committed (fsync)
# and in a signed checkpoint. Every run gets a fresh data directory.
#
# Cases: "as fast as acknowledged" (each client posts again when answered)
# and "offered 2,000/s" (a fixed schedule, latency from the scheduled time).
# Each case runs RUNS times (default 3) for BENCH_SECONDS (default 10), on
# the embedded store and (unless BENCH_POSTGRES=0) on PostgreSQL. The
# server's resident set is sampled every 0.1 s during the load (its peak is
# reported; startup's peak, from decrypting the keys, is printed apart), and
# its CPU time during the load is divided by the appends. Prints the JSON of
# every run and a Markdown table of medians for docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-100}
bin=$(bash scripts/build-release.sh -p signet-server --bin signet --example log-load)
SIGNET_BIN=$bin/signet
LOAD=$bin/examples/log-load
SIGNET_RUN=$(mktemp -d -t signet-bench-server-log.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  stop_services
  rm -rf "$SIGNET_RUN"
}
trap cleanup EXIT
export SIGNET_SERVER_PASSWORD=bench
results=$SIGNET_RUN/results.jsonl

# One run: a fresh data directory, the server, the load, SIGTERM, peak RSS.
run_once() { # name api rate database-url-or-empty
  local name=$1 api=$2 rate=$3 database=$4 dir port line rss startup_rss utime0 stime0 utime1 stime1 cpu_ms
  dir=$SIGNET_RUN/data-$RANDOM$RANDOM
  port=$(free_port)
  "$SIGNET_BIN" server init "$dir" --public-url "http://127.0.0.1:$port" >/dev/null
  sed -i 's/^requests-per-second = .*/requests-per-second = 0.0/' "$dir/server.toml"
  grep -q '^requests-per-second = 0.0' "$dir/server.toml" || { echo "bench: could not lift the rate limit" >&2; exit 1; }
  local args=(server run "$dir" --listen "127.0.0.1:$port")
  [ -n "$database" ] && args+=(--database "$database")
  SIGNET_LOG=warn "$SIGNET_BIN" "${args[@]}" 2>"$SIGNET_RUN/server.log" &
  server_pid=$!
  wait_http "http://127.0.0.1:$port/readyz"
  # Startup (decrypting five scrypt-protected keys, 64 MiB each, side by
  # side) sets the process's all-time peak; what serving costs is sampled
  # while the load runs.
  startup_rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
  read -r utime0 stime0 < <(awk '{ print $14, $15 }' "/proc/$server_pid/stat")
  rm -f "$SIGNET_RUN/load-done" "$SIGNET_RUN/rss"
  ( peak=0; while kill -0 "$server_pid" 2>/dev/null && [ ! -e "$SIGNET_RUN/load-done" ]; do
      r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" > "$SIGNET_RUN/rss"
      sleep 0.1
    done ) &
  local sampler=$!
  line=$("$LOAD" --url "http://127.0.0.1:$port" --api "$api" --clients "$CLIENTS" \
    --seconds "$SECONDS_PER_RUN" --rate "$rate")
  touch "$SIGNET_RUN/load-done"
  wait "$sampler" || true
  read -r utime1 stime1 < <(awk '{ print $14, $15 }' "/proc/$server_pid/stat")
  cpu_ms=$(( (utime1 - utime0 + stime1 - stime0) * 1000 / $(getconf CLK_TCK) ))
  rss=$(cat "$SIGNET_RUN/rss" 2>/dev/null || echo 0)
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "bench: the server did not exit cleanly (see $SIGNET_RUN/server.log)" >&2; exit 1; }
  server_pid=
  echo "$name: $line (server RSS under load ${rss} KiB, at startup ${startup_rss} KiB, CPU ${cpu_ms} ms)" >&2
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["case"]=sys.argv[2]; d["max_rss_kb"]=int(sys.argv[3]); d["startup_rss_kb"]=int(sys.argv[4]); d["server_cpu_ms"]=int(sys.argv[5]); print(json.dumps(d))' \
    "$line" "$name" "$rss" "$startup_rss" "$cpu_ms" >> "$results"
  rm -rf "$dir"
}

run_case() { # name api rate database-url-or-empty
  for _ in $(seq 1 "$RUNS"); do run_once "$@"; done
}

run_case "embedded, Rekor v1, as fast as acknowledged" v1 0 ""
run_case "embedded, Rekor v1, offered 2,000/s" v1 2000 ""
run_case "embedded, Rekor v2, as fast as acknowledged" v2 0 ""
run_case "embedded, Rekor v2, offered 2,000/s" v2 2000 ""
if [ "${BENCH_POSTGRES:-1}" = 1 ]; then
  start_postgres
  run_case "PostgreSQL, Rekor v1, as fast as acknowledged" v1 0 "$SIGNET_TEST_POSTGRES_URL"
  run_case "PostgreSQL, Rekor v1, offered 2,000/s" v1 2000 "$SIGNET_TEST_POSTGRES_URL"
fi

python3 - "$results" "$RUNS" "$SECONDS_PER_RUN" "$CLIENTS" <<'PY'
import json, statistics, sys, datetime, os, platform
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = []
for r in rows:
    if r["case"] not in cases:
        cases.append(r["case"])
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
load = os.getloadavg()
cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(f"\nMeasured {now} on {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
      f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the end; "
      f"{sys.argv[2]} runs of {sys.argv[3]} s per case, {sys.argv[4]} clients, release build.\n")
print("| case | appends/s (median) | p50 latency | p99 latency | max latency | errors | server CPU per append | server peak RSS under load |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for c in cases:
    rs = [r for r in rows if r["case"] == c]
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"| {c} | {med('per_second'):,.0f} | {med('p50_ms'):.1f} ms | {med('p99_ms'):.1f} ms "
          f"| {med('max_ms'):.1f} ms | {sum(r['errors'] for r in rs)} "
          f"| {statistics.median(r['server_cpu_ms'] * 1000 / max(r['appends'], 1) for r in rs):.0f} µs "
          f"| {med('max_rss_kb')/1024:.0f} MiB |")
print(f"\nServer peak RSS at startup (key decryption): {statistics.median(r['startup_rss_kb'] for r in rows)/1024:.0f} MiB (median of all runs).")
print("\nEvery run (appends/s, p99):")
for c in cases:
    rs = [r for r in rows if r["case"] == c]
    print(f"- {c}: " + "; ".join(f"{r['per_second']:,.0f}/s, p99 {r['p99_ms']:.1f} ms" for r in rs))
PY
