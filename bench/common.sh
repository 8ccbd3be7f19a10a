# Shared by the benchmark scripts (sourced, not run): the gateway config they generate and the wait for servers.

# bench_config FILE SIM_PORT [PACED_PORT]
# Writes a gateway config with the repository's routes: models gpt-bench (OpenAI) and gemini-bench (Gemini) on the
# simulator at SIM_PORT and, with PACED_PORT, gpt-paced and gemini-paced on the upstream listening there; one key,
# "bench-key", without limits, so the rate limiter admits everything.
bench_config() {
  python3 - "$@" <<'PY'
import json, sys, hashlib
path, port, paced = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
routes = json.load(open("config/proxy.json"))["ReverseProxy"]["Routes"]
cluster = lambda p: {"Destinations": {"d": {"Address": f"http://127.0.0.1:{p}"}},
                     "Metadata": {"MixProxy.ForwardHeaders": "x-simulator-*"}}
clusters = {"sim": cluster(port)}
models = [{"Name": "gemini-bench", "Cluster": "sim", "Protocols": ["Gemini"]},
          {"Name": "gpt-bench", "Cluster": "sim", "Protocols": ["OpenAI"]}]
if paced:
    clusters["paced"] = cluster(paced)
    models += [{"Name": "gemini-paced", "Cluster": "paced", "Protocols": ["Gemini"]},
               {"Name": "gpt-paced", "Cluster": "paced", "Protocols": ["OpenAI"]}]
json.dump({
  "ReverseProxy": {"Routes": routes, "Clusters": clusters},
  "Models": models,
  "Keys": [{"Name": "bench", "Hash": "sha256:" + hashlib.sha256(b"bench-key").hexdigest(), "Models": ["*"]}],
}, open(path, "w"))
PY
}

# wait_healthy URL... : returns once every URL answers 2xx; fails after 20 s.
wait_healthy() {
  local url ready
  for _ in $(seq 1 100); do
    ready=1
    for url in "$@"; do curl -sf -o /dev/null "$url" || { ready=0; break; }; done
    [ "$ready" = 1 ] && return 0
    sleep 0.2
  done
  echo "not ready after 20 s: $*" >&2
  return 1
}

# The gateway runs with its shipped defaults (src/MixProxy/appsettings.json: no line per request), as users get it.
# Only the simulator, which is no part of what is measured, is told to log warnings alone.
