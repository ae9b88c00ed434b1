import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { runGroupScenario } from './support/group-scenario.js';
import { MemberProcess } from './support/member-process.js';

const MEMBER = join(import.meta.dirname, 'kafkajs-member.ts');

describe('a kafkajs consumer group against a broker process', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '300'] });
  });
  afterAll(async () => {
    await broker?.cleanup();
  });

  it('splits 6 partitions over 3 members and rebalances on join, clean leave and crash without losing a record', async () => {
    await runGroupScenario({
      broker,
      groupId: 'kjs-group',
      topic: 'kjs-orders',
      expectedProtocol: 'RoundRobinAssigner',
      spawnMember: (name) => MemberProcess.spawn(name, process.execPath, ['--import', 'tsx', MEMBER, broker.bootstrap, 'kjs-group', 'kjs-orders', name]),
    });
  });
});
