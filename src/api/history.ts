// The admin API's contract for the past: the audit log, the revision history, what a revision
// changed against the one before it, and what restoring a revision answers. TypeBox schemas and
// their types.

import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from '../model/fields.js';
import { listenerSchema, serviceSchema } from '../model/types.js';
import { revisionField, revisioned, timeField, unchangedField } from './common.js';
import { abortedRolloutSchema } from './desired-state.js';
import { namedChangeProperties } from './dry-run.js';

const historyEntryProperties = {
  revision: revisionField,
  actor: Type.String({ description: '"token" for a call authenticated by the admin token, "admin" otherwise, unless X-Sluice-Actor names someone.' }),
  at: timeField,
  summary: Type.String(),
};

export const auditSchema = revisioned(
  Type.Object(
    {
      entries: Type.Array(
        Type.Object(
          {
            ...historyEntryProperties,
            change: Type.Object({ kind: Type.String() }, { description: 'The change as it was asked for.' }),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
);
export type AuditAnswer = Static<typeof auditSchema>;

export const revisionHistorySchema = revisioned(
  Type.Object({ revisions: Type.Array(Type.Object(historyEntryProperties, { additionalProperties: false })) }, { additionalProperties: false }),
);
export type RevisionHistoryAnswer = Static<typeof revisionHistorySchema>;

export const STATE_PART_KINDS = ['listener', 'service', 'rollout'] as const;

/** A listener, service or rollout (the latest of a service) that a revision added, removed or changed, with the changed paths into it. */
export const statePartChangeSchema = Type.Object({ kind: stringEnum(STATE_PART_KINDS), ...namedChangeProperties }, { additionalProperties: false });
export type StatePartChange = Static<typeof statePartChangeSchema>;

export const revisionDiffSchema = revisioned(
  Type.Object(
    {
      of: Type.Integer({ minimum: 1, description: 'The revision compared with the one before it (revision 1 with the empty state).' }),
      changes: Type.Array(statePartChangeSchema, { description: 'Listeners, then services, then rollouts, each by name.' }),
    },
    { additionalProperties: false },
  ),
);
export type RevisionDiffAnswer = Static<typeof revisionDiffSchema>;

export const restoredSchema = revisioned(
  Type.Object(
    {
      restored: Type.Integer({ minimum: 1, description: 'The revision whose listeners and services the new revision has.' }),
      unchanged: Type.Optional(unchangedField),
      abortedRollouts: Type.Optional(
        Type.Record(Type.String(), abortedRolloutSchema, { description: 'The active rollouts the restore ended, by service (present when it ended any).' }),
      ),
      listeners: Type.Array(listenerSchema),
      services: Type.Array(serviceSchema),
    },
    { additionalProperties: false },
  ),
);
export type RestoredAnswer = Static<typeof restoredSchema>;
