#!/usr/bin/env bash
# End-to-end load comparison on loopback: direct to the simulator, through a plain YARP proxy (no MixProxy feature),
# through MixProxy untranslated (passthrough) and through MixProxy with OpenAI -> Gemini translation; with an instant
# and a 20 ms upstream. Every row runs ROUNDS times, the rows interleaved, and the table shows the median of the
# rounds with their spread (min–max). Prints a Markdown table; the raw per-round numbers go to $RAW when it is set.
#
#   bench/load.sh                          # N=3000 at C=16 (throughput, CPU), LAT_N=400 at concurrency 1 and 50 req/s
#   ROUNDS=5 LAT_N=1000 bench/load.sh
#   ONLY_LATENCY=0 bench/load.sh           # the instant upstream only
#   COMPARE_DLL=/tmp/old/mixproxy.dll bench/load.sh   # adds the MixProxy rows of another build, interleaved (before/after)
#   COMPARE_NAME="workstation GC" COMPARE_DLL=…   # the label of those rows (default "compared build")
#   PEER=portkey bench/load.sh             # adds the open-source Portkey gateway translating the same request (see below)
#   PIN=1 bench/load.sh                    # proxies on CPU PROXY_CPUS (1), simulator and load generators on LOAD_CPUS (0)
#
# PEER=portkey installs @portkey-ai/gateway (PORTKEY_VERSION) with npm into PEER_DIR once, then runs the whole
# benchmark inside a new network namespace that has nothing but loopback (`unshare -n`; as root, or with
# unprivileged user namespaces): Portkey's server listens on every interface and has no option to bind one, and
# every benchmark server must be reachable on 127.0.0.1 only.
#
# The machine is shared: run it under `flock /tmp/mixproxy-bench.lock bench/load.sh` so two benchmarks never overlap.
# Needs `hey` (apt-get install -y hey). Everything listens on 127.0.0.1; every step is bounded by a request count and
# by `timeout`.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$0")/.."
source bench/common.sh
N=${N:-3000}; C=${C:-16}; LAT_N=${LAT_N:-400}; RATE=${RATE:-50}; ROUNDS=${ROUNDS:-3}
WARM_N=${WARM_N:-1500}; LATENCIES=${ONLY_LATENCY:-0 20}
SIM_PORT=${SIM_PORT:-18090}; GW_PORT=${GW_PORT:-18080}; YARP_PORT=${YARP_PORT:-18070}; CMP_PORT=${CMP_PORT:-18060}
COMPARE_DLL=${COMPARE_DLL:-}; COMPARE_NAME=${COMPARE_NAME:-compared build}; PEER=${PEER:-}; PK_PORT=${PK_PORT:-18050}
PORTKEY_VERSION=${PORTKEY_VERSION:-1.15.2}; PEER_DIR=${PEER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mixproxy-bench/portkey-$PORTKEY_VERSION}
command -v hey >/dev/null || { echo "install hey: apt-get install -y hey" >&2; exit 1; }
case "$PEER" in ""|portkey) ;; *) echo "PEER must be empty or portkey" >&2; exit 1 ;; esac
# With PIN=1 the proxy under test and the processes that load it no longer compete for the same cores (the way the
# published rigs pin them); the direct rows then run on LOAD_CPUS alone.
proxy_cpu=(); load_cpu=()
if [ "${PIN:-0}" = 1 ]; then proxy_cpu=(taskset -c "${PROXY_CPUS:-1}"); load_cpu=(taskset -c "${LOAD_CPUS:-0}"); fi

if [ "$PEER" = portkey ] && [ -z "${MIXPROXY_BENCH_NETNS:-}" ]; then
  portkey_js=$PEER_DIR/node_modules/@portkey-ai/gateway/build/start-server.js
  if [ ! -f "$portkey_js" ]; then
    command -v npm >/dev/null || { echo "PEER=portkey needs node and npm" >&2; exit 1; }
    mkdir -p "$PEER_DIR"
    # --ignore-scripts: its only install script is patch-package, for the repository's own dev patches (none ship).
    (cd "$PEER_DIR" && timeout 600 npm install --no-save --no-audit --no-fund --ignore-scripts \
        "@portkey-ai/gateway@$PORTKEY_VERSION" >/dev/null)
  fi
  # Build while the network is still there (restore may need it), then measure inside a loopback-only namespace.
  dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
  dotnet build -c Release bench/MixProxy.Benchmarks -nologo -v q >/dev/null
  if [ "$(id -u)" = 0 ]; then netns=(unshare --net); else netns=(unshare --net --map-root-user); fi
  exec "${netns[@]}" env MIXPROXY_BENCH_NETNS=1 PORTKEY_JS="$portkey_js" bash -c 'ip link set lo up && exec bash "$0"' "$self"
fi

for port in "$SIM_PORT" "$GW_PORT" "$YARP_PORT" "$CMP_PORT" "$PK_PORT"; do
  # A leftover process on one of the ports would silently be measured instead of this build.
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then echo "port $port is in use" >&2; exit 1; fi
done
if [ -z "${MIXPROXY_BENCH_NETNS:-}" ]; then
  dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
  dotnet build -c Release bench/MixProxy.Benchmarks -nologo -v q >/dev/null
fi
bench_dll=bench/MixProxy.Benchmarks/bin/Release/net10.0/MixProxy.Benchmarks.dll
work=$(mktemp -d)
cleanup() { kill "${sim_pid:-}" "${gw_pid:-}" "${yarp_pid:-}" "${cmp_pid:-}" "${pk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

bench_config "$work/bench.json" "$SIM_PORT"

"${load_cpu[@]}" env Logging__LogLevel__Default=Warning dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null &
sim_pid=$!
"${proxy_cpu[@]}" dotnet src/MixProxy/bin/Release/net10.0/mixproxy.dll --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null &
gw_pid=$!
# The plain YARP host runs with the gateway's runtime settings (Server GC as in any Microsoft.NET.Sdk.Web app, no
# thread-pool spin-waiting as in src/MixProxy/MixProxy.csproj), so the gap between the two rows is MixProxy's own work.
DOTNET_gcServer=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${YARP_SPIN_LIMIT:-0} "${proxy_cpu[@]}" dotnet "$bench_dll" yarp --urls "http://127.0.0.1:$YARP_PORT" --destination "http://127.0.0.1:$SIM_PORT" >/dev/null &
yarp_pid=$!
if [ -n "$COMPARE_DLL" ]; then
  "${proxy_cpu[@]}" dotnet "$COMPARE_DLL" --config "$work/bench.json" --urls "http://127.0.0.1:$CMP_PORT" >/dev/null &
  cmp_pid=$!
fi
if [ "$PEER" = portkey ]; then
  # Production mode and --headless: no web console and no log UI, the way it would be deployed.
  NODE_ENV=production "${proxy_cpu[@]}" node "$PORTKEY_JS" --port="$PK_PORT" --headless >/dev/null 2>&1 &
  pk_pid=$!
fi
wait_healthy "http://127.0.0.1:$GW_PORT/healthz/ready" "http://127.0.0.1:$SIM_PORT/healthz" "http://127.0.0.1:$YARP_PORT/healthz"

chat='{"model":"MODEL","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":64}'
gemini='{"contents":[{"role":"user","parts":[{"text":"Say hello to the benchmark."}]}],"generationConfig":{"maxOutputTokens":64}}'
echo "${chat/MODEL/gpt-bench}" > "$work/chat-gpt.json"
echo "${chat/MODEL/gemini-bench}" > "$work/chat-gemini.json"
echo "$gemini" > "$work/gemini.json"

# name | url | body file | measured process (- for none) | the direct row its added latency is taken against
# | extra request headers, separated by ";" (every request also carries the bench key as a Bearer token)
scenarios=(
  "direct: OpenAI chat|http://127.0.0.1:$SIM_PORT/v1/chat/completions|chat-gpt.json|-|-"
  "plain YARP: OpenAI chat|http://127.0.0.1:$YARP_PORT/v1/chat/completions|chat-gpt.json|$yarp_pid|direct: OpenAI chat"
  "MixProxy: OpenAI passthrough|http://127.0.0.1:$GW_PORT/v1/chat/completions|chat-gpt.json|$gw_pid|direct: OpenAI chat"
  "direct: Gemini generateContent|http://127.0.0.1:$SIM_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|-|-"
  "plain YARP: Gemini generateContent|http://127.0.0.1:$YARP_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|$yarp_pid|direct: Gemini generateContent"
  "MixProxy: Gemini passthrough|http://127.0.0.1:$GW_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|$gw_pid|direct: Gemini generateContent"
  "MixProxy: OpenAI -> Gemini translated|http://127.0.0.1:$GW_PORT/v1/chat/completions|chat-gemini.json|$gw_pid|direct: Gemini generateContent"
)
if [ -n "$COMPARE_DLL" ]; then
  wait_healthy "http://127.0.0.1:$CMP_PORT/healthz/ready"
  scenarios+=(
    "$COMPARE_NAME: OpenAI passthrough|http://127.0.0.1:$CMP_PORT/v1/chat/completions|chat-gpt.json|$cmp_pid|direct: OpenAI chat"
    "$COMPARE_NAME: Gemini passthrough|http://127.0.0.1:$CMP_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|$cmp_pid|direct: Gemini generateContent"
    "$COMPARE_NAME: OpenAI -> Gemini translated|http://127.0.0.1:$CMP_PORT/v1/chat/completions|chat-gemini.json|$cmp_pid|direct: Gemini generateContent"
  )
fi
if [ "$PEER" = portkey ]; then
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PK_PORT/" && break; sleep 0.2; done
  # Portkey's Google provider, pointed at the simulator, sends the Bearer token on as the Gemini API key (?key=).
  scenarios+=(
    "Portkey $PORTKEY_VERSION: OpenAI -> Gemini translated|http://127.0.0.1:$PK_PORT/v1/chat/completions|chat-gemini.json|$pk_pid|direct: Gemini generateContent|x-portkey-provider: google;x-portkey-custom-host: http://127.0.0.1:$SIM_PORT;x-portkey-forward-headers: x-simulator-latency-ms"
  )
fi

cpu_ticks() { if [ "$1" = - ]; then echo 0; else awk '{print $14 + $15}' "/proc/$1/stat"; fi; }
# Bytes the measured MixProxy has allocated so far, from its own /metrics (the runtime's counter); "-" for other processes.
allocated() {
  local port=
  if [ "$1" = "${gw_pid:-}" ]; then port=$GW_PORT; elif [ "$1" = "${cmp_pid:-}" ]; then port=$CMP_PORT; fi
  if [ -z "$port" ]; then echo -; return; fi
  sleep 0.4 # the exporter answers a scrape within 300 ms of the last one from its cache
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ {print $2}'
}
clk=$(getconf CLK_TCK)

extra_args() { # the scenario's extra headers as repeated options: flag headers
  local h; local -a parts
  IFS=';' read -ra parts <<<"$2"
  for h in "${parts[@]}"; do [ -n "$h" ] && printf '%s\0%s\0' "$1" "$h"; done; true
}
hey_run() { # url body latency_ms n c csv extra-headers
  local -a extra=()
  [ -n "${7:-}" ] && mapfile -d '' extra < <(extra_args -H "$7")
  timeout 300 "${load_cpu[@]}" hey -n "$4" -c "$5" -m POST -T application/json -D "$work/$2" \
      -H "Authorization: Bearer bench-key" -H "x-simulator-latency-ms: $3" "${extra[@]}" -o csv "$1" > "$6"
}

# Warm every path past tiered JIT first, then let the background tier-1 compiles finish before measuring anything.
for latency in $LATENCIES; do
  for s in "${scenarios[@]}"; do
    IFS='|' read -r name url body pid base headers <<<"$s"
    hey_run "$url" "$body" "$latency" "$WARM_N" 8 "$work/warm.csv" "$headers"
  done
done
sleep 3

raw=${RAW:-$work/raw.tsv}
: > "$raw"
for round in $(seq 1 "$ROUNDS"); do
  for latency in $LATENCIES; do
    for s in "${scenarios[@]}"; do
      IFS='|' read -r name url body pid base headers <<<"$s"
      extra=(); [ -n "$headers" ] && mapfile -d '' extra < <(extra_args --header "$headers")
      hey_run "$url" "$body" "$latency" 300 8 "$work/warm.csv" "$headers"   # re-warms connections and caches for this row
      a0=$(allocated "$pid"); c0=$(cpu_ticks "$pid"); start=$(date +%s.%N)
      hey_run "$url" "$body" "$latency" "$N" "$C" "$work/tp.csv" "$headers"
      end=$(date +%s.%N); c1=$(cpu_ticks "$pid"); a1=$(allocated "$pid")
      # Now and then the exporter still answers from before the run; a later scrape has the new count.
      for _ in 1 2 3; do [ "$a1" != "$a0" ] || [ "$a1" = - ] && break; sleep 1; a1=$(allocated "$pid"); done
      lc0=$(cpu_ticks "$pid")
      lat=$(timeout 300 "${load_cpu[@]}" dotnet "$bench_dll" latency --url "$url" --body "$work/$body" --rate "$RATE" --count "$LAT_N" --warmup 100 --max-seconds 240 \
            --header "Authorization: Bearer bench-key" --header "x-simulator-latency-ms: $latency" "${extra[@]}") || lat="$lat failed"
      lc1=$(cpu_ticks "$pid")
      python3 - "$work/tp.csv" "$start" "$end" "$N" "$c0" "$c1" "$lc0" "$lc1" "$LAT_N" "$clk" "$pid" "${a0:--}" "${a1:--}" <<PY >> "$raw"
import csv, sys
tp, start, end, n, c0, c1, lc0, lc1, lat_n, clk, pid, a0, a1 = sys.argv[1:]
bad = sum(1 for r in csv.DictReader(open(tp)) if r["status-code"] != "200")
lat = dict(kv.split("=") for kv in "$lat".split() if "=" in kv)
bad += int(lat.get("errors", 1)) + int(lat_n) - int(lat.get("count", 0))
rps = int(n) / (float(end) - float(start))
tick = 1e6 / int(clk)
cpu = "-" if pid == "-" else f"{(int(c1) - int(c0)) * tick / int(n):.0f}"
cpu1 = "-" if pid == "-" else f"{(int(lc1) - int(lc0)) * tick / (int(lat_n) + 100):.0f}"
rss = "-"
if pid != "-":
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"): rss = f"{int(line.split()[1]) / 1024:.0f}"
alloc = f"{(float(a1) - float(a0)) / int(n) / 1024:.1f}" if "-" not in (a0, a1) and a0 and a1 else "-"
print("\t".join(["$round", "$latency", "$name", "$base", f"{rps:.0f}", lat.get("p50_us", "nan"), lat.get("p99_us", "nan"), cpu, cpu1, rss, str(bad), alloc]))
PY
    done
  done
done

python3 - "$raw" "$ROUNDS" "$C" <<'PY'
import sys, statistics
from collections import OrderedDict
raw, rounds, c = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(raw) if l.strip()]
by = OrderedDict()
for r in rows:
    by.setdefault((r[1], r[2]), []).append(r)
def num(x):
    try: return float(x)
    except ValueError: return None
def agg(values, scale=1.0, digits=0):
    v = [x for x in values if x is not None]
    if not v: return "-"
    f = lambda x: f"{x * scale:.{digits}f}"
    return f"{f(statistics.median(v))} ({f(min(v))}–{f(max(v))})" if len(v) > 1 else f(v[0])
direct = {(r[0], r[1], r[2]): r for r in rows if r[3] == "-"}
print(f"| upstream | scenario | req/s (c={c}) | p50 ms (c=1) | p99 ms (c=1) | added p50 ms | added p99 ms | CPU µs/req (c={c}) | CPU µs/req (c=1) | alloc KB/req (c={c}) | peak RSS MB |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for (latency, name), rs in by.items():
    added50, added99 = [], []
    for r in rs:
        d = direct.get((r[0], r[1], r[3]))
        if d and num(r[5]) is not None and num(d[5]) is not None:
            added50.append(num(r[5]) - num(d[5])); added99.append(num(r[6]) - num(d[6]))
    bad = sum(int(r[10]) for r in rs)
    note = f" ({bad} failed)" if bad else ""
    print(f"| {latency} ms | {name}{note} | {agg([num(r[4]) for r in rs])} | {agg([num(r[5]) for r in rs], 1e-3, 2)} | {agg([num(r[6]) for r in rs], 1e-3, 2)} "
          f"| {agg(added50, 1e-3, 2) if added50 else '-'} | {agg(added99, 1e-3, 2) if added99 else '-'} "
          f"| {agg([num(r[7]) for r in rs])} | {agg([num(r[8]) for r in rs])} | {agg([num(r[11]) for r in rs], 1.0, 1)} | {agg([num(r[9]) for r in rs])} |")
print(f"\nMedian of {rounds} interleaved rounds, (min–max) across rounds. Added latency: the row minus its direct row of the same round. "
      "Allocation: the gateway's own dotnet.gc.heap.total_allocated over the c={c} run, per request (MixProxy rows only).")
PY
