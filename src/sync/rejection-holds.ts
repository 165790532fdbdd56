// Holding back, for one proxy, a change it rejected, so that every other change still reaches it:
// when a proxy NACKs a resource type, the services and listeners that changed in the rejected version
// (the ledger's suspects) are held for that node at what it last accepted, and its streams move to
// a group of their own built from the desired state with those units as they were — a held service
// still takes its current weights, so a rollback or an abort reaches it. Other proxies are untouched.
// A hold ends when the unit changes otherwise (a fix is tried) or the node disconnects.

import type { Logger } from 'pino';
import type { FleetStatus, ProxyStatus } from '../fleet/status.js';
import type { DesiredState, Listener, Service } from '../model/types.js';
import { PUSH_ORDER, SHORT_TYPE_NAMES } from '../xds/type-urls.js';
import type { HeldUnit } from '../api/fleet.js';
import { currentNack, nodeGroupOf, type HoldsView, type NodeGrouping } from './proxy-report.js';
import type { GroupVariants } from './reconciler.js';
import type { RevisionLedger } from './revision-ledger.js';
import { footprintUnit, type FootprintKey } from './service-footprints.js';

interface Hold extends HeldUnit {
  key: FootprintKey;
  /** What the proxy last accepted of the unit; undefined: it had none (the unit is left out). */
  accepted: Service | Listener | undefined;
  /** The rejected definition, weights aside: another one ends the hold. */
  rejectedSpec: string;
}

interface NodeHolds {
  holds: Map<FootprintKey, Hold>;
  /** The variant group its streams read; changes whenever the holds do. */
  variant: string;
  base: string;
  /** NACKs already looked at (type, version, time). */
  seen: Set<string>;
}

export interface RejectionHoldsOptions {
  fleet: Pick<FleetStatus, 'list' | 'onChange' | 'counters'>;
  ledger: RevisionLedger;
  /** The desired state of a recent build (what a proxy accepted came from one). */
  stateAt(revision: number): DesiredState | undefined;
  current(): DesiredState;
  /** The group a node's streams read when nothing is held for it (the reconciler's). */
  groupOf: NodeGrouping;
  /** Streams must ask for their group again (a node's holds changed). */
  regroup(): void;
  logger: Logger;
}

/** JSON with sorted keys: equal for equal definitions whatever order their fields were set in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function unitOf(state: DesiredState, key: FootprintKey): Service | Listener | undefined {
  const { kind, name } = footprintUnit(key);
  const units: Record<string, Service | Listener> = kind === 'service' ? state.services : state.listeners;
  return Object.hasOwn(units, name) ? units[name] : undefined;
}

/** A definition without what an emergency may change (a service's weights and stable version). */
function specOf(unit: Service | Listener | undefined): string {
  if (unit === undefined) return 'none';
  if ('weights' in unit) return canonical({ ...unit, weights: undefined, stable: undefined });
  return canonical(unit);
}

function sameVersionNames(a: Service, b: Service): boolean {
  return canonical(a.versions.map((v) => v.name).sort()) === canonical(b.versions.map((v) => v.name).sort());
}

/** The desired state with the held units as the node accepted them (services take today's weights). */
export function withHolds(state: DesiredState, holds: Iterable<Hold>): DesiredState {
  const listeners: Record<string, Listener> = { ...state.listeners };
  const services: Record<string, Service> = { ...state.services };
  for (const hold of holds) {
    const { kind, name } = footprintUnit(hold.key);
    if (kind === 'listener') {
      if (hold.accepted) listeners[name] = hold.accepted as Listener;
      else delete listeners[name];
      continue;
    }
    const accepted = hold.accepted as Service | undefined;
    const desired = Object.hasOwn(state.services, name) ? state.services[name] : undefined;
    if (!accepted) delete services[name];
    else services[name] = desired && sameVersionNames(desired, accepted) ? { ...accepted, weights: desired.weights, stable: desired.stable } : accepted;
  }
  for (const [name, service] of Object.entries(services)) if (!Object.hasOwn(listeners, service.listener)) delete services[name];
  return { ...state, listeners, services };
}

export class RejectionHolds implements GroupVariants, HoldsView {
  private readonly byNode = new Map<string, NodeHolds>();
  /** Every variant group still built, with the node and base group it stands for. */
  private readonly variants = new Map<string, { node: string; base: string }>();
  private counter = 0;
  private changes = 0;
  private stopFleet: (() => void) | undefined;
  /** The fleet's NACK count at the last review: without new NACKs or holds there is nothing to look at. */
  private nacksReviewed = 0;

  constructor(private readonly options: RejectionHoldsOptions) {}

  start(): void {
    this.stopFleet = this.options.fleet.onChange(() => this.review());
  }

  stop(): void {
    this.stopFleet?.();
  }

  groupFor(nodeId: string, base: string): string {
    const node = this.byNode.get(nodeId);
    return node && node.base === base ? node.variant : base;
  }

  groupOf(proxy: ProxyStatus): string {
    return this.groupFor(proxy.node.id, nodeGroupOf(proxy, this.options.groupOf));
  }

  get generation(): number {
    return this.changes;
  }

  heldFor(nodeId: string): HeldUnit[] {
    const holds = this.byNode.get(nodeId)?.holds;
    if (holds === undefined || holds.size === 0) return [];
    return [...holds.values()].map(({ unit, name, since, type, message, at }) => ({ unit, name, since, type, message, at }));
  }

  baseOf(group: string): string | undefined {
    return this.variants.get(group)?.base;
  }

  adjust(group: string, state: DesiredState): DesiredState {
    const variant = this.variants.get(group);
    const node = variant && this.byNode.get(variant.node);
    if (!node || node.variant !== group) return state;
    return withHolds(state, node.holds.values());
  }

  forget(group: string): void {
    this.variants.delete(group);
  }

  /** A new desired state: holds whose unit changed otherwise than in weights end (the change is tried). */
  stateChanged(state: DesiredState): void {
    let changed = false;
    for (const [nodeId, node] of this.byNode) {
      let released = false;
      for (const [key, hold] of node.holds) {
        if (specOf(unitOf(state, key)) === hold.rejectedSpec) continue;
        node.holds.delete(key);
        released = true;
        this.options.logger.info({ node: nodeId, [hold.unit]: hold.name }, 'the held change was changed again; trying it on the proxy');
      }
      if (released) this.renew(nodeId, node);
      changed ||= released;
    }
    if (changed) this.options.regroup();
  }

  /** Looks at the fleet: new NACKs start holds, nodes gone end theirs. */
  private review(): void {
    const { fleet, ledger } = this.options;
    if (fleet.counters.nacks === this.nacksReviewed && this.byNode.size === 0) return;
    this.nacksReviewed = fleet.counters.nacks;
    const proxies = fleet.list();
    const connected = new Set(proxies.map((proxy) => proxy.node.id));
    let changed = false;
    for (const nodeId of this.byNode.keys()) {
      if (connected.has(nodeId)) continue;
      this.byNode.delete(nodeId);
      this.changes++;
      changed = true;
    }
    for (const proxy of proxies) {
      if (proxy.streams.length === 0) continue;
      const base = nodeGroupOf(proxy, this.options.groupOf);
      const group = this.groupFor(proxy.node.id, base);
      for (const typeUrl of PUSH_ORDER) {
        const status = proxy.types[typeUrl];
        const nack = currentNack(status);
        if (!nack) continue;
        const node = this.byNode.get(proxy.node.id);
        const seenKey = `${typeUrl}\n${nack.version}\n${nack.at}`;
        if (node?.seen.has(seenKey)) continue;
        const rejected = ledger.revisionOf(group, typeUrl, nack.version);
        const accepted = ledger.revisionOf(group, typeUrl, status?.ackedVersion);
        const suspects = ledger.changedUnits(group, typeUrl, status?.ackedVersion, nack.version);
        // Nothing accepted of the type yet: nothing to fall back to (every unit would be a suspect).
        const acceptedState = accepted === undefined ? undefined : this.options.stateAt(accepted);
        if (rejected === undefined || !acceptedState || !suspects.known) continue;
        const holds = node ?? { holds: new Map(), variant: base, base, seen: new Set<string>() };
        // Its listeners' node selectors may have moved the node to another group since its last hold.
        if (holds.base !== base) {
          holds.base = base;
          this.renew(proxy.node.id, holds);
          changed = true;
        }
        holds.seen.add(seenKey);
        const current = this.options.current();
        let added = false;
        for (const key of suspects.keys) {
          if (holds.holds.has(key)) continue;
          const { kind, name } = footprintUnit(key);
          holds.holds.set(key, {
            key,
            unit: kind,
            name,
            since: rejected,
            type: SHORT_TYPE_NAMES[typeUrl],
            message: nack.message,
            at: nack.at,
            accepted: unitOf(acceptedState, key),
            rejectedSpec: specOf(unitOf(current, key)),
          });
          added = true;
          this.options.logger.warn(
            { node: proxy.node.id, [kind]: name, type: SHORT_TYPE_NAMES[typeUrl], revision: rejected, error: nack.message },
            `holding back the change to ${kind} ${name} for this proxy, which rejected it; it gets everything else`,
          );
        }
        this.byNode.set(proxy.node.id, holds);
        if (added) {
          this.renew(proxy.node.id, holds);
          changed = true;
        }
      }
    }
    if (changed) this.options.regroup();
  }

  /** The node's holds changed: a new variant group (or its base again when none is left). */
  private renew(nodeId: string, node: NodeHolds): void {
    this.changes++;
    if (node.holds.size === 0) {
      node.variant = node.base;
      return;
    }
    node.variant = `${node.base}@held-${++this.counter}`;
    this.variants.set(node.variant, { node: nodeId, base: node.base });
  }
}
