/**
 * The transaction admin APIs over raw Kafka frames: DescribeTransactions, ListTransactions and
 * DescribeProducers show what the coordinator and the partitions hold while a transaction is
 * open and after it commits (Kafka's kafka-transactions.sh describe / list / describe-producers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { createTopics } from './support.js';

const TOPIC = 'txn-admin';

describe('transaction admin APIs, over raw Kafka frames', () => {
  let broker: BrokerProcess;
  let client: RawKafkaClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: 2 }]);
    client = await RawKafkaClient.connect(broker.bootstrap);
  });
  afterAll(async () => {
    client?.close();
    await broker?.cleanup();
  });

  const describeTxn = async (ids: string[]) => (await client.request(65, 0, { transactionalIds: ids })).transactionStates;
  const listTxn = async (stateFilters: string[], producerIdFilters: bigint[] = [], durationFilter = -1n) => client.request(66, 1, { stateFilters, producerIdFilters, durationFilter });
  const describeProducers = async (partitions: number[]) => (await client.request(61, 0, { topics: [{ name: TOPIC, partitionIndexes: partitions }] })).topics[0]!.partitions;

  it('describes, lists and shows the producers of an open transaction, then of the committed one', async () => {
    const init = await client.request(22, 4, { transactionalId: 'admin-txn', transactionTimeoutMs: 45_000, producerId: -1n, producerEpoch: -1 });
    expect(init.errorCode).toBe(0);
    const { producerId, producerEpoch } = init;
    const added = await client.request(24, 3, { v3AndBelowTransactionalId: 'admin-txn', v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: producerEpoch, v3AndBelowTopics: [{ name: TOPIC, partitions: [1] }] });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition).toEqual([{ partitionIndex: 1, partitionErrorCode: 0 }]);
    const records = buildRecordBatch({ baseOffset: 0n, producerId, producerEpoch, baseSequence: 0, isTransactional: true, records: [0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: BigInt(Date.now()) })) });
    const produced = await client.request(0, 9, { transactionalId: 'admin-txn', acks: -1, timeoutMs: 10_000, topicData: [{ name: TOPIC, partitionData: [{ index: 1, records }] }] });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);

    const [open] = await describeTxn(['admin-txn']);
    expect(open!.transactionStartTimeMs).toBeGreaterThan(0n);
    expect({ ...open!, transactionStartTimeMs: 0n }).toEqual({
      errorCode: 0,
      transactionalId: 'admin-txn',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 45_000,
      transactionStartTimeMs: 0n,
      producerId,
      producerEpoch,
      topics: [{ topic: TOPIC, partitions: [1] }],
    });
    const ongoing = await listTxn(['Ongoing', 'NoSuchState']);
    expect(ongoing.errorCode).toBe(0);
    expect(ongoing.unknownStateFilters).toEqual(['NoSuchState']);
    expect(ongoing.transactionStates).toEqual([{ transactionalId: 'admin-txn', producerId, transactionState: 'Ongoing' }]);
    expect((await listTxn([], [producerId + 1n])).transactionStates).toEqual([]);
    expect((await listTxn([], [], 600_000n)).transactionStates).toEqual([]);
    expect(await describeProducers([0, 1])).toEqual([
      { partitionIndex: 0, errorCode: 0, errorMessage: null, activeProducers: [] },
      { partitionIndex: 1, errorCode: 0, errorMessage: null, activeProducers: [{ producerId, producerEpoch, lastSequence: 2, lastTimestamp: -1n, coordinatorEpoch: 0, currentTxnStartOffset: 0n }] },
    ]);

    expect((await client.request(26, 3, { transactionalId: 'admin-txn', producerId, producerEpoch, committed: true })).errorCode).toBe(0);
    const [committed] = await describeTxn(['admin-txn']);
    expect({ state: committed!.transactionState, start: committed!.transactionStartTimeMs, topics: committed!.topics }).toEqual({ state: 'CompleteCommit', start: -1n, topics: [] });
    expect((await listTxn(['Ongoing'])).transactionStates).toEqual([]);
    expect((await listTxn(['CompleteCommit'])).transactionStates).toEqual([{ transactionalId: 'admin-txn', producerId, transactionState: 'CompleteCommit' }]);
    // the COMMIT marker (offset 3) ended the transaction on the partition
    expect((await describeProducers([1]))[0]!.activeProducers).toEqual([{ producerId, producerEpoch, lastSequence: 2, lastTimestamp: -1n, coordinatorEpoch: 0, currentTxnStartOffset: -1n }]);
  });

  it('answers TRANSACTIONAL_ID_NOT_FOUND for an id never initialised, and UNKNOWN_TOPIC_OR_PARTITION for producers of a missing partition', async () => {
    const [missing] = await describeTxn(['never-initialised']);
    expect({ errorCode: missing!.errorCode, transactionalId: missing!.transactionalId }).toEqual({ errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: 'never-initialised' });
    const [bad] = await describeProducers([7]);
    expect({ partitionIndex: bad!.partitionIndex, errorCode: bad!.errorCode, activeProducers: bad!.activeProducers }).toEqual({ partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, activeProducers: [] });
  });
});
