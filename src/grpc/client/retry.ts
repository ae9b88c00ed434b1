import { setTimeout as sleep } from 'node:timers/promises';
import { StreamHouseError } from './streamhouse-error.js';
import { backoffDelayMs } from '../../common/backoff.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * The wait after failed attempt `attempt` (0 for the first): exponential backoff with "equal
 * jitter", so retries of many clients spread out but never fire immediately.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return backoffDelayMs(attempt + 1, { baseMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs, jitter: 'equal' }, random);
}

export function isRetriable(err: unknown): boolean {
  return err instanceof StreamHouseError && err.retriable;
}

/** Runs `attempt` until it succeeds, fails with a non-retriable error, or retries run out. */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, sleep: (ms: number) => Promise<void> = defaultSleep): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= policy.retries || !isRetriable(err)) throw err;
      await sleep(backoffMs(n, policy));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return sleep(ms);
}
