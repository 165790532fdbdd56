// The admin API's contract for `GET /v1/services/{name}/shadow`: how often the shadow candidate
// agreed with the answers users got, how it failed, how fast each side answered, and a bounded
// sample of disagreements; and the view that answers it (implemented by the shadow collector).
// TypeBox schemas and their types.

import { Type, type Static } from '@sinclair/typebox';
import { shadowCompareSchema, type Service } from '../model/types.js';
import { revisioned, timeField } from './common.js';

const closed = { additionalProperties: false } as const;

const latencySchema = Type.Object(
  {
    samples: Type.Integer({ minimum: 0 }),
    p50: Type.Union([Type.Number(), Type.Null()]),
    p99: Type.Union([Type.Number(), Type.Null()]),
  },
  { ...closed, description: 'Milliseconds over the last answers kept (at most 2,048 per side); null without any.' },
);

const keptAnswerSchema = Type.Object(
  {
    status: Type.Integer(),
    grpcStatus: Type.Optional(Type.Integer()),
    sha256: Type.String({ description: 'Of the whole body kept by the collector.' }),
    bytes: Type.Integer({ minimum: 0 }),
    text: Type.Optional(Type.String({ description: "The body's first 4 KiB (UTF-8 text, or base64 for binary answers); absent when the shadow keeps hashes only." })),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
  },
  closed,
);

export const shadowDisagreementSchema = Type.Object(
  {
    requestId: Type.String(),
    at: timeField,
    outcome: Type.Union([Type.Literal('disagree'), Type.Literal('candidate-error')]),
    detail: Type.String(),
    user: keptAnswerSchema,
    candidate: keptAnswerSchema,
  },
  closed,
);
export type ShadowDisagreement = Static<typeof shadowDisagreementSchema>;

export const shadowReportSchema = revisioned(
  Type.Object(
    {
      service: Type.String(),
      to: Type.String({ description: 'The candidate version the requests are copied to.' }),
      percent: Type.Number(),
      compare: shadowCompareSchema,
      active: Type.Boolean({ description: 'False while the candidate is the stable version or the percentage is 0: nothing is copied.' }),
      since: { ...timeField, description: 'When these results started (sluice started, or the shadow last changed its candidate or comparison).' },
      samples: Type.Integer({ minimum: 0, description: 'Requests whose two answers were compared: agreed + disagreed + candidateErrors.' }),
      agreed: Type.Integer({ minimum: 0 }),
      disagreed: Type.Integer({ minimum: 0 }),
      candidateErrors: Type.Integer({ minimum: 0, description: 'The user got a good answer and the candidate failed.' }),
      incomparable: Type.Integer({ minimum: 0, description: "The user's own answer failed, or an answer could not be read as the comparison needs." }),
      servedByCandidate: Type.Integer({ minimum: 0, description: 'Copies of requests the candidate itself served (it has weight): not compared.' }),
      unpaired: Type.Object(
        { userOnly: Type.Integer({ minimum: 0 }), candidateOnly: Type.Integer({ minimum: 0 }) },
        { ...closed, description: 'Answers whose other half never came within 30 s, or was pushed out by the memory bound.' },
      ),
      agreement: Type.Union([
        Type.Object(
          { rate: Type.Number(), low: Type.Number(), high: Type.Number(), confidence: Type.Number() },
          { ...closed, description: "Agreed / samples with its Wilson score interval." },
        ),
        Type.Null(),
      ]),
      difference: Type.Union([
        Type.Object({ mean: Type.Number(), max: Type.Number() }, { ...closed, description: 'Of the largest numeric difference per compared pair (numeric and oip).' }),
        Type.Null(),
      ]),
      latencyMs: Type.Object({ user: latencySchema, candidate: latencySchema }, closed),
      disagreements: Type.Array(shadowDisagreementSchema, { description: 'The last 20, newest first.' }),
    },
    closed,
  ),
);
export type ShadowReport = Static<typeof shadowReportSchema>;

/** What the shadow route reads (main.ts wires the collector in). */
export interface ShadowView {
  report(service: Service): Omit<ShadowReport, 'revision'> | undefined;
}
