// Turns a service's percentages into integer cluster weights with a fixed total and a fixed
// order (stable first, then the other versions as declared). With the total and order fixed,
// raising the candidate's share only ever moves the boundary between two neighbours.

import type { Service } from '../model/types.js';

/** Every weighted route's integer weights sum to this. */
export const WEIGHT_TOTAL = 10_000;

export interface VersionWeight {
  version: string;
  weight: number;
}

/** Stable version first, then the rest in declaration order. */
export function versionOrder(service: Service): string[] {
  const rest = service.versions.map((v) => v.name).filter((name) => name !== service.stable);
  return [service.stable, ...rest];
}

export function integerWeights(service: Service): VersionWeight[] {
  const weights = versionOrder(service).map((version) => ({
    version,
    weight: Math.round((service.weights[version] ?? 0) * (WEIGHT_TOTAL / 100)),
  }));
  const sum = weights.reduce((total, w) => total + w.weight, 0);
  if (sum !== WEIGHT_TOTAL) {
    throw new Error(`weights of service ${service.name} sum to ${sum / (WEIGHT_TOTAL / 100)}%, not 100%`);
  }
  return weights;
}
