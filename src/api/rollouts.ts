// The admin API's contract for rollouts: a rollout as reading or steering it answers (with the
// service's weights now), the list of every service's latest rollout without timelines, and the
// list's `?active=` filter. TypeBox schemas and their types.

import { Type, type Static } from '@sinclair/typebox';
import { stringEnum, weightsField } from '../model/fields.js';
import { rolloutSchema } from '../model/types.js';
import { revisioned } from './common.js';

const { timeline, ...summaryProperties } = rolloutSchema.properties;
const weightsNow = Type.Optional({ ...weightsField, description: "The service's weights now (absent once the service is deleted)." });

/** A rollout with the service's weights now. */
export const rolloutAnswerSchema = revisioned(Type.Object({ ...summaryProperties, weights: weightsNow, timeline }, { additionalProperties: false }));
export type RolloutAnswer = Static<typeof rolloutAnswerSchema>;

export const rolloutSummarySchema = Type.Object({ ...summaryProperties, weights: weightsNow }, { additionalProperties: false });
export type RolloutSummary = Static<typeof rolloutSummarySchema>;

/** Every service's latest rollout, without its timeline. */
export const rolloutListSchema = revisioned(Type.Object({ rollouts: Type.Array(rolloutSummarySchema) }, { additionalProperties: false }));
export type RolloutListAnswer = Static<typeof rolloutListSchema>;

export const rolloutListQuerySchema = Type.Object(
  { active: Type.Optional(stringEnum(['true', 'false'], { description: 'true: only rollouts not finished.' })) },
  { additionalProperties: false },
);
