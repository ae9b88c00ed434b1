/**
 * Transaction APIs given bad input, over raw Kafka frames (the test kit's client on our codec):
 * each request gets the error code Kafka 3.9 answers with (its TransactionCoordinator and
 * KafkaApis) and changes nothing. What "nothing" means is checked each time: an
 * AddPartitionsToTxn that failed added no partition (EndTxn then finds the transaction Empty:
 * INVALID_TXN_STATE), a refused Produce wrote no batch (end offsets unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopics, endOffsets, READ_COMMITTED, READ_UNCOMMITTED } from './support.js';

const TOPIC = 'txn-bad-input';
const PARTITIONS = 3;
/** Kafka's transaction.max.timeout.ms default. */
const MAX_TIMEOUT_MS = 900_000;

describe('transaction APIs given bad input, over raw Kafka frames', () => {
  let broker: BrokerProcess;
  let client: RawKafkaClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: PARTITIONS }]);
    client = await RawKafkaClient.connect(broker.bootstrap);
  });
  afterAll(async () => {
    client?.close();
    await broker?.cleanup();
  });

  /** InitProducerId v4 for a transactional id; fails the test unless it succeeds. */
  async function initProducer(transactionalId: string, transactionTimeoutMs = 60_000): Promise<{ producerId: bigint; producerEpoch: number }> {
    const res = await client.request(22, 4, { transactionalId, transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
    expect(res.errorCode, `InitProducerId ${transactionalId}`).toBe(0);
    return { producerId: res.producerId, producerEpoch: res.producerEpoch };
  }

  /** AddPartitionsToTxn (v0-3, as clients send it): error code per "topic/partition". */
  async function addPartitions(version: number, transactionalId: string, producerId: bigint, producerEpoch: number, topics: Array<{ name: string; partitions: number[] }>): Promise<Record<string, number>> {
    const res = await client.request(24, version, { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: producerEpoch, v3AndBelowTopics: topics });
    const out: Record<string, number> = {};
    for (const t of res.resultsByTopicV3AndBelow) for (const p of t.resultsByPartition) out[`${t.name}/${p.partitionIndex}`] = p.partitionErrorCode;
    return out;
  }

  async function addOffsets(version: number, transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    return (await client.request(25, version, { transactionalId, producerId, producerEpoch, groupId })).errorCode;
  }

  async function endTxn(version: number, transactionalId: string, producerId: bigint, producerEpoch: number, committed: boolean): Promise<number> {
    return (await client.request(26, version, { transactionalId, producerId, producerEpoch, committed })).errorCode;
  }

  /** A transactional Produce of one record to one partition; the partition's error code and base offset. */
  async function produceTransactional(version: number, transactionalId: string, producerId: bigint, producerEpoch: number, partition: number, baseSequence: number, value: string) {
    const records = buildRecordBatch({ baseOffset: 0n, producerId, producerEpoch, baseSequence, isTransactional: true, records: [{ key: null, value: Buffer.from(value), timestamp: BigInt(Date.now()) }] });
    const res = await client.request(0, version, { transactionalId, acks: -1, timeoutMs: 10_000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }] });
    const p = res.responses[0]!.partitionResponses[0]!;
    return { errorCode: p.errorCode, baseOffset: p.baseOffset };
  }

  it('FindCoordinator with key type 1 (transaction) answers this broker', async () => {
    const metadata = await client.request(3, 12, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(metadata.brokers).toHaveLength(1);
    const self = metadata.brokers[0]!;
    expect({ host: self.host, port: self.port }).toEqual({ host: '127.0.0.1', port: broker.kafkaPort });
    const v4 = await client.request(10, 4, { keyType: 1, coordinatorKeys: ['txn-a', 'txn-b'] });
    expect(v4.coordinators.map((c) => ({ key: c.key, nodeId: c.nodeId, host: c.host, port: c.port, errorCode: c.errorCode }))).toEqual(
      ['txn-a', 'txn-b'].map((key) => ({ key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode: 0 })),
    );
    const v1 = await client.request(10, 1, { key: 'txn-a', keyType: 1 });
    expect({ errorCode: v1.errorCode, nodeId: v1.nodeId, host: v1.host, port: v1.port }).toEqual({ errorCode: 0, nodeId: self.nodeId, host: self.host, port: self.port });
  });

  it('InitProducerId: a timeout above transaction.max.timeout.ms or not positive is INVALID_TRANSACTION_TIMEOUT, an empty id INVALID_REQUEST', async () => {
    for (const transactionTimeoutMs of [MAX_TIMEOUT_MS + 1, 0, -1]) {
      const res = await client.request(22, 4, { transactionalId: 'timeout-check', transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
      expect({ transactionTimeoutMs, errorCode: res.errorCode }).toEqual({ transactionTimeoutMs, errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT });
    }
    // the refused requests created nothing: EndTxn for that id knows no producer
    expect(await endTxn(3, 'timeout-check', 0n, 0, false)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // exactly the maximum is accepted
    const atMax = await initProducer('timeout-check', MAX_TIMEOUT_MS);
    expect(atMax.producerEpoch).toBe(0);
    const empty = await client.request(22, 4, { transactionalId: '', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect(empty.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('EndTxn, AddPartitionsToTxn and AddOffsetsToTxn for a transactional id never initialised: INVALID_PRODUCER_ID_MAPPING', async () => {
    expect(await endTxn(3, 'never-initialised', 4242n, 0, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await endTxn(0, 'never-initialised', 4242n, 0, false)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await addPartitions(3, 'never-initialised', 4242n, 0, [{ name: TOPIC, partitions: [0, 1] }])).toEqual({ [`${TOPIC}/0`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING, [`${TOPIC}/1`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING });
    expect(await addOffsets(3, 'never-initialised', 4242n, 0, 'some-group')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // and a known id with another producer id
    const known = await initProducer('known-id');
    expect(await endTxn(3, 'known-id', known.producerId + 1n, known.producerEpoch, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await addPartitions(3, 'known-id', known.producerId + 1n, known.producerEpoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING });
    // nothing was added to it: its transaction is still Empty, so ending one is INVALID_TXN_STATE
    expect(await endTxn(3, 'known-id', known.producerId, known.producerEpoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await endTxn(3, 'known-id', known.producerId, known.producerEpoch, false)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('AddPartitionsToTxn v3 naming an unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION for those, OPERATION_NOT_ATTEMPTED for the others, nothing added', async () => {
    const { producerId, producerEpoch } = await initProducer('unknown-topic');
    const res = await addPartitions(3, 'unknown-topic', producerId, producerEpoch, [
      { name: TOPIC, partitions: [0, 1, 7] },
      { name: 'no-such-topic', partitions: [0] },
    ]);
    expect(res).toEqual({
      [`${TOPIC}/0`]: ErrorCode.OPERATION_NOT_ATTEMPTED,
      [`${TOPIC}/1`]: ErrorCode.OPERATION_NOT_ATTEMPTED,
      [`${TOPIC}/7`]: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'no-such-topic/0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
    // nothing was added (the transaction is Empty) and the unknown topic was not auto-created
    expect(await endTxn(3, 'unknown-topic', producerId, producerEpoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    const metadata = await client.request(3, 12, { topics: [{ name: 'no-such-topic', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(metadata.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // the same producer then adds the real partitions and ends the transaction normally
    expect(await addPartitions(3, 'unknown-topic', producerId, producerEpoch, [{ name: TOPIC, partitions: [0, 1] }])).toEqual({ [`${TOPIC}/0`]: 0, [`${TOPIC}/1`]: 0 });
    expect(await endTxn(3, 'unknown-topic', producerId, producerEpoch, false)).toBe(0);
  });

  it('an older or newer producer epoch: PRODUCER_FENCED from AddPartitionsToTxn/AddOffsetsToTxn/EndTxn v2+, INVALID_PRODUCER_EPOCH from v0-1', async () => {
    const first = await initProducer('epochs');
    // initialising again (no transaction open) bumps the epoch
    const second = await initProducer('epochs');
    expect(second).toEqual({ producerId: first.producerId, producerEpoch: first.producerEpoch + 1 });
    const { producerId } = second;
    const stale = first.producerEpoch;
    const ahead = second.producerEpoch + 5;
    for (const epoch of [stale, ahead]) {
      expect(await addPartitions(3, 'epochs', producerId, epoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: ErrorCode.PRODUCER_FENCED });
      expect(await addPartitions(2, 'epochs', producerId, epoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: ErrorCode.PRODUCER_FENCED });
      expect(await addPartitions(1, 'epochs', producerId, epoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: ErrorCode.INVALID_PRODUCER_EPOCH });
      expect(await endTxn(3, 'epochs', producerId, epoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await endTxn(2, 'epochs', producerId, epoch, false)).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await endTxn(1, 'epochs', producerId, epoch, true)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
      expect(await addOffsets(3, 'epochs', producerId, epoch, 'epochs-group')).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await addOffsets(1, 'epochs', producerId, epoch, 'epochs-group')).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    }
    // none of it added anything: the current epoch's transaction is Empty
    expect(await endTxn(3, 'epochs', producerId, second.producerEpoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    // and the current epoch still works
    expect(await addPartitions(3, 'epochs', producerId, second.producerEpoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: 0 });
    expect(await endTxn(3, 'epochs', producerId, second.producerEpoch, false)).toBe(0);
  });

  it('a transactional Produce to a partition not added to the transaction is refused and not written', async () => {
    // the end offsets settle once the previous tests' abort markers are written
    let before: number[] = [];
    await waitUntil('stable end offsets', async () => {
      before = await endOffsets(client, TOPIC, PARTITIONS, READ_UNCOMMITTED);
      const lso = await endOffsets(client, TOPIC, PARTITIONS, READ_COMMITTED);
      return lso.every((o, i) => o === before[i]);
    }, 10_000);
    const { producerId, producerEpoch } = await initProducer('produce-unadded');
    expect(await addPartitions(3, 'produce-unadded', producerId, producerEpoch, [{ name: TOPIC, partitions: [0] }])).toEqual({ [`${TOPIC}/0`]: 0 });
    // Kafka 3.9 (transaction.partition.verification.enable=true) asks the coordinator; the
    // partition is not in the transaction: Produce v0-10 get INVALID_TXN_STATE, v11 (which knows
    // the error) TRANSACTION_ABORTABLE (KafkaApis.handleProduceRequest / AddPartitionsToTxnManager)
    // (all outcomes gathered first, compared at once: one mismatch does not hide the others)
    const got: Record<string, unknown> = {};
    got.notAddedV9 = (await produceTransactional(9, 'produce-unadded', producerId, producerEpoch, 1, 0, 'not-added-v9')).errorCode;
    got.notAddedV11 = (await produceTransactional(11, 'produce-unadded', producerId, producerEpoch, 2, 0, 'not-added-v11')).errorCode;
    // the verification checks the epoch and the id: a newer epoch than the coordinator's is
    // fenced (PRODUCER_FENCED, which Produce answers as INVALID_PRODUCER_EPOCH), an id it does
    // not know is INVALID_PRODUCER_ID_MAPPING
    got.newerEpoch = (await produceTransactional(9, 'produce-unadded', producerId, producerEpoch + 1, 0, 0, 'newer-epoch')).errorCode;
    got.unknownTransactionalId = (await produceTransactional(9, 'never-initialised-produce', producerId + 1000n, 0, 0, 0, 'unknown-id')).errorCode;
    got.endOffsetsAfterRefusals = await endOffsets(client, TOPIC, PARTITIONS, READ_UNCOMMITTED);
    // the added partition takes the record; committing writes one marker there only
    got.added = await produceTransactional(9, 'produce-unadded', producerId, producerEpoch, 0, 0, 'added');
    got.commit = await endTxn(3, 'produce-unadded', producerId, producerEpoch, true);
    const want = [before[0]! + 2, before[1]!, before[2]!];
    await waitUntil('the commit marker', async () => (await endOffsets(client, TOPIC, PARTITIONS, READ_COMMITTED))[0] === want[0], 10_000).catch(() => undefined);
    // EndTxn again: the same outcome is a retry (NONE, no second marker), the other INVALID_TXN_STATE
    got.commitAgain = await endTxn(3, 'produce-unadded', producerId, producerEpoch, true);
    got.abortAfterCommit = await endTxn(3, 'produce-unadded', producerId, producerEpoch, false);
    got.endOffsets = await endOffsets(client, TOPIC, PARTITIONS, READ_UNCOMMITTED);
    got.stableOffsets = await endOffsets(client, TOPIC, PARTITIONS, READ_COMMITTED);
    expect(got).toEqual({
      notAddedV9: ErrorCode.INVALID_TXN_STATE,
      notAddedV11: ErrorCode.TRANSACTION_ABORTABLE,
      newerEpoch: ErrorCode.INVALID_PRODUCER_EPOCH,
      unknownTransactionalId: ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      endOffsetsAfterRefusals: before,
      added: { errorCode: 0, baseOffset: BigInt(before[0]!) },
      commit: 0,
      commitAgain: 0,
      abortAfterCommit: ErrorCode.INVALID_TXN_STATE,
      endOffsets: want,
      stableOffsets: want,
    });
    expect(client.isClosed).toBe(false);
    expect(broker.process.exitCode).toBeNull();
  });

  it('InitProducerId v3+ with the producer id and epoch: a bump, its retry answered with the same epoch, a fenced instance refused', async () => {
    // Kafka's TransactionMetadata.prepareIncrementProducerEpoch: the expected epoch must be the
    // current one (bump) or the one the last bump was asked from (a retry, no second bump); an
    // InitProducerId without them (a new instance) forgets the last epoch, so the older
    // instance's epoch is fenced from then on
    const init = (version: number, producerId: bigint, producerEpoch: number) =>
      client.request(22, version, { transactionalId: 'init-epochs', transactionTimeoutMs: 60_000, producerId, producerEpoch }).then((r) => ({ errorCode: r.errorCode, producerEpoch: r.producerEpoch }));
    const first = await initProducer('init-epochs');
    const pid = first.producerId;
    const got = {
      first: first.producerEpoch,
      bump: await init(4, pid, 0),
      retriedBump: await init(4, pid, 0),
      nextBump: await init(4, pid, 1),
      newInstance: await init(4, -1n, -1),
      staleV4: (await init(4, pid, 2)).errorCode,
      staleV3: (await init(3, pid, 2)).errorCode,
      previousV4: (await init(4, pid, 1)).errorCode,
      current: await init(4, pid, 3),
    };
    expect(got).toEqual({
      first: 0,
      bump: { errorCode: 0, producerEpoch: 1 },
      retriedBump: { errorCode: 0, producerEpoch: 1 },
      nextBump: { errorCode: 0, producerEpoch: 2 },
      newInstance: { errorCode: 0, producerEpoch: 3 },
      staleV4: ErrorCode.PRODUCER_FENCED,
      staleV3: ErrorCode.INVALID_PRODUCER_EPOCH,
      previousV4: ErrorCode.PRODUCER_FENCED,
      current: { errorCode: 0, producerEpoch: 4 },
    });
  });
});
