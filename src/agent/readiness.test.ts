import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ReadinessProbe, type ReadinessCheck } from './readiness.js';

describe('ReadinessProbe', () => {
  it('is ready when every check is, and names the ones that are not', async () => {
    let storeUp = true;
    const probe = new ReadinessProbe(
      new Map<string, ReadinessCheck>([
        ['metadata', async () => {
          if (!storeUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          return undefined;
        }],
        ['listeners', () => undefined],
      ]),
    );
    expect(await probe.report()).toEqual({ ready: true, notReady: [], checks: { metadata: 'ok', listeners: 'ok' } });
    storeUp = false;
    expect(await probe.report()).toEqual({ ready: false, notReady: ['metadata'], checks: { metadata: 'connect ECONNREFUSED 127.0.0.1:5432', listeners: 'ok' } });
  });

  it('fails a check that does not answer in time, and joins it instead of starting another', async () => {
    let started = 0;
    let finish: () => void = () => {};
    const probe = new ReadinessProbe(
      new Map<string, ReadinessCheck>([
        ['objects', () => {
          started++;
          return new Promise<undefined>((resolve) => (finish = () => resolve(undefined)));
        }],
      ]),
      50,
    );
    expect(await probe.report()).toEqual({ ready: false, notReady: ['objects'], checks: { objects: 'no answer within 50 ms' } });
    expect((await probe.report()).ready).toBe(false);
    expect(started).toBe(1);
    finish();
    await sleep(10);
    expect((await Promise.all([probe.report(), probe.report()])).map((r) => r.ready)).toEqual([false, false]);
    expect(started).toBe(2);
  });
});
