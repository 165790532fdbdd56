// The demo's running commentary: one readable line per thing that happened — a commit of the
// desired state (weights, promote, rollback, each rollout decision, anything else by its audit
// summary; with the actor and revision from the audit entry), a proxy connecting or leaving, and
// a NACK with Envoy's own message. The line makers are pure; `narrate` wires them to the store's
// commit notifications and the fleet status's change notifications. Reads only; changes nothing.

import type { FleetStatus, ProxyStatus } from '../src/fleet/status.js';
import { describeDecision } from '../src/model/rollout.js';
import type { DesiredState, Weights } from '../src/model/types.js';
import type { AuditEntry, AuditQuery } from '../src/state/state-adapter.js';
import { SHORT_TYPE_NAMES, type ResourceTypeUrl } from '../src/xds/type-urls.js';

/** What the narrator reads of the store: the state, its commits and their audit entries. */
export interface NarratedStore {
  current(): DesiredState;
  subscribe(fn: (state: DesiredState) => void): () => void;
  audit(query: AuditQuery): Promise<AuditEntry[]>;
}

export type NarratedFleet = Pick<FleetStatus, 'list' | 'onChange'>;

/** Commits narrated one by one when several land between two notifications (another replica's). */
const MAX_ENTRIES_PER_COMMIT = 20;

function byline(entry: Pick<AuditEntry, 'actor' | 'revision'>): string {
  return `(by ${entry.actor}, revision ${entry.revision})`;
}

/** `blue 90 → 50, green 10 → 50`: every version of the service, an arrow where its weight changed. */
export function weightChanges(before: Weights | undefined, after: Weights, order: string[]): string {
  const names = [...new Set([...order, ...Object.keys(after)])];
  return names
    .map((name) => {
      const from = before?.[name] ?? 0;
      const to = after[name] ?? 0;
      return from === to ? `${name} ${to}` : `${name} ${from} → ${to}`;
    })
    .join(', ');
}

/**
 * The lines for one commit: `previous` is the state it was applied to (used only for the weights
 * it changed), `state` the state it made.
 */
export function commitLines(entry: AuditEntry, previous: DesiredState | undefined, state: DesiredState | undefined): string[] {
  const change = entry.change;
  const by = byline(entry);
  switch (change.kind) {
    case 'setWeights':
    case 'promote':
    case 'rollback': {
      const service = state?.services[change.name];
      if (!service) break;
      const weights = weightChanges(previous?.services[change.name]?.weights, service.weights, service.versions.map((v) => v.name));
      if (change.kind === 'setWeights') return [`weights ${change.name}: ${weights} ${by}`];
      if (change.kind === 'promote') return [`promote ${change.name}: ${service.stable} is stable; ${weights} ${by}`];
      return [`rollback ${change.name}: all traffic back to stable ${service.stable}; ${weights} ${by}`];
    }
    case 'rolloutUpdate':
      if (change.decisions.length === 0) break;
      return change.decisions.map((decision) => `rollout ${change.name}: ${describeDecision(decision)} ${by}`);
  }
  return [`${entry.summary} ${by}`];
}

function clientText(proxy: ProxyStatus): string {
  const client = proxy.envoyVersion ? `envoy ${proxy.envoyVersion}` : `${proxy.userAgent} ${proxy.clientVersion}`.trim();
  const transport = proxy.streams.some((s) => s.aggregated) ? 'ADS' : 'per-type services';
  const kind = proxy.streams[0]?.kind === 'delta' ? ' (delta)' : '';
  return [client, proxy.node.cluster ? `node cluster ${proxy.node.cluster}` : '', `${transport}${kind}`].filter(Boolean).join(', ');
}

/**
 * Turns successive fleet views into lines: proxies that appeared or went, and NACKs not seen
 * before. Remembers only the ids and the NACKs it already told of.
 */
export class FleetNarrator {
  private readonly connected = new Set<string>();
  private readonly nacksSeen = new Set<string>();

  update(proxies: ProxyStatus[]): string[] {
    const lines: string[] = [];
    const now = new Set(proxies.map((p) => p.node.id));
    for (const proxy of proxies) {
      if (!this.connected.has(proxy.node.id)) lines.push(`proxy ${proxy.node.id} connected (${clientText(proxy)})`);
      for (const [typeUrl, status] of Object.entries(proxy.types) as [ResourceTypeUrl, NonNullable<ProxyStatus['types'][ResourceTypeUrl]>][]) {
        const nack = status.lastNack;
        if (!nack) continue;
        const key = JSON.stringify([proxy.node.id, typeUrl, nack.version, nack.at, nack.message]);
        if (this.nacksSeen.has(key)) continue;
        this.nacksSeen.add(key);
        lines.push(`NACK from ${proxy.node.id}: rejected ${SHORT_TYPE_NAMES[typeUrl]} version ${nack.version}: ${nack.message}`);
      }
    }
    for (const id of this.connected) {
      if (!now.has(id)) {
        lines.push(`proxy ${id} disconnected`);
        for (const key of this.nacksSeen) if ((JSON.parse(key) as string[])[0] === id) this.nacksSeen.delete(key);
      }
    }
    this.connected.clear();
    for (const id of now) this.connected.add(id);
    return lines;
  }
}

/**
 * Writes a line for each proxy connected now, then for every commit and fleet event from now on,
 * in commit order (each commit's audit entries are read before the next commit's). Returns the
 * function that stops it.
 */
export function narrate(store: NarratedStore, fleet: NarratedFleet, write: (line: string) => void): () => void {
  let previous = store.current();
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  const emit = (lines: string[]): void => {
    if (!stopped) for (const line of lines) write(line);
  };

  const told = async (before: DesiredState, state: DesiredState): Promise<void> => {
    const count = Math.min(state.revision - before.revision, MAX_ENTRIES_PER_COMMIT);
    if (count <= 0) return;
    const entries = (await store.audit({ limit: count, before: state.revision + 1 }).catch(() => []))
      .filter((entry) => entry.revision > before.revision)
      .reverse();
    if (entries.length === 0) return emit([`revision ${state.revision} committed`]);
    // Only a single commit has both of its states at hand; others are told by their summaries.
    for (const entry of entries) {
      emit(entries.length === 1 ? commitLines(entry, before, state) : [`${entry.summary} ${byline(entry)}`]);
    }
  };

  const stopCommits = store.subscribe((state) => {
    const before = previous;
    previous = state;
    queue = queue.then(() => told(before, state));
  });

  // Proxies connected already (the demo's Envoy, by the time it narrates) are told first.
  const proxies = new FleetNarrator();
  emit(proxies.update(fleet.list()));
  const stopFleet = fleet.onChange(() => emit(proxies.update(fleet.list())));

  return () => {
    stopped = true;
    stopCommits();
    stopFleet();
  };
}
