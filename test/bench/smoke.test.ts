// Keeps the benchmarks working, for sluice and for the go-control-plane peer they compare it
// with: the convergence and churn benchmarks at 20 proxies complete and end with every proxy in
// sync on both servers. sluice runs in light mode (in this process); the peer is always its own
// process, built here with `go build` (which fetches its modules). No timing is asserted; the real
// runs are `npm run bench:*` (BENCHMARKS.md).

import { beforeAll, describe, expect, it } from 'vitest';
import { runChurn } from '../../bench/churn.js';
import { runConvergence } from '../../bench/convergence.js';
import { buildPeer } from '../../bench/lib/peer-process.js';

describe('benchmarks at 20 proxies, sluice (light mode) and the go-control-plane peer', () => {
  // A first build from an empty module cache downloads go-control-plane and its dependencies.
  beforeAll(() => void buildPeer(), 600_000);

  it('convergence: every change reaches all 20 proxies, over SotW and delta, on both servers', async () => {
    const cases = await runConvergence({ sizes: [20], modes: ['sotw', 'delta'], servers: ['sluice', 'peer'], changes: 3, warmup: 1, light: true, changeTimeoutMs: 20_000 });
    expect(cases.map((c) => [c.server, c.mode, c.samples.length, c.errors, c.errorSamples, c.allInSync])).toEqual([
      ['sluice', 'sotw', 3, 0, [], true],
      ['peer', 'sotw', 3, 0, [], true],
      ['sluice', 'delta', 3, 0, [], true],
      ['peer', 'delta', 3, 0, [], true],
    ]);
    for (const c of cases) for (const sample of c.samples) expect(sample).toMatchObject({ complete: true, acked: 20, routesChanged: 20 });
  }, 120_000);

  it('churn: 20 proxies drop and reconnect at once and all are back in sync, without errors, on both servers', async () => {
    const cases = await runChurn({ size: 20, rounds: 1, modes: ['sotw', 'delta'], servers: ['sluice', 'peer'], light: true });
    expect(cases.map((c) => [c.server, c.mode, c.scenario, c.rounds.length, c.errors, c.allInSync])).toEqual([
      ['sluice', 'sotw', 'blip', 1, 0, true],
      ['sluice', 'sotw', 'away', 1, 0, true],
      ['peer', 'sotw', 'blip', 1, 0, true],
      ['peer', 'sotw', 'away', 1, 0, true],
      ['sluice', 'delta', 'blip', 1, 0, true],
      ['sluice', 'delta', 'away', 1, 0, true],
      ['peer', 'delta', 'blip', 1, 0, true],
      ['peer', 'delta', 'away', 1, 0, true],
    ]);
  }, 120_000);
});
