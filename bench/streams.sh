#!/usr/bin/env bash
# Stream benchmarks on loopback, in one run, from a Release build (see docs/benchmarks.md, "Streams"):
#   (a) time to first token at concurrency 1: direct to the simulator vs through MixProxy (OpenAI passthrough,
#       Gemini passthrough, OpenAI -> Gemini translated), repeated, with the gateway's added TTFT;
#   (b) hold-back check: a paced upstream (10 chunks 50 ms apart), the lateness of every chunk at the client;
#   (c) 1,000 concurrent slow streams (64 chunks 100 ms apart): completion, gaps, memory per open stream.
# Prints Markdown tables. Every server binds 127.0.0.1; every loop is bounded in count and time.
# The machine is shared: run it under the benchmark lock so runs never overlap:
#   flock /tmp/mixproxy-bench.lock bench/streams.sh
#   STREAMS=500 SLOW_REPS=1 ONLY=ttft,slow flock /tmp/mixproxy-bench.lock bench/streams.sh
#   GATEWAY_ENV="DOTNET_gcServer=0" …    environment of the gateway process only, for experiments
#   COMPARE_DLL=/tmp/old/mixproxy.dll ONLY=slow …   adds the MixProxy rows of another build to (c), interleaved (before/after)
#   COMPARE_NAME="before"                          the label of those rows (default "compared build")
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
TTFT_N=${TTFT_N:-300}; TTFT_REPS=${TTFT_REPS:-3}; HOLD_REPS=${HOLD_REPS:-5}
STREAMS=${STREAMS:-1000}; SLOW_REPS=${SLOW_REPS:-2}; ONLY=${ONLY:-ttft,holdback,slow}
SIM_PORT=${SIM_PORT:-18190}; GW_PORT=${GW_PORT:-18180}; PACED_PORT=${PACED_PORT:-18192}
COMPARE_DLL=${COMPARE_DLL:-}; COMPARE_NAME=${COMPARE_NAME:-compared build}
GATEWAY_DLL=src/MixProxy/bin/Release/net10.0/mixproxy.dll

# 1,000 client streams, 1,000 gateway connections each way and the simulator's: well past the usual 1,024.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((STREAMS * 2 + 512)) ] || { echo "ulimit -n $(ulimit -n) is too low for STREAMS=$STREAMS" >&2; exit 1; }

dotnet build -c Release src/MixProxy -nologo -v q >/dev/null
dotnet build -c Release bench/MixProxy.Benchmarks -nologo -v q >/dev/null
bench=(dotnet bench/MixProxy.Benchmarks/bin/Release/net10.0/MixProxy.Benchmarks.dll streams)
work=$(mktemp -d)
stop_servers() {
  for pid in ${gw_pid:-} ${sim_pid:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  gw_pid=; sim_pid=
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

# The bench key has no limits, so the gateway's rate limiter admits every stream; "paced" is the in-process
# upstream of the hold-back check (the benchmark client starts it on PACED_PORT).
bench_config "$work/bench.json" "$SIM_PORT" "$PACED_PORT"

start_servers() { # [gateway dll]
  env Logging__LogLevel__Default=Warning dotnet src/MixProxy.Simulator/bin/Release/net10.0/MixProxy.Simulator.dll --urls "http://127.0.0.1:$SIM_PORT" --chunk-interval-ms 0 >/dev/null &
  sim_pid=$!
  env ${GATEWAY_ENV:-} dotnet "${1:-$GATEWAY_DLL}" --config "$work/bench.json" --urls "http://127.0.0.1:$GW_PORT" >/dev/null &
  gw_pid=$!
  wait_healthy "http://127.0.0.1:$GW_PORT/healthz/ready" "http://127.0.0.1:$SIM_PORT/healthz" || exit 1
}

sim="http://127.0.0.1:$SIM_PORT"; gw="http://127.0.0.1:$GW_PORT"
echo "Stream benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; client, simulator and gateway share them."
status=0

if [[ $ONLY == *ttft* ]]; then
  start_servers
  echo; echo "### (a) Time to first token, concurrency 1 ($TTFT_N streams per row per repetition, $TTFT_REPS repetitions: median [min–max])"; echo
  "${bench[@]}" ttft --sim "$sim" --gw "$gw" --gw-pid "$gw_pid" --sim-pid "$sim_pid" --n "$TTFT_N" --reps "$TTFT_REPS" --warmup 300 --max-seconds 300 || status=1
  stop_servers
fi

if [[ $ONLY == *holdback* ]]; then
  start_servers
  echo; echo "### (b) Chunks held back? Paced upstream, lateness = client arrival - upstream write (same clock)"; echo
  "${bench[@]}" holdback --gw "$gw" --gw-pid "$gw_pid" --sim-pid "$sim_pid" --upstream-port "$PACED_PORT" --chunks 10 --pace-ms 50 --reps "$HOLD_REPS" --max-seconds 120 || status=1
  stop_servers
fi

if [[ $ONLY == *slow* ]]; then
  echo; echo "### (c) $STREAMS concurrent slow streams (fresh servers per row; memory: all open vs none open after warm-up)"; echo
  header=1
  for rep in $(seq 1 "$SLOW_REPS"); do
    # name | target | api | model | gateway measured? | gateway build
    rows=("direct: OpenAI chat|$sim|chat|gpt-bench|no|"
          "MixProxy: OpenAI passthrough|$gw|chat|gpt-bench|yes|"
          "MixProxy: OpenAI -> Gemini translated|$gw|chat|gemini-bench|yes|"
          "MixProxy: Gemini passthrough|$gw|gemini|gemini-bench|yes|")
    if [ -n "$COMPARE_DLL" ]; then
      rows+=("$COMPARE_NAME: OpenAI passthrough|$gw|chat|gpt-bench|yes|$COMPARE_DLL"
             "$COMPARE_NAME: OpenAI -> Gemini translated|$gw|chat|gemini-bench|yes|$COMPARE_DLL"
             "$COMPARE_NAME: Gemini passthrough|$gw|gemini|gemini-bench|yes|$COMPARE_DLL")
    fi
    for row in "${rows[@]}"; do
      IFS='|' read -r name target api model measured dll <<<"$row"
      start_servers "$dll"
      gw_args=(--gw-pid 0 --metrics -)
      [ "$measured" = yes ] && gw_args=(--gw-pid "$gw_pid" --metrics "$gw/metrics")
      "${bench[@]}" slow --name "$name" --target "$target" --api "$api" --model "$model" --streams "$STREAMS" \
        --chunks 64 --pace-ms 100 --ramp-ms 2000 --sim-pid "$sim_pid" "${gw_args[@]}" --header "$header" --max-seconds 120 \
        2> >(sed 's/^/  # /' >&2) || status=1
      header=0
      stop_servers
    done
  done
fi
exit $status
