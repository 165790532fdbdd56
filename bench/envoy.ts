// bench:envoy — one real Envoy (1.40) on ADS; for each weight change, the time from the PUT to
// Envoy's own /config_dump showing the new weight (polled every millisecond or so), and to
// sluice reporting the revision applied (GET /v1/revisions/{n}?wait). SotW and delta.
//
//   npm run bench:envoy                     50 changes per mode
//   options: --changes 50 --modes sotw,delta

import { demoService } from './lib/admin-client.js';
import { appliedWeight, envoyVersion, startBenchEnvoy, type EnvoyProcess } from './lib/envoy.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { spawnSluice } from './lib/sluice-process.js';
import { Args, fmt, greenPercent, now, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export interface EnvoySample {
  revision: number;
  green: number;
  /** PUT → config_dump shows the weight. */
  configDumpMs: number;
  /** PUT → sluice reports the revision applied by the Envoy (its ACK). */
  ackedMs: number;
  polls: number;
}

/** Polls /config_dump?resource=dynamic_route_configs until `green` (percent) is applied. */
async function pollApplied(envoy: EnvoyProcess, green: number, timeoutMs: number): Promise<{ at: number; polls: number; pollMs: number }> {
  const deadline = now() + timeoutMs;
  let polls = 0;
  let pollTime = 0;
  for (;;) {
    const started = now();
    const response = await fetch(`${envoy.adminUrl}/config_dump?resource=dynamic_route_configs`);
    const dump: unknown = await response.json();
    const at = now();
    polls++;
    pollTime += at - started;
    if (appliedWeight(dump, 'predict', 'green') === green * 100) return { at, polls, pollMs: pollTime / polls };
    if (at > deadline) throw new Error(`Envoy did not show green ${green}% within ${timeoutMs} ms`);
    await sleep(1);
  }
}

async function runMode(mode: XdsMode, changes: number, warmup: number, log: (line: string) => void): Promise<{ samples: EnvoySample[]; pollMs: number[]; errors: string[] }> {
  const sluice = await spawnSluice();
  let envoy: EnvoyProcess | undefined;
  try {
    await sluice.admin.putService('predict', demoService());
    envoy = await startBenchEnvoy(mode, sluice.xdsPort, `bench-envoy-${mode}`);
    await sluice.admin.waitComplete(await sluice.admin.currentRevision(), 1, 20_000);
    const samples: EnvoySample[] = [];
    const pollMs: number[] = [];
    for (let step = 0; step < warmup + changes; step++) {
      const green = greenPercent(step + 1);
      const t0 = now();
      const revision = await sluice.admin.putWeights('predict', { blue: 100 - green, green });
      const [applied, acked] = await Promise.all([pollApplied(envoy, green, 10_000), sluice.admin.waitComplete(revision, 1, 10_000)]);
      if (!acked.complete) throw new Error(`revision ${revision} not reported applied within 10 s`);
      if (step >= warmup) {
        samples.push({ revision, green, configDumpMs: applied.at - t0, ackedMs: acked.at - t0, polls: applied.polls });
        pollMs.push(applied.pollMs);
      }
      await sleep(20);
    }
    log(`  ${mode}: ${samples.length} changes`);
    const stats = await envoy.stats('update_rejected');
    const rejected = Object.entries(stats).filter(([, value]) => value > 0);
    return { samples, pollMs, errors: [...rejected.map(([name, value]) => `${name} = ${value}`), ...sluice.errorLines()] };
  } finally {
    await envoy?.stop();
    await sluice.stop({ removeState: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['changes', 'modes', 'warmup']);
  const changes = args.number('changes', 50);
  const warmup = args.number('warmup', 3);
  const modes = (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[];
  const version = envoyVersion();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`envoy: Envoy ${version}; ${changes} changes; ${modes.join(' and ')}`);
  const results: { mode: XdsMode; samples: EnvoySample[]; configDump: Summary; acked: Summary; pollMs: number; errors: string[] }[] = [];
  for (const mode of modes) {
    const { samples, pollMs, errors } = await runMode(mode, changes, warmup, log);
    results.push({
      mode,
      samples,
      configDump: summarize(samples.map((s) => s.configDumpMs)),
      acked: summarize(samples.map((s) => s.ackedMs)),
      pollMs: summarize(pollMs).mean,
      errors,
    });
  }
  process.stdout.write(
    `\n${table(
      ['mode', 'changes', 'config_dump p50', 'p99', 'max', 'ACK seen by sluice p50', 'p99', 'one poll', 'errors'],
      results.map((r) => [r.mode, r.samples.length, `${fmt(r.configDump.p50)} ms`, `${fmt(r.configDump.p99)} ms`, `${fmt(r.configDump.max)} ms`, `${fmt(r.acked.p50)} ms`, `${fmt(r.acked.p99)} ms`, `${fmt(r.pollMs, 2)} ms`, r.errors.length]),
    )}\n`,
  );
  const path = writeResults('envoy', {
    command: `npm run bench:envoy${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    envoyVersion: version,
    options: { changes, warmup, modes },
    results: results.map((r) => ({ ...r, samples: r.samples.map((s) => ({ ...s, configDumpMs: round(s.configDumpMs, 2), ackedMs: round(s.ackedMs, 2) })) })),
  });
  process.stdout.write(`results: ${path}\n`);
  if (results.some((r) => r.errors.length > 0)) process.exitCode = 1;
}

runMain(import.meta.url, main);
