import { describe, expect, it } from 'vitest';
import { IdentityPolicyError, judgeClaim, matchesPattern, parseIdentityPolicy } from './identity-policy.js';

const POLICY = parseIdentityPolicy(
  JSON.stringify({
    rules: [
      { identity: 'spiffe://example.org/ns/ml/sa/edge-*', nodeIds: ['edge-*'], nodeClusters: ['edge'] },
      { identity: 'spiffe://example.org/ns/ml/sa/edge-canary', nodeIds: ['canary-*'], nodeClusters: ['edge-canary'] },
    ],
  }),
  'policy.json',
);

describe('identity patterns', () => {
  it.each([
    ['edge-*', 'edge-1', true],
    ['edge-*', 'edge-', true],
    ['edge-*', 'core-1', false],
    ['spiffe://example.org/ns/*/sa/edge', 'spiffe://example.org/ns/ml/sa/edge', true],
    // `*` never crosses a `/`: a longer SPIFFE path is not the same workload.
    ['spiffe://example.org/ns/*/sa/edge', 'spiffe://example.org/ns/ml/x/sa/edge', false],
    ['a.b', 'aXb', false],
    ['edge', 'edge-1', false],
  ])('%s matches %s: %s', (pattern, value, expected) => {
    expect(matchesPattern(pattern, value)).toBe(expected);
  });
});

describe('judging a claim', () => {
  const edge = 'spiffe://example.org/ns/ml/sa/edge-7';
  it('allows a node id and cluster one matching rule allows together', () => {
    expect(judgeClaim(POLICY, edge, { id: 'edge-7', cluster: 'edge' })).toBeUndefined();
    expect(judgeClaim(POLICY, 'spiffe://example.org/ns/ml/sa/edge-canary', { id: 'canary-1', cluster: 'edge-canary' })).toBeUndefined();
  });

  it('names the claim refused: identity, node id, node cluster', () => {
    expect(judgeClaim(POLICY, 'spiffe://other.org/ns/ml/sa/edge-7', { id: 'edge-7', cluster: 'edge' })?.claim).toBe('identity');
    expect(judgeClaim(POLICY, edge, { id: 'core-1', cluster: 'edge' })).toEqual({
      claim: 'node-id',
      reason: `identity "${edge}" may not claim node id "core-1" (allowed: edge-*)`,
    });
    expect(judgeClaim(POLICY, edge, { id: 'edge-7', cluster: 'core' })?.claim).toBe('node-cluster');
    expect(judgeClaim(POLICY, undefined, { id: 'edge-7', cluster: 'edge' })?.claim).toBe('identity');
  });

  it('never mixes two rules: a node id from one with a node cluster from another', () => {
    // edge-canary matches both rules; canary-1 comes from the second, cluster edge only from the first.
    expect(judgeClaim(POLICY, 'spiffe://example.org/ns/ml/sa/edge-canary', { id: 'canary-1', cluster: 'edge' })?.claim).toBe('node-cluster');
  });

  it("without a policy, allows only the node cluster of the identity's own name", () => {
    expect(judgeClaim(undefined, edge, { id: 'anything', cluster: 'edge-7' })).toBeUndefined();
    expect(judgeClaim(undefined, 'core', { id: 'anything', cluster: 'core' })).toBeUndefined();
    expect(judgeClaim(undefined, 'core', { id: 'anything', cluster: 'edge' })?.claim).toBe('node-cluster');
  });
});

describe('reading a policy', () => {
  const refusal = (text: string): string => {
    try {
      parseIdentityPolicy(text, 'p.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(IdentityPolicyError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('reads YAML', () => {
    expect(parseIdentityPolicy('rules:\n  - identity: core\n    nodeIds: ["*"]\n    nodeClusters: [core]\n', 'p.yaml').rules).toEqual([
      { identity: 'core', nodeIds: ['*'], nodeClusters: ['core'] },
    ]);
  });

  it.each([
    ['rules: [', /p\.yaml is not valid JSON or YAML/],
    ['[]', /must hold an object/],
    ['rules: []', /rules must be a non-empty list/],
    ['rulez: []', /unknown key "rulez"/],
    ['rules: [{identity: core, nodeIds: ["*"]}]', /p\.yaml: rules\[0\]\.nodeClusters must be a non-empty list/],
    ['rules: [{identity: core, nodeIds: ["*"], nodeClusters: [core], extra: 1}]', /rules\[0\]: unknown key "extra"/],
    ['rules: [{identity: "", nodeIds: ["*"], nodeClusters: [core]}]', /rules\[0\]\.identity must be a non-empty string/],
    ['rules: [{identity: core, nodeIds: ["a b"], nodeClusters: [core]}]', /rules\[0\]\.nodeIds\[0\] must not contain whitespace/],
    ['rules: [{identity: core, nodeIds: [3], nodeClusters: [core]}]', /rules\[0\]\.nodeIds\[0\] must be a non-empty string/],
  ])('refuses %s', (text, message) => {
    expect(refusal(text)).toMatch(message);
  });
});
