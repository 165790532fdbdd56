// The admin API's description: the OpenAPI 3.1 document generated from the route schemas
// (`GET /openapi.json`) and the browsable docs (`/docs`). Must be set up before any route is
// registered. Answers are serialised as plain JSON: response schemas document them and never
// drop or coerce a field (a test checks the answers against them instead).

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { errorSchema } from '../api/common.js';
import { DOCS_PREFIX, OPENAPI_URL, isMutation, needsToken, type AdminAuth } from './access-rules.js';
import { checksHost } from './host-guard.js';
import { checksOrigin } from './origin-guard.js';

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

/** The guards' refusals, documented on each route they apply to (the guards answer them before any route). */
const crossOriginRefusal = {
  ...errorSchema,
  description: 'SLUICE_CROSS_ORIGIN: the change came from a page of another origin (its Origin or Sec-Fetch-Site header); nothing changed.',
};
const unknownHostRefusal = {
  ...errorSchema,
  description: 'SLUICE_UNKNOWN_HOST: the Host header names a host the admin API is not served under (a loopback name, its bind address or an --admin-host-name).',
};

/** What the document says of the guards: whether the Host is checked (the app was given its host names). */
export interface GuardsDocumented {
  hostChecked: boolean;
}

function documented(schema: FastifySchema | undefined, method: string, url: string, auth: AdminAuth | undefined, guards: GuardsDocumented): FastifySchema {
  const response = {
    ...(schema?.response as object | undefined),
    ...(checksOrigin(method) ? { 403: crossOriginRefusal } : {}),
    ...(guards.hostChecked && checksHost(url) ? { 421: unknownHostRefusal } : {}),
  };
  const withHeaders = isMutation(method) ? { ...schema, headers: changeHeaders, response } : { ...schema, response };
  return needsToken(auth, method, url) ? { ...withHeaders, security: [{ adminToken: [] }] } : withHeaders;
}

export function describeApi(app: FastifyInstance, auth: AdminAuth | undefined, guards: GuardsDocumented): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'sluice admin API', version: 'v1', description: DESCRIPTION },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      return { schema: documented(schema, method, url, auth, guards), url };
    },
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  void app.register(async (instance) => {
    instance.get(OPENAPI_URL, { schema: { hide: true } }, async () => instance.swagger());
  });
}
