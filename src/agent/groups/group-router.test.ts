import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { startAgent, type RunningAgent } from '../../server/start-agent.js';
import type { BrokerNode } from '../cluster/cluster-view.js';
import { defaultBrokerConfig } from '../config/broker-config.js';
import { PeerKafkaClient } from '../cluster/peer-kafka-client.js';
import type { CoordinatorLocator } from './coordinator-shards.js';
import { getGroupCoordinator } from '../../broker/groups/group-coordinator-access.js';
import type { OffsetCommitEntry } from './group-coordinator.js';
import { GroupRouter } from './group-router.js';
import { joinInput } from './test-support/coordinator-harness.js';

// The router with a locator that names another agent: an in-process broker whose Kafka
// listener receives the forwarded OffsetCommit and DescribeGroups.

const logger = pino({ level: 'silent' });
let remote: RunningAgent;
let dataDir: string;
let remoteNode: BrokerNode;
const peers = new PeerKafkaClient({ clientId: 'router-test' });

/** A locator that never coordinates here and names `node` (or nobody) as the coordinator. */
function elsewhere(node: () => BrokerNode | undefined): CoordinatorLocator {
  return { isLocal: () => false, coordinatorFor: () => node() };
}

function router(locator: CoordinatorLocator, deadlineMs = 300): GroupRouter {
  return new GroupRouter({
    coordinator: () => {
      throw new Error('not local');
    },
    locator: () => locator,
    selfNodeId: () => 0,
    peers,
    logger,
    deadlineMs,
    retryMs: 20,
  });
}

const offset = (partition: number, value: bigint, metadata: string | null = null): OffsetCommitEntry => ({ topic: 'routed', partition, offset: value, leaderEpoch: -1, metadata });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'streamhouse-router-'));
  const config = defaultBrokerConfig({
    dataDir,
    metadataUrl: 'sqlite::memory:',
    storageUrl: 'memory://',
    kafkaListener: { host: '127.0.0.1', port: 0 },
    advertisedListener: { host: '127.0.0.1', port: 9092 },
    httpPort: 0,
    grpcPort: 0,
    autoCreateTopics: false,
    groupInitialRebalanceDelayMs: 0,
  });
  remote = await startAgent(config, logger);
  await remote.services.topics.create({ name: 'routed', partitions: 2, configs: {} });
  remoteNode = { nodeId: 7, host: '127.0.0.1', port: remote.kafka.port, rack: null };
});

afterAll(async () => {
  peers.close();
  await remote?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GroupRouter to another agent', () => {
  it('forwards commits to the coordinating agent, which applies them in order', async () => {
    const r = router(elsewhere(() => remoteNode));
    const commits = [r.commitOffsets({ groupId: 'plain', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset(0, 3n, 'm'), offset(1, 4n)] })];
    for (let i = 5n; i < 25n; i++) commits.push(r.commitOffsets({ groupId: 'plain', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset(1, i)] }));
    expect(await Promise.all(commits)).toEqual([[0, 0], ...Array.from({ length: 20 }, () => [0])]);
    const stored = await remote.services.metadata.groupOffsets.fetch('plain');
    expect(stored.map((o) => [o.partition, o.offset, o.metadata])).toEqual([
      [0, 3n, 'm'],
      [1, 24n, ''],
    ]);
    expect(await r.describeGroup('plain')).toEqual({ errorCode: 0, state: 'Empty', protocolType: '', protocol: '', members: [] });
  });

  it('gets the coordinator’s fencing: a commit without membership is refused while the group has a member', async () => {
    const joined = await getGroupCoordinator(remote.services).joinGroup(joinInput({ groupId: 'busy', clientId: 'member-client' }));
    expect(joined.errorCode).toBe(0);
    const r = router(elsewhere(() => remoteNode));
    const described = await r.describeGroup('busy');
    expect(described).toMatchObject({ errorCode: 0, state: 'CompletingRebalance', members: [{ memberId: joined.memberId, clientId: 'member-client' }] });
    expect(await r.commitOffsets({ groupId: 'busy', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset(0, 1n)] })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await r.commitOffsets({ groupId: 'busy', generationId: 9, memberId: joined.memberId, groupInstanceId: null, offsets: [offset(0, 1n)] })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await remote.services.metadata.groupOffsets.fetch('busy')).toEqual([]);
  });

  it('answers COORDINATOR_NOT_AVAILABLE once the deadline passed without a coordinator, or when it does not answer', async () => {
    const started = performance.now();
    expect(await router(elsewhere(() => undefined), 200).commitOffsets({ groupId: 'x', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset(0, 1n), offset(1, 1n)] })).toEqual([
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    // our own node named while our lease is not trusted is no coordinator either
    expect((await router(elsewhere(() => ({ ...remoteNode, nodeId: 0 })), 100).describeGroup('x')).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    const closed = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    expect((await router(elsewhere(() => ({ ...remoteNode, port: closed })), 100).describeGroup('x')).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('follows the coordinator when it moves during the call', async () => {
    let node: BrokerNode | undefined;
    setTimeout(() => (node = remoteNode), 100);
    const codes = await router(elsewhere(() => node), 2000).commitOffsets({ groupId: 'moving', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset(0, 8n)] });
    expect(codes).toEqual([0]);
    expect((await remote.services.metadata.groupOffsets.fetch('moving')).map((o) => o.offset)).toEqual([8n]);
  });
});
