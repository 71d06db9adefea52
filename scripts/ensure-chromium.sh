#!/usr/bin/env bash
# Makes sure Debian's chromium is installed at /usr/bin/chromium for the
# browser tests (web/e2e, driven by playwright-core). Browsers cannot be
# downloaded by Playwright here, so never `npx playwright install`: the
# tests use the distribution's build. The colour-emoji and CJK fonts are
# there so the screenshots show the emoji and Chinese text the tests type
# instead of empty boxes.
set -euo pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
for p in fonts-noto-color-emoji fonts-wqy-microhei; do
  dpkg -s "$p" >/dev/null 2>&1 || packages+=("$p")
done
if [ "${#packages[@]}" -gt 0 ]; then
  echo "ensure-chromium: installing Debian's ${packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1 \
  || { echo "ensure-chromium: /usr/bin/chromium is installed but does not start" >&2; exit 1; }
