// Setting a service's weights from the page: a number field per version, a preview that is the
// API's own dry run (what each proxy group would receive), then Apply with If-Match on the
// revision previewed. A 412 (someone changed sluice meanwhile) or a 409 (a rollout holds the
// service; it can be overridden, which aborts the rollout) is explained, never swallowed.

import { useEffect, useState } from 'preact/hooks';
import type { ServiceAnswer, ServiceChangeAnswer } from '../../src/api/desired-state.js';
import type { DryRunAnswer } from '../../src/api/dry-run.js';
import { ApiError, explain, send } from '../api.js';
import { DryRunDiff } from './dry-run-diff.js';

type Draft = Record<string, string>;

function draftOf(service: ServiceAnswer): Draft {
  return Object.fromEntries(service.versions.map((version) => [version.name, String(service.weights[version.name] ?? 0)]));
}

function weightsOf(draft: Draft): Record<string, number> {
  return Object.fromEntries(Object.entries(draft).map(([version, text]) => [version, Number(text)]));
}

const total = (weights: Record<string, number>): number => Math.round(Object.values(weights).reduce((sum, weight) => sum + weight, 0) * 100) / 100;

export function WeightsEditor({ service, changed }: { service: ServiceAnswer; changed(): void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(service));
  const [editing, setEditing] = useState(false);
  const [preview, setPreview] = useState<{ answer: DryRunAnswer; revision: number; override: boolean } | undefined>(undefined);
  const [failure, setFailure] = useState<{ text: string; rolloutHeld: boolean } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>(undefined);

  // Follow the live weights until the person starts editing.
  useEffect(() => {
    if (!editing) setDraft(draftOf(service));
  }, [service, editing]);

  const path = `/v1/services/${encodeURIComponent(service.name)}/weights`;
  const weights = weightsOf(draft);
  const sum = total(weights);

  const refused = (error: unknown): void => {
    setFailure({ text: explain(error), rolloutHeld: error instanceof ApiError && error.code === 'SLUICE_ROLLOUT_IN_PROGRESS' });
    if (error instanceof ApiError && error.status === 412) {
      setPreview(undefined);
      setEditing(false);
      changed();
    }
  };

  const previewChange = async (override: boolean): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    setDone(undefined);
    try {
      const query = override ? '?dryRun=true&override=rollout' : '?dryRun=true';
      const answer = await send<DryRunAnswer>('PUT', `${path}${query}`, { body: weights, ifMatch: service.revision });
      setPreview({ answer, revision: service.revision, override });
    } catch (error) {
      refused(error);
    } finally {
      setBusy(false);
    }
  };

  const apply = async (): Promise<void> => {
    if (preview === undefined) return;
    setBusy(true);
    setFailure(undefined);
    try {
      const answer = await send<ServiceChangeAnswer>('PUT', preview.override ? `${path}?override=rollout` : path, { body: weights, ifMatch: preview.revision });
      setDone(
        answer.unchanged
          ? `Nothing changed (revision ${answer.revision}).`
          : `Applied as revision ${answer.revision}.${answer.abortedRollout === undefined ? '' : ` The rollout to ${answer.abortedRollout.candidate} was aborted.`}`,
      );
      setPreview(undefined);
      setEditing(false);
      changed();
    } catch (error) {
      refused(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="weights-form"
      aria-label="Set weights"
      onSubmit={(event) => {
        event.preventDefault();
        void previewChange(false);
      }}
    >
      {service.versions.map((version) => (
        <div class="field" key={version.name}>
          <label for={`weight-${version.name}`}>{version.name} %</label>
          <input
            id={`weight-${version.name}`}
            type="number"
            min="0"
            max="100"
            step="0.01"
            value={draft[version.name] ?? '0'}
            onInput={(event) => {
              const value = event.currentTarget.value;
              setEditing(true);
              setPreview(undefined);
              setDraft((current) => ({ ...current, [version.name]: value }));
            }}
          />
        </div>
      ))}
      <span class={sum === 100 ? 'muted' : 'bad'} aria-live="polite">
        total {sum}%
      </span>
      <button type="submit" disabled={busy}>
        Preview change
      </button>
      {editing ? (
        <button
          type="button"
          onClick={() => {
            setEditing(false);
            setPreview(undefined);
            setFailure(undefined);
          }}
        >
          Reset
        </button>
      ) : null}
      {preview === undefined ? null : (
        <div class="preview" role="region" aria-label="Preview of the weights change">
          <p>
            Based on revision {preview.revision}
            {preview.override ? ', aborting the active rollout' : ''}. Proxies would receive:
          </p>
          <DryRunDiff answer={preview.answer} />
          <button type="button" class={preview.override ? 'danger primary' : 'primary'} disabled={busy} onClick={() => void apply()}>
            Apply weights
          </button>
        </div>
      )}
      {failure === undefined ? null : (
        <div class="error" role="alert">
          {failure.text}
          {failure.rolloutHeld ? (
            <button type="button" class="danger" disabled={busy} onClick={() => void previewChange(true)}>
              Preview overriding the rollout (it is aborted)
            </button>
          ) : null}
        </div>
      )}
      {done === undefined ? null : (
        <p class="ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
