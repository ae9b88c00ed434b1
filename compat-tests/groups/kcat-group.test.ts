import { afterAll, beforeAll, describe, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runGroupScenario } from './support/group-scenario.js';
import { MemberProcess, type LineParser } from './support/member-process.js';

/**
 * kcat -G output: records on stdout as "REC <partition> <offset> <value>" (our -f format),
 * rebalances on stderr as "% Group <g> rebalanced (memberid ...): assigned: t [0], t [3]"
 * or "...: revoked: ...". The eager protocol revokes everything before assigning.
 */
const kcatLines: LineParser = (line, stream) => {
  if (stream === 'stdout') {
    const m = /^REC (\d+) (\d+) (.*)$/.exec(line);
    return m ? { type: 'record', partition: Number(m[1]), offset: Number(m[2]), value: m[3]! } : undefined;
  }
  const m = /rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)$/.exec(line);
  if (!m) return undefined;
  if (m[1] === 'revoked') return { type: 'assigned', partitions: [] };
  const partitions = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
  return { type: 'assigned', partitions };
};

describe('kcat -G consumers against a broker process', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '300'] });
  });
  afterAll(async () => {
    await broker?.cleanup();
  });

  it('split, rebalance on join, clean leave and crash, and process every record', async () => {
    await runGroupScenario({
      broker,
      groupId: 'kcat-group',
      topic: 'kcat-orders',
      expectedProtocol: 'range',
      spawnMember: (name) =>
        MemberProcess.spawn(
          name,
          'kcat',
          [
            '-b', broker.bootstrap,
            '-G', 'kcat-group',
            '-u',
            '-o', 'beginning',
            '-f', 'REC %p %o %s\\n',
            '-X', `client.id=kcat-${name}`,
            '-X', 'session.timeout.ms=6000',
            '-X', 'heartbeat.interval.ms=500',
            '-X', 'auto.commit.interval.ms=200',
            '-X', 'fetch.wait.max.ms=100',
            'kcat-orders',
          ],
          kcatLines,
        ),
    });
  });
});
