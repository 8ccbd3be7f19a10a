#!/usr/bin/env bash
# CPU profile of the gateway on a stream path, with `perf` (JIT frames resolved through the runtime's perf map).
# Prints where the gateway's CPU samples go: kernel, runtime, and .NET code grouped by namespace (self time), and
# the inclusive share of the gateway's own stream frames.
#   SCENARIO=short bench/profile.sh    # one short stream at a time (4 chunks), 50 per second: the time-to-first-token path
#   SCENARIO=slow bench/profile.sh     # 1,000 open streams, a chunk every 100 ms each: the per-chunk path
#   MODEL=gpt-bench …                  # OpenAI passthrough instead of OpenAI -> Gemini translation (MODEL=gemini-bench)
#   PROFILE_OUT=dir …                  # also keep perf's full reports (self and inclusive) in dir
# Needs `perf` (apt-get install -y linux-perf) and `hey`. Servers bind 127.0.0.1; every loop is bounded.
# Run it under the benchmark lock: flock /tmp/mixproxy-bench.lock bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
SCENARIO=${SCENARIO:-short}; MODEL=${MODEL:-gemini-bench}; SECONDS_=${PROFILE_SECONDS:-20}
SIM_PORT=${SIM_PORT:-18390}; GW_PORT=${GW_PORT:-18380}
command -v perf >/dev/null || { echo "install perf: apt-get install -y linux-perf" >&2; exit 1; }
command -v hey >/dev/null || { echo "install hey: apt-get install -y hey" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
dotnet build -c Release bench/MixProxy.Benchmarks -nologo -v q >/dev/null
bench=(dotnet bench/MixProxy.Benchmarks/bin/Release/net10.0/MixProxy.Benchmarks.dll)
work=$(mktemp -d)
cleanup() { kill "${load_pid:-}" "${gw_pid:-}" "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

bench_config "$work/bench.json" "$SIM_PORT"

env Logging__LogLevel__Default=Warning dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null &
sim_pid=$!
# The perf map names JIT-compiled methods; W^X off keeps code at one address so the map stays right.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  dotnet src/MixProxy/bin/Release/net10.0/mixproxy.dll --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null &
gw_pid=$!
wait_healthy "http://127.0.0.1:$GW_PORT/healthz/ready" "http://127.0.0.1:$SIM_PORT/healthz"

prompt=$(printf 'w %.0s' $(seq 1 57))
echo "{\"model\":\"$MODEL\",\"stream\":true,\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"$prompt\"}],\"max_tokens\":256}" > "$work/body.json"
short_load() { # n rate
  timeout 120 hey -n "$1" -c 1 -q "$2" -m POST -T application/json -D "$work/body.json" -H "Authorization: Bearer bench-key" \
    -H "x-simulator-chunks: 4" -H "x-simulator-chunk-interval-ms: 0" "http://127.0.0.1:$GW_PORT/v1/chat/completions" >/dev/null
}
slow_load() { # streams
  "${bench[@]}" streams slow --target "http://127.0.0.1:$GW_PORT" --api chat --model "$MODEL" --streams "$1" --chunks 64 \
    --pace-ms 100 --ramp-ms 2000 --warmup 0 --sim-pid "$sim_pid" --gw-pid 0 --metrics - --header 0 --max-seconds 60 >/dev/null 2>&1
}

# Warm up past tiered compilation, then give the background tier-1 compiles a moment.
short_load 1500 0
slow_load 300
sleep 3

case "$SCENARIO" in
  short) short_load $((SECONDS_ * 50 + 200)) 50 & ;;
  slow) slow_load 1000 & ;;
  *) echo "SCENARIO must be short or slow" >&2; exit 1 ;;
esac
load_pid=$!
sleep 4   # the slow scenario's ramp; the short one is steady at once
c0=$(awk '{print $14 + $15}' "/proc/$gw_pid/stat")
timeout $((SECONDS_ + 30)) perf record -F 999 -g -p "$gw_pid" -o "$work/perf.data" -- sleep "$SECONDS_" 2>/dev/null
c1=$(awk '{print $14 + $15}' "/proc/$gw_pid/stat")
wait "$load_pid" || true

echo "Profile of the gateway, $(date -u +%Y-%m-%dT%H:%MZ): SCENARIO=$SCENARIO MODEL=$MODEL, ${SECONDS_} s, $(nproc) cores;" \
     "gateway CPU in the window $(( (c1 - c0) * 1000 / $(getconf CLK_TCK) )) ms"
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null > "$work/self.txt"
perf report -i "$work/perf.data" --children --sort sym --stdio -g none 2>/dev/null > "$work/children.txt"
[ -n "${PROFILE_OUT:-}" ] && mkdir -p "$PROFILE_OUT" && cp "$work/self.txt" "$work/children.txt" "$PROFILE_OUT/"
python3 - "$work/self.txt" "$work/children.txt" <<'PY'
import re, sys
from collections import defaultdict
def rows(path):
    for line in open(path, errors="replace"):
        m = re.match(r"\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?(.+?)\s+\[(.)\]\s+(.*)", line)
        if m: yield m
groups = defaultdict(float)
for m in rows(sys.argv[1]):
    pct, dso, kind, sym = float(m.group(1)), m.group(3), m.group(4), m.group(5).strip()
    assembly = re.search(r"\[([\w.]+)\]\s+[\w.`+<>]+::", sym)
    if kind == "k": g = "kernel (syscalls, loopback TCP, scheduling)"
    elif "coreclr" in dso or "clrjit" in dso: g = "runtime native code (GC, JIT, thread pool)"
    elif dso.startswith("[JIT]") and assembly: g = "managed: " + assembly.group(1)
    elif dso.startswith("[JIT]"): g = "managed: stubs"
    elif dso.endswith(".dll"): g = "managed, not resolved: " + dso
    elif dso.startswith("libc") or "libpthread" in dso: g = "libc (epoll, futex, memcpy)"
    else: g = "other: " + dso
    groups[g] += pct
print("\n| where the gateway's CPU samples go (self) | % |\n| --- | ---: |")
for g, pct in sorted(groups.items(), key=lambda kv: -kv[1])[:16]:
    print(f"| {g} | {pct:.1f} |")
frames = ["GatewayRequestMiddleware", "ModelRoutingMiddleware", "ExchangeMiddleware", "AdmissionMiddleware",
          "ResponseTranslationTransform", "TranslatingSseStream", "GeminiToChatStreamTranslator",
          "ChatStreamUsageFilter", "UsageTapStream", "SseParser", "ChatToGeminiRequestTranslator", "StreamCopier",
          "HttpForwarder.SendAsync", "GatewayRateLimiter", "AggregatorStore"]
incl = {}
for m in rows(sys.argv[2]):
    total, sym = float(m.group(1)), m.group(5)
    for f in frames:
        if f in sym: incl[f] = max(incl.get(f, 0.0), total)
print("\n| frame (inclusive: itself and what it calls) | % |\n| --- | ---: |")
for f in frames:
    if f in incl: print(f"| `{f}` | {incl[f]:.1f} |")
PY
