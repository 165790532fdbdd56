// The web console's files: its page at `/` and its bundle (script, style sheet) under `/console/`,
// read from the directory the build writes (dist/console, made by scripts/build-console.mjs).
// Serves files only; the page talks to the admin API like any other client, and its own
// Content-Security-Policy is set in security-headers.ts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { CONSOLE_ASSETS_PREFIX, CONSOLE_PAGE } from '../access-rules.js';

const NOT_BUILT = 'The web console is not built: run "npm run build" (it bundles the console into dist/console).\n';

export const consoleRoutes: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  if (!existsSync(join(root, 'index.html'))) {
    app.get(CONSOLE_PAGE, { schema: { hide: true } }, async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, { root, prefix: CONSOLE_ASSETS_PREFIX, index: false, wildcard: false, schemaHide: true });
  app.get(CONSOLE_PAGE, { schema: { hide: true } }, async (_request, reply) => reply.sendFile('index.html'));
};
