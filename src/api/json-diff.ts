// PURE: the one JSON walk behind every diff the admin API answers: what differs between two JSON
// values, per JSON pointer (with a readable label naming the named elements on the way) with its
// old and new values, each bounded. Arrays of uniquely named objects are matched by name. Knows
// nothing of what the values are (resources, services, listeners); reads them only.

import type { PathChange } from './dry-run.js';

/** Longest old or new value, as JSON, given in full; a longer one is replaced by `{"$truncated": <its JSON length>}`. */
export const MAX_VALUE_CHARS = 1000;
/** Most paths listed per changed value; `morePaths` counts the rest. */
export const MAX_PATHS = 100;

/** The differing paths of one changed value, at most MAX_PATHS of them. */
export interface JsonDiff {
  paths: PathChange[];
  morePaths?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether two JSON values are the same (keys in the same order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Where a value is: its JSON pointer, and a readable label naming named elements (`routes["predict_split"]`). */
interface Where {
  path: string;
  label: string;
}

function child(where: Where, token: string | number, name?: string): Where {
  return {
    path: `${where.path}/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`,
    label: name !== undefined ? `${where.label}[${JSON.stringify(name)}]` : typeof token === 'number' ? `${where.label}[${token}]` : where.label === '' ? token : `${where.label}.${token}`,
  };
}

function bounded(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? { $truncated: text.length } : value;
}

/** The names of an array whose elements are all objects with distinct string names; else undefined. */
function namesOf(array: unknown[]): string[] | undefined {
  const names = array.map((item) => (isObject(item) && typeof item['name'] === 'string' ? item['name'] : undefined));
  if (names.some((name) => name === undefined) || new Set(names).size !== names.length) return undefined;
  return names as string[];
}

/** Elements matched by name; an element's pointer is its index in `after`, or in `before` once removed. */
function diffNamed(before: unknown[], after: unknown[], beforeNames: string[], afterNames: string[], where: Where, out: PathChange[]): void {
  const common = (names: string[], others: string[]) => names.filter((name) => others.includes(name));
  if (!sameJson(common(beforeNames, afterNames), common(afterNames, beforeNames))) {
    out.push({ ...where, order: true, old: beforeNames, new: afterNames });
  }
  for (const name of new Set([...beforeNames, ...afterNames])) {
    const i = beforeNames.indexOf(name);
    const j = afterNames.indexOf(name);
    diffValues(i === -1 ? undefined : before[i], j === -1 ? undefined : after[j], child(where, j === -1 ? i : j, name), out);
  }
}

function diffValues(before: unknown, after: unknown, where: Where, out: PathChange[]): void {
  if (sameJson(before, after)) return;
  if (before === undefined) {
    out.push({ ...where, new: bounded(after) });
  } else if (after === undefined) {
    out.push({ ...where, old: bounded(before) });
  } else if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) diffValues(before[key], after[key], child(where, key), out);
  } else if (Array.isArray(before) && Array.isArray(after)) {
    const beforeNames = namesOf(before);
    const afterNames = namesOf(after);
    if (beforeNames && afterNames) {
      diffNamed(before, after, beforeNames, afterNames, where, out);
    } else {
      for (let i = 0; i < Math.max(before.length, after.length); i++) diffValues(before[i], after[i], child(where, i), out);
    }
  } else {
    out.push({ ...where, old: bounded(before), new: bounded(after) });
  }
}

/** Every differing path from `before` to `after`, pointers from their root, bounded. */
export function diffJson(before: unknown, after: unknown): JsonDiff {
  const paths: PathChange[] = [];
  diffValues(before, after, { path: '', label: '' }, paths);
  const more = paths.length - MAX_PATHS;
  return { paths: paths.slice(0, MAX_PATHS), ...(more > 0 ? { morePaths: more } : {}) };
}
