// Golden translator cases: each `in/<case>.yaml` desired state must translate to exactly the
// resources in `out/<case>.<kind>.yaml`, and every resource must pass strict encoding. Cases named
// `grpc-*` use the proxyless gRPC client flavour, `pre-1.36-*` Envoy's for Envoys older than 1.36
// (no use_hash_policy), the others Envoy's.
// Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/golden` (orphaned outputs are deleted).

import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DesiredState } from '../../src/model/types.js';
import { validateState } from '../../src/model/validate.js';
import { translate, translateForGrpcClients } from '../../src/translate/translate.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { encodeResource } from '../../src/xds/codec.js';
import { PUSH_ORDER } from '../../src/xds/type-urls.js';

const here = dirname(fileURLToPath(import.meta.url));
const inputs = join(here, 'in');
const outputs = join(here, 'out');
const update = process.env['UPDATE_GOLDEN'] === '1';
const KINDS = ['listeners', 'routes', 'clusters', 'endpoints'] as const;

const cases = readdirSync(inputs)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => basename(file, '.yaml'))
  .sort();

if (update) {
  mkdirSync(outputs, { recursive: true });
  for (const file of readdirSync(outputs)) {
    if (!cases.includes(file.split('.')[0]!)) unlinkSync(join(outputs, file));
  }
}

describe('translate golden cases', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));

  for (const name of cases) {
    it(name, () => {
      const state = parse(readFileSync(join(inputs, `${name}.yaml`), 'utf8')) as DesiredState;
      validateState(state);
      const resources = name.startsWith('grpc-')
        ? translateForGrpcClients(state)
        : translate(state, name.startsWith('pre-1.36-') ? { capabilities: { hashSplit: false } } : {});
      for (const kind of KINDS) {
        const file = join(outputs, `${name}.${kind}.yaml`);
        const actual = stringify(resources[kind], { lineWidth: 0, aliasDuplicateObjects: false });
        if (update) writeFileSync(file, actual);
        expect(existsSync(file), `${file} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
        expect(actual).toBe(readFileSync(file, 'utf8'));
      }
      const input = snapshotInput(resources);
      for (const typeUrl of PUSH_ORDER) {
        for (const { resource } of input[typeUrl]) expect(() => encodeResource(typeUrl, resource)).not.toThrow();
      }
    });
  }
});
