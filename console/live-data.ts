// Reading the admin API into components: `useApi(path)` reads once and again after every burst
// of events (the `LiveTick` context, bumped by the app on each chunk of the event stream), so the
// page follows sluice without reloading. An answer older than one already shown is dropped.

import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';

/** Grows by one on every chunk of events; views read again when it changes. */
export const LiveTick = createContext(0);

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  /** Read again now (after a change made from the page). */
  reload(): void;
}

export function useApi<T>(path: string | undefined): Loaded<T> {
  const tick = useContext(LiveTick);
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [nudge, setNudge] = useState(0);
  const sequence = useRef(0);
  const shown = useRef(0);
  useEffect(() => {
    if (path === undefined) return;
    const mine = ++sequence.current;
    get<T>(path).then(
      (answer) => {
        if (mine < shown.current) return;
        shown.current = mine;
        setData(answer);
        setError(undefined);
      },
      (failure: unknown) => {
        if (mine < shown.current) return;
        shown.current = mine;
        setError(failure);
      },
    );
  }, [path, tick, nudge]);
  const reload = useCallback(() => setNudge((n) => n + 1), []);
  return { data, error, reload };
}
