#!/usr/bin/env bash
# Debian's tmux for test/e2e/terminal-tty.test.ts (the command line in a real terminal: a detached tmux
# session of a given width, its screen captured). Installs it once; the test fails, never skips, without it.
set -euo pipefail
if ! command -v tmux >/dev/null; then
  echo "tmux not installed; installing Debian's tmux package" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tmux >&2
fi
tmux -V >&2
