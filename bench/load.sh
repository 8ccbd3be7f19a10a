#!/usr/bin/env bash
# End-to-end load comparison on loopback, in one run: direct to the simulator, through MixProxy untranslated
# (passthrough), and through MixProxy with OpenAI -> Gemini translation; with an instant and a 20 ms upstream.
# Prints a Markdown table. Needs `hey` (apt-get install -y hey). Every loop is bounded by a request count.
#   bench/load.sh                 # defaults: N=3000 requests at C=16, LAT_N=400 at concurrency 1 (50 req/s)
#   N=10000 C=32 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3000}; C=${C:-16}; LAT_N=${LAT_N:-400}
SIM_PORT=${SIM_PORT:-18090}; GW_PORT=${GW_PORT:-18080}
command -v hey >/dev/null || { echo "install hey: apt-get install -y hey" >&2; exit 1; }

dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
work=$(mktemp -d)
cleanup() { kill "${sim_pid:-}" "${gw_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$work/bench.json" "$SIM_PORT" <<'PY'
import json, sys, hashlib
path, port = sys.argv[1], sys.argv[2]
routes = json.load(open("config/proxy.json"))["ReverseProxy"]["Routes"]
json.dump({
  "ReverseProxy": {"Routes": routes, "Clusters": {"sim": {
    "Destinations": {"d": {"Address": f"http://127.0.0.1:{port}"}},
    "Metadata": {"MixProxy.ForwardHeaders": "x-simulator-*"}}}},
  "Models": [
    {"Name": "gemini-bench", "Cluster": "sim", "Protocols": ["Gemini"]},
    {"Name": "gpt-bench", "Cluster": "sim", "Protocols": ["OpenAI"]}],
  "Keys": [{"Name": "bench", "Hash": "sha256:" + hashlib.sha256(b"bench-key").hexdigest(), "Models": ["*"]}],
}, open(path, "w"))
PY

export Logging__LogLevel__Default=Warning
dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null &
sim_pid=$!
dotnet src/MixProxy/bin/Release/net10.0/mixproxy.dll --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null &
gw_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$GW_PORT/healthz/ready" >/dev/null && curl -sf -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/healthz" 2>/dev/null; curl -sf "http://127.0.0.1:$SIM_PORT/healthz" >/dev/null && break; sleep 0.2; done

chat='{"model":"MODEL","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":64}'
gemini='{"contents":[{"role":"user","parts":[{"text":"Say hello to the benchmark."}]}],"generationConfig":{"maxOutputTokens":64}}'
echo "${chat/MODEL/gpt-bench}" > "$work/chat-gpt.json"
echo "${chat/MODEL/gemini-bench}" > "$work/chat-gemini.json"
echo "$gemini" > "$work/gemini.json"

# name | url | body file | measured process (gateway pid or -)
scenarios=(
  "direct: OpenAI chat|http://127.0.0.1:$SIM_PORT/v1/chat/completions|chat-gpt.json|-"
  "MixProxy: OpenAI passthrough|http://127.0.0.1:$GW_PORT/v1/chat/completions|chat-gpt.json|$gw_pid"
  "direct: Gemini generateContent|http://127.0.0.1:$SIM_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|-"
  "MixProxy: Gemini passthrough|http://127.0.0.1:$GW_PORT/v1beta/models/gemini-bench:generateContent|gemini.json|$gw_pid"
  "MixProxy: OpenAI -> Gemini translated|http://127.0.0.1:$GW_PORT/v1/chat/completions|chat-gemini.json|$gw_pid"
)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk=$(getconf CLK_TCK)

run() { # url body latency_ms n c rate csv
  local q=(); [ "$6" != 0 ] && q=(-q "$6")
  hey -n "$4" -c "$5" "${q[@]}" -m POST -T application/json -D "$work/$2" \
      -H "Authorization: Bearer bench-key" -H "x-simulator-latency-ms: $3" -o csv "$1" > "$7"
}

echo "| upstream | scenario | req/s (c=$C) | p50 ms (c=1) | p99 ms (c=1) | gateway CPU µs/req | peak RSS MB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for latency in 0 20; do
  for s in "${scenarios[@]}"; do
    IFS='|' read -r name url body pid <<<"$s"
    run "$url" "$body" "$latency" 1500 8 0 "$work/warm.csv"   # past tiered JIT, so rows do not pay for warm-up
    [ "$pid" != "-" ] && c0=$(cpu_ticks "$pid")
    start=$(date +%s.%N)
    run "$url" "$body" "$latency" "$N" "$C" 0 "$work/tp.csv"
    end=$(date +%s.%N)
    [ "$pid" != "-" ] && c1=$(cpu_ticks "$pid")
    run "$url" "$body" "$latency" "$LAT_N" 1 50 "$work/lat.csv"
    python3 - "$work/tp.csv" "$work/lat.csv" "$start" "$end" "$N" "${c0:-0}" "${c1:-0}" "$clk" "$pid" "$latency" "$name" <<'PY'
import csv, sys
tp, lat, start, end, n, c0, c1, clk, pid, latency, name = sys.argv[1:]
def rows(p): return [r for r in csv.DictReader(open(p))]
t = rows(tp); l = rows(lat)
bad = sum(1 for r in t + l if r["status-code"] != "200")
times = sorted(float(r["response-time"]) * 1000 for r in l)
q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
rps = int(n) / (float(end) - float(start))
cpu = "-" if pid == "-" else f"{(int(c1) - int(c0)) / int(clk) / int(n) * 1e6:.0f}"
rss = "-"
if pid != "-":
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"): rss = f"{int(line.split()[1]) / 1024:.0f}"
note = f" ({bad} non-200)" if bad else ""
print(f"| {latency} ms | {name}{note} | {rps:.0f} | {q(0.5):.2f} | {q(0.99):.2f} | {cpu} | {rss} |")
PY
  done
done
