/**
 * A transaction left open past its transaction timeout (kafkajs, transactionTimeout 3000 ms)
 * on a broker checking for timed-out transactions every 500 ms
 * (--transaction-abort-timed-out-transaction-cleanup-interval-ms, Kafka's
 * transaction.abort.timed.out.transaction.cleanup.interval.ms): the coordinator aborts it and
 * bumps the producer's epoch, as Kafka 3.9 does. Its records never reach read_committed
 * readers; read_committed's end offset stays at its first record while it is open and moves
 * past its abort marker after (a plain record written after it stays invisible to
 * read_committed until then); the producer's next send and its commit are refused with
 * INVALID_PRODUCER_EPOCH (47: Produce with an old epoch; EndTxn v1, which kafkajs speaks,
 * gets 47 where newer versions get PRODUCER_FENCED). A new producer with the same
 * transactional id works.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { byPartition, createTopics, endOffsets, fetchOnce, outcome, READ_COMMITTED, READ_UNCOMMITTED, runConfluent, type Row } from './support.js';

const TOPIC = 'txn-timeout';
const TIMEOUT_MS = 3000;
const CLEANUP_INTERVAL_MS = 500;
const FENCED = { type: 'INVALID_PRODUCER_EPOCH', code: ErrorCode.INVALID_PRODUCER_EPOCH };

describe('a transaction that outlives its timeout (kafkajs)', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let client: RawKafkaClient;
  const producers: Producer[] = [];

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--transaction-abort-timed-out-transaction-cleanup-interval-ms', String(CLEANUP_INTERVAL_MS)] });
    kafka = new Kafka({ clientId: 'txn-timeout', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    client = await RawKafkaClient.connect(broker.bootstrap);
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: 1 }]);
  });
  afterAll(async () => {
    client?.close();
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await broker?.cleanup();
  });

  function producer(transactionalId: string, transactionTimeout?: number): Producer {
    const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, ...(transactionTimeout !== undefined ? { transactionTimeout } : {}) });
    producers.push(p);
    return p;
  }

  const ends = async () => ({ committed: (await endOffsets(client, TOPIC, 1, READ_COMMITTED))[0]!, uncommitted: (await endOffsets(client, TOPIC, 1, READ_UNCOMMITTED))[0]! });

  it('is aborted by the coordinator: never visible, the end offsets move past it, the producer is fenced', async () => {
    // a committed transaction first: before-0 @0, before-1 @1, marker @2
    const first = producer('timeout-first');
    await first.connect();
    const done = await first.transaction();
    await done.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'b0', value: 'before-0' }, { partition: 0, key: 'b1', value: 'before-1' }] });
    await done.commit();
    await waitUntil('the first commit marker', async () => (await ends()).committed === 3, 10_000);
    expect(await ends()).toEqual({ committed: 3, uncommitted: 3 });

    // a plain (non-transactional) producer, connected beforehand
    const plain = kafka.producer();
    producers.push(plain);
    await plain.connect();

    // the transaction left open: late-0..2 @3..5, then a plain record @6 that read_committed may
    // not see before the transaction ends either (it is above the last stable offset)
    const late = producer('timeout-late', TIMEOUT_MS);
    await late.connect();
    const open = await late.transaction();
    // the transaction starts with the send's AddPartitionsToTxn: after this instant
    const startedBy = Date.now();
    await open.send({ topic: TOPIC, acks: -1, messages: [0, 1, 2].map((i) => ({ partition: 0, key: `l${i}`, value: `late-${i}` })) });
    expect(await ends()).toEqual({ committed: 3, uncommitted: 6 });
    await plain.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'p0', value: 'plain-0' }] });
    expect(await ends()).toEqual({ committed: 3, uncommitted: 7 });
    // Fetch while it is open: read_committed stops at the last stable offset, read_uncommitted does not
    const openCommitted = await fetchOnce(client, TOPIC, 0, 0, READ_COMMITTED);
    const openUncommitted = await fetchOnce(client, TOPIC, 0, 0, READ_UNCOMMITTED);
    const firstPid = openCommitted.batches[0]?.producerId;
    const latePid = openUncommitted.batches[2]?.producerId;
    const lateEpoch = openUncommitted.batches[2]?.producerEpoch;
    const beforeBatches = [
      { baseOffset: 0, lastOffset: 1, isTransactional: true, isControl: false, producerId: firstPid, producerEpoch: 0, values: ['before-0', 'before-1'] },
      { baseOffset: 2, lastOffset: 2, isTransactional: true, isControl: true, producerId: firstPid, producerEpoch: 0, values: ['COMMIT'] },
    ];
    const lateBatch = { baseOffset: 3, lastOffset: 5, isTransactional: true, isControl: false, producerId: latePid, producerEpoch: lateEpoch, values: ['late-0', 'late-1', 'late-2'] };
    // kafkajs' plain producer: no producer id (-1), epoch 0
    const plainBatch = { baseOffset: 6, lastOffset: 6, isTransactional: false, isControl: false, producerId: -1, producerEpoch: 0, values: ['plain-0'] };
    expect(latePid).not.toBe(firstPid);
    expect({ ...openCommitted, abortedTransactions: openCommitted.abortedTransactions ?? [] }).toEqual({ errorCode: 0, highWatermark: 7, lastStableOffset: 3, abortedTransactions: [], batches: beforeBatches });
    expect({ ...openUncommitted, abortedTransactions: openUncommitted.abortedTransactions ?? [] }).toEqual({ errorCode: 0, highWatermark: 7, lastStableOffset: 3, abortedTransactions: [], batches: [...beforeBatches, lateBatch, plainBatch] });

    // the coordinator aborts it once the timeout passed: an abort marker @7
    await waitUntil('the timed-out transaction to be aborted', async () => (await ends()).committed !== 3, TIMEOUT_MS + CLEANUP_INTERVAL_MS + 10_000);
    const abortedAfterMs = Date.now() - startedBy;
    expect(await ends()).toEqual({ committed: 8, uncommitted: 8 });
    // not before its timeout; and soon after it, at the 500 ms check interval (Kafka's default is 10 s)
    expect(abortedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(abortedAfterMs).toBeLessThan(TIMEOUT_MS + CLEANUP_INTERVAL_MS + 2500);
    // read_committed Fetch now returns its batch with its aborted range, and the ABORT marker
    // written under the bumped epoch (Kafka fences the producer with epoch + 1 when it times out)
    const abortedFetch = await fetchOnce(client, TOPIC, 0, 0, READ_COMMITTED);
    expect(abortedFetch).toEqual({
      errorCode: 0,
      highWatermark: 8,
      lastStableOffset: 8,
      abortedTransactions: [{ producerId: latePid, firstOffset: 3 }],
      batches: [...beforeBatches, lateBatch, plainBatch, { baseOffset: 7, lastOffset: 7, isTransactional: true, isControl: true, producerId: latePid, producerEpoch: lateEpoch! + 1, values: ['ABORT'] }],
    });

    // its producer was fenced by the abort's epoch bump: a send to its partition (Produce) and EndTxn are refused
    expect(await outcome(open.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'l3', value: 'late-3' }] }))).toEqual(FENCED);
    expect(await outcome(open.commit())).toEqual(FENCED);
    expect(await ends()).toEqual({ committed: 8, uncommitted: 8 });

    const out = await runConfluent(broker.bootstrap, [
      { op: 'read', topic: TOPIC, partitions: 1, isolation: 'read_committed' },
      { op: 'read', topic: TOPIC, partitions: 1, isolation: 'read_uncommitted' },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted] = out.results as Array<{ records: Row[] }>;
    expect(committed!.records).toEqual([
      [0, 0, 'b0', 'before-0'],
      [0, 1, 'b1', 'before-1'],
      [0, 6, 'p0', 'plain-0'],
    ]);
    expect(byPartition(uncommitted!.records, 1)).toEqual([
      [
        [0, 0, 'b0', 'before-0'],
        [0, 1, 'b1', 'before-1'],
        [0, 3, 'l0', 'late-0'],
        [0, 4, 'l1', 'late-1'],
        [0, 5, 'l2', 'late-2'],
        [0, 6, 'p0', 'plain-0'],
      ],
    ]);

    // a new producer with that transactional id initialises (a newer epoch) and commits: after-0 @8, marker @9
    const again = producer('timeout-late', TIMEOUT_MS);
    await again.connect();
    const txn = await again.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'a0', value: 'after-0' }] });
    await txn.commit();
    await waitUntil('the new commit marker', async () => (await ends()).committed === 10, 10_000, () => 'end offsets did not reach 10');
    const after = await runConfluent(broker.bootstrap, [{ op: 'read', topic: TOPIC, partitions: 1, isolation: 'read_committed' }]);
    expect((after.results[0] as { records: Row[] }).records.map((r) => [r[1], r[3]])).toEqual([
      [0, 'before-0'],
      [1, 'before-1'],
      [6, 'plain-0'],
      [8, 'after-0'],
    ]);
  });
});
