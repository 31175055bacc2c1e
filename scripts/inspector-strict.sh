#!/usr/bin/env bash
# Runs the MCP Inspector 2.x CLI (pinned; it needs Node >= 22.19, so it runs on the npm-package Node 24)
# against the built server in sandbox mode:
#   1. tools/list with --strict: any schema warning or error fails the run (zero allowed);
#   2. tools/call of models and of quote, checked for the answers they must give.
# Usage: bash scripts/inspector-strict.sh   (after npm run build; installs the Inspector into .cache/ once)
set -euo pipefail
cd "$(dirname "$0")/.."
INSPECTOR_VERSION=2.12.0
NODE24="$(bash .ci/node-bin.sh 24)"
cache=".cache/inspector-$INSPECTOR_VERSION"
launcher="$cache/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
if [ ! -f "$launcher" ]; then
  mkdir -p "$cache"
  echo '{"private":true}' >"$cache/package.json"
  # npm runs on the system Node; the Inspector's engines field asks for 22.19, hence --engine-strict=false.
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    --engine-strict=false "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2 2>/dev/null
fi
[ -f dist/cli.js ] || { echo "inspector: dist/cli.js missing, run npm run build" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
server=("$NODE24" "$PWD/dist/cli.js")
env_args=(-e "MEDIAGEN_STATE_DIR=$work/state" -e MEDIAGEN_SANDBOX=true)
inspect() { (cd "$work" && HOME="$work" "$NODE24" "$OLDPWD/$launcher" --cli "$@" "${env_args[@]}" "${server[@]}"); }

# tools/list --strict; fails on any finding. $1: what this pass lists (for the messages).
strict_list() {
  local status=0 tools
  inspect --strict --method tools/list >"$work/list.json" 2>"$work/list.err" || status=$?
  grep -v '^\[mediagen-mcp\]' "$work/list.err" >"$work/findings" || true
  if [ "$status" -ne 0 ] || grep -qiE 'warning|error' "$work/findings"; then
    cat "$work/findings" >&2
    echo "inspector: tools/list --strict ($1) reported problems (exit $status)" >&2
    exit 1
  fi
  tools=$("$NODE24" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).tools.length)' "$work/list.json")
  echo "tools/list ($1): $tools tools, 0 warnings, 0 errors"
}

echo "== Inspector $INSPECTOR_VERSION on $("$NODE24" --version): tools/list --strict"
strict_list 'default tools'
# Every catalogue operation turned on, those off by default included.
all=$("$NODE24" --input-type=module -e "import { loadCatalogues, SHIPPED_CATALOGUES } from './dist/catalogue/load.js';
console.log(loadCatalogues(SHIPPED_CATALOGUES).flatMap((c) => c.operations.map((o) => c.provider + '_' + o.id)).join(','))")
server=("$NODE24" "$PWD/dist/cli.js" --tools "$all")
strict_list 'every operation on'
server=("$NODE24" "$PWD/dist/cli.js")

echo "== tools/call models"
inspect --method tools/call --tool-name models --tool-arg family=veo >"$work/models.json" 2>/dev/null
grep -q '"phaya_veo31_video"' "$work/models.json" || { cat "$work/models.json" >&2; echo 'inspector: models did not list phaya_veo31_video' >&2; exit 1; }
grep -q '"isError": true' "$work/models.json" && { cat "$work/models.json" >&2; exit 1; }
echo "models: ok"

echo "== tools/call quote"
inspect --method tools/call --tool-name quote --tool-arg tool=phaya_veo31_video \
  'arguments={"prompt":"a lantern","model":"veo3"}' >"$work/quote.json" 2>/dev/null
grep -q '"credits": 50' "$work/quote.json" || { cat "$work/quote.json" >&2; echo 'inspector: quote did not price Veo 3.1 at 50 credits' >&2; exit 1; }
grep -q '"isError": true' "$work/quote.json" && { cat "$work/quote.json" >&2; exit 1; }
echo "quote: ok"
