// Keeps bench:mesh working: in light mode (sluice and the simulated Envoys in this process), 20
// proxies with 20 distinct node clusters connect and reconnect at once and end in sync without
// errors, and sluice builds one snapshot for them all (the second output; the first exists from
// the start), none on reconnect. No timing is asserted; the real run is `npm run bench:mesh`.

import { describe, expect, it } from 'vitest';
import { runMesh } from '../../bench/mesh.js';

describe('bench:mesh (light mode)', () => {
  it('20 node clusters, two outputs: all in sync, one snapshot built on connect and none on reconnect', async () => {
    const cases = await runMesh({ size: 20, modes: ['sotw', 'delta'], selected: 5, light: true });
    expect(cases.map((c) => [c.mode, c.phase, c.inSync, c.errors, c.errorSamples, c.builds])).toEqual([
      ['sotw', 'connect', true, 0, [], 1],
      ['sotw', 'reconnect', true, 0, [], 0],
      ['delta', 'connect', true, 0, [], 1],
      ['delta', 'reconnect', true, 0, [], 0],
    ]);
  }, 120_000);
});
