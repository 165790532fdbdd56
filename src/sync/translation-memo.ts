// One translation per committed desired state and Envoy flavour, shared by whoever asks: the
// store's pre-commit Envoy check translates the candidate, and the reconciler then builds the
// snapshot of the very same (frozen) state object without translating it again. Held weakly by the
// state object, so nothing outlives the states in use. Callers must not change what they get.

import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import { DEFAULT_FLAVOUR, translate, type EnvoyFlavour } from '../translate/translate.js';

const memo = new WeakMap<DesiredState, Map<string, TranslatedResources>>();

/** `translate(state, flavour)`, computed once per state object and flavour. */
export function translateOnce(state: DesiredState, flavour: Partial<EnvoyFlavour> = {}): TranslatedResources {
  const full = { ...DEFAULT_FLAVOUR, ...flavour };
  const key = JSON.stringify(full);
  let byFlavour = memo.get(state);
  if (!byFlavour) memo.set(state, (byFlavour = new Map()));
  let resources = byFlavour.get(key);
  if (!resources) byFlavour.set(key, (resources = translate(state, full)));
  return resources;
}
