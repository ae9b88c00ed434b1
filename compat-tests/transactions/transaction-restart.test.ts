/**
 * Transactions across a broker restart (SIGTERM, same data directory and ports), over raw
 * Kafka frames: an aborted, a committed and an open transaction in one partition. After the
 * restart the log, the last stable offset (held by the open transaction) and the aborted
 * ranges a read_committed Fetch carries are the same as before; the coordinator still knows
 * every transactional id (Kafka keeps them in __transaction_state): the open transaction
 * commits with its producer id and epoch, a fenced epoch stays fenced, and InitProducerId
 * continues the epochs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient, waitUntilLeading } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopics, endOffsets, fetchOnce, rawAddPartitions, rawBegin, rawEndTxn, rawProduce, READ_COMMITTED, READ_UNCOMMITTED, runConfluent, type Row } from './support.js';

const TOPIC = 'txn-restart';

describe('transactions across a broker restart', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: 1 }]);
  });
  afterAll(async () => {
    await broker?.cleanup();
  });

  it('keeps the log, the last stable offset, the aborted ranges and every transactional id', async () => {
    let client = await RawKafkaClient.connect(broker.bootstrap);
    const ends = async () => ({ committed: (await endOffsets(client, TOPIC, 1, READ_COMMITTED))[0], uncommitted: (await endOffsets(client, TOPIC, 1, READ_UNCOMMITTED))[0] });

    const aborted = await rawBegin(client, 'restart-aborted', TOPIC, [0]);
    expect(await rawProduce(client, aborted, TOPIC, 0, ['ab-0', 'ab-1'])).toBe(0);
    expect(await rawEndTxn(client, aborted, false)).toBe(0); // ABORT @2
    const committed = await rawBegin(client, 'restart-committed', TOPIC, [0]);
    expect(await rawProduce(client, committed, TOPIC, 0, ['co-0'])).toBe(3);
    expect(await rawEndTxn(client, committed, true)).toBe(0); // COMMIT @4
    await waitUntil('both markers', async () => (await ends()).committed === 5, 10_000);
    const open = await rawBegin(client, 'restart-open', TOPIC, [0]);
    expect(await rawProduce(client, open, TOPIC, 0, ['op-0', 'op-1'])).toBe(5);
    // a newer instance of the aborted id: its old epoch is fenced from now on
    const fencing = await client.request(22, 4, { transactionalId: 'restart-aborted', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect({ errorCode: fencing.errorCode, producerId: fencing.producerId, producerEpoch: fencing.producerEpoch }).toEqual({ errorCode: 0, producerId: aborted.producerId, producerEpoch: aborted.producerEpoch + 1 });

    const before = { ends: await ends(), fetch: await fetchOnce(client, TOPIC, 0, 0, READ_COMMITTED), uncommitted: await fetchOnce(client, TOPIC, 0, 0, READ_UNCOMMITTED) };
    expect(before.ends).toEqual({ committed: 5, uncommitted: 7 });
    expect(before.fetch.batches.map((b) => [b.baseOffset, b.lastOffset, b.isControl, b.values])).toEqual([
      [0, 1, false, ['ab-0', 'ab-1']],
      [2, 2, true, ['ABORT']],
      [3, 3, false, ['co-0']],
      [4, 4, true, ['COMMIT']],
    ]);
    expect(before.fetch.abortedTransactions).toEqual([{ producerId: Number(aborted.producerId), firstOffset: 0 }]);
    client.close();

    broker = await broker.restart();
    client = await RawKafkaClient.connect(broker.bootstrap);
    // a cluster agent (postgres-s3) takes its partition and coordinator leases back first
    await waitUntilLeading(client, TOPIC, [0]);
    const notReady: number[] = [ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE];
    await waitUntil('the transaction coordinator', async () => !notReady.includes(await rawEndTxn(client, committed, true)), 20_000);
    const after = { ends: await ends(), fetch: await fetchOnce(client, TOPIC, 0, 0, READ_COMMITTED), uncommitted: await fetchOnce(client, TOPIC, 0, 0, READ_UNCOMMITTED) };
    expect(after).toEqual(before);

    // the coordinator remembers: the stale epoch of the aborted id is fenced, the open transaction commits
    const got = {
      staleAddPartitions: (await client.request(24, 3, { v3AndBelowTransactionalId: 'restart-aborted', v3AndBelowProducerId: aborted.producerId, v3AndBelowProducerEpoch: aborted.producerEpoch, v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }] })).resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode,
      moreOpenData: await rawProduce(client, open, TOPIC, 0, ['op-2']),
      commitOpen: await rawEndTxn(client, open, true),
      committedAgain: await rawEndTxn(client, committed, true),
      nextEpoch: (await client.request(22, 4, { transactionalId: 'restart-committed', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })).producerEpoch,
    };
    expect(got).toEqual({ staleAddPartitions: ErrorCode.PRODUCER_FENCED, moreOpenData: 7, commitOpen: 0, committedAgain: 0, nextEpoch: committed.producerEpoch + 1 });
    await waitUntil('the open transaction committed', async () => (await ends()).committed === 9, 10_000);
    expect(await ends()).toEqual({ committed: 9, uncommitted: 9 });

    // the fencing instance of the aborted id works
    const successor = { transactionalId: 'restart-aborted', producerId: fencing.producerId, producerEpoch: fencing.producerEpoch, sequence: new Map<number, number>() };
    await rawAddPartitions(client, successor, TOPIC, [0]);
    expect(await rawProduce(client, successor, TOPIC, 0, ['ab-new'])).toBe(9);
    expect(await rawEndTxn(client, successor, true)).toBe(0);
    await waitUntil('the last commit', async () => (await ends()).committed === 11, 10_000);
    client.close();

    const out = await runConfluent(broker.bootstrap, [{ op: 'read', topic: TOPIC, partitions: 1, isolation: 'read_committed' }]);
    expect(out.errors).toEqual([]);
    expect((out.results[0] as { records: Row[] }).records.map((r) => [r[1], r[3]])).toEqual([
      [3, 'co-0'],
      [5, 'op-0'],
      [6, 'op-1'],
      [7, 'op-2'],
      [9, 'ab-new'],
    ]);
  });
});
