// Keeps bench:shadow working: a spawned sluice (bin/sluice.js), a real Envoy and the demo's blue
// and green model servers in their own processes, one round of off, mirror and shadow at a low
// rate: every user answer is a 2xx either way, and in the shadow phase sluice compares a pair for
// every request sent then. No timing is asserted; the real run is `npm run bench:shadow`
// (BENCHMARKS.md).

import { describe, expect, it } from 'vitest';
import { runShadowBench } from '../../bench/shadow.js';

describe('bench:shadow, one round at 40 req/s', () => {
  it('serves every request with nothing copied, a mirror and a shadow, and compares each copied one', async () => {
    const result = await runShadowBench({ rate: 40, phaseMs: 1500, rounds: 1, percent: 100 });
    expect(result.modes.map((m) => [m.mode, m.requests, m.notOk])).toEqual([
      ['off', 60, 0],
      ['mirror', 60, 0],
      ['shadow', 60, 0],
    ]);
    // 60 measured requests and 20 warm-up ones, all copied in the shadow phase, each compared or
    // (when Envoy could not deliver a report) counted unpaired; reports are best effort, so at most
    // 1% may go unseen.
    expect(result.compared + result.unpaired).toBeGreaterThanOrEqual(79);
    expect(result.compared + result.unpaired).toBeLessThanOrEqual(80);
    expect(result.errors).toEqual([]);
  }, 150_000);
});
