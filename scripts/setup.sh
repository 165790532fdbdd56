#!/usr/bin/env bash
# Installs everything sluice needs to build, run and test, from nothing: the npm packages (again
# only when package-lock.json changed), the pinned Envoy binary (scripts/install-envoy.sh) and,
# with --tests, PostgreSQL's server binaries for the replica tests (scripts/install-postgres.sh) and
# Chromium for the admin API's browser tests (scripts/install-chromium.sh).
# Idempotent; touches only node_modules/ and .envoy/ of this repository. Prints one line before
# each install step, and nothing when everything is already installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAMP=node_modules/.sluice-lock-installed
if [[ ! -f "$STAMP" ]] || ! cmp -s package-lock.json "$STAMP"; then
  echo "setup: installing npm packages (first run: about a minute)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$STAMP"
fi
bash scripts/install-envoy.sh
# The test suite also runs PostgreSQL-backed replicas and a browser; the demo needs neither.
if [[ "${1:-}" == "--tests" ]]; then
  bash scripts/install-postgres.sh
  bash scripts/install-chromium.sh
fi
