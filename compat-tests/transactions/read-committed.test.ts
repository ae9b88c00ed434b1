/**
 * read_committed details, with transactions written over raw Kafka frames and read by real
 * clients: two producers' transactions interleaved in one partition, one aborted and one
 * committed, leave read_committed readers (librdkafka, kcat, kafkajs: each drops aborted
 * batches using Fetch's aborted-transaction ranges) exactly the committed producer's records;
 * the last stable offset follows the first offset of the oldest open transaction; Fetch
 * carries the aborted ranges overlapping each answer, kept after DeleteRecords until the log
 * start passes their marker. A
 * read_committed long poll (Fetch maxWaitMs, minBytes 1) at the last stable offset waits while
 * the transaction is open and returns its records once it commits (Kafka's DelayedFetch
 * compares against the last stable offset under read_committed).
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { deleteRecordsBefore, RawKafkaClient, storedBatches } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopics, endOffsets, fetchOnce, kcatRead, READ_COMMITTED, READ_UNCOMMITTED, runConfluent, type Row } from './support.js';

interface TxnProducer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  /** Next sequence number per partition. */
  sequence: Map<number, number>;
}

describe('read_committed over interleaved transactions and long polls', () => {
  let broker: BrokerProcess;
  let client: RawKafkaClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await createTopics(broker.bootstrap, [
      { topic: 'interleaved', numPartitions: 1 },
      { topic: 'long-poll', numPartitions: 1 },
    ]);
    client = await RawKafkaClient.connect(broker.bootstrap);
  });
  afterAll(async () => {
    client?.close();
    await broker?.cleanup();
  });

  async function begin(transactionalId: string, topic: string, partition: number): Promise<TxnProducer> {
    const init = await client.request(22, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect(init.errorCode).toBe(0);
    const added = await client.request(24, 3, { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: init.producerId, v3AndBelowProducerEpoch: init.producerEpoch, v3AndBelowTopics: [{ name: topic, partitions: [partition] }] });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
    return { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch, sequence: new Map() };
  }

  /** One transactional batch of `values`; returns its base offset. */
  async function produce(p: TxnProducer, topic: string, partition: number, values: string[]): Promise<number> {
    const baseSequence = p.sequence.get(partition) ?? 0;
    p.sequence.set(partition, baseSequence + values.length);
    const records = buildRecordBatch({ baseOffset: 0n, producerId: p.producerId, producerEpoch: p.producerEpoch, baseSequence, isTransactional: true, records: values.map((v) => ({ key: Buffer.from(`${p.transactionalId}`), value: Buffer.from(v), timestamp: BigInt(Date.now()) })) });
    const res = await client.request(0, 9, { transactionalId: p.transactionalId, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
    const r = res.responses[0]!.partitionResponses[0]!;
    expect(r.errorCode, `Produce ${values.join(',')}`).toBe(0);
    return Number(r.baseOffset);
  }

  const endTxn = async (p: TxnProducer, committed: boolean) => (await client.request(26, 3, { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed })).errorCode;
  const ends = async (topic: string) => ({ committed: (await endOffsets(client, topic, 1, READ_COMMITTED))[0], uncommitted: (await endOffsets(client, topic, 1, READ_UNCOMMITTED))[0] });

  it('two producers interleaved in one partition, one aborts and one commits: readers see exactly the committed one', async () => {
    const topic = 'interleaved';
    const a = await begin('interleaved-a', topic, 0);
    const b = await begin('interleaved-b', topic, 0);
    const offsets = [await produce(a, topic, 0, ['a-1', 'a-2']), await produce(b, topic, 0, ['b-1']), await produce(a, topic, 0, ['a-3']), await produce(b, topic, 0, ['b-2', 'b-3'])];
    expect(offsets).toEqual([0, 2, 3, 4]);
    // both open: the last stable offset is the oldest open transaction's first offset
    expect(await ends(topic)).toEqual({ committed: 0, uncommitted: 6 });
    expect(await endTxn(a, false)).toBe(0);
    // a's ABORT marker @6; b still open from offset 2
    await waitUntil('the ABORT marker', async () => (await ends(topic)).uncommitted === 7, 10_000);
    expect(await ends(topic)).toEqual({ committed: 2, uncommitted: 7 });
    expect(await endTxn(b, true)).toBe(0);
    // b's COMMIT marker @7
    await waitUntil('the COMMIT marker', async () => (await ends(topic)).committed === 8, 10_000);
    expect(await ends(topic)).toEqual({ committed: 8, uncommitted: 8 });

    const fetched = await fetchOnce(client, topic, 0, 0, READ_COMMITTED);
    expect(fetched.abortedTransactions).toEqual([{ producerId: Number(a.producerId), firstOffset: 0 }]);
    expect(fetched.batches.map((x) => [x.baseOffset, x.lastOffset, x.producerId, x.isControl, x.values])).toEqual([
      [0, 1, Number(a.producerId), false, ['a-1', 'a-2']],
      [2, 2, Number(b.producerId), false, ['b-1']],
      [3, 3, Number(a.producerId), false, ['a-3']],
      [4, 5, Number(b.producerId), false, ['b-2', 'b-3']],
      [6, 6, Number(a.producerId), true, ['ABORT']],
      [7, 7, Number(b.producerId), true, ['COMMIT']],
    ]);

    // one batch a Fetch (partitionMaxBytes 1): each answer carries the aborted ranges that overlap
    // what it returns, also before the client reaches the ABORT marker (Kafka's collectAbortedTransactions)
    const oneByOne = [];
    for (const from of [0, 2, 3, 4, 6, 7]) {
      const f = await fetchOnce(client, topic, 0, from, READ_COMMITTED, 1);
      oneByOne.push({ from, batches: f.batches.map((x) => [x.baseOffset, x.lastOffset]), aborted: f.abortedTransactions ?? [] });
    }
    const abortedA = [{ producerId: Number(a.producerId), firstOffset: 0 }];
    expect(oneByOne).toEqual([
      { from: 0, batches: [[0, 1]], aborted: abortedA },
      { from: 2, batches: [[2, 2]], aborted: abortedA },
      { from: 3, batches: [[3, 3]], aborted: abortedA },
      { from: 4, batches: [[4, 5]], aborted: abortedA },
      { from: 6, batches: [[6, 6]], aborted: abortedA },
      { from: 7, batches: [[7, 7]], aborted: [] },
    ]);

    const committedRows: Row[] = [
      [0, 2, 'interleaved-b', 'b-1'],
      [0, 4, 'interleaved-b', 'b-2'],
      [0, 5, 'interleaved-b', 'b-3'],
    ];
    const out = await runConfluent(broker.bootstrap, [
      { op: 'read', topic, partitions: 1, isolation: 'read_committed' },
      { op: 'read', topic, partitions: 1, isolation: 'read_uncommitted' },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted] = out.results as Array<{ records: Row[] }>;
    expect(committed!.records).toEqual(committedRows);
    expect(uncommitted!.records.map((r) => [r[1], r[3]])).toEqual([[0, 'a-1'], [1, 'a-2'], [2, 'b-1'], [3, 'a-3'], [4, 'b-2'], [5, 'b-3']]);
    expect(await kcatRead(broker.bootstrap, topic, 'read_committed')).toEqual(committedRows);

    // kafkajs' read_committed consumer
    const kafka = new Kafka({ clientId: 'interleaved-reader', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'interleaved-reader', readUncommitted: false, maxWaitTimeInMs: 100 });
    const rows: Row[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void rows.push([partition, Number(message.offset), message.key?.toString() ?? null, message.value?.toString() ?? null]) });
      await waitUntil('kafkajs to read the committed records', () => rows.length >= 3, 20_000, () => JSON.stringify(rows));
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await consumer.disconnect();
    }
    expect(rows).toEqual(committedRows);

    // DeleteRecords to offset 3 (inside a's aborted range): the range is kept while its marker is
    // at or above the log start, so read_committed readers still drop a-3
    expect(await deleteRecordsBefore(client, topic, 0, 3n)).toEqual({ errorCode: 0, lowWatermark: 3n });
    const afterDelete = await fetchOnce(client, topic, 0, 3, READ_COMMITTED);
    expect({ batches: afterDelete.batches.map((x) => [x.baseOffset, x.lastOffset]), aborted: afterDelete.abortedTransactions }).toEqual({ batches: [[3, 3], [4, 5], [6, 6], [7, 7]], aborted: abortedA });
    const read = await runConfluent(broker.bootstrap, [{ op: 'read', topic, partitions: 1, isolation: 'read_committed' }]);
    expect((read.results[0] as { records: Row[] }).records).toEqual(committedRows.slice(1));
    // past the marker: the range is gone
    expect(await deleteRecordsBefore(client, topic, 0, 7n)).toEqual({ errorCode: 0, lowWatermark: 7n });
    const pastMarker = await fetchOnce(client, topic, 0, 7, READ_COMMITTED);
    expect({ batches: pastMarker.batches.map((x) => [x.baseOffset, x.lastOffset]), aborted: pastMarker.abortedTransactions ?? [] }).toEqual({ batches: [[7, 7]], aborted: [] });
  });

  it('a read_committed long poll at the last stable offset waits while the transaction is open and returns its records when it commits', async () => {
    const topic = 'long-poll';
    const p = await begin('long-poll-txn', topic, 0);
    expect(await produce(p, topic, 0, ['lp-0', 'lp-1'])).toBe(0);
    expect(await ends(topic)).toEqual({ committed: 0, uncommitted: 2 });

    // polls on their own connection: a broker answers one connection's requests in order
    const poller = await RawKafkaClient.connect(broker.bootstrap);
    const longPoll = (maxWaitMs: number) =>
      poller.request(1, 12, {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs,
        minBytes: 1,
        maxBytes: 1024 * 1024,
        isolationLevel: READ_COMMITTED,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1024 * 1024, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
        forgottenTopicsData: [],
        rackId: '',
      });

    // open: the data above the last stable offset does not satisfy minBytes; the poll runs its full wait, empty
    const t0 = Date.now();
    const idle = await longPoll(1000);
    const idleMs = Date.now() - t0;
    const idlePart = idle.responses[0]!.partitions[0]!;
    expect({ errorCode: idlePart.errorCode, records: idlePart.records?.length ?? 0, lso: idlePart.lastStableOffset, hwm: idlePart.highWatermark }).toEqual({ errorCode: 0, records: 0, lso: 0n, hwm: 2n });
    expect(idleMs).toBeGreaterThanOrEqual(900);

    // a poll in flight when the transaction commits returns at the commit, long before its 10 s wait
    const started = Date.now();
    const pending = longPoll(10_000);
    await new Promise((r) => setTimeout(r, 500));
    const committedAt = Date.now();
    expect(await endTxn(p, true)).toBe(0);
    const answer = await pending;
    const answeredAt = Date.now();
    const part = answer.responses[0]!.partitions[0]!;
    expect(part.errorCode).toBe(0);
    expect(answeredAt - started).toBeGreaterThanOrEqual(450);
    expect(answeredAt - committedAt).toBeLessThan(5000);
    const got = await fetchOnce(client, topic, 0, 0, READ_COMMITTED);
    expect(got.lastStableOffset).toBe(3);
    expect(got.batches.map((x) => [x.baseOffset, x.values])).toEqual([
      [0, ['lp-0', 'lp-1']],
      [2, ['COMMIT']],
    ]);
    // the poll's own answer: the committed records (and the marker, whole batches below the last stable offset)
    expect(storedBatches(part.records).map((x) => [Number(x.header.baseOffset), x.header.isControl, x.header.isControl ? null : x.records.map((r) => r.value!.toString())])).toEqual([
      [0, false, ['lp-0', 'lp-1']],
      [2, true, null],
    ]);
    poller.close();
  });
});
