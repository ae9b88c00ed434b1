/**
 * How long to wait before a retry: exponential from `baseMs`, capped at `maxMs`, randomised so
 * that processes that failed together do not retry together. "full" jitter waits anywhere in
 * [0, cap) (AWS's advice for contended servers); "equal" jitter waits at least half the cap.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: 'full' | 'equal';
}

/** The wait before retry number `retry` (1 for the first retry), in whole milliseconds. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, retry - 1), 30));
  const floor = policy.jitter === 'equal' ? ceiling / 2 : 0;
  return Math.floor(floor + random() * (ceiling - floor));
}
