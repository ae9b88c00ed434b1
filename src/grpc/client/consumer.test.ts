import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcTestBroker, type GrpcTestBroker } from '../test-support/grpc-broker.js';
import { AdminClient } from './admin-client.js';
import { Consumer, type ConsumerRecord } from './consumer.js';
import { Producer } from './producer.js';
import { Subscription } from './subscription.js';

let b: GrpcTestBroker;
let admin: AdminClient;
let producer: Producer;

beforeAll(async () => {
  b = await startGrpcTestBroker();
  admin = new AdminClient({ address: b.address });
  producer = new Producer({ address: b.address, lingerMs: 1 });
});

afterAll(async () => {
  await producer.close();
  admin.close();
  await b.close();
});

async function produce(topic: string, partition: number, values: string[]): Promise<void> {
  await Promise.all(values.map((v) => producer.send({ topic, partition, key: `k-${v}`, value: v, headers: [{ key: 'h', value: v }], timestamp: 1700000000000 })));
}

/** Polls until `count` records came (or 10 s passed). */
async function pollFor(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 10_000;
  while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(500)));
  return out;
}

const label = (r: ConsumerRecord) => `${r.partition}@${r.offset}=${r.value?.toString()}`;

describe('Consumer', () => {
  it('reads every partition of its topics from the earliest offset, with keys, headers and timestamps', async () => {
    await admin.createTopic('c-all', { partitions: 3 });
    await produce('c-all', 0, ['a', 'b']);
    await produce('c-all', 2, ['c']);
    const consumer = new Consumer({ address: b.address, topics: ['c-all'], offsetReset: 'earliest' });
    const records = await pollFor(consumer, 3);
    expect(records.map(label).sort()).toEqual(['0@0=a', '0@1=b', '2@0=c']);
    expect(records.find((r) => r.partition === 2)).toEqual({
      topic: 'c-all',
      partition: 2,
      offset: 0n,
      key: Buffer.from('k-c'),
      value: Buffer.from('c'),
      headers: [{ key: 'h', value: Buffer.from('c') }],
      timestamp: 1700000000000,
      timestampType: 'CreateTime',
    });
    expect(await consumer.assignment()).toEqual([0, 1, 2].map((partition) => ({ topic: 'c-all', partition })));
    expect(await consumer.poll(200)).toEqual([]);
    expect(consumer.caughtUp()).toBe(true);
    await produce('c-all', 1, ['d']);
    expect((await pollFor(consumer, 1)).map(label)).toEqual(['1@0=d']);
    await consumer.close();
  });

  it('resumes a group from its committed offsets; auto-commit commits on close', async () => {
    await admin.createTopic('c-group', { partitions: 1 });
    await produce('c-group', 0, ['1', '2', '3', '4']);
    const first = new Consumer({ address: b.address, topics: ['c-group'], groupId: 'resume', offsetReset: 'earliest', maxPollRecords: 2 });
    expect((await first.poll(2000)).map(label)).toEqual(['0@0=1', '0@1=2']);
    await first.close();
    expect((await admin.describeGroup('resume')).offsets.map((o) => [o.partition, o.committedOffset, o.lag])).toEqual([[0, 2n, 2n]]);

    const second = new Consumer({ address: b.address, topics: ['c-group'], groupId: 'resume', offsetReset: 'earliest', autoCommit: false });
    expect((await pollFor(second, 2)).map(label)).toEqual(['0@2=3', '0@3=4']);
    await second.close();
    expect((await admin.describeGroup('resume')).offsets[0]!.committedOffset).toBe(2n);

    const third = new Consumer({ address: b.address, topics: ['c-group'], groupId: 'resume', autoCommit: false });
    expect((await pollFor(third, 2)).map(label)).toEqual(['0@2=3', '0@3=4']);
    await third.commit();
    expect((await admin.describeGroup('resume')).offsets[0]!.committedOffset).toBe(4n);
    await third.close();
  });

  it("offsetReset 'latest' skips what was there before the first poll", async () => {
    await admin.createTopic('c-latest', { partitions: 1 });
    await produce('c-latest', 0, ['old']);
    const consumer = new Consumer({ address: b.address, topics: ['c-latest'] });
    expect(await consumer.poll(300)).toEqual([]);
    await produce('c-latest', 0, ['new']);
    expect((await pollFor(consumer, 1)).map(label)).toEqual(['0@1=new']);
    await consumer.close();
  });

  it('seek() moves a partition, and an offset that left the log is reset', async () => {
    await admin.createTopic('c-seek', { partitions: 1 });
    await produce('c-seek', 0, ['0', '1', '2', '3', '4', '5']);
    const consumer = new Consumer({ address: b.address, assignment: [{ topic: 'c-seek', partition: 0 }], offsetReset: 'earliest' });
    consumer.seek({ topic: 'c-seek', partition: 0 }, 4n);
    expect((await pollFor(consumer, 2)).map(label)).toEqual(['0@4=4', '0@5=5']);
    await b.broker.services.log.deleteRecords('c-seek', 0, 3n);
    consumer.seek({ topic: 'c-seek', partition: 0 }, 1n);
    expect((await pollFor(consumer, 3)).map(label)).toEqual(['0@3=3', '0@4=4', '0@5=5']);
    expect(consumer.position({ topic: 'c-seek', partition: 0 })).toBe(6n);
    await consumer.close();
  });

  it('poll waits for records up to its timeout', async () => {
    await admin.createTopic('c-wait', { partitions: 2 });
    const consumer = new Consumer({ address: b.address, topics: ['c-wait'], offsetReset: 'earliest' });
    let started = Date.now();
    expect(await consumer.poll(300)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    setTimeout(() => void produce('c-wait', 1, ['x']), 150);
    started = Date.now();
    expect((await consumer.poll(5000)).map(label)).toEqual(['1@0=x']);
    expect(Date.now() - started).toBeLessThan(4000);
    await consumer.close();
  });

  it('fetches on for the partitions it handed out while the caller works on the records', async () => {
    await admin.createTopic('c-ahead', { partitions: 1 });
    await produce('c-ahead', 0, ['a', 'b', 'c']);
    const consumer = new Consumer({ address: b.address, assignment: [{ topic: 'c-ahead', partition: 0 }], offsetReset: 'earliest' });
    const log = b.broker.services.log;
    const original = log.read.bind(log);
    let reads = 0;
    log.read = (req) => {
      if (req.topic === 'c-ahead') reads++;
      return original(req);
    };
    try {
      expect((await pollFor(consumer, 3)).map(label)).toEqual(['0@0=a', '0@1=b', '0@2=c']);
      // the poll that handed out the last records started the next fetch: the log is read
      // again before the caller polls
      const before = reads;
      await new Promise((r) => setTimeout(r, 200));
      expect(reads).toBeGreaterThan(before);
      await produce('c-ahead', 0, ['d']);
      expect((await pollFor(consumer, 1)).map(label)).toEqual(['0@3=d']);
    } finally {
      log.read = original;
      await consumer.close();
    }
  });

  it('fails poll() with NOT_FOUND for an unknown topic', async () => {
    const consumer = new Consumer({ address: b.address, topics: ['c-ghost'] });
    await expect(consumer.poll(100)).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'c-ghost' does not exist" });
    await consumer.close();
    expect(() => new Consumer({ topics: [] })).toThrow('give topics or an assignment');
  });
});

describe('Subscription', () => {
  it('streams a partition from an offset and stops when closed', async () => {
    await admin.createTopic('c-sub', { partitions: 1 });
    await produce('c-sub', 0, [...Array(30).keys()].map(String));
    const sub = new Subscription({ address: b.address, topic: 'c-sub', partition: 0, offset: 10n, maxRecords: 7 });
    const seen: string[] = [];
    setTimeout(() => void produce('c-sub', 0, ['30', '31']), 100);
    for await (const batch of sub) {
      expect(batch.length).toBeLessThanOrEqual(7);
      seen.push(...batch.map(label));
      if (seen.length === 22) sub.close();
    }
    expect(seen).toEqual([...Array(22).keys()].map((i) => `0@${i + 10}=${i + 10}`));
  });

  it('ends with the broker error for a partition that does not exist', async () => {
    const sub = new Subscription({ address: b.address, topic: 'c-sub', partition: 9 });
    const iterate = async () => {
      for await (const _ of sub) void _;
    };
    await expect(iterate()).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'c-sub' has 1 partition; partition 9 does not exist" });
  });
});
