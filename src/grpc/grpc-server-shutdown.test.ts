import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RpcChannel } from './client/rpc-channel.js';
import { startGrpcTestBroker } from './test-support/grpc-broker.js';

describe('GrpcServer shutdown', () => {
  it('ends Subscribe streams with UNAVAILABLE and answers long-polls at once', async () => {
    const b = await startGrpcTestBroker();
    const rpc = new RpcChannel({ address: b.address });
    await rpc.call('CreateTopic', { name: 't', partitions: 1 });
    const stream = rpc.subscribe({ topic: 't', partition: 0 });
    const ended = new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    stream.on('data', () => {});
    const poll = rpc.call('Consume', { topic: 't', partition: 0, offset: '0', maxWaitMs: 30_000 });
    await sleep(200);
    const started = Date.now();
    await b.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await ended).toMatchObject({ code: 14, details: 'the agent is shutting down' });
    expect(await poll).toEqual({ records: [], highWatermark: '0', logStartOffset: '0', nextOffset: '0' });
    rpc.close();
  });
});
