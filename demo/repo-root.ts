// Finds the sluice repository's root (the directory holding package.json) from a demo module's
// own location, whether it runs from demo/ or the compiled dist/demo/. Reads the file system only.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the sluice repository root');
    dir = parent;
  }
  return dir;
}
