// The file `apply` and `diff` read (YAML, or JSON by its `.json` extension): one service body
// with its name in `name`, or `{services: {NAME: body}, listeners: {NAME: body}}`. Turns it into
// the PUTs to make, listeners first; `rollout start -f` reads its document the same way. Reads and
// parses; validating the bodies is the server's.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ListenerBody, ServiceBody } from '../model/schema.js';
import { pointerToken } from '../model/json-pointer.js';
import { CliError, EXIT_USAGE } from './cli-error.js';

export type FileResource =
  | { kind: 'listener'; name: string; body: ListenerBody; pointer: string }
  | { kind: 'service'; name: string; body: ServiceBody; pointer: string };

const BUNDLE_KEYS = ['listeners', 'services'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fileError(file: string, message: string): CliError {
  return new CliError(`${file}: ${message}`, EXIT_USAGE);
}

/** Where a resource of the file is PUT; a service's with `?override=rollout` under --force (listeners have no rollouts). */
export function resourcePath(resource: FileResource, force: boolean | undefined): string {
  const path = `/v1/${resource.kind}s/${encodeURIComponent(resource.name)}`;
  return resource.kind === 'service' && force === true ? `${path}?override=rollout` : path;
}

/** The YAML (or, by its `.json` extension, JSON) document in `file`; an unreadable or malformed one is a CliError (exit 2). */
export async function parseFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fileError(file, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(error)})`);
  }
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw fileError(file, `not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
}

function bodiesOf(file: string, document: Record<string, unknown>, key: (typeof BUNDLE_KEYS)[number]): [string, unknown][] {
  const section = document[key];
  if (section === undefined) return [];
  if (!isObject(section)) throw fileError(file, `"${key}" must map names to bodies`);
  return Object.entries(section);
}

/**
 * The resources in `file`, listeners before services (a service may use a listener the file
 * defines); a single service body without `name` is named `unnamed` when that is given.
 */
export async function readResourceFile(file: string, unnamed?: string): Promise<FileResource[]> {
  const document = await parseFile(file);
  if (!isObject(document)) throw fileError(file, 'must hold an object: a service body, or {services: …, listeners: …}');
  const isBundle = BUNDLE_KEYS.some((key) => key in document);
  if (!isBundle) {
    const name = document['name'] ?? unnamed;
    if (typeof name !== 'string') {
      throw fileError(file, 'a service body needs its name in a "name" field (or use the {services: {NAME: body}} form)');
    }
    return [{ kind: 'service', name, body: document as unknown as ServiceBody, pointer: '' }];
  }
  const unknown = Object.keys(document).filter((key) => !(BUNDLE_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw fileError(file, `unknown top-level field "${unknown[0]}" (expected "services" and/or "listeners")`);
  const resources: FileResource[] = [
    ...bodiesOf(file, document, 'listeners').map(([name, body]) => ({
      kind: 'listener' as const,
      name,
      body: body as ListenerBody,
      pointer: `/listeners/${pointerToken(name)}`,
    })),
    ...bodiesOf(file, document, 'services').map(([name, body]) => ({
      kind: 'service' as const,
      name,
      body: body as ServiceBody,
      pointer: `/services/${pointerToken(name)}`,
    })),
  ];
  if (resources.length === 0) throw fileError(file, 'names no service and no listener');
  return resources;
}
