import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** The hash route as decoded path segments: `#/topics/a%2Fb/messages` -> ['topics', 'a/b', 'messages']. */
export function parseHash(hash: string): string[] {
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** The link of a route made of segments (each one encoded). */
export function href(...segments: Array<string | number>): string {
  return `#/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`;
}

export function navigate(...segments: Array<string | number>): void {
  location.hash = href(...segments);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export interface ApiState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When data was last loaded (ms). */
  loadedAt: number | undefined;
  reload: () => void;
}

/**
 * Loads `fn` when `deps` change, and again every `refreshMs` while the tab is visible (0: never).
 * Keeps the last data while reloading (also when `deps` change, with keepDataOnChange); a
 * failed reload keeps the data and sets `error`.
 */
export function useApi<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[], refreshMs = 0, keepDataOnChange = false): ApiState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; loadedAt: number | undefined }>({
    data: undefined,
    error: undefined,
    loading: true,
    loadedAt: undefined,
  });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const depsKey = JSON.stringify(deps);
  const lastKey = useRef(depsKey);

  useEffect(() => {
    const changed = lastKey.current !== depsKey;
    lastKey.current = depsKey;
    const ctrl = new AbortController();
    setState((s) => (changed && !keepDataOnChange ? { data: undefined, error: undefined, loading: true, loadedAt: undefined } : { ...s, loading: true }));
    fnRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: undefined, loading: false, loadedAt: Date.now() });
      },
      (error: unknown) => {
        if (!ctrl.signal.aborted) setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => ctrl.abort();
  }, [depsKey, tick]);

  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, depsKey]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A value kept in localStorage under `key` (JSON). */
export function useStored<T>(key: string, initial: T): [T, (v: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = localStorage.getItem(`streamhouse.${key}`);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (v: T) => {
      setValue(v);
      try {
        localStorage.setItem(`streamhouse.${key}`, JSON.stringify(v));
      } catch {
        // private mode: keep it in memory only
      }
    },
    [key],
  );
  return [value, set];
}
