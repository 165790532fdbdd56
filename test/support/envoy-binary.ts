// Locates the Envoy binary that real-Envoy tests run: $ENVOY_BIN, else the one that
// scripts/install-envoy.sh put in <repo>/.envoy/bin. Never installs anything and never lets a
// test skip: a missing binary is a thrown error that says how to get one.

import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function envoyBinary(): string {
  const fromEnv = process.env.ENVOY_BIN;
  const path = fromEnv || `${REPO_ROOT}.envoy/bin/envoy`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    const origin = fromEnv ? 'ENVOY_BIN points at' : 'no Envoy binary at';
    throw new Error(
      `${origin} ${path} (missing or not executable). ` +
        'Run `bash scripts/install-envoy.sh` (installs the pinned Envoy into .envoy/) or set ENVOY_BIN.',
    );
  }
  return path;
}
