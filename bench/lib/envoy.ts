// A real Envoy for the benchmarks, through the tests' own launcher (test/support/envoy-process.ts),
// pointed at the repository's binary and bootstraps explicitly (the launcher finds them relative
// to its own location, which differs in the build output). Plus reading the split Envoy applies.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startEnvoy, type EnvoyProcess } from '../../test/support/envoy-process.js';
import type { XdsMode } from './sim-envoy.js';
import { REPO_ROOT } from './util.js';

export type { EnvoyProcess };

export function envoyBin(): string {
  return process.env['ENVOY_BIN'] || join(REPO_ROOT, '.envoy', 'bin', 'envoy');
}

/** "1.40.0" from `envoy --version`, or what it printed. */
export function envoyVersion(): string {
  try {
    const out = execFileSync(envoyBin(), ['--version'], { encoding: 'utf8' });
    return /\/(\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? out.trim();
  } catch (error) {
    return `unavailable (${String(error)})`;
  }
}

export async function startBenchEnvoy(mode: XdsMode, xdsPort: number, nodeId: string): Promise<EnvoyProcess> {
  process.env['ENVOY_BIN'] = envoyBin();
  const bootstrap = mode === 'sotw' ? 'bootstrap-ads.yaml' : 'bootstrap-ads-delta.yaml';
  const envoy = await startEnvoy({ xdsPort, nodeId, bootstrapFile: join(REPO_ROOT, 'envoy', bootstrap), logLevel: 'warning' });
  await envoy.waitLive(20_000);
  return envoy;
}

/**
 * The weight (of 10000) Envoy's route `<service>_split` gives `<service>_<version>`, from a
 * config_dump of the dynamic route configurations; undefined when the route is not there.
 */
export function appliedWeight(dump: unknown, service: string, version: string): number | undefined {
  const routeName = `${service}_split`;
  const cluster = `${service}_${version}`;
  let found: number | undefined;
  const visit = (value: unknown): void => {
    if (found !== undefined || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const object = value as Record<string, any>;
    if (object['name'] === routeName && object['route']) {
      const route = object['route'] as { cluster?: string; weighted_clusters?: { clusters?: { name: string; weight?: number }[] } };
      if (route.cluster !== undefined) found = route.cluster === cluster ? 10_000 : 0;
      else found = Number(route.weighted_clusters?.clusters?.find((c) => c.name === cluster)?.weight ?? 0);
      return;
    }
    for (const item of Object.values(object)) visit(item);
  };
  visit(dump);
  return found;
}
