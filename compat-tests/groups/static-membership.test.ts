import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON } from '../../test-kit/run-command.js';
import { groupState, produceValues, stableGenerations } from './support/group-watch.js';
import { scenarioClients, type ScenarioClients } from './support/group-scenario.js';
import { describeMembers, isBalanced, MemberProcess, waitUntil } from './support/member-process.js';

const CONFLUENT_MEMBER = join(import.meta.dirname, 'confluent-member.py');
const TOPIC = 'static-orders';
const GROUP = 'static-group';

/** Log lines of the coordinator about this group starting a rebalance. */
function rebalancesStarted(broker: BrokerProcess): number {
  return broker
    .output()
    .split('\n')
    .filter((l) => l.includes('"preparing to rebalance group"') && l.includes(`"group":"${GROUP}"`)).length;
}

describe('static membership (group.instance.id) with confluent-kafka', () => {
  let broker: BrokerProcess;
  let clients: ScenarioClients;
  const members: MemberProcess[] = [];

  const member = (name: string, instance: string) => {
    const config = JSON.stringify({ 'group.instance.id': instance, 'session.timeout.ms': 10_000 });
    const m = MemberProcess.spawn(name, PYTHON, ['-u', CONFLUENT_MEMBER, broker.bootstrap, GROUP, TOPIC, name, config]);
    members.push(m);
    return m;
  };

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '300'] });
    clients = await scenarioClients(broker);
    await clients.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }], waitForLeaders: true });
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => m.kill()));
    await clients?.close();
    await broker?.cleanup();
  });

  it('a member restarted with the same group.instance.id inside the session timeout gets its partitions back without a rebalance', async () => {
    const a = member('a', 'instance-a');
    const b = member('b', 'instance-b');
    const explain = () => `${describeMembers(members)}\n--- broker ---\n${broker.output().split('\n').slice(-20).join('\n')}`;
    await waitUntil('two static members to split the partitions', async () => isBalanced(members, 6) && (await groupState(clients.admin, GROUP)).state === 'Stable', 30_000, explain);
    const generations = stableGenerations(broker, GROUP);
    const rebalances = rebalancesStarted(broker);
    const assignmentsOfA = a.assignmentCount();
    const partitionsOfB = b.assignment();
    expect(partitionsOfB!.length).toBe(3);

    for (const [round, stop] of [
      ['crash', (m: MemberProcess) => m.kill()],
      ['clean close', (m: MemberProcess) => m.stop()],
    ] as const) {
      const previous = members[members.length - 1]!;
      await stop(previous);
      const restarted = member(`b-after-${round.replace(' ', '-')}`, 'instance-b');
      await waitUntil(`the restarted member (${round}) to get its partitions`, () => restarted.assignment() !== undefined, 20_000, explain);
      expect(restarted.assignment()).toEqual(partitionsOfB);
      // it consumes its partitions again
      const values = await produceValues(clients.producer, TOPIC, 6, `after-${round.replace(' ', '-')}`, 12);
      const mine = values.filter((_, i) => partitionsOfB!.includes(i % 6));
      await waitUntil('the restarted member to consume its partitions', () => mine.every((v) => restarted.records().some((r) => r.value === v)), 20_000, explain);
      expect(await groupState(clients.admin, GROUP)).toEqual({ state: 'Stable', members: 2 });
    }
    // no rebalance: same generation, no new "preparing to rebalance", nothing new for a
    expect(stableGenerations(broker, GROUP)).toEqual(generations);
    expect(rebalancesStarted(broker)).toBe(rebalances);
    expect(a.assignmentCount()).toBe(assignmentsOfA);
  });
});
