// The sluice_rollouts{phase} gauge: read from the desired state at scrape time, every phase listed.

import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { ROLLOUT_PHASES } from '../../src/model/types.js';
import type { DesiredState } from '../../src/model/types.js';
import { registerRolloutPhases } from '../../src/rollout/phase-gauge.js';
import { INITIAL_STATE } from '../admin/harness.js';
import { holding, rollout } from './fixtures.js';

it('counts the services whose latest rollout is in each phase', async () => {
  const registry = new Registry();
  let state: DesiredState = INITIAL_STATE;
  registerRolloutPhases(registry, () => state);
  const scrape = async () => {
    const metric = await registry.getSingleMetric('sluice_rollouts')!.get();
    return Object.fromEntries(metric.values.map((v) => [v.labels['phase'], v.value]));
  };
  expect(await scrape()).toEqual(Object.fromEntries(ROLLOUT_PHASES.map((phase) => [phase, 0])));
  state = { ...INITIAL_STATE, rollouts: { predict: holding(), rank: { ...rollout({ phase: 'succeeded' }), service: 'rank' } } };
  expect(await scrape()).toMatchObject({ holding: 1, succeeded: 1, paused: 0 });
});
