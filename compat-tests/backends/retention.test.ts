import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBatches } from '../durability/batch-headers.js';
import { readWholeTopic, type ReadPartition, type ReadRecord } from '../durability/python-clients.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { chunkRows, type ChunkRow } from './metadata-inspector.js';
import { inspectObjects, type ObjectInspector } from './object-inspector.js';
import { testBackendName } from './test-backend.js';

// Retention on the suite's backend with --retention-check-interval-ms 500 and
// --object-gc-grace-ms 1000 (compaction off, so the object set only changes by retention).
// retention.ms and retention.bytes are changed at runtime with AlterConfigs (kafkajs):
// - `timed`: 4 sends stamped an hour ago, then 3 stamped now; retention.ms=600000 drops
//   exactly the old sends' chunks (whole chunks, as Kafka drops whole segments).
// - `sized`: 8 sends of equal size B; retention.bytes=3.5·B keeps the last 4 chunks
//   (Kafka's rule: drop from the front while the rest still holds retention.bytes).
// - `forever` (retention.ms=-1, records 30 days old) and `plain` (broker defaults, records
//   from now) are not touched.
// Afterwards: ListOffsets earliest moved to the cut, a Fetch below it answers
// OFFSET_OUT_OF_RANGE, everything from the cut is exact, a group whose committed offset is
// below the new log start continues from it (auto.offset.reset=earliest), and the objects
// holding only trimmed chunks are deleted after the grace period while all others stay.

const PER_SEND = 3;
const PARTITIONS = 2;
const HOUR = 3_600_000;


async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe(`retention.ms and retention.bytes changed at runtime (${testBackendName()})`, () => {
  let broker: BrokerProcess;
  let objects: ObjectInspector;
  const id = randomUUID().slice(0, 8);
  const topics = { timed: `ret-timed-${id}`, sized: `ret-sized-${id}`, forever: `ret-forever-${id}`, plain: `ret-plain-${id}` };
  const written = new Map<string, ReadRecord[][]>();
  const chunksBefore = new Map<string, ChunkRow[]>();
  const now = Date.now();
  const group = `ret-resume-${id}`;
  let sizedCut = -1;
  const report: Record<string, unknown> = { backend: testBackendName() };

  const kafka = (): Kafka => new Kafka({ clientId: 'retention', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });

  /** `sends` acks=all sends of PER_SEND equal-sized records to every partition of `topic`. */
  async function produce(topic: string, sends: number, timestamp: (s: number) => number): Promise<void> {
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const log = written.get(topic) ?? Array.from({ length: PARTITIONS }, () => []);
    written.set(topic, log);
    try {
      for (let s = 0; s < sends; s++) {
        const n = log[0]!.length / PER_SEND;
        const messages: Array<Message & { partition: number }> = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let i = 0; i < PER_SEND; i++) messages.push({ partition: p, key: `k-${p}-${n}-${i}`, value: `v-${p}-${n}-${i}-${'x'.repeat(64)}`, timestamp: String(timestamp(s) + i) });
        }
        const result = await producer.send({ topic, acks: -1, messages });
        for (const md of result) {
          expect(md.errorCode).toBe(0);
          expect(Number(md.baseOffset)).toBe(log[md.partition]!.length);
          messages.filter((m) => m.partition === md.partition).forEach((m, j) => log[md.partition]!.push([Number(md.baseOffset) + j, String(m.key), String(m.value), Number(m.timestamp), []]));
        }
      }
    } finally {
      await producer.disconnect();
    }
  }

  const expectedFrom = (topic: string, low: number): ReadPartition[] =>
    written.get(topic)!.map((records) => ({ low, high: records.length, records: records.slice(low) }));

  async function offsets(topic: string): Promise<Array<[number, number, number]>> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => [o.partition, Number(o.low), Number(o.high)]);
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--retention-check-interval-ms', '500', '--object-gc-grace-ms', '1000', '--compaction-interval-ms', '0'] });
    objects = inspectObjects(broker);
    const admin = kafka().admin();
    await admin.connect();
    expect(
      await admin.createTopics({
        topics: [
          { topic: topics.timed, numPartitions: PARTITIONS },
          { topic: topics.sized, numPartitions: PARTITIONS },
          { topic: topics.forever, numPartitions: PARTITIONS, configEntries: [{ name: 'retention.ms', value: '-1' }] },
          { topic: topics.plain, numPartitions: PARTITIONS },
        ],
      }),
    ).toBe(true);
    await admin.disconnect();
    await produce(topics.timed, 4, (s) => now - HOUR + s * 10);
    await produce(topics.timed, 3, (s) => now + s * 10);
    await produce(topics.sized, 8, (s) => now + s * 10);
    await produce(topics.forever, 3, (s) => now - 30 * 24 * HOUR + s * 10);
    await produce(topics.plain, 3, (s) => now + s * 10);
    for (const t of Object.values(topics)) chunksBefore.set(t, await chunkRows(broker.metadataUrl, t));
  });

  afterAll(async () => {
    console.log(JSON.stringify({ retention: report }, null, 1));
    objects?.close();
    await broker?.cleanup();
  });

  it('before any change, nothing is trimmed: every send is one chunk per partition', async () => {
    // a second of retention passes (every 500 ms) with the default 7 days and -1
    await sleep(1200);
    for (const [name, sends] of [['timed', 7], ['sized', 8], ['forever', 3], ['plain', 3]] as const) {
      expect(await offsets(topics[name])).toEqual([0, 1].map((p) => [p, 0, sends * PER_SEND]));
      expect(chunksBefore.get(topics[name])!.map((c) => [c.partition, c.baseOffset, c.lastOffset])).toEqual(
        [0, 1].flatMap((p) => Array.from({ length: sends }, (_, s) => [p, s * PER_SEND, s * PER_SEND + PER_SEND - 1])),
      );
    }
    // each chunk holds exactly the one batch the send wrote
    const sizedBatches = await readBatches(broker.bootstrap, topics.sized, 0);
    expect(sizedBatches.map((b) => b.bytes.length)).toEqual(chunksBefore.get(topics.sized)!.filter((c) => c.partition === 0).map((c) => c.byteLength));
    expect(new Set(sizedBatches.map((b) => b.bytes.length)).size).toBe(1);
  });

  it('applies retention.ms and retention.bytes set with AlterConfigs at runtime', async () => {
    // a group that had read up to offset 1 of `timed` (below where its log will start)
    const admin = kafka().admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic: topics.timed, partitions: [0, 1].map((partition) => ({ partition, offset: '1' })) });
    const chunkBytes = chunksBefore.get(topics.sized)![0]!.byteLength;
    const retentionBytes = Math.floor(chunkBytes * 3.5);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topics.timed, configEntries: [{ name: 'retention.ms', value: '600000' }] },
        { type: ConfigResourceTypes.TOPIC, name: topics.sized, configEntries: [{ name: 'retention.bytes', value: String(retentionBytes) }] },
      ],
    });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topics.timed, configNames: ['retention.ms'] },
        { type: ConfigResourceTypes.TOPIC, name: topics.sized, configNames: ['retention.bytes'] },
      ],
    });
    await admin.disconnect();
    expect(described.resources.map((r) => [r.resourceName, r.configEntries.map((e) => [e.configName, e.configValue])])).toEqual([
      [topics.timed, [['retention.ms', '600000']]],
      [topics.sized, [['retention.bytes', String(retentionBytes)]]],
    ]);

    // Kafka's rule on chunks of B bytes: drop while the rest still holds 3.5·B → 4 remain of 8
    sizedCut = 4 * PER_SEND;
    const started = Date.now();
    await waitFor(async () => (await offsets(topics.timed)).every(([, low]) => low === 12) && (await offsets(topics.sized)).every(([, low]) => low === sizedCut), 15_000, 'retention to trim');
    report.trimmedWithinMs = Date.now() - started;
    expect(await offsets(topics.timed)).toEqual([0, 1].map((p) => [p, 4 * PER_SEND, 7 * PER_SEND]));
    expect(await offsets(topics.sized)).toEqual([0, 1].map((p) => [p, sizedCut, 8 * PER_SEND]));
    // several more passes change nothing, and the other topics are untouched
    await sleep(1500);
    expect(await offsets(topics.timed)).toEqual([0, 1].map((p) => [p, 4 * PER_SEND, 7 * PER_SEND]));
    expect(await offsets(topics.sized)).toEqual([0, 1].map((p) => [p, sizedCut, 8 * PER_SEND]));
    expect(await offsets(topics.forever)).toEqual([0, 1].map((p) => [p, 0, 3 * PER_SEND]));
    expect(await offsets(topics.plain)).toEqual([0, 1].map((p) => [p, 0, 3 * PER_SEND]));
  });

  it('answers OFFSET_OUT_OF_RANGE below the new log start and serves everything from it exactly', async () => {
    for (const [topic, low] of [[topics.timed, 12], [topics.sized, sizedCut]] as const) {
      for (let p = 0; p < PARTITIONS; p++) {
        await expect(readBatches(broker.bootstrap, topic, p, 0)).rejects.toThrow(/: error 1$/);
        await expect(readBatches(broker.bootstrap, topic, p, low - 1)).rejects.toThrow(/: error 1$/);
        expect((await readBatches(broker.bootstrap, topic, p, low))[0]!.baseOffset).toBe(low);
      }
      expect(await readWholeTopic(broker.bootstrap, topic, PARTITIONS)).toEqual(expectedFrom(topic, low));
    }
    expect(await readWholeTopic(broker.bootstrap, topics.forever, PARTITIONS)).toEqual(expectedFrom(topics.forever, 0));
    expect(await readWholeTopic(broker.bootstrap, topics.plain, PARTITIONS)).toEqual(expectedFrom(topics.plain, 0));
  });

  it('lets a consumer group whose committed offset fell below the log start continue from the new log start', async () => {
    const consumer = kafka().consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.timed, fromBeginning: true });
    const seen: ReadRecord[][] = [[], []];
    const high = 7 * PER_SEND;
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen[partition]!.push([Number(message.offset), String(message.key), String(message.value), Number(message.timestamp), []]);
      },
    });
    try {
      await waitFor(async () => seen.every((s) => s.length >= high - 12), 30_000, 'the group to read to the high watermark');
      await sleep(300);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(expectedFrom(topics.timed, 12).map((p) => p.records));
  });

  it('deletes the objects that held only trimmed chunks after the grace period, and keeps every other', async () => {
    const all = [...chunksBefore.values()].flat();
    const cutFor = (c: ChunkRow): number => {
      for (const [topic, cut] of [[topics.timed, 12], [topics.sized, sizedCut]] as const) if (chunksBefore.get(topic)!.includes(c)) return cut;
      return 0;
    };
    const live = new Set(all.filter((c) => c.lastOffset >= cutFor(c)).map((c) => c.objectKey));
    const dead = [...new Set(all.map((c) => c.objectKey))].filter((k) => !live.has(k));
    // the 4 old `timed` sends and the first 4 `sized` sends: one object each
    expect(dead).toHaveLength(8);
    await waitFor(async () => {
      const keys = new Set(await objects.keys());
      return dead.every((k) => !keys.has(k));
    }, 10_000, 'the trimmed objects to be collected');
    const keys = (await objects.keys()).filter((k) => k.endsWith('.seg'));
    expect(keys).toEqual([...live].sort());
    report.objects = { before: live.size + dead.length, deleted: dead.length, after: keys.length };
    // and everything left is still readable from them after a restart (no caches)
    broker = await broker.restart();
    expect(await readWholeTopic(broker.bootstrap, topics.timed, PARTITIONS)).toEqual(expectedFrom(topics.timed, 12));
    expect(await readWholeTopic(broker.bootstrap, topics.sized, PARTITIONS)).toEqual(expectedFrom(topics.sized, sizedCut));
    expect(await readWholeTopic(broker.bootstrap, topics.forever, PARTITIONS)).toEqual(expectedFrom(topics.forever, 0));
    expect(await readWholeTopic(broker.bootstrap, topics.plain, PARTITIONS)).toEqual(expectedFrom(topics.plain, 0));
  });
});
