// The past: revisions newest first with actor, time and summary; for any revision, its diff
// against the one before it (the API's revision diff), the change as it was asked for (from the
// audit log) and what restoring it would send to proxies (the API's dry run), then the restore
// itself behind a confirmation with If-Match. And the audit log.

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { DryRunAnswer } from '../../src/api/dry-run.js';
import type { AuditAnswer, RestoredAnswer, RevisionHistoryAnswer } from '../../src/api/history.js';
import { explain, send } from '../api.js';
import { useApi } from '../live-data.js';
import { ConfirmButton } from './confirm-button.js';
import { DataTable } from './data-table.js';
import { DryRunDiff } from './dry-run-diff.js';
import { Problem } from './problem.js';
import { predecessorOf, RevisionDiff } from './revision-diff.js';

type AuditEntry = AuditAnswer['entries'][number];

function RevisionDetail({ revision, current, entry, changed }: { revision: number; current: number; entry: AuditEntry | undefined; changed(): void }) {
  const [preview, setPreview] = useState<DryRunAnswer | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const path = `/v1/revisions/${revision}/restore`;
  return (
    <div class="revision-detail" role="region" aria-label={`Revision ${revision}`}>
      <h3>The change of revision {revision}, as asked</h3>
      {entry === undefined ? <p class="muted">Not in the audit page read.</p> : <pre>{JSON.stringify(entry.change, null, 2)}</pre>}
      {revision === current ? (
        <p class="muted">This is the current revision.</p>
      ) : (
        <>
          <button
            type="button"
            onClick={() => {
              setFailure(undefined);
              send<DryRunAnswer>('POST', `${path}?dryRun=true`, { ifMatch: current }).then(setPreview, (error: unknown) => setFailure(explain(error)));
            }}
          >
            Preview restoring revision {revision}
          </button>
          {preview === undefined ? null : (
            <>
              <p>Restoring it would send proxies (against revision {current}):</p>
              <DryRunDiff answer={preview} />
            </>
          )}
          <ConfirmButton
            label={`Restore revision ${revision}`}
            danger
            consequence={`A new revision gets revision ${revision}'s listeners and services; rollouts of services it takes over are aborted.`}
            action={async () => {
              const answer = await send<RestoredAnswer>('POST', path, { ifMatch: current });
              setDone(answer.unchanged ? `Nothing changed: revision ${revision}'s state is the current one.` : `Restored as revision ${answer.revision}.`);
              changed();
            }}
          />
        </>
      )}
      {failure === undefined ? null : (
        <p class="error" role="alert">
          {failure}
        </p>
      )}
      {done === undefined ? null : (
        <p class="ok" role="status">
          {done}
        </p>
      )}
    </div>
  );
}

export function HistoryPage() {
  const history = useApi<RevisionHistoryAnswer>('/v1/revisions?limit=100');
  const audit = useApi<AuditAnswer>('/v1/audit?limit=100');
  const [open, setOpen] = useState<number | undefined>(undefined);
  const [diffed, setDiffed] = useState<ReadonlySet<number>>(new Set());
  const toggleDiff = (revision: number) => {
    const next = new Set(diffed);
    if (!next.delete(revision)) next.add(revision);
    setDiffed(next);
  };
  if (history.error !== undefined) return <Problem error={history.error} />;
  if (history.data === undefined) return <p class="loading">Reading the history…</p>;
  const current = history.data.revision;
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      <p class="summary">Current revision {current}. Choose a revision to see its change or restore it, or its diff to see what it changed.</p>
      <DataTable columns={['Revision', 'When', 'Who', 'What', 'Diff']}>
        {history.data.revisions.map((entry) => (
          <Fragment key={entry.revision}>
            <tr data-revision={entry.revision}>
              <td>
                <button type="button" aria-expanded={open === entry.revision} onClick={() => setOpen(open === entry.revision ? undefined : entry.revision)}>
                  {entry.revision}
                </button>
              </td>
              <td>{new Date(entry.at).toLocaleString()}</td>
              <td data-testid="actor">{entry.actor}</td>
              <td>{entry.summary}</td>
              <td>
                <button
                  type="button"
                  aria-expanded={diffed.has(entry.revision)}
                  aria-controls={`revision-diff-${entry.revision}`}
                  aria-label={`Diff of revision ${entry.revision} against ${predecessorOf(entry.revision)}`}
                  onClick={() => toggleDiff(entry.revision)}
                >
                  diff
                </button>
              </td>
            </tr>
            {diffed.has(entry.revision) ? (
              <tr id={`revision-diff-${entry.revision}`}>
                <td colSpan={5}>
                  <RevisionDiff revision={entry.revision} />
                </td>
              </tr>
            ) : null}
            {open === entry.revision ? (
              <tr>
                <td colSpan={5}>
                  <RevisionDetail
                    revision={entry.revision}
                    current={current}
                    entry={audit.data?.entries.find((candidate) => candidate.revision === entry.revision)}
                    changed={() => {
                      history.reload();
                      audit.reload();
                    }}
                  />
                </td>
              </tr>
            ) : null}
          </Fragment>
        ))}
      </DataTable>
    </section>
  );
}

export function AuditPage() {
  const audit = useApi<AuditAnswer>('/v1/audit?limit=200');
  if (audit.error !== undefined) return <Problem error={audit.error} />;
  if (audit.data === undefined) return <p class="loading">Reading the audit log…</p>;
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <DataTable columns={['Revision', 'When', 'Who', 'Change', 'Summary']}>
        {audit.data.entries.map((entry) => (
          <tr key={entry.revision} data-revision={entry.revision}>
            <td>{entry.revision}</td>
            <td>{new Date(entry.at).toLocaleString()}</td>
            <td data-testid="actor">{entry.actor}</td>
            <td>
              <code>{entry.change.kind}</code>
            </td>
            <td>{entry.summary}</td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}
