#!/usr/bin/env bash
# Make sure the browser the e2e browser test drives is there: Debian's/Ubuntu's `chromium`
# (/usr/bin/chromium), installed with apt-get as root when missing. Playwright only drives it
# (executablePath); its own browser download cannot be used here. Prints nothing when all is there.
#
#   tests/harness/browser.sh      BMJH_CHROMIUM overrides the browser's path (default /usr/bin/chromium)
set -euo pipefail
log() { printf '[browser] %s\n' "$*" >&2; }
chromium=${BMJH_CHROMIUM:-/usr/bin/chromium}

[[ -x $chromium ]] && exit 0

if [[ $(id -u) != 0 ]]; then
  log "$chromium is missing and this is not root: install Debian's chromium package (apt-get install chromium) and retry"
  exit 1
fi
command -v apt-get >/dev/null || { log "$chromium is missing and there is no apt-get: install Chromium first"; exit 1; }
log "installing chromium"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be old or missing (minimal images): update once when the install fails.
apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
[[ -x $chromium ]] || { log "chromium was installed but $chromium is not there"; exit 1; }
log "installed $("$chromium" --version 2>/dev/null || echo chromium)"
