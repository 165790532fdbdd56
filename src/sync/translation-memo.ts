// One translation per committed desired state, Envoy flavour and listener selection, shared by
// whoever asks: the store's pre-commit Envoy check translates the candidate, and the reconciler then
// builds the snapshots of the very same (frozen) state object without translating it again, once per
// node group's selection of listeners. Held weakly by the state object, so nothing outlives the
// states in use. Callers must not change what they get.

import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import { DEFAULT_FLAVOUR, translate, type EnvoyFlavour } from '../translate/translate.js';

const memo = new WeakMap<DesiredState, Map<string, TranslatedResources>>();

/**
 * `translate(state, flavour)`, computed once per state object and flavour; with `only`, for the
 * state with just the listeners named there (and their services). A selection of every listener
 * is the whole state's translation.
 */
export function translateOnce(state: DesiredState, flavour: Partial<EnvoyFlavour> = {}, only?: readonly string[]): TranslatedResources {
  const full = { ...DEFAULT_FLAVOUR, ...flavour };
  const names = only === undefined ? undefined : Object.keys(state.listeners).filter((name) => only.includes(name));
  const selected = names === undefined || names.length === Object.keys(state.listeners).length ? undefined : names;
  const key = `${JSON.stringify(full)}${selected === undefined ? '' : `\n${selected.join('\n')}`}`;
  let byFlavour = memo.get(state);
  if (!byFlavour) memo.set(state, (byFlavour = new Map()));
  let resources = byFlavour.get(key);
  if (!resources) {
    const input = selected === undefined ? state : { ...state, listeners: Object.fromEntries(selected.map((name) => [name, state.listeners[name]!])) };
    byFlavour.set(key, (resources = translate(input, full)));
  }
  return resources;
}
