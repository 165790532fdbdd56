// `GET /v1/services/{name}/shadow`: how the shadow candidate's answers compare with the answers
// users got (read through a ShadowView). A read only; an unknown service, or one without a
// shadow, is a 404.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nameParamsSchema, responses } from '../../api/common.js';
import { shadowReportSchema, type ShadowView } from '../../api/shadow.js';
import { SluiceError } from '../../errors.js';
import { getService } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { withRevision } from '../revision-headers.js';

export const shadowRoutes: FastifyPluginAsyncTypebox<{ store: Store; shadow: ShadowView }> = async (app, { store, shadow }) => {
  app.get(
    '/v1/services/:name/shadow',
    {
      schema: {
        tags: ['services'],
        summary: "How often the shadow candidate agreed with the answers users got, its errors and latency, and the last disagreements",
        params: nameParamsSchema,
        response: responses({ 200: shadowReportSchema }),
      },
    },
    async (request, reply) => {
      const state = store.current();
      const service = getService(state, request.params.name);
      const report = shadow.report(service);
      if (!report) {
        throw new SluiceError('SLUICE_SHADOW_NOT_FOUND', `Service "${service.name}" has no shadow; give it one with "shadow": {"to": <version>, "percent": <0-100>, "compare": {"kind": ...}}.`);
      }
      return withRevision(reply, state.revision, report);
    },
  );
};
