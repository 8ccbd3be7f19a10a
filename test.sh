#!/usr/bin/env bash
# Runs every test of the solution. Extra arguments go to `dotnet test` (CI passes --results-directory).
# On a fresh Debian machine it first installs what the tests drive for real: Redis (rate limits, cache, a Redis
# Cluster), Prometheus' promtool (the /metrics lint), buildah, podman and runc (the container image is built and run),
# docker-compose (deploy/compose.yaml is validated), the official JavaScript SDKs (end-to-end client checks) and the
# Kubernetes schemas (deploy/check: every overlay rendered by kubectl and validated).
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# The container and Compose checks skip, saying why, where these cannot be installed (not root, no apt).
optional=()
for tool in buildah podman runc docker-compose; do command -v "$tool" >/dev/null 2>&1 || optional+=("$tool"); done
if [ $((${#missing[@]} + ${#optional[@]})) -gt 0 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" "${optional[@]}" >/dev/null
elif [ ${#missing[@]} -gt 0 ]; then
  echo "Install ${missing[*]} (Debian packages) or run as root; see README.md." >&2
  exit 1
fi

if [ ! -d tests/sdk-smoke/node_modules ]; then
  npm ci --prefix tests/sdk-smoke --no-audit --no-fund --ignore-scripts
fi
# The Kubernetes and Prometheus Operator schemas the manifest check validates against.
if [ ! -d deploy/check/node_modules ]; then
  npm ci --prefix deploy/check --no-audit --no-fund --ignore-scripts
fi

dotnet test MixProxy.sln -c Release --logger "trx" --logger "console;verbosity=normal" "$@"
