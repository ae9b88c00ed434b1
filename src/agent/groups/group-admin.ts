// Consumer-group administration any door offers (REST today): groups with their lag, one
// group as its coordinator sees it, offset resets and deletion. Every read of state and every
// write goes to the group's coordinator wherever it runs (the core's GroupRouter), so a reset
// is fenced against live members and ordered with the group's other commits.

import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';
import type { CommittedOffset, PartitionState } from '../../metadata/metadata-store.js';
import type { AgentCore } from '../agent-core.js';
import { partitionRouterOf } from '../cluster/partition-router.js';
import { decodeConsumerAssignment, type AssignedPartitions } from './consumer-assignment.js';
import { usesConsumerProtocol } from './consumer-protocol.js';
import type { GroupRouter } from './group-router.js';

/** A refused admin request, with the Kafka error code that says why. */
export class GroupAdminError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'GroupAdminError';
  }
}

export interface GroupOffsetLag {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: bigint;
  /** -1 when the partition no longer exists. */
  readonly highWatermark: bigint;
  readonly lag: bigint;
  readonly metadata: string;
  readonly commitTimestampMs: number;
}

export interface GroupListing {
  readonly groupId: string;
  readonly state: string;
  readonly members: number;
  readonly partitions: number;
  readonly totalLag: bigint;
}

export interface GroupMemberView {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly assignments: readonly AssignedPartitions[];
}

export interface GroupView {
  readonly groupId: string;
  /** Kafka's state (Empty, Stable, PreparingRebalance, ...); Unknown when no coordinator answered. */
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly GroupMemberView[];
  readonly offsets: readonly GroupOffsetLag[];
  readonly totalLag: bigint;
}

export type ResetTarget =
  | { readonly to: 'earliest' }
  | { readonly to: 'latest' }
  | { readonly to: 'offset'; readonly offset: bigint }
  | { readonly to: 'timestamp'; readonly timestampMs: bigint };

export interface ResetRequest {
  readonly groupId: string;
  readonly topic: string;
  /** Partitions to reset; every partition of the topic when absent. */
  readonly partitions?: readonly number[];
  readonly target: ResetTarget;
  readonly dryRun: boolean;
}

export interface PlannedReset {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset before the reset; -1 when the group had none. */
  readonly previousOffset: bigint;
  readonly offset: bigint;
}

/** State shown for a group whose coordinator could not be asked. */
export const UNKNOWN_GROUP_STATE = 'Unknown';

/** How long a look-up waits for a group's coordinator before showing offsets alone. */
const DESCRIBE_DEADLINE_MS = 2000;

function routerOf(core: AgentCore): GroupRouter {
  if (!core.groupRouter) throw new GroupAdminError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'this agent runs no group coordinator');
  return core.groupRouter;
}

/** High watermarks, read once per topic per request. */
class WatermarkLookup {
  private readonly byTopic = new Map<string, Promise<PartitionState[]>>();

  constructor(private readonly core: AgentCore) {}

  async of(topic: string, partition: number): Promise<PartitionState | undefined> {
    let states = this.byTopic.get(topic);
    if (!states) this.byTopic.set(topic, (states = this.core.metadata.partitions.list(topic)));
    return (await states).find((s) => s.partition === partition);
  }
}

async function lagOf(c: CommittedOffset, watermarks: WatermarkLookup): Promise<GroupOffsetLag> {
  const state = await watermarks.of(c.topic, c.partition);
  const hwm = state?.highWatermark ?? -1n;
  return {
    topic: c.topic,
    partition: c.partition,
    committedOffset: c.offset,
    highWatermark: hwm,
    lag: state && hwm > c.offset ? hwm - c.offset : 0n,
    metadata: c.metadata ?? '',
    commitTimestampMs: c.commitTimestamp,
  };
}

async function offsetsWithLag(core: AgentCore, groupId: string, watermarks: WatermarkLookup): Promise<GroupOffsetLag[]> {
  const committed = await core.metadata.groupOffsets.fetch(groupId);
  const rows = await Promise.all(committed.map((c) => lagOf(c, watermarks)));
  return rows.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

const sumLag = (rows: readonly GroupOffsetLag[]): bigint => rows.reduce((sum, r) => sum + r.lag, 0n);

/** Every group with committed offsets or members, with its state and total lag. */
export async function listGroups(core: AgentCore): Promise<GroupListing[]> {
  const ids = new Set(await core.metadata.groupOffsets.listGroups());
  // groups with members and no commits yet are known only to their coordinators
  const local = core.groups?.listGroups([]);
  if (local && local.errorCode === ErrorCode.NONE) for (const g of local.groups) ids.add(g.groupId);
  const watermarks = new WatermarkLookup(core);
  return Promise.all(
    [...ids].sort().map(async (groupId) => {
      const [offsets, described] = await Promise.all([offsetsWithLag(core, groupId, watermarks), describeAtCoordinator(core, groupId)]);
      return { groupId, state: described.state, members: described.members.length, partitions: offsets.length, totalLag: sumLag(offsets) };
    }),
  );
}

type CoordinatorView = Omit<GroupView, 'groupId' | 'offsets' | 'totalLag'> & {
  /** The coordinator knows the group (any state but Dead), with or without committed offsets. */
  readonly known: boolean;
};

async function describeAtCoordinator(core: AgentCore, groupId: string): Promise<CoordinatorView> {
  const router = core.groupRouter;
  if (!router) return { state: UNKNOWN_GROUP_STATE, protocolType: '', protocol: '', members: [], known: false };
  const d = await router.describeGroup(groupId, DESCRIBE_DEADLINE_MS);
  if (d.errorCode !== ErrorCode.NONE) return { state: UNKNOWN_GROUP_STATE, protocolType: '', protocol: '', members: [], known: false };
  return {
    known: d.state !== 'Dead' && d.state !== '',
    // a coordinator that does not know the group answers Dead; with offsets only, it is Empty
    state: d.state === 'Dead' || d.state === '' ? 'Empty' : d.state,
    protocolType: d.protocolType,
    protocol: d.protocol,
    members: d.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignments: usesConsumerProtocol(d.protocolType) ? decodeConsumerAssignment(m.assignment) : [],
    })),
  };
}

/** One group: its coordinator's view and its committed offsets with lag. GROUP_ID_NOT_FOUND when neither exists. */
export async function describeGroup(core: AgentCore, groupId: string): Promise<GroupView> {
  const watermarks = new WatermarkLookup(core);
  const [offsets, described] = await Promise.all([offsetsWithLag(core, groupId, watermarks), describeAtCoordinator(core, groupId)]);
  // Kafka keeps an Empty group without offsets until it expires: it exists while its coordinator knows it
  const { known, ...view } = described;
  if (offsets.length === 0 && !known) throw new GroupAdminError(ErrorCode.GROUP_ID_NOT_FOUND, `consumer group '${groupId}' does not exist`);
  return { groupId, ...view, offsets, totalLag: sumLag(offsets) };
}

/**
 * Resets a group's committed offsets of one topic (kafka-consumer-groups --reset-offsets):
 * refused with NON_EMPTY_GROUP while the group has members; offsets are clamped to the log;
 * a timestamp with no record that late means the end of the log. With dryRun, only the plan.
 */
export async function resetGroupOffsets(core: AgentCore, req: ResetRequest): Promise<PlannedReset[]> {
  const router = routerOf(core);
  const topic = await core.topics.get(req.topic);
  if (!topic) throw new GroupAdminError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${req.topic}' does not exist`);
  const partitions = req.partitions && req.partitions.length > 0 ? [...new Set(req.partitions)].sort((a, b) => a - b) : [...Array(topic.partitionCount).keys()];
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0 || p >= topic.partitionCount) {
      throw new GroupAdminError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic.name}' has ${topic.partitionCount} partition(s); partition ${p} does not exist`);
    }
  }
  const described = await router.describeGroup(req.groupId);
  if (described.errorCode !== ErrorCode.NONE) throw refusal(req.groupId, described.errorCode);
  if (described.members.length > 0) {
    throw new GroupAdminError(ErrorCode.NON_EMPTY_GROUP, `consumer group '${req.groupId}' has ${described.members.length} active member(s); stop them before resetting offsets`);
  }
  const previous = new Map((await core.metadata.groupOffsets.fetch(req.groupId, partitions.map((partition) => ({ topic: topic.name, partition })))).map((c) => [c.partition, c.offset]));
  const plan: PlannedReset[] = [];
  // the log ends as their leaders know them, on whichever agent
  const logs = partitionRouterOf(core);
  for (const partition of partitions) {
    const range = await logs.offsets(topic.name, partition);
    const t = req.target;
    let offset: bigint;
    if (t.to === 'earliest') offset = range.logStartOffset;
    else if (t.to === 'latest') offset = range.highWatermark;
    else if (t.to === 'offset') offset = t.offset < range.logStartOffset ? range.logStartOffset : t.offset > range.highWatermark ? range.highWatermark : t.offset;
    else offset = (await logs.offsetForTimestamp(topic.name, partition, t.timestampMs)) ?? range.highWatermark;
    plan.push({ topic: topic.name, partition, previousOffset: previous.get(partition) ?? -1n, offset });
  }
  if (req.dryRun) return plan;
  // as a client outside the group: the coordinator refuses it should a member have joined since
  const codes = await router.commitOffsets({
    groupId: req.groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset, leaderEpoch: -1, metadata: '' })),
  });
  const refused = codes.find((c) => c !== ErrorCode.NONE);
  if (refused !== undefined) throw refusal(req.groupId, refused);
  core.logger.info({ group: req.groupId, topic: topic.name, offsets: plan.map((p) => `${p.partition}:${p.offset}`) }, 'reset group offsets');
  return plan;
}

/** Deletes an Empty group and its offsets at its coordinator. */
export async function deleteGroup(core: AgentCore, groupId: string): Promise<void> {
  const code = await routerOf(core).deleteGroup(groupId);
  if (code === ErrorCode.GROUP_ID_NOT_FOUND) {
    // a group known only by committed offsets (its coordinator never loaded it) still goes
    if ((await core.metadata.groupOffsets.fetch(groupId)).length === 0) throw new GroupAdminError(code, `consumer group '${groupId}' does not exist`);
    await core.metadata.groupOffsets.deleteGroup(groupId);
  } else if (code !== ErrorCode.NONE) {
    throw refusal(groupId, code);
  }
  core.logger.info({ group: groupId }, 'deleted consumer group');
}

function refusal(groupId: string, code: number): GroupAdminError {
  switch (code) {
    case ErrorCode.UNKNOWN_MEMBER_ID:
    case ErrorCode.ILLEGAL_GENERATION:
    case ErrorCode.REBALANCE_IN_PROGRESS:
    case ErrorCode.NON_EMPTY_GROUP:
      return new GroupAdminError(ErrorCode.NON_EMPTY_GROUP, `consumer group '${groupId}' has active members; stop them first`);
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      return new GroupAdminError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no agent can coordinate consumer group '${groupId}' right now; try again`);
    default:
      return new GroupAdminError(code, `consumer group '${groupId}': ${errorInfo(code).message}`);
  }
}
