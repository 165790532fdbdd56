// Bundles the web console (console/) into dist/console: one script (with preact and the event
// frame reader of src/api), its style sheet and its page. Run by `npm run build`,
// scripts/build-demo.sh and the tests' build; writes only dist/console. No network, no CDN.

import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'console', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'console', 'tsconfig.json'),
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'console', 'style.css'), join(out, 'app.css'));
copyFileSync(join(root, 'console', 'page.html'), join(out, 'index.html'));
copyFileSync(join(root, 'console', 'favicon.svg'), join(out, 'favicon.svg'));
