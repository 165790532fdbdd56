// bench:startup — time from spawning `node bin/sluice.js serve` to the first 200 on /readyz,
// with 100 services in the state file (created once through the admin API, then sluice restarted
// on the same file `restarts` times), against the same with a fresh, empty state.
//
//   npm run bench:startup                   100 services, 5 restarts each
//   options: --services 100 --restarts 5

import { statSync } from 'node:fs';
import { spawnSluice } from './lib/sluice-process.js';
import { Args, fmt, fmtBytes, now, round, runMain, summarize, table, writeResults, type Summary } from './lib/util.js';

/** A service like the demo's, on its own prefix, with IP endpoints and a 90/10 split. */
export function benchService(index: number): Record<string, unknown> {
  const octet = (n: number): number => (n % 250) + 1;
  return {
    listener: 'default',
    match: { prefix: `/svc-${index}` },
    hosts: ['*'],
    versions: [
      { name: 'blue', endpoints: [{ address: `10.1.${octet(index)}.1`, port: 8000 }, { address: `10.1.${octet(index)}.2`, port: 8000 }] },
      { name: 'green', endpoints: [{ address: `10.2.${octet(index)}.1`, port: 8000 }] },
    ],
    weights: { blue: 90, green: 10 },
    stable: 'blue',
    pinHeader: 'x-sluice-version',
    timeout: '30s',
  };
}

async function restarts(statePath: string | undefined, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const sluice = await spawnSluice(statePath === undefined ? {} : { statePath });
    times.push(sluice.readyMs);
    const errors = sluice.errorLines();
    await sluice.stop({ removeState: statePath === undefined });
    if (errors.length > 0) throw new Error(`sluice logged errors: ${errors.join('\n')}`);
  }
  return times;
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['services', 'restarts']);
  const services = args.number('services', 100);
  const count = args.number('restarts', 5);

  // The state: `services` services, each created by its own PUT (one revision and audit entry each).
  const first = await spawnSluice();
  const started = now();
  for (let i = 0; i < services; i++) await first.admin.putService(`svc-${i}`, benchService(i));
  const createMs = now() - started;
  const statePath = first.statePath;
  await first.stop();
  const stateBytes = ['', '-wal'].reduce((sum, suffix) => {
    try {
      return sum + statSync(`${statePath}${suffix}`).size;
    } catch {
      return sum;
    }
  }, 0);

  const empty = summarize(await restarts(undefined, count));
  const full = summarize(await restarts(statePath, count));
  const row = (label: string, s: Summary): (string | number)[] => [label, s.count, `${fmt(s.min)} ms`, `${fmt(s.p50)} ms`, `${fmt(s.max)} ms`];
  process.stdout.write(
    `\n${table(['state', 'starts', 'min', 'p50', 'max'], [row('empty (fresh file)', empty), row(`${services} services`, full)])}\n` +
      `\ncreating ${services} services through the API: ${fmt(createMs)} ms (${fmt(createMs / services, 2)} ms per PUT` +
      `${first.admin.rateLimited > 0 ? `, including ${first.admin.rateLimited} waits on sluice's change rate limit` : ''}); state file ${fmtBytes(stateBytes)}\n`,
  );
  const rounded = (s: Summary): Summary => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 2)])) as unknown as Summary;
  const path = writeResults('startup', {
    command: `npm run bench:startup${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { services, restarts: count },
    readyMs: { empty: rounded(empty), withServices: rounded(full) },
    createMs: round(createMs, 1),
    rateLimitedPuts: first.admin.rateLimited,
    stateBytes,
  });
  await first.stop({ removeState: true });
  process.stdout.write(`results: ${path}\n`);
}

runMain(import.meta.url, main);
