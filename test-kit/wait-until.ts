// The one polling wait of the test kit: checks a condition every 100 ms until it holds or the
// time is up, then fails naming what it waited for.

import { setTimeout as sleep } from 'node:timers/promises';

export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${describe()}` : ''}`);
}
