#!/usr/bin/env bash
# Heap census: what the gateway holds per open stream, object type by object type. For each row it warms the gateway
# up, takes a heap dump with no stream open, opens STREAMS slow streams (64 chunks PACE_MS apart), takes a second dump
# while every one is open, and prints the objects reachable in the second minus the first, divided by STREAMS.
# Both dumps follow a full blocking GC (asked for through the diagnostics port). See docs/benchmarks.md, "Streams".
#   flock /tmp/mixproxy-bench.lock bench/heap.sh
#   STREAMS=500 TOP=40 bench/heap.sh
# Every server binds 127.0.0.1; every step is bounded in count and time. The dumps (a few hundred MB each) go to a
# temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
STREAMS=${STREAMS:-1000}; PACE_MS=${PACE_MS:-400}; TOP=${TOP:-25}
SIM_PORT=${SIM_PORT:-18290}; GW_PORT=${GW_PORT:-18280}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((STREAMS * 2 + 512)) ] || { echo "ulimit -n $(ulimit -n) is too low for STREAMS=$STREAMS" >&2; exit 1; }

dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
dotnet build -c Release bench/MixProxy.Benchmarks -nologo -v q >/dev/null
bench=(dotnet bench/MixProxy.Benchmarks/bin/Release/net10.0/MixProxy.Benchmarks.dll)
work=$(mktemp -d)
stop_servers() {
  for pid in ${hold_pid:-} ${gw_pid:-} ${sim_pid:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  hold_pid=; gw_pid=; sim_pid=
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

bench_config "$work/bench.json" "$SIM_PORT"

open_streams() { ss -Htn state established "( sport = :$GW_PORT )" | wc -l; }
echo "Heap census, $(date -u +%Y-%m-%dT%H:%MZ): objects reachable with $STREAMS streams open minus with none open, per stream."
status=0
# name | api | model
for row in "MixProxy: OpenAI passthrough|chat|gpt-bench" \
           "MixProxy: OpenAI -> Gemini translated|chat|gemini-bench" \
           "MixProxy: Gemini passthrough|gemini|gemini-bench"; do
  IFS='|' read -r name api model <<<"$row"
  env Logging__LogLevel__Default=Warning dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null &
  sim_pid=$!
  dotnet src/MixProxy/bin/Release/net10.0/mixproxy.dll --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null &
  gw_pid=$!
  wait_healthy "http://127.0.0.1:$GW_PORT/healthz/ready" "http://127.0.0.1:$SIM_PORT/healthz"
  slow=("${bench[@]}" streams slow --target "http://127.0.0.1:$GW_PORT" --api "$api" --model "$model" --sim-pid "$sim_pid" --gw-pid 0 --metrics - --header 0)
  # The same warm-up as the slow-streams run's (JIT, pools, thread pool at working size), then nothing open.
  timeout 120 "${slow[@]}" --name warm --streams 300 --chunks 8 --pace-ms 20 --ramp-ms 500 --max-seconds 60 >/dev/null 2>&1 || true
  sleep 2
  timeout 120 "${bench[@]}" heap dump --pid "$gw_pid" --out "$work/none.dmp"
  # 64 chunks PACE_MS apart keep every stream open for 64 × PACE_MS; the dump is taken once all are open.
  timeout 300 "${slow[@]}" --name hold --streams "$STREAMS" --chunks 64 --pace-ms "$PACE_MS" --ramp-ms 2000 --warmup 0 --max-seconds 200 >"$work/hold.txt" 2>&1 &
  hold_pid=$!
  for _ in $(seq 1 100); do [ "$(open_streams)" -ge "$STREAMS" ] && break; sleep 0.2; done
  before=$(open_streams)
  timeout 120 "${bench[@]}" heap dump --pid "$gw_pid" --out "$work/open.dmp"
  after=$(open_streams)
  echo; echo "### $name ($STREAMS streams; open at the dump: $before before, $after after)"; echo
  if [ "$before" -lt "$STREAMS" ] || [ "$after" -lt "$STREAMS" ]; then
    echo "not all streams were open during the dump: no census for this row"; status=1
  else
    timeout 600 "${bench[@]}" heap diff --before "$work/none.dmp" --after "$work/open.dmp" --per "$STREAMS" --top "$TOP"
  fi
  rm -f "$work"/*.dmp
  stop_servers
done
exit $status
