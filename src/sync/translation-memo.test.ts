import { describe, expect, it } from 'vitest';
import { predictService, stateOf } from '../translate/fixtures.test-support.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { nodeGroup, parseGroup } from './node-groups.js';
import { translateOnce } from './translation-memo.js';

const ADS = { kind: 'sotw' as const, aggregated: true };
const ENVOY = { id: 'e', cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' };

describe('translateOnce', () => {
  it('translates a state object once per flavour', () => {
    const state = stateOf(predictService());
    expect(translateOnce(state)).toBe(translateOnce(state, { capabilities: { hashSplit: true } }));
    expect(translateOnce(state, { capabilities: { hashSplit: false } })).not.toBe(translateOnce(state));
    expect(translateOnce(stateOf(predictService()))).not.toBe(translateOnce(state));
  });

  it("the reconciler's Envoy groups reuse the pre-commit check's translation when their node cluster selects every listener", () => {
    const state = stateOf(predictService());
    const checked = translateOnce(state);
    expect(parseGroup(nodeGroup(ENVOY, ADS, state.listeners))!.translate(state)).toBe(checked);
    expect(parseGroup(DEFAULT_GROUP)!.translate(state)).toBe(checked);
    // A node cluster some listener does not select gets its own selection, translated apart, once.
    const selective = { ...state, listeners: { ...state.listeners, edge: { name: 'edge', address: '0.0.0.0', port: 9090, nodes: { clusters: ['other'] } } } };
    const translated = parseGroup(nodeGroup(ENVOY, ADS, selective.listeners))!.translate(selective);
    expect(translated).not.toBe(translateOnce(selective));
    expect(translated.listeners.map((l) => l.name)).toEqual(['default']);
    expect(translateOnce(selective, {}, ['default'])).toBe(translated);
    expect(translateOnce(selective, {}, ['default', 'edge'])).toBe(translateOnce(selective));
  });
});
