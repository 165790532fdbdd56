import { describe, expect, it } from 'vitest';
import { FleetStatus } from '../fleet/status.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { ProxyReporter } from './proxy-report.js';
import { supportsHashSplit } from './node-groups.js';
import { RevisionLedger } from './revision-ledger.js';

function envoy(id: string, version: string): NodeInfo {
  return { id, cluster: 'edge', userAgentName: 'envoy', clientVersion: version, envoyVersion: version };
}

describe('Envoy version gating', () => {
  it('knows which Envoys have use_hash_policy', () => {
    expect(supportsHashSplit('1.36.0')).toBe(true);
    expect(supportsHashSplit('1.40.2')).toBe(true);
    expect(supportsHashSplit('2.0.0')).toBe(true);
    expect(supportsHashSplit('1.35.9')).toBe(false);
    expect(supportsHashSplit('1.9.0')).toBe(false);
  });

  it('says in /v1/proxies which Envoys get the cohort-cookie stand-in', () => {
    const fleet = new FleetStatus();
    fleet.streamOpened(1, envoy('new', '1.40.0'), { kind: 'sotw', aggregated: true });
    fleet.streamOpened(2, envoy('old', '1.35.0'), { kind: 'sotw', aggregated: true });
    fleet.streamOpened(3, { id: 'g', cluster: 'c', userAgentName: 'gRPC Go', clientVersion: '1.70.0', envoyVersion: '' }, { kind: 'sotw', aggregated: true });
    const report = new ProxyReporter(fleet, new RevisionLedger()).list();
    expect(report.map((p) => [p.node.id, p.versionAffinity])).toEqual([
      ['new', 'hash'],
      ['old', 'cohort-cookie'],
      ['g', undefined],
    ]);
  });
});
