// Which snapshot versions each revision of the desired state became, so "has revision N reached
// this proxy" is answerable: a proxy has applied N when the versions it ACKed are those of N or
// of a later revision. Keeps a bounded history.

import type { ResourceTypeUrl } from '../xds/type-urls.js';

export type TypeVersions = Record<ResourceTypeUrl, string>;

const DEFAULT_CAPACITY = 1000;

export class RevisionLedger {
  private readonly entries: { revision: number; versions: TypeVersions }[] = [];

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  record(revision: number, versions: TypeVersions): void {
    const last = this.entries.at(-1);
    if (last && revision <= last.revision) return;
    this.entries.push({ revision, versions });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  latest(): number | undefined {
    return this.entries.at(-1)?.revision;
  }

  /**
   * The newest revision whose versions match what the proxy ACKed, for every type it has
   * subscribed to (types it never asked for do not count); undefined when none matches.
   */
  appliedRevision(acked: Partial<Record<ResourceTypeUrl, string | undefined>>, subscribed: ResourceTypeUrl[]): number | undefined {
    if (subscribed.length === 0) return undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if (subscribed.every((typeUrl) => acked[typeUrl] === entry.versions[typeUrl])) return entry.revision;
    }
    return undefined;
  }
}
