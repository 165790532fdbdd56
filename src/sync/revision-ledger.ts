// Which snapshot versions each revision of the desired state became (one set per node group),
// so "has revision N reached this proxy" is answerable: a proxy has applied N when the versions
// it ACKed are those of one group's snapshot of N or of a later revision. Keeps a bounded history.

import { EMPTY_TYPE_VERSION } from '../xds/snapshot.js';
import type { ResourceTypeUrl } from '../xds/type-urls.js';

export type TypeVersions = Record<ResourceTypeUrl, string>;

const DEFAULT_CAPACITY = 1000;

export class RevisionLedger {
  private readonly entries: { revision: number; groups: TypeVersions[] }[] = [];

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /**
   * `groups`: the per-type versions of each group's snapshot of this revision. Recording the
   * latest revision again adds the groups built since (a group joins when a stream first asks).
   */
  record(revision: number, ...groups: TypeVersions[]): void {
    const last = this.entries.at(-1);
    if (last && revision < last.revision) return;
    if (last && revision === last.revision) {
      const known = new Set(last.groups.map((versions) => JSON.stringify(versions)));
      last.groups.push(...groups.filter((versions) => !known.has(JSON.stringify(versions))));
      return;
    }
    this.entries.push({ revision, groups });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  latest(): number | undefined {
    return this.entries.at(-1)?.revision;
  }

  /**
   * The newest revision one of whose groups' versions match what the proxy ACKed, for every type
   * it has subscribed to; undefined when none matches. A type it never asked for does not count,
   * except an `implied` one (it will ask for it soon: clients ask for the types one by one), which
   * matches only a revision that has none of it.
   */
  appliedRevision(
    acked: Partial<Record<ResourceTypeUrl, string | undefined>>,
    subscribed: ResourceTypeUrl[],
    implied: ResourceTypeUrl[] = [],
  ): number | undefined {
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
}
