// The `sluice_rollouts{phase}` gauge: how many services' latest rollout is in each phase, read
// from the desired state at scrape time. Registers in the registry it is given; counts nothing
// itself and changes nothing.

import { Gauge, type Registry } from 'prom-client';
import { ROLLOUT_PHASES } from '../model/types.js';
import type { DesiredState } from '../model/types.js';

export function registerRolloutPhases(registry: Registry, state: () => DesiredState): void {
  new Gauge({
    name: 'sluice_rollouts',
    help: "Services whose latest rollout is in this phase.",
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const counts = new Map(ROLLOUT_PHASES.map((phase) => [phase, 0]));
      for (const rollout of Object.values(state().rollouts ?? {})) counts.set(rollout.phase, (counts.get(rollout.phase) ?? 0) + 1);
      for (const [phase, count] of counts) this.set({ phase }, count);
    },
  });
}
