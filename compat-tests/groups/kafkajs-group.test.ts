import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
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

  it('runs with the group.initial.rebalance.delay.ms given on the command line', async () => {
    const kafka = new Kafka({ clientId: 'config-check', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configNames: ['group.initial.rebalance.delay.ms'] }], includeSynonyms: false });
      expect(res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).toEqual([['group.initial.rebalance.delay.ms', '300']]);
    } finally {
      await admin.disconnect();
    }
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
