// PURE: what differs between two translations of the desired state, per resource (added,
// removed, changed) and, for a changed one, per JSON path with its old and new values. Arrays of
// uniquely named objects (virtual hosts, routes, weighted clusters) are matched by name.

import type { ResourceJson, TranslatedResources } from '../translate/resources.js';

const RESOURCE_KINDS = { listeners: 'listener', routes: 'route', clusters: 'cluster', endpoints: 'endpoints' } as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[keyof typeof RESOURCE_KINDS];

/** One changed value; `old` is absent for an added path, `new` for a removed one. */
export interface PathChange {
  path: string;
  old?: unknown;
  new?: unknown;
}

export interface ResourceChange {
  kind: ResourceKind;
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** For a changed resource. */
  paths?: PathChange[];
  /** For an added or removed one: the whole resource. */
  resource?: ResourceJson;
}

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function keyPath(path: string, key: string): string {
  if (!IDENTIFIER_RE.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The names of an array whose elements are all objects with distinct string names; else undefined. */
function namesOf(array: unknown[]): string[] | undefined {
  const names = array.map((item) => (isObject(item) && typeof item['name'] === 'string' ? item['name'] : undefined));
  if (names.some((name) => name === undefined) || new Set(names).size !== names.length) return undefined;
  return names as string[];
}

function diffNamed(before: unknown[], after: unknown[], beforeNames: string[], afterNames: string[], path: string, out: PathChange[]): void {
  const common = (names: string[], others: string[]) => names.filter((name) => others.includes(name));
  if (!same(common(beforeNames, afterNames), common(afterNames, beforeNames))) {
    out.push({ path: `${path} (order)`, old: beforeNames, new: afterNames });
  }
  for (const name of new Set([...beforeNames, ...afterNames])) {
    const at = `${path}[${JSON.stringify(name)}]`;
    const i = beforeNames.indexOf(name);
    const j = afterNames.indexOf(name);
    diffValues(i === -1 ? undefined : before[i], j === -1 ? undefined : after[j], at, out);
  }
}

function diffValues(before: unknown, after: unknown, path: string, out: PathChange[]): void {
  if (same(before, after)) return;
  if (before === undefined) {
    out.push({ path, new: after });
  } else if (after === undefined) {
    out.push({ path, old: before });
  } else if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) diffValues(before[key], after[key], keyPath(path, key), out);
  } else if (Array.isArray(before) && Array.isArray(after)) {
    const beforeNames = namesOf(before);
    const afterNames = namesOf(after);
    if (beforeNames && afterNames) {
      diffNamed(before, after, beforeNames, afterNames, path, out);
    } else {
      for (let i = 0; i < Math.max(before.length, after.length); i++) diffValues(before[i], after[i], `${path}[${i}]`, out);
    }
  } else {
    out.push({ path, old: before, new: after });
  }
}

/** Every resource that differs, by kind (listeners, routes, clusters, endpoints) and then by name. */
export function diffResources(before: TranslatedResources, after: TranslatedResources): ResourceChange[] {
  const changes: ResourceChange[] = [];
  for (const [key, kind] of Object.entries(RESOURCE_KINDS) as [keyof TranslatedResources, ResourceKind][]) {
    const old = new Map(before[key].map((r) => [r.name, r.resource]));
    const now = new Map(after[key].map((r) => [r.name, r.resource]));
    for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
      const previous = old.get(name);
      const next = now.get(name);
      if (previous === undefined && next !== undefined) changes.push({ kind, name, change: 'added', resource: next });
      else if (next === undefined && previous !== undefined) changes.push({ kind, name, change: 'removed', resource: previous });
      else if (!same(previous, next)) {
        const paths: PathChange[] = [];
        diffValues(previous, next, '', paths);
        changes.push({ kind, name, change: 'changed', paths });
      }
    }
  }
  return changes;
}
