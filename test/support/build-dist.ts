// vitest global setup: compiles sluice (incrementally) and bundles the web console before any test
// runs, so the tests that start `bin/sluice.js` as users do run today's code and page, never a
// stale build. Writes only dist/.
// Type errors are printed but do not stop the run (tsc still emits; `npm test` type-checks first).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildDist(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.stderr.write(`build-dist: tsc reported errors (the build was emitted anyway):\n${result.stdout}`);
  const bundle = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], { cwd: root, encoding: 'utf8' });
  if (bundle.error) throw bundle.error;
  if (bundle.status !== 0) throw new Error(`build-dist: bundling the web console failed:\n${bundle.stderr}`);
}
