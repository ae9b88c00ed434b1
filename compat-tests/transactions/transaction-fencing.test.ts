/**
 * Zombie fencing with kafkajs against a broker process: two producers share a transactional
 * id. The first begins a transaction and writes; the second initialises (InitProducerId bumps
 * the epoch and aborts the first one's open transaction). The first one's further sends, to a
 * new partition (AddPartitionsToTxn) or to one already in the transaction (Produce), and its
 * commit (EndTxn) are refused with INVALID_PRODUCER_EPOCH: kafkajs speaks AddPartitionsToTxn
 * and EndTxn v1, below the versions that know PRODUCER_FENCED (90), and Kafka answers them
 * with INVALID_PRODUCER_EPOCH (47) instead; a Produce with an old epoch is 47 at every version.
 * None of the zombie's records ever reaches a read_committed reader; the second producer's
 * committed transaction does. librdkafka (confluent-kafka) in the same situation: the Produce
 * after the successor's InitProducerId gets INVALID_PRODUCER_EPOCH, which librdkafka raises as
 * its fatal _FENCED (-144) from flush() and commit_transaction().
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { byPartition, createTopics, expectedLog, outcome, runConfluent, waitUntilStable, type Row } from './support.js';

interface Report {
  partition: number;
  offset: number;
  key: string;
  value: string;
  error: { code: number; name: string } | null;
}

const TOPIC = 'fencing';
const PARTITIONS = 2;
const TRANSACTIONAL_ID = 'shared-transactional-id';
const FENCED = { type: 'INVALID_PRODUCER_EPOCH', code: ErrorCode.INVALID_PRODUCER_EPOCH };

describe('transactional producers fencing each other (kafkajs)', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  const producers: Producer[] = [];

  beforeAll(async () => {
    broker = await startBrokerProcess();
    kafka = new Kafka({ clientId: 'txn-fencing', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: PARTITIONS }]);
  });
  afterAll(async () => {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await broker?.cleanup();
  });

  async function transactionalProducer(): Promise<Producer> {
    const p = kafka.producer({ transactionalId: TRANSACTIONAL_ID, idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    await p.connect();
    return p;
  }

  it("a second producer's InitProducerId fences the first: its sends and commit get INVALID_PRODUCER_EPOCH and nothing of it becomes visible", async () => {
    const zombie = await transactionalProducer();
    const zombieTxn = await zombie.transaction();
    await zombieTxn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'z0', value: 'zombie-0' }, { partition: 0, key: 'z1', value: 'zombie-1' }] });

    // the successor initialises with the same transactional id: a newer epoch; the zombie's open transaction is aborted
    const successor = await transactionalProducer();
    const successorTxn = await successor.transaction();

    // the zombie: a partition it has not added yet (AddPartitionsToTxn v1), one it has (Produce), then EndTxn v1
    expect(await outcome(zombieTxn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 1, key: 'z2', value: 'zombie-2' }] }))).toEqual(FENCED);
    expect(await outcome(zombieTxn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 'z3', value: 'zombie-3' }] }))).toEqual(FENCED);
    expect(await outcome(zombieTxn.commit())).toEqual(FENCED);

    // the successor works normally
    await successorTxn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, key: 's0', value: 'successor-0' }, { partition: 1, key: 's1', value: 'successor-1' }] });
    await successorTxn.commit();

    // the log: the zombie's two records (aborted by the coordinator, a marker after them), then the successor's committed transaction
    const layout = expectedLog(
      [
        { commit: false, records: [{ partition: 0, key: 'z0', value: 'zombie-0' }, { partition: 0, key: 'z1', value: 'zombie-1' }] },
        { commit: true, records: [{ partition: 0, key: 's0', value: 'successor-0' }, { partition: 1, key: 's1', value: 'successor-1' }] },
      ],
      PARTITIONS,
    );
    expect(await waitUntilStable(broker.bootstrap, TOPIC, PARTITIONS)).toEqual(layout.end);
    expect(layout.end).toEqual([5, 2]);
    const out = await runConfluent(broker.bootstrap, [
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_committed' },
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_uncommitted' },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted] = out.results as Array<{ records: Row[] }>;
    expect(byPartition(committed!.records, PARTITIONS)).toEqual([[[0, 3, 's0', 'successor-0']], [[1, 0, 's1', 'successor-1']]]);
    // the refused sends wrote nothing: only the zombie's first two records are in the log
    expect(byPartition(uncommitted!.records, PARTITIONS)).toEqual(layout.all);

    // the successor goes on: a second transaction commits after the first
    const next = await successor.transaction();
    await next.send({ topic: TOPIC, acks: -1, messages: [{ partition: 1, key: 's2', value: 'successor-2' }] });
    await next.commit();
    expect(await waitUntilStable(broker.bootstrap, TOPIC, PARTITIONS)).toEqual([5, 4]);
  });

  it('librdkafka (confluent-kafka): the fenced producer\'s records fail and its commit raises a fatal error; only the successor\'s transaction is visible', async () => {
    const topic = 'fencing-librdkafka';
    await createTopics(broker.bootstrap, [{ topic, numPartitions: PARTITIONS }]);
    const first = [{ partition: 0, key: 'z0', value: 'zombie-0' }, { partition: 1, key: 'z1', value: 'zombie-1' }];
    const late = [{ partition: 0, key: 'z2', value: 'zombie-2' }];
    const second = [{ partition: 0, key: 's0', value: 'successor-0' }, { partition: 1, key: 's1', value: 'successor-1' }];
    const out = await runConfluent(broker.bootstrap, [{ op: 'zombie', topic, transactional_id: 'librdkafka-shared-id', first, late, second }]);
    const got = out.results[0] as { first: Report[]; late: Report[]; flush: unknown; commit: unknown; second: Report[] };
    const fatalFenced = { code: -144, name: '_FENCED', fatal: true, retriable: false, txn_requires_abort: false };
    // the zombie's first records were written; the one produced after the successor's InitProducerId
    // was refused (Kafka: INVALID_PRODUCER_EPOCH, which librdkafka turns into its fatal _FENCED)
    expect(byPartition(got.first.map((r): Row => [r.partition, r.offset, r.key, r.value]), PARTITIONS)).toEqual([[[0, 0, 'z0', 'zombie-0']], [[1, 0, 'z1', 'zombie-1']]]);
    expect(got.first.map((r) => r.error)).toEqual([null, null]);
    expect(got.late.filter((r) => r.error === null)).toEqual([]);
    expect({ flush: got.flush, commit: got.commit }).toEqual({ flush: fatalFenced, commit: fatalFenced });
    expect(got.second.map((r) => r.error)).toEqual([null, null]);
    expect(byPartition(got.second.map((r): Row => [r.partition, r.offset, r.key, r.value]), PARTITIONS)).toEqual([[[0, 2, 's0', 'successor-0']], [[1, 2, 's1', 'successor-1']]]);

    // zombie records @0 and its abort markers @1; the successor's records @2 and commit markers @3
    expect(await waitUntilStable(broker.bootstrap, topic, PARTITIONS)).toEqual([4, 4]);
    const read = await runConfluent(broker.bootstrap, [
      { op: 'read', topic, partitions: PARTITIONS, isolation: 'read_committed' },
      { op: 'read', topic, partitions: PARTITIONS, isolation: 'read_uncommitted' },
    ]);
    expect(read.errors).toEqual([]);
    const [committed, uncommitted] = read.results as Array<{ records: Row[] }>;
    expect(byPartition(committed!.records, PARTITIONS)).toEqual([[[0, 2, 's0', 'successor-0']], [[1, 2, 's1', 'successor-1']]]);
    expect(byPartition(uncommitted!.records, PARTITIONS)).toEqual([
      [[0, 0, 'z0', 'zombie-0'], [0, 2, 's0', 'successor-0']],
      [[1, 0, 'z1', 'zombie-1'], [1, 2, 's1', 'successor-1']],
    ]);
  });
});
