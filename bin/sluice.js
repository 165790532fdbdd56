#!/usr/bin/env node
// Entry point of the `sluice` command: runs the compiled CLI (build it with `npm run build`).
import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('sluice: not built yet; run `npm run build` first\n');
    process.exit(1);
  }
  throw error;
});
