#!/usr/bin/env bash
# The whole end-to-end benchmark in one command: request/response load (bench/load.sh), then streams
# (bench/streams.sh), each printing its Markdown tables. Takes the benchmark lock itself, so it never overlaps another
# benchmark run on a shared machine; the environment variables of both scripts pass through.
#   bench/e2e.sh            # about 15 minutes on a 2-core machine
#   PEER=portkey bench/e2e.sh   # with the Portkey gateway as a peer in the load table (see bench/load.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/mixproxy-bench.lock bash -c 'bash bench/load.sh && bash bench/streams.sh'
