// The translator's own output check: a route that sends or mirrors to a cluster missing from the
// same translation, or a split that does not sum to 10000, is a bug and throws.

import { describe, expect, it } from 'vitest';
import { checkResources } from './check.js';
import type { ResourceJson, TranslatedResources } from './resources.js';

function withRoute(action: ResourceJson): TranslatedResources {
  return {
    listeners: [],
    routes: [{ name: 'default', resource: { virtual_hosts: [{ routes: [{ name: 'predict_split', route: action }] }] } }],
    clusters: [{ name: 'predict_blue', resource: {} }, { name: 'predict_green', resource: {} }],
    endpoints: [],
  };
}

const split = { clusters: [{ name: 'predict_blue', weight: 9000 }, { name: 'predict_green', weight: 1000 }] };

describe('checkResources', () => {
  it.each<[string, ResourceJson, RegExp | undefined]>([
    ['a split over existing clusters', { weighted_clusters: split }, undefined],
    ['a mirror to an existing cluster', { weighted_clusters: split, request_mirror_policies: [{ cluster: 'predict_green' }] }, undefined],
    ['a mirror to a missing cluster', { weighted_clusters: split, request_mirror_policies: [{ cluster: 'predict_canary' }] }, /missing cluster predict_canary/],
    ['a single cluster that is missing', { cluster: 'predict_canary' }, /missing cluster predict_canary/],
    ['a mirror beside a single missing cluster', { cluster: 'predict_blue', request_mirror_policies: [{ cluster: 'gone' }] }, /missing cluster gone/],
    // 9000 + 999 = 9999: one basis point lost.
    ['a split one basis point short', { weighted_clusters: { clusters: [{ name: 'predict_blue', weight: 9000 }, { name: 'predict_green', weight: 999 }] } }, /summing to 9999/],
  ])('%s', (_, action, refusal) => {
    if (refusal === undefined) expect(() => checkResources(withRoute(action))).not.toThrow();
    else expect(() => checkResources(withRoute(action))).toThrow(refusal);
  });
});
