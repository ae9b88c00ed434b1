import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON } from '../../test-kit/run-command.js';
import { runGroupScenario } from './support/group-scenario.js';
import { MemberProcess } from './support/member-process.js';

const CONFLUENT_MEMBER = join(import.meta.dirname, 'confluent-member.py');
const KAFKA_PYTHON_MEMBER = join(import.meta.dirname, 'kafka-python-member.py');

describe('Python consumer groups against a broker process', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '300'] });
  });
  afterAll(async () => {
    await broker?.cleanup();
  });

  it('confluent-kafka with the cooperative-sticky assignor: join, clean leave, crash, no record lost', async () => {
    const config = JSON.stringify({ 'partition.assignment.strategy': 'cooperative-sticky' });
    await runGroupScenario({
      broker,
      groupId: 'cf-coop-group',
      topic: 'cf-coop-orders',
      expectedProtocol: 'cooperative-sticky',
      spawnMember: (name) => MemberProcess.spawn(name, PYTHON, ['-u', CONFLUENT_MEMBER, broker.bootstrap, 'cf-coop-group', 'cf-coop-orders', name, config]),
    });
  });

  it("kafka-python's group consumer: join, clean leave, crash, no record lost", async () => {
    await runGroupScenario({
      broker,
      groupId: 'kp-group',
      topic: 'kp-orders',
      expectedProtocol: 'range',
      spawnMember: (name) => MemberProcess.spawn(name, PYTHON, ['-u', KAFKA_PYTHON_MEMBER, broker.bootstrap, 'kp-group', 'kp-orders', name]),
    });
  });
});
