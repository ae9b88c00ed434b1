import { awaitNewLeaders, CREATE_LEADER_WAIT_MS } from '../agent/cluster/await-new-leaders.js';
import type { AgentCore } from '../agent/agent-core.js';
import { describeGroup, listGroups, resetGroupOffsets, type GroupOffsetLag, type ResetTarget } from '../agent/groups/group-admin.js';
import type { Topic } from '../metadata/metadata-store.js';
import { VERSION } from '../version.js';
import { invalidArgument } from './grpc-status.js';
import { requireCoordinatorRoute } from './group-offsets.js';
import type {
  AgentInfoMsg,
  AgentPartitionMsg,
  CreateTopicRequestMsg,
  DeleteTopicRequestMsg,
  DeleteTopicResponseMsg,
  DescribeGroupRequestMsg,
  DescribeTopicRequestMsg,
  GroupInfoMsg,
  GroupPartitionOffsetMsg,
  GroupSummaryMsg,
  HealthResponseMsg,
  ListAgentsResponseMsg,
  ListGroupsResponseMsg,
  ListTopicsResponseMsg,
  PartitionInfoMsg,
  ResetGroupOffsetsRequestMsg,
  ResetGroupOffsetsResponseMsg,
  TopicInfoMsg,
} from './messages.js';
import { int64, requireGroup, requirePartition, requireTopic } from './partition-access.js';

export interface AdminServiceOptions {
  /** Ports this agent actually listens on (ListAgents). */
  readonly ports: () => { readonly grpc: number; readonly http: number };
  readonly startedAtMs: number;
}

/** AdminService: topics, groups with lag, agents and health. */
export class AdminService {
  constructor(
    private readonly services: AgentCore,
    private readonly options: AdminServiceOptions,
  ) {}

  async createTopic(req: CreateTopicRequestMsg): Promise<TopicInfoMsg> {
    if (!req.name) throw invalidArgument('name is required');
    if (!Number.isInteger(req.partitions) || req.partitions < 0) throw invalidArgument(`partitions must be 1 or more, got ${req.partitions}`);
    const partitions = req.partitions === 0 ? this.services.brokerConfigs.defaultPartitions : req.partitions;
    const topic = await this.services.topics.create({ name: req.name, partitions, configs: { ...req.configs } });
    this.services.logger.info({ topic: topic.name, partitions, configs: topic.configs }, 'created topic (gRPC)');
    await awaitNewLeaders(this.services, topic.name, 0, partitions, CREATE_LEADER_WAIT_MS);
    return this.topicInfo(topic);
  }

  async listTopics(): Promise<ListTopicsResponseMsg> {
    const topics = await this.services.topics.list();
    const out = [];
    for (const t of topics) {
      let records = 0n;
      for (const p of await this.services.metadata.partitions.list(t.name)) records += p.highWatermark - p.logStartOffset;
      out.push({ name: t.name, partitionCount: t.partitionCount, recordCount: records.toString() });
    }
    return { topics: out };
  }

  async describeTopic(req: DescribeTopicRequestMsg): Promise<TopicInfoMsg> {
    return this.topicInfo(await requireTopic(this.services, req.name));
  }

  async deleteTopic(req: DeleteTopicRequestMsg): Promise<DeleteTopicResponseMsg> {
    const topic = await requireTopic(this.services, req.name);
    const orphaned = await this.services.topics.delete(topic.name);
    this.services.logger.info({ topic: topic.name, orphanedObjects: orphaned.length }, 'deleted topic (gRPC)');
    this.services.onTopicDeleted?.(topic.name);
    return {};
  }

  async listGroups(): Promise<ListGroupsResponseMsg> {
    const groups = await listGroups(this.services);
    return {
      groups: groups.map((g): GroupSummaryMsg => ({ groupId: g.groupId, state: g.state, memberCount: g.members, totalLag: g.totalLag.toString(), partitionCount: g.partitions })),
    };
  }

  async describeGroup(req: DescribeGroupRequestMsg): Promise<GroupInfoMsg> {
    if (!req.groupId) throw invalidArgument('group_id is required');
    // an agent that routes to no coordinator answers UNAVAILABLE rather than offsets alone
    requireCoordinatorRoute(this.services);
    const g = await describeGroup(this.services, req.groupId);
    return {
      groupId: g.groupId,
      state: g.state,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, assignment: m.assignments.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })) })),
      offsets: g.offsets.map(offsetMsg),
      totalLag: g.totalLag.toString(),
    };
  }

  async resetGroupOffsets(req: ResetGroupOffsetsRequestMsg): Promise<ResetGroupOffsetsResponseMsg> {
    // the request's fields checked with this API's statuses and messages; the reset itself
    // (refused under live members, clamped, committed at the coordinator) is the core's
    requireGroup(req.groupId);
    const topic = await requireTopic(this.services, req.topic);
    for (const p of req.partitions) requirePartition(topic, p);
    const target = resetTarget(req);
    const now = Date.now(); // shown as the commit time; the coordinator stamps the commit itself
    const plan = await resetGroupOffsets(this.services, { groupId: req.groupId, topic: topic.name, partitions: req.partitions, target, dryRun: req.dryRun });
    const states = await this.services.metadata.partitions.list(topic.name);
    return {
      offsets: plan.map((p) => {
        const state = states.find((s) => s.partition === p.partition);
        const highWatermark = state?.highWatermark ?? -1n;
        const lag = state && highWatermark > p.offset ? highWatermark - p.offset : 0n;
        return offsetMsg({ topic: p.topic, partition: p.partition, committedOffset: p.offset, highWatermark, lag, metadata: '', commitTimestampMs: now });
      }),
    };
  }

  /** Every agent of the cluster view Kafka Metadata uses, with the partitions it leads. */
  async listAgents(): Promise<ListAgentsResponseMsg> {
    const { config, cluster } = this.services;
    const self = cluster.self;
    const led = new Map<number, AgentPartitionMsg[]>();
    for (const t of await this.services.topics.list()) {
      for (let p = 0; p < t.partitionCount; p++) {
        const leader = cluster.leaderOf(t.name, p);
        if (!leader) continue;
        let list = led.get(leader.nodeId);
        if (!list) led.set(leader.nodeId, (list = []));
        list.push({ topic: t.name, partition: p });
      }
    }
    const ports = this.options.ports();
    const agents = cluster.brokers().map((b): AgentInfoMsg => {
      const me = b.nodeId === self.nodeId;
      return {
        agentId: me ? config.agentId : (b.agentId ?? ''),
        nodeId: b.nodeId,
        kafkaAddress: `${b.host}:${b.port}`,
        // the registry keeps only Kafka addresses: another agent's API ports are not known here
        grpcPort: me ? ports.grpc : 0,
        httpPort: me ? ports.http : 0,
        rack: b.rack ?? '',
        partitions: led.get(b.nodeId) ?? [],
        startedAtMs: me ? String(this.options.startedAtMs) : '0',
      };
    });
    return { agents };
  }

  health(): HealthResponseMsg {
    return {
      status: 'SERVING',
      agentId: this.services.config.agentId,
      clusterId: this.services.cluster.clusterId,
      version: VERSION,
      uptimeMs: String(Date.now() - this.options.startedAtMs),
    };
  }

  private async topicInfo(topic: Topic): Promise<TopicInfoMsg> {
    const { cluster, config } = this.services;
    const states = await this.services.metadata.partitions.list(topic.name);
    // leaders as Kafka Metadata reports them; agent ids from the same view
    const agentIds = new Map(cluster.brokers().map((b) => [b.nodeId, b.agentId ?? '']));
    agentIds.set(cluster.self.nodeId, config.agentId);
    const partitions: PartitionInfoMsg[] = states.map((s) => {
      const leader = cluster.leaderOf(topic.name, s.partition);
      return {
        partition: s.partition,
        highWatermark: s.highWatermark.toString(),
        logStartOffset: s.logStartOffset.toString(),
        leaderAgentId: leader ? (agentIds.get(leader.nodeId) ?? '') : '',
        leaderNodeId: leader?.nodeId ?? -1,
      };
    });
    return {
      name: topic.name,
      topicId: topic.id,
      partitionCount: topic.partitionCount,
      configs: { ...topic.configs },
      partitions,
      createdAtMs: String(topic.createdAt),
    };
  }
}

function resetTarget(req: ResetGroupOffsetsRequestMsg): ResetTarget {
  if (req.offset !== undefined) return { to: 'offset', offset: int64(req.offset, 'offset') };
  switch (req.to) {
    case 'OFFSET_SPEC_EARLIEST':
      return { to: 'earliest' };
    case 'OFFSET_SPEC_LATEST':
      return { to: 'latest' };
    case 'OFFSET_SPEC_COMMITTED':
      throw invalidArgument('reset target must be EARLIEST, LATEST, TIMESTAMP or an offset');
    default:
      return { to: 'timestamp', timestampMs: int64(req.timestampMs, 'timestamp_ms') };
  }
}

function offsetMsg(o: GroupOffsetLag): GroupPartitionOffsetMsg {
  return {
    topic: o.topic,
    partition: o.partition,
    committedOffset: o.committedOffset.toString(),
    highWatermark: o.highWatermark.toString(),
    lag: o.lag.toString(),
    metadata: o.metadata,
    commitTimestampMs: String(o.commitTimestampMs),
  };
}
