/**
 * Transactions on a 2-agent cluster (PostgreSQL + S3): the partitions of one transaction are
 * led by both agents, and the transaction coordinator is sometimes the other agent, so markers
 * travel to the leaders (WriteTxnMarkers) and offsets committed in a transaction may belong to
 * a group coordinated elsewhere. librdkafka producers with a transactional id coordinated by
 * each agent commit and abort transactions over 4 partitions: every record lands at its exact
 * offset, read_committed readers see only the committed ones (librdkafka and kcat), and the
 * end offsets agree at both isolation levels. kafkajs sendOffsets with the group on the other
 * agent: committed offsets appear after a commit, an abort leaves them unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopic, kafkaFor, startCluster, waitForLeaders, type Cluster } from './support.js';
import { byPartition, expectedLog, kcatRead, runConfluent, type PlannedTransaction, type Row } from '../transactions/support.js';

const TOPIC = 'cluster-txn';
const PARTITIONS = 4;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('txncluster', 2);
  await createTopic(cluster.bootstraps(), TOPIC, PARTITIONS);
});
afterAll(async () => {
  await cluster?.stop();
});

/** The node FindCoordinator names for a key (keyType 0 group, 1 transaction). */
async function coordinatorOf(client: RawKafkaClient, key: string, keyType: 0 | 1): Promise<number> {
  const res = await client.request(10, 4, { keyType, coordinatorKeys: [key] });
  const c = res.coordinators[0]!;
  if (c.errorCode !== 0) throw new Error(`FindCoordinator ${key} (type ${keyType}): error ${c.errorCode}`);
  return c.nodeId;
}

/** The first `${prefix}-<n>` that node `nodeId` coordinates. */
async function keyCoordinatedBy(client: RawKafkaClient, prefix: string, keyType: 0 | 1, nodeId: number): Promise<string> {
  for (let n = 0; n < 200; n++) if ((await coordinatorOf(client, `${prefix}-${n}`, keyType)) === nodeId) return `${prefix}-${n}`;
  throw new Error(`no ${prefix}-<n> coordinated by node ${nodeId}`);
}

type Watermarks = Record<'read_committed' | 'read_uncommitted', Record<string, [number, number]>>;

describe('transactions across the agents of a cluster', () => {
  it('librdkafka: coordinators on either agent, partitions on both; exact logs, read_committed sees only commits', async () => {
    const bootstrap = cluster.bootstraps().join(',');
    const leaders = await waitForLeaders(cluster.agents[0]!.bootstrap, TOPIC, PARTITIONS);
    expect(new Set(leaders.values())).toEqual(new Set([1, 2]));
    const client = await RawKafkaClient.connect(cluster.agents[0]!.bootstrap);
    const ids = [await keyCoordinatedBy(client, 'cluster-txn-id', 1, 1), await keyCoordinatedBy(client, 'cluster-txn-id', 1, 2)];
    client.close();

    const plan = (id: string, t: number, commit: boolean): PlannedTransaction => ({
      commit,
      records: Array.from({ length: 8 }, (_, i) => ({ partition: i % PARTITIONS, key: `${id}-t${t}-${i}`, value: `${id}-t${t}-${i}-${commit ? 'commit' : 'abort'}` })),
    });
    const byId = ids.map((id) => [plan(id, 0, true), plan(id, 1, false), plan(id, 2, true)]);
    const produced = await runConfluent(bootstrap, ids.map((id, i) => ({ op: 'transactions', topic: TOPIC, transactional_id: id, transactions: byId[i] })));
    expect(produced.errors).toEqual([]);
    const layout = expectedLog(byId.flat(), PARTITIONS);
    const reported = (produced.results as Array<Array<{ reports: Array<{ partition: number; offset: number; key: string; value: string; error: unknown }> }>>).flat().flatMap((t) => t.reports);
    expect(reported.filter((r) => r.error !== null)).toEqual([]);
    expect(byPartition(reported.map((r): Row => [r.partition, r.offset, r.key, r.value]), PARTITIONS)).toEqual(layout.all);

    // every marker written: both isolation levels end at the layout's end offsets
    let marks: Watermarks | undefined;
    const wanted = Object.fromEntries(layout.end.map((e, p) => [String(p), [0, e]]));
    await waitUntil(
      'read_committed end offsets to reach the high watermarks',
      async () => {
        marks = (await runConfluent(bootstrap, [{ op: 'watermarks', topic: TOPIC, partitions: PARTITIONS }])).results[0] as Watermarks;
        return JSON.stringify(marks.read_committed) === JSON.stringify(wanted);
      },
      20_000,
      () => `last: ${JSON.stringify(marks)}, wanted ${JSON.stringify(wanted)}`,
    );
    expect(marks!.read_uncommitted).toEqual(wanted);

    const out = await runConfluent(bootstrap, [
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_committed' },
      { op: 'read', topic: TOPIC, partitions: PARTITIONS, isolation: 'read_uncommitted' },
    ]);
    expect(out.errors).toEqual([]);
    const [committed, uncommitted] = out.results as Array<{ records: Row[] }>;
    expect(byPartition(committed!.records, PARTITIONS)).toEqual(layout.committed);
    expect(byPartition(uncommitted!.records, PARTITIONS)).toEqual(layout.all);
    expect(byPartition(await kcatRead(bootstrap, TOPIC, 'read_committed'), PARTITIONS)).toEqual(layout.committed);
  });

  it('kafkajs sendOffsets to a group coordinated by the other agent: a commit commits the offsets, an abort does not', async () => {
    const client = await RawKafkaClient.connect(cluster.agents[0]!.bootstrap);
    const txnId = await keyCoordinatedBy(client, 'cluster-offsets-txn', 1, 1);
    const group = await keyCoordinatedBy(client, 'cluster-offsets-group', 0, 2);
    client.close();
    const kafka = kafkaFor(cluster.bootstraps(), 5);
    const producer = kafka.producer({ transactionalId: txnId, idempotent: true, maxInFlightRequests: 1 });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    try {
      const offsets = async () => (await admin.fetchOffsets({ groupId: group, topics: [TOPIC] }))[0]!.partitions.map((p) => [p.partition, p.offset]).sort();
      const committed = await producer.transaction();
      await committed.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: 'offsets-commit' }] });
      await committed.sendOffsets({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [0, 1, 2, 3].map((partition) => ({ partition, offset: String(10 + partition) })) }] });
      await committed.commit();
      // (Kafka answers EndTxn before the offsets' markers are written: they show up soon after)
      const want = [0, 1, 2, 3].map((p) => [p, String(10 + p)]);
      let last: unknown;
      await waitUntil('the committed offsets', async () => JSON.stringify((last = await offsets())) === JSON.stringify(want), 10_000, () => `last: ${JSON.stringify(last)}`);

      const aborted = await producer.transaction();
      await aborted.send({ topic: TOPIC, acks: -1, messages: [{ partition: 1, value: 'offsets-abort' }] });
      await aborted.sendOffsets({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '99' }] }] });
      await aborted.abort();
      expect(await offsets()).toEqual(want);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
