// The per-resource diff on its own: named arrays matched by name (and a change of their order
// reported), unnamed arrays by index, added and removed paths as JSON pointers with readable labels, resources sorted
// by kind and name, long values and many paths bounded.

import { expect, it } from 'vitest';
import type { TranslatedResources } from '../translate/resources.js';
import { MAX_PATHS, MAX_VALUE_CHARS } from '../api/json-diff.js';
import { diffResources } from './resource-diff.js';

function resources(routes: unknown[], clusters: string[] = []): TranslatedResources {
  return {
    listeners: [],
    routes: [{ name: 'default', resource: { name: 'default', virtual_hosts: [{ name: '*', routes }] } }],
    clusters: clusters.map((name) => ({ name, resource: { name } })),
    endpoints: [],
  };
}

it('matches named elements by name, points into the new resource (the old one for a removed value) and reports a change of order', () => {
  const before = resources([
    { name: 'a', tags: ['x', 'y'] },
    { name: 'b', timeout: '30s' },
    { name: 'd/~' },
  ]);
  const after = resources([
    { name: 'b', timeout: '5s' },
    { name: 'a', tags: ['x'] },
    { name: 'c' },
  ]);
  expect(diffResources(before, after)).toEqual([
    {
      kind: 'route',
      name: 'default',
      change: 'changed',
      paths: [
        { path: '/virtual_hosts/0/routes', label: 'virtual_hosts["*"].routes', order: true, old: ['a', 'b', 'd/~'], new: ['b', 'a', 'c'] },
        { path: '/virtual_hosts/0/routes/1/tags/1', label: 'virtual_hosts["*"].routes["a"].tags[1]', old: 'y' },
        { path: '/virtual_hosts/0/routes/0/timeout', label: 'virtual_hosts["*"].routes["b"].timeout', old: '30s', new: '5s' },
        { path: '/virtual_hosts/0/routes/2', label: 'virtual_hosts["*"].routes["d/~"]', old: { name: 'd/~' } },
        { path: '/virtual_hosts/0/routes/2', label: 'virtual_hosts["*"].routes["c"]', new: { name: 'c' } },
      ],
    },
  ]);
});

it('escapes keys in pointers and bounds long values and long path lists', () => {
  const long = 'x'.repeat(MAX_VALUE_CHARS);
  const wide = (value: string) => ({ listeners: [], routes: [], clusters: [{ name: 'c', resource: { 'a/b~': value, ...Object.fromEntries(Array.from({ length: MAX_PATHS + 5 }, (_, i) => [`k${i}`, value])) } }], endpoints: [] });
  const [change] = diffResources(wide('short'), wide(long));
  expect(change?.paths).toHaveLength(MAX_PATHS);
  expect(change?.morePaths).toBe(6);
  expect(change?.paths?.[0]).toEqual({ path: '/a~1b~0', label: 'a/b~', old: 'short', new: { $truncated: MAX_VALUE_CHARS + 2 } });
});

it('reports added and removed resources, and nothing for equal ones', () => {
  const same = resources([{ name: 'a' }], ['keep', 'old']);
  expect(diffResources(same, same)).toEqual([]);
  expect(diffResources(same, resources([{ name: 'a' }], ['keep', 'new']))).toEqual([
    { kind: 'cluster', name: 'new', change: 'added' },
    { kind: 'cluster', name: 'old', change: 'removed' },
  ]);
});
