// Whether deleting a service needs `?force=true` because proxies served it lately, and the refusal
// (409 SLUICE_DELETE_UNCONFIRMED) that says what would break, with the rollout it would abort too.
// Reads the traffic only through the `ServiceTrafficView` (api/desired-state.ts) main.ts passes in;
// never the fleet itself.

import { SluiceError } from '../errors.js';
import type { RecentServiceTraffic } from '../api/desired-state.js';
import { servedText } from '../api/traffic-wording.js';
import type { Rollout } from '../model/types.js';

/**
 * The refusal to delete service `name` without `?force=true` when proxies served it within the
 * window (also naming `rollout`, the active rollout it would abort, if any); undefined when none did.
 */
export function unconfirmedDelete(name: string, traffic: RecentServiceTraffic, rollout: Rollout | undefined): SluiceError | undefined {
  if (traffic.requests === 0) return undefined;
  const alsoRollout =
    rollout === undefined ? '' : ` It also has an active rollout of "${rollout.candidate}" (${rollout.phase}), which deleting it would abort.`;
  return new SluiceError(
    'SLUICE_DELETE_UNCONFIRMED',
    `Service "${name}" ${servedText(traffic)}; deleting it makes those requests fail (404).${alsoRollout} Repeat with DELETE /v1/services/${name}?force=true to delete it anyway.`,
  );
}
