import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import type { BrokerProcess } from '../../../test-kit/broker-process.js';
import { CommittedOffsetWatch, groupState, highWatermarks, produceValues, stableGenerations } from './group-watch.js';
import { describeMembers, isBalanced, waitUntil, type MemberProcess } from './member-process.js';

export const PARTITIONS = 6;

export interface ScenarioOptions {
  readonly broker: BrokerProcess;
  readonly groupId: string;
  readonly topic: string;
  /** Starts one member process of the client under test. */
  readonly spawnMember: (name: string) => MemberProcess;
  /** Records per production round. */
  readonly recordsPerRound?: number;
  /** The assignor the coordinator must have selected (DescribeGroups protocol). */
  readonly expectedProtocol?: string;
}

export interface ScenarioClients {
  readonly admin: Admin;
  readonly producer: Producer;
  close(): Promise<void>;
}

/** A kafkajs admin and producer for driving a scenario (not the client under test). */
export async function scenarioClients(broker: BrokerProcess): Promise<ScenarioClients> {
  const kafka = new Kafka({ clientId: 'group-scenario', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  return {
    admin,
    producer,
    async close() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/**
 * The group life every client must survive (issue #5): three members split six
 * partitions; a fourth joins, then leaves cleanly; one of the three crashes (SIGKILL, found
 * by session timeout). Each step must produce a new stable generation and a new split.
 * Records are produced throughout; at the end every one of them was processed, the
 * committed offsets reached the high watermarks, and no committed offset ever went back.
 */
export async function runGroupScenario(opts: ScenarioOptions): Promise<void> {
  const { broker, groupId, topic } = opts;
  const perRound = opts.recordsPerRound ?? 60;
  const clients = await scenarioClients(broker);
  const { admin, producer } = clients;
  const members: MemberProcess[] = [];
  const watch = new CommittedOffsetWatch(admin, groupId, topic);
  const produced: string[] = [];
  const explain = () => `${describeMembers(members)}\n--- broker ---\n${broker.output().split('\n').slice(-30).join('\n')}`;
  const processed = () => new Set(members.flatMap((m) => m.records().map((r) => r.value)));
  const allProcessed = async (what: string) => {
    await waitUntil(what, () => produced.every((v) => processed().has(v)), 30_000, () => `missing ${produced.filter((v) => !processed().has(v)).length} of ${produced.length}\n${explain()}`);
  };
  const balancedAmong = async (what: string, expectedMembers: number, sinceGeneration: number): Promise<number> => {
    await waitUntil(
      what,
      async () => {
        if (members.filter((m) => m.alive).length !== expectedMembers || !isBalanced(members, PARTITIONS)) return false;
        const gens = stableGenerations(broker, groupId);
        if (gens.length === 0 || gens[gens.length - 1]! <= sinceGeneration) return false;
        const state = await groupState(admin, groupId);
        return state.state === 'Stable' && state.members === expectedMembers;
      },
      40_000,
      explain,
    );
    const gens = stableGenerations(broker, groupId);
    return gens[gens.length - 1]!;
  };

  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    watch.start();
    produced.push(...(await produceValues(producer, topic, PARTITIONS, 'before', perRound)));
    for (const name of ['m1', 'm2', 'm3']) members.push(opts.spawnMember(name));
    let generation = await balancedAmong('3 members to split 6 partitions', 3, 0);
    for (const m of members) expect(m.assignment()!.length).toBe(2);
    if (opts.expectedProtocol !== undefined) expect((await admin.describeGroups([groupId])).groups[0]!.protocol).toBe(opts.expectedProtocol);
    await allProcessed('the first records');

    // a member joins
    const m4 = opts.spawnMember('m4');
    members.push(m4);
    generation = await balancedAmong('a rebalance after m4 joined', 4, generation);
    expect(m4.assignment()!.length).toBeGreaterThan(0);
    produced.push(...(await produceValues(producer, topic, PARTITIONS, 'joined', perRound)));
    await allProcessed('records after the join');

    // a member leaves cleanly
    expect(await m4.stop()).toBe(0);
    generation = await balancedAmong('a rebalance after m4 left', 3, generation);
    produced.push(...(await produceValues(producer, topic, PARTITIONS, 'left', perRound)));
    await allProcessed('records after the leave');

    // a member crashes: only its session timeout tells the coordinator
    const crashed = members[2]!;
    await crashed.kill();
    generation = await balancedAmong('a rebalance after m3 crashed', 2, generation);
    for (const m of members.filter((x) => x.alive)) expect(m.assignment()!.length).toBe(3);
    produced.push(...(await produceValues(producer, topic, PARTITIONS, 'crashed', perRound)));
    await allProcessed('records after the crash');

    const hwm = await highWatermarks(admin, topic);
    await waitUntil(
      'committed offsets to reach the high watermarks',
      async () => {
        await watch.poll();
        const latest = watch.latest();
        return [...hwm].every(([p, h]) => latest.get(p) === h);
      },
      30_000,
      () => `hwm ${JSON.stringify([...hwm].map(([p, h]) => [p, String(h)]))} committed ${JSON.stringify([...watch.latest()].map(([p, o]) => [p, String(o)]))}`,
    );
    await watch.stop();
    expect(watch.regressions()).toEqual([]);
    expect(watch.observations()).toBeGreaterThan(PARTITIONS);
    expect(processed().size).toBe(produced.length);
  } finally {
    await watch.stop().catch(() => undefined);
    await Promise.all(members.map((m) => m.kill()));
    await clients.close();
  }
}
