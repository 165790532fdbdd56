// The admin API's contract for services and listeners: what reading them answers, what a change
// answers besides the resource (`unchanged`, the rollout it ended, the recent traffic a forced
// delete cut off), and the guardrails' query parameters. TypeBox schemas and their types.

import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from '../model/fields.js';
import { listenerSchema, serviceSchema, type Service } from '../model/types.js';
import { revisioned, unchangedField } from './common.js';
import { withDryRun } from './dry-run.js';

export const abortedRolloutSchema = Type.Object(
  {
    candidate: Type.String(),
    phase: Type.String({ description: 'The phase the rollout was in when this change ended it.' }),
    step: Type.Integer({ minimum: 0 }),
    reason: Type.String(),
  },
  { additionalProperties: false, description: "Present when this change ended the service's active rollout (it is now aborted; see GET …/rollout)." },
);
export type AbortedRollout = Static<typeof abortedRolloutSchema>;

/** What the proxies served of one service within the recent window, by their load reports. */
export const recentTrafficSchema = Type.Object(
  {
    requests: Type.Integer({ minimum: 0, description: 'Completed requests (errors included) over every version.' }),
    byVersion: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: "Requests per version that served any, in the service's version order." }),
    proxies: Type.Integer({ minimum: 0, description: 'How many proxies reported them.' }),
    windowSeconds: Type.Integer({ minimum: 1, description: 'The window, ending at the delete.' }),
  },
  {
    additionalProperties: false,
    description: 'Present when a forced delete removed a service that proxies served within the recent window (their load reports): those requests now fail (404).',
  },
);
export type RecentServiceTraffic = Static<typeof recentTrafficSchema>;

/** What the delete guard reads of the traffic (main.ts wires the fleet's load reports in). */
export interface ServiceTrafficView {
  recentTraffic(service: Service): RecentServiceTraffic;
}

export const serviceAnswerSchema = revisioned(serviceSchema);
export type ServiceAnswer = Static<typeof serviceAnswerSchema>;

/** What a change to one service answers: the service, and whether anything changed or a rollout ended. */
export const serviceChangeSchema = revisioned(
  Type.Object({ ...serviceSchema.properties, unchanged: Type.Optional(unchangedField), abortedRollout: Type.Optional(abortedRolloutSchema) }, { additionalProperties: false }),
);
export type ServiceChangeAnswer = Static<typeof serviceChangeSchema>;

/** What deleting a service answers: the service removed, a rollout it aborted, the recent traffic it cut off. */
export const serviceDeletionSchema = revisioned(
  Type.Object(
    { ...serviceSchema.properties, abortedRollout: Type.Optional(abortedRolloutSchema), recentTraffic: Type.Optional(recentTrafficSchema) },
    { additionalProperties: false },
  ),
);
export type ServiceDeletionAnswer = Static<typeof serviceDeletionSchema>;

export const servicesSchema = revisioned(Type.Object({ services: Type.Array(serviceSchema) }, { additionalProperties: false }));
export type ServicesAnswer = Static<typeof servicesSchema>;

export const listenerAnswerSchema = revisioned(listenerSchema);

/** What a change to one listener answers. */
export const listenerChangeSchema = revisioned(Type.Object({ ...listenerSchema.properties, unchanged: Type.Optional(unchangedField) }, { additionalProperties: false }));

export const listenersSchema = revisioned(Type.Object({ listeners: Type.Array(listenerSchema) }, { additionalProperties: false }));

/** `?override=rollout` on weights, promote and put: abort the service's active rollout instead of refusing. */
export const overrideQuerySchema = withDryRun(
  Type.Object({
    override: Type.Optional(
      stringEnum(['rollout'], {
        description: 'With an active rollout the change is refused (409 SLUICE_ROLLOUT_IN_PROGRESS); "rollout" makes it anyway and aborts the rollout.',
      }),
    ),
  }),
);
export type OverrideQuery = Static<typeof overrideQuerySchema>;

/** `?force=true` on delete: confirm deleting a service with an active rollout or recent traffic. */
export const forceQuerySchema = withDryRun(
  Type.Object({
    force: Type.Optional(
      stringEnum(['true', 'false'], {
        description:
          'A service with an active rollout, or that proxies served recently (by their load reports), is deleted only with force=true (else 409 SLUICE_DELETE_UNCONFIRMED); the rollout is aborted.',
      }),
    ),
  }),
);
export type ForceQuery = Static<typeof forceQuerySchema>;
