import { setTimeout as sleep } from 'node:timers/promises';
import { StreamHouseError } from './streamhouse-error.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the capped exponential delay is fixed and
 * half is random, so retries of many clients spread out but never fire immediately.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** attempt);
  return Math.round(exp / 2 + (exp / 2) * random());
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
