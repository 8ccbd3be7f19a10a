#!/usr/bin/env bash
# Runs every test of the solution. Extra arguments go to `dotnet test` (CI passes --results-directory).
set -euo pipefail
cd "$(dirname "$0")"
dotnet test MixProxy.sln -c Release --logger "trx" --logger "console;verbosity=normal" "$@"
