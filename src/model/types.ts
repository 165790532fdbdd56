// The desired-state vocabulary: what an operator asks sluice for, independent of Envoy. Each
// shape is a JSON Schema (TypeBox) and its TypeScript type is derived from it, so the admin API
// documents exactly what the code reads. Plain, JSON-serialisable data; no behaviour, no I/O,
// nothing that knows about xDS.

import { Type, type Static } from '@sinclair/typebox';
import {
  COOKIE_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  HOST_PATTERN,
  MAX_ENDPOINTS,
  MAX_VERSIONS,
  METRIC_NAME_PATTERN,
  annotated,
  PREFIX_PATTERN,
  cookieNameField,
  durationField,
  headerNameField,
  nameField,
  pathPrefixField,
  percentField,
  portField,
  queryNameField,
  stringEnum,
  timeField,
  urlField,
  weightsField,
} from './fields.js';

const closed = { additionalProperties: false } as const;

export const endpointSchema = Type.Object({ address: Type.String({ minLength: 1, maxLength: 253 }), port: portField }, closed);
export type Endpoint = Static<typeof endpointSchema>;

export const versionSchema = Type.Object(
  { name: nameField, endpoints: Type.Array(endpointSchema, { minItems: 1, maxItems: MAX_ENDPOINTS }) },
  closed,
);
export type Version = Static<typeof versionSchema>;

export const pathMatchSchema = Type.Object({ prefix: Type.String({ pattern: PREFIX_PATTERN, maxLength: 1024 }) }, closed);
export type PathMatch = Static<typeof pathMatchSchema>;

/** Percentages per version name; they sum to exactly 100 (two decimals allowed). */
export type Weights = Static<typeof weightsField>;

/**
 * How a user is kept on one version while weights change. The key-based kinds make the version
 * a pure function of the key and the weights (Envoy ≥ 1.36); `cohortCookie` works on any Envoy.
 */
export const versionAffinitySchema = Type.Union([
  Type.Object({ by: Type.Literal('none') }, closed),
  Type.Object({ by: stringEnum(['header', 'cookie', 'query']), name: Type.String({ minLength: 1, maxLength: 128 }) }, closed),
  Type.Object({ by: Type.Literal('sourceIp') }, closed),
  Type.Object({ by: Type.Literal('cohortCookie'), name: cookieNameField, ttl: durationField }, closed),
]);
export type VersionAffinity = Static<typeof versionAffinitySchema>;

/** One input of the consistent hash that keeps a user on one replica inside a version. */
export const hashKeySchema = Type.Union([
  Type.Object({ header: headerNameField }, closed),
  Type.Object({ cookie: cookieNameField, ttl: Type.Optional(durationField), path: Type.Optional(pathPrefixField) }, closed),
  Type.Object({ sourceIp: Type.Literal(true) }, closed),
  Type.Object({ queryParameter: queryNameField }, closed),
]);
export type HashKey = Static<typeof hashKeySchema>;

export const loadBalancerSchema = stringEnum(['ringHash', 'maglev'], { description: 'The consistent-hash load balancer used when `hash` is set.' });

export const affinitySchema = Type.Object(
  {
    version: versionAffinitySchema,
    hash: Type.Array(hashKeySchema, { maxItems: 8, description: 'Empty: no replica affinity (round robin inside a version).' }),
    lb: loadBalancerSchema,
  },
  closed,
);
export type Affinity = Static<typeof affinitySchema>;

/** A percentage of requests copied to a version; its responses are discarded. */
export const mirrorSchema = Type.Object({ to: nameField, percent: Type.Number({ minimum: 0, maximum: 100 }) }, closed);
export type Mirror = Static<typeof mirrorSchema>;

/** A JSON pointer (RFC 6901) into an answer's JSON body, e.g. "/prediction" or "/outputs/0/data". */
export const answerPointerField = Type.String({ maxLength: 256, pattern: '^(/[^/]*)*$' });
const toleranceField = Type.Number({ minimum: 0, maximum: 1e12 });

/**
 * How a candidate's answer is compared with the answer the user got: the whole JSON body
 * (`json-equal`), the number or numbers at a pointer within a tolerance (`numeric`), the top-1
 * class at a pointer (`label`), or the Open Inference Protocol's outputs, per output name, within a
 * tolerance (`oip`, JSON over HTTP and `ModelInferResponse` over gRPC). Two numbers agree when
 * |a − b| ≤ absolute or |a − b| ≤ relative × |the user's answer|.
 */
export const SHADOW_COMPARE_KINDS = ['json-equal', 'numeric', 'label', 'oip'] as const;
export const shadowCompareSchema = Type.Object(
  {
    kind: stringEnum(SHADOW_COMPARE_KINDS),
    path: Type.Optional(annotated(answerPointerField, { description: '`numeric` and `label`: where the value is in the JSON answer.' })),
    absolute: Type.Optional(annotated(toleranceField, { description: '`numeric` and `oip`: the absolute difference allowed (absent: 0).' })),
    relative: Type.Optional(annotated(toleranceField, { description: "`numeric` and `oip`: the difference allowed relative to the user's answer (absent: 0)." })),
  },
  closed,
);
export type ShadowCompare = Static<typeof shadowCompareSchema>;

/** What a disagreement keeps of both answers: their first bytes (`answers`), or only their SHA-256 (`hashes`). */
export const SHADOW_KEEP = ['answers', 'hashes'] as const;

/**
 * A percentage of the requests a version serves is copied to a candidate that serves no user, and
 * each candidate answer is compared with the answer the user got (Envoy reports both to sluice).
 */
export const shadowSchema = Type.Object(
  {
    to: nameField,
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    compare: shadowCompareSchema,
    keep: Type.Optional(annotated(stringEnum(SHADOW_KEEP), { description: 'What a disagreement keeps of both answers. Absent: `answers` (the first 4 KiB of each).' })),
  },
  closed,
);
export type Shadow = Static<typeof shadowSchema>;

const MAX_RULES = 32;
const matchValues = (namePattern: string) =>
  Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\r\\n\\x00;]*$' }), {
    minProperties: 1,
    maxProperties: 8,
    propertyNames: { minLength: 1, maxLength: 128, pattern: namePattern },
  });

/** A cohort sent to one version whatever the weights (A/B), matched before the weighted split. */
export const ruleSchema = Type.Object(
  {
    match: Type.Object(
      { headers: Type.Optional(matchValues(HEADER_NAME_PATTERN)), cookies: Type.Optional(matchValues(COOKIE_NAME_PATTERN)) },
      { ...closed, minProperties: 1 },
    ),
    to: nameField,
  },
  closed,
);
export type Rule = Static<typeof ruleSchema>;
export const rulesSchema = Type.Array(ruleSchema, { maxItems: MAX_RULES });

/** Passive health: replicas answering with repeated 5xx are ejected for a while. */
export const outlierDetectionSchema = Type.Object(
  {
    consecutive5xx: Type.Integer({ minimum: 1, maximum: 1000 }),
    interval: durationField,
    baseEjectionTime: durationField,
    maxEjectionPercent: Type.Integer({ minimum: 1, maximum: 100 }),
  },
  closed,
);
export type OutlierDetection = Static<typeof outlierDetectionSchema>;

/** How Envoy speaks to a service's replicas: HTTP/1.1, HTTP/2 (h2c), or gRPC (HTTP/2 with gRPC's health checks, deadlines and statuses). */
export const UPSTREAM_PROTOCOLS = ['http1', 'http2', 'grpc'] as const;
export const upstreamProtocolSchema = stringEnum(UPSTREAM_PROTOCOLS, {
  description: 'How Envoy speaks to the replicas: `http1` (HTTP/1.1), `http2` (HTTP/2 without TLS) or `grpc` (HTTP/2 with gRPC health checks and deadlines). Absent: `http1`.',
});
export type UpstreamProtocol = Static<typeof upstreamProtocolSchema>;

/** The name a gRPC health check asks `grpc.health.v1.Health/Check` about ("" is the whole server). */
export const grpcHealthServiceField = Type.String({ maxLength: 256, pattern: '^[A-Za-z0-9_.-]*$' });

/**
 * Active health: Envoy polls each replica — its HTTP health endpoint (`path`), or, for a `grpc`
 * service, `grpc.health.v1.Health/Check` (for `grpcService`, absent: the whole server).
 */
export const healthCheckSchema = Type.Object(
  {
    path: Type.Optional(annotated(pathPrefixField, { description: 'HTTP services only (absent in a body: "/healthz").' })),
    grpcService: Type.Optional(annotated(grpcHealthServiceField, { description: '`grpc` services only: the service name the gRPC health check asks about.' })),
    interval: durationField,
    timeout: durationField,
    unhealthyThreshold: Type.Integer({ minimum: 1, maximum: 100 }),
    healthyThreshold: Type.Integer({ minimum: 1, maximum: 100 }),
  },
  closed,
);
export type HealthCheck = Static<typeof healthCheckSchema>;

export const hostsField = Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: HOST_PATTERN }), {
  minItems: 1,
  maxItems: 64,
  uniqueItems: true,
});
export const pinHeaderField = Type.String({ maxLength: 128, pattern: HEADER_NAME_PATTERN });
export const versionsField = Type.Array(versionSchema, { minItems: 1, maxItems: MAX_VERSIONS });

/** One routed endpoint (e.g. `/predict`) and the versions that can serve it. */
export const serviceSchema = Type.Object(
  {
    name: nameField,
    listener: nameField,
    match: pathMatchSchema,
    hosts: hostsField,
    versions: versionsField,
    weights: weightsField,
    stable: annotated(nameField, { description: 'The version `rollback` returns all traffic to.' }),
    pinHeader: annotated(pinHeaderField, { description: "A request carrying this header with a version's name goes to that version." }),
    timeout: annotated(durationField, { description: 'Whole-request timeout as a duration string ("30s", "1m30s", "0s" = none).' }),
    affinity: Type.Optional(annotated(affinitySchema, { description: 'Absent: per-request random split, no replica affinity.' })),
    mirror: Type.Optional(mirrorSchema),
    shadow: Type.Optional(annotated(shadowSchema, { description: "Mirrored requests whose answers are compared with the user's." })),
    rules: Type.Optional(Type.Array(ruleSchema, { maxItems: MAX_RULES, description: 'Evaluated in order, before the weighted split.' })),
    outlierDetection: Type.Optional(outlierDetectionSchema),
    healthCheck: Type.Optional(healthCheckSchema),
    protocol: Type.Optional(upstreamProtocolSchema),
  },
  closed,
);
export type Service = Static<typeof serviceSchema>;

const nodeClusterField = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s#]+$' });

/** Which Envoys a listener (and the services on it) is sent to: by the node's `cluster`. */
export const nodeSelectorSchema = Type.Object({ clusters: Type.Array(nodeClusterField, { minItems: 1, maxItems: 64, uniqueItems: true }) }, closed);
export type NodeSelector = Static<typeof nodeSelectorSchema>;

export const listenerAddressField = Type.String({ minLength: 1, maxLength: 45 });

/** Where Envoys expose services. */
export const listenerSchema = Type.Object(
  {
    name: nameField,
    address: listenerAddressField,
    port: portField,
    nodes: Type.Optional(annotated(nodeSelectorSchema, { description: 'Absent: every Envoy.' })),
  },
  closed,
);
export type Listener = Static<typeof listenerSchema>;

/**
 * Where a rollout stands: about to set its step's weights (`progressing`), waiting until every
 * connected proxy has applied them, holding (analysis every interval), at an approval gate, or
 * paused; the last three are final.
 */
export const ROLLOUT_PHASES = [
  'progressing',
  'waiting-for-proxies',
  'holding',
  'awaiting-approval',
  'paused',
  'succeeded',
  'rolled-back',
  'aborted',
] as const;
export const rolloutPhaseSchema = stringEnum(ROLLOUT_PHASES);
export type RolloutPhase = Static<typeof rolloutPhaseSchema>;

/** The percentage of requests a shadow step copies to the candidate: above 0, at most 100. */
export const shadowStepPercentField = Type.Number({ exclusiveMinimum: 0, maximum: 100 });

/**
 * Candidate at `weight` percent (stable at the rest) for at least `hold`; the candidate serving no
 * one while `shadow` percent of requests are copied to it and its answers compared, for at least
 * `hold`; or a gate for a person.
 */
export const rolloutStepSchema = Type.Union([
  Type.Object({ weight: Type.Number({ minimum: 0, maximum: 100 }), hold: durationField }, closed),
  Type.Object({ shadow: shadowStepPercentField, hold: durationField }, closed),
  Type.Object({ approve: Type.Literal(true) }, closed),
]);
export type RolloutStep = Static<typeof rolloutStepSchema>;

export const METRIC_SOURCES = ['fleet', 'prometheus', 'webhook', 'shadow'] as const;
const metricName = Type.String({ pattern: METRIC_NAME_PATTERN });
const bound = Type.Optional(Type.Number());

/** What analysis measures; `max`/`min` bound the passing values (at least one is set). */
export const rolloutMetricSchema = Type.Union([
  Type.Object(
    {
      name: metricName,
      source: Type.Literal('fleet'),
      maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Absolute: the candidate's error rate may be at most this." })),
      maxErrorRateIncrease: Type.Optional(
        Type.Number({ minimum: 0, maximum: 1, description: "Relative: the candidate's error rate may exceed the stable's over the same window by at most this." }),
      ),
      confidence: Type.Optional(
        Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Relative: how sure an analysis must be before it passes or fails the candidate.' }),
      ),
    },
    { ...closed, description: 'Exactly one of maxErrorRate (absolute) and maxErrorRateIncrease (relative, with its confidence).' },
  ),
  Type.Object({ name: metricName, source: Type.Literal('prometheus'), url: urlField, query: Type.String({ minLength: 1, maxLength: 4096 }), max: bound, min: bound }, closed),
  Type.Object({ name: metricName, source: Type.Literal('webhook'), url: urlField, max: bound, min: bound }, closed),
  Type.Object(
    {
      name: metricName,
      source: Type.Literal('shadow'),
      minAgreement: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "The share of compared answers that must agree with the user's." })),
      maxLatencyRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "The candidate's median latency may be at most this times the user's." })),
      minSamples: Type.Optional(Type.Integer({ minimum: 0, description: 'Fewer compared answers in a window: inconclusive (absent: the analysis minRequests).' })),
      confidence: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'The level of the two-sided interval on the agreement.' }),
    },
    { ...closed, description: 'Measured at shadow steps only: at least one of minAgreement and maxLatencyRatio.' },
  ),
]);
export type RolloutMetric = Static<typeof rolloutMetricSchema>;

const count = Type.Integer({ minimum: 0 });

export const rolloutAnalysisSchema = Type.Object(
  {
    interval: durationField,
    minRequests: Type.Integer({
      minimum: 0,
      description: 'Fewer candidate requests than this in a window (for a relative metric, fewer requests to either version): the fleet metric is inconclusive.',
    }),
    failureLimit: Type.Integer({ minimum: 0, description: 'Failed analyses tolerated over the whole rollout; one more rolls it back.' }),
    inconclusiveLimit: Type.Integer({ minimum: 0, description: 'Consecutive inconclusive analyses tolerated; one more pauses the rollout.' }),
    metrics: Type.Array(rolloutMetricSchema),
  },
  closed,
);
export type RolloutAnalysis = Static<typeof rolloutAnalysisSchema>;

export const analysisOutcomeSchema = stringEnum(['pass', 'fail', 'inconclusive']);
export type AnalysisOutcome = Static<typeof analysisOutcomeSchema>;

/**
 * A relative metric's comparison with the stable version over the same window: the stable's sample,
 * the rule, and (once both samples are big enough) the confidence bounds on the measurement's value.
 */
export const comparisonSchema = Type.Object(
  {
    stableRequests: count,
    stableErrors: count,
    maxIncrease: Type.Number({ minimum: 0, maximum: 1 }),
    confidence: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    lower: Type.Optional(Type.Number({ description: "The increase is at least this, at the confidence (one-sided)." })),
    upper: Type.Optional(Type.Number({ description: "The increase is at most this, at the confidence (one-sided)." })),
  },
  closed,
);
export type Comparison = Static<typeof comparisonSchema>;

/**
 * A shadow metric's sample: how many compared answers agreed, the interval on the agreement (once
 * there are minSamples) and both sides' median latency over the same compared requests.
 */
export const shadowSampleSchema = Type.Object(
  {
    agreed: count,
    confidence: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    minAgreement: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    lower: Type.Optional(Type.Number({ description: 'The agreement is at least this (two-sided interval at the confidence).' })),
    upper: Type.Optional(Type.Number({ description: 'The agreement is at most this (two-sided interval at the confidence).' })),
    maxLatencyRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    userP50Ms: Type.Optional(Type.Number({ minimum: 0 })),
    candidateP50Ms: Type.Optional(Type.Number({ minimum: 0 })),
  },
  closed,
);
export type ShadowSample = Static<typeof shadowSampleSchema>;

/**
 * One metric's value in one analysis, with the sample behind it; for a relative metric the value
 * is the candidate's error rate minus the stable's, and `comparison` holds the rest; for a shadow
 * metric the value is the agreement, `requests` the compared answers and `shadow` the rest.
 */
export const measurementSchema = Type.Object(
  {
    metric: Type.String(),
    outcome: analysisOutcomeSchema,
    value: Type.Optional(Type.Number()),
    requests: Type.Optional(count),
    errors: Type.Optional(count),
    comparison: Type.Optional(comparisonSchema),
    shadow: Type.Optional(shadowSampleSchema),
    reason: Type.Optional(Type.String()),
  },
  closed,
);
export type Measurement = Static<typeof measurementSchema>;

/** What a rollout decision was; `notification-failed`: a phase change's notification could not be delivered (it notifies nobody itself). */
export const ROLLOUT_EVENTS = [
  'started',
  'weights-set',
  'hold-started',
  'analysis',
  'hold-passed',
  'awaiting-approval',
  'approved',
  'paused',
  'resumed',
  'promoted',
  'rolled-back',
  'aborted',
  'notification-failed',
] as const;
export const rolloutEventSchema = stringEnum(ROLLOUT_EVENTS);
export type RolloutEvent = Static<typeof rolloutEventSchema>;

/** One decision of a rollout, by the controller (actor `rollout`) or a person. */
export const rolloutDecisionSchema = Type.Object(
  {
    at: timeField,
    event: rolloutEventSchema,
    step: Type.Integer({ minimum: 0 }),
    actor: Type.String(),
    revision: Type.Optional(Type.Integer({ minimum: 0, description: 'The revision that carried new weights.' })),
    weights: Type.Optional(weightsField),
    outcome: Type.Optional(analysisOutcomeSchema),
    window: Type.Optional(Type.Object({ from: timeField, to: timeField }, { ...closed, description: 'The traffic an analysis judged.' })),
    measurements: Type.Optional(Type.Array(measurementSchema)),
    failures: Type.Optional(Type.Integer({ minimum: 0, description: 'Failed analyses after this one.' })),
    inconclusive: Type.Optional(Type.Integer({ minimum: 0, description: 'Consecutive inconclusive analyses after this one.' })),
    reason: Type.Optional(Type.String()),
  },
  closed,
);
export type RolloutDecision = Static<typeof rolloutDecisionSchema>;

/** The latest rollout of one service; its times are ISO 8601, kept so a restart resumes it. */
export const rolloutSchema = Type.Object(
  {
    service: nameField,
    candidate: nameField,
    stable: annotated(nameField, { description: 'The stable version when the rollout started: rollback returns traffic to it.' }),
    steps: Type.Array(rolloutStepSchema, { minItems: 1 }),
    analysis: rolloutAnalysisSchema,
    shadowCompare: Type.Optional(annotated(shadowCompareSchema, { description: 'How shadow steps compare the answers (present when there are shadow steps).' })),
    shadowKeep: Type.Optional(annotated(stringEnum(SHADOW_KEEP), { description: 'What a disagreement at a shadow step keeps (absent: `answers`).' })),
    proxyTimeout: Type.Optional(
      annotated(durationField, {
        description:
          'How long a step may wait for every connected proxy to apply it before the rollout pauses (absent in rollouts stored before it existed, which means the default "5m").',
      }),
    ),
    notify: Type.Optional(Type.Array(urlField, { description: 'Webhooks told of each phase change; absent: the server-wide list (`--rollout-webhook`), [] none.' })),
    phase: rolloutPhaseSchema,
    step: Type.Integer({ minimum: 0, description: 'Index of the current step; `steps.length` once past the last one.' }),
    stepWeights: Type.Optional(Type.Record(Type.String(), percentField, { propertyNames: nameField, description: 'The weights the rollout last set.' })),
    stepRevision: Type.Optional(Type.Integer({ minimum: 0, description: 'The revision that carried stepWeights.' })),
    stepShadow: Type.Optional(annotated(shadowSchema, { description: 'The shadow the rollout set on the service at a shadow step and has not removed yet.' })),
    holdStartedAt: Type.Optional(timeField),
    holdUntil: Type.Optional(timeField),
    windowStart: Type.Optional(Type.String({ description: 'Start of the traffic the next analysis judges (it stays put while results are inconclusive).' })),
    nextAnalysisAt: Type.Optional(timeField),
    failures: Type.Integer({ minimum: 0 }),
    inconclusive: Type.Integer({ minimum: 0 }),
    pausedFrom: Type.Optional(stringEnum(ROLLOUT_PHASES, { description: 'While paused: the phase to resume.' })),
    holdRemainingMs: Type.Optional(Type.Integer({ minimum: 0, description: 'While paused: what was left of the hold.' })),
    reason: Type.Optional(Type.String({ description: 'Why it paused, rolled back or was aborted.' })),
    startedAt: timeField,
    finishedAt: Type.Optional(timeField),
    timeline: Type.Array(rolloutDecisionSchema, { description: 'The latest decisions, oldest first (capped; the audit log keeps every one).' }),
  },
  closed,
);
export type Rollout = Static<typeof rolloutSchema>;

/** The whole desired state at one revision. Frozen once committed. */
export interface DesiredState {
  revision: number;
  listeners: Record<string, Listener>;
  services: Record<string, Service>;
  /** The latest rollout per service name (translation ignores it). */
  rollouts?: Record<string, Rollout>;
}

export const DEFAULT_LISTENER_NAME = 'default';
export const DEFAULT_PIN_HEADER = 'x-sluice-version';
/** Response header naming the version that served a request. */
export const SERVED_VERSION_HEADER = 'x-sluice-version';
/**
 * gRPC metadata on the calls Envoy makes to sluice's shadow collector (ext_proc): the service a
 * reported answer belongs to, and its side — the answer the user got or the candidate's.
 */
export const SHADOW_SERVICE_METADATA = 'x-sluice-shadow-service';
export const SHADOW_SIDE_METADATA = 'x-sluice-shadow-side';
export const SHADOW_SIDES = ['user', 'candidate'] as const;
export type ShadowSide = (typeof SHADOW_SIDES)[number];
export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_PROTOCOL: UpstreamProtocol = 'http1';
export const DEFAULT_COHORT_TTL = '24h';
