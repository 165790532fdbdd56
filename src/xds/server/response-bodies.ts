// The bytes of state-of-the-world responses, everything but the nonce, encoded once and shared by
// every stream that sends the same type, version and resources: a push to N proxies encodes one
// body and each stream only appends its nonce. Bounded; knows nothing of streams or nonces' rules.

import type { EncodedResource } from '../snapshot.js';
import type { ResourceTypeUrl } from '../type-urls.js';
import { encodeResponseBody } from './messages.js';

/** Bodies kept: each snapshot's types in a few shapes (wildcard, named subsets, clusters kept for make-before-break). */
export const MAX_BODIES = 256;

export class ResponseBodies {
  private readonly bodies = new Map<string, Buffer>();

  constructor(private readonly controlPlaneId: string) {}

  /**
   * The encoded body of a response carrying `resources` of `typeUrl` at `version`, in this order;
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
    if (this.bodies.size >= MAX_BODIES) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, body);
    return body;
  }
}
