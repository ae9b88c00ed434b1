/**
 * kafkajs transactions against a broker process: a consume-transform-produce loop. A consumer
 * in group G (autoCommit off, read_committed) reads a pre-filled 3-partition input topic; each
 * chunk of at most CHUNK records is transformed and sent to the output topic in one
 * transaction together with the consumed offsets (sendOffsets: AddOffsetsToTxn +
 * TxnOffsetCommit), then committed. One transaction in the middle is aborted on purpose: its
 * output never reaches read_committed readers and its offsets are not committed, so the loop
 * seeks back and processes that chunk again. At the end the group's committed offsets are the
 * input's end offsets and the read_committed output holds every input record transformed
 * exactly once, in order, at the offsets the log layout gives.
 */
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { byPartition, createTopics, expectedLog, runConfluent, waitUntilStable, withAdmin, type PlannedTransaction, type Row } from './support.js';

const PARTITIONS = 3;
const PER_PARTITION = 100;
const CHUNK = 15;
const INPUT = 'ctp-input';
const OUTPUT = 'ctp-output';
const GROUP = 'ctp-group';
/** The transaction (counted from 0 over the whole run) that is aborted instead of committed. */
const ABORTED_TXN = 4;

const inputValue = (p: number, i: number) => `in-p${p}-${String(i).padStart(3, '0')}`;
const transform = (value: string) => `OUT(${value.toUpperCase()})`;

describe('kafkajs transactions: consume-transform-produce with sendOffsets', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '0'] });
    kafka = new Kafka({ clientId: 'txn-ctp', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    await createTopics(broker.bootstrap, [
      { topic: INPUT, numPartitions: PARTITIONS },
      { topic: OUTPUT, numPartitions: PARTITIONS },
    ]);
    // 300 input records in 10 sends of 10 per partition (plain, non-transactional)
    const plain = kafka.producer();
    await plain.connect();
    for (let round = 0; round < PER_PARTITION / 10; round++) {
      const messages = [];
      for (let p = 0; p < PARTITIONS; p++) for (let j = 0; j < 10; j++) messages.push({ partition: p, key: `k${p}-${round * 10 + j}`, value: inputValue(p, round * 10 + j) });
      await plain.send({ topic: INPUT, acks: -1, messages });
    }
    await plain.disconnect();
  });
  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await broker?.cleanup();
  });

  it('every input record is transformed exactly once into the read_committed output; the aborted transaction leaves no output and no offsets', async () => {
    const inputEnds = await withAdmin(broker.bootstrap, (admin) => admin.fetchTopicOffsets(INPUT));
    expect(inputEnds.map((o) => [o.partition, o.low, o.high]).sort()).toEqual([0, 1, 2].map((p) => [p, '0', String(PER_PARTITION)]));

    producer = kafka.producer({ transactionalId: 'ctp-transformer', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = kafka.consumer({ groupId: GROUP, readUncommitted: false, maxWaitTimeInMs: 100, retry: { retries: 3 } });
    await consumer.connect();
    await consumer.subscribe({ topic: INPUT, fromBeginning: true });

    /** The transactions run, in order, as the output log must hold them. */
    const ran: PlannedTransaction[] = [];
    /** Offsets the group must have committed, per input partition, after each committed transaction. */
    const committedNext = [0, 0, 0];
    const problems: string[] = [];
    let abortedChunk: { partition: number; first: number; next: number; standing: number[]; groupOffsetsAfterAbort: Array<{ partition: number; offset: string }> } | undefined;
    let crashed: Error | undefined;
    consumer.on(consumer.events.CRASH, (e) => (crashed = e.payload.error));

    const txnProducer = producer;
    const activeConsumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const partition = batch.partition;
        for (let start = 0; start < batch.messages.length; start += CHUNK) {
          const chunk = batch.messages.slice(start, start + CHUNK);
          const first = Number(chunk[0]!.offset);
          const next = Number(chunk[chunk.length - 1]!.offset) + 1;
          if (first !== committedNext[partition]) problems.push(`partition ${partition}: chunk starts at ${first}, expected ${committedNext[partition]}`);
          const records = chunk.map((m) => ({ partition, key: m.key!.toString(), value: transform(m.value!.toString()) }));
          const abort = ran.length === ABORTED_TXN;
          const txn = await txnProducer.transaction();
          await txn.send({ topic: OUTPUT, messages: records.map((r) => ({ partition: r.partition, key: r.key, value: r.value })) });
          await txn.sendOffsets({ consumerGroupId: GROUP, topics: [{ topic: INPUT, partitions: [{ partition, offset: String(next) }] }] });
          ran.push({ commit: !abort, records });
          if (abort) {
            await txn.abort();
            // the aborted transaction's offsets were not committed: the group still has the previous ones
            const offsets = await withAdmin(broker.bootstrap, (admin) => admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] }));
            abortedChunk = { partition, first, next, standing: [...committedNext], groupOffsetsAfterAbort: offsets[0]!.partitions.map((o) => ({ partition: o.partition, offset: o.offset })) };
            // process the chunk again from its first record
            activeConsumer.seek({ topic: INPUT, partition, offset: String(first) });
            return;
          }
          await txn.commit();
          committedNext[partition] = next;
          resolveOffset(chunk[chunk.length - 1]!.offset);
          await heartbeat();
        }
      },
    });

    await waitUntil(
      'the loop to process every input record',
      () => crashed !== undefined || committedNext.every((n) => n === PER_PARTITION),
      45_000,
      () => `committed up to ${JSON.stringify(committedNext)}; ${ran.length} transactions; problems: ${problems.join('; ')}`,
    );
    expect(crashed).toBeUndefined();
    await consumer.stop();
    expect(problems).toEqual([]);

    // after the abort the group had the offsets of each partition's last committed transaction
    // (none yet: -1), not the aborted one's
    expect(abortedChunk).toBeDefined();
    const { partition: abortedPartition, first: abortedFirst, next: abortedNext, standing, groupOffsetsAfterAbort } = abortedChunk!;
    expect(abortedFirst).toBe(standing[abortedPartition]);
    expect(abortedNext).toBeGreaterThan(abortedFirst);
    expect(groupOffsetsAfterAbort.map((o) => [o.partition, o.offset]).sort()).toEqual(standing.map((n, p) => [p, n === 0 ? '-1' : String(n)]));

    // the group's committed offsets are exactly the input's end offsets
    // (Kafka answers EndTxn before the offsets' markers are written: the last ones show up soon after)
    const wantOffsets = [0, 1, 2].map((p) => [p, String(PER_PARTITION)]);
    let finalOffsets: unknown;
    await waitUntil(
      'the last committed offsets',
      async () => {
        const fetched = await withAdmin(broker.bootstrap, (admin) => admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] }));
        finalOffsets = fetched[0]!.partitions.map((o) => [o.partition, o.offset]).sort();
        return JSON.stringify(finalOffsets) === JSON.stringify(wantOffsets);
      },
      10_000,
      () => `last: ${JSON.stringify(finalOffsets)}`,
    );
    expect(finalOffsets).toEqual(wantOffsets);

    // the output: each transaction's records then a marker; read_committed holds every input record once
    const layout = expectedLog(ran, PARTITIONS);
    expect(await waitUntilStable(broker.bootstrap, OUTPUT, PARTITIONS)).toEqual(layout.end);
    const expectedOutput = [0, 1, 2].map((p) => Array.from({ length: PER_PARTITION }, (_, i) => transform(inputValue(p, i))));
    expect(layout.committed.map((rows) => rows.map((r) => r[3]))).toEqual(expectedOutput);
    const out = await runConfluent(broker.bootstrap, [
      { op: 'read', topic: OUTPUT, partitions: PARTITIONS, isolation: 'read_committed' },
      { op: 'read', topic: OUTPUT, partitions: PARTITIONS, isolation: 'read_uncommitted' },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted] = out.results as Array<{ records: Row[] }>;
    expect(byPartition(committed!.records, PARTITIONS)).toEqual(layout.committed);
    // read_uncommitted also shows the aborted transaction's output (the aborted chunk twice)
    expect(byPartition(uncommitted!.records, PARTITIONS)).toEqual(layout.all);
    expect(uncommitted!.records.length).toBe(PARTITIONS * PER_PARTITION + ran[ABORTED_TXN]!.records.length);

    // kafkajs' own read_committed consumer (Fetch's aborted transactions list) agrees
    const kafkajsRead = await readWithKafkajs(kafka, OUTPUT, PARTITIONS * PER_PARTITION);
    expect(byPartition(kafkajsRead, PARTITIONS)).toEqual(layout.committed);
  });
});

/** Reads a topic from the beginning with a fresh read_committed kafkajs consumer until `count` records came and 1 s more passed. */
async function readWithKafkajs(kafka: Kafka, topic: string, count: number): Promise<Row[]> {
  const reader = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const rows: Row[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) => {
        rows.push([partition, Number(message.offset), message.key?.toString() ?? null, message.value?.toString() ?? null]);
      },
    });
    await waitUntil(`kafkajs to read ${count} records of ${topic}`, () => rows.length >= count, 30_000, () => `read ${rows.length}`);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await reader.disconnect();
  }
  return rows;
}
