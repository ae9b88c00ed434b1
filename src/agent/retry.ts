import { setTimeout as sleep } from 'node:timers/promises';
/** Sleeps with exponential backoff and full jitter, capped by the deadline. */
export async function backoff(attempt: number, deadlineMs: number, baseMs = 50, maxMs = 2000): Promise<boolean> {
  const remaining = deadlineMs - Date.now();
  if (remaining <= 0) return false;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 10));
  const delay = Math.min(remaining, Math.random() * ceiling);
  await sleep(delay);
  return Date.now() < deadlineMs;
}
