import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { backoffMs, withRetries } from './retry.js';
import { StreamHouseError } from './streamhouse-error.js';

const policy = { retries: 3, initialBackoffMs: 100, maxBackoffMs: 1000 };

describe('backoffMs', () => {
  it('doubles per attempt up to the cap, with half of it jittered', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffMs(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('withRetries', () => {
  it('retries retriable statuses until success, sleeping in between', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (++calls < 3) throw new StreamHouseError(status.UNAVAILABLE, 'busy');
        return 'ok';
      },
      policy,
      async (ms) => void sleeps.push(ms),
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('gives up after the retries, and at once on other errors', async () => {
    let calls = 0;
    await expect(withRetries(async () => { calls++; throw new StreamHouseError(status.DEADLINE_EXCEEDED, 'slow'); }, policy, async () => {})).rejects.toMatchObject({ codeName: 'DEADLINE_EXCEEDED' });
    expect(calls).toBe(4);
    calls = 0;
    await expect(withRetries(async () => { calls++; throw new StreamHouseError(status.NOT_FOUND, 'gone'); }, policy, async () => {})).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
    expect(calls).toBe(1);
  });
});

describe('StreamHouseError', () => {
  it('tells an unreachable server from a broker that answered UNAVAILABLE', () => {
    const refused = new StreamHouseError(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ');
    expect([refused.unreachable, refused.connectReason]).toEqual([true, 'connection refused']);
    const dns = new StreamHouseError(status.UNAVAILABLE, 'Name resolution failed for target dns:nowhere.invalid:50051');
    expect([dns.unreachable, dns.connectReason]).toEqual([true, 'host not found']);
    const moving = new StreamHouseError(status.UNAVAILABLE, 'partition is moving', 'NOT_LEADER_OR_FOLLOWER');
    expect(moving.unreachable).toBe(false);
    expect(moving.message).toBe('UNAVAILABLE: partition is moving');
  });
});
