/**
 * Issue #3's client matrix against one broker process: kafkajs, @platformatic/kafka, kcat,
 * confluent-kafka and kafka-python each write keyed records with headers (an empty and a null
 * value among them) and explicit timestamps (kcat cannot set one) to their own 3-partition
 * topic, one batch per partition for every codec they offer (none, gzip, snappy, lz4, zstd);
 * then every client reads every topic back and must see exactly the same keys, values,
 * headers, timestamps, offsets and per-partition order. Our own codec looks at the stored
 * batches too, to prove each codec really was used.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { kafkajsProduce, kafkajsRead, registerKafkajsCodecs } from './kafkajs-client.js';
import { kcatProduce, kcatRead } from './kcat-client.js';
import {
  CLIENTS,
  CODEC_ID,
  CODECS,
  PARTITIONS,
  RECORDS_PER_BATCH,
  RECORDS_PER_PARTITION,
  planBatch,
  sortRecords,
  toReadRecord,
  type ClientName,
  type Codec,
  type PlannedRecord,
  type ReadRecord,
} from './matrix-layout.js';
import { patchPlatformaticCodecs, platformaticProduce, platformaticRead } from './platformatic-client.js';
import { pythonProduce, pythonRead, type PythonReadRecord } from './python-clients.js';
import { fetchAllBatches, RawKafkaClient } from '../../test-kit/raw-kafka-client.js';

// confluent-kafka reports CreateTime as TIMESTAMP_CREATE_TIME (1); kafka-python as 0
const CONFLUENT_CREATE_TIME = 1;
const KAFKA_PYTHON_CREATE_TIME = 0;

describe('client matrix: five clients x five codecs, everyone reads everyone', () => {
  let broker: BrokerProcess;
  let raw: RawKafkaClient;
  const suffix = randomUUID().slice(0, 8);
  const topicOf = (client: ClientName) => `matrix-${client}-${suffix}`;
  const allTopics = () => CLIENTS.map(topicOf);
  // whole seconds, an hour back: clearly not broker-assigned, well inside retention
  const t0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  const planned = (client: ClientName, codec: Codec) => planBatch(client, codec, t0, client !== 'kcat');
  /** What each producer's topic must contain once it has written, as readers report it. */
  const expected = new Map<ClientName, ReadRecord[]>();

  const setExpected = (client: ClientName, timestampOf: (r: PlannedRecord) => number) => {
    expected.set(
      client,
      CODECS.flatMap((codec) => planned(client, codec).map((r) => toReadRecord(topicOf(client), r, timestampOf(r)))),
    );
  };

  beforeAll(async () => {
    registerKafkajsCodecs();
    patchPlatformaticCodecs();
    broker = await startBrokerProcess();
    const admin = new Kafka({ clientId: 'matrix-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: allTopics().map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });
    await admin.disconnect();
    raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
  });

  afterAll(async () => {
    raw?.close();
    await broker?.cleanup();
  });

  /** Every planned record of `client`/`codec` at its planned partition and offset, as (partition, offset) pairs. */
  const plannedPositions = (client: ClientName, codec: Codec) => planned(client, codec).map((r) => ({ partition: r.partition, offset: r.offset }));
  /** Base offset of each codec's batch in every partition. */
  const batchBase = (codec: Codec) => CODECS.indexOf(codec) * RECORDS_PER_BATCH;

  it('kafkajs writes all five codecs (snappy, lz4, zstd plugged into CompressionCodecs)', async () => {
    for (const codec of CODECS) {
      const acks = await kafkajsProduce(broker.bootstrap, topicOf('kafkajs'), codec, planned('kafkajs', codec));
      expect(acks, codec).toEqual([0, 1, 2].map((partition) => ({ partition, errorCode: 0, baseOffset: String(batchBase(codec)) })));
    }
    setExpected('kafkajs', (r) => r.timestamp!);
  });

  it('@platformatic/kafka writes all five codecs', async () => {
    for (const codec of CODECS) {
      const acks = await platformaticProduce(broker.bootstrap, topicOf('platformatic'), codec, planned('platformatic', codec));
      expect(acks, codec).toEqual([0, 1, 2].map((partition) => ({ partition, offset: String(batchBase(codec)) })));
    }
    setExpected('platformatic', (r) => r.timestamp!);
  });

  it('kcat writes all five codecs; the broker keeps the CreateTime librdkafka stamped', async () => {
    const windows = new Map<string, { startedMs: number; endedMs: number }>();
    for (const codec of CODECS) {
      for (const w of await kcatProduce(broker.bootstrap, topicOf('kcat'), codec, planned('kcat', codec))) windows.set(`${codec}/${w.partition}`, w);
    }
    // kcat cannot set timestamps: learn them from the log, check each lies in its kcat run
    const stamped = new Map<string, number>();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const { batches } = await fetchAllBatches(raw, topicOf('kcat'), partition);
      for (const b of batches) for (const r of b.records) stamped.set(`${partition}/${r.offset}`, Number(r.timestamp));
    }
    for (const codec of CODECS) {
      for (const r of planned('kcat', codec)) {
        const ts = stamped.get(`${r.partition}/${r.offset}`);
        const w = windows.get(`${codec}/${r.partition}`)!;
        expect(ts, `${codec} p${r.partition} @${r.offset}`).toBeGreaterThanOrEqual(w.startedMs);
        expect(ts, `${codec} p${r.partition} @${r.offset}`).toBeLessThanOrEqual(w.endedMs);
      }
    }
    setExpected('kcat', (r) => stamped.get(`${r.partition}/${r.offset}`)!);
  });

  it('confluent-kafka writes all five codecs and its delivery reports carry the log offsets', async () => {
    const reports = await pythonProduce(
      'confluent-produce-consume.py',
      broker.bootstrap,
      topicOf('confluent'),
      CODECS.map((codec) => ({ codec, records: planned('confluent', codec) })),
    );
    CODECS.forEach((codec, c) => {
      const got = reports[c]!.map(({ partition, offset, error }) => ({ partition, offset, error })).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      expect(got, codec).toEqual(plannedPositions('confluent', codec).map((p) => ({ ...p, error: null })));
      // each report belongs to the record that was sent there
      for (const rep of reports[c]!) {
        const rec = planned('confluent', codec).find((r) => r.partition === rep.partition && r.offset === rep.offset)!;
        expect(rep.key).toBe(rec.key.toString('base64'));
      }
    });
    setExpected('confluent', (r) => r.timestamp!);
  });

  it('kafka-python writes all five codecs and its futures carry the log offsets', async () => {
    const reports = await pythonProduce(
      'kafka-python-produce-consume.py',
      broker.bootstrap,
      topicOf('kafka-python'),
      CODECS.map((codec) => ({ codec, records: planned('kafka-python', codec) })),
    );
    CODECS.forEach((codec, c) => expect(reports[c], codec).toEqual(plannedPositions('kafka-python', codec)));
    setExpected('kafka-python', (r) => r.timestamp!);
  });

  it('stores each producer batch as written, compressed with the codec it was sent with', async () => {
    // librdkafka (kcat, confluent-kafka) enables LZ4 only if the broker advertises FindCoordinator
    // v0 (rdkafka_feature.c maps the LZ4 feature to it); without it, it silently sends lz4 batches
    // uncompressed. StreamHouse adds FindCoordinator with consumer groups.
    const versions = await raw.request(18, 3, { clientSoftwareName: 'streamhouse-raw', clientSoftwareVersion: '0' });
    const findCoordinator = versions.apiKeys.find((k) => k.apiKey === 10);
    const librdkafkaLz4 = findCoordinator !== undefined && findCoordinator.minVersion === 0;
    const storedCodec = (client: ClientName, codec: Codec) =>
      codec === 'lz4' && (client === 'kcat' || client === 'confluent') && !librdkafkaLz4 ? CODEC_ID.none : CODEC_ID[codec];
    for (const client of CLIENTS) {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const { highWatermark, batches } = await fetchAllBatches(raw, topicOf(client), partition);
        expect(highWatermark, `${client} p${partition}`).toBe(BigInt(RECORDS_PER_PARTITION));
        // a client may split a codec's records over several batches, never mix codecs in one
        const layout = batches.map((b) => {
          const first = Number(b.header.baseOffset);
          const codec = CODECS[Math.floor(first / RECORDS_PER_BATCH)]!;
          return { first, count: b.header.recordCount, codec: b.header.compression, timestampType: b.header.timestampType, magic: b.header.magic, producerId: b.header.producerId, expectedCodec: storedCodec(client, codec), sameCodecRange: Math.floor((first + b.header.recordCount - 1) / RECORDS_PER_BATCH) === Math.floor(first / RECORDS_PER_BATCH) };
        });
        const where = `${client} p${partition}: ${JSON.stringify(layout, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
        let next = 0;
        for (const b of layout) {
          expect(b.first, where).toBe(next);
          expect(b.sameCodecRange, where).toBe(true);
          expect({ codec: b.codec, timestampType: b.timestampType, magic: b.magic, producerId: b.producerId }, where).toEqual({ codec: b.expectedCodec, timestampType: 0, magic: 2, producerId: -1n });
          next += b.count;
        }
        expect(next, where).toBe(RECORDS_PER_PARTITION);
      }
    }
  });

  const allExpected = () => {
    const missing = CLIENTS.filter((c) => !expected.has(c));
    if (missing.length > 0) throw new Error(`no expectation for ${missing.join(', ')}: its produce test failed`);
    return sortRecords(CLIENTS.flatMap((c) => expected.get(c)!));
  };

  /** Each partition must come out in offset order, whatever the interleaving across partitions. */
  const expectPartitionOrder = (reader: string, records: ReadRecord[]) => {
    const last = new Map<string, number>();
    for (const r of records) {
      const tp = `${r.topic}/${r.partition}`;
      const prev = last.get(tp) ?? -1;
      expect(r.offset, `${reader}: ${tp} out of order`).toBeGreaterThan(prev);
      last.set(tp, r.offset);
    }
  };

  const stripTimestampType = (reader: string, records: PythonReadRecord[], createTime: number): ReadRecord[] =>
    records.map(({ timestampType, ...r }) => {
      expect(timestampType, `${reader}: timestamp type of ${r.topic}/${r.partition}@${r.offset}`).toBe(createTime);
      return r;
    });

  it('StreamHouse\'s own codec decodes every stored record exactly', async () => {
    const got: ReadRecord[] = [];
    for (const topic of allTopics()) {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (const b of (await fetchAllBatches(raw, topic, partition)).batches) {
          for (const r of b.records) {
            got.push({ topic, partition, offset: Number(r.offset), timestamp: Number(r.timestamp), key: r.key?.toString('base64') ?? null, value: r.value?.toString('base64') ?? null, headers: r.headers.map((h) => [h.key, h.value?.toString('base64') ?? null]) });
          }
        }
      }
    }
    expect(sortRecords(got)).toEqual(allExpected());
  });

  it('kafkajs reads every producer\'s records exactly', async () => {
    const got = await kafkajsRead(broker.bootstrap, allTopics());
    expectPartitionOrder('kafkajs', got);
    expect(sortRecords(got)).toEqual(allExpected());
  });

  it('@platformatic/kafka reads every producer\'s records exactly', async () => {
    const got = await platformaticRead(broker.bootstrap, allTopics());
    expectPartitionOrder('platformatic', got);
    expect(sortRecords(got)).toEqual(allExpected());
  });

  it('kcat reads every producer\'s records exactly', async () => {
    const got = await kcatRead(broker.bootstrap, allTopics());
    expectPartitionOrder('kcat', got);
    expect(sortRecords(got)).toEqual(allExpected());
  });

  it('confluent-kafka (assign() with explicit offsets) reads every producer\'s records exactly', async () => {
    const { records, run } = await pythonRead('confluent-produce-consume.py', broker.bootstrap, allTopics().map((name) => ({ name, partitions: PARTITIONS })));
    expectPartitionOrder('confluent', records);
    expect(sortRecords(stripTimestampType('confluent', records, CONFLUENT_CREATE_TIME))).toEqual(allExpected());
    expect(run.errors).toEqual([]);
  });

  it('kafka-python (no group, assign() and seek) reads every producer\'s records exactly', async () => {
    const { records } = await pythonRead('kafka-python-produce-consume.py', broker.bootstrap, allTopics().map((name) => ({ name, partitions: PARTITIONS })));
    expectPartitionOrder('kafka-python', records);
    expect(sortRecords(stripTimestampType('kafka-python', records, KAFKA_PYTHON_CREATE_TIME))).toEqual(allExpected());
  });
});
