#!/usr/bin/env bash
# Debian's Chromium for the browser tests (test/browser: the MCP App views in a real headless Chromium,
# driven by playwright-core, which never downloads a browser). Installs it once; prints its path.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium not installed; installing Debian's chromium package" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi
/usr/bin/chromium --version >&2
echo /usr/bin/chromium
