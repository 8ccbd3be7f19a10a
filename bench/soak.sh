#!/usr/bin/env bash
# Soak: a gateway process (shipped defaults, the benchmark config plus one rate-limited key), a real redis-server and
# the upstream simulator, under mixed traffic for DURATION seconds — Chat Completions, Gemini, Responses and Anthropic Messages clients,
# streamed and not, translated and passed through — while faults are injected: upstream 5xx and 429 (x-simulator-error
# on 5% of requests), scripted upstream resets, truncated and malformed streams and HTML error pages, Redis killed and
# restarted, Redis frozen (SIGSTOP) and thawed, and a config edit reloaded. Prints a Markdown report: what each request
# got by scenario and fault, token accounting (the simulator's reported usage vs the gateway's metrics vs what clients
# saw), the gateway's RSS and GC heap over time, the chaos/readiness timeline and the gateway's warnings.
#
#   flock /tmp/mixproxy-heavy.lock bench/soak.sh                 # 180 s, 8 workers
#   DURATION=60 CONCURRENCY=4 REPORT=/tmp/soak.md bench/soak.sh
#   GATEWAY_DLL=/tmp/old/src/MixProxy/bin/Release/net10.0/mixproxy.dll bench/soak.sh   # another build of the gateway
#
# Not part of the test run. Needs redis-server (apt-get install -y redis-server). Everything listens on 127.0.0.1;
# the run is bounded by DURATION (at most 3600 s) and by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DURATION=${DURATION:-180}; CONCURRENCY=${CONCURRENCY:-8}; SEED=${SEED:-15}; REPORT=${REPORT:-}
GATEWAY_DLL=${GATEWAY_DLL:-src/MixProxy/bin/Release/net10.0/mixproxy.dll}
SIM_PORT=${SIM_PORT:-18190}; GW_PORT=${GW_PORT:-18180}; REDIS_PORT=${REDIS_PORT:-18179}
command -v redis-server >/dev/null || { echo "install redis-server: apt-get install -y redis-server" >&2; exit 1; }
for port in "$SIM_PORT" "$GW_PORT" "$REDIS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use" >&2; exit 1; fi
done
dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
dotnet build -c Release bench/soak -nologo -v q >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_config "$work/proxy.json" "$SIM_PORT"
timeout $((DURATION + 120)) dotnet bench/soak/bin/Release/net10.0/MixProxy.Soak.dll \
  --config "$work/proxy.json" --gateway "$GATEWAY_DLL" \
  --sim-port "$SIM_PORT" --gw-port "$GW_PORT" --redis-port "$REDIS_PORT" \
  --duration-s "$DURATION" --concurrency "$CONCURRENCY" --seed "$SEED" ${REPORT:+--report "$REPORT"}
