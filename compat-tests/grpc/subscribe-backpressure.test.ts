import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, Producer, Subscription } from '../../src/grpc/client/index.js';
import { RpcChannel } from '../../src/grpc/client/rpc-channel.js';
import type { SubscribeResponseMsg } from '../../src/grpc/messages.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

let broker: BrokerProcess;
let address: string;
let admin: AdminClient;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  address = `http://127.0.0.1:${broker.grpcPort}`;
  admin = new AdminClient({ address });
});

afterAll(async () => {
  admin?.close();
  await broker?.cleanup();
});

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const MB = 1024 * 1024;

describe('Subscribe', () => {
  it('keeps up with a producer', async () => {
    await admin.createTopic('live', { partitions: 1 });
    const total = 20_000;
    const received: string[] = [];
    let maxLag = 0;
    let produced = 0;
    const sub = new Subscription({ address, topic: 'live', partition: 0, offset: 0n });
    const reading = (async () => {
      for await (const batch of sub) {
        for (const r of batch) received.push(r.value!.toString());
        maxLag = Math.max(maxLag, produced - received.length);
        if (received.length >= total) break;
      }
    })();
    const producer = new Producer({ address, lingerMs: 2 });
    const started = Date.now();
    // 20 rounds of 1,000 records, 50 ms apart: a steady stream for about a second or more
    for (let round = 0; round < 20; round++) {
      await Promise.all([...Array(1000).keys()].map((i) => producer.send({ topic: 'live', partition: 0, value: `r${round * 1000 + i}` })));
      produced += 1000;
      await sleep(50);
    }
    const producedMs = Date.now() - started;
    await producer.close();
    const deadline = Date.now() + 10_000;
    while (received.length < total && Date.now() < deadline) await sleep(20);
    const caughtUpMs = Date.now() - started;
    sub.close();
    await reading;
    expect(received).toEqual([...Array(total).keys()].map((i) => `r${i}`));
    // the subscriber was never more than a couple of rounds behind, and finished right after the producer
    expect(maxLag).toBeLessThanOrEqual(3000);
    expect(caughtUpMs - producedMs).toBeLessThan(2000);
  });

  it('a slow subscriber holds the broker back instead of growing its memory', async () => {
    // 160 MB in 100 KB records; 4 MB batches (max.message.bytes raised for the topic)
    await admin.createTopic('big', { partitions: 1, configs: { 'max.message.bytes': String(8 * MB) } });
    const record = randomBytes(100 * 1024);
    const count = 1600;
    const producer = new Producer({ address, compression: 'none', batchMaxBytes: 4 * MB, lingerMs: 5 });
    for (let i = 0; i < count; i += 200) {
      await Promise.all([...Array(200).keys()].map((j) => producer.send({ topic: 'big', partition: 0, key: String(i + j), value: record })));
    }
    await producer.close();
    await sleep(1000);
    let baseline = 0;
    for (let i = 0; i < 5; i++) {
      baseline = Math.max(baseline, rssBytes(broker.process.pid!));
      await sleep(100);
    }

    // one record per message, one message taken every 100 ms
    const rpc = new RpcChannel({ address });
    const stream = rpc.subscribe({ topic: 'big', partition: 0, offset: '0', maxRecords: 1 });
    const keys: string[] = [];
    stream.on('data', (m: SubscribeResponseMsg) => {
      for (const r of m.records) keys.push(r.key!.toString());
      stream.pause();
      setTimeout(() => stream.resume(), 100);
    });
    stream.on('error', () => {});
    let peak = baseline;
    const slowUntil = Date.now() + 6000;
    while (Date.now() < slowUntil) {
      peak = Math.max(peak, rssBytes(broker.process.pid!));
      await sleep(100);
    }
    const slowCount = keys.length;
    expect(slowCount).toBeGreaterThan(20);
    expect(slowCount).toBeLessThan(100);
    // measured: ~1 MB with back-pressure, ~80 MB in the same 6 s when the broker ignores it
    expect(peak - baseline).toBeLessThan(32 * MB);

    // full speed again: everything arrives, in order
    stream.removeAllListeners('data');
    stream.on('data', (m: SubscribeResponseMsg) => {
      for (const r of m.records) keys.push(r.key!.toString());
    });
    stream.resume();
    const deadline = Date.now() + 60_000;
    while (keys.length < count && Date.now() < deadline) await sleep(50);
    stream.cancel();
    rpc.close();
    expect(keys).toEqual([...Array(count).keys()].map(String));
  }, 180_000);
});
