// The desired-state vocabulary: what an operator asks sluice for, independent of Envoy.
// Plain, JSON-serialisable data; every other module reads these shapes. No behaviour,
// no I/O, nothing that knows about xDS.

export interface Endpoint {
  address: string;
  port: number;
}

export interface Version {
  name: string;
  endpoints: Endpoint[];
}

export interface PathMatch {
  prefix: string;
}

/** Percentages per version name; they sum to exactly 100 (two decimals allowed). */
export type Weights = Record<string, number>;

/**
 * How a user is kept on one version while weights change. The key-based kinds make the version
 * a pure function of the key and the weights (Envoy ≥ 1.36); `cohortCookie` works on any Envoy.
 */
export type VersionAffinity =
  | { by: 'none' }
  | { by: 'header' | 'cookie' | 'query'; name: string }
  | { by: 'sourceIp' }
  | { by: 'cohortCookie'; name: string; ttl: string };

/** One input of the consistent hash that keeps a user on one replica inside a version. */
export type HashKey =
  | { header: string }
  | { cookie: string; ttl?: string; path?: string }
  | { sourceIp: true }
  | { queryParameter: string };

export interface Affinity {
  version: VersionAffinity;
  /** Empty: no replica affinity (round robin inside a version). */
  hash: HashKey[];
  /** The consistent-hash load balancer used when `hash` is set. */
  lb: 'ringHash' | 'maglev';
}

/** A percentage of requests copied to a version; its responses are discarded. */
export interface Mirror {
  to: string;
  percent: number;
}

/** A cohort sent to one version whatever the weights (A/B), matched before the weighted split. */
export interface Rule {
  match: { headers?: Record<string, string>; cookies?: Record<string, string> };
  to: string;
}

/** Passive health: replicas answering with repeated 5xx are ejected for a while. */
export interface OutlierDetection {
  consecutive5xx: number;
  interval: string;
  baseEjectionTime: string;
  maxEjectionPercent: number;
}

/** Active health: Envoy polls each replica's HTTP health endpoint. */
export interface HealthCheck {
  path: string;
  interval: string;
  timeout: string;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

/** One routed endpoint (e.g. `/predict`) and the versions that can serve it. */
export interface Service {
  name: string;
  listener: string;
  match: PathMatch;
  hosts: string[];
  versions: Version[];
  weights: Weights;
  /** The version `rollback` returns all traffic to. */
  stable: string;
  /** A request carrying this header with a version's name goes to that version. */
  pinHeader: string;
  /** Whole-request timeout as a duration string ("30s", "1m30s", "0s" = none). */
  timeout: string;
  /** Absent: per-request random split, no replica affinity. */
  affinity?: Affinity;
  mirror?: Mirror;
  /** Evaluated in order, before the weighted split. */
  rules?: Rule[];
  /** Applied to every version's replicas. */
  outlierDetection?: OutlierDetection;
  healthCheck?: HealthCheck;
}

/** Which Envoys a listener (and the services on it) is sent to: by the node's `cluster`. */
export interface NodeSelector {
  clusters: string[];
}

/** Where Envoys expose services. */
export interface Listener {
  name: string;
  address: string;
  port: number;
  /** Absent: every Envoy. */
  nodes?: NodeSelector;
}

/**
 * Where a rollout stands: about to set its step's weights (`progressing`), waiting until every
 * connected proxy has applied them, holding (analysis every interval), at an approval gate, or
 * paused; the last three are final.
 */
export type RolloutPhase =
  | 'progressing'
  | 'waiting-for-proxies'
  | 'holding'
  | 'awaiting-approval'
  | 'paused'
  | 'succeeded'
  | 'rolled-back'
  | 'aborted';

/** Candidate at `weight` percent (stable at the rest) for at least `hold`; or a gate for a person. */
export type RolloutStep = { weight: number; hold: string } | { approve: true };

/** What analysis measures; `max`/`min` bound the passing values (at least one is set). */
export type RolloutMetric =
  | { name: string; source: 'fleet'; maxErrorRate: number }
  | { name: string; source: 'prometheus'; url: string; query: string; max?: number; min?: number }
  | { name: string; source: 'webhook'; url: string; max?: number; min?: number };

export interface RolloutAnalysis {
  interval: string;
  /** Fewer candidate requests than this in a window: the fleet metric is inconclusive. */
  minRequests: number;
  /** Failed analyses tolerated over the whole rollout; one more rolls it back. */
  failureLimit: number;
  /** Consecutive inconclusive analyses tolerated; one more pauses the rollout. */
  inconclusiveLimit: number;
  metrics: RolloutMetric[];
}

export type AnalysisOutcome = 'pass' | 'fail' | 'inconclusive';

/** One metric's value in one analysis, with the sample behind it. */
export interface Measurement {
  metric: string;
  outcome: AnalysisOutcome;
  value?: number;
  requests?: number;
  errors?: number;
  reason?: string;
}

export type RolloutEvent =
  | 'started'
  | 'weights-set'
  | 'hold-started'
  | 'analysis'
  | 'hold-passed'
  | 'awaiting-approval'
  | 'approved'
  | 'paused'
  | 'resumed'
  | 'promoted'
  | 'rolled-back'
  | 'aborted'
  /** A phase change's notification that could not be delivered (it notifies nobody itself). */
  | 'notification-failed';

/** One decision of a rollout, by the controller (actor `rollout`) or a person. */
export interface RolloutDecision {
  at: string;
  event: RolloutEvent;
  step: number;
  actor: string;
  /** The revision that carried new weights. */
  revision?: number;
  weights?: Weights;
  outcome?: AnalysisOutcome;
  /** The traffic an analysis judged (ISO 8601 times). */
  window?: { from: string; to: string };
  measurements?: Measurement[];
  /** Failed and consecutive inconclusive analyses after this one. */
  failures?: number;
  inconclusive?: number;
  reason?: string;
}

/** The latest rollout of one service; its times are ISO 8601, kept so a restart resumes it. */
export interface Rollout {
  service: string;
  candidate: string;
  /** The stable version when the rollout started: rollback returns traffic to it. */
  stable: string;
  steps: RolloutStep[];
  analysis: RolloutAnalysis;
  /**
   * How long a step may wait for every connected proxy to apply it before the rollout pauses
   * (a duration; absent in rollouts stored before it existed, which means the default "5m").
   */
  proxyTimeout?: string;
  /** Webhooks told of each phase change; absent: the server-wide list (`--rollout-webhook`), [] none. */
  notify?: string[];
  phase: RolloutPhase;
  /** Index of the current step; `steps.length` once past the last one. */
  step: number;
  /** The weights the rollout last set, and the revision that carried them. */
  stepWeights?: Weights;
  stepRevision?: number;
  holdStartedAt?: string;
  holdUntil?: string;
  /** Start of the traffic the next analysis judges (it stays put while results are inconclusive). */
  windowStart?: string;
  nextAnalysisAt?: string;
  failures: number;
  inconclusive: number;
  /** While paused: the phase to resume, and what was left of the hold. */
  pausedFrom?: RolloutPhase;
  holdRemainingMs?: number;
  /** Why it paused, rolled back or was aborted. */
  reason?: string;
  startedAt: string;
  finishedAt?: string;
  /** The latest decisions, oldest first (capped; the audit log keeps every one). */
  timeline: RolloutDecision[];
}

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
export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_COHORT_TTL = '24h';
