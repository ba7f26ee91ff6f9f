#!/usr/bin/env bash
# Load test of the enforcement points on loopback, bounded in count and time,
# with real HTTP load generators (wrk and hey, installed by setup-peers.sh):
#   - the gate's added latency on a cached manifest GET: wrk against the
#     registry directly, then through `signet gate`, same request, same
#     connections; one connection (latency) and 16 (under load)
#   - admission p99, cached (one review repeated: every image decided from
#     the cache) and uncached (`--cache-size 0 --tag-ttl 0s`: every review
#     resolves the tag and verifies the signature against the registry)
#   - 100 concurrent first requests for one digest (hey -c 100 -n 100)
#     against a fresh gate: how many verifications ran (its metrics)
# Prints Markdown for docs/PERFORMANCE.md with the date, load average and
# machine. Release build; a fresh registry on a free loopback port.
#   BENCH_SECONDS=10 BENCH_REVIEWS=2000 bash scripts/bench-enforce.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh >&2
bin=$(bash scripts/build-release.sh)
export SIGNET_PEERS=$PWD/.peers
SIGNET_RUN=$(mktemp -d -t signet-bench-enforce.XXXXXX)
export SIGNET_RUN
# shellcheck source=scripts/services.sh
source scripts/services.sh
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  cd /
  stop_services
  rm -rf "$SIGNET_RUN"
}
trap cleanup EXIT
start_registry
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
SIGNET=$bin/signet
WRK=$SIGNET_PEERS/bin/wrk
HEY=$SIGNET_PEERS/bin/hey
SECONDS_EACH=${BENCH_SECONDS:-10}
REVIEWS=${BENCH_REVIEWS:-2000}
ROUNDS=${BENCH_ROUNDS:-5}
REG=$SIGNET_TEST_REGISTRY
W=$SIGNET_RUN/work
mkdir -p "$W"
cd "$W"
export COSIGN_PASSWORD=bench NO_PROXY=127.0.0.1,localhost
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy

# A signed image and the policy that admits it.
"$SIGNET" generate-key-pair --output-key-prefix bench >/dev/null 2>&1
python3 "$OLDPWD/scripts/mk-oci-layout.py" layout bench >/dev/null
"$SIGNET_PEERS/bin/skopeo" --insecure-policy copy -q --dest-tls-verify=false oci:layout:v1 "docker://$REG/bench/app:v1"
"$SIGNET" sign --key bench.key --tlog-upload=false "$REG/bench/app:v1" >/dev/null 2>&1
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
DIGEST=$(curl -sfI -H "$ACCEPT" "http://$REG/v2/bench/app/manifests/v1" | awk 'tolower($1)=="docker-content-digest:" {print $2}' | tr -d '\r')
cat > policy.yaml <<EOP
policies:
  - name: bench
    images: "$REG/bench/**"
    authorities: [{key: bench.pub}]
    transparency-log: optional
default: {mode: enforce, authorities: []}
EOP
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=signet bench webhook" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout hook.key -out hook.pem 2>/dev/null

PORT=
start() { # start NAME ARGS...: a signet service on a free port, in $PORT
  local name=$1; shift
  PORT=$(free_port)
  SIGNET_LOG=warn "$SIGNET" "$@" --listen "127.0.0.1:$PORT" > "$W/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    curl -sk -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && return 0
    curl -sk -o /dev/null "https://127.0.0.1:$PORT/healthz" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench-enforce: $name did not come up:" >&2; cat "$W/$name.log" >&2; exit 1
}
wrk_p() { # wrk_p CONNECTIONS URL: prints "p50 p99 req/s", ms
  "$WRK" -t1 -c"$1" -d"${SECONDS_EACH}s" --latency -H "$ACCEPT" "$2" > "$W/wrk.out"
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)} /Requests\/sec/ {rps=$2}
    END {printf "%.3f %.3f %.0f\n", p50, p99, rps}' "$W/wrk.out"
}
hey_p() { # hey_p CONCURRENCY N URL FILE: prints "p50 p99 req/s", ms
  # hey sends the URL's host:port as the TLS server name, which is not a
  # DNS name and which rustls refuses (illegal_parameter); -host names one.
  "$HEY" -n "$2" -c "$1" -host localhost -m POST -T application/json -D "$4" "$3" > "$W/hey.out"
  if grep -q 'Error distribution' "$W/hey.out" ||
     awk '/Status code distribution/ {f=1; next} f && $1 ~ /^\[/ && $1 != "[200]" {bad=1} END {exit !bad}' "$W/hey.out"; then
    echo "bench-enforce: not every answer was 200:" >&2; cat "$W/hey.out" >&2; exit 1
  fi
  awk '$1=="50%" {p50=$3*1000} $1=="99%" {p99=$3*1000} /Requests\/sec/ {rps=$2} END {printf "%.3f %.3f %.0f\n", p50, p99, rps}' "$W/hey.out"
}

start gate gate --policy policy.yaml --upstream "http://$REG"; GATE=$PORT
curl -sf -o /dev/null -H "$ACCEPT" "http://127.0.0.1:$GATE/v2/bench/app/manifests/v1"
# One connection, direct and through the gate in turn, ROUNDS times: on a
# shared machine a single p99 is mostly scheduling noise, so the table gives
# every round and the medians.
rounds_table=""
d99s=() g99s=() diffs=() d50s=() g50s=()
for round in $(seq 1 "$ROUNDS"); do
  r=$(wrk_p 1 "http://$REG/v2/bench/app/manifests/v1"); read -r d1_50 d1_99 d1_rps <<< "$r"
  r=$(wrk_p 1 "http://127.0.0.1:$GATE/v2/bench/app/manifests/v1"); read -r g1_50 g1_99 g1_rps <<< "$r"
  diff=$(awk -v g="$g1_99" -v d="$d1_99" 'BEGIN {printf "%.3f", g-d}')
  d99s+=("$d1_99") g99s+=("$g1_99") diffs+=("$diff") d50s+=("$d1_50") g50s+=("$g1_50")
  rounds_table+="| round $round, 1 connection | $d1_50 / $d1_99 ($d1_rps req/s) | $g1_50 / $g1_99 ($g1_rps req/s) | $diff |"$'\n'
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
r=$(wrk_p 16 "http://$REG/v2/bench/app/manifests/v1"); read -r d16_50 d16_99 d16_rps <<< "$r"
r=$(wrk_p 16 "http://127.0.0.1:$GATE/v2/bench/app/manifests/v1"); read -r g16_50 g16_99 g16_rps <<< "$r"
evaluations=$(curl -s "http://127.0.0.1:$GATE/metrics" | awk '$1=="signet_cache_evaluations" {print $2}')

# The admission review: a Deployment running the signed image by tag.
cat > review.json <<EOR
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"bench","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","namespace":"bench","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app"},"spec":{"template":{"spec":{"initContainers":[{"name":"init","image":"$REG/bench/app:v1"}],"containers":[{"name":"app","image":"$REG/bench/app:v1"}]}}}}}}
EOR
start admission admission --policy policy.yaml --tls-cert hook.pem --tls-key hook.key; HOOK=$PORT
curl -sk -o /dev/null --data-binary @review.json "https://127.0.0.1:$HOOK/validate"
r=$(hey_p 1 "$REVIEWS" "https://127.0.0.1:$HOOK/validate" review.json); read -r ac1_50 ac1_99 ac1_rps <<< "$r"
r=$(hey_p 8 "$REVIEWS" "https://127.0.0.1:$HOOK/validate" review.json); read -r ac8_50 ac8_99 ac8_rps <<< "$r"
start admission-uncached admission --policy policy.yaml --tls-cert hook.pem --tls-key hook.key --cache-size 0 --tag-ttl 0s; UNCACHED=$PORT
UNCACHED_N=$(( REVIEWS / 4 ))
r=$(hey_p 1 "$UNCACHED_N" "https://127.0.0.1:$UNCACHED/validate" review.json); read -r au1_50 au1_99 au1_rps <<< "$r"
r=$(hey_p 4 "$UNCACHED_N" "https://127.0.0.1:$UNCACHED/validate" review.json); read -r au4_50 au4_99 au4_rps <<< "$r"
uncached_evaluations=$(curl -sk "https://127.0.0.1:$UNCACHED/metrics" | awk '$1=="signet_cache_evaluations" {print $2}')

# 100 concurrent first requests for one digest, against a fresh gate.
start gate-burst gate --policy policy.yaml --upstream "http://$REG"; BURST=$PORT
"$HEY" -n 100 -c 100 -H "$ACCEPT" "http://127.0.0.1:$BURST/v2/bench/app/manifests/$DIGEST" > "$W/burst.out"
burst_ok=$(awk '$1=="[200]" {print $2}' "$W/burst.out")
burst_evaluations=$(curl -s "http://127.0.0.1:$BURST/metrics" | awk '$1=="signet_cache_evaluations" {print $2}')

load=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
added16=$(awk -v g="$g16_99" -v d="$d16_99" 'BEGIN {printf "%.3f", g-d}')
cat <<EOT
### Enforcement points ($(date -u +%Y-%m-%d) $(date -u +%H:%M) UTC)

Machine: $(nproc) CPUs ($cpu), load average (1, 5, 15 min) $load_start at the start, $load at the end; release build;
Distribution registry $(docker-registry --version 2>/dev/null | awk '{print $3}') on loopback; wrk $("$WRK" --version 2>&1 | awk 'NR==1{print $2}'), hey (Debian $(dpkg-deb -f "$(ls "$SIGNET_PEERS"/debs/bench/hey_*.deb | head -n1)" Version)).

Gate: manifest GET by tag, decision cached; wrk, ${SECONDS_EACH}s per cell, direct and through the gate in turn.

| run | registry directly: p50 / p99 ms | through signet gate: p50 / p99 ms | p99 added, ms |
|---|---|---|---|
${rounds_table}| **median of $ROUNDS rounds** | $(median "${d50s[@]}") / $(median "${d99s[@]}") | $(median "${g50s[@]}") / $(median "${g99s[@]}") | **$(median "${diffs[@]}")** |
| 16 connections | $d16_50 / $d16_99 ($d16_rps req/s) | $g16_50 / $g16_99 ($g16_rps req/s) | $added16 |

Verifications the gate ran over all those requests: $evaluations.

| admission /validate, Deployment with 2 containers of one image, over TLS | requests | p50 ms | p99 ms | req/s |
|---|---|---|---|---|
| cached, 1 client | $REVIEWS | $ac1_50 | $ac1_99 | $ac1_rps |
| cached, 8 clients | $REVIEWS | $ac8_50 | $ac8_99 | $ac8_rps |
| uncached (tag resolved, signature fetched and verified each time), 1 client | $UNCACHED_N | $au1_50 | $au1_99 | $au1_rps |
| uncached, 4 clients | $UNCACHED_N | $au4_50 | $au4_99 | $au4_rps |

Verifications the uncached webhook ran: $uncached_evaluations (for $(( UNCACHED_N * 2 )) reviews; concurrent reviews of one digest share one).

100 concurrent first requests for one digest (hey -n 100 -c 100, fresh gate): $burst_ok answered 200, verifications run: $burst_evaluations.
EOT
