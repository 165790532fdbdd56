#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests of the
# admin API (a real browser sends what a hostile page would: Origin, Sec-Fetch-Site, forms).
# Nothing else is downloaded: the tests drive this browser with playwright-core. Idempotent;
# prints one line before installing and nothing when Chromium is already there.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "install-chromium: ERROR: Chromium is not installed; run as root or: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "setup: installing Chromium for the admin API's browser tests (apt-get chromium)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
[[ -x /usr/bin/chromium ]] || { echo "install-chromium: ERROR: /usr/bin/chromium still missing" >&2; exit 1; }
