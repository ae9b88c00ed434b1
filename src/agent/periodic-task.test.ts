import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PeriodicTask } from './periodic-task.js';

const logger = pino({ level: 'silent' });

describe('PeriodicTask', () => {
  it('runs passes one at a time on its interval, joins a pass already running, and stop waits for it', async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    const task = new PeriodicTask({
      intervalMs: 5,
      logger,
      failureMessage: 'x',
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(15);
        active--;
        return ++passes;
      },
    });
    const a = task.runOnce();
    const b = task.runOnce();
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    task.start();
    await sleep(80);
    await task.stop();
    const afterStop = passes;
    expect(afterStop).toBeGreaterThanOrEqual(2);
    expect(maxActive).toBe(1);
    expect(active).toBe(0);
    await sleep(40);
    expect(passes).toBe(afterStop);
  });

  it('keeps its schedule after a failed pass', async () => {
    let calls = 0;
    const task = new PeriodicTask({
      intervalMs: 5,
      firstDelayMs: 1,
      logger,
      failureMessage: 'x',
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return calls;
      },
    });
    task.start();
    await sleep(60);
    await task.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
  });
});
