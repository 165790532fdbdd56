// Keeps the benchmarks working: the convergence and churn benchmarks in light mode (sluice and a
// handful of simulated Envoys in this process) complete and end with every proxy in sync. No
// timing is asserted; the real runs are `npm run bench:*` (BENCHMARKS.md).

import { describe, expect, it } from 'vitest';
import { runChurn } from '../../bench/churn.js';
import { runConvergence } from '../../bench/convergence.js';

describe('benchmarks (light mode)', () => {
  it('convergence: every change reaches all 20 proxies, over SotW and delta', async () => {
    const cases = await runConvergence({ sizes: [20], modes: ['sotw', 'delta'], changes: 3, warmup: 1, light: true, changeTimeoutMs: 20_000 });
    expect(cases.map((c) => [c.mode, c.samples.length, c.errors, c.errorSamples, c.allInSync])).toEqual([
      ['sotw', 3, 0, [], true],
      ['delta', 3, 0, [], true],
    ]);
    for (const c of cases) for (const sample of c.samples) expect(sample).toMatchObject({ complete: true, acked: 20, routesChanged: 20 });
  }, 60_000);

  it('churn: 20 proxies drop and reconnect at once and all are back in sync, without errors', async () => {
    const cases = await runChurn({ size: 20, rounds: 1, modes: ['sotw', 'delta'], light: true });
    expect(cases.map((c) => [c.mode, c.scenario, c.rounds.length, c.errors, c.allInSync])).toEqual([
      ['sotw', 'blip', 1, 0, true],
      ['sotw', 'away', 1, 0, true],
      ['delta', 'blip', 1, 0, true],
      ['delta', 'away', 1, 0, true],
    ]);
  }, 60_000);
});
