// The per-resource diff on its own: named arrays matched by name (and a change of their order
// reported), unnamed arrays by index, added and removed paths, resources sorted by kind and name.

import { expect, it } from 'vitest';
import { diffResources } from '../../src/cli/resource-diff.js';
import type { TranslatedResources } from '../../src/translate/resources.js';

function resources(routes: unknown[], clusters: string[] = []): TranslatedResources {
  return {
    listeners: [],
    routes: [{ name: 'default', resource: { name: 'default', virtual_hosts: [{ name: '*', routes }] } }],
    clusters: clusters.map((name) => ({ name, resource: { name } })),
    endpoints: [],
  };
}

it('matches named elements by name and reports a change of their order', () => {
  const before = resources([
    { name: 'a', tags: ['x', 'y'] },
    { name: 'b', timeout: '30s' },
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
        { path: 'virtual_hosts["*"].routes (order)', old: ['a', 'b'], new: ['b', 'a', 'c'] },
        { path: 'virtual_hosts["*"].routes["a"].tags[1]', old: 'y' },
        { path: 'virtual_hosts["*"].routes["b"].timeout', old: '30s', new: '5s' },
        { path: 'virtual_hosts["*"].routes["c"]', new: { name: 'c' } },
      ],
    },
  ]);
});

it('reports added and removed resources whole, and nothing for equal ones', () => {
  const same = resources([{ name: 'a' }], ['keep', 'old']);
  expect(diffResources(same, same)).toEqual([]);
  expect(diffResources(same, resources([{ name: 'a' }], ['keep', 'new']))).toEqual([
    { kind: 'cluster', name: 'new', change: 'added', resource: { name: 'new' } },
    { kind: 'cluster', name: 'old', change: 'removed', resource: { name: 'old' } },
  ]);
});
