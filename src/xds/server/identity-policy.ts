// What a verified proxy identity may claim on its xDS and load-report streams: the node ids and
// node clusters each identity pattern allows, read from a JSON or YAML file and checked whole at
// start-up, and the default without a file (the node cluster must be the identity's own name).
// Pure judgement over strings; it never reads a certificate (node-identity.ts) or a stream.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { identityName } from './node-identity.js';

export interface IdentityRule {
  /** An identity pattern: `*` stands for any run of characters other than `/`. */
  identity: string;
  /** Node id patterns this identity may claim. */
  nodeIds: string[];
  /** Node cluster patterns this identity may claim (the node cluster selects its listeners). */
  nodeClusters: string[];
}

export interface IdentityPolicy {
  rules: IdentityRule[];
}

/** What a refused stream claimed that its identity may not: which claim, and a reason naming both. */
export interface Refusal {
  claim: 'identity' | 'node-id' | 'node-cluster';
  reason: string;
}

export class IdentityPolicyError extends Error {
  override name = 'IdentityPolicyError';
}

const RULE_KEYS = ['identity', 'nodeIds', 'nodeClusters'] as const;

function patternProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'must be a non-empty string';
  if (/\s/.test(value)) return 'must not contain whitespace';
  return undefined;
}

function checkPatterns(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new IdentityPolicyError(`${path} must be a non-empty list of patterns`);
  value.forEach((pattern, i) => {
    const problem = patternProblem(pattern);
    if (problem !== undefined) throw new IdentityPolicyError(`${path}[${i}] ${problem}`);
  });
  return value as string[];
}

/** The policy in `text` (JSON or YAML), or an IdentityPolicyError naming the first bad field by its path. */
export function parseIdentityPolicy(text: string, source: string): IdentityPolicy {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new IdentityPolicyError(`${source} is not valid JSON or YAML: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new IdentityPolicyError(`${source} must hold an object such as {"rules": [{"identity": …, "nodeIds": […], "nodeClusters": […]}]}`);
  }
  const unknownKey = Object.keys(parsed).find((key) => key !== 'rules');
  if (unknownKey !== undefined) throw new IdentityPolicyError(`${source}: unknown key "${unknownKey}" (known: rules)`);
  const rules = (parsed as { rules?: unknown }).rules;
  if (!Array.isArray(rules) || rules.length === 0) throw new IdentityPolicyError(`${source}: rules must be a non-empty list`);
  return {
    rules: rules.map((rule: unknown, i) => {
      const path = `${source}: rules[${i}]`;
      if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw new IdentityPolicyError(`${path} must be an object`);
      const extra = Object.keys(rule).find((key) => !(RULE_KEYS as readonly string[]).includes(key));
      if (extra !== undefined) throw new IdentityPolicyError(`${path}: unknown key "${extra}" (known: ${RULE_KEYS.join(', ')})`);
      const { identity, nodeIds, nodeClusters } = rule as Record<string, unknown>;
      const problem = patternProblem(identity);
      if (problem !== undefined) throw new IdentityPolicyError(`${path}.identity ${problem}`);
      return { identity: identity as string, nodeIds: checkPatterns(nodeIds, `${path}.nodeIds`), nodeClusters: checkPatterns(nodeClusters, `${path}.nodeClusters`) };
    }),
  };
}

export function readIdentityPolicy(path: string): IdentityPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IdentityPolicyError(`cannot read the xDS identity policy ${path}: ${(error as Error).message}`);
  }
  return parseIdentityPolicy(text, path);
}

/** `*` matches any run of characters but `/`; everything else matches itself. */
export function matchesPattern(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${source}$`).test(value);
}

const quoted = (text: string): string => JSON.stringify(text);

/**
 * Whether `identity` may claim `node`; undefined when it may. Without a policy, the node cluster must
 * be the identity's own name (a SPIFFE ID's last segment, or the common name) and any node id goes.
 */
export function judgeClaim(policy: IdentityPolicy | undefined, identity: string | undefined, node: { id: string; cluster: string }): Refusal | undefined {
  if (identity === undefined) {
    return { claim: 'identity', reason: 'the client certificate names no identity (no SPIFFE URI SAN, no subject common name)' };
  }
  if (policy === undefined) {
    const name = identityName(identity);
    if (node.cluster === name) return undefined;
    return {
      claim: 'node-cluster',
      reason: `identity ${quoted(identity)} may not claim node cluster ${quoted(node.cluster)} (without an identity policy, only ${quoted(name)})`,
    };
  }
  const rules = policy.rules.filter((rule) => matchesPattern(rule.identity, identity));
  if (rules.length === 0) return { claim: 'identity', reason: `identity ${quoted(identity)} is not in the xDS identity policy` };
  const forId = rules.filter((rule) => rule.nodeIds.some((pattern) => matchesPattern(pattern, node.id)));
  if (forId.length === 0) {
    const allowed = rules.flatMap((rule) => rule.nodeIds).join(', ');
    return { claim: 'node-id', reason: `identity ${quoted(identity)} may not claim node id ${quoted(node.id)} (allowed: ${allowed})` };
  }
  if (forId.some((rule) => rule.nodeClusters.some((pattern) => matchesPattern(pattern, node.cluster)))) return undefined;
  const allowed = forId.flatMap((rule) => rule.nodeClusters).join(', ');
  return { claim: 'node-cluster', reason: `identity ${quoted(identity)} may not claim node cluster ${quoted(node.cluster)} (allowed: ${allowed})` };
}
