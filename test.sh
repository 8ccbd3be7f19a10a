#!/usr/bin/env bash
# Runs every test of the solution. Extra arguments go to `dotnet test` (CI passes --results-directory).
set -euo pipefail
cd "$(dirname "$0")"

# The end-to-end tests also drive the official JavaScript SDKs (openai, @google/genai) against the gateway.
if [ ! -d tests/sdk-smoke/node_modules ]; then
  npm ci --prefix tests/sdk-smoke --no-audit --no-fund --ignore-scripts
fi

dotnet test MixProxy.sln -c Release --logger "trx" --logger "console;verbosity=normal" "$@"
