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

/** The whole desired state at one revision. Frozen once committed. */
export interface DesiredState {
  revision: number;
  listeners: Record<string, Listener>;
  services: Record<string, Service>;
}

export const DEFAULT_LISTENER_NAME = 'default';
export const DEFAULT_PIN_HEADER = 'x-sluice-version';
/** Response header naming the version that served a request. */
export const SERVED_VERSION_HEADER = 'x-sluice-version';
export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_COHORT_TTL = '24h';
