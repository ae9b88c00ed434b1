import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../common/backoff.js';

/** Sleeps with exponential backoff and full jitter, capped by the deadline. */
export async function backoff(attempt: number, deadlineMs: number, baseMs = 50, maxMs = 2000): Promise<boolean> {
  const remaining = deadlineMs - Date.now();
  if (remaining <= 0) return false;
  const delay = Math.min(remaining, backoffDelayMs(attempt + 1, { baseMs, maxMs, jitter: 'full' }));
  await sleep(delay);
  return Date.now() < deadlineMs;
}
