import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic, type ReadPartition, type ReadRecord } from '../durability/python-clients.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { createTopicsWithLeaders } from './create-topics.js';
import { inspectObjects } from './object-inspector.js';
import { sharedPostgresS3, type AllocatedStorage } from './test-backend.js';

// On PostgreSQL + S3 (whichever STREAMHOUSE_TEST_BACKEND says: this is about those two
// stores) the local data directory holds nothing the log needs. Records acknowledged with
// acks=all, then the broker stopped (SIGTERM, and later SIGKILL) and its data directory
// deleted: a new broker with a new, empty data directory on the same database and bucket
// prefix serves every acknowledged record at its acknowledged offset with its key, value,
// timestamp and headers, and keeps appending at the old high watermarks.

const PARTITIONS = 3;
// recent: records older than retention.ms (7 days) would be deleted by the retention pass (every 60 s)
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

function kafka(broker: BrokerProcess): Kafka {
  return new Kafka({ clientId: 'restart-no-local-dir', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

describe('restart on PostgreSQL + S3 with the local data directory deleted', () => {
  let storage: AllocatedStorage;
  let broker: BrokerProcess | undefined;
  const topic = `no-local-dir-${randomUUID().slice(0, 8)}`;
  /** What each partition holds, by offset, as the reader reports records. */
  const acknowledged: ReadRecord[][] = Array.from({ length: PARTITIONS }, () => []);

  // one agent without leases: a restarted cluster agent would first wait for leases, which the
  // cluster tests cover; this test is about state living only in PostgreSQL + S3
  const start = (): Promise<BrokerProcess> =>
    startBrokerProcess({ args: ['--metadata', storage.metadataUrl, '--storage', storage.storageUrl, '--cluster', 'false'], env: { ...storage.env } });

  /** Stops the broker (signal or SIGTERM) and deletes its whole data directory. */
  async function stopAndWipe(how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const current = broker!;
    if (how === 'SIGTERM') expect(await current.stop()).toBe(0);
    else await current.kill('SIGKILL');
    rmSync(current.dataDir, { recursive: true, force: true });
    expect(existsSync(current.dataDir)).toBe(false);
    broker = undefined;
  }

  /** `sends` acks=all requests, each with a few records per partition; records what was acknowledged where. */
  async function produce(round: number, sends: number): Promise<void> {
    const producer = kafka(broker!).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let s = 0; s < sends; s++) {
        const messages: Array<Message & { partition: number }> = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let i = 0; i < 1 + ((s + p) % 4); i++) {
            const id = `${round}-${s}-${p}-${i}`;
            messages.push({
              partition: p,
              // a null key now and then, an empty value now and then
              key: i === 2 ? null : `key-${id}`,
              value: i === 3 ? '' : `value-${id}-${'x'.repeat((s * 13 + i) % 40)}`,
              timestamp: String(BASE_TS + round * 1_000_000 + s * 100 + i),
              headers: { round: String(round), id },
            });
          }
        }
        const result = await producer.send({ topic, acks: -1, messages });
        for (let p = 0; p < PARTITIONS; p++) {
          const md = result.find((r) => r.partition === p);
          expect(md?.errorCode).toBe(0);
          const base = Number(md!.baseOffset);
          // acknowledged right after everything acknowledged before
          expect(base).toBe(acknowledged[p]!.length);
          messages
            .filter((m) => m.partition === p)
            .forEach((m, j) => acknowledged[p]!.push([base + j, m.key === null ? null : String(m.key), String(m.value), Number(m.timestamp), Object.entries(m.headers!).map(([k, v]) => [k, String(v)])]));
        }
      }
    } finally {
      await producer.disconnect();
    }
  }

  function expected(): ReadPartition[] {
    return acknowledged.map((records) => ({ low: 0, high: records.length, records }));
  }

  beforeAll(async () => {
    storage = await (await sharedPostgresS3()).allocate('nolocaldir');
    broker = await start();
    const admin = kafka(broker).admin();
    await admin.connect();
    expect(await createTopicsWithLeaders(admin, [{ topic, numPartitions: PARTITIONS }])).toBe(true);
    await admin.disconnect();
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('serves every acknowledged record after SIGTERM, wiping the data dir and starting a new broker', async () => {
    await produce(1, 12);
    const before = await readWholeTopic(broker!.bootstrap, topic, PARTITIONS);
    expect(before).toEqual(expected());
    const objects = inspectObjects(broker!);
    const objectCount = (await objects.keys()).length;
    objects.close();
    // the objects really are in the bucket: one per acks=all send at least
    expect(objectCount).toBeGreaterThanOrEqual(12);

    await stopAndWipe('SIGTERM');
    broker = await start();
    expect(await readWholeTopic(broker.bootstrap, topic, PARTITIONS)).toEqual(expected());
  });

  it('serves every acknowledged record after SIGKILL and a wipe, and keeps appending at the old high watermarks', async () => {
    await produce(2, 8);
    await stopAndWipe('SIGKILL');
    broker = await start();
    expect(await readWholeTopic(broker.bootstrap, topic, PARTITIONS)).toEqual(expected());

    const admin = kafka(broker).admin();
    await admin.connect();
    const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
    await admin.disconnect();
    expect(offsets.map((o) => [o.partition, Number(o.low), Number(o.high)])).toEqual(acknowledged.map((r, p) => [p, 0, r.length]));

    // produce checks each send lands right after the records acknowledged before the wipe
    await produce(3, 3);
    await stopAndWipe('SIGTERM');
    broker = await start();
    expect(await readWholeTopic(broker.bootstrap, topic, PARTITIONS)).toEqual(expected());
  });
});
