// Whether someone else has taken a rollout's service out of its hands: the service deleted, the
// candidate or stable version removed, the stable version changed, weights other than the ones
// the rollout last set, or a mirror where a shadow step is still to come. PURE; the controller
// aborts the rollout (moving no traffic) when so.

import { isShadowStep } from '../model/rollout.js';
import type { Rollout, Service, Weights } from '../model/types.js';

function sameWeights(a: Weights, b: Weights): boolean {
  const versions = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...versions].every((version) => (a[version] ?? 0) === (b[version] ?? 0));
}

function describe(weights: Weights): string {
  return Object.entries(weights).map(([version, weight]) => `${version} ${weight}`).join(', ');
}

/** Why the rollout can no longer steer `service` (undefined: it was deleted); undefined when it can. */
export function interferenceOf(rollout: Rollout, service: Service | undefined): string | undefined {
  if (service === undefined) return `service "${rollout.service}" was deleted`;
  for (const version of [rollout.candidate, rollout.stable]) {
    if (!service.versions.some((v) => v.name === version)) return `version "${version}" was removed from the service`;
  }
  if (service.stable !== rollout.stable) return `the stable version was changed to "${service.stable}" outside the rollout`;
  if (rollout.stepWeights !== undefined && !sameWeights(service.weights, rollout.stepWeights)) {
    return `the weights were changed outside the rollout (to ${describe(service.weights)})`;
  }
  if (service.mirror !== undefined && rollout.steps.slice(rollout.step).some(isShadowStep)) {
    return `a mirror to "${service.mirror.to}" was added outside the rollout, and a service does not mirror and shadow at once (the rollout has shadow steps to come)`;
  }
  return undefined;
}
