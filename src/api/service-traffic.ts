// The admin API's contract for `GET /v1/services/{name}/traffic`: what the proxies' load reports
// say each version of a service served over the last minutes, in equal intervals (requests and
// errors per interval, oldest first), and the view that answers it (implemented by sync).
// TypeBox schemas and their types.

import { Type, type Static } from '@sinclair/typebox';
import type { Service } from '../model/types.js';
import { revisioned, timeField } from './common.js';

const intervalSchema = Type.Object(
  {
    requests: Type.Integer({ minimum: 0, description: 'Completed requests (errors included).' }),
    errors: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type TrafficInterval = Static<typeof intervalSchema>;

export const serviceTrafficSchema = revisioned(
  Type.Object(
    {
      service: Type.String(),
      from: { ...timeField, description: 'Start of the first interval.' },
      intervalSeconds: Type.Integer({ minimum: 1 }),
      versions: Type.Record(Type.String(), Type.Array(intervalSchema), {
        description: "Per version, in the service's version order: its intervals, oldest first (the last one still filling).",
      }),
    },
    { additionalProperties: false },
  ),
);
export type ServiceTrafficAnswer = Static<typeof serviceTrafficSchema>;

/** What the traffic route reads (main.ts wires the fleet's load reports in). */
export interface ServiceTrafficHistoryView {
  trafficHistory(service: Service): { from: number; intervalSeconds: number; versions: Record<string, TrafficInterval[]> };
}
