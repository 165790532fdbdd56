// The empty-state guard's view of the fleet (XDS-NOTES §0.5): which snapshots come from a desired
// state with no service (the reconciler says), which streams keep a connecting proxy's
// configuration rather than replace it with an empty one (the xDS streams report it), a warning
// logged once per proxy, and what readiness and `/v1/proxies` say about it (a warning with code
// `empty-state-withheld` added to the proxy's `warnings`). Decides nothing the streams send;
// `--allow-empty` means main.ts builds none.

import type { Logger } from 'pino';
import type { Snapshot } from '../xds/snapshot.js';
import type { NodeInfo } from '../xds/server/messages.js';
import type { EmptyStateGuard } from '../xds/server/stream-base.js';
import { SHORT_TYPE_NAMES, type ResourceTypeUrl } from '../xds/type-urls.js';

export const ALLOW_EMPTY_HINT = 'start sluice with --allow-empty (SLUICE_ALLOW_EMPTY=true) to send it anyway';

export interface EmptyStateWatchOptions {
  /** Whether `snapshot` was built from a desired state with no service (Reconciler.builtFromEmptyState). */
  isEmpty(snapshot: Snapshot): boolean;
  logger: Logger;
}

export class EmptyStateWatch implements EmptyStateGuard {
  /** Per stream keeping its proxy's configuration: the node and the types withheld. */
  private readonly streams = new Map<number, { nodeId: string; types: ResourceTypeUrl[] }>();
  /** Nodes already warned about (until they are sent the state). */
  private readonly warned = new Set<string>();

  constructor(private readonly options: EmptyStateWatchOptions) {}

  isEmpty(snapshot: Snapshot): boolean {
    return this.options.isEmpty(snapshot);
  }

  withholding(streamId: number, node: NodeInfo, types: ResourceTypeUrl[]): void {
    if (types.length === 0) {
      const had = this.streams.get(streamId);
      this.streams.delete(streamId);
      // Sent the state (not merely disconnected): a later empty state warns again.
      if (had && !this.withheldTypes(node.id)) this.warned.delete(node.id);
      return;
    }
    this.streams.set(streamId, { nodeId: node.id, types });
    if (this.warned.has(node.id)) return;
    this.warned.add(node.id);
    const withheld = types.map((typeUrl) => SHORT_TYPE_NAMES[typeUrl]);
    this.options.logger.warn(
      { node: node.id, withheld },
      `sluice holds an empty state (no service) and ${node.id} connected holding configuration: withholding its ` +
        `${withheld.join(', ')} so it keeps serving what it has instead of deleting every listener and cluster; ` +
        `it gets the state once a service is defined, or ${ALLOW_EMPTY_HINT}`,
    );
  }

  /** The types withheld from a node over all its streams, or undefined when none is. */
  private withheldTypes(nodeId: string): ResourceTypeUrl[] | undefined {
    const types = new Set<ResourceTypeUrl>();
    for (const entry of this.streams.values()) if (entry.nodeId === nodeId) for (const typeUrl of entry.types) types.add(typeUrl);
    return types.size > 0 ? [...types] : undefined;
  }

  /** What `/v1/proxies` says of a node whose configuration is kept, or undefined. */
  warningFor(nodeId: string): string | undefined {
    const types = this.withheldTypes(nodeId);
    if (!types) return undefined;
    return (
      `sluice holds an empty state (no service); this proxy connected holding configuration, so its ` +
      `${types.map((typeUrl) => SHORT_TYPE_NAMES[typeUrl]).join(', ')} are withheld and it keeps serving what it has ` +
      `until a service is defined (or ${ALLOW_EMPTY_HINT})`
    );
  }

  /** Why sluice is not ready, while proxies with configuration are connected to an empty state. */
  readinessProblem(): string | undefined {
    const nodes = new Set([...this.streams.values()].map((entry) => entry.nodeId));
    if (nodes.size === 0) return undefined;
    const names = [...nodes].sort();
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
    return (
      `sluice holds an empty state (no service) while proxies with configuration are connected (${shown}); ` +
      `their configuration is kept, not replaced. Define a service, point sluice at the right state, or ${ALLOW_EMPTY_HINT}.`
    );
  }
}

export const EMPTY_STATE_WARNING = 'empty-state-withheld';

/** The proxies of `list`, each with the empty-state warning added to its `warnings` while it has one. */
export function withEmptyStateWarnings<Proxy extends { node: { id: string } }>(
  list: () => Proxy[],
  watch: Pick<EmptyStateWatch, 'warningFor'> | undefined,
): { list(): Proxy[] } {
  return {
    list: () =>
      list().map((proxy) => {
        const message = watch?.warningFor(proxy.node.id);
        if (message === undefined) return proxy;
        const existing = (proxy as { warnings?: unknown }).warnings;
        const warnings = [...(Array.isArray(existing) ? existing : []), { code: EMPTY_STATE_WARNING, message }];
        return { ...proxy, warnings };
      }),
  };
}
