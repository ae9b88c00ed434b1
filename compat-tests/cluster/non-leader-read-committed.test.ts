/**
 * A read_committed Fetch sent to an agent that does not lead the partition (2-agent cluster,
 * PostgreSQL + S3). Kafka answers a consumer's Fetch on a broker that is not the leader with
 * NOT_LEADER_OR_FOLLOWER (and a follower would answer with its own last stable offset and
 * aborted transactions). Whatever the agent does, it must not hand a read_committed reader
 * the records of an open or an aborted transaction: either NOT_LEADER_OR_FOLLOWER, or an
 * answer whose last stable offset stops below the open transaction and whose aborted
 * transactions list the aborted one.
 *
 * Found by transaction-crash-cluster.test.ts: after a failover and the old leader's return,
 * librdkafka kept fetching from the agent that had led the partition meanwhile (it never got
 * an error, so it never refreshed its metadata), and its read_committed consumer got records
 * of aborted and of still open transactions: src/agent/agent-log.ts partitionLog() gave an
 * agent without the partition's lease a PartitionLog built from the stored high watermark
 * alone (last stable offset = high watermark, no aborted transactions). It now loads the
 * stored open transactions and aborted ranges too.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { createTopic, startCluster, waitForLeaders, type Cluster } from './support.js';
import { READ_COMMITTED } from '../transactions/support.js';

const TOPIC = 'non-leader-rc';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('nonleaderrc', 2);
  await createTopic(cluster.bootstraps(), TOPIC, 2);
});
afterAll(async () => {
  await cluster?.stop();
});

interface FetchedPartition {
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  records: Buffer | null;
}

async function fetchReadCommitted(bootstrap: string, partition: number, offset: bigint): Promise<FetchedPartition> {
  const client = await RawKafkaClient.connect(bootstrap);
  try {
    const res = await client.request(1, 12, {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: READ_COMMITTED,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    return res.responses[0]!.partitions[0]! as FetchedPartition;
  } finally {
    client.close();
  }
}

/** What a read_committed reader could take from the answer: refused, or the offsets it may read up to and the aborted ranges. */
function view(p: FetchedPartition): string | { lastStableOffset: string; aborted: string[] } {
  if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) return 'NOT_LEADER_OR_FOLLOWER';
  return { lastStableOffset: String(p.lastStableOffset), aborted: (p.abortedTransactions ?? []).map((a) => `${a.producerId}@${a.firstOffset}`) };
}

describe('read_committed Fetch on an agent that does not lead the partition', () => {
  it('never exposes an open or an aborted transaction', async () => {
    const leaders = await waitForLeaders(cluster.agents[0]!.bootstrap, TOPIC, 2);
    const partition = 0;
    const leaderNode = leaders.get(partition)!;
    const leader = cluster.agents[leaderNode - 1]!;
    const other = cluster.agents[leaderNode === 1 ? 1 : 0]!;

    const kafka = new Kafka({ clientId: 'non-leader-rc', brokers: cluster.bootstraps(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'non-leader-rc', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      // offset 0: a committed record, 1: its marker; 2: a record of an open transaction
      const first = await producer.transaction();
      await first.send({ topic: TOPIC, messages: [{ partition, value: 'committed' }] });
      await first.commit();
      const open = await producer.transaction();
      await open.send({ topic: TOPIC, messages: [{ partition, value: 'open' }] });

      const atLeader = await fetchReadCommitted(leader.bootstrap, partition, 0n);
      expect(view(atLeader)).toEqual({ lastStableOffset: '2', aborted: [] });
      const elsewhere = await fetchReadCommitted(other.bootstrap, partition, 0n);
      const openView = view(elsewhere);
      if (typeof openView !== 'string') expect.soft({ ...openView, highWatermark: String(elsewhere.highWatermark) }, 'while the transaction is open').toEqual({ lastStableOffset: '2', aborted: [], highWatermark: '3' });

      // aborted: the record at 2 is an aborted transaction's, its marker at 3
      await open.abort();
      const producerId = (await fetchReadCommitted(leader.bootstrap, partition, 0n)).abortedTransactions?.[0]?.producerId;
      expect(producerId).toBeDefined();
      const abortedView = view(await fetchReadCommitted(other.bootstrap, partition, 2n));
      if (typeof abortedView !== 'string') expect(abortedView, 'after the abort').toEqual({ lastStableOffset: '4', aborted: [`${producerId}@2`] });
    } finally {
      await producer.disconnect();
    }
  });
});
