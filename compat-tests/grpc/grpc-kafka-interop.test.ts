import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, Consumer, Producer, type ConsumerRecord } from '../../src/grpc/client/index.js';
import { RpcChannel } from '../../src/grpc/client/rpc-channel.js';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { kafkajsProduce, kafkajsRead, registerKafkajsCodecs } from '../produce-consume/kafkajs-client.js';
import { KCAT, kcatProduce, kcatRead } from '../produce-consume/kcat-client.js';
import { sortRecords, type PlannedRecord, type ReadRecord } from '../produce-consume/matrix-layout.js';
import { runBinary } from '../produce-consume/run-binary.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

let broker: BrokerProcess;
let address: string;
let admin: AdminClient;

beforeAll(async () => {
  registerKafkajsCodecs();
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  address = `http://127.0.0.1:${broker.grpcPort}`;
  admin = new AdminClient({ address });
});

afterAll(async () => {
  admin?.close();
  await broker?.cleanup();
});

const b64 = (b: Buffer | null) => (b === null ? null : b.toString('base64'));

/** Every record of a topic read through gRPC, as the Kafka readers report them. */
async function grpcRead(topic: string): Promise<ReadRecord[]> {
  const consumer = new Consumer({ address, topics: [topic], offsetReset: 'earliest' });
  const out: ConsumerRecord[] = [];
  try {
    do out.push(...(await consumer.poll(300)));
    while (!consumer.caughtUp());
  } finally {
    await consumer.close();
  }
  return out.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: r.timestamp,
    key: b64(r.key),
    value: b64(r.value),
    headers: r.headers.map((h): [string, string | null] => [h.key, b64(h.value)]),
  }));
}

/** Bytes 0..255 in a rotating order, so every byte value travels in keys and values. */
function allBytes(seed: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

describe('records produced through gRPC', () => {
  it('are read byte for byte, at the same offsets, by kcat and kafkajs', async () => {
    await admin.createTopic('from-grpc', { partitions: 3 });
    const expected: ReadRecord[] = [];
    // the typed client: LZ4 batches, keyed (murmur2) and explicit partitions, binary bytes, headers
    const producer = new Producer({ address, lingerMs: 20 });
    const sends = [];
    for (let i = 0; i < 60; i++) {
      const key = i % 3 === 0 ? Buffer.from(`customer-${i % 7}`) : allBytes(i, 16 + i);
      const value = allBytes(i + 1000, 50 + i * 13);
      // kcat prints header values as text, so they stay printable
      const headers = [{ key: 'trace', value: Buffer.from(`t-${i}`) }, { key: 'empty', value: Buffer.alloc(0) }];
      const timestamp = 1_700_000_000_000 + i * 1000;
      const partition = i % 10 === 0 ? 2 : undefined;
      sends.push(
        producer.send({ topic: 'from-grpc', key, value, headers, timestamp, ...(partition !== undefined ? { partition } : {}) }).then((m) => {
          expect(m.partition).toBe(partition ?? partitionForKey(key, 3));
          expected.push({ topic: 'from-grpc', partition: m.partition, offset: Number(m.offset), timestamp, key: b64(key), value: b64(value), headers: headers.map((h) => [h.key, b64(h.value)]) });
        }),
      );
    }
    await Promise.all(sends);
    await producer.close();
    // the raw API: a tombstone (null value), a null key, an empty key, a null header value
    const rpc = new RpcChannel({ address });
    const tombstone = await rpc.call('Produce', { topic: 'from-grpc', partition: 1, record: { key: Buffer.from('gone'), headers: [], timestampMs: '1700000100000' } });
    expected.push({ topic: 'from-grpc', partition: 1, offset: Number(tombstone.offset), timestamp: 1700000100000, key: b64(Buffer.from('gone')), value: null, headers: [] });
    const batch = await rpc.call('ProduceBatch', {
      topic: 'from-grpc',
      partition: 0,
      records: [
        { value: Buffer.from('no key'), headers: [{ key: 'nul' }], timestampMs: '1700000200000' },
        { key: Buffer.alloc(0), value: Buffer.from('empty key'), headers: [], timestampMs: '1700000200001' },
      ],
    });
    rpc.close();
    const base = Number(batch.baseOffset);
    expected.push({ topic: 'from-grpc', partition: 0, offset: base, timestamp: 1700000200000, key: null, value: b64(Buffer.from('no key')), headers: [['nul', null]] });
    expected.push({ topic: 'from-grpc', partition: 0, offset: base + 1, timestamp: 1700000200001, key: '', value: b64(Buffer.from('empty key')), headers: [] });

    const want = sortRecords(expected);
    expect(want).toHaveLength(63);
    // offsets are dense per partition: nothing was written twice or lost
    for (const p of [0, 1, 2]) {
      const offs = want.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offs).toEqual([...offs.keys()]);
    }
    expect(sortRecords(await kcatRead(broker.bootstrap, ['from-grpc']))).toEqual(want);
    expect(sortRecords(await kafkajsRead(broker.bootstrap, ['from-grpc']))).toEqual(want);
    expect(sortRecords(await grpcRead('from-grpc'))).toEqual(want);
  });
});

describe('records produced by Kafka clients', () => {
  it('are read through gRPC with the offsets kcat and kafkajs report', async () => {
    await admin.createTopic('from-kafka', { partitions: 3 });
    const plan = (partition: number, first: number, count: number, t0: number): PlannedRecord[] =>
      [...Array(count).keys()].map((i) => ({
        partition,
        offset: first + i,
        key: Buffer.from(`k-${partition}-${first + i}`),
        value: Buffer.concat([Buffer.from(`v-${partition}-${first + i}-`), allBytes(first + i, 40).filter((x) => x !== 0x1e && x !== 0x1f)]),
        headers: [['h', Buffer.from(`x${i}`)]],
        timestamp: t0 + i,
      }));
    const t0 = 1_700_000_000_000;
    for (const [codec, first] of [['none', 0], ['lz4', 3], ['gzip', 6], ['zstd', 9], ['snappy', 12]] as const) {
      await kafkajsProduce(broker.bootstrap, 'from-kafka', codec, [0, 1, 2].flatMap((p) => plan(p, first, 3, t0 + first)));
    }
    await kcatProduce(broker.bootstrap, 'from-kafka', 'lz4', [0, 1, 2].flatMap((p) => plan(p, 15, 3, t0)));
    const viaGrpc = sortRecords(await grpcRead('from-kafka'));
    expect(viaGrpc).toHaveLength(54);
    expect(viaGrpc).toEqual(sortRecords(await kcatRead(broker.bootstrap, ['from-kafka'])));
    expect(viaGrpc).toEqual(sortRecords(await kafkajsRead(broker.bootstrap, ['from-kafka'])));
    // the kafkajs part is exactly what was planned, timestamps included
    const planned = [0, 1, 2].flatMap((p) => [0, 3, 6, 9, 12].flatMap((first) => plan(p, first, 3, t0 + first)));
    for (const r of planned) {
      expect(viaGrpc.find((x) => x.partition === r.partition && x.offset === r.offset)).toEqual({
        topic: 'from-kafka',
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: b64(r.key),
        value: b64(r.value),
        headers: [['h', b64(r.headers[0]![1])]],
      });
    }
  });

  it('keyed records land where gRPC Produce puts the same key (Kafka murmur2)', async () => {
    await admin.createTopic('keys', { partitions: 7 });
    const keys = [...Array(20).keys()].map((i) => `user-${i * 37}`);
    const kafka = new Kafka({ clientId: 'grpc-interop', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const acks = [];
    for (const key of keys) acks.push((await producer.send({ topic: 'keys', acks: -1, compression: CompressionTypes.None, messages: [{ key, value: 'kafkajs' }] }))[0]!.partition);
    await producer.disconnect();
    // kcat with librdkafka's Java-compatible partitioner
    const input = keys.map((k) => `${k}\u001fkcat`).join('\u001e');
    const kcat = await runBinary(KCAT, ['-P', '-q', '-b', broker.bootstrap, '-t', 'keys', '-K', '\\x1f', '-D', '\\x1e', '-X', 'partitioner=murmur2_random'], { input: Buffer.from(input), timeoutMs: 30_000 });
    expect(kcat.code).toBe(0);
    const rpc = new RpcChannel({ address });
    const viaGrpc = [];
    for (const key of keys) viaGrpc.push((await rpc.call('Produce', { topic: 'keys', record: { key: Buffer.from(key), value: Buffer.from('grpc'), headers: [] } })).partition);
    rpc.close();
    expect(viaGrpc).toEqual(acks);
    expect(new Set(viaGrpc).size).toBeGreaterThan(3);
    const read = await grpcRead('keys');
    for (const key of keys) {
      const partitions = new Set(read.filter((r) => r.key === b64(Buffer.from(key))).map((r) => r.partition));
      expect([...partitions], key).toEqual([partitionForKey(Buffer.from(key), 7)]);
    }
    expect(read).toHaveLength(60);
  });
});
