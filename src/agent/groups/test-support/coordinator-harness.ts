import pino from 'pino';
import { openMetadataStore } from '../../../metadata/open-metadata-store.js';
import type { MetadataStore } from '../../../metadata/metadata-store.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import type { BrokerNode } from '../../cluster/cluster-view.js';
import type { CoordinatorLocator } from '../coordinator-shards.js';
import { GroupCoordinator, type GroupCoordinatorOptions, type JoinGroupInput } from '../group-coordinator.js';
import type { ProtocolMetadata } from '../group-member.js';
import type { JoinGroupResult } from '../group-results.js';

export const SELF: BrokerNode = { nodeId: 0, host: 'localhost', port: 9092, rack: null };

/** A locator whose answers a test can change (e.g. to see NOT_COORDINATOR). */
export class TestLocator implements CoordinatorLocator {
  local = true;

  constructor(private readonly self: BrokerNode = SELF) {}

  coordinatorFor(): BrokerNode | undefined {
    return this.local ? this.self : undefined;
  }

  isLocal(): boolean {
    return this.local;
  }
}

export interface CoordinatorHarness {
  readonly coordinator: GroupCoordinator;
  readonly store: MetadataStore;
  readonly locator: TestLocator;
  close(): Promise<void>;
}

export async function coordinatorHarness(opts: Partial<GroupCoordinatorOptions> = {}, store?: MetadataStore, self?: BrokerNode): Promise<CoordinatorHarness> {
  const s = store ?? (await openMetadataStore('sqlite::memory:'));
  const locator = new TestLocator(self);
  const coordinator = new GroupCoordinator({
    store: s.groupOffsets,
    logger: pino({ level: 'silent' }),
    locator,
    initialRebalanceDelayMs: 100,
    offsetsRetentionMs: 60_000,
    ...opts,
  });
  await coordinator.start();
  return {
    coordinator,
    store: s,
    locator,
    async close() {
      await coordinator.stop();
      await s.close();
    },
  };
}

export function protocols(...names: string[]): ProtocolMetadata[] {
  return names.map((name) => ({ name, metadata: Buffer.from(`meta-${name}`) }));
}

export function joinInput(overrides: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: protocols('range'),
    reason: null,
    ...overrides,
  };
}

/** Lets pending promise callbacks run; returns whether `p` has settled, and its value. */
export async function peek<T>(p: Promise<T>): Promise<{ done: boolean; value: T | undefined }> {
  let done = false;
  let value: T | undefined;
  void p.then((v) => {
    done = true;
    value = v;
  });
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return { done, value };
}

/** JoinGroup v4+ as a dynamic member does it: MEMBER_ID_REQUIRED, then a join with that id. */
export async function joinDynamic(c: GroupCoordinator, overrides: Partial<JoinGroupInput> = {}): Promise<{ memberId: string; join: Promise<JoinGroupResult> }> {
  const first = await c.joinGroup(joinInput({ ...overrides, requireKnownMemberId: true, memberId: '' }));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return { memberId: first.memberId, join: c.joinGroup(joinInput({ ...overrides, requireKnownMemberId: true, memberId: first.memberId })) };
}
