#!/usr/bin/env bash
# Makes sure Debian's chromium is installed at /usr/bin/chromium for the
# browser tests (web/e2e, driven by playwright-core). Browsers cannot be
# downloaded by Playwright here, so never `npx playwright install`: the
# tests use the distribution's build.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: /usr/bin/chromium not found; installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1 \
  || { echo "ensure-chromium: /usr/bin/chromium is installed but does not start" >&2; exit 1; }
