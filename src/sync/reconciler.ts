// The only bridge between the desired state and xDS: on every committed revision it translates
// the state, builds a snapshot (encoding only what changed), hands it to the cache and records
// which versions the revision became. Bursts are coalesced: the first change after a quiet
// period goes out at once, later ones within the hold-off ride together.

import type { Logger } from 'pino';
import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import { translate } from '../translate/translate.js';
import type { SnapshotCache } from '../xds/cache.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { Snapshot, type SnapshotInput } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import type { RevisionLedger } from './revision-ledger.js';

export interface StateSource {
  current(): DesiredState;
  subscribe(listener: (state: DesiredState) => void): () => void;
}

export interface ReconcilerOptions {
  state: StateSource;
  cache: SnapshotCache;
  ledger: RevisionLedger;
  logger: Logger;
  /** Changes closer together than this are coalesced into one snapshot. */
  holdOffMs?: number;
}

export function snapshotInput(resources: TranslatedResources): SnapshotInput {
  return {
    [LISTENER_TYPE]: resources.listeners,
    [ROUTE_TYPE]: resources.routes,
    [CLUSTER_TYPE]: resources.clusters,
    [ENDPOINT_TYPE]: resources.endpoints,
  };
}

export class Reconciler {
  private snapshot: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBuildAt = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly holdOffMs: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.holdOffMs = options.holdOffMs ?? 10;
  }

  /** Builds the first snapshot from the loaded state (from then on streams may answer). */
  start(): void {
    this.build();
    this.unsubscribe = this.options.state.subscribe(() => this.schedule());
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  current(): Snapshot | undefined {
    return this.snapshot;
  }

  private schedule(): void {
    if (this.timer) return;
    const sinceLast = Date.now() - this.lastBuildAt;
    const delay = sinceLast >= this.holdOffMs ? 0 : this.holdOffMs - sinceLast;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.build();
    }, delay);
  }

  private build(): void {
    const state = this.options.state.current();
    const started = performance.now();
    try {
      const { snapshot, encoded } = Snapshot.build(snapshotInput(translate(state)), this.snapshot);
      this.snapshot = snapshot;
      this.lastBuildAt = Date.now();
      this.options.ledger.record(state.revision, snapshot.versions());
      this.options.cache.set(DEFAULT_GROUP, snapshot);
      this.options.logger.info(
        { revision: state.revision, encoded, ms: Number((performance.now() - started).toFixed(2)) },
        'snapshot built',
      );
    } catch (error) {
      this.options.logger.error({ err: error, revision: state.revision }, 'translation failed; keeping the last snapshot');
    }
  }
}
