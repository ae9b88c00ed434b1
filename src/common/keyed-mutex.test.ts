import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs one key in call order even when earlier work takes longer, and keys in parallel', async () => {
    const mutex = new KeyedMutex<string>();
    const events: string[] = [];
    const job = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([mutex.run('a', job('a1', 30)), mutex.run('a', job('a2', 1)), mutex.run('b', job('b1', 5))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events).toEqual(['start a1', 'start b1', 'end b1', 'end a1', 'start a2', 'end a2']);
    await sleep(0);
    expect(mutex.size).toBe(0);
  });

  it('goes on with the next turn after a failure and hands the failure to its caller only', async () => {
    const mutex = new KeyedMutex<number>();
    const failed = mutex.run(1, () => {
      throw new Error('boom');
    });
    const next = mutex.run(1, () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
