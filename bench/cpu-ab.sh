#!/usr/bin/env bash
# CPU per request of this build against another, in paired rounds: both gateways run side by side on one simulator
# and take turns (this build, then the other, path by path, round by round), so the machine's drift hits each pair
# alike. Prints each pair and the median of the per-round ratios, which is steadier here than either median alone.
#   COMPARE_DLL=/tmp/before/src/MixProxy/bin/Release/net10.0/mixproxy.dll bench/cpu-ab.sh
#   LATENCY=0 N=6000 ROUNDS=8 COMPARE_DLL=… bench/cpu-ab.sh
# Run it under `flock /tmp/mixproxy-bench.lock` like the other benchmarks. Needs hey. Everything on 127.0.0.1,
# every step bounded by a request count and by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
: "${COMPARE_DLL:?set COMPARE_DLL to the mixproxy.dll of the build to compare with}"
N=${N:-4000}; C=${C:-16}; ROUNDS=${ROUNDS:-6}; LATENCY=${LATENCY:-20}
SIM_PORT=${SIM_PORT:-18591}; GW_PORT=${GW_PORT:-18581}; CMP_PORT=${CMP_PORT:-18582}
command -v hey >/dev/null || { echo "install hey: apt-get install -y hey" >&2; exit 1; }
dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
dotnet build -c Release src/MixProxy.Simulator -nologo -v q >/dev/null
work=$(mktemp -d)
cleanup() { kill "${sim_pid:-}" "${gw_pid:-}" "${cmp_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bench_config "$work/bench.json" "$SIM_PORT"
env Logging__LogLevel__Default=Warning dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null & sim_pid=$!
dotnet src/MixProxy/bin/Release/net10.0/mixproxy.dll --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null & gw_pid=$!
dotnet "$COMPARE_DLL" --config "$work/bench.json" --urls "http://127.0.0.1:$CMP_PORT" >/dev/null & cmp_pid=$!
wait_healthy "http://127.0.0.1:$GW_PORT/healthz/ready" "http://127.0.0.1:$CMP_PORT/healthz/ready" "http://127.0.0.1:$SIM_PORT/healthz"
echo '{"contents":[{"role":"user","parts":[{"text":"Say hello to the benchmark."}]}],"generationConfig":{"maxOutputTokens":64}}' > "$work/gemini.json"
chat='{"model":"MODEL","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":64}'
echo "${chat/MODEL/gpt-bench}" > "$work/chat-gpt.json"
echo "${chat/MODEL/gemini-bench}" > "$work/chat-gemini.json"
paths=("OpenAI passthrough|/v1/chat/completions|chat-gpt.json"
       "Gemini passthrough|/v1beta/models/gemini-bench:generateContent|gemini.json"
       "OpenAI -> Gemini translated|/v1/chat/completions|chat-gemini.json")
clk=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { # port path body n
  timeout 300 hey -n "$4" -c "$C" -m POST -T application/json -D "$work/$3" -H "Authorization: Bearer bench-key" \
      -H "x-simulator-latency-ms: $LATENCY" "http://127.0.0.1:$1$2" >/dev/null
}
for p in "${paths[@]}"; do IFS='|' read -r _ url body <<<"$p"; load "$GW_PORT" "$url" "$body" 2000; load "$CMP_PORT" "$url" "$body" 2000; done
sleep 3
raw="$work/raw.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for p in "${paths[@]}"; do
    IFS='|' read -r name url body <<<"$p"
    t0=$(ticks "$gw_pid"); load "$GW_PORT" "$url" "$body" "$N"; t1=$(ticks "$gw_pid")
    c0=$(ticks "$cmp_pid"); load "$CMP_PORT" "$url" "$body" "$N"; c1=$(ticks "$cmp_pid")
    printf '%s\t%s\t%s\t%s\n' "$round" "$name" $(( (t1 - t0) * 1000000 / clk / N )) $(( (c1 - c0) * 1000000 / clk / N )) >> "$raw"
  done
done
python3 - "$raw" "$LATENCY" "$C" "$N" "$ROUNDS" <<'PY'
import sys, statistics
from collections import OrderedDict
raw, latency, c, n, rounds = sys.argv[1:]
by = OrderedDict()
for line in open(raw):
    r, name, this, other = line.rstrip("\n").split("\t")
    by.setdefault(name, []).append((int(this), int(other)))
print(f"| path ({latency} ms upstream, c={c}, {n} requests a turn, {rounds} rounds) | this build µs/req | other build µs/req | this / other, per round | median ratio |")
print("| --- | --- | --- | --- | ---: |")
for name, pairs in by.items():
    ratios = [t / o for t, o in pairs if o]
    print(f"| {name} | {', '.join(str(t) for t, _ in pairs)} (median {statistics.median(t for t, _ in pairs):.0f}) "
          f"| {', '.join(str(o) for _, o in pairs)} (median {statistics.median(o for _, o in pairs):.0f}) "
          f"| {', '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.3f} |")
PY
