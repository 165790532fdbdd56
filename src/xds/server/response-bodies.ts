// The bytes of responses, everything but the nonce, encoded once and shared by every stream that
// sends the same: a push to N proxies encodes one body and each stream only appends its nonce
// (state of the world: type, version and resources; delta: also what it removes). Bounded; knows
// nothing of streams or of the protocols' rules.

import type { EncodedResource } from '../snapshot.js';
import type { ResourceTypeUrl } from '../type-urls.js';
import { encodeDeltaResponseBody, encodeResponseBody } from './messages.js';

/** Bodies kept: each snapshot's types in a few shapes (wildcard, named subsets, clusters kept for make-before-break). */
export const MAX_BODIES = 256;

export class ResponseBodies {
  private readonly bodies = new Map<string, Buffer>();

  constructor(private readonly controlPlaneId: string) {}

  /**
   * The encoded body of a state-of-the-world response carrying `resources` of `typeUrl` at `version`, in this order;
   * `whole`: they are the snapshot's whole set of the type (its version then says which).
   */
  body(typeUrl: ResourceTypeUrl, version: string, resources: readonly EncodedResource[], whole: boolean): Buffer {
    // A resource's version is a hash of its bytes: type, response version and the resources' names
    // and versions determine the body.
    let key = `${typeUrl}\n${version}\n${whole ? '*' : ''}`;
    if (!whole) for (const resource of resources) key += `\n${resource.name}\n${resource.version}`;
    const cached = this.bodies.get(key);
    if (cached) return cached;
    const body = encodeResponseBody({
      version_info: version,
      resources: resources.map((r) => ({ type_url: typeUrl, value: r.bytes })),
      type_url: typeUrl,
      control_plane: { identifier: this.controlPlaneId },
    });
    this.keep(key, body);
    return body;
  }

  /** The encoded body of a delta response carrying `resources` and removing `removed`, at `systemVersion`. */
  deltaBody(typeUrl: ResourceTypeUrl, systemVersion: string, resources: readonly EncodedResource[], removed: readonly string[]): Buffer {
    let key = `delta\n${typeUrl}\n${systemVersion}`;
    for (const resource of resources) key += `\n${resource.name}\n${resource.version}`;
    key += '\n-';
    for (const name of removed) key += `\n${name}`;
    const cached = this.bodies.get(key);
    if (cached) return cached;
    const body = encodeDeltaResponseBody({
      system_version_info: systemVersion,
      resources: resources.map((r) => ({ name: r.name, version: r.version, resource: { type_url: typeUrl, value: r.bytes } })),
      type_url: typeUrl,
      removed_resources: [...removed],
      control_plane: { identifier: this.controlPlaneId },
    });
    this.keep(key, body);
    return body;
  }

  private keep(key: string, body: Buffer): void {
    if (this.bodies.size >= MAX_BODIES) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, body);
  }
}
