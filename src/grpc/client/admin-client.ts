import type { GroupPartitionOffsetMsg, OffsetSpec, TopicInfoMsg } from '../messages.js';
import { RpcChannel, type ChannelOptions } from './rpc-channel.js';

export interface PartitionDescription {
  readonly partition: number;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly leaderAgentId: string;
  readonly leaderNodeId: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly topicId: string;
  readonly partitionCount: number;
  /** Overrides set on the topic. */
  readonly configs: Readonly<Record<string, string>>;
  readonly partitions: readonly PartitionDescription[];
  readonly createdAt: Date;
}

export interface TopicListing {
  readonly name: string;
  readonly partitionCount: number;
  /** Records between the log start and the high watermark, over all partitions. */
  readonly recordCount: bigint;
}

export interface GroupOffset {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: bigint;
  /** -1 when the partition no longer exists. */
  readonly highWatermark: bigint;
  readonly lag: bigint;
  readonly metadata: string;
  readonly commitTimestamp: Date;
}

export interface GroupListing {
  readonly groupId: string;
  readonly state: string;
  readonly memberCount: number;
  readonly partitionCount: number;
  readonly totalLag: bigint;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly clientId: string; readonly clientHost: string; readonly assignment: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }> }>;
  readonly offsets: readonly GroupOffset[];
  readonly totalLag: bigint;
}

/** Where reset-offsets moves a group: the log's ends, the first record at a time, or an offset (clamped to the log). */
export type ResetTarget = { readonly to: 'earliest' | 'latest' } | { readonly timestamp: number | Date } | { readonly offset: bigint };

export interface AgentDescription {
  readonly agentId: string;
  readonly nodeId: number;
  readonly kafkaAddress: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly rack: string | null;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
  readonly startedAt: Date;
}

export interface HealthStatus {
  readonly status: string;
  readonly agentId: string;
  readonly clusterId: string;
  readonly version: string;
  readonly uptimeMs: number;
}

/** AdminService: topics, consumer groups with lag, agents, health. */
export class AdminClient {
  private readonly channel: RpcChannel;

  constructor(options: ChannelOptions = {}) {
    this.channel = new RpcChannel(options);
  }

  get address(): string {
    return this.channel.address;
  }

  async createTopic(name: string, options: { partitions?: number; configs?: Record<string, string> } = {}): Promise<TopicDescription> {
    return topicDescription(await this.channel.call('CreateTopic', { name, partitions: options.partitions ?? 0, configs: options.configs ?? {} }));
  }

  async listTopics(): Promise<TopicListing[]> {
    const res = await this.channel.call('ListTopics', {});
    return res.topics.map((t) => ({ name: t.name, partitionCount: t.partitionCount, recordCount: BigInt(t.recordCount) }));
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    return topicDescription(await this.channel.call('DescribeTopic', { name }));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.channel.call('DeleteTopic', { name });
  }

  async listGroups(): Promise<GroupListing[]> {
    const res = await this.channel.call('ListGroups', {});
    return res.groups.map((g) => ({ groupId: g.groupId, state: g.state, memberCount: g.memberCount, partitionCount: g.partitionCount, totalLag: BigInt(g.totalLag) }));
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const g = await this.channel.call('DescribeGroup', { groupId });
    return { groupId: g.groupId, state: g.state, members: g.members, offsets: g.offsets.map(groupOffset), totalLag: BigInt(g.totalLag) };
  }

  /** Commits new offsets for a group (all partitions of `topic` unless listed); returns them. */
  async resetGroupOffsets(groupId: string, topic: string, target: ResetTarget, options: { partitions?: number[]; dryRun?: boolean } = {}): Promise<GroupOffset[]> {
    let to: OffsetSpec = 'OFFSET_SPEC_EARLIEST';
    const req: { groupId: string; topic: string; partitions: number[]; dryRun: boolean; to?: OffsetSpec; timestampMs?: string; offset?: string } = {
      groupId,
      topic,
      partitions: options.partitions ?? [],
      dryRun: options.dryRun ?? false,
    };
    if ('to' in target) to = target.to === 'latest' ? 'OFFSET_SPEC_LATEST' : 'OFFSET_SPEC_EARLIEST';
    else if ('timestamp' in target) {
      to = 'OFFSET_SPEC_TIMESTAMP';
      req.timestampMs = String(target.timestamp instanceof Date ? target.timestamp.getTime() : target.timestamp);
    } else req.offset = target.offset.toString();
    req.to = to;
    const res = await this.channel.call('ResetGroupOffsets', req);
    return res.offsets.map(groupOffset);
  }

  async listAgents(): Promise<AgentDescription[]> {
    const res = await this.channel.call('ListAgents', {});
    return res.agents.map((a) => ({
      agentId: a.agentId,
      nodeId: a.nodeId,
      kafkaAddress: a.kafkaAddress,
      grpcPort: a.grpcPort,
      httpPort: a.httpPort,
      rack: a.rack === '' ? null : a.rack,
      partitions: a.partitions,
      startedAt: new Date(Number(a.startedAtMs)),
    }));
  }

  async health(options: { timeoutMs?: number } = {}): Promise<HealthStatus> {
    const h = await this.channel.call('Health', {}, options);
    return { status: h.status, agentId: h.agentId, clusterId: h.clusterId, version: h.version, uptimeMs: Number(h.uptimeMs) };
  }

  close(): void {
    this.channel.close();
  }
}

function topicDescription(t: TopicInfoMsg): TopicDescription {
  return {
    name: t.name,
    topicId: t.topicId,
    partitionCount: t.partitionCount,
    configs: t.configs,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      highWatermark: BigInt(p.highWatermark),
      logStartOffset: BigInt(p.logStartOffset),
      leaderAgentId: p.leaderAgentId,
      leaderNodeId: p.leaderNodeId,
    })),
    createdAt: new Date(Number(t.createdAtMs)),
  };
}

function groupOffset(o: GroupPartitionOffsetMsg): GroupOffset {
  return {
    topic: o.topic,
    partition: o.partition,
    committedOffset: BigInt(o.committedOffset),
    highWatermark: BigInt(o.highWatermark),
    lag: BigInt(o.lag),
    metadata: o.metadata,
    commitTimestamp: new Date(Number(o.commitTimestampMs)),
  };
}
