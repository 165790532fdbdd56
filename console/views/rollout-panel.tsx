// A service's rollout: its steps as a progress line, the hold's countdown, each analysis metric's
// values against its threshold, the commands its phase allows (approve, pause, resume, abort;
// each confirmed) and its timeline of decisions.

import { useEffect, useState } from 'preact/hooks';
import type { RolloutAnswer } from '../../src/api/rollouts.js';
import { send } from '../api.js';
import { ConfirmButton } from './confirm-button.js';
import { DataTable } from './data-table.js';
import { Sparkline } from './sparkline.js';

type Step = RolloutAnswer['steps'][number];
type Metric = RolloutAnswer['analysis']['metrics'][number];

const FINISHED = new Set(['succeeded', 'rolled-back', 'aborted']);

function stepText(step: Step): string {
  if ('approve' in step) return 'approval';
  return 'shadow' in step ? `shadow ${step.shadow}% for ${step.hold}` : `${step.weight}% for ${step.hold}`;
}

function thresholdOf(metric: Metric): { value?: number; text: string } {
  if (metric.source === 'fleet') return { value: metric.maxErrorRate, text: `error rate at most ${metric.maxErrorRate}` };
  if (metric.source === 'shadow') {
    const parts = [metric.minAgreement === undefined ? '' : `agreement at least ${metric.minAgreement}`, metric.maxLatencyRatio === undefined ? '' : `latency ratio at most ${metric.maxLatencyRatio}`];
    return { ...(metric.minAgreement === undefined ? {} : { value: metric.minAgreement }), text: parts.filter((text) => text !== '').join(' and ') };
  }
  const bounds = [metric.min === undefined ? '' : `at least ${metric.min}`, metric.max === undefined ? '' : `at most ${metric.max}`].filter((text) => text !== '');
  return { ...(metric.max !== undefined ? { value: metric.max } : metric.min !== undefined ? { value: metric.min } : {}), text: bounds.join(' and ') };
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function remaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

function Commands({ rollout, changed }: { rollout: RolloutAnswer; changed(): void }) {
  const base = `/v1/services/${encodeURIComponent(rollout.service)}/rollout`;
  const command = (name: string) => async () => {
    await send('POST', `${base}/${name}`, { ifMatch: rollout.revision });
    changed();
  };
  if (FINISHED.has(rollout.phase)) return null;
  return (
    <div class="actions" role="group" aria-label="Rollout commands">
      {rollout.phase === 'awaiting-approval' ? (
        <ConfirmButton label="Approve" consequence={`The rollout to ${rollout.candidate} passes its approval step and goes on.`} action={command('approve')} />
      ) : null}
      {rollout.phase === 'paused' ? (
        <ConfirmButton label="Resume" consequence={`The rollout goes on from ${rollout.pausedFrom ?? 'where it paused'}.`} action={command('resume')} />
      ) : (
        <ConfirmButton label="Pause" consequence="The rollout stops where it is; a hold keeps what is left of it." action={command('pause')} />
      )}
      <ConfirmButton label="Abort" danger consequence={`The rollout ends and all traffic goes to ${rollout.stable} (stable) in one push.`} action={command('abort')} />
    </div>
  );
}

export function RolloutPanel({ rollout, changed }: { rollout: RolloutAnswer; changed(): void }) {
  const holding = rollout.phase === 'holding' && rollout.holdUntil !== undefined;
  const now = useNow(holding);
  const analyses = rollout.timeline.filter((decision) => decision.event === 'analysis' && decision.measurements !== undefined);
  return (
    <section class="panel rollout" aria-labelledby="rollout-title" data-phase={rollout.phase}>
      <h2 id="rollout-title">
        Rollout to {rollout.candidate}: <span class={`phase ${rollout.phase}`} data-testid="rollout-phase">{rollout.phase}</span>
      </h2>
      <ol class="steps" aria-label="Steps">
        {rollout.steps.map((step, index) => {
          const state = index < rollout.step || rollout.phase === 'succeeded' ? 'done' : index === rollout.step && !FINISHED.has(rollout.phase) ? 'current' : 'todo';
          return (
            <li key={index} class={state} aria-current={state === 'current' ? 'step' : undefined}>
              {index + 1}. {stepText(step)}
            </li>
          );
        })}
      </ol>
      {holding ? (
        <p data-testid="hold-countdown">
          Holding: {remaining(Date.parse(rollout.holdUntil!) - now)} left
          {rollout.nextAnalysisAt === undefined ? '' : `, next analysis in ${remaining(Date.parse(rollout.nextAnalysisAt) - now)}`}.
        </p>
      ) : null}
      {rollout.phase === 'paused' && rollout.holdRemainingMs !== undefined ? <p>Paused with {remaining(rollout.holdRemainingMs)} of the hold left.</p> : null}
      {rollout.reason === undefined ? null : <p>Reason: {rollout.reason}</p>}
      <p class="muted">
        Failed analyses {rollout.failures} of {rollout.analysis.failureLimit} tolerated; inconclusive in a row {rollout.inconclusive} of {rollout.analysis.inconclusiveLimit}.
      </p>
      <Commands rollout={rollout} changed={changed} />
      {rollout.analysis.metrics.length === 0 ? null : (
        <>
          <h3>Analysis</h3>
          <ul class="metrics">
            {rollout.analysis.metrics.map((metric) => {
              const values = analyses.flatMap((decision) => decision.measurements!.filter((m) => m.metric === metric.name && m.value !== undefined).map((m) => m.value!));
              const last = analyses.at(-1)?.measurements?.find((m) => m.metric === metric.name);
              const threshold = thresholdOf(metric);
              return (
                <li key={metric.name}>
                  <strong>{metric.name}</strong> <span class="muted">({metric.source}; passes with {threshold.text})</span>
                  <Sparkline values={values} {...(threshold.value === undefined ? {} : { threshold: threshold.value })} label={`${metric.name}: ${values.join(', ') || 'no value yet'}`} />
                  {last === undefined ? null : (
                    <span class={last.outcome === 'pass' ? 'ok' : last.outcome === 'fail' ? 'bad' : 'muted'}>
                      last: {last.outcome}
                      {last.value === undefined ? '' : ` (${last.value})`}
                      {last.reason === undefined ? '' : ` — ${last.reason}`}
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <h3>Timeline</h3>
      <DataTable columns={['When', 'Decision', 'Step', 'By', 'Detail']}>
        {[...rollout.timeline].reverse().map((decision, index) => (
          <tr key={`${decision.at}-${index}`}>
            <td>{new Date(decision.at).toLocaleTimeString()}</td>
            <td>{decision.event}</td>
            <td>{decision.step + 1}</td>
            <td>{decision.actor}</td>
            <td>
              {decision.weights === undefined ? '' : Object.entries(decision.weights).map(([v, w]) => `${v} ${w}%`).join(', ')}
              {decision.outcome === undefined ? '' : ` ${decision.outcome}`}
              {decision.reason === undefined ? '' : ` ${decision.reason}`}
            </td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}
