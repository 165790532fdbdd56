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
}

/** Where Envoys expose services. */
export interface Listener {
  name: string;
  address: string;
  port: number;
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
