#!/usr/bin/env bash
# Compiles sluice (TypeScript → dist/, incrementally) and bundles the web console (dist/console)
# for `npm run demo`. Prints one line before a build with work to do, since tsc is silent until it
# ends (the first build takes 10–30 s), and nothing when dist/ is newer than every source. Always runs tsc, so the line never decides what
# is built. Writes only dist/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_INFO=dist/.tsbuildinfo
if [[ ! -f "$BUILD_INFO" ]]; then
  echo "demo: building sluice (TypeScript, first run ~10-30 s)"
elif [[ -n "$(find src demo console tsconfig.json tsconfig.build.json package-lock.json -newer "$BUILD_INFO" \( -name '*.ts' -o -name '*.tsx' -o -name '*.json' -o -name '*.css' -o -name '*.html' \) -print -quit)" ]]; then
  echo "demo: rebuilding sluice (TypeScript, sources changed)"
fi
node node_modules/typescript/bin/tsc -p tsconfig.build.json
node scripts/build-console.mjs
# tsc leaves its build info alone when nothing it emits changed; the stamp records that dist/ is current.
touch "$BUILD_INFO"
