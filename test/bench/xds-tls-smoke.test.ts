// Keeps bench:xds-tls working: a spawned sluice (bin/sluice.js) and 10 simulated Envoys in this
// process (light mode), each on its own connection, plaintext and then over mutual TLS with
// certificates openssl makes now: all
// connect, live through one reconnect storm and end in sync on new streams, without an error in
// either. No timing is asserted; the real run is `npm run bench:xds-tls` (BENCHMARKS.md).

import { describe, expect, it } from 'vitest';
import { runXdsTls } from '../../bench/xds-tls.js';

describe('bench:xds-tls at 10 proxies (light mode)', () => {
  it('plaintext and mutual TLS: every proxy connects and is back in sync after a reconnect storm, without errors', async () => {
    const cases = await runXdsTls({ size: 10, rounds: 1, light: true });
    expect(cases.map((c) => [c.transport, c.size, c.stormMs.length, c.errors, c.errorSamples])).toEqual([
      ['plaintext', 10, 1, 0, []],
      ['mtls', 10, 1, 0, []],
    ]);
    for (const c of cases) expect(Number.isFinite(c.connectMs)).toBe(true);
  }, 120_000);
});
