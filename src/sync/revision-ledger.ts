// Which snapshot versions each revision of the desired state became (one set per node group),
// so "has revision N reached this proxy" is answerable: a proxy has applied N when the versions
// it ACKed are those of one group's snapshot of N or of a later revision. Per group it also keeps
// when each service's and listener's footprint changed (service-footprints.ts), so the same can be
// asked of one service: an unrelated rejected resource does not hold it back. Bounded history.

import { EMPTY_TYPE_VERSION } from '../xds/snapshot.js';
import { PUSH_ORDER, type ResourceTypeUrl } from '../xds/type-urls.js';
import type { Footprint, FootprintKey } from './service-footprints.js';

export type TypeVersions = Record<ResourceTypeUrl, string>;
export type AckedVersions = Partial<Record<ResourceTypeUrl, string | undefined>>;

/** One group's snapshot of a revision. */
export interface GroupBuild {
  group: string;
  versions: TypeVersions;
  footprints?: ReadonlyMap<FootprintKey, Footprint>;
}

/** What a proxy holds, as the ledger needs it. */
export interface HeldVersions {
  group: string;
  acked: AckedVersions;
  /** Types the proxy asked for at least once. */
  subscribed: ResourceTypeUrl[];
  /** Types it will ask for (they count only where there is none of them). */
  implied: ResourceTypeUrl[];
}

/** The units whose footprint of one type changed between two revisions. */
export interface ChangedUnits {
  keys: FootprintKey[];
  /** False when the history no longer reaches back far enough to tell. */
  known: boolean;
}

const DEFAULT_CAPACITY = 1000;

/** A footprint's digest from `revision` on (undefined: the unit had nothing of the type). */
interface Change {
  revision: number;
  digest: string | undefined;
}

class GroupHistory {
  /** Per type: each version seen and the newest revision it came from. */
  readonly newest = new Map<ResourceTypeUrl, Map<string, number>>();
  /** Per unit and type: the revisions at which its digest changed, oldest first. */
  readonly changes = new Map<FootprintKey, Map<ResourceTypeUrl, Change[]>>();
  private last = new Map<FootprintKey, Footprint>();

  constructor(readonly firstRevision: number) {}

  /** The units of the newest revision recorded. */
  units(): FootprintKey[] {
    return [...this.last.keys()];
  }

  record(revision: number, versions: TypeVersions, footprints: ReadonlyMap<FootprintKey, Footprint>): void {
    for (const typeUrl of PUSH_ORDER) {
      let byVersion = this.newest.get(typeUrl);
      if (!byVersion) this.newest.set(typeUrl, (byVersion = new Map()));
      byVersion.set(versions[typeUrl], revision);
    }
    for (const key of new Set([...this.last.keys(), ...footprints.keys()])) {
      const before = this.last.get(key) ?? {};
      const after = footprints.get(key) ?? {};
      for (const typeUrl of PUSH_ORDER) {
        if (before[typeUrl] === after[typeUrl]) continue;
        let byType = this.changes.get(key);
        if (!byType) this.changes.set(key, (byType = new Map()));
        let list = byType.get(typeUrl);
        if (!list) byType.set(typeUrl, (list = []));
        list.push({ revision, digest: after[typeUrl] });
      }
    }
    this.last = new Map(footprints);
  }

  /** The newest revision `version` of `typeUrl` came from. */
  revisionOf(typeUrl: ResourceTypeUrl, version: string | undefined): number | undefined {
    return version === undefined ? undefined : this.newest.get(typeUrl)?.get(version);
  }

  /** The revisions around `revision` over which the unit's digest of the type stays what it is there. */
  span(key: FootprintKey, typeUrl: ResourceTypeUrl, revision: number): { from: number; to: number; digest: string | undefined } {
    const list = this.changes.get(key)?.get(typeUrl) ?? [];
    let index = list.length - 1;
    while (index >= 0 && list[index]!.revision > revision) index--;
    return {
      from: index >= 0 ? list[index]!.revision : -Infinity,
      to: index + 1 < list.length ? list[index + 1]!.revision - 1 : Infinity,
      digest: index >= 0 ? list[index]!.digest : undefined,
    };
  }

  /** Forgets what only revisions older than `oldest` needed. */
  prune(oldest: number): void {
    for (const byVersion of this.newest.values()) {
      for (const [version, revision] of byVersion) if (revision < oldest) byVersion.delete(version);
    }
    for (const [key, byType] of this.changes) {
      for (const [typeUrl, list] of byType) {
        let drop = 0;
        while (drop + 1 < list.length && list[drop + 1]!.revision <= oldest) drop++;
        if (drop > 0) list.splice(0, drop);
        if (list.length === 1 && list[0]!.digest === undefined && list[0]!.revision <= oldest) byType.delete(typeUrl);
      }
      if (byType.size === 0) this.changes.delete(key);
    }
  }
}

/** Records between sweeps of the per-group histories (pruning each record would cost O(history)). */
const PRUNE_EVERY = 64;

export class RevisionLedger {
  private readonly entries: { revision: number; groups: TypeVersions[]; names: Set<string> }[] = [];
  private readonly histories = new Map<string, GroupHistory>();
  private recordsSincePrune = 0;
  private changes = 0;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Grows with every change of what the ledger answers: a reader's cached answers are good while it stays. */
  get generation(): number {
    return this.changes;
  }

  /**
   * `builds`: each group's snapshot of this revision. Recording the latest revision again adds the
   * groups built since (a group joins when a stream first asks).
   */
  record(revision: number, builds: readonly GroupBuild[]): void {
    const last = this.entries.at(-1);
    if (last && revision < last.revision) return;
    this.changes++;
    let entry = last;
    if (!entry || revision !== entry.revision) {
      entry = { revision, groups: [], names: new Set() };
      this.entries.push(entry);
    }
    const known = new Set(entry.groups.map((versions) => JSON.stringify(versions)));
    for (const build of builds) {
      if (!known.has(JSON.stringify(build.versions))) entry.groups.push(build.versions);
      if (entry.names.has(build.group)) continue;
      entry.names.add(build.group);
      let history = this.histories.get(build.group);
      if (!history) this.histories.set(build.group, (history = new GroupHistory(revision)));
      history.record(revision, build.versions, build.footprints ?? new Map());
    }
    if (this.entries.length > this.capacity) this.entries.shift();
    if (++this.recordsSincePrune >= PRUNE_EVERY) {
      this.recordsSincePrune = 0;
      const oldest = this.entries[0]!.revision;
      for (const history of this.histories.values()) history.prune(oldest);
    }
  }

  latest(): number | undefined {
    return this.entries.at(-1)?.revision;
  }

  /** The newest revision whose snapshot in `group` had this version of the type. */
  revisionOf(group: string, typeUrl: ResourceTypeUrl, version: string | undefined): number | undefined {
    return this.histories.get(group)?.revisionOf(typeUrl, version);
  }

  /** The services and listeners of the group's newest recorded revision. */
  units(group: string): FootprintKey[] {
    return this.histories.get(group)?.units() ?? [];
  }

  /** Forgets a group no stream reads any more. */
  dropGroup(group: string): void {
    if (this.histories.delete(group)) this.changes++;
  }

  /**
   * The newest revision one of whose groups' versions match what the proxy ACKed, for every type
   * it has subscribed to; undefined when none matches. A type it never asked for does not count,
   * except an `implied` one (it will ask for it soon: clients ask for the types one by one), which
   * matches only a revision that has none of it.
   */
  appliedRevision(acked: AckedVersions, subscribed: ResourceTypeUrl[], implied: ResourceTypeUrl[] = []): number | undefined {
    if (subscribed.length === 0) return undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      const matches = (versions: TypeVersions): boolean =>
        subscribed.every((typeUrl) => acked[typeUrl] === versions[typeUrl]) &&
        implied.every((typeUrl) => versions[typeUrl] === EMPTY_TYPE_VERSION);
      if (entry.groups.some(matches)) return entry.revision;
    }
    return undefined;
  }

  /**
   * The newest revision at which the unit (a service or a listener) was exactly what the proxy
   * holds of it: for every type it subscribed to, the unit's footprint in the snapshot the proxy
   * ACKed equals the footprint at that revision; a type it will ask for counts only where the
   * unit has none of it. Undefined when no revision the ledger knows qualifies. What other units
   * changed (or what the proxy rejected of them) does not matter.
   */
  unitAppliedRevision(key: FootprintKey, held: HeldVersions): number | undefined {
    const history = this.histories.get(held.group);
    const latest = this.latest();
    if (!history || latest === undefined || held.subscribed.length === 0) return undefined;
    let from = history.firstRevision;
    let to = latest;
    for (const typeUrl of held.subscribed) {
      const revision = history.revisionOf(typeUrl, held.acked[typeUrl]);
      if (revision === undefined) return undefined;
      const span = history.span(key, typeUrl, revision);
      from = Math.max(from, span.from);
      to = Math.min(to, span.to);
    }
    for (const typeUrl of held.implied) {
      const span = history.span(key, typeUrl, latest);
      if (span.digest !== undefined) return undefined;
      from = Math.max(from, span.from);
    }
    return from <= to ? to : undefined;
  }

  /**
   * The units whose footprint of `typeUrl` differs between the snapshots that carried two versions
   * of it (e.g. the version a proxy holds and the one it rejected), in the proxy's group.
   */
  changedUnits(group: string, typeUrl: ResourceTypeUrl, heldVersion: string | undefined, otherVersion: string): ChangedUnits {
    const history = this.histories.get(group);
    const other = history?.revisionOf(typeUrl, otherVersion);
    if (!history || other === undefined) return { keys: [], known: false };
    const held = history.revisionOf(typeUrl, heldVersion);
    const keys: FootprintKey[] = [];
    for (const [key, byType] of history.changes) {
      const list = byType.get(typeUrl);
      if (!list) continue;
      const changed =
        held === undefined
          ? history.span(key, typeUrl, other).digest !== undefined
          : history.span(key, typeUrl, held).digest !== history.span(key, typeUrl, other).digest;
      if (changed) keys.push(key);
    }
    return { keys: keys.sort(), known: heldVersion === undefined || held !== undefined };
  }
}
