// An immutable snapshot of every resource a node group should have, each encoded once at build
// (reused when unchanged); a resource's version hashes its bytes, a type's its names and versions,
// so the same state gives the same versions anywhere, and a response keeping dropped resources gets
// a version no snapshot can have. Sends nothing and knows no stream.

import { createHash } from 'node:crypto';
import { encodeResource } from './codec.js';
import { PUSH_ORDER, type ResourceTypeUrl } from './type-urls.js';

export interface ResourceInput {
  name: string;
  resource: unknown;
}

export interface EncodedResource {
  readonly name: string;
  readonly version: string;
  readonly typeUrl: ResourceTypeUrl;
  readonly bytes: Uint8Array;
  /** The canonical JSON the bytes were encoded from, to reuse the encoding when unchanged. */
  readonly json: string;
}

export interface TypeSnapshot {
  readonly version: string;
  /** Sorted by name. */
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** The same resources as a list, in the same order (shared by every stream sending the whole set). */
  readonly list: readonly EncodedResource[];
}

export type SnapshotInput = Record<ResourceTypeUrl, ResourceInput[]>;

function digest(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

function typeVersion(resources: Iterable<{ name: string; version: string }>): string {
  const lines: string[] = [];
  for (const resource of resources) lines.push(`${resource.name}\t${resource.version}`);
  return digest(lines.join('\n'));
}

/**
 * The version of a response that still carries resources the snapshot dropped (clusters waiting
 * for the routes that named them to be replaced): never a snapshot's version, so no revision
 * counts it as applied and the snapshot's own response is still due afterwards.
 */
export function retainingVersion(snapshotVersion: string, retained: Iterable<{ name: string; version: string }>): string {
  return `${snapshotVersion}+retained-${typeVersion(retained)}`;
}

/** The version of a type that holds no resource (e.g. a group without routes). */
export const EMPTY_TYPE_VERSION = typeVersion([]);

export class Snapshot {
  private constructor(private readonly types: ReadonlyMap<ResourceTypeUrl, TypeSnapshot>) {}

  /**
   * Encodes the resources of every type. Resources whose JSON equals the previous snapshot's, or
   * one already in `shared` (snapshots of other groups built from the same state), are not
   * encoded again; `encoded` counts those that were.
   */
  static build(input: SnapshotInput, previous?: Snapshot, shared?: Map<string, EncodedResource>): { snapshot: Snapshot; encoded: number } {
    let encoded = 0;
    const types = new Map<ResourceTypeUrl, TypeSnapshot>();
    for (const typeUrl of PUSH_ORDER) {
      const sorted = [...input[typeUrl]].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const resources = new Map<string, EncodedResource>();
      for (const { name, resource } of sorted) {
        if (resources.has(name)) throw new Error(`two ${typeUrl} resources are named ${name}`);
        const json = JSON.stringify(resource);
        const before = previous?.resource(typeUrl, name);
        const sharedKey = `${typeUrl}\n${name}\n${json}`;
        const reusable = before && before.json === json ? before : shared?.get(sharedKey);
        if (reusable) {
          resources.set(name, reusable);
          shared?.set(sharedKey, reusable);
          continue;
        }
        const bytes = encodeResource(typeUrl, resource);
        encoded++;
        const fresh: EncodedResource = { name, typeUrl, bytes, json, version: digest(bytes) };
        resources.set(name, fresh);
        shared?.set(sharedKey, fresh);
      }
      types.set(typeUrl, { version: typeVersion(resources.values()), resources, list: [...resources.values()] });
    }
    return { snapshot: new Snapshot(types), encoded };
  }

  type(typeUrl: ResourceTypeUrl): TypeSnapshot {
    const type = this.types.get(typeUrl);
    if (!type) throw new Error(`snapshot has no ${typeUrl}`);
    return type;
  }

  resource(typeUrl: ResourceTypeUrl, name: string): EncodedResource | undefined {
    return this.types.get(typeUrl)?.resources.get(name);
  }

  /** Per-type versions, e.g. to record which snapshot a revision became. */
  versions(): Record<ResourceTypeUrl, string> {
    const out = {} as Record<ResourceTypeUrl, string>;
    for (const typeUrl of PUSH_ORDER) out[typeUrl] = this.type(typeUrl).version;
    return out;
  }
}
