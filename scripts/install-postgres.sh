#!/usr/bin/env bash
# Makes sure a PostgreSQL server (Debian's package) is installed for the replica tests: they start
# their own throwaway server from its binaries, so nothing is configured or started here.
# Idempotent; installs only when no initdb is found. Prints one line before installing and nothing
# when PostgreSQL is already there.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "install-postgres: ERROR: PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
  exit 1
fi
echo "setup: installing PostgreSQL's server binaries for the replica tests (apt-get postgresql)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || { echo "install-postgres: ERROR: initdb still missing" >&2; exit 1; }
