// What one revision changed compared with the one before it, read from the API's revision diff:
// each listener, service and rollout added, removed or changed, with the changed fields' readable
// labels and old → new values. Reads once per revision shown (a past revision does not change).

import { useEffect, useState } from 'preact/hooks';
import type { RevisionDiffAnswer } from '../../src/api/history.js';
import { explain, get } from '../api.js';
import { ChangedPaths } from './dry-run-diff.js';

/** What revision n is compared with, in words. */
export function predecessorOf(revision: number): string {
  return revision === 1 ? 'the empty state' : `revision ${revision - 1}`;
}

export function RevisionDiff({ revision }: { revision: number }) {
  const [answer, setAnswer] = useState<RevisionDiffAnswer | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  useEffect(() => {
    setAnswer(undefined);
    setFailure(undefined);
    get<RevisionDiffAnswer>(`/v1/revisions/${revision}/diff`).then(setAnswer, (error: unknown) => setFailure(explain(error)));
  }, [revision]);
  const title = `Diff of revision ${revision} against ${predecessorOf(revision)}`;
  return (
    <div class="revision-diff" role="region" aria-label={title}>
      <h3>{title}</h3>
      {failure !== undefined ? (
        <p class="error" role="alert">
          {failure}
        </p>
      ) : answer === undefined ? (
        <p class="loading">Reading the diff…</p>
      ) : answer.changes.length === 0 ? (
        <p class="diff-none">It changed no listener, service or rollout.</p>
      ) : (
        <ul class="diff">
          {answer.changes.map((change) => (
            <li key={`${change.kind}/${change.name}`} data-change={`${change.kind}/${change.name}`}>
              <span class={`change ${change.change}`}>{change.change}</span> {change.kind} <code>{change.name}</code>
              {change.paths === undefined ? null : <ChangedPaths paths={change.paths} morePaths={change.morePaths} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
