// Transactions across three agents (docs/transactions.md): the transactional id is coordinated
// by one agent while its partitions are led by all three, so the markers of other agents'
// partitions go out as WriteTxnMarkers. Then the coordinating agent is SIGKILLed with a
// transaction open: its shard moves, a new producer of the same id gets the next epoch from
// the new coordinator (which aborts the open transaction on every partition), and the old
// producer is fenced. read_committed readers (kcat, librdkafka) see exactly the committed
// records, and no partition is left with an open transaction.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { createTopic, groupCoordinatedBy, kafkaFor, LEASE_TTL_MS, sleep, startCluster, waitForLeaders, type Cluster } from './support.js';
import { kcatRead, type Row } from '../transactions/support.js';
import { waitUntil } from '../../test-kit/wait-until.js';

const TOPIC = 'txn-cluster';
const PARTITIONS = 6;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('txn-cluster', 3);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function transactionalProducer(brokers: string[], transactionalId: string): Producer {
  return kafkaFor(brokers).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
}

/** One record per partition, keyed by transaction and partition. */
async function sendTransaction(producer: Producer, name: string, commit: boolean): Promise<void> {
  const txn = await producer.transaction();
  for (let p = 0; p < PARTITIONS; p++) await txn.send({ topic: TOPIC, messages: [{ partition: p, key: `${name}-${p}`, value: `${name}-value-${p}` }] });
  if (commit) await txn.commit();
  else await txn.abort();
}

/** [partition, key] of each record, sorted: what a reader returned, without offsets. */
function keysOf(rows: readonly Row[]): Array<[number, string | null]> {
  return rows.map((r): [number, string | null] => [r[0], r[2]]).sort((a, b) => a[0] - b[0] || String(a[1]).localeCompare(String(b[1])));
}

function expectedKeys(names: readonly string[]): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let p = 0; p < PARTITIONS; p++) for (const n of names) out.push([p, `${n}-${p}`]);
  return out.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
}

describe('transactions in a cluster of three agents', () => {
  it('writes markers to partitions led by other agents, and a new coordinator aborts the transaction the dead one left open', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    const leadersBefore = await waitForLeaders(brokers[0]!, TOPIC, PARTITIONS);
    // partitions on every agent: markers must cross agents
    expect(new Set(leadersBefore.values()).size).toBe(3);
    const coordinatorAgent = cluster.agents[0]!;
    const transactionalId = await groupCoordinatedBy(cluster, 'agent-0', 'txn-cluster-id');

    const first = transactionalProducer(brokers, transactionalId);
    await first.connect();
    await sendTransaction(first, 'c1', true);
    await sendTransaction(first, 'a1', false);
    await sendTransaction(first, 'c2', true);
    expect(keysOf(await kcatRead(brokers.join(','), TOPIC, 'read_committed'))).toEqual(expectedKeys(['c1', 'c2']));
    expect(keysOf(await kcatRead(brokers.join(','), TOPIC, 'read_uncommitted'))).toEqual(expectedKeys(['a1', 'c1', 'c2']));

    // a transaction left open on every partition when its coordinator dies
    const open = await first.transaction();
    for (let p = 0; p < PARTITIONS; p++) await open.send({ topic: TOPIC, messages: [{ partition: p, key: `open-${p}`, value: `open-value-${p}` }] });
    await coordinatorAgent.kill('SIGKILL');
    const survivors = brokers.slice(1);
    // the dead agent's partitions and coordinator shards move once its leases expire
    await sleep(LEASE_TTL_MS);
    await waitForLeaders(survivors[0]!, TOPIC, PARTITIONS, (leader) => leader !== 1, 30_000);

    const second = transactionalProducer(survivors, transactionalId);
    // InitProducerId at the new coordinator: the open transaction is aborted under the next epoch
    await waitUntil('the new coordinator to answer InitProducerId', async () => second.connect().then(() => true, () => false), 30_000);
    await sendTransaction(second, 'c3', true);

    // the zombie's commit is refused and none of its open transaction becomes visible
    const zombieCommit = await open.commit().then(
      () => 'committed',
      (err: unknown) => (err as { type?: string }).type ?? String(err),
    );
    expect(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']).toContain(zombieCommit);
    await first.disconnect().catch(() => {});

    // kcat -e stops at the last stable offset: an open transaction left behind would hide c3
    expect(keysOf(await kcatRead(survivors.join(','), TOPIC, 'read_committed'))).toEqual(expectedKeys(['c1', 'c2', 'c3']));
    expect(keysOf(await kcatRead(survivors.join(','), TOPIC, 'read_uncommitted'))).toEqual(expectedKeys(['a1', 'c1', 'c2', 'c3', 'open']));
    await second.disconnect();
  }, 120_000);
});
