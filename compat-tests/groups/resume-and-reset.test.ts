import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON } from '../../test-kit/run-command.js';
import { produceValues } from './support/group-watch.js';
import { scenarioClients, type ScenarioClients } from './support/group-scenario.js';
import { MemberProcess, waitUntil, type ConsumedRecord } from './support/member-process.js';

const KAFKAJS_MEMBER = join(import.meta.dirname, 'kafkajs-member.ts');
const CONFLUENT_MEMBER = join(import.meta.dirname, 'confluent-member.py');
const TOPIC = 'resume-orders';

function byPartition(records: readonly ConsumedRecord[]): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (const r of records) (out[r.partition] ??= []).push(r.offset);
  return out;
}

describe('committed offsets across consumer restarts, and auto.offset.reset', () => {
  let first: BrokerProcess;
  let broker: BrokerProcess;
  let clients: ScenarioClients;
  const members: MemberProcess[] = [];

  const kafkajs = (name: string, group: string, reset: 'earliest' | 'latest') => {
    const m = MemberProcess.spawn(name, process.execPath, ['--import', 'tsx', KAFKAJS_MEMBER, broker.bootstrap, group, TOPIC, name, reset]);
    members.push(m);
    return m;
  };
  const confluent = (name: string, group: string, reset: 'earliest' | 'latest') => {
    const m = MemberProcess.spawn(name, PYTHON, ['-u', CONFLUENT_MEMBER, broker.bootstrap, group, TOPIC, name, JSON.stringify({ 'auto.offset.reset': reset })]);
    members.push(m);
    return m;
  };

  beforeAll(async () => {
    first = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '100'] });
    broker = first;
    clients = await scenarioClients(broker);
    await clients.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => m.kill()));
    await clients?.close();
    if (broker && broker !== first) await broker.stop();
    await first?.cleanup();
  });

  async function committed(group: string): Promise<Record<number, string>> {
    const [t] = await clients.admin.fetchOffsets({ groupId: group, topics: [TOPIC] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  }

  for (const [client, start] of [
    ['kafkajs', kafkajs],
    ['confluent-kafka', confluent],
  ] as const) {
    it(`${client}: a restarted consumer resumes exactly after the last committed offset`, async () => {
      const group = `resume-${client}`;
      const before = (await clients.admin.fetchTopicOffsets(TOPIC)).map((o) => Number(o.high));
      const first = await produceValues(clients.producer, TOPIC, 2, `${client}-first`, 10);
      const a = start(`${client}-a`, group, 'earliest');
      await waitUntil('the first consumer to process its records', () => first.every((v) => a.records().some((r) => r.value === v)), 30_000, () => a.log());
      await waitUntil('its commits', async () => JSON.stringify(await committed(group)) === JSON.stringify({ 0: String(before[0]! + 5), 1: String(before[1]! + 5) }), 15_000);
      expect(await a.stop()).toBe(0);

      const second = await produceValues(clients.producer, TOPIC, 2, `${client}-second`, 6);
      const b = start(`${client}-b`, group, 'earliest');
      await waitUntil('the restarted consumer to process the new records', () => b.records().length >= 6, 30_000, () => b.log());
      await sleep(500);
      expect(b.records().map((r) => r.value).sort()).toEqual([...second].sort());
      expect(byPartition(b.records())).toEqual({ 0: [before[0]! + 5, before[0]! + 6, before[0]! + 7], 1: [before[1]! + 5, before[1]! + 6, before[1]! + 7] });
      expect(await b.stop()).toBe(0);
    });

    it(`${client}: auto.offset.reset earliest reads from the start, latest only what comes after joining`, async () => {
      const hwm = (await clients.admin.fetchTopicOffsets(TOPIC)).map((o) => Number(o.high));
      const earliest = start(`${client}-earliest`, `earliest-${client}`, 'earliest');
      const latest = start(`${client}-latest`, `latest-${client}`, 'latest');
      await waitUntil('the earliest consumer to read the existing records', () => earliest.records().length >= hwm[0]! + hwm[1]!, 30_000, () => earliest.log());
      expect(byPartition(earliest.records())).toEqual({ 0: Array.from({ length: hwm[0]! }, (_, i) => i), 1: Array.from({ length: hwm[1]! }, (_, i) => i) });
      await waitUntil('the latest consumer to be assigned', () => (latest.assignment()?.length ?? 0) === 2, 30_000, () => latest.log());
      // give it time to look up the end of the log before anything new arrives
      await sleep(1500);
      expect(latest.records()).toEqual([]);
      const fresh = await produceValues(clients.producer, TOPIC, 2, `${client}-fresh`, 4);
      await waitUntil('the latest consumer to read the new records', () => latest.records().length >= 4, 30_000, () => latest.log());
      await sleep(300);
      expect(latest.records().map((r) => r.value).sort()).toEqual([...fresh].sort());
      expect(byPartition(latest.records())).toEqual({ 0: [hwm[0]!, hwm[0]! + 1], 1: [hwm[1]!, hwm[1]! + 1] });
      await Promise.all([earliest.stop(), latest.stop()]);
    });
  }

  it('committed offsets survive a broker restart: the group is listed Empty and a consumer resumes after them', async () => {
    const group = 'restart-group';
    await produceValues(clients.producer, TOPIC, 2, 'before-restart', 4);
    const hwm = (await clients.admin.fetchTopicOffsets(TOPIC)).map((o) => String(o.high));
    const a = kafkajs('before-restart', group, 'earliest');
    await waitUntil('the consumer to commit up to the high watermarks', async () => JSON.stringify(await committed(group)) === JSON.stringify({ 0: hwm[0], 1: hwm[1] }), 30_000, () => a.log());
    expect(await a.stop()).toBe(0);
    await clients.close();
    broker = await broker.restart();
    clients = await scenarioClients(broker);
    expect((await clients.admin.listGroups()).groups).toContainEqual({ groupId: group, protocolType: '' });
    const described = (await clients.admin.describeGroups([group])).groups[0]!;
    expect([described.state, described.members.length]).toEqual(['Empty', 0]);
    expect(await committed(group)).toEqual({ 0: hwm[0], 1: hwm[1] });
    const values = await produceValues(clients.producer, TOPIC, 2, 'after-restart', 2);
    expect(await lagLines(group)).toEqual([
      `streamhouse_consumer_group_lag_records{group="${group}",topic="${TOPIC}",partition="0"} 1`,
      `streamhouse_consumer_group_lag_records{group="${group}",topic="${TOPIC}",partition="1"} 1`,
    ]);
    const b = kafkajs('after-restart', group, 'earliest');
    await waitUntil('the consumer to process the records produced after the restart', () => b.records().length >= 2, 30_000, () => b.log());
    await sleep(500);
    expect(b.records().map((r) => r.value).sort()).toEqual([...values].sort());
    expect(byPartition(b.records())).toEqual({ 0: [Number(hwm[0])], 1: [Number(hwm[1])] });
    expect(await b.stop()).toBe(0);
    await waitUntil('the lag metric to reach 0', async () => (await lagLines(group)).every((l) => l.endsWith(' 0')), 10_000);
  });

  async function lagLines(group: string): Promise<string[]> {
    const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(`streamhouse_consumer_group_lag_records{group="${group}"`));
  }
});
