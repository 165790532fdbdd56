// The admin API's description: the OpenAPI 3.1 document generated from the route schemas
// (`GET /openapi.json`) and the browsable docs (`/docs`). Must be set up before any route is
// registered. Answers are serialised as plain JSON: response schemas document them and never
// drop or coerce a field (a test checks the answers against them instead).

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { DOCS_PREFIX, OPENAPI_URL, isMutation, needsToken, type AdminAuth } from './access-rules.js';

const DESCRIPTION = [
  'Desired state of sluice, an Envoy xDS control plane: services, listeners, traffic actions, revisions and the fleet.',
  'Every change answers with the new `revision` (also as `ETag`) and accepts `If-Match: <revision>`.',
  'Errors are `{"error": {"code", "message", "path"}}`.',
].join(' ');

/** Headers every change reads; documented only (the handlers check them). */
const changeHeaders = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'The revision the change is based on; another current revision gets 412.' },
    'x-sluice-actor': { type: 'string', maxLength: 128, description: 'Who asks, for the audit log.' },
  },
} as const;

function documented(schema: FastifySchema | undefined, method: string, url: string, auth: AdminAuth | undefined): FastifySchema {
  const withHeaders = isMutation(method) ? { ...schema, headers: changeHeaders } : { ...schema };
  return needsToken(auth, method, url) ? { ...withHeaders, security: [{ adminToken: [] }] } : withHeaders;
}

export function describeApi(app: FastifyInstance, auth: AdminAuth | undefined): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'sluice admin API', version: 'v1', description: DESCRIPTION },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      return { schema: documented(schema, method, url, auth), url };
    },
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  void app.register(async (instance) => {
    instance.get(OPENAPI_URL, { schema: { hide: true } }, async () => instance.swagger());
  });
}
