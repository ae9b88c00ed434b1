import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, Consumer, Producer, StreamHouseError, type ConsumerRecord } from '../../src/grpc/client/index.js';
import { RpcChannel } from '../../src/grpc/client/rpc-channel.js';
import { REPO, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

let broker: BrokerProcess;
let address: string;
let admin: AdminClient;
let producer: Producer;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false', '--group-initial-rebalance-delay-ms', '0'] });
  address = `http://127.0.0.1:${broker.grpcPort}`;
  admin = new AdminClient({ address });
  producer = new Producer({ address });
});

afterAll(async () => {
  await producer?.close();
  admin?.close();
  await broker?.cleanup();
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `n` records per partition with values "p<partition>-<i>", acknowledged. */
async function produceEach(topic: string, partitions: number, n: number, tag = ''): Promise<string[]> {
  const values: string[] = [];
  for (let p = 0; p < partitions; p++) for (let i = 0; i < n; i++) values.push(`p${p}-${tag}${i}`);
  await Promise.all(values.map((v) => producer.send({ topic, partition: Number(v.slice(1, v.indexOf('-'))), value: v })));
  await producer.flush();
  return values;
}

/**
 * Polls every consumer in a loop of its own (as separate applications would: a member's
 * poll may wait in a rebalance for the others to rejoin), collecting what each read, until
 * `check` holds.
 */
async function pollAll(consumers: Consumer[], seen: Map<Consumer, ConsumerRecord[]>, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  await Promise.all(
    consumers.map(async (c) => {
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out polling; read so far: ${[...seen.values()].map((r) => r.length).join(', ')}`);
        const got = await c.poll(100);
        seen.set(c, [...(seen.get(c) ?? []), ...got]);
      }
    }),
  );
}

const partitionsOf = async (c: Consumer): Promise<number[]> => (await c.assignment()).map((tp) => tp.partition).sort((a, b) => a - b);

describe('gRPC consumer groups', () => {
  it('two members share the partitions (range), each record read once; when one leaves the other takes everything', async () => {
    await admin.createTopic('shared-6', { partitions: 6 });
    const a = new Consumer({ address, topics: ['shared-6'], groupId: 'g-share', offsetReset: 'earliest', heartbeatIntervalMs: 200, maxPollRecords: 5 });
    const b = new Consumer({ address, topics: ['shared-6'], groupId: 'g-share', offsetReset: 'earliest', heartbeatIntervalMs: 200, maxPollRecords: 5 });
    const seen = new Map<Consumer, ConsumerRecord[]>();
    const total = () => [...seen.values()].reduce((n, r) => n + r.length, 0);
    // both join (a first: b's join makes a give everything up and rejoin)
    await a.poll(100);
    await pollAll([a, b], seen, () => a.generationId > 1 && a.generationId === b.generationId);
    expect(total()).toBe(0);
    const sent = await produceEach('shared-6', 6, 10);
    await pollAll([a, b], seen, () => total() >= sent.length);
    // and nothing more turns up (no record read twice)
    const settle = Date.now() + 1000;
    await pollAll([a, b], seen, () => Date.now() > settle);
    const values = [...seen.values()].flat().map((r) => r.value!.toString());
    expect(values.sort()).toEqual([...sent].sort());
    const [pa, pb] = [await partitionsOf(a), await partitionsOf(b)];
    expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pa).toHaveLength(3);
    expect(pb).toHaveLength(3);
    // each read exactly its own partitions, in offset order
    for (const [c, parts] of [[a, pa], [b, pb]] as const) {
      const read = seen.get(c) ?? [];
      expect([...new Set(read.map((r) => r.partition))].sort()).toEqual(parts);
      for (const p of parts) expect(read.filter((r) => r.partition === p).map((r) => Number(r.offset))).toEqual([...Array(10).keys()]);
    }

    // the coordinator's view: both members, each with its three partitions
    const described = await admin.describeGroup('g-share');
    expect(described.state).toBe('Stable');
    expect(described.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    const byMember = new Map(described.members.map((m) => [m.memberId, m.assignment.flatMap((t) => t.partitions)]));
    expect(byMember.get(a.memberId)).toEqual(pa);
    expect(byMember.get(b.memberId)).toEqual(pb);

    // b leaves (committing on close): a ends up with all six and reads only what comes next
    await b.close();
    const more = await produceEach('shared-6', 6, 5, 'late');
    const after = new Map<Consumer, ConsumerRecord[]>();
    await pollAll([a], after, () => (after.get(a) ?? []).length >= more.length);
    const quiet = Date.now() + 500;
    await pollAll([a], after, () => Date.now() > quiet);
    expect(await partitionsOf(a)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((after.get(a) ?? []).map((r) => r.value!.toString()).sort()).toEqual([...more].sort());
    await a.close();
    // both committed what they read
    expect((await admin.describeGroup('g-share')).totalLag).toBe(0n);
  });

  it('a SIGKILLed member: the other takes its partitions within the session timeout and reads on from its commits', async () => {
    await admin.createTopic('kill-4', { partitions: 4 });
    const sessionTimeoutMs = 6000;
    const member = spawnMember('g-kill', 'kill-4', sessionTimeoutMs);
    const survivor = new Consumer({ address, topics: ['kill-4'], groupId: 'g-kill', offsetReset: 'earliest', autoCommit: false, sessionTimeoutMs, heartbeatIntervalMs: 500 });
    try {
      await until('the member process to be assigned partitions', () => member.assigned.length > 0);
      const seen: ConsumerRecord[] = [];
      const pollSurvivor = async (): Promise<void> => {
        const r = await survivor.poll(100);
        seen.push(...r);
        if (r.length > 0) await survivor.commit().catch(() => undefined);
      };
      await until('both to hold two partitions each', async () => {
        await pollSurvivor();
        return (await partitionsOf(survivor)).length === 2 && member.assigned.at(-1)?.length === 2;
      });
      const theirs = member.assigned.at(-1)!;
      expect([...(await partitionsOf(survivor)), ...theirs].sort()).toEqual([0, 1, 2, 3]);
      const first = await produceEach('kill-4', 4, 5, 'a');
      await until('both to read the first records', async () => {
        await pollSurvivor();
        return member.read.length + seen.length >= first.length;
      });
      member.process.kill('SIGKILL');
      const killedAt = Date.now();
      const second = await produceEach('kill-4', 4, 5, 'b');
      await until('the survivor to hold all four partitions', async () => {
        await pollSurvivor();
        return (await partitionsOf(survivor)).length === 4;
      }).catch((err: unknown) => {
        console.log(broker.output().split('\n').filter((l) => /group|member/i.test(l)).slice(-30).join('\n'));
        throw err;
      });
      const tookOverMs = Date.now() - killedAt;
      expect(tookOverMs).toBeLessThan(sessionTimeoutMs + 3000);
      await until('the survivor to read every record of the second round', async () => {
        await pollSurvivor();
        const values = new Set(seen.map((r) => r.value!.toString()));
        return second.every((v) => values.has(v));
      });
      // the dead member's partitions resume right after what it committed: nothing skipped,
      // and nothing it had committed is read again
      for (const p of theirs) {
        const offsets = seen.filter((r) => r.partition === p).map((r) => Number(r.offset));
        expect(offsets).toEqual([...Array(offsets.length).keys()].map((i) => 10 - offsets.length + i));
        expect(offsets.length).toBeGreaterThanOrEqual(5);
      }
      console.log(`survivor took over ${theirs.length} partitions ${tookOverMs} ms after the SIGKILL (session timeout ${sessionTimeoutMs} ms)`);
    } finally {
      member.process.kill('SIGKILL');
      await survivor.close();
    }
  });

  it('fences a member of an old generation: its commit is refused and changes nothing', async () => {
    await admin.createTopic('fence-2', { partitions: 2 });
    await produceEach('fence-2', 2, 3);
    const rpc = new RpcChannel({ address });
    try {
      const join = (memberId: string) =>
        rpc.call('JoinGroup', { group: 'g-fence', topics: ['fence-2'], memberId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, clientId: 'raw' }, { timeoutMs: 30_000 });
      const a1 = await join('');
      expect(a1.assignment).toEqual([{ topic: 'fence-2', partitions: [0, 1] }]);
      await rpc.call('CommitOffset', { group: 'g-fence', topic: 'fence-2', partition: 0, offset: '1', memberId: a1.memberId, generationId: a1.generationId });
      // a second member: the group rebalances; a learns it from its heartbeat and rejoins
      const b = join('');
      await until('a heartbeat to report the rebalance', async () => (await rpc.call('GroupHeartbeat', { group: 'g-fence', memberId: a1.memberId, generationId: a1.generationId })).rebalance);
      const [a2, b1] = await Promise.all([join(a1.memberId), b]);
      expect(a2.generationId).toBe(a1.generationId + 1);
      expect(b1.generationId).toBe(a2.generationId);
      expect([...a2.assignment, ...b1.assignment].flatMap((t) => t.partitions).sort()).toEqual([0, 1]);
      const stale = await rpc
        .call('CommitOffset', { group: 'g-fence', topic: 'fence-2', partition: 0, offset: '3', memberId: a1.memberId, generationId: a1.generationId })
        .then(() => undefined, (e: unknown) => e);
      expect(stale).toBeInstanceOf(StreamHouseError);
      expect(stale).toMatchObject({ codeName: 'FAILED_PRECONDITION', kafkaError: 'ILLEGAL_GENERATION' });
      const unknownMember = await rpc
        .call('CommitOffset', { group: 'g-fence', topic: 'fence-2', partition: 0, offset: '3', memberId: 'nobody', generationId: a2.generationId })
        .then(() => undefined, (e: unknown) => e);
      expect(unknownMember).toMatchObject({ codeName: 'FAILED_PRECONDITION', kafkaError: 'UNKNOWN_MEMBER_ID' });
      const offsets = (await admin.describeGroup('g-fence')).offsets.map((o) => [o.partition, o.committedOffset]);
      expect(offsets).toEqual([[0, 1n]]);
      // the current generation commits
      await rpc.call('CommitOffset', { group: 'g-fence', topic: 'fence-2', partition: 0, offset: '2', memberId: a2.memberId, generationId: a2.generationId });
      expect((await admin.describeGroup('g-fence')).offsets.map((o) => [o.partition, o.committedOffset])).toEqual([[0, 2n]]);
      await rpc.call('LeaveGroup', { group: 'g-fence', memberId: a2.memberId });
      await rpc.call('LeaveGroup', { group: 'g-fence', memberId: b1.memberId });
      // a member the group dropped: its heartbeat says so
      const gone = await rpc.call('GroupHeartbeat', { group: 'g-fence', memberId: a2.memberId, generationId: a2.generationId }).then(() => undefined, (e: unknown) => e);
      expect(gone).toMatchObject({ codeName: 'FAILED_PRECONDITION', kafkaError: 'UNKNOWN_MEMBER_ID' });
    } finally {
      rpc.close();
    }
  });

  it('Kafka consumers and gRPC consumers cannot share a group: each side gets a clear error', async () => {
    await admin.createTopic('mixed-1', { partitions: 1 });
    const grpcMember = new Consumer({ address, topics: ['mixed-1'], groupId: 'g-grpc-owned', offsetReset: 'earliest' });
    await grpcMember.poll(100);
    const kafka = new Kafka({ clientId: 'mixer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const kafkaConsumer = kafka.consumer({ groupId: 'g-grpc-owned', retry: { retries: 0 } });
    await kafkaConsumer.connect();
    await kafkaConsumer.subscribe({ topic: 'mixed-1' });
    const crashed = new Promise<Error>((resolve) => kafkaConsumer.on(kafkaConsumer.events.CRASH, (e) => resolve(e.payload.error)));
    await kafkaConsumer.run({ eachMessage: async () => undefined }).catch(() => undefined);
    const kafkaError = await crashed;
    expect(kafkaError).toMatchObject({ type: 'INCONSISTENT_GROUP_PROTOCOL' });
    await kafkaConsumer.disconnect();
    await grpcMember.close();

    // the other way round: a kafkajs group, then a gRPC consumer
    const kafkaMember = kafka.consumer({ groupId: 'g-kafka-owned', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await kafkaMember.connect();
    await kafkaMember.subscribe({ topic: 'mixed-1', fromBeginning: true });
    await kafkaMember.run({ eachMessage: async () => undefined });
    await until('the kafkajs group to be stable', async () => (await admin.describeGroup('g-kafka-owned')).state === 'Stable');
    const intruder = new Consumer({ address, topics: ['mixed-1'], groupId: 'g-kafka-owned' });
    const refused = await intruder.poll(100).then(() => undefined, (e: unknown) => e);
    expect(refused).toMatchObject({ codeName: 'FAILED_PRECONDITION', kafkaError: 'INCONSISTENT_GROUP_PROTOCOL' });
    expect((refused as StreamHouseError).details).toMatch(/used by Kafka consumers.*cannot join it/);
    await intruder.close();
    await kafkaMember.disconnect();
  });

  it('bad input: unknown group described, missing member id, no topics', async () => {
    await expect(admin.describeGroup('never-existed')).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
    const rpc = new RpcChannel({ address });
    try {
      await expect(rpc.call('GroupHeartbeat', { group: 'g', memberId: '', generationId: 1 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'member_id is required' });
      await expect(rpc.call('JoinGroup', { group: 'g', topics: [] })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT' });
      await expect(rpc.call('JoinGroup', { group: 'g', topics: ['t'], sessionTimeoutMs: 10 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', kafkaError: 'INVALID_SESSION_TIMEOUT' });
    } finally {
      rpc.close();
    }
  });
});

interface MemberProcess {
  readonly process: ChildProcess;
  /** Every assignment it printed, in order. */
  readonly assigned: number[][];
  readonly read: string[];
}

function spawnMember(group: string, topic: string, sessionTimeoutMs: number): MemberProcess {
  // node itself (tsx as a loader), so that SIGKILL hits the process holding the membership
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'compat-tests/grpc/fixtures/grpc-group-member.ts'), address, group, topic, String(sessionTimeoutMs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const m: MemberProcess = { process: child, assigned: [], read: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as { assigned?: number[]; read?: string[] };
    if (msg.assigned) m.assigned.push(msg.assigned);
    if (msg.read) m.read.push(...msg.read);
  });
  return m;
}
