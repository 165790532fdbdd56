// Rollouts in the desired state: the request bodies' JSON Schemas (TypeBox), turning a body into a
// new rollout with its defaults and meaning-level checks (JSON-pointer paths), the checks every
// stored rollout must pass, and small pure helpers (step weights, audit wording). No I/O, no clock;
// how a rollout moves is src/rollout's business.

import { Type, type Static } from '@sinclair/typebox';
import { SluiceError } from '../errors.js';
import { parseDuration } from './duration.js';
import { METRIC_NAME_PATTERN, annotated, durationField, nameField, stringEnum, urlField } from './fields.js';
import { normalizeShadowCompare } from './traffic-policies.js';
import { METRIC_SOURCES, ROLLOUT_PHASES, SHADOW_KEEP, shadowCompareSchema, shadowStepPercentField } from './types.js';
import type {
  Comparison,
  Measurement,
  Rollout,
  RolloutAnalysis,
  RolloutDecision,
  RolloutMetric,
  RolloutPhase,
  RolloutStep,
  Service,
  Shadow,
  ShadowSample,
  Weights,
} from './types.js';

/** Decisions a rollout keeps in its timeline; older ones are only in the audit log. */
export const TIMELINE_CAP = 200;
const DEFAULT_MIN_REQUESTS = 50;
const DEFAULT_FAILURE_LIMIT = 0;
const DEFAULT_INCONCLUSIVE_LIMIT = 3;
/** How sure a relative metric must be before it passes or fails a candidate, unless the body says. */
export const DEFAULT_CONFIDENCE = 0.95;
/** How long a step waits for the proxies to apply it before the rollout pauses, unless the body says. */
export const DEFAULT_PROXY_TIMEOUT = '5m';
/** The analysis interval of a rollout whose body names no analysis (it has no metrics, so nothing runs on it). */
export const DEFAULT_ANALYSIS_INTERVAL = '30s';
/** The hold of the last weighted step when the body leaves it out: promotion follows once every proxy applied it. */
export const DEFAULT_LAST_HOLD = '0s';
/** Webhooks one rollout may notify. */
export const MAX_NOTIFY_URLS = 5;
const MAX_STEPS = 32;
const MAX_METRICS = 8;
const MAX_COUNT = 1_000_000_000;
const closed = { additionalProperties: false } as const;

const FINAL_PHASES: ReadonlySet<RolloutPhase> = new Set(['succeeded', 'rolled-back', 'aborted']);

export type RolloutCommand = 'pause' | 'resume' | 'approve' | 'abort';

/**
 * One controller or person decision as a store change: the rollout after it (the store appends
 * `decisions` to the timeline) and, when traffic moves, the service's new weights (and stable);
 * at a shadow step the shadow it sets, and `null` once it leaves its shadow steps (the store
 * removes the shadow the rollout set, if the service still has that one).
 */
export interface RolloutUpdate {
  name: string;
  rollout: Omit<Rollout, 'timeline'>;
  decisions: RolloutDecision[];
  weights?: Weights;
  stable?: string;
  shadow?: Shadow | null;
}

/**
 * A decision about a rollout that changes none of its fields (a phase change's notification that
 * could not be delivered), for the rollout started at `startedAt`; a store change of its own.
 */
export interface RolloutNote {
  kind: 'noteRollout';
  name: string;
  startedAt: string;
  decision: RolloutDecision & { event: 'notification-failed' };
}

const count = (fallback: number) => Type.Integer({ minimum: 0, maximum: MAX_COUNT, default: fallback });

/** What a client sends to POST /v1/services/{name}/rollouts. */
export const rolloutBodySchema = Type.Object(
  {
    candidate: nameField,
    steps: Type.Array(
      Type.Object(
        {
          weight: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
          shadow: Type.Optional(shadowStepPercentField),
          hold: Type.Optional(durationField),
          approve: Type.Optional(Type.Literal(true)),
        },
        closed,
      ),
      {
        minItems: 1,
        maxItems: MAX_STEPS,
        description:
          'Each step is {"weight": 10, "hold": "2m"}, {"shadow": 20, "hold": "10m"} (the candidate serves no one; that share of requests is copied to it ' +
          'and its answers compared with the ones users got) or {"approve": true}; after the last one the candidate is promoted. ' +
          'Only the last weighted step may leave out "hold" (it then holds "0s": promotion follows once every proxy applied it).',
      },
    ),
    analysis: Type.Optional(
      Type.Object(
        {
          interval: durationField,
          minRequests: Type.Optional(count(DEFAULT_MIN_REQUESTS)),
          failureLimit: Type.Optional(count(DEFAULT_FAILURE_LIMIT)),
          inconclusiveLimit: Type.Optional(count(DEFAULT_INCONCLUSIVE_LIMIT)),
          metrics: Type.Array(
            Type.Object(
              {
                name: Type.String({ pattern: METRIC_NAME_PATTERN }),
                source: stringEnum(METRIC_SOURCES),
                maxErrorRate: Type.Optional(
                  Type.Number({ minimum: 0, maximum: 1, description: "fleet, absolute: fail when the candidate's error rate is above this (0.05 is 5%)." }),
                ),
                maxErrorRateIncrease: Type.Optional(
                  Type.Number({
                    minimum: 0,
                    maximum: 1,
                    description:
                      "fleet, relative: fail when the candidate's error rate is shown, at `confidence`, to exceed the stable version's over the same window by more than this " +
                      '(0.01 is one percentage point); pass when it is shown not to; inconclusive while the samples cannot tell or either version has fewer than minRequests requests.',
                  }),
                ),
                confidence: Type.Optional(
                  Type.Number({
                    exclusiveMinimum: 0,
                    exclusiveMaximum: 1,
                    default: DEFAULT_CONFIDENCE,
                    description: 'fleet, relative: how sure each verdict must be; a candidate no worse than allowed is failed by at most about 1 − confidence of analyses.',
                  }),
                ),
                minAgreement: Type.Optional(
                  Type.Number({
                    minimum: 0,
                    maximum: 1,
                    description:
                      "shadow: fail when the share of the candidate's answers that agree with the user's is shown, at `confidence`, to be below this; " +
                      'pass when it is shown to be at least this; inconclusive while the samples cannot tell.',
                  }),
                ),
                maxLatencyRatio: Type.Optional(
                  Type.Number({ exclusiveMinimum: 0, description: "shadow: fail when the candidate's median latency over the window is more than this times the user's." }),
                ),
                minSamples: Type.Optional(
                  Type.Integer({ minimum: 0, maximum: MAX_COUNT, description: 'shadow: fewer compared answers in a window is inconclusive (absent: minRequests).' }),
                ),
                url: Type.Optional(urlField),
                query: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
                max: Type.Optional(Type.Number()),
                min: Type.Optional(Type.Number()),
              },
              {
                ...closed,
                description:
                  'fleet: {maxErrorRate} (absolute) or {maxErrorRateIncrease, confidence} (against the stable version); prometheus: {url, query, max and/or min}; webhook: {url, max and/or min}; ' +
                  'shadow: {minAgreement and/or maxLatencyRatio, minSamples, confidence}. Shadow metrics are measured at shadow steps only, the others at weight steps only.',
              },
            ),
            { maxItems: MAX_METRICS },
          ),
        },
        {
          ...closed,
          description: `Optional: without it the rollout has no metrics (holds and approvals only) and the defaults (interval ${DEFAULT_ANALYSIS_INTERVAL}, unused without metrics).`,
        },
      ),
    ),
    shadowCompare: Type.Optional(
      annotated(shadowCompareSchema, { description: "How shadow steps compare the candidate's answers with the user's; required with shadow steps, refused without." }),
    ),
    shadowKeep: Type.Optional(
      annotated(stringEnum(SHADOW_KEEP), { description: 'What a disagreement at a shadow step keeps of both answers. Absent: `answers` (the first 4 KiB of each).' }),
    ),
    proxyTimeout: Type.Optional(
      annotated(durationField, {
        default: DEFAULT_PROXY_TIMEOUT,
        description:
          'How long a step may wait for every connected proxy to apply it (at least 1s); then the rollout pauses, naming the proxies that have not and their last NACK.',
      }),
    ),
    notify: Type.Optional(
      Type.Array(urlField, {
        maxItems: MAX_NOTIFY_URLS,
        description:
          'http(s) URLs that get one JSON POST per phase change (Slack-compatible "text" plus fields). Absent: the server-wide --rollout-webhook list; [] : none.',
      }),
    ),
  },
  closed,
);
export type RolloutBody = Static<typeof rolloutBodySchema>;

/** The body of `pause` and `abort`. */
export const rolloutReasonBodySchema = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }, closed);
export type RolloutReasonBody = Static<typeof rolloutReasonBodySchema>;

export function isFinal(phase: RolloutPhase): boolean {
  return FINAL_PHASES.has(phase);
}

function invalid(message: string, path: string): SluiceError {
  return new SluiceError('SLUICE_INVALID_BODY', message, path);
}

function checkPercent(weight: number, path: string): void {
  const hundredths = weight * 100;
  if (!(weight >= 0 && weight <= 100) || Math.abs(hundredths - Math.round(hundredths)) > 1e-6) {
    throw invalid(`Weight ${weight} must be a percentage from 0 to 100 with at most two decimals.`, path);
  }
}

/**
 * The shortest analysis interval and hold (other than none, "0s") a new rollout may ask for:
 * shorter ones would have sluice judge traffic, and push revisions, faster than proxies report.
 * Rollouts stored before this minimum existed are still read.
 */
export const MIN_ROLLOUT_DURATION_MS = 1000;

function tooShort(what: string, text: string, path: string): SluiceError {
  return new SluiceError('SLUICE_DURATION_TOO_SHORT', `${what} "${text}" is shorter than the minimum of 1s.`, path);
}

function checkHold(text: string, path: string, minimums: boolean): void {
  const hold = parseDuration(text, path);
  if (minimums && hold > 0 && hold < MIN_ROLLOUT_DURATION_MS) throw tooShort('The hold', text, path);
}

function normalizeShadowStep(step: RolloutBody['steps'][number], path: string, minimums: boolean): RolloutStep {
  const shadow = step.shadow!;
  if (step.weight !== undefined || step.approve !== undefined) {
    throw invalid('A shadow step takes no weight or approval (the candidate serves no one while it holds); make them a step of their own.', `${path}/shadow`);
  }
  if (!(shadow > 0 && shadow <= 100)) throw invalid(`Shadow ${shadow} must be a percentage above 0, at most 100.`, `${path}/shadow`);
  checkPercent(shadow, `${path}/shadow`);
  if (step.hold === undefined) throw invalid(`Missing required field "${path}/hold" (a shadow step always holds).`, `${path}/hold`);
  checkHold(step.hold, `${path}/hold`, minimums);
  return { shadow, hold: step.hold };
}

function normalizeSteps(steps: RolloutBody['steps'], base: string, minimums = false): RolloutStep[] {
  const lastWeighted = steps.reduce((last, step, i) => (step.weight === undefined ? last : i), -1);
  return steps.map((step, i): RolloutStep => {
    const path = `${base}/${i}`;
    if (step.shadow !== undefined) return normalizeShadowStep(step, path, minimums);
    if (step.approve === true) {
      if (step.weight !== undefined || step.hold !== undefined) {
        throw invalid('An approval step takes no weight or hold; make them a step of their own.', `${path}/approve`);
      }
      return { approve: true };
    }
    if (step.weight === undefined) throw invalid('A step needs either "weight" and "hold", "shadow" and "hold", or "approve": true.', path);
    if (step.hold === undefined && i !== lastWeighted) {
      throw invalid(`Missing required field "${path}/hold" (only the last weighted step may leave it out).`, `${path}/hold`);
    }
    checkPercent(step.weight, `${path}/weight`);
    const holdText = step.hold ?? DEFAULT_LAST_HOLD;
    checkHold(holdText, `${path}/hold`, minimums);
    return { weight: step.weight, hold: holdText };
  });
}

type AnalysisBody = NonNullable<RolloutBody['analysis']>;
type MetricBody = AnalysisBody['metrics'][number];

function bounds(metric: MetricBody, path: string): { max?: number; min?: number } {
  if (metric.max === undefined && metric.min === undefined) {
    throw invalid(`Metric "${metric.name}" needs "max", "min" or both.`, path);
  }
  if (metric.max !== undefined && metric.min !== undefined && metric.min > metric.max) {
    throw invalid(`Metric "${metric.name}" has min ${metric.min} above max ${metric.max}.`, `${path}/min`);
  }
  return { ...(metric.max === undefined ? {} : { max: metric.max }), ...(metric.min === undefined ? {} : { min: metric.min }) };
}

/** A fleet metric is absolute (maxErrorRate) or relative (maxErrorRateIncrease, at a confidence), never both. */
function normalizeFleetMetric(metric: MetricBody, path: string): RolloutMetric {
  const { maxErrorRate, maxErrorRateIncrease, confidence } = metric;
  if (maxErrorRate !== undefined && maxErrorRateIncrease !== undefined) {
    throw invalid('A fleet metric takes "maxErrorRate" (absolute) or "maxErrorRateIncrease" (against the stable version), not both.', `${path}/maxErrorRateIncrease`);
  }
  if (maxErrorRate !== undefined) {
    if (confidence !== undefined) throw invalid('"confidence" belongs to a relative metric (with "maxErrorRateIncrease").', `${path}/confidence`);
    return { name: metric.name, source: 'fleet', maxErrorRate };
  }
  if (maxErrorRateIncrease === undefined) {
    throw invalid(`Missing required field "${path}/maxErrorRate" (or "maxErrorRateIncrease" to compare with the stable version).`, `${path}/maxErrorRate`);
  }
  const sure = checkConfidence(confidence ?? DEFAULT_CONFIDENCE, `${path}/confidence`);
  if (!(maxErrorRateIncrease >= 0 && maxErrorRateIncrease <= 1)) {
    throw invalid(`maxErrorRateIncrease ${maxErrorRateIncrease} must be from 0 to 1.`, `${path}/maxErrorRateIncrease`);
  }
  return { name: metric.name, source: 'fleet', maxErrorRateIncrease, confidence: sure };
}

function checkConfidence(confidence: number, path: string): number {
  if (!(confidence > 0 && confidence < 1)) throw invalid(`Confidence ${confidence} must be above 0 and below 1.`, path);
  return confidence;
}

/** A shadow metric bounds the agreement, the latency ratio or both. */
function normalizeShadowMetric(metric: MetricBody, path: string): RolloutMetric {
  const { minAgreement, maxLatencyRatio, minSamples } = metric;
  if (minAgreement === undefined && maxLatencyRatio === undefined) {
    throw invalid(`Shadow metric "${metric.name}" needs "minAgreement", "maxLatencyRatio" or both.`, `${path}/minAgreement`);
  }
  if (minAgreement !== undefined && !(minAgreement >= 0 && minAgreement <= 1)) throw invalid(`minAgreement ${minAgreement} must be from 0 to 1.`, `${path}/minAgreement`);
  if (maxLatencyRatio !== undefined && !(maxLatencyRatio > 0)) throw invalid(`maxLatencyRatio ${maxLatencyRatio} must be above 0.`, `${path}/maxLatencyRatio`);
  return {
    name: metric.name,
    source: 'shadow',
    ...(minAgreement === undefined ? {} : { minAgreement }),
    ...(maxLatencyRatio === undefined ? {} : { maxLatencyRatio }),
    ...(minSamples === undefined ? {} : { minSamples }),
    confidence: checkConfidence(metric.confidence ?? DEFAULT_CONFIDENCE, `${path}/confidence`),
  };
}

function normalizeMetric(metric: MetricBody, path: string): RolloutMetric {
  const allowed: Record<RolloutMetric['source'], readonly string[]> = {
    fleet: ['name', 'source', 'maxErrorRate', 'maxErrorRateIncrease', 'confidence'],
    prometheus: ['name', 'source', 'url', 'query', 'max', 'min'],
    webhook: ['name', 'source', 'url', 'max', 'min'],
    shadow: ['name', 'source', 'minAgreement', 'maxLatencyRatio', 'minSamples', 'confidence'],
  };
  const extra = Object.keys(metric).find((key) => !allowed[metric.source].includes(key));
  if (extra !== undefined) throw invalid(`A ${metric.source} metric takes no "${extra}".`, `${path}/${extra}`);
  const need = (field: 'maxErrorRate' | 'url' | 'query'): void => {
    if (metric[field] === undefined) throw invalid(`Missing required field "${path}/${field}".`, `${path}/${field}`);
  };
  switch (metric.source) {
    case 'fleet':
      return normalizeFleetMetric(metric, path);
    case 'prometheus':
      need('url');
      need('query');
      return { name: metric.name, source: 'prometheus', url: metric.url!, query: metric.query!, ...bounds(metric, path) };
    case 'webhook':
      need('url');
      return { name: metric.name, source: 'webhook', url: metric.url!, ...bounds(metric, path) };
    case 'shadow':
      return normalizeShadowMetric(metric, path);
  }
}

/** What a rollout whose body has no `analysis` gets: no metrics, so holds pass on time alone. */
function defaultAnalysis(): RolloutAnalysis {
  return {
    interval: DEFAULT_ANALYSIS_INTERVAL,
    minRequests: DEFAULT_MIN_REQUESTS,
    failureLimit: DEFAULT_FAILURE_LIMIT,
    inconclusiveLimit: DEFAULT_INCONCLUSIVE_LIMIT,
    metrics: [],
  };
}

function normalizeAnalysis(analysis: AnalysisBody, base: string, steps: readonly RolloutStep[], minimums = false): RolloutAnalysis {
  const interval = parseDuration(analysis.interval, `${base}/interval`);
  if (minimums && interval < MIN_ROLLOUT_DURATION_MS) throw tooShort('The analysis interval', analysis.interval, `${base}/interval`);
  if (interval === 0) throw invalid('The analysis interval must be longer than 0s.', `${base}/interval`);
  const seen = new Set<string>();
  const metrics = analysis.metrics.map((metric, i) => {
    const path = `${base}/metrics/${i}`;
    if (seen.has(metric.name)) throw invalid(`Metric name "${metric.name}" is used twice.`, `${path}/name`);
    seen.add(metric.name);
    if (metric.source === 'shadow' && !steps.some(isShadowStep)) {
      throw invalid(`Shadow metric "${metric.name}" is measured only at shadow steps, and this rollout has none.`, `${path}/source`);
    }
    return normalizeMetric(metric, path);
  });
  return {
    interval: analysis.interval,
    minRequests: analysis.minRequests ?? DEFAULT_MIN_REQUESTS,
    failureLimit: analysis.failureLimit ?? DEFAULT_FAILURE_LIMIT,
    inconclusiveLimit: analysis.inconclusiveLimit ?? DEFAULT_INCONCLUSIVE_LIMIT,
    metrics,
  };
}

function normalizeProxyTimeout(text: string, path: string, minimums = false): string {
  const ms = parseDuration(text, path);
  if (minimums && ms < MIN_ROLLOUT_DURATION_MS) throw tooShort('The proxy timeout', text, path);
  if (ms === 0) throw invalid('The proxy timeout must be longer than 0s.', path);
  return text;
}

/**
 * Why `text` cannot be a notification webhook (undefined when it can): an absolute http(s) URL
 * without credentials. The reason never repeats the URL, whose path may be a secret (Slack's is).
 */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, not ${url.protocol}`;
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  return undefined;
}

function normalizeNotify(urls: readonly string[], base: string): string[] {
  if (urls.length > MAX_NOTIFY_URLS) throw invalid(`At most ${MAX_NOTIFY_URLS} notification URLs.`, base);
  const seen = new Set<string>();
  return urls.map((url, i) => {
    const problem = webhookUrlProblem(url);
    if (problem !== undefined) throw invalid(`Notification URL ${i} ${problem}.`, `${base}/${i}`);
    if (seen.has(url)) throw invalid(`Notification URL ${i} is listed twice.`, `${base}/${i}`);
    seen.add(url);
    return url;
  });
}

/** How long a step of `rollout` may wait for the proxies (ms). */
export function proxyTimeoutMs(rollout: Pick<Rollout, 'proxyTimeout'>): number {
  return parseDuration(rollout.proxyTimeout ?? DEFAULT_PROXY_TIMEOUT);
}

export function isShadowStep(step: RolloutStep): step is Extract<RolloutStep, { shadow: number }> {
  return 'shadow' in step;
}

/** The comparison shadow steps use (and what a disagreement keeps): required with shadow steps, refused without. */
function normalizeShadowFields(body: Pick<RolloutBody, 'shadowCompare' | 'shadowKeep'>, steps: readonly RolloutStep[], base: string): Pick<Rollout, 'shadowCompare' | 'shadowKeep'> {
  const shadowSteps = steps.some(isShadowStep);
  if (!shadowSteps) {
    if (body.shadowCompare !== undefined) throw invalid('"shadowCompare" applies only to a rollout with shadow steps; this one has none.', `${base}/shadowCompare`);
    if (body.shadowKeep !== undefined) throw invalid('"shadowKeep" applies only to a rollout with shadow steps; this one has none.', `${base}/shadowKeep`);
    return {};
  }
  if (body.shadowCompare === undefined) {
    throw invalid(
      `Missing required field "${base}/shadowCompare": how a shadow step compares the candidate's answers with the users' (e.g. {"kind": "numeric", "path": "/prediction"}).`,
      `${base}/shadowCompare`,
    );
  }
  return {
    shadowCompare: normalizeShadowCompare(body.shadowCompare, `${base}/shadowCompare`),
    ...(body.shadowKeep === undefined ? {} : { shadowKeep: body.shadowKeep }),
  };
}

/** The metrics measured at the rollout's current step: shadow metrics at a shadow step, the others at a weight step. */
export function stepMetrics(rollout: Pick<Rollout, 'steps' | 'step' | 'analysis'>): RolloutMetric[] {
  const step = rollout.steps[rollout.step];
  const shadow = step !== undefined && isShadowStep(step);
  return rollout.analysis.metrics.filter((metric) => (metric.source === 'shadow') === shadow);
}

/** The shadow a shadow step of `percent` sets on the service: the candidate, compared as the rollout says. */
export function shadowOfStep(rollout: Pick<Rollout, 'service' | 'candidate' | 'shadowCompare' | 'shadowKeep'>, percent: number): Shadow {
  if (rollout.shadowCompare === undefined) throw invalid(`The rollout of "${rollout.service}" has a shadow step but no "shadowCompare".`, '/shadowCompare');
  return { to: rollout.candidate, percent, compare: rollout.shadowCompare, keep: rollout.shadowKeep ?? 'answers' };
}

/** A rollout of `service` as the body asks, not yet moving (phase `progressing`, step 0). */
export function newRollout(service: Service, body: RolloutBody, at: string, actor: string): Rollout {
  if (!service.versions.some((v) => v.name === body.candidate)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${body.candidate}" is not a version of service "${service.name}".`, '/candidate');
  }
  if (body.candidate === service.stable) {
    throw new SluiceError(
      'SLUICE_CANDIDATE_IS_STABLE',
      `"${body.candidate}" is already the stable version of service "${service.name}"; roll out another version.`,
      '/candidate',
    );
  }
  const steps = normalizeSteps(body.steps, '/steps', true);
  const shadowStep = steps.findIndex(isShadowStep);
  if (shadowStep !== -1 && service.mirror !== undefined) {
    throw invalid(
      `Service "${service.name}" mirrors requests to "${service.mirror.to}" (answers discarded), and a shadow step shadows (answers compared): ` +
        'a service does not do both. Remove its "mirror" first.',
      `/steps/${shadowStep}`,
    );
  }
  return {
    service: service.name,
    candidate: body.candidate,
    stable: service.stable,
    steps,
    analysis: body.analysis === undefined ? defaultAnalysis() : normalizeAnalysis(body.analysis, '/analysis', steps, true),
    ...normalizeShadowFields(body, steps, ''),
    proxyTimeout: normalizeProxyTimeout(body.proxyTimeout ?? DEFAULT_PROXY_TIMEOUT, '/proxyTimeout', true),
    ...(body.notify === undefined ? {} : { notify: normalizeNotify(body.notify, '/notify') }),
    phase: 'progressing',
    step: 0,
    failures: 0,
    inconclusive: 0,
    startedAt: at,
    timeline: [{ at, event: 'started', step: 0, actor }],
  };
}

/** Everything a stored rollout must satisfy, whatever became of its service since it started. */
export function checkRollout(key: string, rollout: Rollout): void {
  const base = `/rollouts/${key}`;
  if (rollout.service !== key) throw invalid(`Rollout stored as "${key}" is of service "${rollout.service}".`, `${base}/service`);
  if (rollout.candidate === rollout.stable) throw invalid(`Rollout of "${key}" has the same candidate and stable version.`, `${base}/candidate`);
  if (!(ROLLOUT_PHASES as readonly string[]).includes(rollout.phase)) throw invalid(`Rollout of "${key}" has an unknown phase.`, `${base}/phase`);
  const steps = normalizeSteps(rollout.steps, `${base}/steps`);
  normalizeAnalysis(rollout.analysis, `${base}/analysis`, steps);
  normalizeShadowFields(rollout, steps, base);
  if (rollout.proxyTimeout !== undefined) normalizeProxyTimeout(rollout.proxyTimeout, `${base}/proxyTimeout`);
  if (rollout.notify !== undefined) normalizeNotify(rollout.notify, `${base}/notify`);
  if (steps.length === 0 || !Number.isInteger(rollout.step) || rollout.step < 0 || rollout.step > steps.length) {
    throw invalid(`Rollout of "${key}" is at step ${rollout.step} of ${steps.length}.`, `${base}/step`);
  }
  if (rollout.timeline.length > TIMELINE_CAP) throw invalid(`Rollout of "${key}" keeps more than ${TIMELINE_CAP} decisions.`, `${base}/timeline`);
}

/** Stable at 100 − `weight`, the candidate at `weight` (other versions get 0 when applied). */
export function stepWeights(rollout: Pick<Rollout, 'stable' | 'candidate'>, weight: number): Weights {
  return { [rollout.stable]: Math.round((100 - weight) * 100) / 100, [rollout.candidate]: weight };
}

function describeWeights(weights: Weights): string {
  return Object.entries(weights).map(([version, weight]) => `${version} ${weight}`).join(', ');
}

function sameDecision(a: RolloutDecision, b: RolloutDecision): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The decisions `after` holds that `before` did not. The timeline only grows (capped at the
 * front), so they follow the last decision `before` had; a rollout started since (another
 * `startedAt`) is new with its whole timeline.
 */
export function newDecisions(before: Rollout | undefined, after: Rollout): RolloutDecision[] {
  if (before === after) return [];
  if (before === undefined || before.startedAt !== after.startedAt || before.candidate !== after.candidate) return after.timeline;
  const last = before.timeline.at(-1);
  if (last === undefined) return after.timeline;
  for (let i = after.timeline.length - 1; i >= 0; i--) {
    if (sameDecision(after.timeline[i]!, last)) return after.timeline.slice(i + 1);
  }
  return after.timeline;
}

/** An error rate in percent, e.g. `4.1%` (at most two decimals). */
export function percentText(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

/** A change of error rate in percentage points, signed, e.g. `+3.1` or `-0.25`. */
export function pointsText(increase: number): string {
  const points = Number((increase * 100).toFixed(2));
  return `${points < 0 ? '' : '+'}${points}`;
}

function countText(n: number): string {
  return n.toLocaleString('en-US');
}

/** What the confidence bounds of a relative measurement say against its allowance, e.g. `at least +2.2 > +1 at 95%`. */
export function boundsText(comparison: Comparison): string {
  const { lower, upper, maxIncrease, confidence } = comparison;
  const allowed = pointsText(maxIncrease);
  const sure = `at ${percentText(confidence)}`;
  if (lower === undefined || upper === undefined) return `not compared (allowed ${allowed} ${sure})`;
  if (lower > maxIncrease) return `at least ${pointsText(lower)} > ${allowed} ${sure}`;
  if (upper <= maxIncrease) return `at most ${pointsText(upper)} ≤ ${allowed} ${sure}`;
  return `${pointsText(lower)} to ${pointsText(upper)}, around ${allowed} ${sure}`;
}

/** A relative measurement in words: `4.1% vs stable 1.0%, +3.1 points, at least +2.2 > +1 at 95%, 2,400/2,380 requests`. */
function describeComparison(m: Measurement, comparison: Comparison): string {
  const requests = `${countText(m.requests ?? 0)}/${countText(comparison.stableRequests)} requests`;
  if (m.value === undefined || m.requests === undefined || m.errors === undefined) return `${m.outcome}, ${requests}`;
  const rates = `${percentText(m.errors / m.requests)} vs stable ${percentText(comparison.stableErrors / comparison.stableRequests)}`;
  return `${rates}, ${pointsText(m.value)} points, ${boundsText(comparison)}, ${requests}`;
}

/** A share in percent with one decimal, e.g. `78.0%`. */
function shareText(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function msText(ms: number): string {
  return `${Number(ms.toFixed(1))} ms`;
}

/**
 * What a shadow sample says of the agreement against minAgreement, e.g. `agreement 78.0% (468 of
 * 600), at most 81.2% at 95% < minAgreement 95%`; undefined without minAgreement.
 */
export function agreementText(samples: number, sample: ShadowSample): string | undefined {
  const { agreed, minAgreement, lower, upper, confidence } = sample;
  if (minAgreement === undefined) return undefined;
  const measured = `agreement ${samples === 0 ? 'unknown' : shareText(agreed / samples)} (${countText(agreed)} of ${countText(samples)})`;
  const sure = `at ${percentText(confidence)}`;
  const rule = `minAgreement ${percentText(minAgreement)}`;
  if (lower === undefined || upper === undefined) return `${measured}, not judged (${rule} ${sure})`;
  if (upper < minAgreement) return `${measured}, at most ${shareText(upper)} ${sure} < ${rule}`;
  if (lower >= minAgreement) return `${measured}, at least ${shareText(lower)} ${sure} ≥ ${rule}`;
  return `${measured}, ${shareText(lower)} to ${shareText(upper)} ${sure}, around ${rule}: cannot tell yet`;
}

/** What a shadow sample says of the latencies against maxLatencyRatio, e.g. `candidate p50 9 ms / user p50 3 ms = 3 > maxLatencyRatio 1.5`. */
export function latencyText(sample: ShadowSample): string | undefined {
  const { userP50Ms, candidateP50Ms, maxLatencyRatio } = sample;
  if (maxLatencyRatio === undefined || userP50Ms === undefined || candidateP50Ms === undefined) return undefined;
  const ratio = userP50Ms > 0 ? Number((candidateP50Ms / userP50Ms).toFixed(2)) : Infinity;
  const compared = candidateP50Ms > maxLatencyRatio * userP50Ms ? '>' : '≤';
  return `candidate p50 ${msText(candidateP50Ms)} / user p50 ${msText(userP50Ms)} = ${ratio} ${compared} maxLatencyRatio ${maxLatencyRatio}`;
}

/** A shadow measurement in words: its agreement and latency parts, or its outcome and sample. */
function describeShadow(m: Measurement, sample: ShadowSample): string {
  const samples = m.requests ?? 0;
  const parts = [agreementText(samples, sample), latencyText(sample)].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(', ') : `${m.outcome}, ${countText(samples)} compared answers`;
}

/**
 * One decision in the audit log's words, e.g. `step 1 analysis pass (errors 0.01, 120 requests)`,
 * or for a relative metric `step 1 analysis fail (errors 4.1% vs stable 1%, +3.1 points, at least
 * +2.2 > +1 at 95%, 2,400/2,380 requests)`.
 */
export function describeDecision(decision: RolloutDecision): string {
  const parts = [`step ${decision.step} ${decision.event}`];
  if (decision.outcome !== undefined) parts.push(decision.outcome);
  if (decision.measurements !== undefined && decision.measurements.length > 0) {
    const values = decision.measurements.map((m) => {
      if (m.comparison !== undefined) return `${m.metric} ${describeComparison(m, m.comparison)}`;
      if (m.shadow !== undefined) return `${m.metric} ${describeShadow(m, m.shadow)}`;
      const sample = m.requests === undefined ? '' : `, ${m.requests} requests`;
      return `${m.metric} ${m.value ?? m.outcome}${sample}`;
    });
    parts.push(`(${values.join('; ')})`);
  }
  if (decision.weights !== undefined) parts.push(describeWeights(decision.weights));
  if (decision.reason !== undefined) parts.push(`— ${decision.reason}`);
  return parts.join(' ');
}
